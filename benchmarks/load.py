"""Load test of the control plane: ``python benchmarks/load.py [--duration 60] [--quick]``.

A ``leotwin serve`` process (built-in scenario ``ukraine``, a fresh SQLite database, one viewer
token) is driven over loopback by a separate load-generator process, ``wrk`` (Debian package
``wrk``; ``make bench-load`` installs it), keeping ``--connections`` requests in flight:

1. single-decision requests ``POST /v1/decisions`` for ``--duration`` seconds: sustained
   decisions/s and latency percentiles (wrk's, per request);
2. batch requests of ``--batch`` decisions for ``--duration`` / 4 seconds: decisions/s.

Each request is a different terminal at a random place in and around Ukraine; the decision
time follows the wall clock (one new second of satellite positions per second, as for a live
service).  The server's resident memory (VmRSS) is read before and after.  Ratios are against
the single-decision run of the same command.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

LUA = r"""
math.randomseed(%(seed)d)
local t0 = os.time()
local n = 0
local batch = %(batch)d
local function one()
  n = n + 1
  local lat = 44.0 + math.random() * 8.5
  local lon = 22.0 + math.random() * 18.0
  local t = %(base)d + (os.time() - t0)
  return string.format('{"terminal_id":"LOAD-%%d","lat":%%.4f,"lon":%%.4f,"time":"%%s"}',
                       n %% 50000, lat, lon, os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ", t))
end
request = function()
  local body
  if batch <= 1 then body = one() else
    local items = {}
    for i = 1, batch do items[i] = one() end
    body = '{"decisions":[' .. table.concat(items, ",") .. ']}'
  end
  return wrk.format("POST", "/v1/decisions",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(token)s"}, body)
end
"""


def rss_mib(pid: int) -> float:
    """Resident memory (MiB) of a process and all its descendants (the server's workers)."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1]) / 1024
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in (children.read_text().split() if children.exists() else []):
        total += rss_mib(int(child))
    return total


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "--timeout", "10s", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    unit = {"us": 1e-3, "ms": 1.0, "s": 1e3}

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * unit[m.group(2)] if m else float("nan")

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": ms("50%"), "p90": ms("90%"), "p99": ms("99%"),
            "non2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": sock.group(1) if sock else "none", "raw": out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=60, help="seconds of single decisions")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2, help="leotwin serve --workers")
    ap.add_argument("--quick", action="store_true", help="5-second runs (smoke test)")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("load.py: wrk is missing (apt-get install wrk, or make bench-load)")
    from leotwin.controlplane.auth import create_token
    from leotwin.controlplane.store import Store
    from leotwin.timegrid.grid import parse_time
    from live_server import free_port, start_server

    seconds = 5 if args.quick else args.duration
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "load.db"
        store = Store(db)
        token = create_token(store, "viewer")
        store.close()
        port = free_port()
        proc = start_server(db, port, "--workers", str(args.workers))
        url = f"http://127.0.0.1:{port}"
        base = parse_time("2026-03-01T00:00:00Z") // 10**9
        try:
            scripts = {}
            for name, batch in (("single", 1), ("batch", args.batch)):
                scripts[name] = Path(tmp) / f"{name}.lua"
                scripts[name].write_text(LUA % {"seed": 7, "batch": batch, "base": base,
                                                "token": token})
            run_wrk(url, scripts["single"], 3, args.connections)  # warm-up (caches, JIT-free)
            before = rss_mib(proc.pid)
            single = run_wrk(url, scripts["single"], seconds, args.connections)
            batch = run_wrk(url, scripts["batch"], max(3, seconds // 4), 4)
            after = rss_mib(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    from run import machine

    print(f"machine: {machine()}\n")
    print(f"### load: POST /v1/decisions over loopback, leotwin serve --workers "
          f"{args.workers}, wrk 1 thread, {args.connections} connections, {seconds} s "
          f"(batch: {args.batch} per request, 4 connections)\n")
    print("| run | requests/s | decisions/s | p50 ms | p90 ms | p99 ms | non-2xx | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r, per in (("single", single, 1), ("batch", batch, args.batch)):
        print(f"| {name} | {r['rps']:,.0f} | {r['rps'] * per:,.0f} | {r['p50']:.1f} | "
              f"{r['p90']:.1f} | {r['p99']:.1f} | {r['non2xx']} | "
              f"{r['rps'] * per / single['rps']:.1f}× |")
    print(f"\nserver memory (VmRSS): {before:,.0f} MiB before, {after:,.0f} MiB after; "
          f"socket errors: single {single['socket_errors']}, batch {batch['socket_errors']}")
    if single["non2xx"] or batch["non2xx"]:
        sys.exit("load.py: the server answered errors; the figures above are not valid")
    if os.environ.get("LOAD_RAW"):
        print(single["raw"], batch["raw"])


if __name__ == "__main__":
    main()
