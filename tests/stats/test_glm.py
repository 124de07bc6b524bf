"""stats.glm against R's glm, statmod::tweedie, sandwich and AER::dispersiontest (tests/reference/glm.R)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from reference_data import load_reference

import causalinfer as ci
from causalinfer._testing import check_result
from causalinfer.exceptions import ArgumentError, CausalInferError, ConvergenceError, DataError

REF = load_reference("glm")
DATA = pd.DataFrame(REF["data"])
RTOL = 1e-9

# case name -> (formula, family, link, extra keywords)
CASES = {
    "gaussian_identity": ("ynorm ~ x + z + g", "gaussian", None, {}),
    "gaussian_identity_weighted": ("ynorm ~ x + z + g", "gaussian", None, {"weights": "w"}),
    "gaussian_log": ("ynorm ~ x + z + g", "gaussian", "log", {}),
    "binomial_logit": ("ybin ~ x + z + g", "binomial", None, {}),
    "binomial_probit": ("ybin ~ x + z + g", "binomial", "probit", {}),
    "binomial_cloglog": ("ybin ~ x + z + g", "binomial", "cloglog", {}),
    "binomial_proportion": ("prop ~ x + z + g", "binomial", "logit", {"weights": "trials"}),
    "poisson_offset": ("count ~ x + z + g", "poisson", None, {"exposure": "expo"}),
    "gamma_inverse": ("ycont ~ x + z + g", "gamma", None, {}),
    "gamma_log": ("ycont ~ x + z + g", "gamma", "log", {}),
    "gamma_identity": ("ycont ~ x + g", "gamma", "identity", {}),
    "gamma_log_weighted": ("ycont ~ x + z + g", "gamma", "log", {"weights": "w"}),
    "inverse_gaussian_canonical": ("yig2 ~ x + g", "inverse_gaussian", None, {}),
    "inverse_gaussian_log": ("yig ~ x + z + g", "inverse_gaussian", "log", {}),
    "tweedie_log": ("ytw ~ x + z + g", "tweedie", "log", {"var_power": 1.5}),
}


def _r_name(term):
    return re.sub(r"^(?:C\((\w+)\)|(\w+))\[T\.(\w+)\]$", lambda m: (m.group(1) or m.group(2)) + m.group(3), term)


def _fit(name, **kw):
    formula, family, link, extra = CASES[name]
    return ci.stats.glm(formula, data=DATA, family=family, link=link, **extra, **kw)


def _order(ref_names, r):
    """Positions of R's terms among ours (patsy puts categorical terms first)."""
    ours = [_r_name(t) for t in r.terms["term"]]
    assert sorted(ours) == sorted(ref_names)
    return [ours.index(nm) for nm in ref_names]


@pytest.mark.parametrize("name", list(CASES))
def test_coefficients_errors_and_fit_match_glm(name):
    r = _fit(name)
    ref = REF["fits"][name]
    o = _order(ref["names"], r)
    np.testing.assert_allclose(r.coef.to_numpy()[o], ref["coef"], rtol=RTOL)
    np.testing.assert_allclose(r.terms["std_error"].to_numpy()[o], ref["se"], rtol=RTOL)
    np.testing.assert_allclose(r.terms["pvalue"].to_numpy()[o], ref["pvalues"], rtol=1e-7)
    for key in ("deviance", "null_deviance", "df_resid", "df_null", "dispersion"):
        np.testing.assert_allclose(r.fit[key], ref[key], rtol=RTOL, err_msg=key)
    if ref.get("aic") is None:
        assert np.isnan(r.fit["aic"]) and np.isnan(r.fit["loglik"])
    else:
        np.testing.assert_allclose([r.fit["aic"], r.fit["loglik"]], [ref["aic"], ref["loglik"]], rtol=RTOL)
    assert r.fit["converged"]


@pytest.mark.parametrize("cov_type", ["HC0", "HC1", "HC2", "HC3", "cluster", "HAC"])
@pytest.mark.parametrize("name", list(CASES))
def test_sandwich_errors_match_R(name, cov_type):
    kw = {"cluster": "cl"} if cov_type == "cluster" else {"hac_lags": 3} if cov_type == "HAC" else {}
    r = _fit(name, cov_type=cov_type, **kw)
    ref = REF["fits"][name]
    np.testing.assert_allclose(r.terms["std_error"].to_numpy()[_order(ref["names"], r)], ref[f"se_{cov_type}"], rtol=RTOL)
    assert np.all(np.isnan(r.terms["df"]))  # z statistics with a robust covariance, as lmtest::coeftest for glm


