"""experiments.analyze against GrowthBook's frequentist engine (gbstats) and R (t.test, chisq.test); the always-valid\nresults against gbstats' sequential engine.

The references are computed by tests/reference/experiments_gbstats.py and experiments_r.R on the experiments
stored in tests/reference/experiments_gbstats_data.csv.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest
from reference_data import REFERENCE, load_reference

from causalinfer import experiments as ex

DATA = pd.read_csv(REFERENCE / "experiments_gbstats_data.csv")
GB = load_reference("experiments_gbstats")["cases"]
R = load_reference("experiments_r")["cases"]

METRICS = {
    "mean": ex.mean("revenue", name="mean"),
    "proportion": ex.proportion("converted", name="proportion"),
    "ratio": ex.ratio("clicks", "sessions", name="ratio"),
    "cuped_mean": ex.mean("revenue", name="cuped_mean", covariates="pre_revenue"),
    "cuped_proportion": ex.proportion("converted", name="cuped_proportion", covariates="pre_converted"),
    "quantile_50": ex.quantile("revenue", 0.5, name="quantile_50"),
    "quantile_90": ex.quantile("revenue", 0.9, name="quantile_90"),
}


@functools.lru_cache
def _analysis(dataset, lift="relative"):
    frame = DATA[DATA.dataset == dataset]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return ex.analyze(frame, control="control", metrics=list(METRICS.values()), lift=lift, adjust="none")


def _id(case):
    return f"{case['what']}-{case['dataset']}-{case.get('variant', '')}"


def _close(ours, ref, key):
    if key == "pvalue" and ref < 1e-7:  # gbstats computes 1 - cdf, which has no relative accuracy below ~1e-8
        assert ours == pytest.approx(ref, abs=1e-12)
    else:
        assert ours == pytest.approx(ref, rel=1e-9), key


@pytest.mark.parametrize("case", [c for c in GB if c["what"] != "srm" and not c["what"].startswith("sequential")], ids=_id)
@pytest.mark.parametrize("scale", ["absolute", "relative"])
def test_lifts_match_gbstats(case, scale):
    res = _analysis(case["dataset"], lift=scale)[f"{case['what']}: {case['variant']}"]
    ref = case[scale]
    for key in ("estimate", "ci_low", "ci_high", "pvalue", "std_error", "df"):
        ours = res.df if key == "df" else getattr(res, key)
        _close(ours, ref[key], key)
    row = res.details["lifts"].set_index("scale").loc[scale]
    assert row["estimate"] == res.estimate and row["pvalue"] == res.pvalue
    if "theta" in case:
        assert res.details["theta"][0] == pytest.approx(case["theta"], rel=1e-9)
        assert 0 < res.details["variance_reduction"] < 1


@functools.lru_cache
def _sequential(dataset, tuning, lift):
    frame = DATA[DATA.dataset == dataset]
    metrics = [ex.mean("revenue", name="sequential_mean"), ex.ratio("clicks", "sessions", name="sequential_ratio")]
    return ex.analyze(frame, control="control", metrics=metrics, lift=lift, sequential="mixture", sequential_tuning=tuning)


@pytest.mark.parametrize("case", [c for c in GB if c["what"].startswith("sequential")], ids=lambda c: f"{_id(c)}-{c['tuning']}")
@pytest.mark.parametrize("scale", ["absolute", "relative"])
def test_always_valid_matches_gbstats_sequential(case, scale):
    res = _sequential(case["dataset"], case["tuning"], scale)[f"{case['what']}: {case['variant']}"]
    ref = case[scale]
    for key in ("estimate", "ci_low", "ci_high", "pvalue", "std_error"):
        _close(getattr(res, key), ref[key], key)
    assert res.df is None and "Always-valid" in res.method and res.details["sequential"]["look_n"] == res.n


@pytest.mark.parametrize("case", [c for c in GB if c["what"] == "srm"], ids=_id)
def test_srm_matches_gbstats(case):
    res = _analysis(case["dataset"])["sample ratio mismatch"]
    assert res.pvalue == pytest.approx(case["pvalue"], rel=1e-9)


@pytest.mark.parametrize("case", [c for c in R if c["what"] in ("srm", "srm_unequal")], ids=_id)
def test_srm_matches_r_chisq(case):
    frame = DATA[DATA.dataset == case["dataset"]]
    allocation = {"control": 0.4, "b": 0.3, "c": 0.3} if case["what"] == "srm_unequal" else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ex.srm_test(frame, allocation=allocation)
    assert res.statistic == pytest.approx(case["statistic"], rel=1e-9)
    assert res.df == case["df"]
    assert res.pvalue == pytest.approx(case["pvalue"], rel=1e-9)
    assert res.diagnostic("sample ratio mismatch").status == ("fail" if case["pvalue"] < 0.001 else "ok")


@pytest.mark.parametrize("case", [c for c in R if c["what"] == "welch"], ids=_id)
def test_absolute_lift_of_mean_is_welch_t_test(case):
    res = _analysis(case["dataset"], lift="absolute")[f"mean: {case['variant']}"]
    for key in ("estimate", "statistic", "df", "pvalue", "ci_low", "ci_high", "std_error"):
        assert getattr(res, key) == pytest.approx(case[key], rel=1e-9), key


@pytest.mark.parametrize("case", [c for c in R if c["what"] == "noninferiority"], ids=_id)
def test_guardrail_is_one_sided_t_test_against_the_margin(case):
    frame = DATA[DATA.dataset == case["dataset"]]
    metric = ex.mean("revenue", role="guardrail", margin=case["margin"])
    res = ex.analyze(frame, control="control", metrics=[metric], lift="absolute")[f"revenue: {case['variant']}"]
    assert res.alternative == "greater" and res.null_value == -case["margin"]
    assert res.statistic == pytest.approx(case["statistic"], rel=1e-9)
    assert res.pvalue == pytest.approx(case["pvalue"], rel=1e-9)
    assert res.ci_low == pytest.approx(case["ci_low"], rel=1e-9)
    assert np.isinf(res.ci_high)


@pytest.mark.parametrize("case", [c for c in R if c["what"] == "poststratified"], ids=_id)
def test_poststratified_difference_is_lin_regression_with_hc2(case):
    frame = DATA[DATA.dataset == case["dataset"]].assign(stratum=lambda f: f.sessions % 3)
    res = ex.analyze(frame, control="control", metrics=["revenue"], strata="stratum", lift="absolute")[f"revenue: {case['variant']}"]
    assert res.estimate == pytest.approx(case["estimate"], rel=1e-9)
    assert res.std_error == pytest.approx(case["std_error"], rel=1e-9)
    assert "post-stratified on 'stratum' (3 strata)" in res.method
