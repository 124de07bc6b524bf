"""The conformal predictors pass scikit-learn's estimator checks; each remaining exception is listed with its reason.

The instances use ``alpha=0.5`` because the checks fit on data sets of a few rows: at the default ``alpha=0.1``
split conformal needs at least 9 calibration points, and refusing fewer is the intended behaviour.
"""

from __future__ import annotations

import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression, QuantileRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from causalinfer.exceptions import ArgumentError
from causalinfer.predict import (
    ConformalizedQuantileRegressor,
    JackknifePlusRegressor,
    NotFittedError,
    SplitConformalClassifier,
    SplitConformalRegressor,
)

ESTIMATORS = [
    SplitConformalRegressor(LinearRegression(), alpha=0.5, random_state=0),
    SplitConformalClassifier(LogisticRegression(), alpha=0.5, random_state=0),
    ConformalizedQuantileRegressor(QuantileRegressor(alpha=0.0, solver="highs"), alpha=0.5, random_state=0),
    JackknifePlusRegressor(LinearRegression(), alpha=0.5, random_state=0),
]

# check_regressors_train sets `alpha = 0.01` on any regressor that has an `alpha` (it means a penalty for linear
# models). Here `alpha` is the miscoverage level: coverage 0.99 from a calibration set of 50 rows is impossible
# for split conformal (it needs 99), and the predictor refuses it with a DataError saying so, as it should.
EXPECTED = {
    "SplitConformalRegressor": {"check_regressors_train": "alpha=0.01 is a 99% level; 50 calibration rows cannot give it"},
    "ConformalizedQuantileRegressor": {"check_regressors_train": "alpha=0.01 is a 99% level; 50 calibration rows cannot give it"},
}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: EXPECTED.get(type(est).__name__, {}))
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_not_fitted_is_ours_and_sklearns():
    from sklearn.exceptions import NotFittedError as SklearnNotFittedError

    with pytest.raises(NotFittedError) as err:
        SplitConformalRegressor(LinearRegression()).predict([[1.0]])
    assert isinstance(err.value, SklearnNotFittedError) and isinstance(err.value, ArgumentError)


def test_score_is_a_method_again():
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = X @ [1.0, -1.0] + rng.normal(scale=0.1, size=200)
    cp = SplitConformalRegressor(LinearRegression(), conformity_score="normalized", random_state=0).fit(X, y)
    assert cp.n_features_in_ == 2
    assert cp.score(X, y) > 0.95  # R^2 from RegressorMixin, no longer hidden by a constructor parameter
