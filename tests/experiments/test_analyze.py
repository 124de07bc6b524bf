"""experiments.analyze: layout of the answer, SRM, CUPED and regression adjustment, roles, units, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer import experiments as ex
from causalinfer.stats import adjust_pvalues


def _experiment(seed=0, sizes=(500, 500, 500), labels=("control", "b", "c")):
    rng = np.random.default_rng(seed)
    variant = np.repeat(labels, sizes)
    n = variant.size
    pre = rng.gamma(2.0, 10.0, n)
    x2 = rng.normal(size=n)
    revenue = 0.7 * pre + 2 * x2 + rng.gamma(2.0, 5.0, n) + 1.0 * (variant == labels[1])
    return pd.DataFrame(
        {
            "variant": variant,
            "revenue": revenue,
            "pre": pre,
            "x2": x2,
            "converted": (rng.uniform(size=n) < 0.2).astype(int),
            "clicks": rng.poisson(5, n),
            "sessions": rng.poisson(2, n) + 1,
        }
    ).sample(frac=1.0, random_state=1)


def _quiet(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return ex.analyze(**kw)


def test_layout_srm_first_then_metric_by_variant():
    f = _experiment()
    res = _quiet(data=f, control="control", metrics=["revenue", ex.proportion("converted"), ex.ratio("clicks", "sessions")])
    assert res.labels == (
        "sample ratio mismatch",
        "revenue: b",
        "revenue: c",
        "converted: b",
        "converted: c",
        "clicks/sessions: b",
        "clicks/sessions: c",
    )
    frame = res.to_frame()
    assert len(frame) == 7 and list(frame.columns) == list(ci.results.RESULTSET_COLUMNS)
    r = res["revenue: b"]
    assert r.effect_size("absolute lift").estimate == pytest.approx(
        f.revenue[f.variant == "b"].mean() - f.revenue[f.variant == "control"].mean(), rel=1e-12
    )
    assert r.estimate == pytest.approx(r.effect_size("absolute lift").estimate / f.revenue[f.variant == "control"].mean(), rel=1e-12)
    assert all(x.diagnostic("sample ratio mismatch").status == "ok" for x in res)
    assert "SAMPLE RATIO" not in res.title


def test_order_of_rows_does_not_matter_and_control_is_stated():
    f = _experiment()
    a = _quiet(data=f, control="control", metrics=["revenue"])
    b = _quiet(data=f.iloc[::-1], control="control", metrics=["revenue"])
    assert a["revenue: b"].estimate == pytest.approx(b["revenue: b"].estimate, rel=1e-12)
    flipped = _quiet(data=f, control="b", metrics=["revenue"])
    assert flipped.labels == ("sample ratio mismatch", "revenue: c", "revenue: control")
    ordered = _quiet(data=f, control="control", metrics=["revenue"], variants=["c", "b"])
    assert ordered.labels[1:] == ("revenue: c", "revenue: b")


def test_failed_srm_is_never_hidden():
    f = _experiment(sizes=(500, 400, 500))
    with pytest.warns(ci.AssumptionWarning, match="sample ratio mismatch"):
        res = ex.analyze(f, control="control", metrics=["revenue"])
    assert res.title.startswith("SAMPLE RATIO MISMATCH")
    assert res[0].label == "sample ratio mismatch" and res[0].pvalue < 0.001
    assert all(r.diagnostic("sample ratio mismatch").status == "fail" for r in res)
    assert "SAMPLE RATIO MISMATCH" in str(res) and "SAMPLE RATIO MISMATCH" in res._repr_html_()
    # the planned split explains the counts
    ok = _quiet(data=f, control="control", metrics=["revenue"], allocation={"control": 5, "b": 4, "c": 5})
    assert ok[0].diagnostic("sample ratio mismatch").status == "ok"


def test_cuped_reduces_variance_and_regression_adjustment_matches_ols():
    f = _experiment(seed=3)
    raw = _quiet(data=f, control="control", metrics=["revenue"], lift="absolute")["revenue: b"]
    cuped = _quiet(data=f, control="control", metrics=["revenue"], covariates="pre", lift="absolute")["revenue: b"]
    two = _quiet(data=f, control="control", metrics=[ex.mean("revenue", covariates=["pre", "x2"])], lift="absolute")["revenue: b"]
    assert cuped.std_error < raw.std_error and two.std_error < cuped.std_error
    vr = cuped.details["variance_reduction"]
    assert vr == pytest.approx(cuped.diagnostic("variance reduction").value)
    assert 1 - cuped.std_error**2 / raw.std_error**2 == pytest.approx(vr, rel=1e-9)
    # theta: slope of the pooled least-squares fit over control and b, with an intercept
    part = f[f.variant.isin(["control", "b"])]
    X = np.column_stack([np.ones(len(part)), part.pre, part.x2])
    beta = np.linalg.lstsq(X, part.revenue.to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(two.details["theta"], beta[1:], rtol=1e-9)
    d = part.groupby("variant")[["revenue", "pre", "x2"]].mean()
    diff = d.loc["b"] - d.loc["control"]
    assert two.estimate == pytest.approx(diff.revenue - beta[1] * diff.pre - beta[2] * diff.x2, rel=1e-9)
    assert "regression adjustment (2 covariates)" in two.method and "CUPED" in cuped.method


def test_covariates_per_metric_mapping():
    f = _experiment()
    res = _quiet(data=f, control="control", metrics=["revenue", ex.proportion("converted")], covariates={"revenue": "pre"})
    assert "theta" in res["revenue: b"].details and "theta" not in res["converted: b"].details
    with pytest.raises(ci.ArgumentError, match="`covariates` names metric"):
        ex.analyze(f, control="control", metrics=["revenue"], covariates={"revenu": "pre"})


def test_roles_adjust_within_each_family_and_guardrails_are_non_inferiority_tests():
    f = _experiment()
    metrics = [
        "revenue",
        ex.proportion("converted", role="secondary"),
        ex.ratio("clicks", "sessions", role="secondary"),
        ex.mean("pre", role="guardrail", margin=0.05),
        ex.mean("x2", name="latency", role="guardrail", margin=0.1, higher_is_better=False),
    ]
    res = _quiet(data=f, control="control", metrics=metrics, lift="absolute", adjust="BH")
    padj = res.pvalues_adjusted
    assert np.isnan(padj[0])
    secondary = [i for i, lab in enumerate(res.labels) if lab.startswith(("converted", "clicks"))]
    np.testing.assert_allclose(padj[secondary], adjust_pvalues(res.pvalues[secondary], method="BH"))
    g = res["pre: b"]
    assert g.alternative == "greater" and g.null_value == -0.05 and np.isinf(g.ci_high)
    lat = res["latency: c"]
    assert lat.alternative == "less" and lat.null_value == 0.1 and np.isinf(lat.ci_low)
    assert "non-inferiority" in lat.method
    # a non-inferiority p-value is the one-sided test against the margin
    lifts = lat.details["lifts"].set_index("scale").loc["absolute"]
    assert lifts["pvalue"] == lat.pvalue


def test_fieller_interval():
    f = _experiment(sizes=(4000, 4000, 4000))
    delta = _quiet(data=f, control="control", metrics=["revenue"])["revenue: b"]
    fieller = _quiet(data=f, control="control", metrics=["revenue"], relative_interval="fieller")["revenue: b"]
    assert fieller.estimate == delta.estimate and fieller.pvalue == delta.pvalue
    assert fieller.ci_low < fieller.estimate < fieller.ci_high
    assert fieller.ci_low == pytest.approx(delta.ci_low, abs=2e-3) and fieller.ci_high == pytest.approx(delta.ci_high, abs=2e-3)
    # asymmetric: Fieller's interval of a ratio leans away from zero
    assert fieller.ci_high - fieller.estimate > fieller.estimate - fieller.ci_low
    rng = np.random.default_rng(0)
    noisy = pd.DataFrame({"variant": np.repeat(["control", "b"], 20), "y": rng.normal(0.1, 1, 40)})
    res = _quiet(data=noisy, control="control", metrics=["y"], relative_interval="fieller")["y: b"]
    assert res.diagnostic("Fieller interval").status == "warn" and np.isinf(res.ci_low) and np.isinf(res.ci_high)


def test_unit_aggregation_equals_the_ratio_of_per_unit_sums():
    rng = np.random.default_rng(5)
    users = pd.DataFrame({"user": np.arange(600), "variant": np.repeat(["control", "b"], 300)})
    sessions = users.loc[users.index.repeat(rng.integers(1, 6, 600))].reset_index(drop=True)
    sessions["spend"] = rng.gamma(2.0, 3.0, len(sessions)) + rng.normal(0, 3, 600)[sessions.user]
    res = _quiet(data=sessions, control="control", metrics=["spend"], unit="user")
    per_user = sessions.groupby("user").agg(variant=("variant", "first"), spend=("spend", "sum"), rows=("spend", "size")).reset_index()
    ref = _quiet(data=per_user, control="control", metrics=[ex.ratio("spend", "rows", name="spend")])
    for key in ("estimate", "std_error", "ci_low", "ci_high", "pvalue", "df"):
        assert getattr(res["spend: b"], key) == pytest.approx(getattr(ref["spend: b"], key), rel=1e-12)
    assert res[0].n == 600
    naive = _quiet(data=sessions, control="control", metrics=["spend"])["spend: b"]
    assert res["spend: b"].std_error > naive.std_error  # sessions of one user are correlated
    bad = sessions.copy()
    bad.loc[0, "variant"] = "b"
    with pytest.raises(ci.DataError, match="appear in more than one variant"):
        ex.analyze(bad, control="control", metrics=["spend"], unit="user")


def test_summaries_give_the_same_numbers():
    f = _experiment()
    metrics = ["revenue", ex.ratio("clicks", "sessions"), ex.mean("revenue", name="cuped", covariates="pre")]
    direct = _quiet(data=f, control="control", metrics=metrics)
    s = ex.Summaries.from_frame(f, variant="variant", variables=["revenue", "clicks", "sessions", "pre"], centre=False)
    via = _quiet(data=ex.Summaries.from_table(s.to_table()), control="control", metrics=metrics)
    for a, b in zip(direct, via, strict=True):
        for key in ("estimate", "std_error", "ci_low", "ci_high", "pvalue"):
            va, vb = getattr(a, key), getattr(b, key)
            assert (va is None and vb is None) or va == pytest.approx(vb, rel=1e-9), (a.label, key)


def test_data_left_unchanged_and_dataset_accepted():
    f = _experiment()
    before = f.copy(deep=True)
    res = _quiet(data=f, control="control", metrics=["revenue"], covariates="pre")
    pd.testing.assert_frame_equal(f, before)
    ds = ci.Dataset(f)
    assert _quiet(data=ds, control="control", metrics=["revenue"], covariates="pre")["revenue: b"].estimate == res["revenue: b"].estimate


@pytest.mark.parametrize(
    ("change", "kw", "error", "match"),
    [
        (None, dict(control="treatment"), ci.ArgumentError, r"`control` 'treatment' is not a level of `variant` column 'variant'"),
        ("one_level", {}, ci.DataError, "has only one level"),
        (None, dict(metrics=["revenue", "revenue"]), ci.ArgumentError, r"`metrics` names \['revenue'\] more than once"),
        (None, dict(metrics=["revnue"]), ci.RoleError, "did you mean 'revenue'"),
        ("nan_pre", dict(covariates="pre"), ci.DataError, r"`covariates` column 'pre' has 1 missing"),
        ("zero_sessions", dict(metrics=[ex.ratio("clicks", "sessions")]), ci.DataError, "denominator 'sessions' sums to 0"),
        (None, dict(allocation={"control": 1, "b": 1}), ci.ArgumentError, "`allocation` must give a share for each variant"),
        (None, dict(lift="percent"), ci.ArgumentError, "`lift` must be one of"),
        (None, dict(adjust="holmes"), ci.ArgumentError, "did you mean 'holm'"),
        (None, dict(variants=["b"]), ci.ArgumentError, "`variants` must list each treatment level once"),
        (None, dict(metrics=[ex.mean("revenue", covariates="pre")], relative_interval="fieller"), ci.ArgumentError, "fieller"),
        ("nan_variant", {}, ci.DataError, "`variant` column 'variant' has 1 missing"),
    ],
)
def test_bad_input(change, kw, error, match):
    f = _experiment().reset_index(drop=True)
    if change == "one_level":
        f["variant"] = "control"
    elif change == "nan_pre":
        f.loc[7, "pre"] = np.nan
    elif change == "zero_sessions":
        f.loc[f.variant == "c", "sessions"] = 0
    elif change == "nan_variant":
        f.loc[3, "variant"] = None
    args = dict(control="control", metrics=["revenue"])
    args.update(kw)
    with pytest.raises(error, match=match):
        ex.analyze(f, **args)


def test_bad_metric_specs():
    with pytest.raises(ci.ArgumentError, match="needs a non-inferiority `margin`"):
        ex.mean("y", role="guardrail")
    with pytest.raises(ci.ArgumentError, match="`role` must be one of"):
        ex.mean("y", role="main")
    with pytest.raises(ci.ArgumentError, match="`margin` must be a finite number >= 0"):
        ex.mean("y", role="guardrail", margin=-0.1)
    with pytest.raises(ci.ArgumentError, match="`metrics` must hold at least 1 value"):
        ex.analyze(pd.DataFrame({"variant": ["a", "b"]}), control="a", metrics=[])


def test_quantile_metrics():
    f = _experiment()
    res = _quiet(data=f, control="control", metrics=[ex.quantile("revenue", 0.9)])
    r = res["revenue p90: b"]
    q0 = np.quantile(f.revenue[f.variant == "control"], 0.9)
    q1 = np.quantile(f.revenue[f.variant == "b"], 0.9)
    assert r.estimate == pytest.approx(q1 / q0 - 1, rel=1e-12)
    assert "0.9 quantile" in r.method
    with pytest.raises(ci.ArgumentError, match="needs the rows of the data"):
        ex.analyze(
            ex.Summaries.from_frame(f, variant="variant", variables=["revenue"]), control="control", metrics=[ex.quantile("revenue")]
        )
    with pytest.raises(ci.ArgumentError, match=r"`q` must be a finite number in \(0, 1\)"):
        ex.quantile("revenue", 1.0)
    with pytest.raises(ci.ArgumentError, match="with `unit`"):
        ex.analyze(f.assign(u=np.arange(len(f))), control="control", metrics=[ex.quantile("revenue")], unit="u")


def test_constant_metric_has_no_test_and_says_why():
    f = pd.DataFrame({"variant": ["control"] * 5 + ["b"] * 5, "y": [1.0] * 10})
    for sequential in (None, "mixture"):
        r = ex.analyze(f, control="control", metrics=["y"], sequential=sequential)["y: b"]
        assert np.isnan(r.pvalue) and r.diagnostic("zero variance").status == "fail"


def test_proportion_needs_zero_one_values():
    f = _experiment()
    with pytest.raises(ci.DataError, match="other than 0 and 1"):
        ex.analyze(f, control="control", metrics=[ex.proportion("clicks")])


def test_summaries_aggregated_by_sqlite_give_the_frame_numbers():
    """The engine path in miniature: one GROUP BY in SQLite, the same analysis to 1e-9."""
    import sqlite3

    f = _experiment()
    variables = ["revenue", "pre", "clicks", "sessions"]
    shift = {"revenue": 30.0, "pre": 20.0}
    agg = ex.sql_aggregates(variables, shift=shift)
    con = sqlite3.connect(":memory:")
    try:
        f.to_sql("units", con, index=False)
        select = ", ".join(f'{expr} AS "{alias}"' for alias, expr in agg.items())
        table = pd.read_sql(f"SELECT variant, {select} FROM units GROUP BY variant", con)
    finally:
        con.close()
    metrics = ["revenue", ex.ratio("clicks", "sessions"), ex.mean("revenue", name="cuped", covariates="pre")]
    direct = _quiet(data=f, control="control", metrics=metrics)
    engine = _quiet(data=ex.Summaries.from_table(table, shift=shift), control="control", metrics=metrics)
    for a, b in zip(direct, engine, strict=True):
        for key in ("estimate", "std_error", "ci_low", "ci_high", "pvalue", "statistic"):
            va, vb = getattr(a, key), getattr(b, key)
            assert (va is None and vb is None) or va == pytest.approx(vb, rel=1e-9), (a.label, key)


def test_post_stratification():
    rng = np.random.default_rng(8)
    n = 1200
    country = rng.choice(["de", "fr", "us"], n, p=[0.2, 0.3, 0.5])
    variant = rng.choice(["control", "b"], n)
    y = np.select([country == "de", country == "fr"], [5.0, 20.0], 50.0) + rng.normal(0, 3, n) + (variant == "b")
    f = pd.DataFrame({"variant": variant, "country": country, "y": y})
    plain = _quiet(data=f, control="control", metrics=["y"], lift="absolute")["y: b"]
    strat = _quiet(data=f, control="control", metrics=["y"], lift="absolute", strata="country")["y: b"]
    assert strat.std_error < 0.3 * plain.std_error
    assert abs(strat.estimate - 1.0) < 3 * strat.std_error
    with pytest.raises(ci.DataError, match="fewer than 2 units"):
        ex.analyze(f.assign(country=np.where(np.arange(n) == 0, "xx", f.country)), control="control", metrics=["y"], strata="country")
    with pytest.raises(ci.ArgumentError, match="`strata` needs the rows"):
        ex.analyze(ex.Summaries.from_frame(f, variant="variant", variables=["y"]), control="control", metrics=["y"], strata="country")
    with pytest.raises(ci.RoleError, match="`strata` names column 'county'"):
        ex.analyze(f, control="control", metrics=["y"], strata="county")
