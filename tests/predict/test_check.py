"""Model checks: decisions on one-sided bounds, the family adjustment, the checks themselves and bad input."""

from __future__ import annotations

import json
import math
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from causalinfer.exceptions import CausalInferError, DataError
from causalinfer.predict import CheckReport, CheckResult, SuiteError, assert_check, check, evaluate, load_suite
from causalinfer.predict._check import Gate, Rule, combine_worst, decide, finalise, gate_pvalues, gate_result, power_and_n, proportion_gate


def _data(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], n)})
    X["y"] = (X.x1 + rng.normal(size=n) > 0).astype(int)
    return X


@pytest.fixture(scope="module")
def fitted():
    from sklearn.linear_model import LogisticRegression

    X = _data()
    train, test = X.iloc[:2000], X.iloc[2000:]
    model = LogisticRegression().fit(train[["x1", "x2"]], train.y)
    return model, train, test


# ---------------------------------------------------------------------- the decision rule
def test_gate_pvalues_match_the_one_sided_bound():
    # "at least 0.8": the lower 95% bound est - 1.645 se equals 0.8 exactly when p_pass = 0.05
    se = 0.01
    est = 0.8 + 1.6448536269514722 * se
    p_pass, p_fail = gate_pvalues(est, se, Rule("at_least", low=0.8))
    assert p_pass == pytest.approx(0.05, rel=1e-9)
    assert p_fail == pytest.approx(0.95, rel=1e-9)
    p_pass, p_fail = gate_pvalues(0.8 - 1.6448536269514722 * se, se, Rule("at_least", low=0.8))
    assert p_fail == pytest.approx(0.05, rel=1e-9)


def test_within_rule_is_two_one_sided_tests():
    p_pass, p_fail = gate_pvalues(1.0, 0.02, Rule("within", 0.9, 1.1))
    assert p_pass == pytest.approx(float(__import__("scipy.stats").stats.norm.sf(5.0)))
    assert p_fail == pytest.approx(1 - p_pass)


@pytest.mark.parametrize(
    ("p_pass", "p_fail_adj", "status"),
    [(0.01, 0.99, "pass"), (0.9, 0.01, "fail"), (0.2, 0.2, "inconclusive"), (0.049, 0.5, "pass"), (0.5, 0.05, "inconclusive")],
)
def test_decide(p_pass, p_fail_adj, status):
    assert decide(Gate(0.5, 0.4, 0.6, p_pass, p_fail_adj, 0.1, 100), p_fail_adj, 0.05) == status


def test_proportion_gate_is_exact_binomial_and_its_bounds_invert_the_tests():
    from scipy import stats

    g = proportion_gate(160, 200, Rule("at_least", low=0.75), 0.05)
    assert g.estimate == 0.8
    assert g.pvalue_pass == pytest.approx(stats.binomtest(160, 200, 0.75, alternative="greater").pvalue, rel=1e-12)
    assert g.pvalue_fail == pytest.approx(stats.binomtest(160, 200, 0.75, alternative="less").pvalue, rel=1e-12)
    # Clopper-Pearson one-sided bounds, as R binom.test(160, 200, alternative = "greater", conf.level = 0.95)
    ci = stats.binomtest(160, 200).proportion_ci(confidence_level=0.90, method="exact")
    assert (g.ci_low, g.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-12)
    # the bound is where the exact one-sided test has p = alpha
    assert stats.binom.sf(159, 200, g.ci_low) == pytest.approx(0.05, rel=1e-6)
    edge = proportion_gate(0, 50, Rule("at_most", high=0.0), 0.05)
    assert (edge.pvalue_pass, edge.pvalue_fail) == (0.0, 1.0)
    assert proportion_gate(1, 50, Rule("at_most", high=0.0), 0.05).pvalue_fail == 0.0


def test_power_and_sample_size():
    power, need = power_and_n(0.82, 0.01, 1000, Rule("at_least", low=0.8), 0.05)
    from scipy import stats

    assert power == pytest.approx(stats.norm.cdf(2.0 - 1.6448536269514722))
    # with n_needed rows the standard error shrinks so that the power is 80%
    se_new = 0.01 * math.sqrt(1000 / need)
    assert stats.norm.cdf(0.02 / se_new - 1.6448536269514722) == pytest.approx(0.8, abs=2e-3)
    assert power_and_n(0.8, 0.01, 1000, Rule("at_least", low=0.8), 0.05)[1] is None  # on the threshold: no size decides


