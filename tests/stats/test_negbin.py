"""stats.negative_binomial against MASS::glm.nb (tests/reference/negbin.R)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from reference_data import load_reference

import causalinfer as ci
from causalinfer.exceptions import ArgumentError, DataError

REF = load_reference("negbin")
QUINE = pd.DataFrame(REF["quine"])
SIM = pd.DataFrame(REF["sim"])
RTOL = 1e-8  # glm.nb run to convergence (epsilon 1e-12); the agreement is about 1e-10


def _r_name(term):
    """Our term names in R's spelling: C(g)[T.b] or g[T.b] -> gb."""
    return re.sub(r"^(?:C\((\w+)\)|(\w+))\[T\.(\w+)\]$", lambda m: (m.group(1) or m.group(2)) + m.group(3), term)


def _order(r, ref):
    ours = [_r_name(t) for t in r.terms["term"]]
    assert sorted(ours) == sorted(ref["names"])
    return [ours.index(nm) for nm in ref["names"]]


def _fit(name, **kw):
    if name == "quine":
        return ci.stats.negative_binomial("Days ~ Eth + Sex + Age + Lrn", data=QUINE, **kw), REF["quine_fit"]
    return ci.stats.negative_binomial("y ~ x + C(g)", data=SIM, exposure="expo", **kw), REF["sim_fit"]


@pytest.mark.parametrize("name", ["quine", "sim"])
def test_coefficients_theta_and_likelihood_match_glm_nb(name):
    r, ref = _fit(name)
    o = _order(r, ref)
    np.testing.assert_allclose(r.coef.to_numpy()[o], ref["coef"], rtol=RTOL)
    np.testing.assert_allclose(r.terms["std_error"].to_numpy()[o], ref["se"], rtol=RTOL)
    fit = r.fit
    for key in ("theta", "theta_se", "twologlik", "deviance", "null_deviance", "aic"):
        np.testing.assert_allclose(fit[key], ref[key], rtol=RTOL, err_msg=key)
    assert fit["converged"]
    np.testing.assert_allclose(fit["theta"], ref["theta_tight"], rtol=1e-9)
    # glm.nb's own SE.theta stops Newton's method early (see negbin.R): within 1e-4 of the SE at the MLE
    np.testing.assert_allclose(fit["theta_se"], ref["theta_se_glm_nb"], rtol=1e-4)


@pytest.mark.parametrize("name", ["quine", "sim"])
@pytest.mark.parametrize("cov_type", ["HC0", "HC3", "cluster", "HAC"])
def test_sandwich_errors_match_R(name, cov_type):
    data = QUINE if name == "quine" else SIM
    r, ref = _fit(name, cov_type=cov_type, cluster=data["cl"] if cov_type == "cluster" else None, hac_lags=3 if cov_type == "HAC" else None)
    np.testing.assert_allclose(r.terms["std_error"].to_numpy()[_order(r, ref)], ref[f"se_{cov_type}"], rtol=RTOL)


def test_prior_weights_match_glm_nb():
    r = ci.stats.negative_binomial("Days ~ Eth + Sex + Age + Lrn", data=QUINE, weights="w")
    ref = REF["quine_weighted_fit"]
    o = _order(r, ref)
    np.testing.assert_allclose(r.coef.to_numpy()[o], ref["coef"], rtol=RTOL)
    np.testing.assert_allclose(r.terms["std_error"].to_numpy()[o], ref["se"], rtol=RTOL)
    for key in ("theta", "theta_tight", "twologlik", "deviance", "null_deviance"):
        np.testing.assert_allclose(r.fit["theta" if key == "theta_tight" else key], ref[key], rtol=RTOL, err_msg=key)
    rh = ci.stats.negative_binomial("Days ~ Eth + Sex + Age + Lrn", data=QUINE, weights="w", cov_type="HC0")
    np.testing.assert_allclose(rh.terms["std_error"].to_numpy()[o], ref["se_HC0"], rtol=RTOL)


def test_offset_and_exposure_agree_and_predict_works():
    a, _ = _fit("sim")
    b = ci.stats.negative_binomial("y ~ x + C(g)", data=SIM, offset=np.log(SIM["expo"]))
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    p = a.predict(SIM.head(5), offset=np.log(SIM["expo"].head(5)))
    np.testing.assert_allclose(p["estimate"], a.details["fitted"][:5], rtol=1e-10)
    assert (p.ci_low < p.estimate).all() and (p.estimate < p.ci_high).all()


