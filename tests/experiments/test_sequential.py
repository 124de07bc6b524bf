"""Always-valid inference under continuous monitoring: peeking after every 100 units per arm keeps the false-positive
rate of the mixture SPRT at or below alpha, while the fixed-sample test peeked at as often does not."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer import experiments as ex
from causalinfer._testing import check_result
from causalinfer.experiments import _core as core


def _arm(s, s2, n):
    mean = s / n
    return core.Arm(n, mean, (s2 - s * s / n) / (n - 1), mean)


def test_peeking_false_positive_rate():
    rng = np.random.default_rng(2024)
    reps, per_arm, step = 300, 2000, 100
    y = rng.exponential(1.0, size=(reps, 2, per_arm))  # A/A: skewed metric, no effect
    looks = np.arange(step, per_arm + 1, step)
    s = np.cumsum(y, axis=2)[:, :, looks - 1]
    s2 = np.cumsum(y * y, axis=2)[:, :, looks - 1]
    naive = np.zeros(reps, bool)
    always = np.zeros(reps, bool)
    for r in range(reps):
        for j, n in enumerate(looks):
            a, b = _arm(s[r, 0, j], s2[r, 0, j], float(n)), _arm(s[r, 1, j], s2[r, 1, j], float(n))
            kw = dict(relative=False, conf_level=0.95, alternative="two-sided")
            naive[r] |= core.lift(a, b, **kw).pvalue < 0.05
            always[r] |= core.mixture_sequential(a, b, tuning=2 * per_arm, **kw).pvalue < 0.05
    # naive peeking at 20 looks rejects a true null far more often than 5%; the confidence sequence does not
    print(f"false-positive rate over 20 looks: naive {naive.mean():.3f}, always-valid {always.mean():.3f}")
    assert naive.mean() > 0.15
    assert always.mean() <= 0.05
    # and the final look alone is a level-0.05 test either way (sanity)
    assert naive.mean() > always.mean()


def test_sequential_results_say_so_and_refuse_fixed_sample_options():
    rng = np.random.default_rng(0)
    f = pd.DataFrame({"variant": np.repeat(["control", "b"], 300), "y": rng.gamma(2.0, 2.0, 600)})
    fixed = ex.analyze(f, control="control", metrics=["y"])["y: b"]
    seq = ex.analyze(f, control="control", metrics=["y"], sequential="mixture")["y: b"]
    assert seq.estimate == fixed.estimate
    assert seq.ci_low < fixed.ci_low and seq.ci_high > fixed.ci_high  # the price of looking at any time
    assert seq.pvalue >= fixed.pvalue
    assert "mixture SPRT" in seq.method and "look at 600 units" in seq.method
    with pytest.raises(ci.ArgumentError, match="`sequential` must be one of"):
        ex.analyze(f, control="control", metrics=["y"], sequential="obf")
    with pytest.raises(ci.ArgumentError, match="fixed-sample"):
        ex.analyze(f, control="control", metrics=["y"], sequential="mixture", relative_interval="fieller")
    with pytest.raises(ci.ArgumentError, match="`sequential_tuning` must be a finite number > 0"):
        ex.analyze(f, control="control", metrics=["y"], sequential="mixture", sequential_tuning=0)
    g = ex.analyze(f, control="control", metrics=[ex.mean("y", role="guardrail", margin=0.1)], sequential="mixture")["y: b"]
    assert g.alternative == "greater" and np.isinf(g.ci_high)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_result(g)
