"""Groups too small for their per-group models get a DataError naming the group and the counts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci


def _tiny(n_control=2):
    rng = np.random.default_rng(0)
    n = 6 + n_control
    return pd.DataFrame({"y": rng.normal(size=n), "a": [1] * 6 + [0] * n_control, "x1": rng.normal(size=n), "x2": rng.normal(size=n)})


@pytest.mark.parametrize(
    ("func", "kwargs"),
    [("aipw", {}), ("aipw", {"n_folds": 1}), ("matching", {}), ("regression_adjustment", {})],
    ids=["aipw", "aipw-no-crossfit", "matching", "regression_adjustment"],
)
def test_two_controls_cannot_fit_three_parameters(func, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ci.DataError, match=r"2 control row\(s\) cannot fit the 3 parameters"):
            getattr(ci.causal, func)(_tiny(), outcome="y", treatment="a", covariates=["x1", "x2"], **kwargs)


def test_cross_fitting_fold_names_the_counts():
    from sklearn.linear_model import LinearRegression

    with pytest.raises(ci.DataError, match=r"leaves \d+ treated and \d+ control units to train on"):
        ci.designs.cate(
            _tiny(), outcome="y", treatment="a", covariates=["x1", "x2"], learner="t", outcome_model=LinearRegression(), n_folds=2
        )
