"""Correlation against R's cor.test (tests/reference/correlation.R -> correlation.json), plus contract checks."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged

_REF = json.loads((Path(__file__).parents[1] / "reference" / "correlation.json").read_text(encoding="utf-8"))
CASES = _REF["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"].replace(" ", "=") for c in CASES])
def test_against_r(case):
    d = _REF["data"][case["data"]]
    r = ci.stats.correlation(np.array(d["x"]), np.array(d["y"]), **case["args"])
    want = case["expected"]
    for field in ("estimate", "statistic", "pvalue", "df", "ci_low", "ci_high", "std_error"):
        if field in want:
            exp = float(want[field])
            got = getattr(r, field)
            assert got == pytest.approx(exp, rel=1e-9, abs=1e-14), (case["name"], field, got, exp)
    assert r.method == want["method"]
    check_result(r)


def test_reference_size():
    assert len(CASES) >= 200


def test_spearman_exact_small_n_matches_enumeration():
    # n = 5: the exact null distribution by brute force over permutations
    import itertools

    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([2.0, 1.0, 4.0, 3.0, 5.0])
    r = ci.stats.correlation(x, y, method="spearman", alternative="greater")
    s_obs = np.sum((np.argsort(np.argsort(x)) - np.argsort(np.argsort(y))) ** 2)
    s_all = [sum((i - p) ** 2 for i, p in enumerate(perm)) for perm in itertools.permutations(range(5))]
    assert r.pvalue == pytest.approx(np.mean(np.array(s_all) <= s_obs), rel=1e-12)


def test_long_form_and_unchanged():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    r1 = check_unchanged(df, lambda d: ci.stats.correlation("a", "b", data=d, method="kendall"))
    r2 = ci.stats.correlation(df.a.to_numpy(), df.b.to_numpy(), method="kendall")
    assert r1.estimate == r2.estimate
    assert r1.pvalue == r2.pvalue
    assert "a" in r1.estimand
    assert "b" in r1.estimand
    for m in ("pearson", "spearman", "kendall"):
        check_nested_intervals(ci.stats.correlation, df.a.to_numpy(), df.b.to_numpy(), method=m)
        check_result(ci.stats.correlation(df.a.to_numpy(), df.b.to_numpy(), method=m))


def test_perfect_correlation_is_not_nan():
    x = np.arange(10.0)
    r = ci.stats.correlation(x, 2 * x + 1)
    assert r.estimate == pytest.approx(1.0)
    assert r.pvalue < 1e-12
    assert r.ci_low == pytest.approx(1.0)
    check_result(r)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(x=[1.0, 2.0], y=[1.0, 2.0]), ci.DataError, "not enough observations"),
        (dict(x=[1.0, 2.0, 3.0], y=[1.0, 2.0]), ci.DataError, "same length"),
        (dict(x=[1.0, 1.0, 1.0, 1.0], y=[1.0, 2.0, 3.0, 4.0]), ci.DataError, "constant"),
        (dict(x=[1.0, np.nan, 3.0, 4.0], y=[1.0, 2.0, 3.0, 4.0]), ci.DataError, "missing"),
        (dict(x=[1.0, np.inf, 3.0, 4.0], y=[1.0, 2.0, 3.0, 4.0]), ci.DataError, "infinite"),
        (dict(x=[], y=[]), ci.DataError, "at least"),
        (dict(x=[1.0, 2.0, 3.0, 4.0], y=[2.0, 1.0, 4.0, 3.0], method="distance"), ci.ArgumentError, "`method`"),
        (dict(x=[1.0, 2.0, 3.0, 4.0], y=[2.0, 1.0, 4.0, 3.0], alternative="two.sided"), ci.ArgumentError, "`alternative`"),
        (dict(x=[1.0, 2.0, 3.0, 4.0], y=[2.0, 1.0, 4.0, 3.0], conf_level=0), ci.ArgumentError, "`conf_level`"),
        (dict(x=[1.0, 2.0, 3.0, 4.0]), ci.DataError, "`y`"),
    ],
)
def test_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ci.stats.correlation(**kwargs)


@pytest.mark.slow
def test_coverage_pearson_fisher_z():
    rng = np.random.default_rng(20261128)
    rho, n, n_sim = 0.5, 25, 2000
    cov = np.array([[1.0, rho], [rho, 1.0]])
    hits = 0
    for _ in range(n_sim):
        xy = rng.multivariate_normal([0.0, 0.0], cov, size=n)
        r = ci.stats.correlation(xy[:, 0], xy[:, 1])
        hits += r.ci_low <= rho <= r.ci_high
    cover = hits / n_sim
    assert abs(cover - 0.95) < 3 * math.sqrt(0.95 * 0.05 / n_sim) + 0.005, cover
