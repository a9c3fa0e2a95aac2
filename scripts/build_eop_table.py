"""Build leotwin's bundled Earth-orientation table from IERS ``finals2000A.all``.

Source: IERS Rapid Service/Prediction Center, ``finals2000A.all`` (Bulletin A values, daily,
with predictions about one year ahead), and IERS ``Leap_Second.dat``, both as distributed in the
``astropy-iers-data`` package (BSD-3-Clause packaging of public IERS data).  Run::

    .venv/bin/pip install astropy-iers-data && .venv/bin/python scripts/build_eop_table.py

Writes ``src/leotwin/data/eop/finals2000A_daily.csv`` (from 1980 on) and ``leap_seconds.csv``.
Column layout of finals2000A.all: IERS ``ReadMe.finals2000A`` (MJD cols 8–15, PM flag col 17,
x cols 19–27, y cols 38–46, UT1 flag col 58, UT1−UTC cols 59–68; 1-based).
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import astropy_iers_data

OUT = Path(__file__).resolve().parents[1] / "src" / "leotwin" / "data" / "eop"
FIRST_MJD = 44239  # 1980-01-01


def main() -> None:
    data = Path(astropy_iers_data.__file__).parent / "data"
    pkg = f"astropy-iers-data {version('astropy-iers-data')}"
    rows = []
    for line in (data / "finals2000A.all").read_text().splitlines():
        if len(line) < 68 or not line[58:68].strip() or not line[18:27].strip():
            continue
        mjd = int(float(line[7:15]))
        if mjd < FIRST_MJD:
            continue
        flag = "P" if "P" in (line[16], line[57]) else "I"
        rows.append(f"{mjd},{float(line[18:27]):.6f},{float(line[37:46]):.6f},"
                    f"{float(line[58:68]):.7f},{flag}")
    OUT.mkdir(parents=True, exist_ok=True)
    header = (
        "# Earth orientation, daily at 0h UTC: polar motion x, y (arcsec) and UT1-UTC (s).\n"
        "# Source: IERS Rapid Service/Prediction Center finals2000A.all (IERS Bulletin A),\n"
        f"# as shipped in {pkg}; built by scripts/build_eop_table.py.\n"
        "# flag: I = IERS measured, P = prediction.  IERS data are free of charge.\n"
        "mjd,xp_arcsec,yp_arcsec,dut1_s,flag\n"
    )
    (OUT / "finals2000A_daily.csv").write_text(header + "\n".join(rows) + "\n")

    leaps = []
    for line in (data / "Leap_Second.dat").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            parts = line.split()
            leaps.append(f"{int(float(parts[0]))},{int(parts[4])}")
    (OUT / "leap_seconds.csv").write_text(
        "# TAI-UTC (s) in force from the given UTC MJD on.\n"
        f"# Source: IERS Leap_Second.dat as shipped in {pkg}.\n"
        "mjd,tai_minus_utc_s\n" + "\n".join(leaps) + "\n"
    )
    print(f"wrote {len(rows)} EOP rows ({rows[0].split(',')[0]}…{rows[-1].split(',')[0]}) "
          f"and {len(leaps)} leap seconds to {OUT}")


if __name__ == "__main__":
    main()