@pytest.mark.parametrize("name", list(CASES))
def test_predict_link_and_response_match_predict_glm(name):
    r = _fit(name)
    ref = REF["fits"][name]
    new = DATA.head(5)
    off = {"offset": np.log(new["expo"])} if "exposure" in CASES[name][3] else {}
    link = r.predict(new, type="link", **off)
    np.testing.assert_allclose(link["estimate"], ref["pred_link"], rtol=RTOL)
    np.testing.assert_allclose(link["std_error"], ref["pred_se"], rtol=RTOL)
    resp = r.predict(new, **off)
    np.testing.assert_allclose(resp["estimate"], ref["pred_response"], rtol=RTOL)
    assert (resp.ci_low < resp.estimate).all() and (resp.estimate < resp.ci_high).all()


@pytest.mark.parametrize("name", ["gamma_log", "binomial_probit", "poisson_offset"])
def test_lr_test_matches_anova_glm(name):
    formula, family, link, extra = CASES[name]
    small = ci.stats.glm(formula.split("~")[0] + "~ x", data=DATA, family=family, link=link, **extra)
    t = ci.stats.lr_test(small, _fit(name))
    ref = REF["anova"][name]
    np.testing.assert_allclose([t.statistic, t.df, t.pvalue], [ref["statistic"], ref["df"], ref["pvalue"]], rtol=RTOL)


def test_lr_test_refuses_different_links():
    a = ci.stats.glm("ycont ~ x", data=DATA, family="gamma", link="log")
    b = ci.stats.glm("ycont ~ x + z", data=DATA, family="gamma")
    with pytest.raises(ArgumentError, match="same family and link"):
        ci.stats.lr_test(a, b)


def test_overdispersion_diagnostic_matches_aer_and_points_to_negative_binomial():
    from causalinfer.stats._glm_checks import cameron_trivedi

    r = _fit("poisson_offset")
    for trafo in (1, 2):
        ref = REF["dispersiontest"][f"trafo{trafo}"]
        got = cameron_trivedi(DATA["count"].to_numpy(float), r.details["fitted"], trafo)
        np.testing.assert_allclose(got, [ref["alpha"], ref["statistic"], ref["pvalue"]], rtol=RTOL)
    diag = {d.name: d for d in r.diagnostics}["overdispersion"]
    assert diag.status == "warn" and "negative_binomial" in diag.message


def test_variance_function_diagnostic_points_to_gamma():
    # the same log-linear mean, fitted with a constant variance: the residuals' spread grows like mu^2
    r = ci.stats.glm("ycont ~ x + z + g", data=DATA, family="gaussian", link="log")
    diag = {d.name: d for d in r.diagnostics}["variance function"]
    assert diag.status == "warn" and ("family='gamma'" in diag.message or "family='tweedie'" in diag.message)
    assert 1.0 < diag.value < 2.5  # the Gamma data's power is 2
    ok = {d.name: d for d in _fit("gamma_log").diagnostics}["variance function"]
    assert ok.status == "ok"


def test_matches_logit_and_poisson_and_negative_binomial():
    a = ci.stats.glm("ybin ~ x + z + g", data=DATA, family="binomial")
    b = ci.stats.logit("ybin ~ x + z + g", data=DATA)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-10)
    np.testing.assert_allclose(a.terms["std_error"], b.terms["std_error"], rtol=1e-9)
    np.testing.assert_allclose(a.fit["aic"], b.fit["aic"], rtol=1e-10)
    p = ci.stats.poisson("count ~ x + z + g", data=DATA, offset=np.log(DATA["expo"]))
    np.testing.assert_allclose(_fit("poisson_offset").coef, p.coef, rtol=1e-10)
    nb = ci.stats.glm("count ~ x + z + g", data=DATA, family="negative_binomial", exposure="expo")
    nb2 = ci.stats.negative_binomial("count ~ x + z + g", data=DATA, exposure="expo")
    np.testing.assert_allclose(nb.coef, nb2.coef, rtol=1e-12)


def test_result_contract_and_data_unchanged():
    before = DATA.copy()
    r = _fit("gamma_log", cov_type="HC3")
    check_result(r)
    pd.testing.assert_frame_equal(DATA, before)


