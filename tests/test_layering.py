"""The package's layers: which subpackage may import which, no import circles, and lazy loading kept lazy.

DESIGN.md draws the dependencies: ``data``, ``results`` <- ``stats`` <- ``effects`` <- ``causal``, ``designs``;
``stats`` <- ``experiments``; ``stats`` <- ``predict`` <- ``serve``; ``report`` and ``cli`` on top. Every import
statement of every module is read with :mod:`ast`, including imports inside functions (a circle hidden in a
function is still a circle); imports under ``if TYPE_CHECKING:`` are for the type checker only and do not count
for circles, but they must still point down the layers.
"""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
from dataclasses import dataclass

import pytest

import causalinfer

PACKAGE = pathlib.Path(causalinfer.__file__).parent
ROOT = "causalinfer"

#: Rank of each part of the package: a part may import only parts of lower rank.
RANKS = {
    "core": 0,  # exceptions, _validation, _optional, _progress, _version, _frames
    "results": 1,
    "data": 2,
    "stats": 3,
    "effects": 4,
    "experiments": 4,
    "predict": 4,
    "causal": 5,
    "designs": 5,
    "serve": 5,
    "report": 6,
    "testing": 6,  # causalinfer._testing, the contract checks used by the test suite
    "cli": 7,
    "root": 8,  # causalinfer/__init__.py: the lazy front door (names for the type checker, subpackages on first use)
}
CORE_MODULES = {"exceptions", "_validation", "_optional", "_progress", "_version", "_frames"}
CLI_MODULES = {"cli", "_cli_predict", "_cli_experiments", "_cli_check", "_cli_serve", "__main__"}

#: The one sideways import DESIGN.md allows: causal re-exports design estimators and lets compare() run 2SLS,
#: loading designs only when asked (inside a function), never at import time. Never the other way round.
LAZY_SIDEWAYS = {("causal", "designs")}


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module, dotted
    in_function: bool
    type_only: bool
    line: int

    def __str__(self) -> str:
        where = " (inside a function)" if self.in_function else " (TYPE_CHECKING)" if self.type_only else ""
        return f"{self.source}:{self.line} imports {self.target}{where}"


def _module_name(path: pathlib.Path) -> str:
    parts = [ROOT, *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1]) if parts[-1] == "__init__" else ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES.get(name, pathlib.Path()).name == "__init__.py"


def _resolve(source: str, node: ast.ImportFrom) -> list[str]:
    """Dotted names of the causalinfer modules that ``from ... import ...`` in ``source`` loads."""
    if node.level:
        base = source.split(".") if _is_package(source) else source.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        module = ".".join([*base, *([node.module] if node.module else [])])
    else:
        module = node.module or ""
    if module != ROOT and not module.startswith(ROOT + "."):
        return []
    # `from pkg import name` loads pkg.name when that is a module, else pkg itself
    out = [f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module for a in node.names]
    return sorted(set(out))


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(source: str, code: str) -> list[Import]:
    """Every causalinfer import in ``code``, the text of module ``source``."""
    out: list[Import] = []

    def visit(node: ast.AST, in_function: bool, type_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, True, type_only)
            elif isinstance(child, ast.If) and _type_checking(child.test):
                for stmt in child.body:
                    visit(ast.Module(body=[stmt], type_ignores=[]), in_function, True)
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]), in_function, type_only)
            elif isinstance(child, ast.ImportFrom):
                for target in _resolve(source, child):
                    out.append(Import(source, target, in_function, type_only, child.lineno))
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name == ROOT or alias.name.startswith(ROOT + "."):
                        out.append(Import(source, alias.name, in_function, type_only, child.lineno))
            else:
                visit(child, in_function, type_only)

    visit(ast.parse(code), False, False)
    return out


IMPORTS = [imp for name, path in MODULES.items() for imp in _imports(name, path.read_text(encoding="utf-8"))]


