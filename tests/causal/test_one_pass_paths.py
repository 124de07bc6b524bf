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
