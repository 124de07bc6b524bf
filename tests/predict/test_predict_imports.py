"""No module of causalinfer.predict imports a sibling that imports it back (imports inside functions count)."""

from __future__ import annotations

import ast
import pathlib

import causalinfer.predict

PACKAGE = pathlib.Path(causalinfer.predict.__file__).parent


def _sibling_imports(path: pathlib.Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(alias.name for alias in node.names)
    return out


def _graph() -> dict[str, set[str]]:
    modules = {p.stem: p for p in PACKAGE.glob("_*.py") if p.stem != "__init__"}
    return {name: _sibling_imports(path) & set(modules) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_inside_predict():
    assert _cycle(_graph()) is None, f"import cycle: {' -> '.join(_cycle(_graph()) or [])}"


def test_the_cut_modules_sit_below_both_users():
    graph = _graph()
    assert "_job" in graph["_score"] and "_job" in graph["_dask"]
    assert "_score" not in graph["_dask"]
    assert "_reference" in graph["_drift"] and "_reference" in graph["_profile"]
    assert "_profile" not in graph["_drift"]