def test_combine_worst_is_intersection_union_and_bonferroni():
    gs = [Gate(0, 0, 0, 0.01, 0.02, 1, 10, "a"), Gate(0, 0, 0, 0.04, 0.5, 1, 10, "b"), Gate(0, 0, 0, 0.001, 0.9, 1, 10, "c")]
    worst, p_pass, p_fail = combine_worst(gs)
    assert worst.label == "a"
    assert p_pass == 0.04
    assert p_fail == pytest.approx(0.06)


def test_finalise_adjusts_alarms_with_holm_and_bh():
    rule = Rule("at_least", low=0.5)
    gates = [Gate(0.4, 0.3, 0.5, 0.9, p, 0.05, 100) for p in (0.01, 0.02, 0.03, 0.5)]
    results = [
        gate_result(g, label=f"g{i}", check="performance", data="test", rule=rule, alpha=0.05, method="m") for i, g in enumerate(gates)
    ]
    holm = finalise(results, 0.05, "holm", "t")
    assert holm.pvalues_adjusted.tolist() == pytest.approx([0.04, 0.06, 0.06, 0.5])
    assert [r.status for r in holm] == ["fail", "inconclusive", "inconclusive", "inconclusive"]
    bh = finalise(results, 0.05, "bh", "t")
    assert [r.status for r in bh] == ["fail", "fail", "fail", "inconclusive"]
    none = finalise(results, 0.05, None, "t")
    assert none.pvalues_adjusted.tolist() == pytest.approx([0.01, 0.02, 0.03, 0.5])


# ---------------------------------------------------------------------- check() end to end
SUITE = [
    {"check": "performance", "metric": "auc", "at_least": 0.7},
    {"check": "performance", "metric": "accuracy", "at_least": 0.95},
    {"check": "performance", "metric": "brier", "at_most": 0.2},
    {"check": "calibration_slope", "within": [0.8, 1.2]},
    {"check": "segments", "column": "g", "metric": "accuracy", "max_gap": 0.1},
    {"check": "fairness", "column": "g", "measure": "tpr", "max_gap": 0.15},
    {"check": "fairness", "column": "g", "measure": "demographic_parity", "max_gap": 0.15},
    {"check": "drift"},
    {"check": "duplicates"},
    {"check": "label_leakage"},
]


def test_check_runs_a_suite(fitted):
    model, train, test = fitted
    before = test.copy()
    rep = check(model, train=train, test=test, label="y", suite=SUITE)
    pd.testing.assert_frame_equal(test, before)
    assert isinstance(rep, CheckReport)
    assert all(isinstance(r, CheckResult) for r in rep)
    st = dict(zip(rep.labels, (r.status for r in rep), strict=True))
    assert st["auc (test)"] == "pass"
    assert st["accuracy (test)"] == "fail"  # a logistic model of a noisy label cannot reach 95%
    assert st["drift (test)"] == "pass"
    assert rep.status == "fail" and rep.exit_code == 1
    auc = rep["auc (test)"]
    ref = evaluate(test.y, model.predict_proba(test[["x1", "x2"]])[:, 1], metrics="auc", conf_level=0.9)["auc"]
    assert (auc.estimate, auc.ci_low, auc.ci_high) == pytest.approx((ref.estimate, ref.ci_low, ref.ci_high), rel=1e-12)
    assert "auc at least 0.7" in auc.rule
    assert rep.adjust_method == "holm"


def test_check_report_round_trips_and_renders(fitted):
    model, train, test = fitted
    rep = check(model, train=train, test=test, label="y", suite=SUITE[:4])
    full = check(model, train=train, test=test, label="y", suite=SUITE)
    assert CheckReport.from_json(full.to_json()) == full
    back = CheckReport.from_json(rep.to_json())
    assert isinstance(back, CheckReport) and back == rep
    assert back.status == rep.status
    assert "accuracy" in str(rep)
    xml = ET.fromstring(rep.to_junit())
    cases = xml.findall("testcase")
    assert len(cases) == 4
    assert xml.get("failures") == str(len(rep.failed))
    assert sum(c.find("failure") is not None for c in cases) == len(rep.failed)
    page = rep.to_html()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and "http" not in page.split("<body>")[1]
    json.loads(rep.to_json())


