"""sun_abraham and did_imputation against pyfixest (and exact dummies by statsmodels) on the castle data and a
simulated panel; coverage of the imputation estimator's conservative interval; bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from reference_data import REFERENCE, load_reference

import causalinfer as ci
from causalinfer._testing import check_result

CASES = load_reference("pyfixest_event_reference")["cases"]


@pytest.fixture(scope="module")
def frames():
    sims = pd.read_csv(REFERENCE / "csdid_reference_data.csv")
    return {
        "castle": (ci.load_dataset("castle").frame, dict(outcome="l_homicide", treatment="post", unit="sid", time="year")),
        "s1": (sims[sims.sim == "s1"].drop(columns="sim").reset_index(drop=True), dict(outcome="y", treatment="d", unit="id", time="time")),
    }


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        return func(*args, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_sun_abraham_coefficients_match_pyfixest(case, frames):
    df, kw = frames[case["name"]]
    r = _quiet(ci.designs.sun_abraham, df, **kw)
    got = r.details["cohort_event"]
    want = pd.DataFrame(case["saturated"]["coefficients"])
    np.testing.assert_array_equal(got["cohort"].to_numpy(int), want["cohort"])
    np.testing.assert_array_equal(got["event_time"], want["event_time"])
    np.testing.assert_allclose(got["estimate"], want["estimate"], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(got["std_error"], want["std_error"], rtol=1e-8)
    check_result(r)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_sun_abraham_interaction_weights_by_hand(case, frames):
    """The event-time estimates are cohort-share weighted sums of pyfixest's coefficients, with R V R' errors."""
    df, kw = frames[case["name"]]
    r = _quiet(ci.designs.sun_abraham, df, **kw)
    sat = case["saturated"]
    coef = pd.DataFrame(sat["coefficients"])
    vcov = np.array(sat["vcov"])
    order = {name: i for i, name in enumerate(sat["names"])}
    idx = [order[f"rel_time::{e}:cohort::{g}"] for g, e in zip(coef["cohort"], coef["event_time"], strict=True)]
    v = vcov[np.ix_(idx, idx)]
    n_obs = r.details["cohort_event"]["n_obs"].to_numpy(float)
    for row in r.terms.itertuples():
        e = int(row.term.split("=")[1])
        m = (coef["event_time"] == e).to_numpy()
        w = np.where(m, n_obs, 0.0) / n_obs[m].sum()
        assert row.estimate == pytest.approx(w @ coef["estimate"].to_numpy(), rel=1e-8)
        assert row.std_error == pytest.approx(np.sqrt(w @ v @ w), rel=1e-8)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_imputation_point_estimates(case, frames):
    df, kw = frames[case["name"]]
    r = _quiet(ci.designs.did_imputation, df, **kw)
    exact = case["imputation_dummies"]
    assert r.estimate == pytest.approx(exact["overall"], rel=1e-9)
    assert r.terms["term"].tolist() == [f"e={e}" for e in exact["event_times"]]
    np.testing.assert_allclose(r.terms["estimate"], exact["dynamic"], rtol=1e-9)
    # pyfixest's did2s (Gardner's two-stage) gives the same numbers up to its fixed-effect solver's tolerance
    assert r.estimate == pytest.approx(case["two_stage"]["overall"], rel=1e-5)
    np.testing.assert_allclose(r.terms["estimate"], case["two_stage"]["dynamic"], rtol=1e-5)
    check_result(r)


def _het_panel(seed, n=200, t=6):
    """Staggered cohorts 3, 5 and never; parallel trends hold; effects grow with event time and differ by cohort."""
    rng = np.random.default_rng(seed)
    g = rng.choice([3, 5, 0], size=n, p=[0.35, 0.35, 0.3])
    unit = np.repeat(np.arange(n), t)
    time = np.tile(np.arange(1, t + 1), n)
    gu = g[unit]
    d = (gu > 0) & (time >= gu)
    tau = np.where(d, np.where(gu == 3, 1.0, 2.0) + 0.5 * (time - gu), 0.0)
    y = rng.normal(size=n)[unit] + 0.3 * time + tau + rng.normal(size=unit.size)
    return pd.DataFrame({"u": unit, "t": time, "d": d.astype(int), "y": y}), tau[d].mean()


def test_imputation_conservative_interval_covers():
    hits, reps = 0, 60
    for seed in range(reps):
        df, truth = _het_panel(seed)
        r = _quiet(ci.designs.did_imputation, df, outcome="y", treatment="d", unit="u", time="t", pretrends=0)
        hits += r.ci_low <= truth <= r.ci_high
    assert hits / reps >= 0.9


@pytest.mark.slow
def test_imputation_and_sun_abraham_coverage_slow():
    hits_i = hits_s = 0
    reps = 300
    for seed in range(1000, 1000 + reps):
        df, truth = _het_panel(seed)
        r = _quiet(ci.designs.did_imputation, df, outcome="y", treatment="d", unit="u", time="t", pretrends=0)
        hits_i += r.ci_low <= truth <= r.ci_high
        s = _quiet(ci.designs.sun_abraham, df, outcome="y", treatment="d", unit="u", time="t")
        hits_s += s.ci_low <= truth <= s.ci_high
    assert hits_i / reps >= 0.93
    assert 0.92 <= hits_s / reps <= 0.98


def test_no_never_treated_uses_last_cohort(frames):
    df, kw = frames["s1"]
    treated_only = df[df.g > 0]
    r = _quiet(ci.designs.sun_abraham, treated_only, **kw)
    assert r.diagnostic("control cohort").status == "warn"
    assert r.details["control_cohort"] == "5"
    assert set(r.details["cohort_event"]["cohort"]) == {3, 4}


def test_bad_input():
    df, _ = _het_panel(0)
    with pytest.raises(ci.RoleError, match="needs units that are treated after the first period"):
        ci.designs.sun_abraham(df.assign(d=(df.t >= 1).astype(int) * (df.u < 100) + 0), outcome="y", treatment="d", unit="u", time="t")
    with pytest.raises(ci.RoleError, match="switches off again"):
        ci.designs.did_imputation(df.assign(d=((df.t == 4) & (df.u < 5)).astype(int)), outcome="y", treatment="d", unit="u", time="t")
    with pytest.raises(ci.ArgumentError, match="horizons"):
        ci.designs.did_imputation(df, outcome="y", treatment="d", unit="u", time="t", horizons=-1)


IMPUTATION_CASES = load_reference("did_imputation_reference")["cases"]


@pytest.mark.parametrize("case", IMPUTATION_CASES, ids=[c["name"] for c in IMPUTATION_CASES])
def test_imputation_covariates_and_anticipation(case):
    """Against the imputation done by hand with dense dummies (point estimates, conservative standard errors, covariate
    coefficients; least squares both sides, so 1e-8) and, without anticipation, pyfixest's did2s point estimate (its
    fixed-effect solver's tolerance)."""
    df = ci.load_dataset("castle", frame_only=True)
    want = case["by_hand"]
    r = _quiet(
        ci.designs.did_imputation,
        df.assign(treat=((df.effyear > 0) & (df.year >= df.effyear)).astype(int)),
        outcome="l_homicide",
        treatment="treat",
        unit="sid",
        time="year",
        covariates=case["covariates"] or None,
        anticipation=case["anticipation"],
        pretrends=1,
    )
    assert r.estimate == pytest.approx(want["overall"], rel=1e-8)
    assert r.std_error == pytest.approx(want["overall_se"], rel=1e-8)
    assert r.terms["term"].tolist() == [f"e={e}" for e in want["event_times"]]
    np.testing.assert_allclose(r.terms["estimate"], want["dynamic"], rtol=1e-8)
    np.testing.assert_allclose(r.terms["std_error"], want["dynamic_se"], rtol=1e-8)
    if case["covariates"]:
        np.testing.assert_allclose(r.details["covariate_coefficients"]["coefficient"], want["covariate_coefficients"], rtol=1e-8)
    if "did2s_overall" in case:
        assert r.estimate == pytest.approx(case["did2s_overall"], rel=1e-5)
    assert r.details["anticipation"] == case["anticipation"]
    check_result(r)


