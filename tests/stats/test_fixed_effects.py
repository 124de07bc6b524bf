"""Absorbed fixed effects in ols, against pyfixest (tests/reference/fixed_effects_pyfixest.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference_data import load_reference

import causalinfer as ci
from causalinfer._testing import check_result
from causalinfer.exceptions import CausalInferError

REF = load_reference("fixed_effects_pyfixest")
DATA = {k: pd.DataFrame(v) for k, v in REF["data"].items()}


def _ours(case: dict) -> ci.stats.RegressionResult:
    df = DATA[case["data"]]
    vcov = case["vcov"]
    kw: dict = {"weights": case["weights"]}
    if vcov == "iid":
        kw["cov_type"] = "nonrobust"
    elif vcov == "hetero":
        kw["cov_type"] = "HC1"
    else:
        names = vcov["CRV1"].split("+")
        kw.update(cov_type="cluster", cluster=names[0] if len(names) == 1 else names, cluster_df="G-1")
    return ci.stats.ols(case["formula"], data=df, **kw)


@pytest.mark.parametrize("case", REF["feols"], ids=[c["name"] for c in REF["feols"]])
def test_matches_pyfixest(case: dict) -> None:
    r = _ours(case)
    frame = r.to_frame().set_index("term")
    terms = [t for t in case["terms"] if t != "Intercept"]
    idx = [case["terms"].index(t) for t in terms]
    np.testing.assert_allclose(frame.loc[terms, "estimate"], np.array(case["coef"])[idx], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(frame.loc[terms, "std_error"], np.array(case["se"])[idx], rtol=1e-8)
    np.testing.assert_allclose(frame.loc[terms, "pvalue"], np.array(case["pvalue"])[idx], rtol=1e-6, atol=1e-12)
    assert r.n == case["nobs"]
    assert frame["df"].iloc[0] == case["df_t"]


def test_singletons_reported_and_result_contract() -> None:
    df = DATA["unbalanced"]
    r = ci.stats.ols("y ~ x1 + x2 | firm + year", data=df, cov_type="cluster", cluster="state")
    assert r.fit["n_singletons"] == 5
    assert any(d.name == "singletons" and "5 singleton" in d.message for d in r.diagnostics)
    assert r.fit["fe_nested"] == 1  # firms are nested in states: their levels are not counted
    check_result(r)


def test_absorb_argument_equals_formula_syntax() -> None:
    df = DATA["balanced"]
    a = ci.stats.ols("y ~ x1 + x2 | firm + year", data=df, cov_type="HC1")
    b = ci.stats.ols("y ~ x1 + x2", data=df, absorb=["firm", "year"], cov_type="HC1")
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())


def test_one_factor_matches_dummies() -> None:
    df = DATA["balanced"]
    a = ci.stats.ols("y ~ x1 + x2", data=df, absorb="firm", cov_type="HC1")
    b = ci.stats.ols("y ~ x1 + x2 + C(firm)", data=df, cov_type="HC1")
    np.testing.assert_allclose(a.coef[["x1", "x2"]], b.coef[["x1", "x2"]], rtol=1e-9)
    np.testing.assert_allclose(a.to_frame().std_error[:2], b.to_frame().set_index("term").loc[["x1", "x2"], "std_error"], rtol=1e-9)


def test_caller_frame_unchanged() -> None:
    df = DATA["unbalanced"].copy()
    before = df.copy()
    ci.stats.ols("y ~ x1 | firm + year", data=df, cov_type="cluster", cluster=["state", "year"], weights="w")
    pd.testing.assert_frame_equal(df, before)


def test_regressor_absorbed_by_fixed_effects_is_refused() -> None:
    df = DATA["balanced"].assign(size=lambda d: d.firm * 2.0 + 1)
    with pytest.raises(CausalInferError, match=r"regressor 'size' is absorbed by the fixed effects \['firm', 'year'\].*drop it"):
        ci.stats.ols("y ~ x1 + size | firm + year", data=df)


def test_one_cluster_is_refused() -> None:
    df = DATA["balanced"].assign(one=1)
    with pytest.raises(CausalInferError, match=r"`cluster` 'one' has a single value \(1\).*at least 2 clusters"):
        ci.stats.ols("y ~ x1 | firm", data=df, cov_type="cluster", cluster="one")


def test_unknown_fixed_effect_column() -> None:
    with pytest.raises(CausalInferError, match=r"`absorb` names column 'frim'.*firm"):
        ci.stats.ols("y ~ x1 | frim", data=DATA["balanced"])


def test_missing_fixed_effect_values() -> None:
    df = DATA["balanced"].astype({"firm": float})
    df.loc[3, "firm"] = np.nan
    with pytest.raises(CausalInferError, match=r"`absorb` column 'firm' has 1 missing"):
        ci.stats.ols("y ~ x1 | firm", data=df)


def test_unsupported_covariance_with_fixed_effects() -> None:
    with pytest.raises(CausalInferError, match=r"`cov_type` must be one of .*'HC3'"):
        ci.stats.ols("y ~ x1 | firm", data=DATA["balanced"], cov_type="HC3")


def test_no_regressor_left() -> None:
    with pytest.raises(CausalInferError, match="no regressor besides the fixed effects"):
        ci.stats.ols("y ~ 1 | firm", data=DATA["balanced"])


def test_cluster_series_pairs_by_index_label() -> None:
    df = DATA["balanced"]
    labels = df["state"]
    shuffled = labels.sample(frac=1.0, random_state=1)  # same labels, other row order
    a = ci.stats.ols("y ~ x1 | firm", data=df, cov_type="cluster", cluster=labels)
    b = ci.stats.ols("y ~ x1 | firm", data=df, cov_type="cluster", cluster=shuffled)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())


def test_predict_refused_with_a_reason() -> None:
    r = ci.stats.ols("y ~ x1 | firm", data=DATA["balanced"])
    with pytest.raises(CausalInferError, match=r"predict\(\) is not available for a fit with absorbed fixed effects \(firm\)"):
        r.predict(DATA["balanced"])


def test_two_way_clustering_without_fixed_effects_keeps_the_intercept() -> None:
    r = ci.stats.ols("y ~ x1", data=DATA["balanced"], cov_type="cluster", cluster=["state", "year"])
    assert list(r.coef.index) == ["(Intercept)", "x1"]
    assert r.fit["clusters_each"] == [8, 6] and r.fit["n_clusters"] == 6


@pytest.mark.parametrize("case", REF["fepois"], ids=[c["name"] for c in REF["fepois"]])
def test_poisson_matches_pyfixest_fepois(case: dict) -> None:
    df = DATA["counts"]
    vcov = case["vcov"]
    kw: dict = {"weights": case["weights"]}
    if vcov == "iid":
        kw["cov_type"] = "nonrobust"
    elif vcov == "hetero":
        kw["cov_type"] = "HC1"
    else:
        kw.update(cov_type="cluster", cluster=vcov["CRV1"])
    r = ci.stats.poisson(case["formula"], data=df, **kw)
    frame = r.to_frame().set_index("term")
    np.testing.assert_allclose(frame.loc[case["terms"], "estimate"], case["coef"], rtol=1e-8)
    # weighted: coefficients agree to 1e-15 but the robust standard errors differ by 1.4e-8 relative (not explained)
    np.testing.assert_allclose(frame.loc[case["terms"], "std_error"], case["se"], rtol=1e-8 if case["weights"] is None else 5e-8)
    # pyfixest computes 2 (1 - Phi(|z|)), which loses digits below about 1e-12; we use the survival function
    np.testing.assert_allclose(frame.loc[case["terms"], "pvalue"], case["pvalue"], rtol=1e-6, atol=1e-14)
    assert r.n == case["nobs"]


def test_poisson_reports_separated_rows_and_refuses_negative_counts() -> None:
    df = DATA["counts"]
    r = ci.stats.poisson("y ~ x1 + x2 | firm + year", data=df)
    assert r.fit["n_separated"] > 0 and any(d.name == "separation" for d in r.diagnostics)
    check_result(r)
    with pytest.raises(CausalInferError, match=r"must be non-negative"):
        ci.stats.poisson("y ~ x1 | firm", data=df.assign(y=df.y - 1))


def test_single_valued_second_cluster_variable_is_named_with_its_value() -> None:
    df = DATA["balanced"].assign(region="north")
    with pytest.raises(CausalInferError, match=r"`cluster` 'region' has a single value \('north'\)"):
        ci.stats.ols("y ~ x1 | firm", data=df, cov_type="cluster", cluster=["state", "region"])
