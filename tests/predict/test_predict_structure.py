"""The shape of causalinfer.predict: no import circles between its modules, and functions that fit on a screen."""

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


MAX_LINES = 80


def _long_functions(path: pathlib.Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                body = body[1:]  # the docstring is documentation, not steps
            if body and (length := body[-1].end_lineno - body[0].lineno + 1) >= MAX_LINES:
                out.append(f"{path.name}:{node.lineno} {node.name} ({length} lines)")
    return out


def test_functions_fit_on_a_screen():
    files = [*PACKAGE.glob("*.py"), PACKAGE.parent / "_cli_predict.py"]
    long = [f for p in sorted(files) for f in _long_functions(p)]
    assert not long, f"split these into named steps: {long}"