def test_default_suite_is_data_checks(fitted):
    model, train, test = fitted
    rep = check(model, train=train, test=test, label="y")
    checks = {r.check for r in rep}
    assert {"schema", "missing_values", "duplicates", "drift", "label_leakage", "train_test_overlap"} <= checks
    assert rep.status == "pass"


def test_assert_check(fitted):
    model, train, test = fitted
    assert_check(model=model, train=train, test=test, label="y", suite=SUITE[:1])
    with pytest.raises(AssertionError, match=r"accuracy \(test\): FAIL"):
        assert_check(model=model, train=train, test=test, label="y", suite=SUITE[:2])
    rep = check(model, train=train, test=test.iloc[:40], label="y", suite=[{"check": "performance", "metric": "auc", "at_least": 0.8}])
    assert rep.status == "inconclusive" and rep.exit_code == 3
    with pytest.raises(AssertionError, match="inconclusive"):
        assert_check(rep)
    assert assert_check(rep, allow_inconclusive=True) is rep


def test_inconclusive_gate_says_how_many_rows_would_decide(fitted):
    model, _train, test = fitted
    rep = check(model, test=test.iloc[:60], label="y", suite=[{"check": "performance", "metric": "auc", "at_least": 0.8}])
    r = rep[0]
    assert r.status == "inconclusive"
    assert r.n_needed is not None and r.n_needed > 60
    assert 0 < r.power < 0.8


# ---------------------------------------------------------------------- data checks
def test_integrity_checks_catch_broken_data(fitted):
    _model, train, test = fitted
    rng = np.random.default_rng(1)
    train = train.assign(leak=train.y + rng.normal(0, 0.01, len(train)))
    bad = test.assign(leak=test.y + rng.normal(0, 0.01, len(test)))
    bad.loc[bad.index[:200], "x2"] = np.nan
    bad.loc[bad.index[200:260], "x1"] = 99.0
    bad["g"] = bad["g"].where(np.arange(len(bad)) % 50 != 0, "zzz")
    bad = pd.concat([bad, bad.iloc[300:350], train.iloc[:30]])
    suite = [{"check": c} for c in ("missing_values", "out_of_range", "duplicates", "train_test_overlap", "unseen_categories")]
    rep = check(
        None,
        train=train,
        test=bad,
        label="y",
        suite=[*suite[:2], {"check": "duplicates", "data": "test"}, *suite[3:], {"check": "label_leakage", "data": "test"}],
    )
    st = {r.check: r.status for r in rep}
    assert st == {
        "missing_values": "fail",
        "out_of_range": "fail",
        "duplicates": "fail",
        "train_test_overlap": "fail",
        "unseen_categories": "fail",
        "label_leakage": "fail",
    }
    assert rep["label leakage (test)"].details["worst"] == "leak"
    assert rep["missing values (test)"].details["worst"] == "x2"


def test_constant_columns_and_duplicate_keys():
    df = pd.DataFrame({"k": [1, 2, 2, 3], "c": [5, 5, 5, 5], "x": [1.0, 2.0, 3.0, 4.0]})
    rep = check(test=df, suite=[{"check": "constant_columns", "data": "test"}, {"check": "duplicates", "key": "k", "data": "test"}])
    assert [r.status for r in rep] == ["fail", "fail"]
    assert "['c']" in rep[0].diagnostics[0].message


def test_schema_against_the_model_sidecar(tmp_path, fitted):
    from causalinfer.predict import save_model

    model, train, test = fitted
    path = tmp_path / "m.skops"
    save_model(model, path, training_data=train[["x1", "x2"]])
    ok = check(str(path), test=test, suite=[{"check": "schema"}])
    assert ok.status == "pass"
    broken = check(str(path), test=test.drop(columns="x2"), suite=[{"check": "schema"}])
    assert broken.status == "fail"
    assert "x2" in broken[0].diagnostics[0].message


def test_drift_fails_on_a_shifted_table(fitted):
    _, train, test = fitted
    shifted = test.assign(x1=test.x1 + 1.5)
    rep = check(train=train, test=test, production=shifted, label="y", suite=[{"check": "drift"}])
    assert [r.status for r in rep] == ["pass", "fail"]
    assert rep["drift (production)"].details["worst"] == "x1"


