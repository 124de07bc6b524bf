"""Generalised linear mixed models (Laplace) against lme4::glmer(nAGQ = 1) (tests/reference/mixed_terms.R)."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from reference_data import REFERENCE

import causalinfer as ci
from causalinfer._testing import check_result, check_unchanged
from causalinfer.exceptions import ArgumentError, DataError


def simulated(which: str) -> pd.DataFrame:
    data = pd.read_csv(REFERENCE / "mixed_terms_data.csv", dtype={"a": str, "b": str})
    part = data[data["set"] == which].rename(columns={"a": "g"}).drop(columns="set")
    return part.dropna(axis=1, how="all").reset_index(drop=True)


@pytest.mark.parametrize("index", range(3))
def test_glmm_against_glmer(reference, index):
    ref = reference("mixed_terms")
    case = ref["glmm"][index]
    df = simulated("binary")
    r = check_unchanged(df, lambda d: ci.stats.glmm(case["formula"], data=d, family=case["family"]))
    fit = r.details["fit"]
    # glmer with tolPwrss = 1e-13 and bobyqa's rhoend = 1e-10; reached: fixed effects within 2e-6 relative,
    # theta within 1e-6, the log-likelihood within 2e-9 relative (ours is never lower)
    t = r.terms
    assert t["term"].tolist() == case["terms"]
    np.testing.assert_allclose(t["estimate"], case["estimate"], rtol=1e-5)
    np.testing.assert_allclose(fit["theta"], np.atleast_1d(case["theta"]), rtol=1e-5, atol=1e-5)
    assert fit["loglik"] == pytest.approx(case["loglik"], rel=1e-8)
    assert fit["loglik"] >= case["loglik"] - 1e-8
    assert fit["aic"] == pytest.approx(case["aic"], rel=1e-8) and fit["bic"] == pytest.approx(case["bic"], rel=1e-8)
    np.testing.assert_allclose(t["std_error"], case["se"], rtol=1e-4)  # Hessian of the Laplace deviance, as vcov()
    np.testing.assert_allclose(t["statistic"], case["z"], rtol=1e-4)
    np.testing.assert_allclose(np.log(t["pvalue"]), np.log(case["p"]), rtol=1e-3)
    re = r.random_effects
    np.testing.assert_allclose(re["variance"], case["vc_var"], rtol=1e-4, atol=1e-6)
    modes = r.details["ranef"]["g"]
    assert modes["g"].tolist() == case["ranef_levels"]
    np.testing.assert_allclose(modes.iloc[:, 1:].to_numpy().ravel(), np.asarray(case["ranef"]).ravel(), atol=1e-5)
    np.testing.assert_allclose(r.predict(df, type="link")["estimate"], case["link"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(r.predict(df)["estimate"], case["response"], rtol=1e-5)
    new = pd.DataFrame(ref["new_binary"])
    p = r.predict(new, type="link")
    np.testing.assert_allclose(p["estimate"], case["new_link"], rtol=1e-5)  # unseen g99: population value
    assert p["known_group"].tolist() == [True, True, False]
    np.testing.assert_allclose(r.predict(new, include_random=False)["estimate"], case["new_response_fixed"], rtol=1e-5)
    check_result(r)


def test_coverage_of_the_wald_interval_for_a_fixed_slope():
    """95% Wald intervals for the slope of a random-intercept logit cover the truth in a small seeded simulation
    (20 replications: the band is three Monte Carlo standard errors below 0.95; larger runs in benchmarks/)."""
    rng = np.random.default_rng(20261130)
    hits, reps = 0, 20
    g = np.repeat(np.arange(12), 8)
    for _ in range(reps):
        x = rng.normal(size=g.size)
        eta = -0.3 + 0.7 * x + rng.normal(scale=0.8, size=12)[g]
        df = pd.DataFrame({"y": rng.binomial(1, 1 / (1 + np.exp(-eta))), "x": x, "g": g})
        lo, hi = ci.stats.glmm("y ~ x + (1 | g)", data=df).terms.loc[1, ["ci_low", "ci_high"]]
        hits += lo <= 0.7 <= hi
    assert hits / reps >= 0.95 - 3 * np.sqrt(0.95 * 0.05 / reps)


def test_bad_outcomes_and_structures_are_refused():
    df = simulated("binary")
    with pytest.raises(DataError, match="0/1 outcome"):
        ci.stats.glmm("yc ~ x + (1 | g)", data=df, family="binomial")
    with pytest.raises(DataError, match="non-negative whole counts"):
        ci.stats.glmm("y ~ x + (1 | g)", data=df.assign(y=df["yc"] - 5), family="poisson")
    with pytest.raises(ArgumentError, match="no random-effect term"):
        ci.stats.glmm("yb ~ x", data=df)
    with pytest.raises(DataError, match="not identifiable"):
        ci.stats.glmm("yb ~ x + (1 | row)", data=df.assign(row=np.arange(len(df))))
    with pytest.raises(ArgumentError, match="family"):
        ci.stats.glmm("yb ~ x + (1 | g)", data=df, family="gamma")


def test_docstring_examples_run():
    from causalinfer.stats import _glmm

    result = doctest.testmod(_glmm, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
