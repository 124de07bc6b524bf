"""Data near the limits of double precision: stable answers where they are representable, a reason otherwise."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import causalinfer as ci
from causalinfer.exceptions import DataError

A = np.array([1.0, 2.0, 3.0, 1.5, 2.5, 2.2])
B = np.array([1.1, 2.2, 3.5, 1.2, 2.9, 2.0])
# powers of two: multiplying by them is exact, so every location/scale quantity must scale exactly
HUGE = 2.0**995  # about 1e299
TINY = 2.0**-995  # about 1e-300

SCALED = {
    "ttest_one": lambda a, b: ci.stats.ttest(a),
    "ttest_welch": lambda a, b: ci.stats.ttest(a, b),
    "ttest_pooled": lambda a, b: ci.stats.ttest(a, b, equal_var=True),
    "ttest_paired": lambda a, b: ci.stats.ttest(a, b, paired=True),
    "mean_ci": lambda a, b: ci.stats.mean_ci(a),
    "ztest_one": lambda a, b: ci.stats.ztest(a, sigma=float(np.max(a))),
    "ztest_two": lambda a, b: ci.stats.ztest(a, b, sigma=float(np.max(a)), sigma_y=float(np.max(b))),
    "tost": lambda a, b: ci.stats.tost(a, b, bounds=(-float(np.max(a)), float(np.max(a)))),
}


@pytest.mark.parametrize("factor", [HUGE, TINY], ids=["huge", "tiny"])
@pytest.mark.parametrize("name", sorted(SCALED))
def test_location_scale_results_scale_exactly(name: str, factor: float) -> None:
    call = SCALED[name]
    ref = call(A, B)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = call(A * factor, B * factor)
    for field in ("estimate", "std_error", "ci_low", "ci_high"):
        if getattr(ref, field) is None:
            continue
        assert getattr(got, field) == pytest.approx(getattr(ref, field) * factor, rel=1e-12), field
    if ref.statistic is not None:
        assert got.statistic == pytest.approx(ref.statistic, rel=1e-12)
        assert got.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
    assert [d.status for d in got.diagnostics] == [d.status for d in ref.diagnostics]
    for e_got, e_ref in zip(got.effect_sizes, ref.effect_sizes, strict=True):
        assert e_got.estimate == pytest.approx(e_ref.estimate, rel=1e-12)


@pytest.mark.parametrize("factor", [HUGE, TINY], ids=["huge", "tiny"])
def test_pearson_correlation_is_scale_free(factor: float) -> None:
    ref = ci.stats.correlation(A, B)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = ci.stats.correlation(A * factor, B)
    assert got.estimate == pytest.approx(ref.estimate, rel=1e-12)
    assert got.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
    assert got.estimate < 1


def test_group_tables_have_finite_sd() -> None:
    r = ci.stats.mann_whitney(A * HUGE, B * HUGE)
    assert np.all(np.isfinite(r.details["groups"]["sd"]))


SQUARED = {
    "anova_oneway": lambda a, b: ci.stats.anova_oneway(a, b),
    "tukey_hsd": lambda a, b: ci.stats.tukey_hsd(a, b),
    "levene_test": lambda a, b: ci.stats.levene_test(a, b),
    "bartlett_test": lambda a, b: ci.stats.bartlett_test(a, b),
    "ols": lambda a, b: ci.stats.ols(a, b),
    "bootstrap": lambda a, b: ci.stats.bootstrap(a, n_resamples=100, random_state=1),
}


@pytest.mark.parametrize("factor", [1e300, 1e-300], ids=["huge", "tiny"])
@pytest.mark.parametrize("name", sorted(SQUARED))
def test_squared_quantities_refused_with_a_reason(name: str, factor: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(DataError, match=r"overflow|underflow"):
            SQUARED[name](A * factor, B * factor)


def test_limits_beyond_the_largest_double_are_refused() -> None:
    x = np.array([-1.7e308, 1.7e308, 1.6e308])
    with pytest.raises(DataError, match="largest double"):
        ci.stats.ttest(x)
    assert math.isfinite(ci.stats.ttest(x / 4).statistic)


def test_cramers_v_interval_for_huge_tables() -> None:
    """The noncentral chi-squared routine breaks down beyond about 1e9 (the search for a bracket never ended)."""
    from causalinfer.stats import _tables

    r = ci.stats.chisq_test([[10**15, 2 * 10**15], [3 * 10**15, 5 * 10**15]])
    v = r.effect_sizes[0]
    assert v.ci_low < v.estimate < v.ci_high and v.ci_high - v.ci_low < 1e-6
    exact = _tables.cramers_v(9e6, 1e8, (2, 2), 0.95)
    normal = _tables._ncx2_normal_limits(9e6, 1, 0.05)
    assert math.sqrt(normal[0] / 1e8) == pytest.approx(exact.ci_low, rel=1e-6)
    assert math.sqrt(normal[1] / 1e8) == pytest.approx(exact.ci_high, rel=1e-6)
