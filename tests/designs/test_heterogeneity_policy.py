"""Heterogeneity tests (BLP, GATES, CLAN, calibration, RATE) and policy learning (value, depth-2 trees, budget)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from causalinfer._testing import check_result
from causalinfer.designs import DRLearner, heterogeneity_test, policy_tree, policy_value
from causalinfer.designs._heterogeneity import (
    _hc,
    blp,
    blp_by_fold,
    calibration,
    fold_ranks,
    gates,
    heterogeneity_by_fold,
    rate,
    rate_curve,
)
from causalinfer.designs._policy import _best_tree, _candidates, tree_actions
from causalinfer.exceptions import ArgumentError, CausalInferError, DataError, RoleError

LIN = LinearRegression()
KW = dict(outcome="y", treatment="t", covariates=["a", "b", "c"], outcome_model=LIN, n_folds=2)


def simulate(n=1000, seed=0, hetero=1.0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    t = (rng.random(n) < 1 / (1 + np.exp(-0.5 * X["a"]))).astype(int)
    tau = 0.2 + hetero * X["b"].to_numpy()
    y = X["a"] + X["c"] + t * tau + rng.normal(size=n)
    return X.assign(y=y, t=t), tau


def test_heterogeneity_found_and_reported():
    df, _ = simulate()
    r = heterogeneity_test(df, model=DRLearner(LIN, n_folds=2), n_boot=50, **KW)
    check_result(r)
    terms = r.terms.set_index("term")
    assert r.pvalue < 1e-6 and 0.7 < r.estimate < 1.3
    assert terms.loc["calibration_differential", "pvalue"] < 1e-6
    assert terms.loc["autoc", "ci_low"] > 0 and terms.loc["qini", "ci_low"] > 0
    gates = r.details["gates"]["effect"].to_numpy()
    assert np.all(np.diff(gates) > 0)
    clan = r.details["clan"].set_index("covariate")
    assert clan.loc["b", "difference"] > 2 and clan.loc["b", "pvalue"] < 1e-6


def test_blp_matches_statsmodels_hc1():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(3)
    s, phi = rng.normal(size=300), rng.normal(size=300)
    coef, cov = blp(phi, s)
    ref = sm.OLS(phi, sm.add_constant(s - s.mean())).fit(cov_type="HC1")
    np.testing.assert_allclose(coef, ref.params, rtol=1e-9)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), ref.bse, rtol=1e-9)


def test_rate_by_hand():
    phi = np.array([3.0, -1.0, 2.0, 0.0])
    s = np.array([0.9, 0.1, 0.5, 0.3])  # order: 3, 2, 0, -1
    q, toc, autoc, qini = rate_curve(phi, s)
    means = np.array([3.0, 2.5, 5 / 3, 1.0]) - 1.0
    np.testing.assert_allclose(toc, means)
    np.testing.assert_allclose(q, [0.25, 0.5, 0.75, 1.0])
    assert autoc == pytest.approx(means.mean()) and qini == pytest.approx(np.mean(q * means))


def test_policy_value_and_rule_column():
    df, tau = simulate()
    r = policy_value(df, **KW)
    check_result(r)
    truth = np.mean(np.maximum(tau, 0))
    assert abs(r.estimate - truth) < 3 * r.std_error
    fixed = policy_value(df.assign(rule=(df["b"] > -0.2).astype(int)), rule="rule", **KW)
    assert fixed.details["share_treated"] == pytest.approx(np.mean(df["b"] > -0.2))
    with pytest.raises(ArgumentError, match="`rule` column 'y' must hold 0/1"):
        policy_value(df, rule="y", **KW)


def test_policy_tree_finds_the_split_and_keeps_the_budget():
    df, _ = simulate(n=500)
    r = policy_tree(df, max_splits=8, **KW)
    check_result(r)
    assert "b" in r.details["tree_text"]
    assert 0.3 < r.details["share_treated"] < 0.7
    rb = policy_tree(df, max_splits=8, budget=0.2, **KW)
    assert rb.details["share_treated"] <= 0.2
    assert rb.details["penalty"] > 0


def test_exhaustive_tree_on_an_xor_pattern():
    """A greedy tree cannot see an XOR (no single split helps); the exhaustive depth-2 search finds it."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(400, 2))
    r = np.where((x[:, 0] > 0) == (x[:, 1] > 0), 1.0, -1.0)
    val, tree = _best_tree(x, r, _candidates(x, 20), 5)
    assert np.mean(tree_actions(tree, x) == (r > 0)) > 0.95
    assert val == pytest.approx(np.sum(r > 0), rel=0.05)


