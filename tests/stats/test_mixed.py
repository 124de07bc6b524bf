"""Linear mixed models against lme4::lmer and lmerTest's Satterthwaite df (tests/reference/mixed.R)."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_result, check_unchanged
from causalinfer.exceptions import ArgumentError, ArgumentTypeError, DataError, RoleError


def _cases(reference):
    return reference("mixed")["cases"]


@pytest.mark.parametrize("index", range(8))
def test_lmm_against_lmer(reference, index):
    ref = reference("mixed")
    case = ref["cases"][index]
    df = pd.DataFrame(ref["data"][case["data"]])
    r = check_unchanged(df, lambda d: ci.stats.lmm(case["fixed"], data=d, groups=case["group"], re_formula=case["re"], reml=case["reml"]))
    fit = r.details["fit"]
    # the optimum: our criterion is at least as low as lme4's (both optimisers stop on a flat surface)
    assert fit["deviance"] == pytest.approx(case["deviance"], rel=1e-9)
    assert fit["deviance"] <= case["deviance"] + 1e-8
    # parameters agree to the precision the flat deviance pins them down (lme4's own optimiser tolerance)
    t = r.terms
    assert t["term"].tolist() == case["terms"]
    np.testing.assert_allclose(t["estimate"], case["estimate"], rtol=5e-5)
    np.testing.assert_allclose(t["std_error"], case["se"], rtol=1e-4)
    np.testing.assert_allclose(t["df"], case["df"], rtol=2e-4)
    np.testing.assert_allclose(np.log(t["pvalue"]), np.log(case["p"]), rtol=1e-3)
    np.testing.assert_allclose(fit["theta"], case["theta"], rtol=1e-4, atol=1e-5)
    assert fit["sigma"] == pytest.approx(case["sigma"], rel=1e-5)
    assert fit["loglik"] == pytest.approx(case["loglik"], rel=1e-9)
    assert fit["aic"] == pytest.approx(case["aic"], rel=1e-9)
    re = r.random_effects
    # VarCorr order: variances, then covariances, then the residual; ours lists variances, covariances, residual too
    r_var = [v for v, nm in zip(case["vc_var"], case["vc_name"], strict=True) if nm.endswith(" NA") and nm != "NA NA"]
    r_cov = [v for v, nm in zip(case["vc_var"], case["vc_name"], strict=True) if not nm.endswith(" NA")]
    np.testing.assert_allclose(re[re["corr_with"].isna() & (re["group"] != "Residual")]["variance"], r_var, rtol=2e-4)
    np.testing.assert_allclose(re[re["corr_with"].notna()]["variance"], r_cov, rtol=2e-3)
    assert re[re["group"] == "Residual"]["variance"].iloc[0] == pytest.approx(case["sigma"] ** 2, rel=1e-5)
    blups = r.details["blups"]
    np.testing.assert_allclose(blups.iloc[:, 1:].to_numpy(), np.asarray(case["ranef"]).reshape(len(blups), -1), rtol=1e-3, atol=1e-4)
    check_result(r)


def test_coverage_of_fixed_effect_intervals():
    """95% Satterthwaite intervals for a fixed slope cover the truth about 95% of the time (small, seeded)."""
    rng = np.random.default_rng(20261129)
    hits, reps = 0, 60
    for _ in range(reps):
        g = np.repeat(np.arange(12), 5)
        x = rng.normal(size=60)
        y = 1 + 0.5 * x + rng.normal(scale=1.0, size=12)[g] + rng.normal(size=60)
        r = ci.stats.lmm("y ~ x", data=pd.DataFrame({"y": y, "x": x, "g": g}), groups="g")
        lo, hi = r.terms.loc[1, ["ci_low", "ci_high"]]
        hits += lo <= 0.5 <= hi
    assert 0.85 <= hits / reps <= 1.0


def test_singular_fit_is_flagged():
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(10), 6)
    df = pd.DataFrame({"g": g, "x": rng.normal(size=60)})
    df["y"] = df.x + rng.normal(size=60)  # no group effect at all
    r = ci.stats.lmm("y ~ x", data=df, groups="g")
    diag = {d.name: d for d in r.diagnostics}["singular fit"]
    assert diag.status == "warn" and "ols" in diag.message


def test_bad_input(reference):
    ref = reference("mixed")
    df = pd.DataFrame(ref["data"]["sim"])
    with pytest.raises(RoleError, match="did you mean 'g'"):
        ci.stats.lmm("y ~ x", data=df, groups="gg")
    with pytest.raises(ArgumentTypeError, match="reml"):
        ci.stats.lmm("y ~ x", data=df, groups="g", reml="yes")
    with pytest.raises(ArgumentError, match="re_formula"):
        ci.stats.lmm("y ~ x", data=df, groups="g", re_formula="nope")
    with pytest.raises(DataError, match="single level"):
        ci.stats.lmm("y ~ x", data=df.assign(g="a"), groups="g")
    with pytest.raises(DataError, match="not identifiable"):
        ci.stats.lmm("y ~ x", data=df.head(30).assign(id=np.arange(30)), groups="id")


def test_docstring_examples_run():
    from causalinfer.stats import _mixed

    result = doctest.testmod(_mixed, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("index", [0, 6])
def test_predictions_against_lmer(reference, index):
    ref = reference("mixed")
    case = ref["cases"][index]
    df = pd.DataFrame(ref["data"][case["data"]])
    r = ci.stats.lmm(case["fixed"], data=df, groups=case["group"], re_formula=case["re"], reml=case["reml"])
    p = check_unchanged(df, lambda d: r.predict(d))
    np.testing.assert_allclose(p["estimate"], case["fitted"], rtol=1e-5)  # lme4's fitted(): fixed + conditional modes
    np.testing.assert_allclose(p["fixed"], case["fixed_part"], rtol=1e-5)  # predict(re.form = NA)
    assert p["known_group"].all()
    population = r.predict(df, include_random=False)
    np.testing.assert_allclose(population["estimate"], population["fixed"])
    assert (population["ci_low"] < population["fixed"]).all() and (population["fixed"] < population["ci_high"]).all()


def test_predict_bad_newdata():
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(10), 6)
    df = pd.DataFrame({"g": g, "x": rng.normal(size=60), "c": np.tile(["lo", "hi"], 30)})
    df["y"] = df.x + (df.c == "hi") + rng.normal(size=10)[g] + rng.normal(size=60)
    r = ci.stats.lmm("y ~ x + C(c)", data=df, groups="g")
    new = pd.DataFrame({"x": [0.0, 1.0], "c": ["hi", "hi"], "g": [3, 99]})
    p = r.predict(new)  # a single category and an unseen group still work
    assert p["known_group"].tolist() == [True, False] and p.loc[1, "random"] == 0.0
    with pytest.raises(DataError, match="not seen in the fit"):
        r.predict(new.assign(c=["hi", "mid"]))
    with pytest.raises(DataError, match="lacks column"):
        r.predict(new.drop(columns="x"))
    with pytest.raises(DataError, match="grouping column"):
        r.predict(new.drop(columns="g"))
    assert len(r.predict(new.drop(columns="g"), include_random=False)) == 2


def test_empty_data_and_an_empty_random_design_are_refused():
    df = pd.DataFrame({"s": np.repeat(range(6), 3), "c": np.tile(list("abc"), 6), "y": np.arange(18.0) % 5})
    with pytest.raises(DataError, match="`data` has no rows"):
        ci.stats.lmm("y ~ c", data=df.iloc[:0], groups="s")
    with pytest.raises(ArgumentError, match="`re_formula` '0' gives no random effects"):
        ci.stats.lmm("y ~ c", data=df, groups="s", re_formula="0")


def test_predict_options_are_declared():
    df = pd.DataFrame({"s": np.repeat(range(6), 3), "x": np.tile([0.0, 1.0, 2.0], 6)})
    df["y"] = df.x + np.repeat(np.arange(6.0), 3) * 0.5 + np.tile([0.1, -0.2, 0.05], 6) * np.repeat([1, -1, 2, 1, -2, 1], 3)
    r = ci.stats.lmm("y ~ x", data=df, groups="s")
    with pytest.raises(ArgumentTypeError, match="`include_random` must be True or False; got 1"):
        r.predict(df, include_random=1)
    with pytest.raises(ArgumentError, match="`conf_level` must be strictly between 0 and 1"):
        r.predict(df, conf_level=95)


@pytest.mark.parametrize("formula", ["y ~ center(x)", "y ~ center(x) + (1 | g)"])
def test_predict_keeps_the_fitted_values_of_stateful_transforms(formula):
    # center(x) must subtract the mean of the fitting data, not of newdata: the fixed part at the fitting rows
    # equals X b computed from the fit's own design, whatever rows are asked for
    rng = np.random.default_rng(7)
    g = np.repeat(np.arange(12), 6)
    x = rng.normal(3.0, 1.0, g.size)
    df = pd.DataFrame({"g": g, "x": x, "y": 1.0 + 0.8 * x + rng.normal(0, 0.5, 12)[g] + rng.normal(0, 0.3, g.size)})
    fit = ci.stats.lmm(formula, data=df, groups="g") if "|" not in formula else ci.stats.lmm(formula, data=df)
    b = fit.terms["estimate"].to_numpy()
    expected = b[0] + b[1] * (df["x"].to_numpy() - df["x"].mean())
    few = df.iloc[:5]
    got = fit.predict(few, include_random=False)["fixed"].to_numpy()
    np.testing.assert_allclose(got, expected[:5], rtol=1e-12)
