"""Every malformed input of the corpus (``tests/data/bad/``, written by its ``make_corpus.py``)
is refused cleanly: exit code 2, one line on standard error that names the file, line or field
and what was expected, no traceback, and nothing written: no output or database file appears
and the outputs that existed before the command are byte for byte as they were."""

from __future__ import annotations

import hashlib
import os
import shlex
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "data" / "bad"
OUTPUTS = ("out.parquet", "out.csv", "out.html", "out.geojson", "out.kml", "out.oem")


def _cases():
    rows = (CORPUS / "cases.tsv").read_text().splitlines()[1:]
    return [row.split("\t") for row in rows]


CASES = _cases()


def _snapshot(folder: Path) -> dict[str, str]:
    out = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            out[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
        for name in _dirs:
            out[str((Path(root) / name).relative_to(folder)) + "/"] = ""
    return out


def _argv(template: str, case_file: Path, tmp: Path) -> list[str]:
    subs = {"{case}": str(case_file), "{dir}": str(case_file.parent),
            "{good}": str(CORPUS / "good"), "{out}": str(tmp / "out.parquet"),
            "{outdir}": str(tmp / "results"), "{db}": str(tmp / "store.db"), "{tmp}": str(tmp)}
    args = shlex.split(template.replace("\0", "\x00"))
    for key, value in subs.items():
        args = [a.replace(key, value) for a in args]
    return args


def test_the_corpus_is_large_and_covers_every_format():
    """The issue asks for at least 300 cases; each reader and command is represented."""
    assert len(CASES) >= 300
    commands = {shlex.split(argv)[0] for _id, _file, argv, _ in CASES}
    assert {"propagate", "passes", "coverage", "rtt", "sites", "policy", "run", "decide",
            "serve", "export", "diff", "audit", "tokens"} <= commands
    suffixes = {Path(file).suffix for _id, file, _argv, _ in CASES}
    assert {".tle", ".3le", ".json", ".csv", ".kvn", ".xml", ".yaml", ".geojson", ".db",
            ".parquet"} <= suffixes
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case_id, file, template, expect", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_cleanly(case_id, file, template, expect, cli, tmp_path,
                                      monkeypatch):
    case_file = CORPUS / file
    assert case_file.is_file(), case_id
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for name in OUTPUTS:
        (work / name).write_bytes(b"an earlier result " + name.encode())
    (work / "results").mkdir()
    (work / "results" / "summary.json").write_text('{"earlier": true}')
    before, corpus_before = _snapshot(work), _snapshot(CORPUS)
    code, _stdout, err = cli(*_argv(template, case_file, work))
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("leotwin: error: "), err
    assert "Traceback" not in err and "internal error" not in err
    for part in expect.split("|"):
        assert part in lines[0], f"{part!r} not in {lines[0]!r}"
    assert _snapshot(work) == before
    assert _snapshot(CORPUS) == corpus_before
