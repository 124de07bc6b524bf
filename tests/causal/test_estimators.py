"""Effect estimators against R (tests/reference/causal_estimators.R -> causal_estimators.json) and published results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged
from causalinfer.causal import _core as core
from causalinfer.causal._design import prepare

NHEFS_MODEL = dict(categorical=["education", "exercise", "active"], squared=["age", "smokeintensity", "smokeyrs", "wt71"])


@pytest.fixture(scope="module")
def ref():
    from tests.conftest import load_reference

    return load_reference("causal_estimators")


def _data(ref, which):
    if which == "nhefs":
        return ci.load_dataset("nhefs"), NHEFS_MODEL
    sim = ref["sim"]
    df = pd.DataFrame(sim["data"])
    ds = ci.Dataset(df, outcome="y", treatment="a", covariates=sim["covariates"])
    return ds, dict(categorical=[sim["categorical"]], squared=[sim["squared"]])


def test_reference_cases_against_r(ref):
    assert len(ref["cases"]) >= 49
    for case in ref["cases"]:
        ds, model = _data(ref, case["data"])
        args = dict(case["args"])
        want = case["expected"]
        if case["method"] in ("aipw_folds", "dml_folds"):
            cd = prepare(ds, **model)
            folds = np.asarray(ref["sim"]["folds"], dtype=np.int64)
            spec = core.Spec("aipw" if case["method"] == "aipw_folds" else "dml", estimand=args["estimand"], n_folds=5)
            fit = (core.aipw if case["method"] == "aipw_folds" else core.dml_plr)(cd.y, cd.a, cd.Z, spec, folds=folds)
            got_est, got_se = fit.estimate, core.standard_error(fit.phi)
        else:
            if args.get("interactions") is not None and not isinstance(args["interactions"], bool):
                args["interactions"] = list(args["interactions"])
            r = ci.causal.estimate_effect(ds, method=case["method"], **model, **args)
            got_est, got_se = r.estimate, r.std_error
            if "sandwich_std_error" in want:
                rs = ci.causal.ipw(ds, se="sandwich", **model, **args)
                assert rs.estimate == pytest.approx(want["sandwich_estimate"], rel=1e-9), case["name"]
                assert rs.std_error == pytest.approx(want["sandwich_std_error"], rel=1e-9), case["name"]
            if "coef_std_error" in want:
                assert got_est == pytest.approx(want["coef_estimate"], rel=1e-9), case["name"]
                assert got_se == pytest.approx(want["coef_std_error"], rel=1e-9), case["name"]
        assert got_est == pytest.approx(want["estimate"], rel=1e-9, abs=1e-10), (case["name"], got_est, want["estimate"])
        # R's SE uses a numerical Jacobian (central differences): agreement to ~1e-9 is what it allows
        assert got_se == pytest.approx(want["std_error"], rel=1e-8), (case["name"], got_se, want["std_error"])


def test_nhefs_ip_weighting_what_if_12_2():
    """What If, Program 12.2: 3.4 kg (95% CI 2.4 to 4.5) with robust standard errors."""
    r = ci.causal.ipw(ci.load_dataset("nhefs"), se="sandwich", **NHEFS_MODEL)
    assert round(r.estimate, 1) == 3.4
    assert round(r.ci_low, 1) == 2.4
    assert round(r.ci_high, 1) == 4.5
    assert round(r.estimate, 2) == 3.44
    # stabilised weights change nothing in the estimate
    rs = ci.causal.ipw(ci.load_dataset("nhefs"), se="sandwich", stabilize=True, **NHEFS_MODEL)
    assert rs.estimate == pytest.approx(r.estimate, rel=1e-9)
    assert rs.details["weights"]["mean"].to_numpy() == pytest.approx([1.0, 1.0], abs=0.05)
    check_result(r)


def test_nhefs_standardisation_what_if_13_4():
    r = ci.causal.regression_adjustment(ci.load_dataset("nhefs"), interactions=["smokeintensity"], **NHEFS_MODEL)
    assert round(r.estimate, 1) == 3.5
    assert round(r.estimate, 2) == 3.52
    check_result(r)


@pytest.mark.parametrize("method", ["ipw", "regression", "aipw", "stratification"])
def test_nsw_experiment(method):
    """Randomised NSW: without covariates every estimator gives the difference in means, 1794.34."""
    ds = ci.load_dataset("lalonde").with_roles(covariates=[])
    for est in ("ATE", "ATT", "ATC"):
        r = ci.causal.estimate_effect(ds, method=method, estimand=est)
        assert round(r.estimate, 2) == 1794.34
    check_result(r)


def test_dataframe_and_dataset_agree_and_input_unchanged():
    df = ci.load_dataset("lalonde").frame
    roles = dict(outcome="re78", treatment="treat", covariates=["age", "educ", "black", "re74", "re75"])
    for method in ("ipw", "regression", "aipw", "dml", "stratification"):
        r1 = check_unchanged(df, lambda d, m=method: ci.causal.estimate_effect(d, method=m, random_state=3, **roles))
        r2 = ci.causal.estimate_effect(ci.Dataset(df, **roles), method=method, random_state=3)
        assert r1.estimate == r2.estimate
        check_result(r1)
        check_nested_intervals(
            lambda conf_level, m=method: ci.causal.estimate_effect(df, method=m, random_state=3, conf_level=conf_level, **roles)
        )


def test_sklearn_nuisance_models_and_crossfitting():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeRegressor

    ds = ci.load_dataset("lalonde")
    pm = make_pipeline(StandardScaler(), LogisticRegression(C=1e6))
    om = DecisionTreeRegressor(min_samples_leaf=40, random_state=0)
    r = ci.causal.aipw(ds, propensity_model=pm, outcome_model=om, random_state=1)
    assert "5-fold cross-fitting" in r.method
    assert not hasattr(pm[-1], "coef_")  # cloned, never fitted in place
    r2 = ci.causal.aipw(ds, propensity_model=pm, outcome_model=om, random_state=1)
    assert r.estimate == r2.estimate
    rr = ci.causal.regression_adjustment(ds, outcome_model=om, n_bootstrap=20, random_state=2)
    assert "bootstrap" in rr.method
    assert rr.std_error > 0
    d = ci.causal.dml(ds, model="interactive", random_state=1)
    assert d.method.startswith("Double ML, interactive")


def test_trim_and_clip_are_reported():
    ds = ci.load_dataset("nhefs")
    r = ci.causal.ipw(ds, trim=0.1, **NHEFS_MODEL)
    d = r.diagnostic("trimming")
    assert d.status == "warn"
    assert d.value > 0
    assert r.n == 1566 - d.value
    assert "propensity in [0.1, 0.9]" in r.estimand
    r = ci.causal.ipw(ds, clip=0.1, **NHEFS_MODEL)
    assert r.diagnostic("clipping").value > 0


def _sim(rng, n=800, effect=2.0, hetero=0.5):
    x = rng.normal(size=(n, 3))
    e = 1 / (1 + np.exp(-(0.5 * x[:, 0] - 0.5 * x[:, 1] + 0.25 * x[:, 2])))
    a = rng.binomial(1, e).astype(float)
    y = effect * a + x @ np.array([1.0, 1.0, -0.5]) + hetero * a * x[:, 0] + rng.normal(size=n)
    return y, a, x


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "estimand"),
    [("ipw", "ATE"), ("ipw", "ATT"), ("regression", "ATE"), ("regression", "ATC"), ("aipw", "ATE"), ("aipw", "ATT"), ("dml", "ATE")],
)
def test_simulation_coverage(method, estimand):
    """Seeded simulation with a known effect: no bias, and 95% influence-function intervals cover about 95%.

    The array-level estimators are the ones the public functions call; they are used here to keep the test fast.
    """
    rng = np.random.default_rng(20261128)
    hetero = 0.0 if method == "dml" else 0.5  # the partially linear model assumes a constant effect
    # the effect is 2 + hetero * x1, so ATE = 2 and ATT / ATC = 2 + hetero * E[x1 | A]: found from one large draw
    _big_y, big_a, big_x = _sim(np.random.default_rng(0), n=1_000_000)
    mask = np.ones(big_a.size, bool) if estimand == "ATE" else (big_a == 1) if estimand == "ATT" else (big_a == 0)
    truth = 2.0 + hetero * (0.0 if estimand == "ATE" else float(big_x[mask, 0].mean()))
    n_sim, hits, total = 250, 0, 0.0
    for _ in range(n_sim):
        y, a, x = _sim(rng, hetero=hetero)
        spec = core.Spec(method, estimand=estimand, n_folds=5 if method == "dml" else 1, fold_seed=int(rng.integers(2**31)))
        fit = core.run(y, a, x, spec)
        se = core.standard_error(fit.phi)
        hits += abs(fit.estimate - truth) <= 1.959964 * se
        total += fit.estimate - truth
    assert 0.90 <= hits / n_sim <= 0.99, hits / n_sim
    assert abs(total / n_sim) < 0.05


def test_matching_against_r(ref):
    for case in ref["matching"]:
        if case["data"] == "lalonde":
            ds, model = ci.load_dataset("lalonde"), {}
        else:
            ds, model = _data(ref, "sim")
        r = ci.causal.matching(ds, estimand=case["estimand"], ratio=case["ratio"], distance="propensity", bias_adjust=False, **model)
        want = case["expected"]
        assert r.estimate == pytest.approx(want["estimate"], rel=1e-9), case["name"]
        assert r.std_error == pytest.approx(want["std_error"], rel=1e-9), case["name"]
    check_result(r)


def test_matching_options_and_refutation():
    ds = ci.load_dataset("lalonde")
    r = ci.causal.estimate_effect(ds, method="matching", distance="propensity", caliper=0.05)
    assert r.diagnostic("caliper").value > 0
    assert "matched units" in r.estimand
    m = ci.causal.matching(ds, estimand="ATE", ratio=2)
    assert "bias-corrected" in m.method
    ref = m.refute("placebo", n_simulations=8, random_state=1, progress=False)
    assert ref.n == 8
    with pytest.raises(ci.ArgumentError, match="caliper"):
        ci.causal.matching(ds, caliper=-1.0)


@pytest.mark.slow
@pytest.mark.parametrize("estimand", ["ATT", "ATE"])
def test_matching_coverage(estimand):
    """Abadie-Imbens variance with bias correction: 95% intervals cover about 95% (linear outcome, Mahalanobis distance)."""
    from causalinfer.causal._matching import match_estimate

    rng = np.random.default_rng(7)
    big = rng.normal(size=(1_000_000, 2))
    abig = rng.binomial(1, 1 / (1 + np.exp(-(0.8 * big[:, 0] - 0.5 * big[:, 1] - 0.5))))
    truth = 2.0 + 0.5 * (big[abig == 1, 0].mean() if estimand == "ATT" else 0.0)
    hits, n_sim = 0, 120
    for _ in range(n_sim):
        x = rng.normal(size=(500, 2))
        a = rng.binomial(1, 1 / (1 + np.exp(-(0.8 * x[:, 0] - 0.5 * x[:, 1] - 0.5)))).astype(float)
        y = 1 + 2 * a + x[:, 0] + 0.5 * x[:, 1] + 0.5 * a * x[:, 0] + rng.normal(size=500)
        o = match_estimate(y, a, x, estimand=estimand, distance="mahalanobis", ratio=2, caliper=None, bias_adjust=True, e=None)
        hits += abs(o["estimate"] - truth) <= 1.959964 * o["std_error"]
    assert 0.89 <= hits / n_sim <= 0.99, hits / n_sim


def test_iv_from_a_graph_and_from_roles():
    import numpy as np
    import pandas as pd

    import causalinfer as ci

    rng = np.random.default_rng(0)
    n = 3000
    z, u = rng.normal(size=n), rng.normal(size=n)
    d = z + u + rng.normal(size=n)
    y = 2 * d + u + rng.normal(size=n)
    df = pd.DataFrame({"z": z, "d": d, "y": y})
    graph = "digraph { z -> d; U -> d; U -> y; d -> y }"
    r = ci.causal.estimate_effect(df, method="iv", treatment="d", outcome="y", graph=graph, unobserved=["U"])
    assert abs(r.estimate - 2) < 0.1
    assert r.diagnostic("identification").message == "instruments from the graph: z"
    same = ci.causal.iv_2sls(df, treatment="d", outcome="y", instruments="z")
    assert same.estimate == r.estimate
    with pytest.raises(ci.IdentificationError, match="use method='iv'"):
        ci.causal.estimate_effect(df, method="ipw", treatment="d", outcome="y", graph=graph, unobserved=["U"])
    card = ci.causal.estimate_effect(ci.load_dataset("close_college"), method="iv")
    assert round(card.estimate, 3) == 0.124  # Card (1995) as replicated in The Mixtape
