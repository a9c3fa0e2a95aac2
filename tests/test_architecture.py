"""The package structure, checked from the source: no private names across packages, no import
cycles, small files, and the package map of ``docs/design.md`` matching the tree and the imports.

Imports are read from the AST of every module under ``src/leotwin`` — at module level and inside
functions (a lazy import is still a dependency), except under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = SRC / "leotwin"
DESIGN = Path(__file__).resolve().parents[1] / "docs" / "design.md"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                lines.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return lines


def imports(name: str) -> list[tuple[str, str | None, int]]:
    """(module imported, name imported from it or None, line) of every leotwin import."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    out = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names
                    if a.name.split(".")[0] == "leotwin"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "leotwin":
            out += [(node.module, a.name, node.lineno) for a in node.names]
    return out


def package_of(name: str) -> str:
    """``leotwin.orbits.kernel`` → ``orbits``; a top-level module is its own package."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "leotwin"


def edges() -> dict[str, set[str]]:
    """Module → the leotwin modules it imports (``from pkg import module`` counts as both)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for name in MODULES:
        for module, item, _ in imports(name):
            if f"{module}.{item}" in MODULES:
                graph[name].add(f"{module}.{item}")
            if module in MODULES:
                graph[name].add(module)
    return graph


def test_no_private_names_across_packages():
    found = []
    for name in MODULES:
        for module, item, line in imports(name):
            if item and item.startswith("_") and package_of(module) != package_of(name):
                found.append(f"{MODULES[name].relative_to(SRC)}:{line} imports {item} from "
                             f"{module}")
    assert not found, "\n".join(found)


def test_private_attributes_are_not_reached_across_packages():
    """``engine._compile(...)``-style calls into objects of another package: any ``x._name``
    access where x is not ``self``/``cls`` and ``_name`` is not defined in the same module."""
    found = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = {n.name for n in ast.walk(tree)
               if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
        own |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                and isinstance(n.ctx, ast.Store)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__") and node.attr not in own
                    and not (isinstance(node.value, ast.Name)
                             and node.value.id in ("self", "cls", "super"))):
                text = ast.unparse(node)
                if not _allowed_private(name, text):
                    found.append(f"{path.relative_to(SRC)}:{node.lineno} {text}")
    assert not found, "\n".join(found)


#: private attributes of third-party objects that a module uses on purpose, with the reason
PRIVATE_OK = {
    # python-sgp4's documented buffer-filling entry point (no public equivalent)
    "leotwin.orbits.kernel": ("array._sgp4",),
}


def _allowed_private(module: str, text: str) -> bool:
    return any(text.startswith(ok) for ok in PRIVATE_OK.get(module, ()))


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every back edge of a depth-first search, as the cycle it closes."""
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_no_import_cycles():
    cycles = find_cycles(edges())
    assert not cycles, "\n".join(" → ".join(c) for c in cycles)


def test_cycle_detection_finds_a_cycle():
    """The checker itself, on a small graph (guards against a vacuous pass)."""
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_source_file_over_the_limit():
    """The package, and the tests, benchmarks and scripts beside it."""
    top = SRC.parent
    files = [*MODULES.values(), *(p for d in ("tests", "benchmarks", "scripts")
                                   for p in (top / d).rglob("*.py"))]
    long = [f"{p.relative_to(top)}: {n} lines" for p in files
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES]
    assert not long, "\n".join(long)


def package_map() -> dict[str, set[str]]:
    """The table of ``docs/design.md`` § Package map: package → the packages it may import."""
    text = DESIGN.read_text(encoding="utf-8")
    section = text.split("## Package map", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\|\s*`leotwin(?:\.(\w+))?`\s*\|[^|]*\|([^|]*)\|", line)
        if m:
            allowed = set(re.findall(r"`(\w+)`", m.group(2)))
            rows[m.group(1) or "leotwin"] = allowed
    above = set(rows) - {"cli", "__main__", "leotwin"}
    if "cli" in rows and "every package above" in section:
        rows["cli"] |= above
    return rows


def test_package_map_is_layered():
    """Each package may import only packages in rows above its own: the table is the order."""
    rows = list(package_map().items())
    for k, (name, allowed) in enumerate(rows):
        above = {n for n, _ in rows[:k]}
        assert allowed <= above, (name, sorted(allowed - above))


def test_package_map_matches_the_tree():
    documented = set(package_map())
    actual = {package_of(m) for m in MODULES}
    assert documented == actual, (sorted(documented - actual), sorted(actual - documented))


def test_imports_follow_the_package_map():
    allowed = package_map()
    found = []
    for name in MODULES:
        here = package_of(name)
        for module, _, line in imports(name):
            there = package_of(module)
            if there != here and there not in allowed[here]:
                found.append(f"{MODULES[name].relative_to(SRC)}:{line}: {here} imports "
                             f"{there} (allowed: {', '.join(sorted(allowed[here]))})")
    assert not found, "\n".join(found)


def test_importing_leotwin_has_no_side_effects():
    """Every module imports without changing the process: no pyplot (and so no backend
    chosen), no environment variables set, no signal handlers installed.  (Warnings filters
    are not compared: numpy and scipy's submodules add their own on import.)"""
    import subprocess
    import sys

    third_party = ["numpy", "scipy", "pyarrow", "pydantic", "shapely", "h3", "pyproj", "yaml",
                   "typer", "rich", "sgp4.api", "fastapi", "uvicorn", "dask.distributed",
                   "matplotlib", "czml3", "psycopg"]
    code = (
        "import os, signal, sys, importlib\n"
        f"for name in {third_party!r}:\n"
        "    importlib.import_module(name)\n"
        "env, handlers = dict(os.environ), signal.getsignal(signal.SIGTERM)\n"

        f"for name in {sorted(m for m in MODULES if not m.endswith('__main__'))!r}:\n"
        "    importlib.import_module(name)\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert dict(os.environ) == env and signal.getsignal(signal.SIGTERM) == handlers\n"

    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
