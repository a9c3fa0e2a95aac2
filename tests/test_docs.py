"""The documentation: every sample in the guide runs, the site builds, the reference is current.

Runnable samples are the ```` ```console ```` blocks of ``docs/guide/*.md`` (and of
``docs/index.md``): ``$ `` lines are shell commands (a trailing ``\\`` continues one), the lines
after them the expected output, compared as doctest does with ``...`` matching anything and
runs of whitespace equal.  All blocks of one page run in order in one bash session in a fresh
directory holding ``docs/examples/*`` and ``examples/*``, so a page reads like a terminal
session: variables and files carry over, and ``cmd &`` keeps a server running until the page
ends.  A command must exit 0 unless its expected output ends with ``[exit N]``.
"""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted([*DOCS.glob("guide/*.md"), DOCS / "index.md"])
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def samples(page: Path) -> list[tuple[int, str, str]]:
    """(line number, command, expected output) for every ``$`` command of a page."""
    out: list[tuple[int, str, str]] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    k = 0
    while k < len(lines):
        if lines[k].strip() == "```console":
            k += 1
            current = None
            while lines[k].strip() != "```":
                line = lines[k]
                if line.startswith("$ "):
                    cmd, start = line[2:], k + 1
                    while cmd.endswith("\\"):
                        k += 1
                        cmd = cmd[:-1] + " " + lines[k].strip()
                    current = [start, cmd, []]
                    out.append(current)
                elif current is not None:
                    current[2].append(line)
                k += 1
        k += 1
    return [(n, c, "\n".join(e).strip() + "\n" if e else "") for n, c, e in out]


def run_page(page: Path, workdir: Path) -> list[tuple[str, int, str]]:
    """Run a page's commands in one bash session; (output, exit code) per command."""
    for f in [*(DOCS / "examples").iterdir(), *(ROOT / "examples").iterdir()]:
        shutil.copy(f, workdir / f.name)
    script = ["set +e"]
    for k, (_, cmd, _) in enumerate(samples(page)):
        script += [f"echo '@@start {k}@@'", f"{{ {cmd}\n}} 2>&1", f"echo \"@@rc {k} $?@@\""]
    script += ["kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; true"]
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
               COLUMNS="100", NO_COLOR="1", TERM="dumb", LEOTWIN_NODE_MODULES=str(
                   ROOT / "node_modules"))
    proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=900)
    results = []
    for m in re.finditer(r"@@start (\d+)@@\n(.*?)@@rc \1 (\d+)@@", proc.stdout, re.S):
        results.append((m.group(2), int(m.group(3))))
    return results


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_guide_samples_run(page, tmp_path):
    cases = samples(page)
    if not cases:
        assert "```console" not in page.read_text(encoding="utf-8")
        return
    results = run_page(page, tmp_path)
    assert len(results) == len(cases), f"{page.name}: the session stopped early"
    checker = doctest.OutputChecker()
    for (line, cmd, want), (got, rc) in zip(cases, results, strict=True):
        m = re.search(r"\[exit (\d+)\]\n?$", want)
        expected_rc = int(m.group(1)) if m else 0
        want_text = want[:m.start()] if m else want
        where = f"{page.relative_to(ROOT)}:{line}: $ {cmd}"
        assert rc == expected_rc, f"{where}\nexit {rc}, expected {expected_rc}\n{got}"
        if want_text.strip():
            ok = checker.check_output(want_text, got, FLAGS)
            assert ok, f"{where}\nexpected:\n{want_text}\ngot:\n{got}"


def test_every_guide_page_has_samples():
    for page in DOCS.glob("guide/*.md"):
        assert samples(page), f"{page.name} has no runnable sample"


def test_site_builds_strict(tmp_path):
    """mkdocs --strict: warnings (broken links, pages missing from nav) fail the build."""
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "site" / "guide" / "scenarios" / "index.html").is_file()
    api = (tmp_path / "site" / "reference" / "python" / "index.html").read_text(encoding="utf-8")
    assert "PolicyEngine" in api and "TimeGrid" in api  # rendered from the docstrings


def test_reference_pages_are_current():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_reference.py"),
                           "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
