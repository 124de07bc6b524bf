"""Instrumental variables against AER::ivreg + sandwich (tests/reference/iv.R -> iv.json), Card (1995), bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged


def _names(v):
    if v is None:
        return []
    return [v] if isinstance(v, str) else list(v)


def _frames(ref):
    return {"sim": pd.DataFrame(ref["sim"]), "close_college": ci.load_dataset("close_college", frame_only=True)}


def test_against_r(reference):
    ref = reference("iv")
    frames = _frames(ref)
    assert len(ref["cases"]) >= 15
    for case in ref["cases"]:
        df = frames[case["data"]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ci.AssumptionWarning)
            r = ci.designs.iv_2sls(
                df,
                outcome=case["outcome"],
                treatment=case["treatment"],
                instruments=_names(case["instruments"]),
                covariates=_names(case["covariates"]),
                cluster="g" if case["cov_type"] == "cluster" else None,
                weights=case["weights"],
                cov_type=case["cov_type"],
            )
        want = case["expected"]
        t = r.terms
        tol = dict(rel=1e-9, abs=1e-12)
        for col, key in (
            ("estimate", "coef"),
            ("std_error", "se"),
            ("statistic", "t"),
            ("pvalue", "p"),
            ("ci_low", "ci_low"),
            ("ci_high", "ci_high"),
        ):
            np.testing.assert_allclose(t[col].to_numpy(), want[key], rtol=1e-9, atol=1e-12, err_msg=f"{case['name']} {col}")
        assert r.df == want["df"]
        assert r.estimate == pytest.approx(want["coef"][1], **tol)
        fs = r.details["first_stage"]
        np.testing.assert_allclose(fs["estimate"], want["first_stage_coef"], rtol=1e-9)
        np.testing.assert_allclose(fs["std_error"], want["first_stage_se"], rtol=1e-9)
        fstat = r.details["first_stage_F"].iloc[0]
        assert fstat["F_classical"] == pytest.approx(want["f_classical"], rel=1e-9)
        if want["f_robust"] is not None:
            assert fstat["F_robust"] == pytest.approx(want["f_robust"], rel=1e-9)
            assert r.diagnostic("first-stage strength").value == pytest.approx(want["f_robust"], rel=1e-9)
        if want["sargan"] is not None:
            d = r.diagnostic("overidentification (Sargan)")
            from scipy import stats

            assert d.value == pytest.approx(stats.chi2.sf(want["sargan"], len(_names(case["instruments"])) - 1), rel=1e-8)
        if case["name"].startswith("wald"):
            w = ci.designs.wald_estimator(
                df, outcome="yb", treatment="db", instrument="zb", cluster="g" if case["cov_type"] == "cluster" else None
            )
            assert w.estimate == pytest.approx(want["coef"][1], rel=1e-9)
            assert w.std_error == pytest.approx(want["se"][1], rel=1e-9)
        check_result(r)


def test_card_known_results():
    ds = ci.load_dataset("close_college")
    card = ci.data_card("close_college")
    known = {k["quantity"].split(" (")[0]: k for k in card.known_results}
    r = ci.designs.iv_2sls(ds, cov_type="classical")
    assert round(r.estimate, 3) == 0.124 == known["2SLS return to a year of schooling"]["value"]
    assert round(r.details["first_stage"]["estimate"][1], 3) == 0.327
    assert round(r.details["first_stage_F"]["F_classical"][0], 3) == 15.767
    x = np.column_stack([np.ones(ds.n), ds.frame[["educ", *ds.covariates]].to_numpy(float)])
    beta = np.linalg.lstsq(x, ds.frame["lwage"].to_numpy(float), rcond=None)[0]
    assert round(beta[1], 3) == 0.071
    assert r.diagnostic("first-stage strength").status == "ok"
    check_result(r)


def test_wald_equals_ratio_of_differences():
    df = ci.load_dataset("close_college", frame_only=True)
    r = check_unchanged(df, lambda d: ci.designs.wald_estimator(d, outcome="lwage", treatment="educ", instrument="nearc4"))
    on = df.nearc4 == 1
    ratio = (df.lwage[on].mean() - df.lwage[~on].mean()) / (df.educ[on].mean() - df.educ[~on].mean())
    assert r.estimate == pytest.approx(ratio, rel=1e-9)
    comp = r.details["components"].iloc[0]
    assert comp["reduced_form"] / comp["first_stage"] == pytest.approx(ratio)
    check_result(r)
    check_nested_intervals(ci.designs.wald_estimator, df, outcome="lwage", treatment="educ", instrument="nearc4")


def test_binary_late_has_complier_share():
    rng = np.random.default_rng(3)
    n = 2000
    z = rng.integers(0, 2, n)
    complier = rng.random(n) < 0.6
    always = ~complier & (rng.random(n) < 0.5)
    d = np.where(complier, z, always.astype(int))
    y = 1 + 2.0 * d + rng.normal(size=n)
    r = ci.designs.wald_estimator(pd.DataFrame({"y": y, "d": d, "z": z}), outcome="y", treatment="d", instrument="z")
    assert r.details["components"]["complier_share"][0] == pytest.approx(0.6, abs=0.05)
    assert r.ci_low < 2.0 < r.ci_high
    assert "local average treatment effect" in r.estimand


def _weak_frame(seed=0, strength=0.02, n=500):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n)
    v = rng.normal(size=n)
    d = strength * z + v
    y = d + v + rng.normal(size=n)
    return pd.DataFrame({"y": y, "d": d, "z": z})


def test_weak_instrument_warns_in_result_and_as_warning():
    df = _weak_frame()
    with pytest.warns(ci.AssumptionWarning, match=r"first-stage F = .* < 10"):
        r = ci.designs.iv_2sls(df, outcome="y", treatment="d", instruments="z")
    d = r.diagnostic("first-stage strength")
    assert d.status == "warn" and d.value < 10
    assert r.warnings


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        (dict(instruments="d2"), ci.RoleError, r"instrument 'd2' is identical to the treatment 'd'"),
        (dict(instruments="d3"), ci.RoleError, r"instrument 'd3' is an exact linear function of the treatment"),
        (dict(instruments=None), ci.RoleError, r"iv_2sls needs the `instruments` role"),
        (dict(cov_type="HC3"), ci.ArgumentError, r"`cov_type` must be one of"),
        (dict(cov_type="cluster"), ci.RoleError, r"needs a `cluster` column"),
        (dict(instruments="zero_effect"), ci.DataError, r"do not move the treatment"),
        (dict(conf_level=95), ci.ArgumentError, r"`conf_level` must be strictly between 0 and 1"),
        (dict(instruments="nope"), ci.RoleError, r"`instruments` names column 'nope'"),
    ],
)
def test_bad_input(change, exc, match):
    df = _weak_frame(strength=1.0, n=100)
    df["d2"] = df["d"]
    df["d3"] = 2 * df["d"] + 1
    df["zero_effect"] = np.tile([0.0, 1.0], 50)
    df["d"] = (
        df["d"] - np.polyval(np.polyfit(df["zero_effect"], df["d"], 1), df["zero_effect"]) if "zero_effect" in str(change) else df["d"]
    )
    kw = dict(outcome="y", treatment="d", instruments="z")
    kw.update(change)
    with pytest.raises(exc, match=match):
        ci.designs.iv_2sls(df, **kw)


def test_wald_refuses_non_binary_instrument():
    df = _weak_frame(strength=1.0)
    with pytest.raises(ci.RoleError, match="needs a 0/1 instrument"):
        ci.designs.wald_estimator(df, outcome="y", treatment="d", instrument="z")


@pytest.mark.slow
def test_simulated_coverage():
    """Strong instrument, heteroskedastic and endogenous errors: HC1 intervals cover the truth about 95% of the time."""
    rng = np.random.default_rng(11)
    n, reps, hits = 300, 300, 0
    for _ in range(reps):
        z = rng.normal(size=n)
        v = rng.normal(size=n)
        d = 0.5 * z + v
        y = 1.0 + 0.5 * d + (0.7 * v + rng.normal(size=n)) * (1 + 0.5 * np.abs(z))
        x = np.column_stack([np.ones(n), d])
        zz = np.column_stack([np.ones(n), z])
        from causalinfer.designs._linalg import tsls

        fit = tsls(y, x, zz, cov_type="HC1")
        hits += abs(fit.coef[1] - 0.5) <= 1.968 * fit.std_error[1]
    assert 0.92 <= hits / reps <= 0.98