def test_matrix_interface_matches_formula():
    X = pd.get_dummies(DATA[["x", "z", "g"]], columns=["g"], drop_first=True, dtype=float)
    r = ci.stats.glm(X, DATA["ycont"], family="gamma", link="log")
    f = _fit("gamma_log").coef.rename(lambda t: re.sub(r"^g\[T\.(\w+)\]$", r"g_\1", t))
    np.testing.assert_allclose(r.coef.to_numpy(), f[r.coef.index].to_numpy(), rtol=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"family": "gamma", "link": "logit"}, r"`link` = 'logit' is not available for family 'gamma'"),
        ({"family": "binomial", "link": "inverse"}, r"use one of 'logit', 'probit', 'cloglog', 'log'"),
        ({"family": "tweedie"}, r"needs `var_power`"),
        ({"family": "gamma", "var_power": 1.5}, r"`var_power` applies to family='tweedie' only"),
        ({"family": "weibull"}, r"`family`"),
    ],
)
def test_bad_family_or_link_is_refused(kwargs, match):
    with pytest.raises(CausalInferError, match=match):
        ci.stats.glm("ycont ~ x", data=DATA, **kwargs)


@pytest.mark.parametrize(
    ("column", "family", "match"),
    [
        # regression: negative outcomes were pointed to the Tweedie family, which takes zeros but not negatives
        ("ynorm_shift", "gamma", r"of a Gamma GLM must be positive; got \d+ negative value\(s\).*family='gaussian'"),
        ("ynorm_shift", "inverse_gaussian", r"of an inverse Gaussian GLM must be positive.*family='gaussian'"),
        ("ycount_zero", "gamma", r"Gamma GLM must be positive; got 0 negative value\(s\) and 1 zero\(s\).*tweedie"),
        ("count", "binomial", r"must lie in \[0, 1\].*weights = n"),
        ("ynorm_shift", "poisson", r"must be non-negative.*min -"),
    ],
)
def test_outcome_outside_the_support_is_refused(column, family, match):
    df = DATA.assign(ynorm_shift=DATA["ynorm"] - 3.0, ycount_zero=np.where(np.arange(len(DATA)) == 0, 0.0, DATA["count"] + 1.0))
    with pytest.raises(DataError, match=match):
        ci.stats.glm(f"{column} ~ x", data=df, family=family)


def test_no_valid_start_is_refused_like_R():
    # R: "no valid set of coefficients has been found: please supply starting values"
    with pytest.raises(ConvergenceError, match="log link"):
        ci.stats.glm("yig ~ x + z + g", data=DATA, family="inverse_gaussian")


def test_dispersion_scales_the_classical_covariance_and_t_inference():
    r = _fit("gamma_log")
    assert r.fit["inference"] == "t" and np.all(r.terms["df"] == r.fit["df_resid"])
    w = r.wald_test("x = 0")
    assert w.statistic_name == "F"


def test_count_models_skip_the_linear_programme_when_positive_counts_identify_every_coefficient(monkeypatch):
    """Regression: the existence check solved a linear programme on every Poisson or negative binomial fit (most of
    the time of a large fit); when the rows with positive counts have full column rank the estimate exists."""
    import causalinfer.stats._existence as ex

    def boom(*args, **kwargs):
        raise AssertionError("linear programme solved although the positive counts have full rank")

    monkeypatch.setattr(ex, "_solve", boom)
    r = ci.stats.negative_binomial("count ~ x + z + g", data=DATA, exposure="expo")
    assert {d.name: d for d in r.diagnostics}["existence of the estimate"].status == "ok"
    zero_cell = DATA.assign(count=np.where(DATA["g"] == "c", 0, DATA["count"]))
    monkeypatch.undo()
    with pytest.warns(Warning, match="does not exist"):
        bad = ci.stats.poisson("count ~ x + z + g", data=zero_cell)
    assert {d.name: d for d in bad.diagnostics}["existence of the estimate"].status == "fail"


@pytest.mark.parametrize("link", ["logit", "probit", "cloglog"])
def test_separated_binary_outcome_fails_the_existence_check(link):
    df = pd.DataFrame({"x": np.r_[np.linspace(-2, -0.1, 20), np.linspace(0.1, 2, 20)]})
    df["y"] = (df["x"] > 0).astype(float)
    with pytest.warns(Warning, match="does not exist"):
        r = ci.stats.glm("y ~ x", data=df, family="binomial", link=link)
    diag = {d.name: d for d in r.diagnostics}["separation"]
    assert diag.status == "fail" and "x" in diag.message


def test_zero_count_cell_fails_the_existence_check_for_tweedie():
    df = DATA.assign(ytw=np.where(DATA["g"] == "c", 0.0, DATA["ytw"]))
    with pytest.warns(Warning, match="does not exist"):
        r = ci.stats.glm("ytw ~ x + g", data=df, family="tweedie", var_power=1.5)
    assert {d.name: d for d in r.diagnostics}["existence of the estimate"].status == "fail"
    ok = _fit("tweedie_log")
    assert {d.name: d for d in ok.diagnostics}["existence of the estimate"].status == "ok"
