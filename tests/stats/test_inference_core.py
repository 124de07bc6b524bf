"""One inference core: one vocabulary for covariance types, one least-squares solver, one t/normal helper module."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer.designs._linalg import ols as design_ols
from causalinfer.exceptions import ArgumentError, ArgumentTypeError
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
    with pytest.raises((ArgumentError, ArgumentTypeError), match="cov_type"):
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


PACKAGE = STATS.parent


def _calls(path: pathlib.Path) -> list[tuple[int, str]]:
    """Line and text of every use of scipy's t or normal distribution in a module.

    Catches ``stats.t.sf(...)`` / ``scipy.stats.norm.ppf(...)`` and names imported from scipy.stats
    (``from scipy.stats import norm`` then ``norm.cdf(...)``, or ``from scipy.stats import t as student``).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "scipy.stats":
            for alias in node.names:
                if alias.name in ("t", "norm"):
                    imported[alias.asname or alias.name] = alias.name
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        inner = node.value
        if isinstance(inner, ast.Attribute) and inner.attr in ("t", "norm"):
            base = inner.value
            if (isinstance(base, ast.Name) and base.id == "stats") or (isinstance(base, ast.Attribute) and base.attr == "stats"):
                found.append((node.lineno, f"stats.{inner.attr}.{node.attr}"))
        elif isinstance(inner, ast.Name) and inner.id in imported:
            found.append((node.lineno, f"{imported[inner.id]}.{node.attr}"))
    return sorted(found)


#: modules that work with the t and normal distributions for other ends than intervals and p-values of an
#: estimate: the helpers themselves, power equations, an Edgeworth series and the noncentral-t effect sizes.
_ALLOWED = {"stats/_normal.py", "stats/_power.py", "stats/_correlation.py", "stats/_effect_sizes.py"}


def test_t_and_normal_inference_goes_through_the_helpers() -> None:
    """No module of the package, in any subpackage, calls scipy's t or normal distribution directly."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in _ALLOWED:
            continue
        offenders += [f"causalinfer/{rel}:{line}: {call}" for line, call in _calls(path)]
    assert offenders == [], (
        "call the helpers of causalinfer.stats._normal (z_crit, z_upper, z_pvalue, z_limits, t_crit, t_upper, "
        "t_pvalue, t_interval_and_pvalue) instead of scipy's t or normal distribution:\n" + "\n".join(offenders)
    )


def test_the_guard_sees_every_spelling(tmp_path: pathlib.Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from scipy import stats\nfrom scipy.stats import norm, t as student\nimport scipy.stats\n"
        "a = stats.t.sf(1, 2)\nb = norm.cdf(0)\nc = student.ppf(0.9, 3)\nd = scipy.stats.norm.isf(0.1)\n"
        "e = stats.rankdata([1])\n",
        encoding="utf-8",
    )
    assert _calls(module) == [(4, "stats.t.sf"), (5, "norm.cdf"), (6, "t.ppf"), (7, "stats.norm.isf")]


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


def test_the_helpers_keep_tail_digits_and_nan() -> None:
    from scipy import stats

    from causalinfer.stats._normal import t_crit, t_pvalue, t_upper, z_density, z_pvalue, z_quantile, z_upper

    assert z_upper(1e-300) == float(stats.norm.isf(1e-300))  # 1 - p would round to 1
    assert t_upper(1e-200, 7) == float(stats.t.isf(1e-200, 7))
    assert z_quantile(0.3) == float(stats.norm.ppf(0.3))
    np.testing.assert_array_equal(z_density([0.0, 1.0]), stats.norm.pdf([0.0, 1.0]))
    np.testing.assert_array_equal(t_crit(0.95, np.array([3.0, 10.0])), stats.t.ppf(0.975, [3.0, 10.0]))
    assert isinstance(t_crit(0.95, 3), float)
    assert z_pvalue(30.0, "two-sided") == 2 * float(stats.norm.sf(30.0)) > 0
    assert np.isnan(z_pvalue(float("nan"), "two-sided"))  # an undefined statistic is not reported as p = 1
    assert np.isnan(t_pvalue(float("nan"), 5))
