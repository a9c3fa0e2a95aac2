"""The ``leotwin`` command: outputs and its contract for bad input (one line, exit 2, no file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from leotwin.export.positions import POSITION_COLUMNS
from leotwin.orbits import load_tle, propagate
from leotwin.timegrid import TimeGrid


def test_constellations_lists_every_builtin(cli):
    code, out, _ = cli("constellations")
    assert code == 0
    for name, count in (("starlink-gen1", "4,408"), ("starlink-gen2", "29,988"),
                        ("kuiper", "3,236"), ("hypatia-kuiper-630", "1,156")):
        assert name in out and count in out


def test_propagate_parquet_matches_api(cli, tmp_path, data_dir):
    out = tmp_path / "pos.parquet"
    code, _, err = cli("propagate", "--tle", data_dir / "sample.3le", "--start",
                       "2026-01-15T00:00:00Z", "--duration", "2h", "--step", "10m", "--out", out)
    assert code == 0, err
    table = pq.read_table(out)
    assert tuple(table.column_names) == POSITION_COLUMNS
    assert table.num_rows == 6 * 12
    assert str(table.schema.field("time").type) == "timestamp[ns, tz=UTC]"
    eph = propagate(load_tle(data_dir / "sample.3le"),
                    TimeGrid.from_span("2026-01-15T00:00:00Z", "2h", "10m"))
    rows = table.to_pydict()
    assert rows["sat_id"][:6] == ["25544", "44713", "44714", "44715", "44716", "44717"]
    assert np.array_equal(np.array(rows["x_km"]).reshape(12, 6).T, eph.r_km[..., 0])
    assert np.array_equal(np.array(rows["alt_km"]).reshape(12, 6).T, eph.alt_km)
    assert not list(tmp_path.glob(".*partial"))


def test_propagate_csv_teme_and_workers(cli, tmp_path):
    out = tmp_path / "pos.csv"
    code, _, err = cli("propagate", "--constellation", "hypatia-kuiper-630", "--start",
                       "2000-01-01T00:00:00Z", "--duration", "1s", "--step", "100ms",
                       "--frame", "teme", "--workers", "2", "--out", out)
    assert code == 0, err
    text = out.read_text().splitlines()
    assert text[0] == ",".join(POSITION_COLUMNS)
    assert text[1].startswith("hypatia-kuiper-630-0-00-00,2000-01-01T00:00:00.000Z,")
    table = pacsv.read_csv(out)
    assert table.num_rows == 1156 * 10
    r = np.sqrt(np.array(table["x_km"]) ** 2 + np.array(table["y_km"]) ** 2
                + np.array(table["z_km"]) ** 2)
    assert 6990 < r.min() and r.max() < 7030  # 14.80 rev/day ≈ 630 km


@pytest.mark.parametrize("args, needle", [
    (["--constellation", "starlink-gen9"], "unknown constellation 'starlink-gen9'"),
    (["--constellation", "kuiper", "--step", "0s"], "--step"),
    (["--constellation", "kuiper", "--step", "-1m"], "positive duration"),
    (["--constellation", "kuiper", "--duration", "-2h"], "--duration"),
    (["--constellation", "kuiper", "--start", "2026-01-01", "--duration", "400000d"],
     "after 2100"),
    (["--constellation", "kuiper", "--start", "next tuesday"], "ISO 8601"),
    (["--constellation", "kuiper", "--tle", "x.tle"], "exactly one of"),
    ([], "exactly one of"),
    (["--tle", "BAD"], "bad checksum"),
    (["--tle", "MISSING"], "file not found"),
    (["--omm", "BADOMM"], "EPOCH"),
    (["--constellation", "kuiper", "--out", "NODIR"], "does not exist"),
    (["--constellation", "kuiper", "--out", "WRONGEXT"], ".parquet or .csv"),
    (["--constellation", "kuiper", "--frame", "gcrs"], "gcrs"),
])
def test_bad_input_is_one_line_exit_2_and_no_file(cli, tmp_path, args, needle):
    bad = tmp_path / "bad.tle"
    bad.write_text("1 25544U 98067A   19343.69339541  .00001764  00000-0  38792-4 0  9990\n"
                   "2 25544  51.6439 211.2001 0007417  17.6667  85.6398 15.50103472202482\n")
    bad_omm = tmp_path / "bad.json"
    bad_omm.write_text('[{"OBJECT_NAME": "X", "NORAD_CAT_ID": 1}]')
    out = tmp_path / "out.parquet"
    subs = {"BAD": bad, "MISSING": tmp_path / "missing.tle", "BADOMM": bad_omm,
            "NODIR": tmp_path / "no" / "x.parquet", "WRONGEXT": tmp_path / "x.txt"}
    args = [str(subs.get(a, a)) for a in args]
    base = {"--start": "2026-01-01T00:00:00Z", "--duration": "1h", "--step": "1m", "--out": out}
    for key, value in base.items():
        if key not in args:
            args += [key, str(value)]
    code, _stdout, err = cli("propagate", *args)
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(tmp_path.glob("*.parquet")) == [] and list(tmp_path.glob(".*")) == []


def test_unwritable_folder(cli, tmp_path):
    """A folder the user cannot write: a 0500 folder, or /proc when running as root (root
    ignores permission bits, but no one can create files in /proc)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            folder = Path("/proc")
        code, _, err = cli("propagate", "--constellation", "kuiper", "--start", "2026-01-01",
                           "--duration", "1m", "--step", "1m", "--out", folder / "x.parquet")
        assert code == 2 and "cannot write to folder" in err, err
    finally:
        (tmp_path / "ro").chmod(0o700)


def test_unwritable_target_leaves_old_file(cli, tmp_path):
    """A failing run never touches an existing result (atomic replace only on success)."""
    out = tmp_path / "keep.parquet"
    out.write_bytes(b"old result")
    code, _, _ = cli("propagate", "--constellation", "nope", "--start", "2026-01-01",
                     "--duration", "1m", "--step", "1m", "--out", out)
    assert code == 2 and out.read_bytes() == b"old result"


def test_console_script_exit_codes_without_traceback(tmp_path):
    """The real entry point, in a subprocess: usage errors and input errors exit 2."""
    exe = [sys.executable, "-m", "leotwin"]
    run = subprocess.run([*exe, "propagate", "--constellation", "kuiper"], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 2 and "Missing option" in run.stderr
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    run = subprocess.run([*exe, "propagate", "--constellation", "x", "--start", "2026-01-01",
                          "--duration", "1m", "--step", "1m", "--out", str(tmp_path / "a.csv")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    run = subprocess.run([*exe], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and "propagate" in run.stdout
