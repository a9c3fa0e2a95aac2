"""The core installs without the extras: a blocked import stands in for a missing package.

Each command runs in a fresh interpreter in which importing any module of the extras
(``leotwin.extras.EXTRAS``, plus psycopg) fails as it would where the package is not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from leotwin.extras import EXTRAS

DATA = Path(__file__).parent / "data"
BLOCKED = sorted({m for mods in EXTRAS.values() for m in mods} | {"psycopg"})

RUNNER = textwrap.dedent("""
    import sys
    from importlib.abc import MetaPathFinder

    BLOCKED = set(sys.argv[1].split(","))

    class Missing(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Missing())
    from leotwin.cli import main

    code = main(sys.argv[2:])
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not leaked, leaked
    sys.exit(code)
""")


def core_only(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", RUNNER, ",".join(BLOCKED), *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def test_blocker_blocks():
    proc = subprocess.run([sys.executable, "-c", RUNNER.replace("from leotwin.cli import main",
                                                                "import matplotlib"),
                           ",".join(BLOCKED)], capture_output=True, text=True)
    assert proc.returncode != 0 and "No module named 'matplotlib'" in proc.stderr


def test_core_propagates_a_tle(tmp_path):
    out = tmp_path / "iss.parquet"
    proc = core_only("propagate", "--tle", DATA / "sample.tle", "--start",
                     "2026-01-01T00:00:00Z", "--duration", "10m", "--step", "60s", "--out", out)
    assert proc.returncode == 0, proc.stderr
    import pyarrow.parquet as pq

    assert pq.read_table(out).num_rows > 0


def test_core_runs_a_scenario_without_the_report(tmp_path):
    proc = core_only("run", DATA / "small-scenario.yaml", "--out", tmp_path / "run",
                     "--no-report")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["terminals"] == 41 and not (tmp_path / "run" / "report.html").exists()
    assert (tmp_path / "run" / "decisions.parquet").is_file()


@pytest.mark.parametrize(("args", "extra"), [
    (("serve", "--scenario", "ukraine"), "controlplane"),
    (("tokens", "create", "--role", "viewer"), "controlplane"),
    (("audit", "verify"), "controlplane"),
    (("run", DATA / "small-scenario.yaml"), "report"),
    (("run", DATA / "small-scenario.yaml", "--no-report", "--backend", "dask"), "dask"),
])
def test_a_missing_extra_is_named(tmp_path, args, extra):
    proc = core_only(*args, *(["--out", tmp_path / "run"] if args[0] == "run" else []))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"pip install 'leotwin[{extra}]'" in lines[0], proc.stderr
    assert not (tmp_path / "run").exists() and "Traceback" not in proc.stderr
