"""ICC, Cronbach's alpha and partial correlation against hand computations in R (tests/reference/repeated.R)."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged
from causalinfer.exceptions import ArgumentError, ArgumentTypeError, DataError


@pytest.mark.parametrize("index", [0, 1])
def test_icc_against_r(reference, index):
    case = reference("repeated")["icc"][index]
    X = np.asarray(case["x"], dtype=float)
    r = ci.stats.icc(X, conf_level=case["conf_level"])
    t = r.table
    assert t["type"].tolist() == case["type"]
    for col, key in (("icc", "icc"), ("F", "F"), ("df1", "df1"), ("df2", "df2"), ("ci_low", "low"), ("ci_high", "high")):
        np.testing.assert_allclose(t[col], case[key], rtol=1e-10)
    np.testing.assert_allclose(t["pvalue"], case["p"], rtol=1e-9)
    ms = r.details["mean_squares"]
    np.testing.assert_allclose([ms["MSB"], ms["MSW"], ms["MSJ"], ms["MSE"]], case["ms"], rtol=1e-12)
    check_result(r)
    n, k = X.shape
    long = pd.DataFrame({"t": np.repeat(np.arange(n), k), "j": np.tile([f"r{j}" for j in range(k)], n), "v": X.ravel()})
    r2 = check_unchanged(long, lambda d: ci.stats.icc(d, targets="t", raters="j", ratings="v", conf_level=case["conf_level"]))
    pd.testing.assert_frame_equal(r2.table, t, rtol=1e-12)


def test_icc_shrout_fleiss_published_values(reference):
    """Shrout and Fleiss (1979), Table 4: ICC(1,1) .17, ICC(2,1) .29, ICC(3,1) .71, ICC(1,4) .44, ICC(2,4) .62, ICC(3,4) .91."""
    r = ci.stats.icc(reference("repeated")["icc"][0]["x"])
    assert np.round(r.table["icc"].to_numpy(), 2).tolist() == [0.17, 0.29, 0.71, 0.44, 0.62, 0.91]


def test_icc_bad_input():
    with pytest.raises(DataError, match="no within-target variation"):
        ci.stats.icc([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    with pytest.raises(ArgumentError, match="all of `targets`"):
        ci.stats.icc(pd.DataFrame({"a": [1.0]}), targets="a")
    with pytest.raises(ArgumentError, match="only numeric"):
        ci.stats.icc(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}))


@pytest.mark.parametrize("index", [0, 1])
def test_cronbach_alpha_against_r(reference, index):
    case = reference("repeated")["alpha"][index]
    X = np.asarray(case["x"], dtype=float)
    r = ci.stats.cronbach_alpha(X, conf_level=case["conf_level"])
    assert r.estimate == pytest.approx(case["alpha"], rel=1e-12)
    assert r.ci == pytest.approx((case["low"], case["high"]), rel=1e-10)
    check_result(r)
    check_nested_intervals(ci.stats.cronbach_alpha, X)
    df = pd.DataFrame(X, columns=[f"q{j}" for j in range(X.shape[1])]).assign(extra="x")
    r2 = check_unchanged(
        df, lambda d: ci.stats.cronbach_alpha(d, items=[f"q{j}" for j in range(X.shape[1])], conf_level=case["conf_level"])
    )
    assert r2.estimate == pytest.approx(r.estimate, rel=1e-14)
    items = r2.details["items"]
    # alpha if an item is dropped is alpha of the remaining items
    assert items["alpha_if_dropped"].iloc[0] == pytest.approx(ci.stats.cronbach_alpha(X[:, 1:]).estimate, rel=1e-12)


def test_cronbach_alpha_bad_input():
    with pytest.raises(ArgumentError, match="`items`"):
        ci.stats.cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3], "b": [2.0, 3, 1]}), items=["a", "c"])
    with pytest.raises(DataError, match="at least 2 items"):
        ci.stats.cronbach_alpha([[1.0], [2.0], [3.0]])


@pytest.mark.parametrize("index", [0, 1, 2])
def test_partial_correlation_against_r(reference, index):
    ref = reference("repeated")
    case = ref["partial"][index]
    df = pd.DataFrame(ref["partial_data"])
    covar = case.get("covar", ["z1", "z2"])
    r = check_unchanged(
        df, lambda d: ci.stats.partial_correlation("x", "y", covar, data=d, method=case["method"], conf_level=case["conf_level"])
    )
    assert r.estimate == pytest.approx(case["r"], rel=1e-12)
    assert r.statistic == pytest.approx(case["t"], rel=1e-10)
    assert r.df == case["df"]
    assert r.pvalue == pytest.approx(case["p"], rel=1e-10)
    assert r.ci == pytest.approx((case["low"], case["high"]), rel=1e-10)
    check_result(r)
    arrays = ci.stats.partial_correlation(
        df.x.to_numpy(), df.y.to_numpy(), df[list(np.atleast_1d(covar))].to_numpy(), method=case["method"]
    )
    assert arrays.estimate == pytest.approx(r.estimate, rel=1e-14)


def test_partial_correlation_bad_input(reference):
    df = pd.DataFrame(reference("repeated")["partial_data"])
    with pytest.raises(ArgumentError, match="different columns"):
        ci.stats.partial_correlation("x", "y", ["x"], data=df)
    with pytest.raises(ArgumentTypeError, match="no `data`"):
        ci.stats.partial_correlation("x", "y", "z1")
    with pytest.raises(DataError, match="collinear"):
        ci.stats.partial_correlation(df.x, df.y, np.column_stack([df.z1, 2 * df.z1]))
    with pytest.raises(ArgumentError, match="method"):
        ci.stats.partial_correlation("x", "y", "z1", data=df, method="kendall")


@pytest.mark.parametrize("module", ["_reliability", "_partial_correlation"])
def test_docstring_examples_run(module):
    import importlib

    mod = importlib.import_module(f"causalinfer.stats.{module}")
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    ("covar", "match"),
    [
        (["a", "b"], "`covar` holds column names"),
        (np.array(["a"] * 6), "`covar` must be numeric"),
        ([[1.0, 2.0], [3.0]], "`covar` must be array-like"),
    ],
    ids=["names-without-data", "strings", "ragged-rows"],
)
def test_partial_correlation_covariates_that_are_not_numbers_are_refused(covar, match):
    with pytest.raises(ArgumentTypeError, match=match):
        ci.stats.partial_correlation([1.0, 2, 3, 4, 5, 6], [2.0, 1, 4, 3, 6, 5], covar)


def test_wide_dataset_is_read_like_its_frame():
    rng = np.random.default_rng(2)
    wide = pd.DataFrame(rng.normal(size=(6, 3)) + 2 * rng.normal(size=(6, 1))).add_prefix("r")
    ds = ci.data.Dataset(wide)
    assert ci.stats.icc(ds).table["icc"].tolist() == ci.stats.icc(wide).table["icc"].tolist()
    assert ci.stats.cronbach_alpha(ds).estimate == ci.stats.cronbach_alpha(wide).estimate
    assert ci.stats.cronbach_alpha(ds, items=["r0", "r2"]).estimate == ci.stats.cronbach_alpha(wide, items=["r0", "r2"]).estimate
