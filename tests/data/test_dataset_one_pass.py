"""Dataset validation by min/max and missing counts gives the same answers as counting distinct values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalinfer import Dataset
from causalinfer.exceptions import DataError, RoleError


def frame(**cols):
    base = {"y": [1.0, 2.0, 3.0, 4.0], "d": [0, 1, 0, 1]}
    base.update(cols)
    return pd.DataFrame(base)


@pytest.mark.parametrize(
    "values",
    [[0.0, -0.0, 0.0, -0.0], [3, 3, 3, 3], [True, True, True, True], np.full(4, 2.5, dtype=np.float32)],
    ids=["signed-zeros", "int", "bool", "float32"],
)
def test_constant_numeric_covariate_is_refused(values):
    with pytest.raises(RoleError, match="covariate 'x' is constant"):
        Dataset(frame(x=values), outcome="y", treatment="d", covariates=["x"])


@pytest.mark.parametrize(
    "values",
    [["a", "a", "a", "a"], pd.Categorical(["u", "u", "u", "u"], categories=["u", "v"]), pd.array([5, 5, 5, 5], dtype="Int64")],
    ids=["text", "categorical-with-unused-level", "nullable-int"],
)
def test_constant_other_covariate_is_refused(values):
    with pytest.raises(RoleError, match="covariate 'x' is constant"):
        Dataset(frame(x=values), outcome="y", treatment="d", covariates=["x"])


def test_varying_covariates_pass():
    ds = Dataset(frame(x=[0.0, 0.0, 0.0, 1e-300], z=["a", "b", "a", "a"]), outcome="y", treatment="d", covariates=["x", "z"])
    assert ds.covariates == ("x", "z")


def test_one_level_treatment_message_names_the_level():
    with pytest.raises(RoleError, match=r"treatment 'd' has only one level \(1\) in 4 rows"):
        Dataset(frame(d=[1, 1, 1, 1]), outcome="y", treatment="d")


def test_numeric_treated_level_two_levels():
    ds = Dataset(frame(d=[1, 2, 1, 2]), outcome="y", treatment="d", treated_level=2)
    assert ds.treatment_values().tolist() == [0.0, 1.0, 0.0, 1.0]


def test_numeric_treated_level_three_levels_is_refused_with_the_levels():
    with pytest.raises(RoleError, match=r"needs a treatment with two levels; 'd' has 3 \(1, 2, 3\)"):
        Dataset(frame(d=[1, 2, 3, 2]), outcome="y", treatment="d", treated_level=2)


def test_numeric_treated_level_not_a_level():
    with pytest.raises(RoleError, match=r"`treated_level` 5 is not a level of treatment 'd'; its levels are 1, 2"):
        Dataset(frame(d=[1, 2, 1, 2]), outcome="y", treatment="d", treated_level=5)


def test_text_treated_level():
    ds = Dataset(frame(d=["no", "yes", "no", "yes"]), outcome="y", treatment="d", treated_level="yes")
    assert ds.treatment_values().tolist() == [0.0, 1.0, 0.0, 1.0]


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinite_values_are_counted(bad):
    with pytest.raises(DataError, match=r"column 'x' \(covariates\) has 1 infinite value\(s\)"):
        Dataset(frame(x=[1.0, bad, 2.0, 3.0]), outcome="y", treatment="d", covariates=["x"])


def test_huge_finite_values_whose_sum_overflows_pass():
    ds = Dataset(frame(x=[1e308, 1e308, -1.0, 2.0]), outcome="y", treatment="d", covariates=["x"])
    assert ds.n == 4


def test_missing_counts_per_column_in_role_order():
    df = frame(x=[1.0, np.nan, np.nan, 2.0], z=["a", None, "b", "b"])
    with pytest.raises(DataError, match=r"'x' \(2 of 4 rows\), 'z' \(1 of 4 rows\)"):
        Dataset(df, outcome="y", treatment="d", covariates=["x", "z"])
    ds = Dataset(df, outcome="y", treatment="d", covariates=["x", "z"], missing="drop")
    assert (ds.n, ds.n_dropped) == (2, 2)


def test_missing_and_infinite_after_drop():
    df = frame(x=[1.0, np.nan, np.inf, 2.0])
    with pytest.raises(DataError, match="1 infinite value"):
        Dataset(df, outcome="y", treatment="d", covariates=["x"], missing="drop")
