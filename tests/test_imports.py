"""The engine and the backend import each other without circles, and the supervisor and
the strategies stay small enough to read in one sitting.

The import graph is built from the sources (``ast``), from the imports that run when a
module is imported: those at module level (also inside a module-level ``if``/``try``/
``with`` or class body), not those inside functions, and not those under ``if
TYPE_CHECKING:`` (type hints only). ``from pkg import name`` is an edge to the module
``pkg.name`` when there is one, else to ``pkg``. A package's ``__init__`` is not counted
as imported by its submodules (Python imports it first, but that is no circle).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("engine", "backend")
MAX_LINES = 300


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_time_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that run when the module is imported (not in functions, not type-only)."""
    out: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            out.append(node)
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                out += _import_time_statements(node.body)
            out += _import_time_statements(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody,
                          *(h.body for h in node.handlers)):
                out += _import_time_statements(block)
        elif isinstance(node, ast.With | ast.ClassDef):
            out += _import_time_statements(node.body)
    return out


def _resolve(name: str, known: set[str]) -> str | None:
    """The longest known module ``name`` starts with."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _import_time_statements(tree.body):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative: from the package this module is in
                    package = name if is_package else name.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        package = package.rpartition(".")[0]
                    base = f"{package}.{base}" if base else package
                targets = [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                resolved = _resolve(target, known)
                if resolved is not None and resolved != name:
                    graph[name].add(resolved)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle (its modules, the first repeated at the end), or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_graph_is_read_from_the_sources() -> None:
    graph = import_graph()
    assert "engine.supervisor" in graph and "backend.runs" in graph
    assert "engine.processes" in graph["engine.supervisor"]
    assert "engine.supervisor" in graph["backend.runs"]
    # type-only imports do not count: the rooms name the supervisor only for type hints
    assert "engine.supervisor" not in graph["engine.detection"]
    assert "engine.supervisor" not in graph["engine.recovery.restart"]


def test_the_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import circle: " + " → ".join(cycle or [])


@pytest.mark.parametrize("path", [ROOT / "engine" / "supervisor.py",
                                  *sorted((ROOT / "engine" / "strategies").glob("*.py"))],
                         ids=lambda p: p.name)
def test_small_enough_to_read(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines < MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (keep it under " \
                              f"{MAX_LINES}: give a job a module of its own)"