# ---------------------------------------------------------------------- model checks
def test_champion_challenger_is_paired_and_refuses_other_rows(fitted):
    model, _train, test = fitted
    p = pd.Series(model.predict_proba(test[["x1", "x2"]])[:, 1], index=test.index)
    weak = pd.Series(np.clip(p + np.random.default_rng(3).normal(0, 0.3, p.size), 0, 1), index=test.index)
    spec = [{"check": "champion", "metric": "auc", "margin": 0.0}]
    good = check(test=test, label="y", predictions=p, champion_predictions=weak, suite=spec)
    assert good.status == "pass"
    bad = check(test=test, label="y", predictions=weak, champion_predictions=p, suite=spec)
    assert bad.status == "fail"
    # shuffled rows are matched by index label, not position
    shuffled = check(test=test, label="y", predictions=p.sample(frac=1, random_state=0), champion_predictions=weak, suite=spec)
    assert shuffled[0].estimate == pytest.approx(good[0].estimate, rel=1e-12)
    other = weak.copy()
    other.index = other.index + 10_000
    with pytest.raises(DataError, match="different rows"):
        check(test=test, label="y", predictions=p, champion_predictions=other, suite=spec)


def test_small_segments_are_inconclusive_with_the_count_needed(fitted):
    model, _, test = fitted
    t = test.copy()
    t["seg"] = np.where(np.arange(len(t)) < 10, "tiny", "big")
    rep = check(model, test=t, label="y", suite=[{"check": "segments", "column": "seg", "metric": "accuracy", "min_rows": 50}])
    r = rep[0]
    assert r.status == "inconclusive"
    assert r.n_needed is not None and r.n_needed >= 50
    assert "tiny" in str(r.details["too_small"])


