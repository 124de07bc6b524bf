"""Design estimators answer with EffectResults: effect labels, refutation by re-running the design, sensitivity, compare."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

import causalinfer as ci
from causalinfer._testing import check_result, check_unchanged
from causalinfer.causal import EffectResult, RefutationResult
from causalinfer.exceptions import ArgumentError, AssumptionWarning
from causalinfer.results import Result


def _panel(effect: float = 1.0, seed: int = 0) -> pd.DataFrame:
    """Staggered adoption: 40 units, 6 periods, cohorts 2002 and 2004 and never treated; constant effect."""
    rng = np.random.default_rng(seed)
    n_units, n_times = 40, 6
    unit = np.repeat(np.arange(n_units), n_times)
    time = np.tile(np.arange(2000, 2000 + n_times), n_units)
    first = np.repeat([2002, 2004, 9999, 9999], 10)[unit]
    d = (time >= first).astype(int)
    y = rng.normal(size=n_units)[unit] + 0.1 * (time - 2000) + effect * d + rng.normal(size=unit.size)
    return pd.DataFrame(
        {"u": unit, "t": time, "d": d, "y": y, "post": (time >= 2003).astype(int), "g": (first == 2004).astype(int), "region": unit % 8}
    )


def _cross(n: int = 600, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    z = rng.integers(0, 2, n)
    u = rng.normal(size=n)
    d = (0.9 * z + 0.5 * x + u > 0.5).astype(int)
    r = rng.uniform(-1, 1, n)
    y = 1 + d + x + (r >= 0) + 0.5 * u + rng.normal(size=n)
    return pd.DataFrame({"y": y, "d": d, "z": z, "x": x, "r": r, "dose": x + rng.normal(size=n)})


def _did_2x2_data() -> pd.DataFrame:
    return _panel()[lambda f: f.t.isin([2002, 2004]) & (f.u >= 10)]


CASES = {
    "iv_2sls": (_cross, dict(outcome="y", treatment="d", instruments="z", covariates="x"), "LATE"),
    "wald_estimator": (_cross, dict(outcome="y", treatment="d", instrument="z"), "LATE"),
    "did_2x2": (_did_2x2_data, dict(outcome="y", treatment="g", time="post", unit="u"), "ATT"),
    "twfe": (_panel, dict(outcome="y", treatment="d", unit="u", time="t"), "ATT (two-way fixed effects)"),
    "callaway_santanna": (_panel, dict(outcome="y", treatment="d", unit="u", time="t"), "ATT"),
    "sun_abraham": (_panel, dict(outcome="y", treatment="d", unit="u", time="t"), "ATT"),
    "did_imputation": (_panel, dict(outcome="y", treatment="d", unit="u", time="t"), "ATT"),
    "rdd": (_cross, dict(outcome="y", running="r", cutoff=0.0, bandwidth=0.5, covariates="x"), "effect at the cutoff"),
    "dose_response": (_cross, dict(outcome="y", treatment="dose", covariates="x"), "average marginal effect"),
    "partially_linear_dml": (
        _cross,
        dict(outcome="y", treatment="dose", covariates="x", model_y=LinearRegression(), model_t=LinearRegression()),
        "average marginal effect",
    ),
}


def _run(name: str, **extra):
    make, kw, _ = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        return getattr(ci.designs, name)(make(), **{**kw, **extra})


@pytest.mark.parametrize("name", sorted(CASES))
def test_headline_is_an_effect_result_that_round_trips(name):
    r = _run(name)
    _, kw, effect = CASES[name]
    assert isinstance(r, EffectResult)
    assert r.effect == effect
    assert r.outcome == "y"
    assert r.treatment == kw.get("treatment", "r >= 0")
    check_result(r)
    rebuilt = Result.from_json(r.to_json())
    assert type(rebuilt) is EffectResult and rebuilt.effect == effect
    with pytest.raises(ArgumentError, match="does not carry its data"):
        rebuilt.refute("subset", n_simulations=2)


def test_fields_tables_and_diagnostics_are_unchanged_by_the_wrapping():
    ds = ci.load_dataset("close_college")
    r = ci.designs.iv_2sls(ds)
    assert r.effect == "IV effect"  # years of schooling: not a 0/1 treatment
    assert list(r.terms["term"]) == ["(Intercept)", "educ", "exper", "black", "south", "married", "smsa"]
    assert r.diagnostic("first-stage strength").status == "ok"
    assert {"first_stage", "first_stage_F", "cov_type"} <= set(r.details)
    assert r.estimate == pytest.approx(0.1241642354849688, rel=1e-9)
    assert r.label == "educ"


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_design_refutes_itself(name):
    r = _run(name)
    kinds = ["placebo", "subset", "bootstrap"]
    rs = r.refute(kinds, n_simulations=8, random_state=3, progress=False, n_jobs=1)
    assert list(rs.labels) == kinds
    for ref in rs:
        assert isinstance(ref, RefutationResult)
        assert ref.original_estimate == r.estimate
        assert "p-value" in ref.estimand and "passed when p >= alpha" in ref.estimand
        assert ref.diagnostics[0].name == "refutation"
        check_result(ref)


def test_design_refuters_are_reproducible_and_independent_of_threads():
    r = _run("twfe")
    a = r.refute("bootstrap", n_simulations=6, random_state=11, progress=False, n_jobs=1)
    b = r.refute("bootstrap", n_simulations=6, random_state=11, progress=False, n_jobs=2)
    np.testing.assert_array_equal(a.details["simulations"]["estimate"], b.details["simulations"]["estimate"])


def test_iv_refuters_on_card_data():
    r = ci.designs.iv_2sls(ci.load_dataset("close_college"))
    placebo = r.refute("placebo", n_simulations=40, random_state=1, progress=False)
    assert placebo.passed and abs(placebo.estimate) < 0.05
    assert "permutation" in placebo.estimand and "outcome" in placebo.estimand
    assert 0 < placebo.details["placebo_exceedance"] <= 1
    rcc = r.refute("random_common_cause", n_simulations=10, random_state=2, progress=False)
    assert rcc.passed and rcc.estimate == pytest.approx(r.estimate, abs=0.2 * r.std_error)
    subset = r.refute("subset", n_simulations=20, random_state=3, progress=False)
    assert subset.passed and "rows" in subset.method


def test_did_placebo_removes_a_large_effect_and_bootstrap_resamples_units():
    r = _run("twfe")
    assert r.estimate == pytest.approx(1.0, abs=0.4)
    placebo = r.refute("placebo", n_simulations=40, random_state=4, progress=False)
    assert placebo.passed and abs(placebo.estimate) < 0.25
    assert placebo.details["placebo_exceedance"] < 0.1  # a real effect is larger than almost every placebo effect
    boot = r.refute("bootstrap", n_simulations=20, random_state=5, progress=False)
    assert boot.passed and "bootstrap of units (u)" in boot.method
    cs = _run("callaway_santanna")
    boot_cs = cs.refute("bootstrap", n_simulations=10, random_state=6, progress=False)  # needs relabelled, balanced units
    assert boot_cs.passed


def test_cluster_bootstrap_relabels_units_inside_clusters():
    make, kw, _ = CASES["twfe"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        r = ci.designs.twfe(make(), **kw, cluster="region")
    boot = r.refute("bootstrap", n_simulations=10, random_state=7, progress=False)
    assert "clusters (region)" in boot.method
    assert np.isfinite(boot.details["simulations"]["estimate"]).all()


def test_rdd_placebo_cutoff_passes_for_a_clean_jump_and_fails_for_a_spurious_one():
    rng = np.random.default_rng(8)
    n = 4000
    r = rng.uniform(-1, 1, n)
    y = 0.5 * r + 2.0 * (r >= 0) + rng.normal(scale=0.5, size=n)
    clean = ci.designs.rdd(pd.DataFrame({"y": y, "r": r}), outcome="y", running="r", cutoff=0.0, bandwidth=0.3, density=False)
    ref = clean.refute("placebo")
    assert ref.passed and ref.n == 2
    table = ref.details["simulations"]
    assert list(table["side"]) == ["below", "above"]
    assert table["cutoff"].iloc[0] == pytest.approx(np.median(r[r < 0]))
    assert table["cutoff"].iloc[1] == pytest.approx(np.median(r[r >= 0]))
    assert ref.statistic_name == "chi2"
    # steps at the placebo cutoffs too: the discontinuity is not specific to the real cutoff
    steps = y + 2.0 * (r >= np.median(r[r < 0])) + 2.0 * (r >= np.median(r[r >= 0]))
    spurious = ci.designs.rdd(pd.DataFrame({"y": steps, "r": r}), outcome="y", running="r", cutoff=0.0, bandwidth=0.3, density=False)
    bad = spurious.refute("placebo")
    assert not bad.passed and bad.diagnostics[0].status == "fail"


def test_refuters_that_do_not_apply_are_refused_with_the_choices():
    rdd = _run("rdd")
    with pytest.raises(ArgumentError, match=r"`kind`.*placebo"):
        rdd.refute("random_common_cause", n_simulations=2)
    with pytest.raises(ArgumentError, match="kind"):
        _run("iv_2sls").refute("dummy_outcome", n_simulations=2)
    default = _run("did_2x2").refute(n_simulations=4, random_state=1, progress=False)
    assert list(default.labels) == ["placebo", "subset"]


def test_refuting_leaves_the_callers_frame_unchanged():
    frame = _cross()
    check_unchanged(
        frame,
        lambda f: ci.designs.iv_2sls(f, outcome="y", treatment="d", instruments="z", covariates="x").refute(
            ["placebo", "bootstrap", "random_common_cause"], n_simulations=3, random_state=1, progress=False
        ),
    )


def test_sensitivity_e_value_for_continuous_treatments_and_a_clear_refusal_elsewhere():
    r = _run("dose_response")
    ev = r.sensitivity("e_value")
    sd = float(np.std(_cross()["y"], ddof=1))
    expected = ci.causal.e_value(r, outcome_sd=sd)
    assert ev.estimate == pytest.approx(expected.estimate, rel=1e-9)
    assert ev.estimate > 1
    for name in ("iv_2sls", "twfe", "rdd"):
        with pytest.raises(ArgumentError, match=r"do not apply.*refute"):
            _run(name).sensitivity("e_value")
    with pytest.raises(ArgumentError, match="e_value"):
        r.sensitivity("robustness_value")


def test_compare_puts_2sls_next_to_regression_on_card_data():
    ds = ci.load_dataset("close_college")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AssumptionWarning)
        rs = ci.causal.compare(ds, methods=["regression", "iv"])
        ols = ci.designs.dose_response(ds)
    iv = ci.designs.iv_2sls(ds)
    assert list(rs.labels) == ["regression (dose-response slope)", "iv"]
    assert rs[0].estimate == pytest.approx(ols.estimate, rel=1e-9)
    assert rs[0].estimate == pytest.approx(0.0712, abs=5e-4)  # Card (1995): OLS about 0.07
    assert rs[1].estimate == pytest.approx(iv.estimate, rel=1e-9)
    assert rs[1].estimate == pytest.approx(0.1242, abs=5e-4)  # 2SLS with college proximity: about 0.12
    frame = rs.to_frame()
    assert len(frame) == 2  # one row per method: coefficient tables move to details
    pd.testing.assert_frame_equal(rs[1].details["terms"], iv.terms)
    assert rs.title == "effect of educ on lwage by 2 methods"
    check_result(rs)
    ref = rs[1].refute("subset", n_simulations=4, random_state=1, progress=False)  # the set's results keep their data
    assert isinstance(ref, RefutationResult)


def test_compare_with_iv_and_a_binary_treatment():
    frame = _cross()
    rs = ci.causal.compare(frame, methods=["regression", "aipw", "iv"], outcome="y", treatment="d", covariates="x", instruments="z")
    assert [r.effect for r in rs] == ["ATE", "ATE", "LATE"]
    assert rs[2].estimate == pytest.approx(
        ci.designs.iv_2sls(frame, outcome="y", treatment="d", covariates="x", instruments="z").estimate, rel=1e-9
    )
    with pytest.raises(ArgumentError, match="estimand"):
        ci.causal.compare(ci.load_dataset("close_college"), methods=["regression", "iv"], estimand="ATT")


@pytest.mark.slow
def test_placebo_refuters_rarely_fail_a_sound_design():
    """Seeded calibration: on data that satisfy the design, the placebo refuters fail about alpha of the time."""
    rdd_fails = 0
    for seed in range(40):
        rng = np.random.default_rng(100 + seed)
        r = rng.uniform(-1, 1, 800)
        y = np.sin(2 * r) + 1.5 * (r >= 0) + rng.normal(scale=0.5, size=800)
        res = ci.designs.rdd(pd.DataFrame({"y": y, "r": r}), outcome="y", running="r", cutoff=0.0, bandwidth=0.3, density=False)
        rdd_fails += not res.refute("placebo").passed
    assert rdd_fails <= 6  # 40 tests at alpha = 0.05: 2 expected, P(more than 6) < 0.01
    did_fails = 0
    for seed in range(15):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AssumptionWarning)
            res = ci.designs.twfe(_panel(seed=seed), outcome="y", treatment="d", unit="u", time="t")
        did_fails += not res.refute("placebo", n_simulations=30, random_state=seed, progress=False).passed
    assert did_fails <= 3


def test_plot_kinds_that_need_propensity_balance_say_so():
    r = _run("rdd")
    r.plot()
    with pytest.raises(ArgumentError, match="before/after"):
        r.plot(kind="love")
    with pytest.raises(ArgumentError, match="propensity"):
        _run("iv_2sls").plot(kind="overlap")
