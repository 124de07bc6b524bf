"""Seeded simulations of the check decisions: level of a gate at its threshold, family-wise false alarms, power."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from causalinfer.predict import check
from causalinfer.predict._check import Rule, finalise, gate_result, proportion_gate

ALPHA = 0.05


def _mc_upper(rate: float, reps: int) -> float:
    """rate + 3 Monte Carlo standard errors."""
    return rate + 3 * math.sqrt(rate * (1 - rate) / reps)


def _binormal(n: int, auc: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores whose population AUC is ``auc`` (normal scores, shift d = sqrt(2) * Phi^-1(auc))."""
    y = rng.integers(0, 2, n)
    d = math.sqrt(2) * stats.norm.ppf(auc)
    s = rng.normal(size=n) + d * y
    return y, 1 / (1 + np.exp(-s))


def _pass_rate(metric: str, reps: int, n: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    passes = 0
    for _ in range(reps):
        if metric == "auc":
            y, p = _binormal(n, 0.8, rng)
        else:  # accuracy 0.8: the prediction is right with probability 0.8
            y = rng.integers(0, 2, n)
            p = np.where(rng.uniform(size=n) < 0.8, y, 1 - y).astype(float)
        rep = check(
            test=pd.DataFrame({"y": y}), label="y", predictions=p, suite=[{"check": "performance", "metric": metric, "at_least": 0.8}]
        )
        passes += rep.status == "pass"
    return passes / reps


@pytest.mark.parametrize("metric", ["accuracy", "auc"])
def test_gate_at_its_threshold_passes_at_most_alpha(metric):
    reps = 200
    rate = _pass_rate(metric, reps, 400, seed=11)
    assert rate <= _mc_upper(ALPHA, reps)


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["accuracy", "auc"])
def test_gate_at_its_threshold_passes_at_most_alpha_long(metric):
    reps = 2000
    rate = _pass_rate(metric, reps, 400, seed=12)
    assert rate <= _mc_upper(ALPHA, reps)


def _family_alarm_rate(reps: int, correction: str | None, seed: int, k: int = 20, n: int = 300) -> float:
    """20 independent gates, each with its true share exactly at the limit (the hardest healthy case)."""
    rng = np.random.default_rng(seed)
    rule = Rule("at_most", high=0.1, what="share")
    alarms = 0
    for _ in range(reps):
        counts = rng.binomial(n, 0.1, size=k)
        results = [
            gate_result(
                proportion_gate(int(c), n, rule, ALPHA), label=f"g{i}", check="performance", data="test", rule=rule, alpha=ALPHA, method="m"
            )
            for i, c in enumerate(counts)
        ]
        alarms += bool(finalise(results, ALPHA, correction, "family").failed)
    return alarms / reps


def test_family_of_20_healthy_checks_false_alarm_rate_is_controlled():
    reps = 300
    holm = _family_alarm_rate(reps, "holm", seed=21)
    assert holm <= _mc_upper(ALPHA, reps)
    unadjusted = _family_alarm_rate(reps, None, seed=21)
    assert unadjusted > 0.3  # without the adjustment, 20 checks raise false alarms most of the time


@pytest.mark.slow
@pytest.mark.parametrize("correction", ["holm", "bh"])
def test_family_of_20_healthy_checks_long(correction):
    # all nulls true: the false-discovery rate equals the family-wise rate, so BH is held to alpha too
    reps = 3000
    assert _family_alarm_rate(reps, correction, seed=22) <= _mc_upper(ALPHA, reps)


def test_family_of_20_checks_through_check_is_controlled():
    """Twenty gates of one suite on one healthy test set (dependent checks), each at its boundary."""
    reps = 60
    rng = np.random.default_rng(31)
    suite = [{"check": "performance", "metric": "accuracy", "at_least": 0.8, "name": f"acc{i}", "threshold": 0.5} for i in range(20)]
    alarms = 0
    for _ in range(reps):
        frames = []
        y = rng.integers(0, 2, 300)
        p = np.where(rng.uniform(size=300) < 0.8, y, 1 - y).astype(float)
        frames.append(pd.DataFrame({"y": y}))
        rep = check(test=frames[0], label="y", predictions=p, suite=suite)
        alarms += bool(rep.failed)
    assert alarms / reps <= _mc_upper(ALPHA, reps)


def test_degraded_model_is_caught_with_the_stated_power():
    """True accuracy 0.77 against the gate "at least 0.80" with 1,000 rows: the stated power is the chance of a fail."""
    reps, n, true_acc = 400, 1000, 0.77
    rng = np.random.default_rng(41)
    fails, stated = 0, []
    for _ in range(reps):
        k = rng.binomial(n, true_acc)
        g = proportion_gate(int(k), n, Rule("at_least", low=0.8), ALPHA)
        r = finalise(
            [gate_result(g, label="acc", check="performance", data="test", rule=Rule("at_least", low=0.8), alpha=ALPHA, method="m")],
            ALPHA,
            "holm",
            "t",
        )[0]
        fails += r.status == "fail"
    se = math.sqrt(true_acc * (1 - true_acc) / n)
    from causalinfer.predict._check import power_and_n

    stated = power_and_n(true_acc, se, n, Rule("at_least", low=0.8), ALPHA)[0]
    rate = fails / reps
    mcse = math.sqrt(stated * (1 - stated) / reps)
    assert abs(rate - stated) < 0.05 + 3 * mcse
    assert rate >= stated - 3 * mcse - 0.05


@pytest.mark.slow
def test_gate_power_matches_the_reported_power_for_auc():
    reps, n = 400, 800
    rng = np.random.default_rng(51)
    fails, ses = 0, []
    for _ in range(reps):
        y, p = _binormal(n, 0.76, rng)
        rep = check(
            test=pd.DataFrame({"y": y}), label="y", predictions=p, suite=[{"check": "performance", "metric": "auc", "at_least": 0.8}]
        )
        fails += rep.status == "fail"
        ses.append(rep[0].std_error)
    from causalinfer.predict._check import power_and_n

    # the power at the true AUC with the typical DeLong standard error
    stated = power_and_n(0.76, float(np.median(ses)), n, Rule("at_least", low=0.8), ALPHA)[0]
    assert abs(fails / reps - stated) < 0.03 + 3 * math.sqrt(stated * (1 - stated) / reps)
