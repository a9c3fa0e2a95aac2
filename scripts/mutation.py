"""Mutation testing of the policy layer and the audit chain: break the code on purpose, one
change at a time, and count the changes the test suite notices ("killed").

Two sets of mutants:

* **named** mutants — the defects issue #12 found the suite blind to (cell > zone precedence
  flipped, zone order reversed, the waitlist's home ignored, the ``test`` status never
  denying, a no-op ``reactivate``, the actor or the previous hash left out of the audit hash)
  and a few more of the same kind.  Every one must be killed.
* **generated** mutants — every site of a small set of operators in ``src/leotwin/policy`` and
  the audit functions of ``controlplane/store.py``, found with :mod:`ast`: a comparison
  flipped (``==``/``!=``, ``<``/``<=``, ``>``/``>=``, ``in``/``not in``), ``and``/``or``
  swapped, a ``not`` dropped, ``True``/``False`` swapped, ``+``/``-`` swapped, ``|``/``&``
  swapped.  A mutant that leaves the module's meaning unchanged (an equivalent mutant) counts
  as a survivor: the kill rate is a lower bound.

Each mutant is written into a private snapshot of ``src/`` and ``tests/`` (taken at the start,
so editing the tree meanwhile changes nothing), and the tests of its module run there against
it (``PYTHONPATH``), stopping at the first failure, with a timeout, with a fixed hypothesis
seed; a failure or a timeout is a kill.  The tests must pass on the unmutated snapshot first.
Usage (``make mutation``)::

    python scripts/mutation.py [--sample N] [--seed S] [--workers 2]

prints one line per survivor and the kill rates, and exits 1 when a named mutant survives or the
rate is under 90 %.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
POLICY_TESTS = ["tests/test_policy_mechanisms.py", "tests/test_policy_properties.py",
                "tests/test_policy_cli.py", "tests/test_policy_detection.py",
                "tests/test_policy_time.py", "tests/test_policy_rules.py",
                "tests/test_policy_registration.py", "tests/test_policy_input.py",
                "-k", "not builtin_variant"]
AUDIT_TESTS = ["tests/test_controlplane_audit.py", "-k", "chain or editing or deleting"]
#: the modules mutated, and the tests that guard each
TARGETS = {f"leotwin/policy/{m}.py": POLICY_TESTS
           for m in ("engine", "compiled", "state", "run", "places", "checks", "load",
                     "schema", "changes", "registration", "reasons")}
TARGETS["leotwin/controlplane/store.py"] = AUDIT_TESTS
#: the edge validation of #13 (bad input, the machine's failures): named mutants only, guarded
#: by the bad-input corpus, the unusual inputs and the environment tests
INPUT_TESTS = ["tests/test_bad_input.py", "tests/test_unusual_input.py",
               "tests/test_environment.py", "tests/test_controlplane.py", "-k",
               "not postgresql"]
NAMED_ONLY = {p: INPUT_TESTS for p in (
    "leotwin/io/text.py", "leotwin/io/yamlfile.py", "leotwin/io/jsonfile.py",
    "leotwin/io/budget.py", "leotwin/io/atomic.py", "leotwin/orbits/elements.py",
    "leotwin/export/check.py", "leotwin/controlplane/app.py", "leotwin/ground/regions.py")}
#: in store.py only these functions are mutated (the rest is I/O, tested elsewhere)
AUDIT_FUNCTIONS = {"_canonical", "chain_hash", "verify_audit"}
TIMEOUT_S = 300


@dataclass
class Mutant:
    path: str  # relative to src/
    line: int
    what: str
    old: str  # the exact source text replaced
    new: str
    occurrence: int = 0  # which occurrence of ``old`` on that line
    named: bool = False
    tests: tuple = ()  # the tests that guard it (default: its module's, ``TARGETS``)


NAMED = [
    # (path, old, new, what)
    ("leotwin/policy/compiled.py", "status = np.where(has, code, status)",
     "status = np.where(has & (src_kind == 0), code, status)",
     "cell > zone precedence flipped (a zone's status beats the cell's)"),
    ("leotwin/policy/compiled.py", "for z in range(len(self.e.zones)):",
     "for z in reversed(range(len(self.e.zones))):", "zone order reversed"),
    ("leotwin/policy/compiled.py", "ok |= e.member(loc, key)[u] & self._terminal(reg | home, "
                                   "tidx, False)",
     "ok |= e.member(loc, key)[u] & self._terminal(reg, tidx, False)",
     "the waitlist's home exemption ignored"),
    ("leotwin/policy/compiled.py", "flag(test & ~self._terminal(self.test_ok, tidx, False), "
                                   "Reason.REGION_INACTIVE)",
     "pass", "the test status never denies"),
    ("leotwin/policy/state.py", "self.deactivated.pop(b.terminal, None)", "pass",
     "reactivate does nothing"),
    ("leotwin/controlplane/store.py", 'row = {"seq": r["seq"], "at": r["at"], '
                                      '"actor": r["actor"], "action": r["action"],',
     'row = {"seq": r["seq"], "at": r["at"], "action": r["action"],',
     "the actor left out of the verified hash"),
    ("leotwin/controlplane/store.py",
     "return hashlib.sha256((prev + _canonical(row)).encode()).hexdigest()",
     "return hashlib.sha256(_canonical(row).encode()).hexdigest()",
     "the previous hash left out of the audit hash"),
    ("leotwin/policy/state.py", "(known is None or e.decided <= known)", "True",
     "the fold ignores when entries were decided"),
    ("leotwin/policy/registration.py", "if b.terminal not in members and limit is not None "
                                       "and held >= limit:", "if False:",
     "registration limits never reject"),
    ("leotwin/policy/registration.py", "at = e.effective + (round(body.processing_hours * 3600 "
                                       "* NS_PER_S) if body else 0)", "at = e.effective",
     "registrations are not delayed by processing"),
    ("leotwin/policy/schema.py", "return max(self.requested_effective, self.decided)",
     "return self.requested_effective", "a late grant takes effect when asked, not decided"),
    ("leotwin/policy/compiled.py", "for h in homes], dtype=bool)",
     "for h in [t.home_country for t in engine.terminals]], dtype=bool)",
     "home countries compared as raw strings"),
    ("leotwin/policy/run.py", "started = np.where(self.since[j] == NEVER, int(now), "
                              "self.since[j])",
     "started = np.where(self.since[j] == NEVER, int(now) - round(self.step_s * 1e9), "
     "self.since[j])", "detection counts one step too many"),
    ("leotwin/policy/run.py", "first_attempt = int(run.grid.ns[0]) if run.grid.count else 0",
     "first_attempt = int(run.grid.ns[-1]) if run.grid.count else 0",
     "time to deactivation from the wrong first instant"),
    # issue #13: the validation layer at the edges
    ("leotwin/io/text.py", "    return check_characters(text, path)", "    return text",
     "control characters in files let through"),
    ("leotwin/io/yamlfile.py", "if self.alias_values > MAX_ALIAS_VALUES:", "if False:",
     "billion laughs expanded"),
    ("leotwin/io/yamlfile.py", "if node.tag not in _PLAIN:", "if False:",
     "YAML tags accepted"),
    ("leotwin/io/jsonfile.py", "parse_constant=_constant,", "",
     "NaN and Infinity read from JSON"),
    ("leotwin/orbits/elements.py", "value <= high if closed else value < high", "True",
     "mean motion 25 rev/day and eccentricity 1.5 accepted"),
    ("leotwin/io/budget.py", "if estimate.memory_bytes > memory:", "if False:",
     "runs larger than the memory started"),
    ("leotwin/io/budget.py", "if estimate.out_bytes > free and not ignore_free_space:",
     "if False:", "runs larger than the disk started"),
    ("leotwin/io/atomic.py", "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)", "pass",
     "two runs to one --out"),
    ("leotwin/io/atomic.py", "    cause = write_problem(exc)", "    cause = None",
     "a full disk reported as an internal error"),
    ("leotwin/export/check.py", "missing = [c for c in COLUMNS[name] if c not in "
     "schema.names]", "missing = []", "a table without its columns exported"),
    ("leotwin/controlplane/app.py", "best = min(branches.values(), key=len)",
     "best = max(branches.values(), key=len)", "422 reports the wrong branch of a union"),
    ("leotwin/ground/regions.py", "if k < j and parts[k].intersection(parts[j]).area > 0:",
     "if False:", "overlapping MultiPolygon parts counted twice"),
    ("leotwin/policy/engine.py", "self.source = source if source is not None else (",
     "self.source = '' if source is not None else (", "zones read relative to the current "
     "directory", INPUT_TESTS),
]

_COMPARE = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.LtE, ast.LtE: ast.Lt,
            ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.In: ast.NotIn, ast.NotIn: ast.In,
            ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
        ast.In: " in ", ast.NotIn: " not in ", ast.Is: " is ", ast.IsNot: " is not "}
_BIN = {ast.Add: ("+", "-"), ast.Sub: ("-", "+"), ast.BitOr: ("|", "&"),
        ast.BitAnd: ("&", "|")}


def _skip_docstrings(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value,
                                                                     ast.Constant):
                lines.update(range(body[0].lineno, (body[0].end_lineno or 0) + 1))
    return lines


def generated(path: str) -> list[Mutant]:
    """Every generated mutant of one module (see module docstring)."""
    text = (SRC / path).read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    docs = _skip_docstrings(tree)
    allowed: set[int] | None = None
    if path.endswith("store.py"):
        allowed = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in AUDIT_FUNCTIONS:
                allowed.update(range(node.lineno, (node.end_lineno or 0) + 1))
    out: list[Mutant] = []
    # annotations are strings under ``from __future__ import annotations``: mutating them
    # changes nothing
    in_annotation: set[int] = set()
    for node in ast.walk(tree):
        notes = []
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            notes.append(node.annotation)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            notes.append(node.returns)
        for note in notes:
            in_annotation.update(id(n) for n in ast.walk(note))

    def add(node, what, old, new):
        line = node.lineno
        if id(node) in in_annotation:
            return
        if line in docs or (allowed is not None and line not in allowed):
            return
        src_line = lines[line - 1]
        # which occurrence: the last that starts at or before the node's column (an operator
        # precedes its right operand; ``not`` and constants start at the node itself)
        before = [i for i in range(len(src_line))
                  if src_line.startswith(old, i) and i <= node.col_offset]
        if not before:
            return
        out.append(Mutant(path, line, what, old, new, len(before) - 1))

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            op = type(node.ops[0])
            if op in _COMPARE:
                old, new = _OPS[op], _OPS[_COMPARE[op]]
                add(node.comparators[0], f"{old.strip()} → {new.strip()}", old, new)
        elif isinstance(node, ast.BoolOp):
            old, new = (" and ", " or ") if isinstance(node.op, ast.And) else (" or ", " and ")
            add(node.values[1], f"{old.strip()} → {new.strip()}", old, new)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            add(node, "not dropped", "not ", "")
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            old, new = ("True", "False") if node.value else ("False", "True")
            add(node, f"{old} → {new}", old, new)
        elif isinstance(node, ast.BinOp) and type(node.op) in _BIN \
                and id(node) not in in_annotation:
            old, new = _BIN[type(node.op)]
            add(node.right, f"{old} → {new}", f" {old} ", f" {new} ")
    return out


def named() -> list[Mutant]:
    out = []
    for path, old, new, what, *tests in NAMED:
        lines = (SRC / path).read_text().splitlines()
        hits = [k for k, line in enumerate(lines, 1) if old in line]
        if len(hits) != 1:
            raise SystemExit(f"named mutant '{what}': its text is found {len(hits)} times in "
                             f"{path} (the code moved: update scripts/mutation.py)")
        out.append(Mutant(path, hits[0], what, old, new, 0, named=True,
                          tests=tuple(tests[0]) if tests else ()))
    return out


def apply(m: Mutant, src_root: Path) -> None:
    target = src_root / m.path
    lines = target.read_text().splitlines(keepends=True)
    line = lines[m.line - 1]
    pos = -1
    for _ in range(m.occurrence + 1):
        pos = line.find(m.old, pos + 1)
    lines[m.line - 1] = line[:pos] + m.new + line[pos + len(m.old):]
    target.write_text("".join(lines))


def run_one(m: Mutant, workdir: Path) -> tuple[Mutant, bool, float]:
    """Run the mutant's tests in a private copy of src/; (mutant, killed, seconds)."""
    src = workdir / "src"
    original = (src / m.path).read_text()  # the copy's own text (the tree may change meanwhile)
    apply(m, src)
    tests = list(m.tests) or TARGETS.get(m.path) or NAMED_ONLY[m.path]
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"}
    t0 = time.perf_counter()
    try:
        # a fixed hypothesis seed: the property tests draw the same examples for every
        # mutant and every run, so the kill rate is reproducible
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p",
                               "no:cacheprovider", "--no-header", "--hypothesis-seed=12",
                               *tests], cwd=workdir, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=TIMEOUT_S)
        killed = done.returncode != 0
    except subprocess.TimeoutExpired:
        killed = True
    finally:
        (src / m.path).write_text(original)
    return m, killed, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=0,
                    help="test a seeded random sample of this many generated mutants (0: all)")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--named-only", action="store_true",
                    help="only the named mutants (a quick check after a change)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    gen = [m for path in TARGETS for m in generated(path)]
    chosen = gen if not args.sample else random.Random(args.seed).sample(
        gen, min(args.sample, len(gen)))
    if args.named_only:
        chosen = []
    mutants = named() + chosen
    print(f"{len(NAMED)} named and {len(chosen)} of {len(gen)} generated mutants, "
          f"{args.workers} workers", flush=True)
    dirs = []
    for _ in range(args.workers):
        # a snapshot of the sources *and* the tests: editing either while the run goes on
        # must not change what is measured
        d = Path(tempfile.mkdtemp(prefix="leotwin-mutation-"))
        shutil.copytree(SRC / "leotwin", d / "src" / "leotwin",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "tests", d / "tests",
                        ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
        shutil.copy(ROOT / "pyproject.toml", d / "pyproject.toml")
        for extra in ("examples", "docs/examples"):  # files the tests read
            shutil.copytree(ROOT / extra, d / extra)
        dirs.append(d)
    free = list(dirs)
    t0 = time.perf_counter()
    # the tests must pass on the unmutated copy, or every mutant would count as killed
    suites = {m.tests or tuple(TARGETS.get(m.path) or NAMED_ONLY[m.path]): m
              for m in mutants}
    for tests, m in sorted(suites.items(), key=lambda kv: kv[1].path):  # once per test set
        clean = Mutant(m.path, 1, "no change", "", "", 0, tests=tests)
        if run_one(clean, dirs[0])[1]:
            print(f"the tests of {m.path} fail without any mutation: fix them first")
            return 2

    def job(m: Mutant):
        d = free.pop()
        try:
            return run_one(m, d)
        finally:
            free.append(d)

    results = []
    try:
        with ThreadPoolExecutor(args.workers) as pool:
            for m, killed, _s in pool.map(job, mutants):
                results.append((m, killed))
                if not killed:
                    print(f"survived: {m.path}:{m.line} {m.what}"
                          + (" [named]" if m.named else ""), flush=True)
    finally:
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
    named_ok = [k for m, k in results if m.named]
    gen_ok = [k for m, k in results if not m.named]
    rate = sum(named_ok + gen_ok) / len(results)
    print(f"named: {sum(named_ok)}/{len(named_ok)} killed; generated: {sum(gen_ok)}/"
          f"{len(gen_ok)} killed; overall kill rate {rate:.1%} in "
          f"{time.perf_counter() - t0:.0f} s")
    return 0 if all(named_ok) and rate >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