def test_worst_segment_flagged_only_when_its_gap_survives_adjustment(fitted):
    model, _, test = fitted
    p = model.predict_proba(test[["x1", "x2"]])[:, 1]
    t = test.copy()
    t["seg"] = np.repeat(list("abcdefghij"), len(t) // 10)
    broken = np.where(t["seg"] == "c", 1 - p, p)
    rep = check(test=t, label="y", predictions=broken, suite=[{"check": "segments", "column": "seg", "metric": "accuracy"}])
    assert rep[0].status == "fail" and rep[0].details["worst"] == "c"
    table = rep[0].details["groups"]
    acc_c = float(((broken >= 0.5) == t["y"].to_numpy())[t["seg"].to_numpy() == "c"].mean())
    assert table.set_index("group").loc["c", "value"] == pytest.approx(acc_c, rel=1e-12)
    healthy = check(test=t, label="y", predictions=p, suite=[{"check": "segments", "column": "seg", "metric": "accuracy", "max_gap": 0.1}])
    assert healthy[0].status != "fail"


def test_calibration_slope_against_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    from causalinfer.predict._check_model import calibration_slope

    rng = np.random.default_rng(5)
    p = rng.uniform(0.05, 0.95, 3000)
    y = (rng.uniform(size=3000) < p).astype(float)
    b, se, a, se_a = calibration_slope(y, p)
    x = sm.add_constant(np.log(p / (1 - p)))
    fit = sm.GLM(y, x, family=sm.families.Binomial()).fit(tol=1e-14)
    assert (a, b) == pytest.approx(tuple(fit.params), rel=1e-8)
    assert (se_a, se) == pytest.approx(tuple(fit.bse), rel=1e-6)


def test_fairness_gap_fails_when_one_group_is_favoured(fitted):
    model, _, test = fitted
    p = model.predict_proba(test[["x1", "x2"]])[:, 1]
    biased = np.where(test["g"] == "a", np.minimum(p + 0.4, 1), p)
    rep = check(test=test, label="y", predictions=biased, suite=[{"check": "fairness", "column": "g", "measure": "demographic_parity"}])
    assert rep[0].status == "fail" and rep[0].details["worst"] == "a"


def test_conformal_coverage_on_production():
    from sklearn.linear_model import LinearRegression

    from causalinfer.predict import SplitConformalRegressor

    rng = np.random.default_rng(2)
    X = pd.DataFrame({"x": rng.normal(size=6000)})
    X["y"] = 2 * X.x + rng.normal(size=6000)
    cp = SplitConformalRegressor(LinearRegression(), alpha=0.1, random_state=0).fit(X[["x"]][:3000], X.y[:3000])
    ok = check(cp, production=X.iloc[3000:], label="y", suite=[{"check": "coverage", "tolerance": 0.03}])
    assert ok.status == "pass"
    wide = X.iloc[3000:].assign(y=lambda d: 2 * d.x + rng.normal(0, 3, len(d)))
    bad = check(cp, production=wide, label="y", suite=[{"check": "coverage"}])
    assert bad.status == "fail"


def test_regression_gates(fitted):
    rng = np.random.default_rng(4)
    y = rng.normal(10, 3, 2000)
    pred = y + rng.normal(0, 2, 2000)
    df = pd.DataFrame({"y": y})
    suite = [
        {"check": "performance", "metric": "rmse", "at_most": 2.5},
        {"check": "performance", "metric": "mae", "at_most": 1.0},
        {"check": "performance", "metric": "r2", "at_least": 0.3, "n_resamples": 200},
    ]
    rep = check(test=df, label="y", predictions=pred, suite=suite)
    assert [r.status for r in rep] == ["pass", "fail", "pass"]


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("suite", "match"),
    [
        ([{"check": "perfomance", "metric": "auc", "at_least": 0.8}], "did you mean 'performance'"),
        ([{"check": "performance", "metric": "auc", "at_least": 1.3}], r"outside the range \[0, 1\]"),
        ([{"check": "performance", "metric": "rmse", "at_most": -1}], "outside the range"),
        ([{"check": "performance", "metric": "auc"}], "exactly one of"),
        ([{"check": "performance", "metric": "f1", "at_least": 0.5}], "`metric` must be one of"),
        ([{"check": "drift", "treshold": 0.2}], "did you mean 'threshold'"),
        ([{"check": "segments"}], "`column`"),
        ([{"check": "missing_values", "data": "prod"}], "`data`"),
        ([{"check": "calibration_slope", "within": [1.1, 0.9]}], "low < high"),
        ({"checks": [], "setings": {}}, "unknown key"),
        ([{"check": "segments", "column": "g", "metric": "auc"}], "`metric` must be one of"),
        ([{"check": "fairness", "column": "g", "measure": "tnr"}], "did you mean 'tpr'"),
        ([{"check": "champion", "margin": -0.1}], "outside the range"),
        ([{"check": "segments", "column": "g", "min_rows": 0}], "`min_rows`"),
    ],
)
def test_bad_suites_are_refused(suite, match):
    with pytest.raises(SuiteError, match=match):
        load_suite(suite)


def test_labels_missing_for_a_performance_gate(fitted):
    model, _, test = fitted
    spec = [{"check": "performance", "metric": "auc", "at_least": 0.7}]
    with pytest.raises(DataError, match="needs labels: pass `label=`"):
        check(model, test=test, suite=spec)
    with pytest.raises(DataError, match="no column 'label'"):
        check(model, test=test, label="label", suite=spec)
    with pytest.raises(DataError, match="all missing"):
        check(model, test=test.assign(y=np.nan), label="y", suite=spec)
    with pytest.raises(DataError, match="needs the production data"):
        check(model, test=test, label="y", suite=[{**spec[0], "data": "production"}])


def test_suite_file_toml(tmp_path, fitted):
    model, train, test = fitted
    f = tmp_path / "checks.toml"
    f.write_text(
        '[settings]\nalpha = 0.01\nlabel = "y"\ntitle = "churn model"\n\n'
        '[[checks]]\ncheck = "performance"\nmetric = "auc"\nat_least = 0.7\n\n[[checks]]\ncheck = "drift"\n'
    )
    rep = check(model, train=train, test=test, suite=f)
    assert rep.title == "churn model"
    assert rep[0].conf_level == pytest.approx(0.98)
    bad = tmp_path / "bad.toml"
    bad.write_text("[[checks]\ncheck = 1")
    with pytest.raises(SuiteError, match="not valid TOML"):
        load_suite(bad)
    with pytest.raises(CausalInferError, match="does not exist"):
        load_suite(tmp_path / "none.toml")


