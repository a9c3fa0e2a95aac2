"""Write the bad-input corpus: malformed and adversarial files, one per case, and ``cases.tsv``.

Run from the repository root: ``.venv/bin/python tests/data/bad/make_corpus.py``.  Each case
is a file under ``tests/data/bad/<format>/`` (``good/`` holds the valid files a case refers
to) and a row of ``cases.tsv``: the case id, its file, the ``leotwin`` arguments, and the text
the one-line error must contain (``|`` between parts that must all appear).  In the arguments
``{case}`` is the case file, ``{dir}`` its folder, ``{good}`` the folder of valid files,
``{tmp}`` the working folder, ``{out}`` an output file and ``{outdir}`` a results folder that
exist before the command, and ``{db}`` a database path that does not.
``tests/test_bad_input.py`` runs every row; ``tests/test_unusual_input.py`` runs ``valid/``,
unusual inputs that must be accepted.

The families (issue #13): bytes (NUL, control characters, not UTF-8, empty), syntax, duplicate
keys or columns, non-finite or non-numeric numbers, impossible dates, nesting and size (deep
documents, billion laughs, self-referencing anchors), YAML tags, units, ranges, references to
missing or bad files, work too large to start, broken results and databases.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from corpus_ground import ground_cases  # noqa: E402
from corpus_orbits import orbit_cases  # noqa: E402
from corpus_scenario import scenario_cases  # noqa: E402


def main() -> None:
    cases = orbit_cases() + scenario_cases() + ground_cases()
    ids = [c.id for c in cases]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, dupes
    for folder in HERE.iterdir():
        if folder.is_dir() and folder.name not in ("good", "valid", "__pycache__"):
            shutil.rmtree(folder)
    rows = ["id\tfile\targv\texpect"]
    for case in cases:
        path = HERE / case.path
        path.parent.mkdir(parents=True, exist_ok=True)
        data = case.content if isinstance(case.content, bytes) else case.content.encode()
        path.write_bytes(data)
        for name, extra in case.extra.items():
            (path.parent / name).write_bytes(extra if isinstance(extra, bytes) else
                                             extra.encode())
        assert "\t" not in case.argv + case.path and "\t" not in case.expect, case.id
        rows.append(f"{case.id}\t{case.path}\t{case.argv}\t{case.expect}")
    (HERE / "cases.tsv").write_text("\n".join(rows) + "\n")
    print(f"wrote {len(cases)} cases")


if __name__ == "__main__":
    main()
