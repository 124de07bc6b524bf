"""Every public function declares each of its parameters once (``causalinfer._validation.validate_params``).

The walk covers every callable in the ``__all__`` of each subpackage listed below, plus the public methods
listed in ``PUBLIC_METHODS``. A failure names the function and the parameter, so a new or renamed keyword is
found at once: add it to the ``@vp.validate_params({...})`` block above the function's ``def``.
"""

from __future__ import annotations

import importlib
import inspect

import pytest

from causalinfer._validation import NoCheck, _raise, declaration_of
from causalinfer.exceptions import CausalInferError

# `effects` is not walked: its user-facing functions (refute, e_value) are re-exported by `causal` and walked
# there; the rest of its __all__ (judge, simulate, refitter_of, outcome_e_value, ...) is plumbing shared by
# `causal` and `designs`, called with checked values.
SUBPACKAGES = ("stats", "causal", "designs", "predict", "data", "experiments")
# Public methods of result classes that take options of their own, as (module, class, method). None yet:
# EffectResult.refute and EffectResult.sensitivity pass every option on to the declared functions refute,
# e_value, robustness_value, unobserved_confounder and rosenbaum_bounds (tests/test_bad_input_suite_table.py
# checks that their errors still name the argument).
PUBLIC_METHODS: tuple[tuple[str, str, str], ...] = ()


def _public_functions() -> list[tuple[str, object]]:
    found: dict[int, tuple[str, object]] = {}
    for sub in SUBPACKAGES:
        module = importlib.import_module(f"causalinfer.{sub}")
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or not callable(obj):
                continue
            found.setdefault(id(obj), (f"causalinfer.{sub}.{name}", obj))
    for module_name, cls_name, method in PUBLIC_METHODS:
        cls = getattr(importlib.import_module(module_name), cls_name)
        found.setdefault(id(getattr(cls, method)), (f"{module_name}.{cls_name}.{method}", getattr(cls, method)))
    return sorted(found.values(), key=lambda item: item[0])


FUNCTIONS = _public_functions()
IDS = [name for name, _ in FUNCTIONS]


def test_walk_finds_the_public_functions():
    assert len(FUNCTIONS) > 60
    assert "causalinfer.stats.ttest" in IDS
    assert "causalinfer.causal.dml" in IDS
    assert "causalinfer.experiments.analyze" in IDS


@pytest.mark.parametrize(("qualname", "func"), FUNCTIONS, ids=IDS)
def test_public_function_is_declared(qualname, func):
    declaration = declaration_of(func)
    assert declaration is not None, (
        f"{qualname} has no parameter declaration: add @vp.validate_params({{...}}) above its def "
        f"(in {inspect.getsourcefile(inspect.unwrap(func))})"
    )
    assert not declaration.undeclared, (
        f"{qualname}: parameter(s) {', '.join(declaration.undeclared)} missing from its @vp.validate_params declaration"
    )
    assert not declaration.unknown, (
        f"{qualname}: its @vp.validate_params declaration names {', '.join(declaration.unknown)}, "
        f"which the signature {declaration.signature} does not have"
    )


@pytest.mark.parametrize(("qualname", "func"), FUNCTIONS, ids=IDS)
def test_defaults_satisfy_their_declaration(qualname, func):
    declaration = declaration_of(func)
    if declaration is None:
        pytest.skip("not declared (reported by test_public_function_is_declared)")
    for name, param in declaration.signature.parameters.items():
        if param.default is inspect.Parameter.empty or name not in declaration.constraints:
            continue
        constraints = declaration.constraints[name]
        if not any(c.ok(param.default) for c in constraints):
            try:
                _raise(constraints, param.default, name)
            except CausalInferError as exc:
                pytest.fail(f"{qualname}: the default of `{name}` fails its own declaration: {exc}")


@pytest.mark.parametrize(("qualname", "func"), FUNCTIONS, ids=IDS)
def test_unchecked_parameters_say_why(qualname, func):
    declaration = declaration_of(func)
    if declaration is None:
        pytest.skip("not declared")
    for name, constraints in declaration.constraints.items():
        for c in constraints:
            if isinstance(c, NoCheck):
                assert len(c.reason) > 10, f"{qualname}: `{name}` is not checked and the reason is too short"


@pytest.mark.parametrize(("qualname", "func"), FUNCTIONS, ids=IDS)
def test_wrapper_keeps_name_signature_and_docstring(qualname, func):
    original = inspect.unwrap(func)
    assert func.__name__ == original.__name__
    assert func.__doc__ == original.__doc__
    assert inspect.signature(func) == inspect.signature(original)
