"""t-tests against R's t.test (tests/reference/ttest.R -> ttest.json)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged


def _case_args(case):
    kw = dict(case["args"])
    x = np.asarray(case["x"], dtype=float)
    y = np.asarray(case["y"], dtype=float) if case.get("y") is not None else None
    return x, y, kw


def test_against_r(reference):
    ref = reference("ttest")
    assert len(ref["cases"]) >= 10
    for case in ref["cases"]:
        x, y, kw = _case_args(case)
        r = ci.stats.ttest(x, y, **kw)
        want = case["expected"]
        for field in ("estimate", "statistic", "df", "pvalue", "ci_low", "ci_high", "std_error"):
            got = getattr(r, field)
            exp = want[field]
            if exp in ("Inf", "-Inf"):
                assert got == float(exp.replace("Inf", "inf")), (case["name"], field)
            else:
                assert got == pytest.approx(exp, rel=1e-9, abs=1e-12), (case["name"], field, got, exp)
        assert r.method == want["method"].strip()


def test_lalonde_known_result():
    ds = ci.load_dataset("lalonde")
    r = ci.stats.ttest("re78", data=ds, group="treat", levels=(1, 0))
    assert round(r.estimate, 2) == 1794.34
    check_result(r)


def test_long_form_matches_arrays():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"y": rng.normal(size=40), "g": ["a"] * 15 + ["b"] * 25})
    r1 = check_unchanged(df, lambda d: ci.stats.ttest("y", data=d, group="g"))
    r2 = ci.stats.ttest(df.y[df.g == "a"].to_numpy(), df.y[df.g == "b"].to_numpy())
    assert r1.estimate == pytest.approx(r2.estimate)
    assert r1.pvalue == pytest.approx(r2.pvalue)
    check_nested_intervals(ci.stats.ttest, df.y[:15].to_numpy(), df.y[15:].to_numpy())


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(x=[]), ci.DataError, "at least 1"),
        (dict(x=[1.0]), ci.DataError, "not enough observations"),
        (dict(x=[2.0, 2.0, 2.0]), ci.DataError, "essentially constant"),
        (dict(x=[1.0, np.nan, 3.0]), ci.DataError, "missing value"),
        (dict(x=[1.0, 2.0], y=[1.0, 2.0, 3.0], paired=True), ci.DataError, "same length"),
        (dict(x=[1.0, 2.0, 3.0], conf_level=1.5), ci.ArgumentError, "conf_level"),
        (dict(x=[1.0, 2.0, 3.0], alternative="bigger"), ci.ArgumentError, "alternative"),
        (dict(x=["a", "b"]), ci.ArgumentTypeError, "`x`"),
    ],
)
def test_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ci.stats.ttest(**kwargs)


@pytest.mark.slow
def test_coverage_welch_skewed():
    rng = np.random.default_rng(20261128)
    n_sim, hits = 2000, 0
    for _ in range(n_sim):
        a = rng.exponential(2.0, 40)
        b = rng.exponential(1.0, 25)
        r = ci.stats.ttest(a, b)
        hits += r.ci_low <= 1.0 <= r.ci_high
    cover = hits / n_sim
    # binomial check: 95% nominal, 3 standard errors; Welch is slightly liberal for skewed data
    assert abs(cover - 0.95) < 3 * np.sqrt(0.95 * 0.05 / n_sim) + 0.01
