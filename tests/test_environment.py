"""The machine fails us, not the input: a full disk, read-only media, a second run to the same
output, a run larger than the disk or the memory.  Each is one line and exit code 2, and
nothing is left behind: no partial file, no temporary folder, an earlier result untouched.

The small file systems are tmpfs mounts made by the test (``mount -t tmpfs -o size=…``); where
the test may not mount (not root, no CAP_SYS_ADMIN) those tests are skipped with that reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from leotwin.errors import InputError
from leotwin.io.budget import Estimate, check_budget

BAD = Path(__file__).parent / "data" / "bad"
GOOD_SCENARIO = BAD / "good" / "scenario.yaml"


@pytest.fixture
def small_fs(tmp_path):
    """A 64 KiB tmpfs at ``tmp_path/fs``; yields (path, remount(read_only))."""
    folder = tmp_path / "fs"
    folder.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({made.stderr.strip() or 'not root'})")

    def remount(read_only: bool) -> None:
        subprocess.run(["mount", "-o", f"remount,{'ro' if read_only else 'rw'}", str(folder)],
                       check=True)

    try:
        yield folder, remount
    finally:
        done = subprocess.run(["umount", str(folder)], capture_output=True, text=True)
        if done.returncode != 0:  # still busy: detach it, and say why the test fails
            subprocess.run(["umount", "-l", str(folder)], check=False)
            raise AssertionError(f"the test left {folder} busy (a file still open): "
                                 f"{done.stderr.strip()}")


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("leotwin: error: "), err
    assert "Traceback" not in err and "internal error" not in err
    return lines[0]


PROPAGATE = ("propagate", "--constellation", "kuiper", "--start", "2026-01-01",
             "--duration", "1h", "--step", "1m")


def test_a_full_disk_is_one_line_and_leaves_nothing(cli, small_fs):
    fs, _ = small_fs
    keep = fs / "keep.parquet"
    keep.write_bytes(b"an earlier result")
    code, _, err = cli(*PROPAGATE, "--out", keep, "--ignore-free-space")
    line = _one_line(err)
    assert code == 2 and "no space left" in line and str(keep) in line
    assert sorted(p.name for p in fs.iterdir()) == ["keep.parquet"]
    assert keep.read_bytes() == b"an earlier result"


def test_output_larger_than_the_free_space_is_refused_before_work(cli, small_fs):
    fs, _ = small_fs
    code, _, err = cli(*PROPAGATE, "--out", fs / "x.parquet")
    line = _one_line(err)
    # the estimate (194,160 states ≈ 12 MB) and the limit (64 KiB free) are both stated
    assert code == 2 and "194,160 states" in line and "free" in line and "MB" in line
    assert list(fs.iterdir()) == []


def test_a_run_on_a_full_disk_keeps_no_partial_folder(cli, small_fs, tmp_path):
    fs, _ = small_fs
    (fs / "filler").write_bytes(b"x" * 40_000)  # leave less than a run's 50 kB of tables
    code, _, err = cli("run", GOOD_SCENARIO, "--out", fs / "r")  # the estimate says no
    line = _one_line(err)
    assert code == 2 and "free" in line and "--ignore-free-space" in line
    code, _, err = cli("run", GOOD_SCENARIO, "--out", fs / "r", "--ignore-free-space")
    line = _one_line(err)
    assert code == 2 and "no space left" in line
    assert sorted(p.name for p in fs.iterdir()) == ["filler"]


def test_audit_verify_reads_a_copy_on_read_only_media(cli, small_fs, tmp_path):
    fs, remount = small_fs
    db = tmp_path / "store.db"
    code, _, err = cli("tokens", "create", "--label", "a", "--role", "operator", "--db", db)
    assert code == 0, err
    shutil.copy(db, fs / "copy.db")
    remount(True)
    code, out, err = cli("audit", "verify", "--db", fs / "copy.db")
    assert code == 0 and "chain intact" in out + err, err
    code, _, err = cli("tokens", "create", "--label", "b", "--role", "operator", "--db",
                       fs / "copy.db")
    assert code == 2 and "read-only" in _one_line(err)
    assert sorted(p.name for p in fs.iterdir()) == ["copy.db"]


def test_memory_is_never_overridden_and_free_space_only_on_request(tmp_path):
    big = Estimate("10 states", out_bytes=5e9, memory_bytes=2e9)
    with pytest.raises(InputError, match="of memory is available"):
        check_budget(big, tmp_path / "x", memory=10**9, free=10**12, ignore_free_space=True)
    with pytest.raises(InputError, match="free"):
        check_budget(big, tmp_path / "x", memory=10**10, free=10**9)
    check_budget(big, tmp_path / "x", memory=10**10, free=10**9, ignore_free_space=True)
    check_budget(big, tmp_path / "x", memory=10**10, free=10**10)


def _slow_scenario(tmp_path: Path) -> Path:
    """The corpus' base scenario on a built-in constellation over 3 h: a run of a few
    seconds, long enough for a second run to start while it writes."""
    text = GOOD_SCENARIO.read_text().replace("{tle: good.tle}", "{builtin: kuiper}").replace(
        "duration: 10m, step: 5m", "duration: 3h, step: 30s").replace(
        "isl: nearest-k", "isl: plus-grid")
    path = tmp_path / "slow.yaml"
    path.write_text(text)
    return path


def test_two_runs_to_one_out_never_both_write_it(cli, tmp_path):
    scenario, out = _slow_scenario(tmp_path), tmp_path / "results"
    lock = tmp_path / ".results.lock"
    first = subprocess.Popen([sys.executable, "-m", "leotwin", "run", str(scenario), "--out",
                              str(out), "--no-report"], stderr=subprocess.PIPE, text=True,
                             cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
    deadline = time.monotonic() + 60
    while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert first.poll() is None, "the first run ended before the second could start"
    for extra in ((), ("--overwrite",)):  # in progress: refused with or without --overwrite
        code, _, err = cli("run", scenario, "--out", out, "--no-report", *extra)
        line = _one_line(err)
        assert code == 2 and "run in progress" in line and str(first.pid) in line
    assert first.wait(timeout=300) == 0, first.stderr.read()
    summary = (out / "summary.json").read_text()
    code, _, err = cli("run", scenario, "--out", out, "--no-report")
    assert code == 2 and "exists" in _one_line(err)
    assert (out / "summary.json").read_text() == summary  # the first run's results stand
    assert not lock.exists() and not list(tmp_path.glob(".results.partial-*"))


def test_a_locked_database_is_one_line(cli, tmp_path):
    """Another process holds SQLite's write lock past the busy timeout (5 s)."""
    import sqlite3

    db = tmp_path / "store.db"
    assert cli("tokens", "create", "--label", "a", "--role", "operator", "--db", db)[0] == 0
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code, _, err = cli("tokens", "create", "--label", "b", "--role", "operator", "--db", db)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 2 and "locked by another process" in _one_line(err)
