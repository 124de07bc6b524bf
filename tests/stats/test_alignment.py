"""Inputs that are paired row by row are aligned on their index labels, or refused; never paired by position."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer.exceptions import DataError
from causalinfer.stats._inputs import align_by_index

RNG = np.random.default_rng(12)
N = 30
IDX = pd.Index([f"r{i}" for i in range(N)])
A = pd.Series(RNG.normal(size=N), index=IDX, name="a")
B = pd.Series(A.to_numpy() * 0.8 + RNG.normal(size=N), index=IDX, name="b")
BIN_A = pd.Series(RNG.integers(0, 2, N), index=IDX)
BIN_B = pd.Series(np.where(RNG.uniform(size=N) < 0.7, BIN_A, 1 - BIN_A), index=IDX)
PERM = RNG.permutation(N)


def shuffled(s: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    return s.iloc[PERM]


def stat(result: ci.Result) -> tuple[float | None, float | None]:
    return result.statistic, result.pvalue


PAIRED_CALLS = {
    "ttest": lambda x, y: ci.stats.ttest(x, y, paired=True),
    "correlation_pearson": lambda x, y: ci.stats.correlation(x, y),
    "correlation_kendall": lambda x, y: ci.stats.correlation(x, y, method="kendall"),
    "wilcoxon": lambda x, y: ci.stats.wilcoxon(x, y),
    "tost": lambda x, y: ci.stats.tost(x, y, bounds=(-1, 1), paired=True),
    "permutation": lambda x, y: ci.stats.permutation_test(x, y, paired=True, n_resamples=200, random_state=1),
    "bootstrap": lambda x, y: ci.stats.bootstrap(x, y, statistic="mean_diff", paired=True, n_resamples=200, random_state=1),
}


@pytest.mark.parametrize("name", sorted(PAIRED_CALLS))
def test_paired_series_are_aligned_by_label(name: str) -> None:
    call = PAIRED_CALLS[name]
    expected = call(A, B)
    got = call(A, shuffled(B))
    assert got.estimate == pytest.approx(expected.estimate, rel=1e-12)
    if expected.pvalue is not None:
        assert got.pvalue == pytest.approx(expected.pvalue, rel=1e-12)
    if expected.ci_low is not None:
        assert got.ci_low == pytest.approx(expected.ci_low, rel=1e-12)


@pytest.mark.parametrize("name", sorted(PAIRED_CALLS))
def test_paired_series_with_other_labels_are_refused(name: str) -> None:
    other = B.copy()
    other.index = [f"s{i}" for i in range(N)]
    with pytest.raises(DataError, match="index labels differ"):
        PAIRED_CALLS[name](A, other)


def test_plain_arrays_pair_by_position() -> None:
    r1 = ci.stats.ttest(A.to_numpy(), shuffled(B).to_numpy(), paired=True)
    r2 = ci.stats.ttest(A.to_numpy(), B.to_numpy()[PERM], paired=True)
    assert r1.statistic == r2.statistic
    # a Series paired with a plain array pairs by position too (the array has no labels)
    r3 = ci.stats.ttest(A, B.to_numpy()[PERM], paired=True)
    assert r3.statistic == r1.statistic


def test_duplicate_labels_are_refused_when_order_differs() -> None:
    a = A.copy()
    a.index = ["d"] * 2 + list(IDX[2:])
    b = B.copy()
    b.index = a.index
    ci.stats.ttest(a, b, paired=True)  # identical index, same order: unambiguous
    with pytest.raises(DataError, match="duplicate index labels"):
        ci.stats.ttest(a, b.iloc[PERM], paired=True)


def test_mcnemar_from_vectors_aligns() -> None:
    expected = ci.stats.mcnemar_test(BIN_A, BIN_B)
    got = ci.stats.mcnemar_test(BIN_A, shuffled(BIN_B))
    assert got.statistic == pytest.approx(expected.statistic)
    assert got.pvalue == pytest.approx(expected.pvalue)


@pytest.mark.parametrize("fn", [ci.stats.chisq_test, ci.stats.fisher_test, ci.stats.g_test])
def test_crosstab_tests_align(fn) -> None:  # type: ignore[no-untyped-def]
    expected = fn(BIN_A, BIN_B)
    got = fn(BIN_A, shuffled(BIN_B))
    assert got.pvalue == pytest.approx(expected.pvalue, rel=1e-12)


def test_ols_aligns_y_x_weights_and_cluster() -> None:
    X = pd.DataFrame({"a": A, "c": RNG.normal(size=N)}, index=IDX)
    y = B + X["c"]
    w = pd.Series(RNG.uniform(0.5, 2, N), index=IDX)
    g = pd.Series(np.repeat(np.arange(10), 3), index=IDX)
    expected = ci.stats.ols(X, y, weights=w, cov_type="cluster", cluster=g)
    got = ci.stats.ols(X, shuffled(y), weights=shuffled(w), cov_type="cluster", cluster=shuffled(g))
    np.testing.assert_allclose(got.terms["estimate"], expected.terms["estimate"], rtol=1e-9)
    np.testing.assert_allclose(got.terms["std_error"], expected.terms["std_error"], rtol=1e-9)
    # a Series regressor too
    e1 = ci.stats.ols(A, B)
    e2 = ci.stats.ols(shuffled(A), B)
    np.testing.assert_allclose(e2.terms["estimate"], e1.terms["estimate"], rtol=1e-9)


def test_ols_formula_aligns_weights_series_with_data() -> None:
    df = pd.DataFrame({"a": A, "b": B})
    w = pd.Series(RNG.uniform(0.5, 2, N), index=IDX)
    e1 = ci.stats.ols("b ~ a", data=df, weights=w)
    e2 = ci.stats.ols("b ~ a", data=df, weights=shuffled(w))
    np.testing.assert_allclose(e2.terms["estimate"], e1.terms["estimate"], rtol=1e-9)
    with pytest.raises(DataError, match="`data` and `weights`"):
        ci.stats.ols("b ~ a", data=df, weights=w.reset_index(drop=True))


def test_glm_aligns() -> None:
    y = BIN_B
    e1 = ci.stats.logit(A, y)
    e2 = ci.stats.logit(A, shuffled(y))
    np.testing.assert_allclose(e2.terms["estimate"], e1.terms["estimate"], rtol=1e-9)


def test_ols_refuses_different_labels() -> None:
    with pytest.raises(DataError, match="`x` and `y`"):
        ci.stats.ols(A, B.reset_index(drop=True))


def test_helper_keeps_unindexed_values_and_order() -> None:
    out = align_by_index(a=A, b=[1, 2], c=shuffled(B))
    assert list(out) == ["a", "b", "c"]
    assert out["b"] == [1, 2]
    assert out["c"].index.equals(A.index)
