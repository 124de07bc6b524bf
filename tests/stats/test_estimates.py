"""Mean, median and quantile intervals, z-tests and t-test effect sizes against R (tests/reference/estimates.R)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged

_REF = json.loads((Path(__file__).parents[1] / "reference" / "estimates.json").read_text(encoding="utf-8"))
CASES = _REF["cases"]


def _close(got, want, label, rtol=1e-9):
    want = float(want)
    if math.isinf(want):
        assert got == want, (label, got, want)
    else:
        assert got == pytest.approx(want, rel=rtol, abs=1e-13), (label, got, want)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_against_r(case):
    args = dict(case["args"])
    x = np.array(args.pop("x"), dtype=float)
    y = args.pop("y", None)
    fn = getattr(ci.stats, case["fn"])
    r = fn(x, np.array(y, dtype=float), **args) if y is not None else fn(x, **args)
    want = case["expected"]
    for field in ("estimate", "std_error", "ci_low", "ci_high", "statistic", "df", "pvalue"):
        if field in want:
            _close(getattr(r, field), want[field], (case["name"], field))
    if "achieved_coverage" in want:
        _close(r.details["achieved_coverage"], want["achieved_coverage"], (case["name"], "coverage"), rtol=1e-12)
    if "d" in want:
        for name, key in (("Cohen's d", "d"), ("Hedges' g", "g")):
            e = r.effect_size(name)
            _close(e.estimate, want[key], (case["name"], key))
            # noncentral t limits: R's pnt is accurate to about 1e-12 absolute, so compare at 1e-8
            _close(e.ci_low, want[f"{key}_low"], (case["name"], f"{key}_low"), rtol=1e-8)
            _close(e.ci_high, want[f"{key}_high"], (case["name"], f"{key}_high"), rtol=1e-8)
    check_result(r)


def test_reference_size():
    assert len(CASES) >= 150


def test_long_form_and_unchanged():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"v": rng.normal(size=30), "g": ["a", "b"] * 15})
    r = check_unchanged(df, lambda d: ci.stats.median_ci("v", data=d))
    assert r.estimand == "median of v"
    z = check_unchanged(df, lambda d: ci.stats.ztest("v", data=d, group="g", sigma=1.0))
    z2 = ci.stats.ztest(df.v[df.g == "a"].to_numpy(), df.v[df.g == "b"].to_numpy(), sigma=1.0)
    assert z.statistic == pytest.approx(z2.statistic)
    assert "g=a" in z.estimand
    for fn, kw in ((ci.stats.mean_ci, {}), (ci.stats.median_ci, {}), (ci.stats.quantile_ci, {"q": 0.2}), (ci.stats.ztest, {"sigma": 1.0})):
        check_nested_intervals(fn, df.v.to_numpy(), **kw)
    check_result(check_unchanged(df, lambda d: ci.stats.mean_ci("v", data=d)))


def test_median_ci_tiny_sample_is_infinite_with_warning():
    r = ci.stats.median_ci([1.0, 2.0, 3.0])
    assert r.ci == (-math.inf, math.inf)
    assert r.warnings
    assert r.warnings[0].name == "sample size"
    check_result(r)


def test_ttest_effect_sizes_present_and_nested():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0.5, 1, 20), rng.normal(0, 1, 25)
    r90 = ci.stats.ttest(a, b, conf_level=0.9).effect_size("Hedges' g")
    r95 = ci.stats.ttest(a, b).effect_size("Hedges' g")
    assert r95.ci_low < r90.ci_low < r90.estimate < r90.ci_high < r95.ci_high
    assert abs(r95.estimate) < abs(ci.stats.ttest(a, b).effect_size("Cohen's d").estimate)


@pytest.mark.parametrize(
    ("fn", "kwargs", "exc", "match"),
    [
        ("mean_ci", dict(x=[]), ci.DataError, "at least 1"),
        ("mean_ci", dict(x=[1.0]), ci.DataError, "at least 2"),
        ("mean_ci", dict(x=[2.0, 2.0, 2.0]), ci.DataError, "constant"),
        ("mean_ci", dict(x=[1.0, np.nan]), ci.DataError, "missing"),
        ("mean_ci", dict(x=[1.0, np.inf]), ci.DataError, "infinite"),
        ("mean_ci", dict(x=[1.0, 2.0], conf_level=1.0), ci.ArgumentError, "conf_level"),
        ("mean_ci", dict(x=[1.0, 2.0], alternative="up"), ci.ArgumentError, "alternative"),
        ("median_ci", dict(x=[]), ci.DataError, "at least 1"),
        ("median_ci", dict(x=[1.0, np.nan, 2.0]), ci.DataError, "missing"),
        ("quantile_ci", dict(x=[1.0, 2.0], q=1.0), ci.ArgumentError, "`q`"),
        ("quantile_ci", dict(x=[1.0, 2.0], q=-0.1), ci.ArgumentError, "`q`"),
        ("ztest", dict(x=[1.0, 2.0]), ci.ArgumentError, "`sigma`"),
        ("ztest", dict(x=[1.0, 2.0], sigma=-1.0), ci.ArgumentError, "`sigma`"),
        ("ztest", dict(x=[1.0, 2.0], y=[1.0], sigma=1.0, sigma_y=0.0), ci.ArgumentError, "`sigma_y`"),
        ("ztest", dict(x=[1.0, 2.0], sigma=1.0, sigma_y=2.0), ci.ArgumentError, "`sigma_y`"),
        ("ztest", dict(x=[1.0, 2.0], sigma=1.0, conf_level=-0.5), ci.ArgumentError, "conf_level"),
    ],
)
def test_bad_input(fn, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        getattr(ci.stats, fn)(**kwargs)


def test_all_equal_values_median_is_valid():
    r = ci.stats.median_ci([3.0] * 12)
    assert r.estimate == 3.0
    assert r.ci == (3.0, 3.0)
    assert any(d.name == "ties" for d in r.warnings)
