"""Conformal prediction: distribution-free prediction intervals and prediction sets around any scikit-learn model.

All predictors follow scikit-learn conventions: the constructor only stores its arguments, ``fit`` clones the
wrapped estimator (the caller's object is never fitted or changed) and every fitted attribute ends in ``_``.
Fitted predictors are cheap to apply chunk by chunk: ``predict_interval`` / ``predict_set`` / ``predict_frame``
call the model once per chunk and add a few vectorised array operations.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.exceptions import DataConversionWarning
from sklearn.exceptions import NotFittedError as SklearnNotFittedError

from .._validation import check_choice, check_random_state, show
from ..exceptions import ArgumentError, ArgumentTypeError, CausalInferError, DataError
from ._common import (
    as_target,
    check_alpha,
    check_count,
    check_fraction_or_count,
    conformal_rank,
    min_calibration_size,
    model_input_error,
    n_rows,
    take_rows,
)

__all__ = [
    "ConformalizedQuantileRegressor",
    "JackknifePlusRegressor",
    "SplitConformalClassifier",
    "SplitConformalRegressor",
]


@contextlib.contextmanager
def _model_errors(X: Any, doing: str) -> Iterator[None]:
    """Turn a wrapped model's ValueError/TypeError on bad input into a DataError naming the column and row."""
    try:
        yield
    except CausalInferError:
        raise
    except (ValueError, TypeError) as exc:
        raise model_input_error(exc, X, doing) from exc


def _require_method(estimator: Any, method: str, name: str = "estimator") -> None:
    if estimator is None or not hasattr(estimator, "fit") or not hasattr(estimator, method):
        raise ArgumentTypeError(f"`{name}` must be a scikit-learn style estimator with fit() and {method}(); got {show(estimator)}")


def _split(n: int, calibration_size: Any, random_state: Any) -> tuple[np.ndarray, np.ndarray]:
    n_cal = check_fraction_or_count(calibration_size, "calibration_size", n)
    perm = check_random_state(random_state).permutation(n)
    return np.sort(perm[n_cal:]), np.sort(perm[:n_cal])


class NotFittedError(ArgumentError, SklearnNotFittedError):
    """A conformal predictor was used before ``fit`` (or ``calibrate``): ours, and scikit-learn's NotFittedError."""


def _check_fitted(obj: Any, attr: str) -> None:
    if not hasattr(obj, attr):
        raise NotFittedError(f"this {type(obj).__name__} is not fitted yet; call fit(X, y) (or calibrate(X, y) with prefit=True) first")


def _check_dense(X: Any) -> None:
    if issparse(X):
        raise ArgumentTypeError(
            "`X` is a sparse matrix; sparse input is not supported by the conformal predictors (rows are split and "
            "indexed densely). Pass X.toarray() or a DataFrame"
        )


def _n_features(X: Any) -> int:
    _check_dense(X)
    shape = X.shape if isinstance(X, (np.ndarray, pd.DataFrame)) else np.asarray(X).shape
    if len(shape) != 2:
        raise DataError(
            f"`X` must be two-dimensional (rows x features); got shape {tuple(shape)}. Reshape your data with "
            "X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a single sample"
        )
    return int(shape[1])


def _column_y(y: Any) -> None:
    """Warn, as scikit-learn estimators do, when y is a column vector (it is raveled)."""
    if y is not None and len(np.shape(np.asarray(y))) == 2 and np.shape(np.asarray(y))[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it is used as y.ravel()", DataConversionWarning, stacklevel=3
        )


def _check_input(est: Any, X: Any) -> None:
    """Before a model call at predict time: fitted, dense, two-dimensional and with the columns it was fitted on."""
    _check_fitted(est, "n_features_in_")
    k = _n_features(X)
    if k != est.n_features_in_:
        raise DataError(
            f"X has {k} features, but {type(est).__name__} is expecting {est.n_features_in_} features as input; "
            "pass the columns the predictor was fitted on"
        )