def _part(module: str, *, target: bool = False) -> str:
    """The layer a module belongs to: its subpackage, or core / cli / testing / root for the top-level modules.

    Importing from the package root (``from .. import __version__``) loads only core modules, so as a target the
    root counts as core.
    """
    parts = module.split(".")
    if len(parts) == 1:
        return "core" if target else "root"
    top = parts[1]
    if top in CORE_MODULES:
        return "core"
    if top in CLI_MODULES:
        return "cli"
    if top == "_testing":
        return "testing"
    return top


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
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


# ---------------------------------------------------------------------- the parser itself
def test_the_import_reader_sees_imports_inside_functions_and_type_checking_blocks():
    code = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..causal import x\ndef f():\n    from .. import designs\n"
    found = _imports("causalinfer.effects._refute", code)
    assert [(i.target, i.in_function, i.type_only) for i in found] == [
        ("causalinfer.causal", False, True),
        ("causalinfer.designs", True, False),
    ]


def test_every_part_of_the_package_has_a_place_in_the_layers():
    unknown = sorted({_part(m) for m in MODULES} - set(RANKS))
    assert not unknown, f"new part(s) {unknown}: give them a rank in RANKS (and DESIGN.md)"
    assert {"effects", "causal", "designs", "stats", "results", "data"} <= {_part(m) for m in MODULES}


# ---------------------------------------------------------------------- between subpackages
def test_imports_point_down_the_layers():
    wrong = []
    for imp in IMPORTS:
        a, b = _part(imp.source), _part(imp.target, target=True)
        if a == b or RANKS[b] < RANKS[a]:
            continue
        if (a, b) in LAZY_SIDEWAYS and (imp.in_function or imp.type_only):
            continue
        wrong.append(f"{imp} ({a} may not import {b})")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_designs_never_import_causal_not_even_inside_a_function():
    back = [str(i) for i in IMPORTS if _part(i.source) == "designs" and _part(i.target, target=True) == "causal"]
    assert not back, "\n".join(back)


def test_causal_and_designs_share_the_effects_layer():
    users = {_part(i.source) for i in IMPORTS if _part(i.target, target=True) == "effects" and not i.type_only}
    assert {"causal", "designs"} <= users


def test_no_circles_between_subpackages():
    graph: dict[str, set[str]] = {}
    for imp in IMPORTS:
        a, b = _part(imp.source), _part(imp.target, target=True)
        if a != b and not imp.type_only:
            graph.setdefault(a, set()).add(b)
    cycle = _find_cycle(graph)
    assert cycle is None, "subpackages import each other: " + " -> ".join(cycle or [])


# ---------------------------------------------------------------------- between modules of one subpackage
SUBPACKAGES = sorted({_part(m) for m in MODULES if _is_package(m) and m != ROOT})


@pytest.mark.parametrize("part", SUBPACKAGES)
def test_no_circles_between_the_modules_of_a_subpackage(part):
    graph: dict[str, set[str]] = {}
    for imp in IMPORTS:
        if _part(imp.source) == part and _part(imp.target, target=True) == part and not imp.type_only and imp.source != imp.target:
            graph.setdefault(imp.source, set()).add(imp.target)
    cycle = _find_cycle(graph)
    assert cycle is None, f"modules of {part} import each other: " + " -> ".join(cycle or [])


# ---------------------------------------------------------------------- what importing actually loads
def _loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(m for m in sys.modules if m.startswith('causalinfer'))))"
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return set(done.stdout.split())


def test_importing_designs_does_not_load_causal():
    loaded = _loaded_after("import causalinfer.designs")
    assert "causalinfer.designs" in loaded and "causalinfer.effects" in loaded
    assert not {m for m in loaded if m.startswith("causalinfer.causal")}


def test_importing_causal_does_not_load_designs_until_a_design_name_is_used():
    loaded = _loaded_after("import causalinfer.causal")
    assert "causalinfer.causal" in loaded
    assert not {m for m in loaded if m.startswith("causalinfer.designs")}
    loaded = _loaded_after("import causalinfer.causal as c\nc.iv_2sls")
    assert "causalinfer.designs" in loaded


def test_importing_effects_loads_neither_estimator_family():
    loaded = _loaded_after("import causalinfer.effects")
    assert not {m for m in loaded if m.startswith(("causalinfer.causal", "causalinfer.designs"))}
