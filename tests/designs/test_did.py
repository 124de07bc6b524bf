"""Difference-in-differences against R (tests/reference/did.R -> did.json), simulations, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged

TERM_COLS = (("estimate", "coef"), ("std_error", "se"), ("statistic", "t"), ("pvalue", "p"), ("ci_low", "ci_low"), ("ci_high", "ci_high"))


def _names(v):
    if v is None:
        return []
    return [v] if isinstance(v, str) else list(v)


@pytest.fixture(scope="module")
def frames():
    from reference_data import load_reference

    ref = load_reference("did")
    sim = pd.DataFrame(ref["sim"])
    unbal = sim.drop(index=[i - 1 for i in ref["unbalanced_drop"]]).reset_index(drop=True)
    two = sim[sim.time.isin([2, 3])].reset_index(drop=True)
    two["g"] = (two.id <= 15).astype(int)
    return {"castle": ci.load_dataset("castle", frame_only=True), "sim": sim, "unbal": unbal, "two": two}


def _quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        return f(*a, **k)


def test_twfe_and_2x2_against_r(reference, frames):
    ref = reference("did")
    n = 0
    for case in ref["cases"]:
        want = case["expected"]
        df = frames[case["data"]]
        if case["kind"] == "twfe":
            r = _quiet(
                ci.designs.twfe,
                df,
                outcome=case["outcome"],
                treatment=case["treatment"],
                unit=case["unit"],
                time=case["time"],
                covariates=_names(case["covariates"]),
                weights=case["weights"],
                cov_type=case["cov_type"],
            )
            t = r.terms
        elif case["kind"] == "2x2":
            r = _quiet(
                ci.designs.did_2x2,
                df,
                outcome="y",
                treatment="g",
                time="time",
                unit=case["unit"],
                covariates="x",
                cov_type=case["cov_type"],
            )
            t = r.terms.iloc[[3]]
        else:
            continue
        n += 1
        for col, key in TERM_COLS:
            np.testing.assert_allclose(t[col].to_numpy(), want[key], rtol=1e-8, atol=1e-12, err_msg=f"{case['name']} {col}")
        assert r.df == want["df"]
        check_result(r)
    assert n == 10


def test_event_study_against_r(reference, frames):
    (case,) = [c for c in reference("did")["cases"] if c["kind"] == "event_study"]
    want = case["expected"]
    r = _quiet(ci.designs.event_study, frames["castle"], outcome="l_homicide", treatment="post", unit="sid", time="year", window=(-5, 4))
    for col, key in TERM_COLS:
        np.testing.assert_allclose(r.terms[col].to_numpy(), want[key], rtol=1e-8, atol=1e-12, err_msg=col)
    assert r.details["pretrend"]["statistic"][0] == pytest.approx(want["pretrend_wald"], rel=1e-8)
    assert r.estimate == pytest.approx(want["post_mean"], rel=1e-8)
    assert r.std_error == pytest.approx(want["post_mean_se"], rel=1e-8)
    assert r.diagnostic("pre-trends").status == "ok"
    check_result(r)


def test_callaway_santanna_against_hand_computation_in_r(reference, frames):
    for case in [c for c in reference("did")["cases"] if c["kind"] == "cs"]:
        want = case["expected"]
        df = frames[case["data"]]
        kw = dict(outcome=case["outcome"], treatment=case["treatment"], unit=case["unit"], time=case["time"], control=case["control"])
        cells = _quiet(ci.designs.callaway_santanna, df, aggregate="none", **kw)
        gt = cells.details["group_time"]
        np.testing.assert_array_equal(gt["cohort"], want["g"])
        np.testing.assert_array_equal(gt["period"], want["t"])
        np.testing.assert_allclose(gt["estimate"], want["att"], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(gt["std_error"], want["se"], rtol=1e-9)
        simple = _quiet(ci.designs.callaway_santanna, df, aggregate="simple", **kw)
        assert simple.estimate == pytest.approx(want["simple"], rel=1e-9)
        # aggregated standard errors include the estimation of the cohort-share weights (as did::aggte), which the
        # hand computation leaves out: they are checked against csdid in test_did_csdid.py
        dyn = _quiet(ci.designs.callaway_santanna, df, aggregate="dynamic", **kw)
        assert dyn.terms["term"].tolist() == [f"e={e}" for e in want["event_times"]]
        np.testing.assert_allclose(dyn.terms["estimate"], want["dynamic"], rtol=1e-9, atol=1e-12)
        assert dyn.estimate == pytest.approx(want["dynamic_overall"], rel=1e-9)
        for r in (cells, simple, dyn):
            check_result(r)


def test_castle_known_results_and_plots():
    ds = ci.load_dataset("castle")
    card = ci.data_card("castle")
    r = _quiet(ci.designs.twfe, ds, weights="popwt")
    assert round(r.estimate, 4) == card.known_results[0]["value"] == 0.0755
    first = ds.frame.groupby("sid")["effyear"].first()
    assert ((first > 0).sum(), (first == 0).sum()) == (21, 29)
    assert r.diagnostic("staggered adoption").status == "warn"
    es = _quiet(ci.designs.event_study, ds, window=(-5, 4))
    ax = ci.designs.plot_event_study(es)
    assert len(ax.collections) + len(ax.lines) > 0
    cs = _quiet(ci.designs.callaway_santanna, ds, aggregate="dynamic")
    ci.designs.plot_event_study(cs)
    assert cs.diagnostic("cohort sizes").status == "warn"
    with pytest.raises(ci.ArgumentTypeError, match="no event-time coefficients"):
        ci.designs.plot_event_study(r)


def test_2x2_equals_difference_of_differences(frames):
    two = frames["two"]
    r = check_unchanged(two, lambda d: ci.designs.did_2x2(d, outcome="y", treatment="g", time="time", unit="id"))
    m = two.groupby(["g", "time"])["y"].mean()
    assert r.estimate == pytest.approx((m[1, 3] - m[1, 2]) - (m[0, 3] - m[0, 2]), rel=1e-9)
    assert "cluster-robust" in r.method
    check_nested_intervals(ci.designs.did_2x2, two, outcome="y", treatment="g", time="time", unit="id")


def staggered_panel(seed, n_units=120, n_times=8):
    """Cohorts treated from periods 2 and 5 (40% each) and never (20%); every effect is positive and grows with time
    since treatment, faster in the early cohort (2 vs 0.5 per period)."""
    rng = np.random.default_rng(seed)
    cohort = np.repeat([2, 5, 0], [48, 48, 24])
    unit = np.repeat(np.arange(n_units), n_times)
    time = np.tile(np.arange(1, n_times + 1), n_units)
    g = cohort[unit]
    treated = (g > 0) & (time >= g)
    effect = np.where(treated, np.where(g == 2, 2.0, 0.5) * (time - g + 1), 0.0)
    y = rng.normal(size=n_units)[unit] + 0.5 * time + effect + rng.normal(size=unit.size)
    df = pd.DataFrame({"unit": unit, "time": time, "d": treated.astype(int), "y": y})
    truth = effect[treated].mean()  # cohort-size weighted average of the post cells = mean over treated unit-periods
    return df, truth


@pytest.mark.slow
def test_twfe_biased_cs_unbiased_under_staggered_heterogeneous_effects():
    ests_twfe, ests_cs, cover = [], [], 0
    for seed in range(40):
        df, truth = staggered_panel(seed)
        ests_twfe.append(_quiet(ci.designs.twfe, df, outcome="y", treatment="d", unit="unit", time="time").estimate)
        cs = _quiet(ci.designs.callaway_santanna, df, outcome="y", treatment="d", unit="unit", time="time", aggregate="simple")
        ests_cs.append(cs.estimate)
        cover += cs.ci_low <= truth <= cs.ci_high
    assert abs(np.mean(ests_cs) - truth) < 0.1
    assert np.mean(ests_twfe) < 0 < truth  # comparisons with already-treated units flip the sign of TWFE
    assert cover / 40 >= 0.88


@pytest.mark.slow
def test_twfe_coverage_homogeneous_effect():
    hits = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        n_units, n_times = 40, 5
        unit = np.repeat(np.arange(n_units), n_times)
        time = np.tile(np.arange(n_times), n_units)
        d = ((unit < 20) & (time >= 3)).astype(float)
        e = rng.normal(size=unit.size) + 0.5 * rng.normal(size=n_units)[unit]  # within-unit correlation
        y = rng.normal(size=n_units)[unit] + 0.2 * time + 1.5 * d + e
        r = _quiet(ci.designs.twfe, pd.DataFrame({"u": unit, "t": time, "d": d, "y": y}), outcome="y", treatment="d", unit="u", time="t")
        hits += r.ci_low <= 1.5 <= r.ci_high
    assert 0.91 <= hits / 200 <= 0.99


def test_unbalanced_panel_warns_in_twfe_and_is_refused_by_cs(frames):
    unbal = frames["unbal"]
    with pytest.warns(ci.AssumptionWarning, match="unbalanced"):
        r = ci.designs.twfe(unbal, outcome="y", treatment="d", unit="id", time="time")
    assert r.diagnostic("panel balance").status == "warn"
    with pytest.raises(ci.DataError, match="needs a balanced panel"):
        ci.designs.callaway_santanna(unbal, outcome="y", treatment="d", unit="id", time="time")


def test_never_observed_before_treatment(frames):
    df = frames["sim"].copy()
    df["d"] = np.where(df.id <= 30, 1, 0)  # treated from the first period on
    with pytest.raises(ci.DataError, match="already treated in the first period"):
        ci.designs.callaway_santanna(df, outcome="y", treatment="d", unit="id", time="time")
    df2 = frames["sim"].copy()
    df2.loc[df2.id == 40, "d"] = 1  # one always-treated unit among others: dropped with a warning
    with pytest.warns(ci.AssumptionWarning, match="already treated in the first period were dropped"):
        r = ci.designs.callaway_santanna(df2, outcome="y", treatment="d", unit="id", time="time")
    assert r.diagnostic("always treated").value == 1


@pytest.mark.parametrize(
    ("func", "change", "exc", "match"),
    [
        ("callaway_santanna", dict(treatment="flip"), ci.RoleError, r"switches off again for unit"),
        ("event_study", dict(treatment="flip"), ci.RoleError, r"switches off again"),
        ("callaway_santanna", dict(control="nevertreated"), ci.ArgumentError, r"`control` must be one of"),
        ("event_study", dict(window=(1, 3)), ci.ArgumentError, r"must contain the reference period"),
        ("twfe", dict(unit=None), ci.RoleError, r"twfe needs the `unit` role"),
        ("twfe", dict(time="id"), ci.RoleError, r"two roles"),
        ("did_2x2", dict(treatment="d"), ci.RoleError, r"exactly two periods"),
        ("event_study", dict(window=None, treatment="all_treated"), ci.DataError, r"every unit is eventually treated"),
    ],
)
def test_bad_input(frames, func, change, exc, match):
    df = frames["sim"].copy()
    df["flip"] = ((df.id <= 10) & (df.time.isin([3, 4]))).astype(int)
    df["all_treated"] = (df.time >= 2 + df.id % 3).astype(int)
    kw = dict(outcome="y", treatment="d", unit="id", time="time")
    kw.update(change)
    with pytest.raises(exc, match=match):
        _quiet(getattr(ci.designs, func), df, **kw)


def test_2x2_refuses_treatment_varying_within_unit(frames):
    two = frames["two"].copy()
    two["dpost"] = two["g"] * (two["time"] == 3)
    with pytest.raises(ci.RoleError, match="varies within unit 'id'"):
        ci.designs.did_2x2(two, outcome="y", treatment="dpost", time="time", unit="id")
    with pytest.raises(ci.DataError, match="appears more than once"):
        ci.designs.twfe(pd.concat([two, two.iloc[:1]]), outcome="y", treatment="g", unit="id", time="time")


def test_cs_pretrend_flags_violation_and_passes_parallel_trends():
    df, _ = staggered_panel(0)
    ok = _quiet(ci.designs.callaway_santanna, df, outcome="y", treatment="d", unit="unit", time="time")
    assert ok.diagnostic("pre-trends").status == "ok"
    bad = df.copy()
    late = (bad["unit"] >= 48) & (bad["unit"] < 96)  # the late cohort trends upwards before (and after) treatment
    bad.loc[late, "y"] += 0.8 * bad.loc[late, "time"]
    r = _quiet(ci.designs.callaway_santanna, bad, outcome="y", treatment="d", unit="unit", time="time", control="notyet")
    assert r.diagnostic("pre-trends").status == "warn"