def _inner_feature_names(model: Any) -> np.ndarray:
    """``feature_names_in_`` of the wrapped fitted model, or AttributeError (so ``getattr(..., None)`` works)."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        raise AttributeError("feature_names_in_")
    return np.asarray(names, dtype=object)


class _SplitConformalBase(BaseEstimator):  # type: ignore[misc]
    """Shared split/calibrate logic; subclasses define the conformity score."""

    _predict_method = "predict"
    _numeric_target = True

    @property
    def feature_names_in_(self) -> np.ndarray:
        """Column names the wrapped model was fitted on (when it was fitted on a DataFrame)."""
        inner = self.__dict__.get("lower_estimator_", self.__dict__.get("estimator_"))
        return _inner_feature_names(inner)

    def _resolve_alpha(self, alpha: Any) -> float:
        return check_alpha(self.alpha if alpha is None else alpha)

    def fit(self, X: Any, y: Any) -> Any:
        """Fit the model on one part of ``(X, y)`` and calibrate on the rest (``calibration_size``).

        With ``prefit=True`` the wrapped estimator is used as already fitted and all of ``(X, y)`` calibrates.
        """
        check_alpha(self.alpha)
        n_features = _n_features(X)
        n = n_rows(X)
        _column_y(y)
        y_arr = as_target(y, n=n, numeric=self._numeric_target)
        if self.prefit:
            return self.calibrate(X, y_arr)
        self.n_features_in_ = n_features
        fit_idx, cal_idx = _split(n, self.calibration_size, self.random_state)
        with _model_errors(X, "fitting"):
            self._fit_models(take_rows(X, fit_idx), y_arr[fit_idx])
        return self._calibrate(take_rows(X, cal_idx), y_arr[cal_idx])

    def calibrate(self, X: Any, y: Any) -> Any:
        """Compute conformity scores on a calibration set, with the model left as it is.

        With ``prefit=True`` the wrapped estimator must already be fitted; otherwise ``fit`` must have been called
        (calling ``calibrate`` again recalibrates the same model on new data).
        """
        check_alpha(self.alpha)
        n_features = _n_features(X)
        n = n_rows(X)
        y_arr = as_target(y, n=n, numeric=self._numeric_target)
        if self.prefit:
            self._use_prefit()
            self.n_features_in_ = n_features
        else:
            _check_fitted(self, "estimator_")
            if n_features != self.n_features_in_:
                raise DataError(
                    f"X has {n_features} features, but {type(self).__name__} is expecting {self.n_features_in_} features as input"
                )
        return self._calibrate(X, y_arr)

    def _calibrate(self, X: Any, y: np.ndarray) -> Any:
        with _model_errors(X, "calibrating"):
            scores = np.sort(self._scores(X, y))
        if not np.all(np.isfinite(scores)):
            raise DataError("conformity scores are not all finite; check the model's predictions on the calibration set for NaN or inf")
        self.conformity_scores_ = scores
        self.n_calibration_ = int(scores.size)
        conformal_rank(scores.size, check_alpha(self.alpha))  # fail now, not at predict time
        return self

    def quantile(self, alpha: float | None = None) -> float:
        """The conformal quantile of the calibration scores: the ``ceil((n+1)(1-alpha))``-th smallest."""
        _check_fitted(self, "conformity_scores_")
        a = self._resolve_alpha(alpha)
        return float(self.conformity_scores_[conformal_rank(self.n_calibration_, a) - 1])

    @property
    def min_calibration_size(self) -> int:
        """Fewest calibration points that give a finite interval at the constructor's ``alpha``."""
        return min_calibration_size(check_alpha(self.alpha))