def test_imputation_refuses_absorbed_covariate():
    df = ci.load_dataset("castle", frame_only=True)
    df = df.assign(treat=((df.effyear > 0) & (df.year >= df.effyear)).astype(int), region=df.sid % 4, trend=df.year * 2.0)
    kw = dict(outcome="l_homicide", treatment="treat", unit="sid", time="year")
    with pytest.raises(ci.DataError, match=r"\['region'\] do not vary within units and periods.*absorb"):
        ci.designs.did_imputation(df, covariates=["region", "l_police"], **kw)
    with pytest.raises(ci.DataError, match=r"\['trend'\] do not vary"):
        ci.designs.did_imputation(df, covariates=["trend"], **kw)


def test_single_unit_cohort_is_flagged():
    """A cohort of one unit: the standard errors miss its own variability; both estimators say so by name."""
    df, _ = _het_panel(1, n=60)
    first = df.loc[df.d == 1].groupby("u")["t"].min()
    lone = int(first.index[0])
    df = df.assign(d=np.where((df.u == lone) & (df.t >= 4), 1, np.where(df.u == lone, 0, df.d)))  # the only unit adopting in 4
    for func in (ci.designs.did_imputation, ci.designs.sun_abraham):
        r = _quiet(func, df, outcome="y", treatment="d", unit="u", time="t")
        diag = r.diagnostic("cohort sizes")
        assert diag.status == "warn"
        assert "cohort(s) 4 contain a single unit" in diag.message and "too small" in diag.message


def test_anticipation_drops_units_with_nothing_before_the_window():
    df, _ = _het_panel(2, n=60)
    early = int(df.u[df.d == 1].iloc[0])
    df = df.assign(d=np.where(df.u == early, (df.t >= 2).astype(int), df.d))  # adopts in the second period
    r = _quiet(ci.designs.did_imputation, df, outcome="y", treatment="d", unit="u", time="t", anticipation=1, pretrends=0)
    diag = r.diagnostic("anticipation")
    assert diag.status == "warn" and f"({early})" in diag.message and "dropped" in diag.message
    assert r.terms["term"].iloc[0] == "e=-1"
    with pytest.raises(ci.DataError, match="no unit has an observation before its anticipation window"):
        ci.designs.did_imputation(
            df[df.d.groupby(df.u).transform("max") == 1], outcome="y", treatment="d", unit="u", time="t", anticipation=5
        )