def test_gate_whose_pass_pvalue_is_exactly_zero_passes():
    # regression: a pass p-value of exactly 0 (no missing value at all) was read as "no p-value" and the check
    # came out inconclusive
    df = pd.DataFrame({"a": np.arange(5000.0), "b": np.arange(5000.0) % 7})
    rep = check(train=df, test=df, suite=[{"check": "missing_values", "tolerance": 0.0}])
    assert rep[0].pvalue_pass == 0.0
    assert rep[0].status == "pass"


def test_duplicate_rows_by_hash_agree_with_pandas():
    from causalinfer.predict._check_context import CheckContext
    from causalinfer.predict._check_data import _duplicate_rows

    rng = np.random.default_rng(8)
    df = pd.DataFrame({"a": rng.integers(0, 4, 3000), "b": rng.choice(["x", "y"], 3000), "c": rng.integers(0, 3, 3000) / 2})
    df.loc[5, "c"] = np.nan
    ctx = CheckContext(tables={"train": None, "test": df, "production": None})
    assert _duplicate_rows(ctx, "test") == int(df.duplicated().sum())


# ---------------------------------------------------------------------- R references (tests/reference/model_checks.R)
def _model_checks_reference():
    from reference_data import load_reference

    return load_reference("model_checks")


@pytest.mark.parametrize("i", range(4))
def test_binomial_gate_against_r_binom_test(i):
    case = _model_checks_reference()["binomial"][i]
    e = case["expected"]
    g = proportion_gate(case["k"], case["n"], Rule("at_least", low=case["low"]), case["alpha"])
    assert g.pvalue_pass == pytest.approx(e["p_greater"], rel=1e-9)
    assert g.pvalue_fail == pytest.approx(e["p_less"], rel=1e-9)
    assert (g.ci_low, g.ci_high) == pytest.approx((e["lower"], e["upper"]), rel=1e-9)


def test_calibration_slope_against_r_glm():
    from causalinfer.predict._check_model import calibration_slope

    ref = _model_checks_reference()["calibration"]
    b, se, a, se_a = calibration_slope(np.asarray(ref["y"], dtype=float), np.asarray(ref["p"], dtype=float))
    assert (a, b) == pytest.approx((ref["intercept"], ref["slope"]), rel=1e-9)
    assert (se_a, se) == pytest.approx((ref["se_intercept"], ref["se_slope"]), rel=1e-7)


def test_every_check_result_keeps_the_result_contract(fitted):
    from causalinfer._testing import check_result

    model, train, test = fitted
    suite = [*SUITE, {"check": "missing_values"}, {"check": "out_of_range"}, {"check": "schema"}, {"check": "unseen_categories"}]
    suite += [
        {"check": "constant_columns"},
        {"check": "train_test_overlap"},
        {"check": "performance", "metric": "log_loss", "at_most": 0.6},
    ]
    rep = check(model, train=train, test=test, label="y", suite=suite, champion=model)
    for r in rep:
        check_result(r)
    check_result(rep)


def test_key_and_group_columns_are_not_treated_as_features():
    rng = np.random.default_rng(9)
    train = pd.DataFrame({"id": np.arange(3000), "x": rng.normal(size=3000), "g": rng.choice(["a", "b"], 3000)})
    test = pd.DataFrame({"id": np.arange(3000, 6000), "x": rng.normal(size=3000), "g": rng.choice(["a", "b"], 3000)})
    suite = [{"check": "duplicates", "key": "id"}, {"check": "out_of_range", "tolerance": 0.01}, {"check": "drift"}]
    rep = check(train=train, test=test, suite=suite)
    assert rep.status == "pass"  # ids of new rows are out of the training range and drift, but they are not inputs
    assert "id" not in rep["drift (test)"].details["table"]["feature"].tolist()


def test_suite_file_yaml(tmp_path):
    pytest.importorskip("yaml")
    f = tmp_path / "checks.yaml"
    f.write_text("settings:\n  label: y\nchecks:\n  - check: performance\n    metric: auc\n    at_least: 0.7\n")
    checks, settings = load_suite(f)
    assert checks == [{"check": "performance", "metric": "auc", "at_least": 0.7}] and settings == {"label": "y"}
    (tmp_path / "bad.yaml").write_text("checks: [\n")
    with pytest.raises(SuiteError, match=r"not valid YAML|could not be parsed"):
        load_suite(tmp_path / "bad.yaml")
