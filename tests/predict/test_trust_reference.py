"""Metric intervals, paired comparison and drift tests against R (tests/reference/trust.R -> trust.json)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalinfer.predict import Profile, compare_models, evaluate
from causalinfer.predict._common import wilson_interval
from causalinfer.predict._drift import adjust_pvalues

RTOL = 1e-9


def approx(x):
    return pytest.approx(x, rel=RTOL, abs=1e-12)


def test_wilson_against_prop_test(reference):
    ref = reference("trust")
    assert len(ref["wilson"]) >= 6
    for case in ref["wilson"]:
        lo, hi = wilson_interval(int(case["x"]), int(case["n"]), case["conf_level"])
        assert (lo, hi) == (approx(case["ci_low"]), approx(case["ci_high"])), case


def test_auc_delong_and_losses_against_r(reference):
    ref = reference("trust")
    assert len(ref["auc"]) >= 5
    for case in ref["auc"]:
        y, a = np.asarray(case["y"]), np.asarray(case["a"], dtype=float)
        cl = case["conf_level"]
        res = evaluate(y, a, conf_level=cl)
        auc = res["auc"]
        assert auc.estimate == approx(case["auc"]), case["name"]
        assert (auc.ci_low, auc.ci_high) == (approx(case["auc_low"]), approx(case["auc_high"])), case["name"]
        assert (res["brier"].estimate, res["brier"].ci_low, res["brier"].ci_high) == (
            approx(case["brier"]),
            approx(case["brier_low"]),
            approx(case["brier_high"]),
        )
        assert (res["log_loss"].estimate, res["log_loss"].ci_low, res["log_loss"].ci_high) == (
            approx(case["log_loss"]),
            approx(case["log_loss_low"]),
            approx(case["log_loss_high"]),
        )
        assert (res["accuracy"].ci_low, res["accuracy"].ci_high) == (approx(case["accuracy_low"]), approx(case["accuracy_high"]))


def test_paired_comparison_against_roc_test_and_t_test(reference):
    ref = reference("trust")
    for case in ref["auc"]:
        y = np.asarray(case["y"])
        a, b = np.asarray(case["a"], dtype=float), np.asarray(case["b"], dtype=float)
        res = compare_models(y, a, b, metrics=("auc", "log_loss"), conf_level=case["conf_level"])
        d = res["auc"]
        assert d.estimate == approx(case["auc_a"] - case["auc_b"]), case["name"]
        assert d.statistic == approx(case["diff_statistic"]), case["name"]
        assert d.pvalue == approx(case["diff_pvalue"]), case["name"]
        assert (d.ci_low, d.ci_high) == (approx(case["diff_low"]), approx(case["diff_high"])), case["name"]
        ll = res["log_loss"]
        assert (ll.estimate, ll.ci_low, ll.ci_high, ll.statistic, ll.pvalue) == (
            approx(case["ll_diff"]),
            approx(case["ll_diff_low"]),
            approx(case["ll_diff_high"]),
            approx(case["ll_diff_t"]),
            approx(case["ll_diff_p"]),
        )


def test_regression_intervals_against_t_test(reference):
    reg = reference("trust")["regression"]
    res = evaluate(reg["y"], reg["pred"], metrics=("mae", "rmse"))
    assert (res["mae"].estimate, res["mae"].ci_low, res["mae"].ci_high) == (
        approx(reg["mae"]),
        approx(reg["mae_low"]),
        approx(reg["mae_high"]),
    )
    assert (res["rmse"].ci_low, res["rmse"].ci_high) == (approx(reg["rmse_low"]), approx(reg["rmse_high"]))


def test_drift_tests_against_r(reference):
    d = reference("trust")["drift"]
    tables = [
        Profile.build(pd.DataFrame({col: d[f"ref_{col}"]})).check(pd.DataFrame({col: d[f"cur_{col}"]}), alert_on="pvalue").table
        for col in ("c", "x")
    ]
    row = pd.concat(tables).set_index("feature")
    assert row.loc["c", "statistic"] == approx(d["chisq_statistic"])
    assert row.loc["c", "df"] == d["chisq_df"]
    assert row.loc["c", "pvalue"] == approx(d["chisq_pvalue"])
    assert row.loc["x", "statistic"] == approx(d["ks_statistic"])
    p = np.asarray(d["pvalues"])
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), d["holm"], rtol=RTOL)
    np.testing.assert_allclose(adjust_pvalues(p, "bh"), d["bh"], rtol=RTOL)