def test_bad_input():
    df, _ = simulate(n=200)
    with pytest.raises(ArgumentError, match=r"`budget`.*more than the whole population"):
        policy_tree(df, budget=1.5, **KW)
    with pytest.raises(RoleError, match="binary"):
        policy_value(df.assign(t=df["t"] * 2 + (df.index % 3 == 0)), **KW)
    with pytest.raises(DataError, match="min_leaf"):
        policy_tree(df.head(30), min_leaf=20, **KW)
    with pytest.raises(CausalInferError, match="model"):
        heterogeneity_test(df, model=LIN, **KW)
    with pytest.raises(DataError, match="constant"):
        blp(np.ones(5), np.zeros(5))


def _cross_fitted_blp(seed, hetero, k=5, n=400, by_fold=True):
    # DR scores with known nuisances and a linear CATE model fitted on the other folds' scores, as in
    # heterogeneity_test: the proxy of a fold depends on the other folds' outcomes
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    phi = 0.5 + hetero * x[:, 0] + rng.normal(scale=2.0, size=n)
    folds = np.arange(n) % k
    design = np.column_stack([np.ones(n), x])
    s = np.empty(n)
    for f in range(k):
        coef = np.linalg.lstsq(design[folds != f], phi[folds != f], rcond=None)[0]
        s[folds == f] = design[folds == f] @ coef
    if by_fold:
        r = blp_by_fold(phi, s, folds, 0.95)
        return r["estimate"], r["pvalue"] < 0.05
    coef, cov = blp(phi, s, None)
    return coef[1], abs(coef[1]) / np.sqrt(cov[1, 1]) > 1.959964


def test_blp_slope_test_size_and_power_with_cross_fitted_proxies():
    # pooling folds, the slope leaned negative and the test over-rejected without heterogeneity; fold by fold,
    # combined by the median (Chernozhukov, Demirer, Duflo & Fernandez-Val), the test keeps its level
    pooled = np.array([_cross_fitted_blp(s, 0.0, by_fold=False) for s in range(300)])
    assert np.median(pooled[:, 0]) < -0.3 and pooled[:, 1].mean() > 0.15, (np.median(pooled[:, 0]), pooled[:, 1].mean())
    null = np.array([_cross_fitted_blp(s, 0.0) for s in range(300)])
    assert null[:, 1].mean() <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 300), null[:, 1].mean()
    power = np.mean([_cross_fitted_blp(s, 0.8, k=2)[1] for s in range(100)])
    assert power > 0.9, power


def test_gates_and_calibration_within_folds():
    rng = np.random.default_rng(5)
    s, phi, folds = rng.normal(size=200), rng.normal(size=200), np.repeat([0, 1], 100)
    shifted = s + np.where(folds == 1, 10.0, 0.0)  # a level shift between folds changes nothing within folds
    np.testing.assert_allclose(blp(phi, shifted, folds)[0][1], blp(phi, s, folds)[0][1], rtol=1e-9)
    g = gates(phi, shifted, 4, folds)[2]
    assert all(np.bincount(g[folds == f], minlength=4).tolist() == [25] * 4 for f in (0, 1))
    w = rng.normal(size=200)
    dev = s - np.where(folds == 1, s[100:].mean(), s[:100].mean())
    np.testing.assert_allclose(
        calibration(phi, w, shifted, folds)[0], _hc(phi, np.column_stack([(shifted - dev) * w, dev * w]))[0], rtol=1e-9
    )


@pytest.mark.slow
def test_policy_value_interval_coverage():
    hits = []
    for seed in range(100):
        df, tau = simulate(n=600, seed=seed)
        rule = (df["b"] > 0).astype(int)
        r = policy_value(df.assign(rule=rule), rule="rule", random_state=seed, **KW)
        truth = np.mean(rule * tau)
        hits.append(r.ci_low <= truth <= r.ci_high)
    assert 0.88 <= np.mean(hits) <= 0.99, np.mean(hits)


