"""Matching with replacement on continuous covariates: bias-corrected by default, with intervals that cover."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci

TRUE_ATT = 1.0


def _simulate(seed, n=150):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    a = rng.binomial(1, 1 / (1 + np.exp(-(x[:, 0] + 0.5 * x[:, 1]))))
    y = 2.0 * x[:, 0] + x[:, 1] + TRUE_ATT * a + rng.normal(size=n)
    return pd.DataFrame({"y": y, "a": a, "x1": x[:, 0], "x2": x[:, 1]})


def _runs(n_sims, **options):
    est, covered = [], []
    for seed in range(n_sims):
        r = ci.causal.matching(_simulate(seed), outcome="y", treatment="a", covariates=["x1", "x2"], estimand="ATT", **options)
        est.append(r.estimate)
        covered.append(r.ci_low <= TRUE_ATT <= r.ci_high)
    return np.mean(est) - TRUE_ATT, np.mean(covered), r


def test_default_mahalanobis_att_is_bias_corrected_and_covers():
    bias, coverage, r = _runs(120)
    # 120 draws of a 95% interval: observed coverage lies in [0.89, 0.99] with probability ~0.99
    assert 0.89 <= coverage <= 0.99
    assert abs(bias) < 0.05
    assert "bias-corrected (Abadie-Imbens regression adjustment)" in r.method
    assert all(d.name != "bias correction" for d in r.diagnostics)


def test_without_bias_correction_the_bias_shows_and_is_flagged():
    bias, _coverage, r = _runs(60, bias_adjust=False)
    assert bias > 0.1  # the bias the correction removes
    assert "without bias correction" in r.method
    (diag,) = [d for d in r.diagnostics if d.name == "bias correction"]
    assert diag.status == "warn"
    assert "x1" in diag.message


def test_binary_covariates_need_no_warning():
    df = _simulate(0).assign(x1=lambda d: (d["x1"] > 0).astype(int), x2=lambda d: (d["x2"] > 0).astype(int))
    r = ci.causal.matching(df, outcome="y", treatment="a", covariates=["x1", "x2"], bias_adjust=False)
    assert all(d.name != "bias correction" for d in r.diagnostics)
    with pytest.raises(ci.ArgumentTypeError, match="bias_adjust"):
        ci.causal.matching(df, outcome="y", treatment="a", covariates=["x1", "x2"], bias_adjust="yes")
