"""stats.marginal_effects against analytic derivatives and delta method in R (tests/reference/margins.R) and statsmodels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference_data import load_reference

import causalinfer as ci
from causalinfer._testing import check_result
from causalinfer.exceptions import ArgumentError, CausalInferError

REF = load_reference("margins")
DATA = pd.DataFrame(REF["data"])
RTOL = 1e-9


def _model(name):
    if name == "logit":
        return ci.stats.logit("ybin ~ x + z + g", data=DATA), {"newdata": DATA}
    if name == "probit":
        return ci.stats.glm("ybin ~ x + z + g", data=DATA, family="binomial", link="probit"), {}
    if name == "poisson":
        return ci.stats.poisson("count ~ x + z + g", data=DATA), {"newdata": DATA}
    if name == "gamma_log":
        return ci.stats.glm("ycont ~ x + z + g", data=DATA, family="gamma", link="log"), {}
    return ci.stats.ols("ynorm ~ x * g + z", data=DATA), {"newdata": DATA}


MODELS = ["logit", "probit", "poisson", "gamma_log", "ols"]


def _check(row, ref):
    np.testing.assert_allclose([row["estimate"], row["std_error"]], [ref["estimate"], ref["std_error"]], rtol=RTOL)


@pytest.mark.parametrize("name", MODELS)
def test_average_marginal_effects_and_contrasts_match_R(name):
    fit, kw = _model(name)
    me = ci.stats.marginal_effects(fit, **kw)
    ref = REF["results"][name]
    t = me.terms.set_index("term")
    _check(t.loc["x: dY/dX"], ref["ame_x"])
    _check(t.loc["z: dY/dX"], ref["ame_z"])
    _check(t.loc["g: b - a"], ref["ame_g_b"])
    _check(t.loc["g: c - a"], ref["ame_g_c"])
    check_result(me)


@pytest.mark.parametrize("name", MODELS)
def test_ratio_of_average_means_matches_R(name):
    fit, kw = _model(name)
    me = ci.stats.marginal_effects(fit, variables="g", comparison="ratio", **kw)
    row = me.terms.set_index("term").loc["g: b / a"]
    _check(row, REF["results"][name]["ratio_g_b"])
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    np.testing.assert_allclose(row["statistic"], (row["estimate"] - 1) / row["std_error"], rtol=1e-12)


@pytest.mark.parametrize("name", MODELS)
def test_effects_at_means_and_at_values_match_R(name):
    fit, kw = _model(name)
    ref = REF["results"][name]
    mem = ci.stats.marginal_effects(fit, variables=["x", "g"], at="means", **kw).terms.set_index("term")
    _check(mem.loc["x: dY/dX | at means"], ref["mem_x"])
    _check(mem.loc["g: c - a | at means"], ref["mem_g_c"])
    res = ci.stats.marginal_effects(fit, variables="x", at={"x": [-1, 1]}, **kw)
    at = res.terms
    assert res.details["labels"]["group"].tolist() == ["x = -1", "x = 1"]
    for i in range(2):
        _check(at.iloc[i], ref["at_x"][i])


@pytest.mark.parametrize("name", MODELS)
def test_effects_by_group_match_R(name):
    fit, kw = _model(name)
    res = ci.stats.marginal_effects(fit, variables="x", by="grp", **kw)
    by = res.terms
    assert res.details["labels"]["group"].tolist() == ["grp = u", "grp = v"]
    for i in range(2):
        _check(by.iloc[i], REF["results"][name]["by_x"][i])


@pytest.mark.parametrize(("name", "method"), [("logit", "dydx"), ("probit", "dydx"), ("poisson", "dydx")])
def test_continuous_effects_match_statsmodels_get_margeff(name, method):
    import statsmodels.api as sm

    X = sm.add_constant(DATA[["x", "z"]])
    y = DATA["ybin" if name != "poisson" else "count"]
    model = {"logit": sm.Logit, "probit": sm.Probit, "poisson": sm.Poisson}[name](y, X).fit(disp=0, tol=1e-12, maxiter=200)
    ours_fit = ci.stats.glm(
        X[["x", "z"]], y, family="binomial" if name != "poisson" else "poisson", link="probit" if name == "probit" else None
    )
    for at in ("overall", "mean"):
        sm_me = model.get_margeff(at=at, method=method)
        ours = ci.stats.marginal_effects(ours_fit, newdata=X[["x", "z"]], at=None if at == "overall" else "means").terms
        np.testing.assert_allclose(ours["estimate"], sm_me.margeff, rtol=1e-6)
        if name != "probit":  # statsmodels' Probit uses the observed information, glm (and we) the expected one
            np.testing.assert_allclose(ours["std_error"], sm_me.margeff_se, rtol=1e-5)  # statsmodels differentiates numerically


def test_link_scale_slope_is_the_coefficient_and_ols_ame_is_exact():
    fit, _ = _model("gamma_log")
    me = ci.stats.marginal_effects(fit, variables="z", type="link").terms.iloc[0]
    np.testing.assert_allclose(
        [me["estimate"], me["std_error"]], [fit.coef["z"], fit.terms.set_index("term").loc["z", "std_error"]], rtol=1e-9
    )
    o = ci.stats.ols("ynorm ~ x + z", data=DATA)
    e = ci.stats.marginal_effects(o, newdata=DATA, variables="x").terms.iloc[0]
    np.testing.assert_allclose(e["estimate"], o.coef["x"], rtol=1e-10)


def test_difference_for_a_continuous_variable_is_the_effect_of_adding_one():
    fit, _ = _model("probit")
    d = ci.stats.marginal_effects(fit, variables="x", comparison="difference").terms.iloc[0]
    p0 = fit.predict(DATA)["estimate"]
    p1 = fit.predict(DATA.assign(x=DATA["x"] + 1))["estimate"]
    assert d["term"] == "x: +1"
    np.testing.assert_allclose(d["estimate"], float(np.mean(p1 - p0)), rtol=1e-12)


def test_bad_input():
    fit, _ = _model("probit")
    with pytest.raises(ArgumentError, match=r"`variables` names 'w'.*choose among \['g', 'x', 'z'\]|`variables` names 'w'"):
        ci.stats.marginal_effects(fit, variables="w")
    with pytest.raises(ArgumentError, match="`newdata` is needed"):
        ci.stats.marginal_effects(ci.stats.logit("ybin ~ x", data=DATA))
    with pytest.raises(CausalInferError, match="`by`"):
        ci.stats.marginal_effects(fit, by="nope")
    with pytest.raises(ArgumentError, match="not both"):
        ci.stats.marginal_effects(fit, by="grp", at="means")
    with pytest.raises(ArgumentError, match="`at` names"):
        ci.stats.marginal_effects(fit, at={"w": 1})


def test_data_unchanged():
    before = DATA.copy()
    fit, kw = _model("logit")
    ci.stats.marginal_effects(fit, by="grp", **kw)
    pd.testing.assert_frame_equal(DATA, before)


def test_delta_method_intervals_of_the_average_marginal_effect_cover():
    """Seeded simulation: the 95% interval of a logit AME (fixed design, true AME at the true coefficients) covers ~95%."""
    rng = np.random.default_rng(20261129)
    n, reps = 300, 120
    X = pd.DataFrame({"x": rng.normal(size=n), "z": rng.uniform(-1, 1, size=n)})
    beta = np.array([-0.2, 0.8, -0.5])
    eta = beta[0] + X.to_numpy() @ beta[1:]
    p = 1 / (1 + np.exp(-eta))
    truth = float(np.mean(p * (1 - p))) * beta[1]
    hits = 0
    for _ in range(reps):
        y = (rng.uniform(size=n) < p).astype(float)
        fit = ci.stats.glm(X, y, family="binomial")
        row = ci.stats.marginal_effects(fit, newdata=X, variables="x").terms.iloc[0]
        hits += row["ci_low"] <= truth <= row["ci_high"]
    assert 0.89 <= hits / reps <= 0.99


def test_negative_binomial_effects_follow_the_log_link():
    fit = ci.stats.negative_binomial("count ~ x + z + g", data=DATA)
    me = ci.stats.marginal_effects(fit, newdata=DATA, variables="x").terms.iloc[0]
    mu = fit.predict(DATA)["estimate"].to_numpy()
    X = np.column_stack([np.ones(len(DATA)), DATA["g"] == "b", DATA["g"] == "c", DATA["x"], DATA["z"]]).astype(float)
    b = fit.coef.to_numpy()
    assert list(fit.coef.index) == ["(Intercept)", "g[T.b]", "g[T.c]", "x", "z"]
    J = (mu[:, None] * b[3] * X).mean(axis=0)
    J[3] += mu.mean()
    np.testing.assert_allclose(me["estimate"], mu.mean() * b[3], rtol=1e-10)
    np.testing.assert_allclose(me["std_error"], np.sqrt(J @ fit.cov.to_numpy() @ J), rtol=1e-9)


WRTOL = 1e-6  # the R values are finite differences (step 1e-4 in x, 1e-5 in the coefficients)


@pytest.mark.parametrize("name", MODELS)
def test_weighted_averages_match_finite_differences_in_R(name):
    fit, kw = _model(name)
    ref = REF["weighted"][name]
    t = ci.stats.marginal_effects(fit, weights=DATA["wts"], **kw).terms.set_index("term")
    for term, key in (("x: dY/dX", "ame_x"), ("g: c - a", "ame_g_c")):
        np.testing.assert_allclose(
            t.loc[term, ["estimate", "std_error"]].to_numpy(float), [ref[key]["estimate"], ref[key]["std_error"]], rtol=WRTOL
        )
    r = ci.stats.marginal_effects(fit, variables="g", comparison="ratio", weights="wts", **kw).terms.set_index("term").loc["g: b / a"]
    np.testing.assert_allclose([r["estimate"], r["std_error"]], [ref["ratio_g_b"]["estimate"], ref["ratio_g_b"]["std_error"]], rtol=WRTOL)
    b = ci.stats.marginal_effects(fit, variables="x", by="grp", weights="wts", **kw).terms.set_index("term").loc["x: dY/dX | grp = u"]
    np.testing.assert_allclose([b["estimate"], b["std_error"]], [ref["by_x_u"]["estimate"], ref["by_x_u"]["std_error"]], rtol=WRTOL)


def test_integer_weights_equal_repeated_rows_and_equal_weights_change_nothing():
    fit = ci.stats.glm("ybin ~ x + z + g", data=DATA, family="binomial", link="probit")
    reps = np.arange(len(DATA)) % 3 + 1
    a = ci.stats.marginal_effects(fit, weights=reps).terms
    b = ci.stats.marginal_effects(fit, newdata=DATA.loc[DATA.index.repeat(reps)]).terms
    np.testing.assert_allclose(a[["estimate", "std_error"]], b[["estimate", "std_error"]], rtol=1e-12)
    c = ci.stats.marginal_effects(fit, weights=np.full(len(DATA), 2.5)).terms
    d = ci.stats.marginal_effects(fit).terms
    np.testing.assert_allclose(c[["estimate", "std_error"]], d[["estimate", "std_error"]], rtol=1e-12)
    shuffled = pd.Series(reps, index=DATA.index)[::-1]  # aligned by label, not position
    e = ci.stats.marginal_effects(fit, weights=shuffled).terms
    np.testing.assert_allclose(a[["estimate", "std_error"]], e[["estimate", "std_error"]], rtol=1e-12)


def test_a_weighted_fit_averages_unweighted_unless_weights_are_given():
    """As marginaleffects: the fitting weights shape the coefficients; the average is over rows unless wts is given."""
    fit = ci.stats.glm("ybin ~ x + z + g", data=DATA, family="binomial", weights="wts")
    ref = REF["weighted"]["fitted_weighted"]
    plain = ci.stats.marginal_effects(fit, variables="x").terms.iloc[0]
    np.testing.assert_allclose(
        [plain["estimate"], plain["std_error"]], [ref["ame_x_unweighted"]["estimate"], ref["ame_x_unweighted"]["std_error"]], rtol=WRTOL
    )
    weighted = ci.stats.marginal_effects(fit, variables="x", weights="wts")
    np.testing.assert_allclose(
        [weighted.terms.iloc[0]["estimate"], weighted.terms.iloc[0]["std_error"]],
        [ref["ame_x_wts"]["estimate"], ref["ame_x_wts"]["std_error"]],
        rtol=WRTOL,
    )
    assert weighted.method.startswith("Weighted")


def test_bad_weights():
    fit = ci.stats.glm("ybin ~ x + z + g", data=DATA, family="binomial")
    with pytest.raises(CausalInferError, match="non-negative"):
        ci.stats.marginal_effects(fit, weights=-DATA["wts"])
    with pytest.raises(CausalInferError, match="one value per row"):
        ci.stats.marginal_effects(fit, weights=np.ones(5))
    with pytest.raises(CausalInferError, match="wtz"):
        ci.stats.marginal_effects(fit, weights="wtz")
    with pytest.raises(CausalInferError, match="typical rows"):
        ci.stats.marginal_effects(fit, weights="wts", at="means")
    with pytest.raises(CausalInferError, match="all zero in group grp = u"):
        ci.stats.marginal_effects(fit, weights=np.where(DATA["grp"] == "u", 0.0, 1.0), by="grp")
    with pytest.raises(CausalInferError, match="index labels"):
        ci.stats.marginal_effects(fit, weights=pd.Series(DATA["wts"].to_numpy(), index=DATA.index + 1000))


def test_glm_on_a_design_matrix_keeps_its_regressors_for_marginal_effects():
    """Regression: a glm fitted on arrays asked for `newdata` while saying that glm results keep their data."""
    X = DATA[["x", "z"]].to_numpy()
    fit = ci.stats.glm(X, DATA["ybin"].to_numpy(), family="binomial")
    a = ci.stats.marginal_effects(fit).terms
    b = ci.stats.marginal_effects(fit, newdata=pd.DataFrame(X, columns=["x1", "x2"])).terms
    assert a["term"].tolist() == ["x1: dY/dX", "x2: dY/dX"]
    np.testing.assert_allclose(a[["estimate", "std_error"]], b[["estimate", "std_error"]], rtol=1e-12)
