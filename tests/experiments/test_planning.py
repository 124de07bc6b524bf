"""experiments.plan: closed form, agreement with stats.power_ttest for large samples, CUPED, simulated power."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import causalinfer as ci
from causalinfer import experiments as ex
from causalinfer._testing import check_result
from causalinfer.experiments import _core as core


def test_closed_form_and_round_trip():
    p = ex.plan(baseline=20.0, sd=15.0, mde=0.03).table.iloc[0]
    z = stats.norm.isf(0.025) + stats.norm.ppf(0.8)
    assert p.n_per_arm == math.ceil(2 * z**2 * 15.0**2 / (0.03 * 20.0) ** 2)
    back = ex.plan(baseline=20.0, sd=15.0, n_per_arm=p.n_per_arm).table.iloc[0]
    assert back.mde_relative <= 0.03 and back.mde_relative == pytest.approx(0.03, rel=1e-3)
    check_result(ex.plan(baseline=20.0, sd=15.0, mde=0.03))


def test_agrees_with_power_ttest_for_large_samples():
    n = ex.plan(baseline=0.1, kind="proportion", mde=0.05).table.n_per_arm.iloc[0]
    t = ci.stats.power_ttest(delta=0.005, sd=math.sqrt(0.09), power=0.8).details["n"]
    assert n == pytest.approx(t, rel=1e-4)


def test_variance_reduction_scales_units_and_days():
    plain = ex.plan(baseline=10.0, sd=8.0, mde=0.02, daily_units=1000, treatments=2).table.iloc[0]
    cuped = ex.plan(baseline=10.0, sd=8.0, mde=0.02, daily_units=1000, treatments=2, variance_reduction=0.4).table.iloc[0]
    assert cuped.n_per_arm == pytest.approx(0.6 * plain.n_per_arm, abs=1)
    assert plain.total_units == 3 * plain.n_per_arm and plain.days == math.ceil(plain.total_units / 1000)
    one = ex.plan(baseline=10.0, sd=8.0, mde=0.02, alternative="greater").table.iloc[0]
    assert one.n_per_arm < plain.n_per_arm


def test_planned_size_reaches_planned_power():
    n = int(ex.plan(baseline=5.0, sd=4.0, mde=0.2).table.n_per_arm.iloc[0])
    rng = np.random.default_rng(21)
    hits = 0
    for _ in range(400):
        y0, y1 = rng.gamma(25 / 16, 16 / 5, n), rng.gamma(25 / 16, 16 / 5, n) + 1.0  # sd 4, mean 5 vs 6
        a = core.Arm(n, y0.mean(), y0.var(ddof=1), y0.mean())
        b = core.Arm(n, y1.mean(), y1.var(ddof=1), y1.mean())
        hits += core.lift(a, b, relative=False, conf_level=0.95, alternative="two-sided").pvalue < 0.05
    assert hits / 400 == pytest.approx(0.8, abs=0.06)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(baseline=0.1, kind="proportion"), "give exactly one of `mde`"),
        (dict(baseline=0.1, kind="proportion", mde=0.1, n_per_arm=100), "give exactly one of `mde`"),
        (dict(baseline=1.4, kind="proportion", mde=0.1), r"`baseline` of a proportion must be in \(0, 1\); got 1.4"),
        (dict(baseline=10.0, mde=0.1), "`sd` .* is needed"),
        (dict(baseline=0.1, kind="proportion", sd=0.3, mde=0.1), "`sd` is implied"),
        (dict(baseline=10.0, sd=2.0, mde=0.1, variance_reduction=1.0), r"`variance_reduction` must be a finite number in \[0, 1\)"),
        (dict(baseline=0.0, sd=2.0, mde=0.1), "relative effect is undefined"),
        (dict(baseline=10.0, sd=2.0, mde=0.1, treatments=0), "`treatments` must be an integer >= 1"),
    ],
)
def test_bad_input(kw, match):
    with pytest.raises(ci.ArgumentError, match=match):
        ex.plan(**kw)
