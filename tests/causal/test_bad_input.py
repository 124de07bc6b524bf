"""Bad input gets a clear CausalInferError (or an assumption warning in the diagnostics), never a silent number."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_result


def _df(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    a = rng.binomial(1, 1 / (1 + np.exp(-x)))
    return pd.DataFrame({"y": x + a + rng.normal(size=n), "a": a, "x": x, "w": rng.normal(size=n), "cl": np.arange(n) % 5})


ROLES = dict(outcome="y", treatment="a", covariates=["x"])


def test_treatment_levels():
    df = _df()
    with pytest.raises(ci.RoleError, match="only one level"):
        ci.causal.ipw(df.assign(a=1), **ROLES)
    with pytest.raises(ci.RoleError, match="3 levels"):
        ci.causal.aipw(df.assign(a=df["a"] + (df["x"] > 1)), **ROLES)
    with pytest.raises(ci.RoleError, match="treated_level"):
        ci.causal.ipw(df.assign(a=np.where(df["a"] == 1, "yes", "no")), **ROLES)
    with pytest.raises(ci.RoleError, match="at least 2"):
        ci.causal.ipw(df.assign(a=(np.arange(len(df)) == 0).astype(int)), **ROLES)


def test_no_overlap_and_separation():
    df = _df()
    sep = df.assign(a=(df["x"] > 0).astype(int))
    for method in ("ipw", "aipw", "dml"):
        with pytest.raises(ci.DataError, match="perfect separation"):
            ci.causal.estimate_effect(sep, method=method, **ROLES)
    # regression adjustment extrapolates; the diagnostics say overlap failed instead of staying silent
    r = ci.causal.regression_adjustment(sep, **ROLES)
    assert r.diagnostic("overlap").status == "fail"
    # near-violation: extreme propensities are flagged with a warning
    rng = np.random.default_rng(1)
    x = rng.normal(size=2000)
    a = rng.binomial(1, 1 / (1 + np.exp(-4 * x)))
    r = ci.causal.ipw(pd.DataFrame({"y": x + a + rng.normal(size=2000), "a": a, "x": x}), **ROLES)
    assert r.diagnostic("overlap").status in ("warn", "fail")
    assert "trim" in r.diagnostic("overlap").message


def test_covariate_copy_of_treatment_and_collinearity():
    df = _df()
    with pytest.raises(ci.RoleError, match="copy of the treatment"):
        ci.causal.ipw(df.assign(t2=1 - df["a"]), outcome="y", treatment="a", covariates=["x", "t2"])
    with pytest.raises(ci.DataError, match="rank deficient"):
        ci.causal.aipw(df.assign(x2=2 * df["x"] + 1), outcome="y", treatment="a", covariates=["x", "x2"])


def test_clusters():
    df = _df()
    r = ci.causal.ipw(df, cluster="cl", **ROLES)
    assert r.diagnostic("clusters").status == "warn"
    assert "fewer than 20" in r.diagnostic("clusters").message
    with pytest.raises(ci.DataError, match="single cluster"):
        ci.causal.ipw(df.assign(cl=1), cluster="cl", **ROLES)


def test_graph_problems():
    df = _df()
    with pytest.raises(ci.IdentificationError, match="cycle"):
        ci.causal.identify_effect(df, graph="digraph { x -> a; a -> x; a -> y }", **{"treatment": "a", "outcome": "y"})
    with pytest.raises(ci.RoleError, match="not columns"):
        ci.causal.identify_effect(df, graph=[("q", "a"), ("a", "y")], treatment="a", outcome="y")
    with pytest.raises(ci.IdentificationError, match="not identified"):
        ci.causal.identify_effect(df, graph="digraph { u -> a; u -> y; a -> y }", treatment="a", outcome="y", unobserved=["u"])
    with pytest.raises(ci.IdentificationError, match=r"front-door|frontdoor"):
        ci.causal.estimate_effect(
            df.rename(columns={"x": "m"}),
            method="ipw",
            outcome="y",
            treatment="a",
            graph="digraph { u -> a; u -> y; a -> m; m -> y }",
            unobserved=["u"],
        )
    with pytest.raises(ci.ArgumentTypeError, match="undirected"):
        ci.causal.identify_effect(df, graph="digraph { x -- a }", treatment="a", outcome="y")


def test_graph_strings_and_estimation():
    import networkx as nx

    df = _df()
    dot = "digraph { x -> a; x -> y; a -> y; w -> y }"
    gml = 'graph [ directed 1 node [ id 0 label "x" ] node [ id 1 label "a" ] node [ id 2 label "y" ] edge [ source 0 target 1 ] edge [ source 0 target 2 ] edge [ source 1 target 2 ] ]'
    for g in (dot, gml, nx.DiGraph([("x", "a"), ("x", "y"), ("a", "y")]), [("x", "a"), ("x", "y"), ("a", "y")]):
        r = ci.causal.identify_effect(df, graph=g, treatment="a", outcome="y")
        assert r.strategy == "backdoor"
        assert r.adjustment_set == ("x",)
        check_result(r)
    fd = ci.causal.identify_effect(
        df.rename(columns={"x": "m"}), graph="digraph { u -> a; u -> y; a -> m; m -> y }", treatment="a", outcome="y", unobserved=["u"]
    )
    assert fd.strategy == "frontdoor"
    assert fd.frontdoor_set == ("m",)
    iv = ci.causal.identify_effect(
        df.rename(columns={"x": "z"}), graph="digraph { u -> a; u -> y; z -> a; a -> y }", treatment="a", outcome="y", unobserved=["u"]
    )
    assert iv.strategy == "iv"
    assert iv.instruments == ("z",)
    e = ci.causal.estimate_effect(df, method="ipw", outcome="y", treatment="a", graph=dot)
    assert e.diagnostic("identification").status == "ok"
    assert e.estimate == ci.causal.ipw(df, **ROLES).estimate
    ds = ci.Dataset(df, outcome="y", treatment="a", graph=dot)
    assert ci.causal.estimate_effect(ds, method="ipw").estimate == e.estimate


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(estimand="ATX"), ci.ArgumentError, "estimand"),
        (dict(method="ipw", clip=0.7), ci.ArgumentError, "clip"),
        (dict(method="ipw", trim=0.0), ci.ArgumentError, "trim"),
        (dict(method="ipw", se="robust"), ci.ArgumentError, "se"),
        (dict(method="ipw", conf_level=95), ci.ArgumentError, "conf_level"),
        (dict(method="regression", interactions=["nope"]), ci.ArgumentError, "interactions"),
        (dict(method="ipw", n_folds=3), ci.ArgumentTypeError, "n_folds"),
        (dict(method="aipw", n_folds=0), ci.ArgumentError, "n_folds"),
        (dict(method="aipw", propensity_model="logit"), ci.ArgumentTypeError, "propensity_model"),
        (dict(method="dml", estimand="ATT"), ci.ArgumentError, "interactive"),
        (dict(method="nope"), ci.ArgumentError, "method"),
        (dict(categorical=["w"]), ci.RoleError, "not one of the covariates"),
    ],
)
def test_bad_options(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ci.causal.estimate_effect(_df(), **{**ROLES, **kwargs})


def test_missing_roles_and_constant_outcome():
    df = _df()
    with pytest.raises(ci.RoleError, match="outcome"):
        ci.causal.ipw(df, treatment="a", covariates=["x"])
    with pytest.raises(ci.DataError, match="constant"):
        ci.causal.ipw(df.assign(y=1.0), **ROLES)
    with pytest.raises(ci.ArgumentTypeError, match="data"):
        ci.causal.ipw(df.to_numpy(), **ROLES)


def test_identification_leaves_the_display_hook_alone():
    import sys

    hook = sys.displayhook
    ci.causal.identify_effect(_df(), graph="digraph { x -> a; x -> y; a -> y }", treatment="a", outcome="y")
    assert sys.displayhook is hook


def test_observation_weights_are_refused_not_ignored():
    df = _df().assign(wt=1.0)
    ds = ci.Dataset(df, weights="wt", **ROLES)
    with pytest.raises(ci.RoleError, match="observation weights"):
        ci.causal.ipw(ds)
    assert ci.causal.ipw(ds.with_roles(weights=None)).estimate == ci.causal.ipw(df, **ROLES).estimate


def test_unscaled_covariates_converge_instead_of_false_separation():
    """LaLonde's CPS comparison: earnings in dollars make a full first Newton step overshoot; the fit must still converge
    (R's glm converges with linear predictors within [-12.5, 0]) and report weak overlap as a diagnostic, not an error."""
    import causalinfer as ci

    ds = ci.load_dataset("lalonde_cps")
    r = ci.causal.ipw(ds, estimand="ATT")
    assert 500 < r.estimate < 2000
    assert r.diagnostic("weights (control)").status == "warn"
