"""Seeded coverage simulations: 95% intervals of each metric kind cover the true lift about 95% of the time.

Four hundred small experiments per kind, run through the summary layer the analysis uses (building a full
ResultSet each time would only add rendering work). With 400 replications the Monte Carlo standard error of a
95% coverage is about 1.1 points, so the bounds below are about three standard errors wide.
"""

from __future__ import annotations

import numpy as np
import pytest

from causalinfer.experiments import Summaries
from causalinfer.experiments import _core as core

REPS = 400
LOW, HIGH = 0.915, 0.98


def _cover(lift, truth):
    return lift.ci_low <= truth <= lift.ci_high


def _run(make, arms, truth_abs, truth_rel, seed, fieller=False):
    rng = np.random.default_rng(seed)
    hits = np.zeros(3)
    for _ in range(REPS):
        s = make(rng)
        a, b = arms(s)
        hits[0] += _cover(core.lift(a, b, relative=False, conf_level=0.95, alternative="two-sided"), truth_abs)
        hits[1] += _cover(core.lift(a, b, relative=True, conf_level=0.95, alternative="two-sided"), truth_rel)
        if fieller:
            lo, hi, _ = core.fieller_relative(a, b, conf_level=0.95, alternative="two-sided")
            hits[2] += lo <= truth_rel <= hi
    return hits / REPS


def _two_arms(y0, y1, **cols):
    """Summaries of two arms straight from numpy (the frame path is tested elsewhere; this keeps 400 runs quick)."""
    names = ["y", *cols]
    v = np.repeat([0, 1], [len(y0), len(y1)])
    X = np.column_stack([np.concatenate([y0, y1]), *cols.values()])
    parts = [X[v == k] for k in (0, 1)]
    return Summaries(
        (0, 1),
        tuple(names),
        [len(p) for p in parts],
        np.array([p.sum(axis=0) for p in parts]),
        np.array([p.T @ p for p in parts]),
    )


def test_mean_and_fieller_coverage():
    def make(rng):
        return _two_arms(rng.gamma(2.0, 2.0, 150), 1.1 * rng.gamma(2.0, 2.0, 170))

    cov = _run(make, lambda s: (core.mean_arm(s, 0, "y"), core.mean_arm(s, 1, "y")), 0.4, 0.1, seed=11, fieller=True)
    assert np.all((cov >= LOW) & (cov <= HIGH)), cov


def test_proportion_coverage():
    def make(rng):
        return _two_arms((rng.uniform(size=300) < 0.2).astype(float), (rng.uniform(size=300) < 0.25).astype(float))

    arms = lambda s: (core.mean_arm(s, 0, "y", proportion=True), core.mean_arm(s, 1, "y", proportion=True))  # noqa: E731
    cov = _run(make, arms, 0.05, 0.25, seed=12)
    assert np.all((cov[:2] >= LOW) & (cov[:2] <= HIGH)), cov


def test_clustered_ratio_coverage():
    """Sessions within users, correlated through a user effect; the ratio is clicks per session."""

    def users(rng, n, rate):
        sessions = 1 + rng.poisson(2.0, n)
        lam = rng.gamma(2.0, rate / 2.0, n)  # heterogeneity between users makes sessions of one user correlated
        clicks = rng.poisson(sessions * lam)
        return clicks.astype(float), sessions.astype(float)

    def make(rng):
        c0, s0 = users(rng, 200, 1.0)
        c1, s1 = users(rng, 200, 1.1)
        return _two_arms(c0, c1, d=np.concatenate([s0, s1]))

    cov = _run(make, lambda s: (core.ratio_arm(s, 0, "y", "d"), core.ratio_arm(s, 1, "y", "d")), 0.1, 0.1, seed=13)
    assert np.all((cov[:2] >= LOW) & (cov[:2] <= HIGH)), cov


@pytest.mark.parametrize("proportion", [False, True], ids=["mean", "proportion"])
def test_cuped_coverage(proportion):
    def make(rng):
        pre = rng.normal(0, 1, 400)
        if proportion:
            y = (rng.uniform(size=400) < 0.3 + 0.15 * np.tanh(pre) + 0.05 * (np.arange(400) >= 200)).astype(float)
        else:
            y = 10 + 2 * pre + rng.normal(0, 1, 400) + 0.5 * (np.arange(400) >= 200)
        return _two_arms(y[:200], y[200:], x=pre)

    arms = lambda s: core.adjusted_arms(s, (0, 1), "y", ("x",), proportion=proportion)[:2]  # noqa: E731
    truth_abs = 0.05 if proportion else 0.5
    truth_rel = truth_abs / 0.3 if proportion else 0.05  # E[y | control] = 0.3 (tanh is odd) or 10
    cov = _run(make, arms, truth_abs, truth_rel, seed=14)
    assert np.all((cov[:2] >= LOW) & (cov[:2] <= HIGH)), cov


@pytest.mark.parametrize("level", [0.5, 0.9])
def test_quantile_coverage(level):
    from scipy import stats

    true0 = float(stats.lognorm.ppf(level, s=0.8, scale=np.exp(2.0)))
    true1 = float(stats.lognorm.ppf(level, s=0.8, scale=np.exp(2.1)))
    rng = np.random.default_rng(15)
    hits = np.zeros(2)
    for _ in range(REPS):
        a = core.quantile_arm(rng.lognormal(2.0, 0.8, 300), level)
        b = core.quantile_arm(rng.lognormal(2.1, 0.8, 300), level)
        hits[0] += _cover(core.lift(a, b, relative=False, conf_level=0.95, alternative="two-sided"), true1 - true0)
        hits[1] += _cover(core.lift(a, b, relative=True, conf_level=0.95, alternative="two-sided"), true1 / true0 - 1)
    cov = hits / REPS
    assert np.all((cov >= LOW) & (cov <= HIGH)), cov
