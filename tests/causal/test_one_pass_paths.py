"""The one-pass paths (logistic Newton steps, X'WX, balance sums, shared design) agree with the direct formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalinfer.causal import _design, _diagnostics, _models
from causalinfer.exceptions import DataError


def _data(n=3000, p=4, seed=7):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, p)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 2000.0, -5.0, 1.0]
    a = (rng.uniform(size=n) < 1 / (1 + np.exp(-(Z - Z.mean(0)) / Z.std(0) @ [0.8, -0.5, 0.3, 0.2]))).astype(float)
    return Z, a


def test_weighted_cross_product_is_x_t_w_x():
    Z, a = _data()
    X = _models.Standardizer.of(Z).design(Z)
    w = np.random.default_rng(1).uniform(0.0, 0.25, a.size)
    np.testing.assert_allclose(_models.weighted_cross_product(X, w), X.T @ (X * w[:, None]), rtol=1e-12)


def _reference_logit(X, a):
    """Plain undamped Newton to a 1e-14 step, written out directly."""
    beta = np.zeros(X.shape[1])
    for _ in range(100):
        e = 1 / (1 + np.exp(-(X @ beta)))
        step = np.linalg.solve(X.T @ (X * (e * (1 - e))[:, None]), X.T @ (a - e))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-14:
            return beta
    raise AssertionError("reference did not converge")


def test_damped_newton_reaches_the_mle_and_its_hessian():
    Z, a = _data()
    X = _models.Standardizer.of(Z).design(Z)
    fit = _models.fit_logit(X, a)
    np.testing.assert_allclose(fit.beta, _reference_logit(X, a), rtol=1e-10, atol=1e-12)
    e = 1 / (1 + np.exp(-(X @ fit.beta)))
    np.testing.assert_allclose(fit.hessian(), X.T @ (X * (e * (1 - e))[:, None]), rtol=1e-10)
    G = np.random.default_rng(2).normal(size=(X.shape[1], 2))
    np.testing.assert_allclose(fit.influence_times(a, G), fit.influence(a) @ G, rtol=1e-10, atol=1e-14)


def test_step_halving_rescues_a_far_start():
    Z, a = _data()
    X = np.column_stack([np.ones(a.size), Z])  # unscaled covariates: a full first step from far away overshoots
    fit = _models.fit_logit(X, a, beta0=np.array([40.0, 3.0, -0.2, 30.0, 1.0]))
    ref = _models.fit_logit(X, a)
    np.testing.assert_allclose(fit.beta, ref.beta, rtol=1e-8, atol=1e-10)


def test_balance_table_matches_group_formulas():
    Z, a = _data()
    w = np.random.default_rng(3).uniform(0.5, 3.0, a.size)
    table = _diagnostics.balance_table(Z, ["a", "b", "c", "d"], a, w)
    t, u = a == 1, a == 0
    m1, m0 = Z[t].mean(0), Z[u].mean(0)
    v1, v0 = Z[t].var(0, ddof=1), Z[u].var(0, ddof=1)
    pooled = np.sqrt((v1 + v0) / 2)
    wm1, wm0 = w[t] @ Z[t] / w[t].sum(), w[u] @ Z[u] / w[u].sum()
    wv1 = w[t] @ (Z[t] - wm1) ** 2 / w[t].sum()
    wv0 = w[u] @ (Z[u] - wm0) ** 2 / w[u].sum()
    expected = {
        "mean_treated": m1,
        "mean_control": m0,
        "smd_before": (m1 - m0) / pooled,
        "smd_after": (wm1 - wm0) / pooled,
        "variance_ratio_before": v1 / v0,
        "variance_ratio_after": wv1 / wv0,
    }
    for col, values in expected.items():
        np.testing.assert_allclose(table[col].to_numpy(), values, rtol=1e-10, atol=1e-13, err_msg=col)


def test_balance_table_group_constant_column_has_no_variance_ratio():
    a = np.array([1.0, 1.0, 0.0, 0.0, 0.0])
    Z = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 1.0], [0.0, 5.0], [0.0, 4.0]])
    table = _diagnostics.balance_table(Z, ["d", "x"], a, np.array([2.0, 1.0, 1.0, 3.0, 1.0]))
    assert table["variance_ratio_before"].iloc[0] == 0.0  # treated variance exactly 0, control positive
    assert table["variance_ratio_after"].iloc[0] == 0.0


@pytest.mark.parametrize("scale", [1.0, 1e120], ids=["moderate", "huge"])
def test_shared_design_is_the_propensity_design(scale):
    Z, a = _data(n=500)
    df = pd.DataFrame(Z * [1, 1, 1, scale], columns=["a", "b", "c", "d"]).assign(t=a, y=Z[:, 0] + a)
    cd = _design.prepare(df, outcome="y", treatment="t", covariates=["a", "b", "c", "d"])
    _design.check_covariate_rank(cd)
    std, X = cd.standardized()
    direct = _models.Standardizer.of(cd.Z)
    np.testing.assert_allclose(std.center, direct.center, rtol=1e-14)
    np.testing.assert_allclose(std.scale, direct.scale, rtol=1e-12)
    np.testing.assert_allclose(X, direct.design(cd.Z), rtol=1e-12, atol=1e-12)


def test_shared_design_still_refuses_collinear_covariates():
    Z, a = _data(n=500)
    df = pd.DataFrame(Z, columns=["a", "b", "c", "d"]).assign(e=lambda f: f["a"] + 2 * f["c"], t=a, y=Z[:, 0] + a)
    cd = _design.prepare(df, outcome="y", treatment="t", covariates=["a", "b", "c", "d", "e"])
    with pytest.raises(DataError, match="rank deficient"):
        _design.check_covariate_rank(cd)


def test_newton_passes_in_blocks_give_the_same_fit(monkeypatch):
    # blocks of 257 rows (the last one short) against one block holding every row
    Z, a = _data()
    X = _models.Standardizer.of(Z).design(Z)
    whole = _models.fit_logit(X, a)
    monkeypatch.setattr(_models, "_BLOCK_ROWS", 257)
    blocks = _models.fit_logit(X, a)
    np.testing.assert_allclose(blocks.beta, whole.beta, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(blocks.e, whole.e, rtol=1e-13)
    np.testing.assert_allclose(blocks.hessian(), whole.hessian(), rtol=1e-12)
    np.testing.assert_allclose(blocks.beta, _reference_logit(X, a), rtol=1e-10, atol=1e-12)
    e = 1 / (1 + np.exp(-(X @ blocks.beta)))
    np.testing.assert_allclose(blocks.e, e, rtol=1e-13)
    np.testing.assert_allclose(blocks.hessian(), X.T @ (X * (e * (1 - e))[:, None]), rtol=1e-12)


def test_propensity_histogram_counts_as_with_explicit_edges():
    # values on and next to every bin edge, and the ends 0 and 1: equal-width bins counted directly agree with
    # numpy's search over the explicit edges
    edges = np.linspace(0.0, 1.0, 21)
    near = np.concatenate([edges, np.nextafter(edges, -1.0), np.nextafter(edges, 2.0)])
    e = np.clip(np.concatenate([near, np.random.default_rng(4).uniform(size=500)]), 0.0, 1.0)
    a = (np.arange(e.size) % 3 == 0).astype(float)
    hist = _diagnostics.propensity_histogram(e, a)
    np.testing.assert_array_equal(hist["treated"], np.histogram(e[a == 1], edges)[0])
    np.testing.assert_array_equal(hist["control"], np.histogram(e[a == 0], edges)[0])
    np.testing.assert_array_equal(hist["bin_low"], edges[:-1])


def test_overlap_summaries_from_shared_groups_equal_their_own():
    Z, a = _data()
    e = 1 / (1 + np.exp(-(Z - Z.mean(0)) / Z.std(0) @ [0.8, -0.5, 0.3, 0.2]))
    w = np.where(a == 1, 1 / e, 1 / (1 - e))
    groups = _diagnostics.split_groups(e, a, w)
    pd.testing.assert_frame_equal(_diagnostics.overlap_table(e, a, w, groups), _diagnostics.overlap_table(e, a, w))
    pd.testing.assert_frame_equal(_diagnostics.propensity_histogram(e, a, groups=groups), _diagnostics.propensity_histogram(e, a))
    shared = _diagnostics.overlap_diagnostics(e, a, w, "ATE", groups)
    assert [(d.name, d.status, d.value, d.message) for d in shared] == [
        (d.name, d.status, d.value, d.message) for d in _diagnostics.overlap_diagnostics(e, a, w, "ATE")
    ]
    table = _diagnostics.overlap_table(e, a, w)
    for label, row in zip(("treated", "control"), table.itertuples(), strict=True):
        mask = a == (1 if label == "treated" else 0)
        assert row.effective_sample_size == w[mask].sum() ** 2 / (w[mask] @ w[mask])
        assert row.propensity_q01 == np.quantile(e[mask], 0.01)


def _frame(n=4000, seed=11):
    Z, a = _data(n=n, seed=seed)
    y = Z @ [0.5, 0.01, -2.0, 0.3] + 1.5 * a + np.random.default_rng(seed).normal(size=n)
    return Z, a, y


@pytest.mark.parametrize("estimand", ["ATE", "ATT", "ATC"])
@pytest.mark.parametrize("normalize", [True, False])
def test_ipw_influence_function_equals_the_two_arm_formula(estimand, normalize):
    # the correction for the estimated propensity, written out arm by arm with the n x p influence matrix
    from causalinfer.causal import _core

    Z, a, y = _frame()
    spec = _core.Spec("ipw", estimand=estimand, normalize=normalize, clip=0.05)
    fit = _core.ipw(y, a, Z, spec)
    e, lf = fit.e, fit.logit
    clipped = (lf.e < 0.05) | (lf.e > 0.95)
    w, dw = _core.weights_and_slope(a, e, estimand)
    c = _core.target(a, estimand)
    n = y.size
    if normalize:
        s1, s0 = (w * a).sum(), (w * (1 - a)).sum()
        r1, r0 = a * (y - fit.mu1), (1 - a) * (y - fit.mu0)
        g1, g0, d1, d0 = w * r1, w * r0, s1 / n, s0 / n
    else:
        r1, r0 = a * y, (1 - a) * y
        g1, g0 = w * r1 - c * fit.mu1, w * r0 - c * fit.mu0
        d1 = d0 = c.sum() / n
    slope = dw * e * (1 - e) * (~clipped)
    G = lf.X.T @ np.column_stack([r1 * slope, r0 * slope]) / n
    corr = lf.influence(a) @ G
    np.testing.assert_allclose(fit.phi, (g1 + corr[:, 0]) / d1 - (g0 + corr[:, 1]) / d0, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
@pytest.mark.parametrize("inter", [None, (1, 3), ()], ids=["all", "some", "none"])
def test_regression_adjustment_equals_the_two_design_formula(estimand, inter):
    from causalinfer.causal import _core

    Z, a, y = _frame()
    spec = _core.Spec("regression", estimand=estimand, interactions=inter)
    fit = _core.regression(y, a, Z, spec)
    n = y.size
    cols = tuple(range(Z.shape[1])) if inter is None else inter
    X = _core.outcome_design(a, Z, cols)
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    X1, X0 = _core.outcome_design(np.ones(n), Z, cols), _core.outcome_design(np.zeros(n), Z, cols)
    c = _core.target(a, estimand)
    m1, m0 = X1 @ coef, X0 @ coef
    est = c @ (m1 - m0) / c.sum()
    bread = np.linalg.inv(X.T @ X / n)
    infl = (X * (y - X @ coef)[:, None]) @ bread.T
    phi = (c * (m1 - m0 - est) + infl @ (c[:, None] * (X1 - X0)).mean(axis=0)) / (c.sum() / n)
    assert fit.estimate == pytest.approx(est, rel=1e-10)
    np.testing.assert_allclose(fit.phi, phi, rtol=1e-8, atol=1e-10)


def test_aipw_on_the_shared_design_equals_its_own_design():
    from causalinfer.causal import _core

    Z, a, y = _frame()
    std = _models.Standardizer.of(Z)
    spec = _core.Spec("aipw")
    shared = _core.aipw(y, a, Z, spec, warm=_core.Warm(std=std, X=std.design(Z)))
    own = _core.aipw(y, a, Z, spec)
    assert shared.estimate == pytest.approx(own.estimate, rel=1e-12)
    np.testing.assert_allclose(shared.phi, own.phi, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(shared.e, own.e, rtol=1e-12)


@pytest.mark.parametrize("case", ["full", "collinear", "constant", "huge"])
def test_rank_check_by_blocks_decides_as_the_whole_design(case, monkeypatch):
    from causalinfer.causal import _core

    monkeypatch.setattr(_models, "_BLOCK_ROWS", 300)
    Z, a, _ = _frame(n=1000)
    if case == "collinear":
        Z = np.column_stack([Z, 2.0 * Z[:, 0] - Z[:, 2]])
    elif case == "constant":
        Z = np.column_stack([Z, np.full(a.size, 0.1)])
    elif case == "huge":
        Z = Z * [1.0, 1e120, 1.0, 1.0]
    inter = (0, 2)
    names = ("(intercept)", "t", *[f"z{j}" for j in range(Z.shape[1])], "t:z0", "t:z2")
    whole = _core.outcome_design(a, Z, inter)

    def outcome(check):
        try:
            check()
        except DataError as exc:
            return str(exc)
        return None

    expected = outcome(lambda: _design.check_rank(whole, names, "outcome model"))
    got = outcome(
        lambda: _design.check_rank_by_blocks(lambda sl: _core.outcome_design(a[sl], Z[sl], inter), a.size, names, "outcome model")
    )
    assert got == expected
    assert (expected is None) == (case in ("full", "huge"))


def test_block_loops_restore_the_blas_thread_count():
    from threadpoolctl import threadpool_info

    def threads():
        return [(lib["filepath"], lib["num_threads"]) for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = threads()
    Z, a = _data()
    X = _models.Standardizer.of(Z).design(Z)
    _models.fit_logit(X, a)
    _models.t_times(X, a)
    assert threads() == before