def test_plots_draw():
    import matplotlib

    matplotlib.use("Agg")
    from causalinfer.designs import plot_cate, plot_gates, plot_policy_tree, plot_toc

    df, _ = simulate(n=400)
    het = heterogeneity_test(df, model=DRLearner(LIN, n_folds=2), n_boot=20, n_groups=3, **KW)
    tree = policy_tree(df, max_splits=6, **KW)
    X = df[["a", "b", "c"]]
    effects = DRLearner(LIN, n_folds=2).fit(X, df["y"], df["t"]).effect_frame(X)
    for ax in (plot_cate(effects), plot_gates(het), plot_toc(het), plot_policy_tree(tree)):
        assert ax.get_title()
    with pytest.raises(CausalInferError, match="policy_tree"):
        plot_policy_tree(het)
    with pytest.raises(ArgumentError, match="effect, ci_low and ci_high"):
        plot_cate(effects.drop(columns="ci_low"))


def test_compare_targeting_paired():
    from causalinfer.designs import SLearner, compare_targeting

    df, _ = simulate(n=800)
    r = compare_targeting(df, model_a=DRLearner(LIN, n_folds=2), model_b=SLearner(LIN, n_folds=2), n_boot=50, **KW)
    check_result(r)
    terms = r.terms.set_index("term")
    assert r.estimate > 0 and r.pvalue < 0.01  # a linear S-learner ranks no better than chance
    assert terms.loc["qini_difference", "std_error"] < terms.loc["qini_a", "std_error"] + terms.loc["qini_b", "std_error"]
    curves = r.details["curves"]
    assert set(curves["model"]) == {"a", "b"} and (curves["toc_low"] <= curves["toc_high"]).all()
    with pytest.raises(CausalInferError, match="model_b"):
        compare_targeting(df, model_b=LIN, **KW)


def _cross_fitted_scores(seed, hetero, n=400, k=5):
    # known nuisances, AIPW scores and a linear CATE model fitted on the other folds' scores (as heterogeneity_test)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    t = (rng.random(n) < 0.5).astype(float)
    tau = 0.5 + hetero * x[:, 1]
    y = x[:, 0] + t * tau + rng.normal(size=n)
    phi = tau + t * (y - x[:, 0] - tau) / 0.5 - (1 - t) * (y - x[:, 0]) / 0.5
    folds = np.arange(n) % k
    design = np.column_stack([np.ones(n), x])
    s = np.empty(n)
    for f in range(k):
        coef = np.linalg.lstsq(design[folds != f], phi[folds != f], rcond=None)[0]
        s[folds == f] = design[folds == f] @ coef
    return phi, s, y - x[:, 0] - 0.5 * tau, t - 0.5, folds


def _pooled_rejections(phi, s, y_res, w_res, folds, rng):
    g, cov, _ = gates(phi, s, 4, folds)
    c, v = calibration(y_res, w_res, s, folds)
    r = rate(phi, fold_ranks(s, folds), 20, rng)
    z = [(g[-1] - g[0]) / np.sqrt(cov[-1, -1] + cov[0, 0] - 2 * cov[0, -1]), r["autoc"] / r["se"][0]]
    return [abs(z[0]) > 1.96, c[1] / np.sqrt(v[1, 1]) > 1.645, abs(z[1]) > 1.96]


def test_gates_calibration_and_rate_tests_keep_their_size_fold_by_fold():
    # pooled over folds, GATES top minus bottom, the calibration test and RATE over-rejected without
    # heterogeneity (the proxy of a fold depends on the other folds' outcomes); fold by fold, combined by the
    # median, they keep their level
    reps, band = 100, 0.05 + 3 * np.sqrt(0.05 * 0.95 / 100)
    names = ["gates_top_minus_bottom", "calibration_differential", "autoc", "qini"]
    pooled, by_fold = [], []
    for seed in range(reps):
        rng = np.random.default_rng(seed)
        data = _cross_fitted_scores(seed, 0.0)
        pooled.append(_pooled_rejections(*data, rng))
        res = heterogeneity_by_fold(*data, 4, 20, rng, 0.95)
        by_fold.append([res[k]["pvalue"] < 0.05 for k in names])
    pooled_rate, size = np.mean(pooled, axis=0), np.mean(by_fold, axis=0)
    assert pooled_rate[0] > band and pooled_rate[2] > band, pooled_rate
    assert np.all(size <= band), size
    power = np.mean([[heterogeneity_by_fold(*_cross_fitted_scores(s, 1.0), 4, 20, np.random.default_rng(s), 0.95)[k]["pvalue"] < 0.05
                      for k in names] for s in range(20)], axis=0)  # fmt: skip
    assert np.all(power > 0.8), power
