"""Regression inputs that used to raise raw NumPy errors or misleading messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference_data import load_reference

import causalinfer as ci
from causalinfer.exceptions import ArgumentError, ArgumentTypeError, DataError

RNG = np.random.default_rng(6)
DF = pd.DataFrame({"y": RNG.normal(size=20), "x": RNG.normal(size=20), "z": RNG.normal(size=20)})
DF["d"] = pd.date_range("2020-01-01", periods=20)
DF["b"] = (DF["y"] > 0).astype(int)


@pytest.mark.parametrize("fit", [ci.stats.ols, ci.stats.logit, ci.stats.poisson])
def test_more_parameters_than_rows(fit) -> None:  # type: ignore[no-untyped-def]
    y = np.array([0.0, 1.0, 1.0])
    with pytest.raises(DataError, match=r"k = 6 parameters .* only n = 3"):
        fit(RNG.normal(size=(3, 5)), y)


def test_datetime_covariate_is_named_as_such() -> None:
    with pytest.raises(DataError, match=r"'d' .* datetime column .*\.dt\.days"):
        ci.stats.ols("y ~ x + d", data=DF)
    with pytest.raises(DataError, match=r"'d' .* datetime column"):
        ci.stats.ols(DF[["x", "d"]], DF["y"])
    with pytest.raises(DataError, match=r"'d' .* datetime column"):
        ci.stats.logit("b ~ d", data=DF)


def test_wald_test_accepts_a_list_of_terms_and_restrictions() -> None:
    r = ci.stats.ols("y ~ x + z", data=DF)
    joint = ci.stats.wald_test(r, "x = 0, z = 0")
    listed = ci.stats.wald_test(r, ["x", "z"])
    assert listed.statistic == pytest.approx(joint.statistic, rel=1e-12)
    assert ci.stats.wald_test(r, ["x = z"]).pvalue == pytest.approx(ci.stats.wald_test(r, "x = z").pvalue, rel=1e-12)


@pytest.mark.parametrize(
    ("restrictions", "exc", "match"),
    [
        (["x", 1], ArgumentTypeError, "mixes text and numbers"),
        ([], ArgumentError, "is empty"),
        ({"x": 1}, ArgumentTypeError, "`restrictions` must be a formula"),
        (["w"], ArgumentError, "could not read the restrictions 'w'"),
    ],
)
def test_wald_test_bad_restrictions(restrictions, exc, match) -> None:  # type: ignore[no-untyped-def]
    r = ci.stats.ols("y ~ x + z", data=DF)
    with pytest.raises(exc, match=match):
        ci.stats.wald_test(r, restrictions)


def test_messages_print_plain_numbers() -> None:
    frame = pd.DataFrame({"y": np.arange(9.0), "g": np.repeat([0, 1, 2], 3)})
    with pytest.raises(DataError) as info:
        ci.stats.ttest("y", data=frame, group="g")
    assert "np.int64" not in str(info.value) and "[0, 1, 2]" in str(info.value)
    with pytest.raises(ArgumentError) as info2:
        ci.stats.ttest("y", data=frame, group="g", levels=(0, 5))
    assert "np.int64" not in str(info2.value)


CLUSTER = load_reference("edge_cases")["cluster"]


def _cluster_frame() -> pd.DataFrame:
    return pd.DataFrame({k: CLUSTER[k] for k in ("y", "x1", "x2", "cluster")})


@pytest.mark.parametrize("rule", ["n-k", "G-1"])
def test_cluster_robust_df_rules_against_r(rule: str) -> None:
    """R: lm + sandwich::vcovCL(type = "HC1") + lmtest::coeftest(df = n - k or G - 1)."""
    r = ci.stats.ols("y ~ x1 + x2", data=_cluster_frame(), cov_type="cluster", cluster="cluster", cluster_df=rule)
    t = r.to_frame()
    np.testing.assert_allclose(t["estimate"], CLUSTER["estimate"], rtol=1e-9)
    np.testing.assert_allclose(t["std_error"], CLUSTER["std_error"], rtol=1e-9)
    key = "pvalue_nk" if rule == "n-k" else "pvalue_g1"
    np.testing.assert_allclose(t["pvalue"], CLUSTER[key], rtol=1e-7)
    fit = r.details["fit"]
    if rule == "G-1":
        np.testing.assert_allclose(t["ci_low"], CLUSTER["ci_low_g1"], rtol=1e-9)
        np.testing.assert_allclose(t["ci_high"], CLUSTER["ci_high_g1"], rtol=1e-9)
        assert fit["inference_df"] == 11.0 and "G - 1 = 11 df" in r.method
        assert r.pvalue == pytest.approx(CLUSTER["wald_pvalue_g1"], rel=1e-7)
    else:
        assert fit["inference_df"] == 93.0 and "n - k = 93 df" in r.method
        assert r.pvalue == pytest.approx(CLUSTER["wald_pvalue_nk"], rel=1e-7)
    # the header is the robust Wald test, not the classical F
    assert r.statistic == pytest.approx(CLUSTER["wald_f"], rel=1e-9)
    assert r.statistic != pytest.approx(fit["f_statistic"])
    assert "Wald F test with the cluster covariance" in r.estimand
    assert "Wald" in str(r)
    # wald_test on the fit uses the same df
    w = ci.stats.wald_test(r, ["x1", "x2"])
    assert w.df == (2.0, fit["inference_df"])


def test_cluster_df_needs_cluster_errors() -> None:
    with pytest.raises(ArgumentError, match="cluster_df"):
        ci.stats.ols("y ~ x + z", data=DF, cov_type="HC1", cluster_df="G-1")
    with pytest.raises(ArgumentError, match="cluster_df"):
        ci.stats.ols("y ~ x + z", data=DF, cluster_df="G")


def test_robust_glm_header_is_the_robust_wald_test() -> None:
    r = ci.stats.logit("b ~ x + z", data=DF, cov_type="HC0")
    fit = r.details["fit"]
    assert r.statistic == fit["wald_statistic"] and r.statistic_name == "Wald chi-squared"
    classical = ci.stats.logit("b ~ x + z", data=DF)
    assert classical.statistic == classical.details["fit"]["lr_statistic"]


def test_cluster_g_minus_one_matches_statsmodels() -> None:
    """statsmodels' OLS(cov_type="cluster", use_t=True) (tests/reference/cluster_df_statsmodels.py)."""
    sm = load_reference("cluster_df_statsmodels")
    r = ci.stats.ols("y ~ x1 + x2", data=_cluster_frame(), cov_type="cluster", cluster="cluster", cluster_df="G-1")
    t = r.to_frame()
    assert r.details["fit"]["inference_df"] == sm["df_resid_inference"]
    np.testing.assert_allclose(t["std_error"], sm["std_error"], rtol=1e-9)
    np.testing.assert_allclose(t["pvalue"], sm["pvalue"], rtol=1e-7)
    np.testing.assert_allclose(t["ci_low"], sm["ci_low"], rtol=1e-9)
    np.testing.assert_allclose(t["ci_high"], sm["ci_high"], rtol=1e-9)
    assert r.statistic == pytest.approx(sm["wald_f"], rel=1e-9)
    assert r.df[1] == sm["wald_df_denom"]
    assert r.pvalue == pytest.approx(sm["wald_pvalue"], rel=1e-7)


def test_datetime_in_c_is_an_explicit_factor() -> None:
    frame = DF.iloc[:12].assign(d=pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01"] * 4))
    r = ci.stats.ols("y ~ x + C(d)", data=frame)
    assert len(r.terms) == 4


def test_constant_outcome_is_answered_as_r_does_with_a_perfect_fit_warning():
    # R: lm(y ~ x1 + x2) with a constant y gives the coefficients (1, 0, 0) and summary() warns
    # "essentially perfect fit: summary may be unreliable"; we give the same numbers and say so.
    df = pd.DataFrame({"y": [1.0] * 6, "x1": [1, 2, 3, 4, 5, 7.0], "x2": [0, 1, 0, 1, 1, 0.0]})
    r = ci.stats.ols("y ~ x1 + x2", data=df)
    np.testing.assert_allclose(r.to_frame()["estimate"].to_numpy(), [1.0, 0.0, 0.0], atol=1e-12)
    assert r.diagnostic("perfect fit").status == "warn"
    noisy = ci.stats.ols("y ~ x1 + x2", data=df.assign(y=[1.0, 3.0, 2.0, 5.0, 4.0, 7.0]))
    assert "perfect fit" not in [d.name for d in noisy.diagnostics]
