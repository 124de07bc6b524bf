"""Shapiro-Wilk, Kolmogorov-Smirnov, Levene and Bartlett against R (tests/reference/distribution.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalinfer as ci
from causalinfer._testing import check_result, check_unchanged


def test_shapiro_against_r(reference):
    cases = reference("distribution")["shapiro"]
    assert len(cases) >= 8
    for case in cases:
        r = ci.stats.shapiro_wilk(np.asarray(case["x"], dtype=float))
        e = case["expected"]
        # Royston's AS R94 in double precision, as R's swilk.c
        assert r.statistic == pytest.approx(e["statistic"], rel=1e-13), case["name"]
        assert r.pvalue == pytest.approx(e["pvalue"], rel=1e-11), case["name"]
        check_result(r)


def _ks_call(case):
    kw = {k: case[k] for k in ("alternative", "exact") if k in case}
    x = np.asarray(case["x"], dtype=float)
    if "y" in case:
        return ci.stats.ks_test(x, np.asarray(case["y"], dtype=float), **kw)
    return ci.stats.ks_test(x, case["dist"], args=tuple(case["args"]), **kw)


def test_ks_against_r(reference):
    cases = reference("distribution")["ks"]
    assert len(cases) >= 14
    for case in cases:
        r = _ks_call(case)
        e = case["expected"]
        assert r.method == e["method"], case["name"]
        assert r.statistic == pytest.approx(e["statistic"], rel=1e-12, abs=1e-12), case["name"]
        assert r.pvalue == pytest.approx(e["pvalue"], rel=1e-10, abs=1e-14), case["name"]
        check_result(r)


def test_ks_distribution_forms_agree():
    x = np.random.default_rng(3).normal(0.1, 2, 45)
    a = ci.stats.ks_test(x, "norm", args=(0, 2))
    b = ci.stats.ks_test(x, stats.norm(0, 2))
    c = ci.stats.ks_test(x, lambda v: stats.norm.cdf(v, 0, 2))
    assert a.pvalue == b.pvalue == c.pvalue
    assert a.pvalue == pytest.approx(stats.kstest(x, "norm", args=(0, 2), method="exact").pvalue, rel=1e-12)


def test_variance_tests_against_r(reference):
    for case in reference("distribution")["variance"]:
        groups = [np.asarray(g, dtype=float) for g in case["groups"]]
        e = case["expected"]
        for center in ("median", "mean"):
            r = ci.stats.levene_test(*groups, center=center)
            ee = e[f"levene_{center}"]
            assert r.statistic == pytest.approx(ee["statistic"], rel=1e-12)
            assert r.df == (ee["df1"], ee["df2"])
            assert r.pvalue == pytest.approx(ee["pvalue"], rel=1e-10)
            check_result(r)
        b = ci.stats.bartlett_test(*groups)
        assert b.statistic == pytest.approx(e["bartlett"]["statistic"], rel=1e-12)
        assert b.df == e["bartlett"]["df"]
        assert b.pvalue == pytest.approx(e["bartlett"]["pvalue"], rel=1e-10)
        check_result(b)
        assert b.pvalue == pytest.approx(stats.bartlett(*groups).pvalue, rel=1e-10)
        assert ci.stats.levene_test(*groups).pvalue == pytest.approx(stats.levene(*groups, center="median").pvalue, rel=1e-10)


def test_long_form_unchanged():
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"y": rng.normal(size=36), "g": np.tile(["a", "b", "c"], 12), "z": rng.normal(size=36)})
    lev = check_unchanged(df, lambda d: ci.stats.levene_test("y", data=d, group="g"))
    arrays = [df.y[df.g == k].to_numpy() for k in "abc"]
    assert lev.statistic == pytest.approx(ci.stats.levene_test(*arrays).statistic)
    bt = check_unchanged(df, lambda d: ci.stats.bartlett_test("y", data=d, group="g"))
    assert bt.statistic == pytest.approx(ci.stats.bartlett_test(*arrays).statistic)
    sw = check_unchanged(df, lambda d: ci.stats.shapiro_wilk("y", data=d))
    assert sw.statistic == pytest.approx(ci.stats.shapiro_wilk(df.y.to_numpy()).statistic)
    ks2 = check_unchanged(df, lambda d: ci.stats.ks_test("y", "z", data=d))
    assert ks2.statistic == ci.stats.ks_test(df.y.to_numpy(), df.z.to_numpy()).statistic
    ks1 = check_unchanged(df, lambda d: ci.stats.ks_test("y", "norm", data=d))
    assert ks1.statistic == ci.stats.ks_test(df.y.to_numpy(), "norm").statistic
    ksg = check_unchanged(df[df.g != "c"], lambda d: ci.stats.ks_test("y", data=d, group="g"))
    assert ksg.statistic == ci.stats.ks_test(arrays[0], arrays[1]).statistic


def test_diagnostics():
    big = np.random.default_rng(0).normal(size=2000)
    assert ci.stats.shapiro_wilk(big).diagnostic("sample size").status == "warn"
    r = ci.stats.ks_test([0.1, 0.1, 0.5, 0.9], "uniform")
    assert r.diagnostic("ties").status == "warn"
    assert r.method.startswith("Asymptotic")


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "exc", "match"),
    [
        (ci.stats.shapiro_wilk, ([1.0, 2.0],), {}, ci.DataError, "between 3 and 5000"),
        (ci.stats.shapiro_wilk, ([2.0, 2.0, 2.0],), {}, ci.DataError, "identical"),
        (ci.stats.shapiro_wilk, ([1.0, np.nan, 2.0, 3.0],), {}, ci.DataError, "missing value"),
        (ci.stats.shapiro_wilk, ([],), {}, ci.DataError, "at least 1"),
        (ci.stats.ks_test, ([1.0, 2.0],), {}, ci.ArgumentError, "`y` is required"),
        (ci.stats.ks_test, ([1.0, 2.0], "gaussian"), {}, ci.ArgumentError, "scipy.stats distribution"),
        (ci.stats.ks_test, ([1.0, 2.0], "norm"), {"alternative": "up"}, ci.ArgumentError, "alternative"),
        (ci.stats.ks_test, ([1.0, 2.0], "norm"), {"exact": 1}, ci.ArgumentTypeError, "exact"),
        (ci.stats.ks_test, ([1.0, 2.0], []), {}, ci.DataError, "at least 1"),
        (ci.stats.ks_test, ([1.0, np.inf], "norm"), {}, ci.DataError, "infinite"),
        (ci.stats.ks_test, ([1.0, 2.0], "norm"), {"args": (0, -1)}, ci.DataError, "non-finite"),
        (ci.stats.levene_test, ([1.0, 2.0],), {}, ci.DataError, "at least 2 samples"),
        (ci.stats.levene_test, ([1.0, 2.0], [3.0, 4.0]), {"center": "trimmed"}, ci.ArgumentError, "center"),
        (ci.stats.levene_test, ([1.0, 1.0], [3.0, 3.0]), {}, ci.DataError, "constant"),
        (ci.stats.levene_test, ([1.0], [3.0]), {}, ci.DataError, "more observations"),
        (ci.stats.bartlett_test, ([1.0, 2.0], [3.0]), {}, ci.DataError, "at least 2"),
        (ci.stats.bartlett_test, ([1.0, 2.0], [3.0, 3.0]), {}, ci.DataError, "constant"),
        (ci.stats.bartlett_test, ([1.0, 2.0], [3.0, np.nan, 4.0]), {}, ci.DataError, "missing"),
    ],
)
def test_bad_input(fn, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


def test_ks_two_sample_identical_samples_give_exactly_zero():
    # Float steps of 1/n left a residue of 5.6e-17 for identical samples; integer steps give D = 0 exactly.
    r = ci.stats.ks_test([1.0] * 5, [1.0] * 5)
    assert r.statistic == 0.0
    assert r.pvalue == 1.0
    r = ci.stats.ks_test([0.1, 0.2, 0.3], [0.3, 0.2, 0.1, 0.1, 0.2, 0.3])
    assert r.statistic == 0.0
