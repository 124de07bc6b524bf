"""One inference core: one vocabulary for covariance types, one least-squares solver, one t/normal helper module."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer.designs._linalg import ols as design_ols
from causalinfer.exceptions import ArgumentError
from causalinfer.stats import normalize_cov_type
from causalinfer.stats._sandwich import fit_least_squares

STATS = pathlib.Path(ci.__file__).parent / "stats"


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("nonrobust", "nonrobust"),
        ("classical", "nonrobust"),
        ("iid", "nonrobust"),
        ("hc0", "HC0"),
        ("HC1", "HC1"),
        ("robust", "HC1"),
        ("hc3", "HC3"),
        ("clustered", "cluster"),
        ("CR1", "cluster"),
        ("Newey-West", "HAC"),
    ],
)
def test_aliases(alias: str, canonical: str) -> None:
    assert normalize_cov_type(alias) == canonical


def test_unknown_and_unsupported_types_are_refused() -> None:
    with pytest.raises(ArgumentError, match="did you mean 'HC3'"):
        normalize_cov_type("HC33")
    with pytest.raises(ArgumentError, match="here"):
        normalize_cov_type("HAC", allowed=("nonrobust", "HC1"))
    with pytest.raises(ArgumentError, match="cov_type"):
        normalize_cov_type(3)


def test_both_names_of_the_classical_covariance_agree_across_modules() -> None:
    rng = np.random.default_rng(2)
    X = np.column_stack([np.ones(40), rng.normal(size=(40, 2))])
    y = X @ [1.0, 0.5, -0.2] + rng.normal(size=40)
    a = design_ols(y, X, cov_type="classical")
    b = design_ols(y, X, cov_type="nonrobust")
    c = fit_least_squares(X, y, cov_type="classical")
    np.testing.assert_allclose(a.cov, b.cov, rtol=1e-12)
    np.testing.assert_allclose(a.cov, c.cov, rtol=1e-9)
    df = pd.DataFrame({"y": y, "a": X[:, 1], "b": X[:, 2]})
    r1 = ci.stats.ols("y ~ a + b", data=df, cov_type="classical")
    r2 = ci.stats.ols("y ~ a + b", data=df)
    np.testing.assert_allclose(r1.terms["std_error"], r2.terms["std_error"], rtol=1e-12)
    h = design_ols(y, X, cov_type="robust")
    np.testing.assert_allclose(h.cov, fit_least_squares(X, y, cov_type="HC1").cov, rtol=1e-9)


def _calls(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        inner = node.value if isinstance(node, ast.Attribute) else None
        if (
            isinstance(inner, ast.Attribute)
            and isinstance(inner.value, ast.Name)
            and inner.value.id == "stats"
            and inner.attr in ("t", "norm")
        ):
            names.add(f"stats.{inner.attr}.{node.attr}")  # type: ignore[attr-defined]
    return names


#: modules that work with the t and normal distributions for other ends than intervals and p-values of an
#: estimate: the helpers themselves, power equations, an Edgeworth series and the noncentral-t effect sizes.
_ALLOWED = {"_normal.py", "_power.py", "_correlation.py", "_effect_sizes.py"}


def test_t_and_normal_inference_goes_through_the_helpers() -> None:
    offenders = {p.name: sorted(_calls(p)) for p in STATS.glob("*.py") if p.name not in _ALLOWED and _calls(p)}
    assert offenders == {}, f"use stats._normal (t_crit, t_pvalue, z_crit, z_pvalue) instead: {offenders}"


def test_one_normality_diagnostic() -> None:
    users = [p.name for p in STATS.glob("*.py") if "shapiro(" in p.read_text(encoding="utf-8")]
    assert users == [], users


def test_stats_functions_fit_on_a_screen() -> None:
    """Every function of the stats package is at most 80 lines long (docstring excluded): long ones are split into named steps."""
    long = []
    for path in sorted(STATS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body
                has_doc = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and len(body) > 1
                start = body[1].lineno if has_doc else body[0].lineno
                length = (node.end_lineno or start) - start + 1
                if length > 80:
                    long.append(f"{path.name}:{node.name} ({length} lines)")
    assert long == []


def test_qr_core_refuses_fewer_rows_than_parameters() -> None:
    from causalinfer.causal._models import fit_ols
    from causalinfer.exceptions import DataError

    with pytest.raises(DataError, match="2 row"):
        fit_ols(np.ones((2, 3)) + np.eye(2, 3), np.ones(2))