def test_poisson_overdispersion_points_to_negative_binomial():
    r = ci.stats.poisson("Days ~ Eth + Sex + Age + Lrn", data=QUINE)
    d = {x.name: x for x in r.diagnostics}["overdispersion"]
    np.testing.assert_allclose(d.value, REF["quine_poisson_dispersion"], rtol=1e-9)
    assert d.status == "warn" and "negative_binomial" in d.message


def test_nearly_poisson_counts_converge():
    """Regression: a large theta (about 100) made the Newton steps stall at rounding noise and the fit report non-convergence."""
    d = pd.DataFrame(REF["near_poisson"])
    ref = REF["near_poisson_fit"]
    assert ref["dispersion_score"] > 0
    r = ci.stats.negative_binomial("y ~ x", data=d)
    assert r.fit["converged"]
    np.testing.assert_allclose(r.coef.to_numpy(), ref["coef"], rtol=1e-6)
    np.testing.assert_allclose(r.fit["theta"], ref["theta"], rtol=1e-6)
    np.testing.assert_allclose(r.fit["twologlik"], ref["twologlik"], rtol=1e-9)


def test_underdispersed_counts_give_the_poisson_limit():
    rng = np.random.default_rng(3)
    x = rng.normal(size=200)
    y = rng.binomial(3, 0.4, size=200)  # variance below the mean
    r = ci.stats.negative_binomial(x, y)
    p = ci.stats.poisson(x, y)
    assert r.fit["theta"] == np.inf
    np.testing.assert_allclose(r.coef, p.coef, rtol=1e-8)
    np.testing.assert_allclose(r.terms["std_error"], p.terms["std_error"], rtol=1e-8)
    np.testing.assert_allclose(r.fit["loglik"], p.fit["loglik"], rtol=1e-10)
    d = {x.name: x for x in r.diagnostics}["overdispersion"]
    assert d.status == "warn" and "poisson" in d.message
    assert ci.Result.from_json(r.to_json()) == r


def test_bad_input():
    # regression: the messages spoke of a Poisson regression
    with pytest.raises(DataError, match=r"negative binomial regression must be non-negative counts; got .* negative"):
        ci.stats.negative_binomial("x ~ C(g)", data=SIM)
    with pytest.raises(DataError, match=r"must be counts \(integers\); got 1 non-integer value\(s\) such as 0.5.*tweedie"):
        ci.stats.negative_binomial(SIM["x"], np.r_[0.5, np.ones(len(SIM) - 1)])
    with pytest.raises(ArgumentError, match="not both"):
        ci.stats.negative_binomial("y ~ x", data=SIM, exposure="expo", offset=np.zeros(len(SIM)))
    with pytest.raises(DataError, match="positive"):
        ci.stats.negative_binomial("y ~ x", data=SIM, exposure=SIM["x"])
    with pytest.raises(DataError, match="zero in every row"):
        ci.stats.negative_binomial(SIM["x"], np.zeros(len(SIM)))


def test_single_large_count_among_zeros_reaches_the_maximum_likelihood():
    """Regression: a single large count among zeros makes the likelihood of theta convex at the start, where Newton's
    method headed for a minimum (raising, once with a zero information, and once converging to theta = 1e8 with no
    warning; R's glm.nb stops at theta = 1.1e5 with a NaN standard error). Climbing there reaches the maximum found
    by Nelder-Mead on (b0, b1, log theta) from three starting points: theta 0.0309274, log-likelihood -8.5827743."""
    r = ci.stats.negative_binomial(SIM["x"].to_numpy()[:40], np.r_[np.zeros(39), 50.0])
    assert r.fit["converged"]
    np.testing.assert_allclose(r.fit["loglik"], -8.582774336165421, rtol=1e-10)
    np.testing.assert_allclose(r.fit["theta"], 0.030927379888799553, rtol=1e-5)
    np.testing.assert_allclose(r.coef.to_numpy(), [-19.10909329, 13.56640171], rtol=1e-6)


def test_data_not_changed():
    before = SIM.copy()
    _fit("sim")
    pd.testing.assert_frame_equal(SIM, before)
