"""Wild cluster bootstrap: against wildboottest under full enumeration, FE fits, size with few clusters, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference_data import load_reference

import causalinfer as ci
from causalinfer._testing import check_result
from causalinfer.exceptions import CausalInferError

REF = load_reference("fixed_effects_pyfixest")


def _frame(case: dict) -> pd.DataFrame:
    return pd.DataFrame({"x": case["x"], "y": case["y"], "g": case["cluster"]})


@pytest.mark.parametrize("case", REF["wild"], ids=[c["name"] for c in REF["wild"]])
def test_enumerated_pvalue_matches_wildboottest(case: dict) -> None:
    df = _frame(case)
    fit = ci.stats.ols("y ~ x", data=df, cov_type="cluster", cluster="g")
    r = ci.stats.wild_cluster_bootstrap(fit, "x", data=df, cluster="g", impose_null=case["impose_null"], n_resamples=99999)
    assert r.details["enumerated"] and r.details["n_resamples"] == case["n_draws"] == 2 ** case["G"]
    # exact: the draws beyond |t| plus the exact ties (the all-ones draw under WCR), which we always count
    assert r.pvalue == (case["n_exceed_strict"] + case["n_ties"]) / case["n_draws"]
    if case["n_ties"] == 0 or case["pvalue"] * case["n_draws"] == case["n_exceed_strict"] + case["n_ties"]:
        assert r.pvalue == case["pvalue"]
    np.testing.assert_allclose(r.statistic, case["statistic"], rtol=1e-9)
    assert r.details["n_clusters"] == case["G"]


def test_interval_inverts_the_test() -> None:
    df = _frame(REF["wild"][3])
    fit = ci.stats.ols("y ~ x", data=df, cov_type="cluster", cluster="g")
    r = ci.stats.wild_cluster_bootstrap(fit, "x", data=df, cluster="g")
    assert r.ci_low < r.estimate < r.ci_high
    eps = 1e-6 * (r.ci_high - r.ci_low)
    inside = [
        ci.stats.wild_cluster_bootstrap(fit, "x", data=df, cluster="g", null_value=v).pvalue for v in (r.ci_low + eps, r.ci_high - eps)
    ]
    outside = [
        ci.stats.wild_cluster_bootstrap(fit, "x", data=df, cluster="g", null_value=v).pvalue for v in (r.ci_low - eps, r.ci_high + eps)
    ]
    assert min(inside) > 0.05 >= max(outside)
    r90 = ci.stats.wild_cluster_bootstrap(fit, "x", data=df, cluster="g", conf_level=0.9)
    assert r.ci_low <= r90.ci_low and r90.ci_high <= r.ci_high
    check_result(r)


def test_fixed_effects_fit_carries_its_clusters() -> None:
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(9), 30)
    df = pd.DataFrame({"g": g, "t": np.tile(np.arange(6), 45), "x": rng.normal(size=270)})
    df["y"] = 0.2 * df.x + rng.normal(size=9)[g] + rng.normal(size=270)
    fit = ci.stats.ols("y ~ x | g + t", data=df, cov_type="cluster", cluster="g", cluster_df="G-1")
    r = ci.stats.wild_cluster_bootstrap(fit, "x")
    assert r.details["enumerated"] and r.details["n_clusters"] == 9
    nesting = [d for d in r.diagnostics if d.name == "fixed effects and clusters"]
    assert nesting[0].status == "warn" and "['t']" in nesting[0].message  # period effects cut across the clusters
    np.testing.assert_allclose(r.statistic, fit.to_frame().statistic.iloc[0], rtol=1e-10)
    # unrestricted equals the restricted one at the estimate's own t when testing through a linear combination
    rc = ci.stats.wild_cluster_bootstrap(fit, {"x": 2.0}, null_value=0.0)
    assert rc.pvalue == r.pvalue


def test_seeded_webb_draws_are_reproducible() -> None:
    df = _frame(REF["wild"][4])
    fit = ci.stats.ols("y ~ x", data=df, cov_type="cluster", cluster="g")
    a = ci.stats.wild_cluster_bootstrap(fit, "x", data=df, cluster="g", weights_type="webb", n_resamples=999, random_state=3)
    b = ci.stats.wild_cluster_bootstrap(fit, "x", data=df, cluster="g", weights_type="webb", n_resamples=999, random_state=3)
    assert not a.details["enumerated"] and a.pvalue == b.pvalue and a.ci_low == b.ci_low


def _size(n_sims: int, seed: int, clusters: tuple[int, ...]) -> float:
    """Rejection rate at 5% of the restricted bootstrap under a true null (the array layer, for speed)."""
    from types import SimpleNamespace

    from causalinfer.stats._wild import _problem, _Tester, _weights

    rng = np.random.default_rng(seed)
    rejections = 0
    for s in range(n_sims):
        G = clusters[s % len(clusters)]
        g = np.repeat(np.arange(G), 20)
        x = rng.normal(size=g.size) + rng.normal(size=G)[g]
        y = rng.normal(size=G)[g] + rng.normal(size=g.size)  # the null is true: no effect of x
        d = SimpleNamespace(X=np.column_stack([np.ones(g.size), x]), y=y, weights=None, clusters=[g], n_params=2)
        prob = _problem(d, np.array([0.0, 1.0]), True)
        V, _ = _weights(G, "rademacher", 399, rng)
        rejections += _Tester(prob, V).pvalue(prob.estimate) <= 0.05
    return rejections / n_sims


def test_size_with_few_clusters() -> None:
    # 6-12 clusters, WCR: rejection rate near 5% (binomial sd with 1000 runs is 0.7 points)
    assert 0.025 <= _size(1000, 1, (6, 8, 10, 12)) <= 0.075


@pytest.mark.slow
def test_size_with_few_clusters_long() -> None:
    assert 0.04 <= _size(20000, 2, (6, 8, 10, 12)) <= 0.06


def test_fewer_than_two_clusters() -> None:
    df = _frame(REF["wild"][0]).assign(one=0)
    fit = ci.stats.ols("y ~ x", data=df)
    with pytest.raises(CausalInferError, match=r"`cluster` 'one' has a single value \(0\)"):
        ci.stats.wild_cluster_bootstrap(fit, "x", data=df, cluster="one")


def test_unknown_parameter() -> None:
    df = _frame(REF["wild"][0])
    fit = ci.stats.ols("y ~ x", data=df, cov_type="cluster", cluster="g")
    with pytest.raises(CausalInferError, match=r"`param` names 'z', which is not a coefficient"):
        ci.stats.wild_cluster_bootstrap(fit, "z", data=df, cluster="g")


def test_plain_fit_needs_data_and_cluster() -> None:
    df = _frame(REF["wild"][0])
    fit = ci.stats.ols("y ~ x", data=df, cov_type="cluster", cluster="g")
    with pytest.raises(CausalInferError, match=r"pass the formula fit's data= and cluster="):
        ci.stats.wild_cluster_bootstrap(fit, "x")


@pytest.mark.parametrize("case", REF["wild_fe"], ids=[c["name"] for c in REF["wild_fe"]])
def test_fixed_effects_nested_in_clusters_match_pyfixest(case: dict) -> None:
    # pyfixest refits with dummies; with the fixed effects nested in the clusters demeaning first is the same model.
    # Under WCR the all-ones draw ties with t: we count both sign-flipped ties, wildboottest's rounding may not.
    df = pd.DataFrame(case["data"])
    fit = ci.stats.ols("y ~ x | g", data=df, cov_type="cluster", cluster="g")
    r = ci.stats.wild_cluster_bootstrap(fit, "x", impose_null=case["impose_null"], n_resamples=99999)
    extra = round((r.pvalue - case["pvalue"]) * case["n_draws"])
    assert extra in ((0, 2) if case["impose_null"] else (0,))
    assert not any(d.name == "fixed effects and clusters" and d.status == "warn" for d in r.diagnostics)