class SplitConformalRegressor(RegressorMixin, _SplitConformalBase):
    """Split conformal prediction intervals around any regressor.

    Parameters
    ----------
    estimator : scikit-learn regressor
        The point model; cloned before fitting (unless ``prefit=True``, when it is used as is and never refitted).
    alpha : float
        Miscoverage: intervals cover a new outcome with probability at least ``1 - alpha``.
    conformity_score : {"absolute", "normalized"}
        ``"absolute"``: :math:`|y - \\hat\\mu(x)|`, intervals of constant width.
        ``"normalized"``: :math:`|y - \\hat\\mu(x)| / \\hat\\sigma(x)`, intervals that widen where the model errs more
        (heteroscedastic data); :math:`\\hat\\sigma` is ``scale_estimator`` fitted to cross-fitted absolute residuals.
    scale_estimator : scikit-learn regressor, optional
        Model of the absolute residual; default a clone of ``estimator``. With ``prefit=True`` it must be fitted.
    calibration_size : float or int
        Share (or number) of the rows of ``fit`` held out for calibration.
    prefit : bool
        Treat ``estimator`` (and ``scale_estimator``) as fitted; ``fit``/``calibrate`` then only calibrate.
    random_state : int, optional
        Seed of the fit/calibration split and the residual cross-fitting.

    Attributes
    ----------
    estimator_, scale_estimator_ : fitted models
    conformity_scores_ : ndarray
        Sorted calibration scores.
    n_calibration_ : int
    scale_floor_ : float
        Lower bound applied to :math:`\\hat\\sigma(x)` (normalised score only).

    Notes
    -----
    With calibration scores :math:`s_1 \\le \\dots \\le s_n` and :math:`k = \\lceil (n+1)(1-\\alpha) \\rceil`, the
    interval is :math:`\\hat\\mu(x) \\pm s_k` (times :math:`\\hat\\sigma(x)` for the normalised score). If the
    calibration and test points are exchangeable, coverage is at least :math:`1-\\alpha` and, for continuous scores,
    below :math:`1-\\alpha+1/(n+1)` (Lei et al. 2018). :math:`k \\le n` needs :math:`n \\ge (1-\\alpha)/\\alpha`
    (9 points for alpha = 0.1, 19 for 0.05); fewer raise a :class:`~causalinfer.exceptions.DataError`.
    Validated by seeded simulation of coverage over many calibration/test splits (tests/trust).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from causalinfer.predict import SplitConformalRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 2)); y = X @ [1.0, -2.0] + rng.normal(size=500)
    >>> cp = SplitConformalRegressor(LinearRegression(), alpha=0.1, random_state=0).fit(X, y)
    >>> cp.predict_interval(X[:2]).shape
    (2, 2)
    >>> list(cp.predict_frame(X[:2]).columns)
    ['prediction', 'lower', 'upper']
    """

    def __init__(
        self,
        estimator: Any = None,
        *,
        alpha: float = 0.1,
        conformity_score: str = "absolute",
        scale_estimator: Any = None,
        calibration_size: float | int = 0.25,
        prefit: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.alpha = alpha
        self.conformity_score = conformity_score
        self.scale_estimator = scale_estimator
        self.calibration_size = calibration_size
        self.prefit = prefit
        self.random_state = random_state

    def _normalized(self) -> bool:
        return check_choice(self.conformity_score, "conformity_score", ("absolute", "normalized")) == "normalized"

    def _fit_models(self, X: Any, y: np.ndarray) -> None:
        _require_method(self.estimator, "predict")
        normalized = self._normalized()
        self.estimator_ = clone(self.estimator).fit(X, y)
        if normalized:
            from sklearn.model_selection import KFold, cross_val_predict

            cv = KFold(5, shuffle=True, random_state=self.random_state)
            resid = np.abs(y - cross_val_predict(clone(self.estimator), X, y, cv=cv))
            scale_model = self.scale_estimator if self.scale_estimator is not None else self.estimator
            _require_method(scale_model, "predict", "scale_estimator")
            self.scale_estimator_ = clone(scale_model).fit(X, resid)
            self.scale_floor_ = float(max(1e-3 * np.mean(resid), 1e-12))

    def _use_prefit(self) -> None:
        _require_method(self.estimator, "predict")
        self.estimator_ = self.estimator
        if self._normalized():
            if self.scale_estimator is None:
                raise ArgumentError(
                    "`scale_estimator` must be a fitted model of |y - prediction| when conformity_score='normalized' and prefit=True"
                )
            _require_method(self.scale_estimator, "predict", "scale_estimator")
            self.scale_estimator_ = self.scale_estimator
            self.scale_floor_ = 1e-12

    def _scale(self, X: Any) -> np.ndarray:
        return np.maximum(np.asarray(self.scale_estimator_.predict(X), dtype=float), self.scale_floor_)

    def _scores(self, X: Any, y: np.ndarray) -> np.ndarray:
        resid = np.abs(y.astype(float) - np.asarray(self.estimator_.predict(X), dtype=float))
        if self._normalized():
            if not hasattr(self, "scale_floor_"):
                self.scale_floor_ = 1e-12
            return resid / self._scale(X)
        return resid

    def predict(self, X: Any) -> np.ndarray:
        """Point predictions of the fitted model."""
        _check_input(self, X)
        return np.asarray(self.estimator_.predict(X), dtype=float)

    def _interval(self, X: Any, alpha: Any) -> tuple[np.ndarray, np.ndarray]:
        q = self.quantile(alpha)
        pred = self.predict(X)
        half = q * self._scale(X) if self._normalized() else q
        out = np.empty((pred.shape[0], 2), order="F")  # contiguous columns: two vectorised passes
        np.subtract(pred, half, out=out[:, 0])
        np.add(pred, half, out=out[:, 1])
        return pred, out

    def predict_interval(self, X: Any, *, alpha: float | None = None) -> np.ndarray:
        """Prediction intervals, an array of shape ``(n, 2)`` (lower, upper), at level ``1 - alpha``."""
        return self._interval(X, alpha)[1]

    def predict_with_interval(self, X: Any, *, alpha: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Point predictions ``(n,)`` and intervals ``(n, 2)`` from one model call (the cheapest form for scoring jobs)."""
        return self._interval(X, alpha)

    def predict_frame(self, X: Any, *, alpha: float | None = None) -> pd.DataFrame:
        """Prediction and interval as columns ``prediction, lower, upper`` (one model call), ready to append to output."""
        pred, iv = self._interval(X, alpha)
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame({"prediction": pred, "lower": iv[:, 0], "upper": iv[:, 1]}, index=index)


_QUANTILE_PARAMS = ("quantile", "alpha")


def _with_quantile(estimator: Any, q: float) -> Any:
    params = estimator.get_params(deep=False)
    if "quantile" in params:
        return clone(estimator).set_params(quantile=q)
    if params.get("loss") == "quantile" and "alpha" in params:
        return clone(estimator).set_params(alpha=q)
    raise ArgumentError(
        f"`estimator` {type(estimator).__name__} has no quantile parameter; pass a quantile regressor "
        "(QuantileRegressor, HistGradientBoostingRegressor(loss='quantile'), GradientBoostingRegressor(loss='quantile')) "
        "or a pair (lower_model, upper_model)"
    )


class ConformalizedQuantileRegressor(RegressorMixin, _SplitConformalBase):
    """Conformalised quantile regression (CQR): quantile-regression bands corrected to guaranteed coverage.

    Parameters
    ----------
    estimator : quantile regressor or (lower, upper) pair
        A single estimator with a ``quantile`` parameter (or ``loss='quantile'`` and ``alpha``), cloned twice and
        set to the ``alpha/2`` and ``1 - alpha/2`` quantiles; or two estimators already configured for the lower
        and upper quantiles (fitted ones when ``prefit=True``).
    alpha : float
        Miscoverage level.
    calibration_size, prefit, random_state
        As for :class:`SplitConformalRegressor`.

    Attributes
    ----------
    lower_estimator_, upper_estimator_ : fitted models
    conformity_scores_ : ndarray
    n_calibration_ : int

    Notes
    -----
    Score :math:`E_i = \\max\\{\\hat q_{lo}(x_i) - y_i,\\ y_i - \\hat q_{hi}(x_i)\\}`; interval
    :math:`[\\hat q_{lo}(x) - E_{(k)},\\ \\hat q_{hi}(x) + E_{(k)}]` with :math:`k = \\lceil (n+1)(1-\\alpha) \\rceil`
    (Romano, Patterson and Candès 2019). Same coverage guarantee as split conformal.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import GradientBoostingRegressor
    >>> from causalinfer.predict import ConformalizedQuantileRegressor
    >>> rng = np.random.default_rng(1)
    >>> X = rng.uniform(0, 4, size=(400, 1)); y = X[:, 0] + rng.normal(scale=0.2 + X[:, 0] / 2)
    >>> gb = GradientBoostingRegressor(loss="quantile", n_estimators=50, random_state=0)
    >>> cqr = ConformalizedQuantileRegressor(gb, alpha=0.1, random_state=0).fit(X, y)
    >>> iv = cqr.predict_interval(X[:3]); bool((iv[:, 0] <= iv[:, 1]).all())
    True
    """

    def __init__(
        self,
        estimator: Any = None,
        *,
        alpha: float = 0.1,
        calibration_size: float | int = 0.25,
        prefit: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.alpha = alpha
        self.calibration_size = calibration_size
        self.prefit = prefit
        self.random_state = random_state

    def _pair(self) -> tuple[Any, Any] | None:
        if isinstance(self.estimator, (tuple, list)):
            if len(self.estimator) != 2:
                raise ArgumentError(f"`estimator` as a pair must hold exactly (lower_model, upper_model); got {len(self.estimator)} items")
            _require_method(self.estimator[0], "predict", "estimator[0]")
            _require_method(self.estimator[1], "predict", "estimator[1]")
            return (self.estimator[0], self.estimator[1])
        return None

    def _fit_models(self, X: Any, y: np.ndarray) -> None:
        a = check_alpha(self.alpha)
        pair = self._pair()
        if pair is None:
            _require_method(self.estimator, "predict")
            lo, hi = _with_quantile(self.estimator, a / 2), _with_quantile(self.estimator, 1 - a / 2)
        else:
            lo, hi = clone(pair[0]), clone(pair[1])
        self.lower_estimator_ = lo.fit(X, y)
        self.upper_estimator_ = hi.fit(X, y)
        self.estimator_ = (self.lower_estimator_, self.upper_estimator_)

    def _use_prefit(self) -> None:
        pair = self._pair()
        if pair is None:
            raise ArgumentError("with prefit=True, `estimator` must be a pair (lower_model, upper_model) of fitted quantile regressors")
        self.lower_estimator_, self.upper_estimator_ = pair
        self.estimator_ = pair

    def _bands(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        _check_input(self, X)
        lo = np.asarray(self.lower_estimator_.predict(X), dtype=float)
        hi = np.asarray(self.upper_estimator_.predict(X), dtype=float)
        return lo, hi

    def _scores(self, X: Any, y: np.ndarray) -> np.ndarray:
        lo, hi = self._bands(X)
        yf = y.astype(float)
        return np.maximum(lo - yf, yf - hi)

    def predict(self, X: Any) -> np.ndarray:
        """Midpoint of the two fitted quantiles (a point prediction for display)."""
        _check_fitted(self, "estimator_")
        lo, hi = self._bands(X)
        return (lo + hi) / 2

    def predict_interval(self, X: Any, *, alpha: float | None = None) -> np.ndarray:
        """Conformalised intervals, shape ``(n, 2)``. A different ``alpha`` keeps the guarantee but not the band shape."""
        q = self.quantile(alpha)
        lo, hi = self._bands(X)
        return np.column_stack([lo - q, hi + q])

    def predict_frame(self, X: Any, *, alpha: float | None = None) -> pd.DataFrame:
        """Columns ``prediction, lower, upper`` (prediction = band midpoint)."""
        q = self.quantile(alpha)
        lo, hi = self._bands(X)
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame({"prediction": (lo + hi) / 2, "lower": lo - q, "upper": hi + q}, index=index)


class SplitConformalClassifier(ClassifierMixin, _SplitConformalBase):
    """Split conformal prediction sets for any probabilistic classifier (LAC or APS scores).

    Parameters
    ----------
    estimator : scikit-learn classifier with ``predict_proba``
    alpha : float
        The set contains the true class with probability at least ``1 - alpha``.
    method : {"lac", "aps"}
        ``"lac"`` (least ambiguous set-valued classifier): score :math:`1 - \\hat p_y(x)`; smallest sets on average,
        may be empty. ``"aps"`` (adaptive prediction sets): score = total probability of the classes ranked at or
        above the true one; sets adapt to how hard the point is.
    randomized : bool
        APS only: subtract :math:`U \\hat p_y(x)`, :math:`U \\sim` Uniform(0, 1), which makes coverage close to exactly
        ``1 - alpha`` at the price of reproducibility (seeded by ``random_state``).
    calibration_size, prefit, random_state
        As for :class:`SplitConformalRegressor`.

    Attributes
    ----------
    estimator_ : fitted classifier
    classes_ : ndarray
    conformity_scores_ : ndarray
    n_calibration_ : int

    Notes
    -----
    The set is :math:`\\{c : s(x, c) \\le s_{(k)}\\}` with :math:`k = \\lceil (n+1)(1-\\alpha) \\rceil`. Coverage
    :math:`\\ge 1-\\alpha` for exchangeable data (Sadinle, Lei and Wasserman 2019; Romano, Sesia and Candès 2020).
    Validated by seeded simulation (tests/trust).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from causalinfer.predict import SplitConformalClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(600, 2)); y = (X[:, 0] + rng.normal(size=600) > 0).astype(int)
    >>> cp = SplitConformalClassifier(LogisticRegression(), alpha=0.1, random_state=0).fit(X, y)
    >>> cp.predict_set(X[:3]).shape
    (3, 2)
    """

    _numeric_target = False

    def __init__(
        self,
        estimator: Any = None,
        *,
        alpha: float = 0.1,
        method: str = "lac",
        randomized: bool = False,
        calibration_size: float | int = 0.25,
        prefit: bool = False,
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.alpha = alpha
        self.method = method
        self.randomized = randomized
        self.calibration_size = calibration_size
        self.prefit = prefit
        self.random_state = random_state

    def _method(self) -> str:
        m = check_choice(self.method, "method", ("lac", "aps"))
        if self.randomized and m != "aps":
            raise ArgumentError("`randomized=True` applies to method='aps' only")
        return m

    def _fit_models(self, X: Any, y: np.ndarray) -> None:
        _require_method(self.estimator, "predict_proba")
        self._method()
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = np.asarray(self.estimator_.classes_)

    def _use_prefit(self) -> None:
        _require_method(self.estimator, "predict_proba")
        self._method()
        if not hasattr(self.estimator, "classes_"):
            raise ArgumentError("with prefit=True, `estimator` must be a fitted classifier (it has no classes_)")
        self.estimator_ = self.estimator
        self.classes_ = np.asarray(self.estimator.classes_)

    def _rng(self) -> np.random.Generator:
        if not hasattr(self, "rng_"):
            self.rng_ = check_random_state(self.random_state)
        return self.rng_

    def _proba(self, X: Any) -> np.ndarray:
        _check_input(self, X)
        return np.asarray(self.estimator_.predict_proba(X), dtype=float)

    def _all_scores(self, proba: np.ndarray) -> np.ndarray:
        """Score of every class for every row, shape (n, n_classes)."""
        if self._method() == "lac":
            return 1.0 - proba
        order = np.argsort(-proba, axis=1, kind="stable")
        sorted_p = np.take_along_axis(proba, order, axis=1)
        cum = np.cumsum(sorted_p, axis=1)
        scores = np.empty_like(proba)
        np.put_along_axis(scores, order, cum, axis=1)
        if self.randomized:
            scores = scores - self._rng().uniform(size=(proba.shape[0], 1)) * proba
        return scores

    def _scores(self, X: Any, y: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(self.classes_, y)
        pos = np.clip(pos, 0, self.classes_.size - 1)
        unknown = self.classes_[pos] != y
        if unknown.any():
            bad = sorted({str(v) for v in np.asarray(y)[unknown]})[:5]
            raise DataError(f"`y` has labels the classifier never saw in fitting: {bad}; classes are {self.classes_.tolist()}")
        scores = self._all_scores(self._proba(X))
        return scores[np.arange(scores.shape[0]), pos]

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class."""
        _check_fitted(self, "estimator_")
        return np.asarray(self.classes_[np.argmax(self._proba(X), axis=1)])

    def predict_set(self, X: Any, *, alpha: float | None = None) -> np.ndarray:
        """Boolean array ``(n, n_classes)``: True where class ``classes_[j]`` is in the prediction set of row i."""
        q = self.quantile(alpha)
        return self._all_scores(self._proba(X)) <= q

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the fitted classifier, shape ``(n, n_classes)`` (columns in ``classes_`` order)."""
        _check_fitted(self, "estimator_")
        return self._proba(X)

    def predict_frame(self, X: Any, *, alpha: float | None = None, proba: bool = False) -> pd.DataFrame:
        """Columns ``prediction``, ``set_size`` and one boolean ``in_set_<class>`` column per class (one model call).

        With ``proba=True`` the class probabilities follow the prediction as ``proba_<class>`` columns (same call).
        """
        q = self.quantile(alpha)
        p = self._proba(X)
        sets = self._all_scores(p) <= q
        index = X.index if isinstance(X, pd.DataFrame) else None
        cols: dict[str, Any] = {"prediction": self.classes_[np.argmax(p, axis=1)]}
        if proba:
            for j, c in enumerate(self.classes_):
                cols[f"proba_{c}"] = p[:, j]
        cols["set_size"] = sets.sum(axis=1)
        for j, c in enumerate(self.classes_):
            cols[f"in_set_{c}"] = sets[:, j]
        return pd.DataFrame(cols, index=index)


class JackknifePlusRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """Jackknife+ and CV+ prediction intervals: every row both fits and calibrates (for small data sets).

    Parameters
    ----------
    estimator : scikit-learn regressor
        Cloned once per fold.
    alpha : float
        Miscoverage level.
    method : {"cv+", "jackknife+"}
        ``"cv+"``: K-fold (``n_folds``); ``"jackknife+"``: leave-one-out (one fit per row; small n only).
    n_folds : int
        Number of folds for CV+.
    random_state : int, optional
        Seed of the fold assignment.

    Attributes
    ----------
    models_ : list of fitted models, one per fold
    fold_ : ndarray
        Fold of each training row.
    residuals_ : ndarray
        Out-of-fold absolute residuals :math:`R_i = |y_i - \\hat\\mu_{-k(i)}(x_i)|`.
    n_train_ : int

    Notes
    -----
    Interval :math:`[\\hat q^-_{\\alpha}\\{\\hat\\mu_{-k(i)}(x) - R_i\\},\\ \\hat q^+_{1-\\alpha}\\{\\hat\\mu_{-k(i)}(x) + R_i\\}]`,
    where :math:`\\hat q^-` is the :math:`\\lfloor \\alpha(n+1) \\rfloor`-th smallest value and :math:`\\hat q^+` the
    :math:`\\lceil (1-\\alpha)(n+1) \\rceil`-th smallest (Barber et al. 2021). Guaranteed coverage is
    :math:`1-2\\alpha` (CV+: slightly less, see the paper); in practice it is close to :math:`1-\\alpha`, which the
    simulation tests check. Needs :math:`n \\ge (1-\\alpha)/\\alpha` training rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from causalinfer.predict import JackknifePlusRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3)); y = X.sum(axis=1) + rng.normal(size=60)
    >>> jp = JackknifePlusRegressor(Ridge(), alpha=0.1, method="jackknife+").fit(X, y)
    >>> jp.predict_interval(X[:2]).shape
    (2, 2)
    """

    def __init__(
        self,
        estimator: Any = None,
        *,
        alpha: float = 0.1,
        method: str = "cv+",
        n_folds: int = 10,
        random_state: int | None = None,
    ) -> None:
        self.estimator = estimator
        self.alpha = alpha
        self.method = method
        self.n_folds = n_folds
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> JackknifePlusRegressor:
        """Fit one model per fold and store the out-of-fold residuals."""
        _require_method(self.estimator, "predict")
        a = check_alpha(self.alpha)
        method = check_choice(self.method, "method", ("cv+", "jackknife+"))
        n_features = _n_features(X)
        n = n_rows(X)
        if n < 2:
            raise DataError(f"`X` has n_samples = {n}; jackknife+ and CV+ need at least two rows (one to fit, one to leave out)")
        _column_y(y)
        y_arr = as_target(y, n=n, numeric=True).astype(float)
        conformal_rank(n, a, what="training set")
        if method == "jackknife+":
            k = n
            fold = np.arange(n)
        else:
            k = check_count(self.n_folds, "n_folds", minimum=2, maximum=n)
            perm = check_random_state(self.random_state).permutation(n)
            fold = np.empty(n, dtype=np.intp)
            fold[perm] = np.arange(n) % k
        models = []
        resid = np.empty(n)
        for j in range(k):
            test = np.flatnonzero(fold == j)
            train = np.flatnonzero(fold != j)
            with _model_errors(X, "fitting"):
                m = clone(self.estimator).fit(take_rows(X, train), y_arr[train])
                resid[test] = np.abs(y_arr[test] - np.asarray(m.predict(take_rows(X, test)), dtype=float))
            models.append(m)
        self.models_ = models
        self.n_features_in_ = n_features
        self.fold_ = fold
        self.residuals_ = resid
        self.n_train_ = n
        return self

    @property
    def feature_names_in_(self) -> np.ndarray:
        """Column names the fold models were fitted on (when fitted on a DataFrame)."""
        models = self.__dict__.get("models_")
        return _inner_feature_names(models[0] if models else None)

    def _fold_predictions(self, X: Any) -> np.ndarray:
        _check_fitted(self, "models_")
        _check_input(self, X)
        return np.column_stack([np.asarray(m.predict(X), dtype=float) for m in self.models_])

    def predict(self, X: Any) -> np.ndarray:
        """Mean of the fold models' predictions."""
        return self._fold_predictions(X).mean(axis=1)

    def predict_interval(self, X: Any, *, alpha: float | None = None) -> np.ndarray:
        """Jackknife+/CV+ intervals, shape ``(n, 2)``."""
        return self._interval(self._fold_predictions(X), alpha)

    def _interval(self, preds: np.ndarray, alpha: Any) -> np.ndarray:
        a = check_alpha(self.alpha if alpha is None else alpha)
        n = self.n_train_
        k_hi = conformal_rank(n, a, what="training set")
        k_lo = math.floor(a * (n + 1) + 1e-12)  # >= 1 whenever k_hi <= n
        m = preds.shape[0]
        out = np.empty((m, 2))
        step = max(1, 2_000_000 // max(n, 1))
        for s in range(0, m, step):
            mu = preds[s : s + step][:, self.fold_]
            lows = mu - self.residuals_
            highs = mu + self.residuals_
            out[s : s + step, 0] = np.partition(lows, k_lo - 1, axis=1)[:, k_lo - 1]
            out[s : s + step, 1] = np.partition(highs, k_hi - 1, axis=1)[:, k_hi - 1]
        return out

    def predict_frame(self, X: Any, *, alpha: float | None = None) -> pd.DataFrame:
        """Columns ``prediction, lower, upper`` (fold models called once each)."""
        preds = self._fold_predictions(X)
        iv = self._interval(preds, alpha)
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame({"prediction": preds.mean(axis=1), "lower": iv[:, 0], "upper": iv[:, 1]}, index=index)
