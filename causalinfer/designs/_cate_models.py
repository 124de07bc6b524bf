"""Fitted models of conditional average treatment effects that score new rows: S-, T-, X-, DR- and R-learners.

Every model follows the scikit-learn conventions (the constructor only stores its parameters; ``get_params``,
``set_params`` and ``sklearn.base.clone`` work; fitted state ends in ``_``) and the input contract of the scoring
jobs in :mod:`causalinfer.predict`: ``feature_names_in_``, ``predict(X)`` (the effect) and, for models with
intervals, ``predict_interval(X)`` / ``predict_with_interval(X)`` / ``predict_frame(X)``, so that
``predict.score(model, table, outputs=["prediction", "interval"])`` writes each row's effect and interval.

Covariates are matched by column name, never by position: ``effect(X)`` refuses a frame with missing, extra or
non-numeric columns, and reorders the columns it was fitted on.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_choice, check_int, check_random_state, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError, RoleError
from ._metalearners import CLIP, _default_classifier, _default_regressor, _fit, _proba

__all__ = ["CATEModel", "DRLearner", "RLearner", "SLearner", "TLearner", "XLearner"]

FINALS = ("linear", "spline")


# ----------------------------------------------------------------------------------------------- input contract
def _is_numeric(s: pd.Series) -> bool:
    return bool(
        pd.api.types.is_bool_dtype(s.dtype) or (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_complex_dtype(s.dtype))
    )


def covariate_matrix(X: Any, names: list[str] | None, name: str = "X") -> tuple[np.ndarray, list[str]]:
    """Float matrix of the covariate frame ``X`` with columns in the order ``names`` (matched by name).

    ``names=None`` (at fit time) takes the frame's own columns. Refuses anything but a DataFrame, missing or extra
    columns, repeated names, non-numeric columns and missing or infinite values, naming the column.
    """
    if not isinstance(X, pd.DataFrame):
        raise ArgumentTypeError(
            f"`{name}` must be a pandas DataFrame with one named column per covariate (columns are matched by name, never "
            f"by position); got {type(X).__name__}. Wrap an array as pd.DataFrame(array, columns=[...names...])"
        )
    cols = [str(c) for c in X.columns]
    if len(set(cols)) != len(cols):
        dup = sorted({c for c in cols if cols.count(c) > 1})
        raise DataError(f"`{name}` has repeated column names {dup}; give every covariate a distinct name")
    if names is None:
        if not cols:
            raise DataError(f"`{name}` has no columns; pass at least one covariate")
        names = cols
    else:
        missing = [c for c in names if c not in cols]
        extra = [c for c in cols if c not in names]
        if missing or extra:
            raise DataError(
                f"`{name}` must hold exactly the covariates the model was fitted on {names}; "
                + (f"missing {missing}" if missing else "")
                + ("; " if missing and extra else "")
                + (f"not seen in training {extra}" if extra else "")
                + ". Select those columns by name (X[model.feature_names_in_])"
            )
    frame = X.copy(deep=False)
    frame.columns = cols
    for c in names:
        if not _is_numeric(frame[c]):
            raise ArgumentTypeError(
                f"covariate {c!r} of `{name}` has dtype {frame[c].dtype}; the model needs numbers. Encode it (e.g. one-hot) as in training"
            )
    x = frame[names].to_numpy(dtype=float)
    bad = ~np.isfinite(x)
    if bad.any():
        j = int(np.flatnonzero(bad.any(axis=0))[0])
        raise DataError(
            f"covariate {names[j]!r} of `{name}` has {int(bad[:, j].sum())} missing or infinite value(s); impute or drop those rows first"
        )
    return x, list(names)


def _aligned(values: Any, index: pd.Index, name: str) -> np.ndarray:
    """``values`` as floats in the row order of ``index``: a Series is aligned by label (or refused), an array taken as is."""
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise ArgumentTypeError(f"`{name}` must be one column; got a DataFrame with {values.shape[1]} columns")
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series):
        if not values.index.equals(index):
            if values.index.has_duplicates or index.has_duplicates or set(values.index) != set(index):
                raise DataError(
                    f"`{name}` is a Series whose index labels differ from those of `X`; rows are paired by label, so pass "
                    "both with the same index (or plain arrays in the same row order)"
                )
            values = values.reindex(index)
        if not _is_numeric(values):
            raise ArgumentTypeError(f"`{name}` must be numeric; it has dtype {values.dtype}")
        arr = values.to_numpy(dtype=float)
    else:
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ArgumentTypeError(f"`{name}` must be numeric; got {show(values)}") from exc
        if arr.ndim != 1:
            raise ArgumentTypeError(f"`{name}` must be one-dimensional; got shape {arr.shape}")
    if arr.size != len(index):
        raise DataError(f"`{name}` has {arr.size} values but `X` has {len(index)} rows; pass one value per row")
    if not np.isfinite(arr).all():
        raise DataError(f"`{name}` has {int((~np.isfinite(arr)).sum())} missing or infinite value(s); drop those rows first")
    return arr


def binary_treatment(t: np.ndarray, name: str = "treatment") -> np.ndarray:
    """``t`` when it is 0/1 with both values present; a RoleError naming its values otherwise."""
    values = np.unique(t)
    if np.all(values == np.round(values)):
        values = values.astype(np.int64)
    if not np.isin(values, (0, 1)).all():
        raise RoleError(
            f"`{name}` must be binary (0/1) for this learner; it has values {show(values[:6].tolist())}"
            + (" ..." if values.size > 6 else "")
            + ". Recode it as 1 for treated and 0 for control (or use partially_linear_dml for a continuous treatment)"
        )
    if values.size < 2:
        raise DataError(f"`{name}` has only the value {show(values[0])}; effects need both treated and control units")
    return t


def fold_labels(n: int, n_folds: int, random_state: Any, t: np.ndarray | None = None) -> np.ndarray:
    """Random fold labels 0..K-1, stratified by treatment so that every fold holds treated and control units."""
    rng = check_random_state(random_state)
    folds = np.empty(n, dtype=np.int64)
    groups = [np.arange(n)] if t is None else [np.flatnonzero(t == 0), np.flatnonzero(t == 1)]
    start = 0
    for idx in groups:
        perm = rng.permutation(idx)
        folds[perm] = (np.arange(perm.size) + start) % n_folds
        start += perm.size
    return folds


# ----------------------------------------------------------------------------------------------- linear final stage
class _Basis:
    """The design of a linear final stage: intercept plus the covariates, or an additive cubic B-spline basis."""

    def __init__(self, kind: str, x: np.ndarray, n_knots: int) -> None:
        self.kind = kind
        self.spline = None
        if kind == "spline":
            from sklearn.preprocessing import SplineTransformer

            self.spline = SplineTransformer(n_knots=n_knots, degree=3, include_bias=False, knots="quantile").fit(x)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        z = x if self.spline is None else self.spline.transform(x)
        return np.column_stack([np.ones(x.shape[0]), z])


def _robust_ols(y: np.ndarray, b: np.ndarray, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Least squares of ``y`` on ``b`` (weights ``w``) with the HC1 sandwich covariance (``sandwich::vcovHC``)."""
    from ._linalg import ols

    fit = ols(y, b, weights=w, cov_type="HC1")
    return fit.coef, fit.cov


def _normal_quantile(alpha: float) -> float:
    from ..stats._normal import z_upper

    return z_upper(alpha / 2)


def _check_alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)) or not 0 < float(alpha) < 1:
        raise ArgumentError(f"`alpha` must be a number strictly between 0 and 1 (0.05 for 95% intervals); got {show(alpha)}")
    return float(alpha)


# ----------------------------------------------------------------------------------------------- the base class
class CATEModel:
    """Shared machinery of the fitted CATE models (parameters, input contract, scoring interface).

    Subclasses implement ``_fit_arrays(x, y, t)`` and ``_effect_arrays(x)``; models with intervals also
    ``_interval_arrays(x, alpha)``.
    """

    _name = "CATE model"
    # parameters every learner stores (declared for the type checker; set in each __init__)
    alpha: float
    n_folds: int
    random_state: Any
    feature_names_in_: np.ndarray
    n_features_in_: int

    # scikit-learn parameter protocol -------------------------------------------------------------
    @classmethod
    def _get_param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return sorted(p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in self._get_param_names():
            value = getattr(self, key)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{key}__{k}", v) for k, v in value.get_params().items())
            out[key] = value
        return out

    def set_params(self, **params: Any) -> CATEModel:
        valid = self._get_param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            head, _, sub = key.partition("__")
            if head not in valid:
                raise ArgumentError(f"{type(self).__name__} has no parameter {head!r}; its parameters are {valid}")
            if sub:
                nested.setdefault(head, {})[sub] = value
            else:
                setattr(self, head, value)
        for head, sub_params in nested.items():
            getattr(self, head).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        shown = [f"{k}={v!r}" for k, v in ((k, getattr(self, k)) for k in self._get_param_names()) if sig.parameters[k].default is not v]
        return f"{type(self).__name__}({', '.join(shown)})"

    # fitting ------------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, treatment: Any) -> CATEModel:
        """Fit on covariates ``X`` (DataFrame, numeric columns), outcome ``y`` and 0/1 ``treatment``.

        ``y`` and ``treatment`` given as Series are paired with ``X`` by index label (refused when the labels
        differ); arrays are taken in the row order of ``X``. Returns the fitted model.
        """
        x, names = covariate_matrix(X, None)
        yv = _aligned(y, X.index, "y")
        tv = binary_treatment(_aligned(treatment, X.index, "treatment"))
        self.feature_names_in_ = np.asarray(names, dtype=object)
        self.n_features_in_ = len(names)
        self._fit_arrays(x, yv, tv)
        self.n_train_ = int(yv.size)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "feature_names_in_"):
            raise ArgumentError(f"this {type(self).__name__} is not fitted yet; call fit(X, y, treatment) first")

    def _x(self, X: Any) -> np.ndarray:
        self._check_fitted()
        return covariate_matrix(X, list(self.feature_names_in_))[0]

    def effect(self, X: Any) -> np.ndarray:
        """The estimated conditional average treatment effect of each row of ``X`` (columns matched by name)."""
        return np.asarray(self._effect_arrays(self._x(X)), dtype=float)

    def predict(self, X: Any) -> np.ndarray:
        """Same as :meth:`effect` (the name scoring jobs call)."""
        return self.effect(X)

    def _fit_arrays(self, x: np.ndarray, y: np.ndarray, t: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _effect_arrays(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # intervals (only models that have them) ----------------------------------------------------------
    def _has_intervals(self) -> bool:
        return False

    def effect_interval(self, X: Any, alpha: float | None = None) -> np.ndarray:
        """Lower and upper limits (an ``(n, 2)`` array) of the ``1 - alpha`` interval of each row's effect."""
        if not self._has_intervals():
            raise self._no_intervals()
        a = _check_alpha(self.alpha if alpha is None else alpha)
        return self._interval_arrays(self._x(X), a)

    def _interval_arrays(self, x: np.ndarray, alpha: float) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def effect_frame(self, X: Any, alpha: float | None = None) -> pd.DataFrame:
        """Effect, standard error and interval of each row, indexed like ``X``."""
        x = self._x(X)
        a = _check_alpha(self.alpha if alpha is None else alpha)
        est, se = self._effect_se(x)
        z = _normal_quantile(a)
        return pd.DataFrame({"effect": est, "std_error": se, "ci_low": est - z * se, "ci_high": est + z * se}, index=X.index)

    def _effect_se(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise self._no_intervals()

    def _no_intervals(self) -> ArgumentError:
        return ArgumentError(
            f"{type(self).__name__}{'' if not hasattr(self, 'final_model') else ' with this final model'} gives no "
            "confidence intervals; use DRLearner or RLearner with final_model='linear' or 'spline', or CausalForest"
        )

    def _scoring(self, attr: str) -> Any:
        if not self._has_intervals():
            raise AttributeError(f"{type(self).__name__} gives no intervals, so it has no {attr}")
        return getattr(self, "_" + attr)

    @property
    def predict_interval(self) -> Any:
        """``effect_interval`` at the model's ``alpha`` (the name scoring jobs call); absent without intervals."""
        return self._scoring("predict_interval")

    @property
    def predict_with_interval(self) -> Any:
        return self._scoring("predict_with_interval")

    @property
    def predict_frame(self) -> Any:
        return self._scoring("predict_frame")

    def _predict_interval(self, X: Any) -> np.ndarray:
        return self.effect_interval(X)

    def _predict_with_interval(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        x = self._x(X)
        est, se = self._effect_se(x)
        z = _normal_quantile(_check_alpha(self.alpha))
        return est, np.column_stack([est - z * se, est + z * se])

    def _predict_frame(self, X: Any) -> pd.DataFrame:
        est, iv = self._predict_with_interval(X)
        return pd.DataFrame({"prediction": est, "lower": iv[:, 0], "upper": iv[:, 1]})

    # nuisance helpers -----------------------------------------------------------------------------------
    def _seed(self) -> int:
        rs = getattr(self, "random_state", 0)
        return int(rs) if isinstance(rs, (int, np.integer)) else 0

    def _models(self) -> tuple[Any, Any]:
        seed = self._seed()
        om = getattr(self, "outcome_model", None)
        pm = getattr(self, "propensity_model", None)
        return (_default_regressor(seed) if om is None else om), (_default_classifier() if pm is None else pm)

    def _folds(self, t: np.ndarray) -> np.ndarray:
        k = check_int(self.n_folds, "n_folds", minimum=2)
        n_small = int(min((t == 1).sum(), (t == 0).sum()))
        if n_small < 2 * k:
            raise DataError(
                f"`n_folds` = {k} leaves too few units of the smaller arm ({n_small}) in each fold; cross-fitting needs at "
                f"least 2 per fold: use n_folds <= {max(2, n_small // 2)} or more data"
            )
        return fold_labels(t.size, k, self.random_state, t)

    def effect_out_of_fold(self, X: Any, y: Any, treatment: Any) -> np.ndarray:
        """In-sample effects in which no unit's outcome is used for its own effect.

        The model is refitted once per fold on the other folds (with the same parameters, and for DR- and
        R-learners with cross-fitted nuisance models inside those folds) and predicts the held-out fold.
        """
        from sklearn.base import clone

        x, _ = covariate_matrix(X, None)
        yv = _aligned(y, X.index, "y")
        tv = binary_treatment(_aligned(treatment, X.index, "treatment"))
        folds = self._folds(tv)
        out = np.empty(yv.size)
        for k in range(int(folds.max()) + 1):
            test = folds == k
            m = clone(self)
            m._fit_arrays(x[~test], yv[~test], tv[~test])
            out[test] = m._effect_arrays(x[test])
        return out


def _check_final(final_model: Any) -> Any:
    if isinstance(final_model, str):
        return check_choice(final_model, "final_model", FINALS)
    if final_model is None or not (hasattr(final_model, "fit") and hasattr(final_model, "predict")):
        raise ArgumentTypeError(
            f"`final_model` must be 'linear', 'spline' or a scikit-learn regressor (with fit and predict); got {show(final_model)}"
        )
    return final_model


# ----------------------------------------------------------------------------------------------- the learners
class SLearner(CATEModel):
    """S-learner: one outcome model with the treatment as a feature; effect = m(x, 1) - m(x, 0).

    The model is fitted on each cross-fitting training set and the fold models' effects are averaged for new rows.
    No intervals.
    """

    def __init__(self, outcome_model: Any = None, *, n_folds: int = 5, random_state: Any = 0, alpha: float = 0.05) -> None:
        self.outcome_model = outcome_model
        self.n_folds = n_folds
        self.random_state = random_state
        self.alpha = alpha

    def _fit_arrays(self, x: np.ndarray, y: np.ndarray, t: np.ndarray) -> None:
        om, _ = self._models()
        folds = self._folds(t)
        self.models_ = [_fit(om, np.column_stack([x[folds != k], t[folds != k]]), y[folds != k]) for k in range(int(folds.max()) + 1)]

    def _effect_arrays(self, x: np.ndarray) -> np.ndarray:
        one, zero = np.column_stack([x, np.ones(len(x))]), np.column_stack([x, np.zeros(len(x))])
        return np.mean([m.predict(one) - m.predict(zero) for m in self.models_], axis=0)


class TLearner(CATEModel):
    """T-learner: one outcome model per arm; effect = m1(x) - m0(x), averaged over cross-fitting folds. No intervals."""

    def __init__(self, outcome_model: Any = None, *, n_folds: int = 5, random_state: Any = 0, alpha: float = 0.05) -> None:
        self.outcome_model = outcome_model
        self.n_folds = n_folds
        self.random_state = random_state
        self.alpha = alpha

    def _fit_arrays(self, x: np.ndarray, y: np.ndarray, t: np.ndarray) -> None:
        om, _ = self._models()
        folds = self._folds(t)
        self.models_ = []
        for k in range(int(folds.max()) + 1):
            tr = folds != k
            self.models_.append((_fit(om, x[tr & (t == 0)], y[tr & (t == 0)]), _fit(om, x[tr & (t == 1)], y[tr & (t == 1)])))

    def _effect_arrays(self, x: np.ndarray) -> np.ndarray:
        return np.mean([m1.predict(x) - m0.predict(x) for m0, m1 in self.models_], axis=0)


class XLearner(CATEModel):
    """X-learner (Künzel et al. 2019): imputed effects from the other arm's outcome model, regressed on X per arm
    and mixed with the propensity score. Fitted per cross-fitting training set and averaged. No intervals."""

    def __init__(
        self,
        outcome_model: Any = None,
        propensity_model: Any = None,
        final_model: Any = None,
        *,
        n_folds: int = 5,
        random_state: Any = 0,
        alpha: float = 0.05,
    ) -> None:
        self.outcome_model = outcome_model
        self.propensity_model = propensity_model
        self.final_model = final_model
        self.n_folds = n_folds
        self.random_state = random_state
        self.alpha = alpha

    def _fit_arrays(self, x: np.ndarray, y: np.ndarray, t: np.ndarray) -> None:
        om, pm = self._models()
        fm = _default_regressor(self._seed()) if self.final_model is None else self.final_model
        folds = self._folds(t)
        self.models_ = []
        for k in range(int(folds.max()) + 1):
            tr = folds != k
            x1, y1, x0, y0 = x[tr & (t == 1)], y[tr & (t == 1)], x[tr & (t == 0)], y[tr & (t == 0)]
            m1, m0 = _fit(om, x1, y1), _fit(om, x0, y0)
            tau1 = _fit(fm, x1, y1 - m0.predict(x1))
            tau0 = _fit(fm, x0, m1.predict(x0) - y0)
            self.models_.append((tau0, tau1, _fit(pm, x[tr], t[tr])))

    def _effect_arrays(self, x: np.ndarray) -> np.ndarray:
        out = []
        for tau0, tau1, pm in self.models_:
            e = np.clip(_proba(pm, x), *CLIP)
            out.append(e * tau0.predict(x) + (1 - e) * tau1.predict(x))
        return np.mean(out, axis=0)


class _LinearFinal(CATEModel):
    """A learner whose final stage may be linear (or spline) with heteroscedasticity-robust intervals."""

    final_model: Any
    basis_: _Basis
    coef_: np.ndarray
    cov_: np.ndarray
    final_: Any

    def _has_intervals(self) -> bool:
        return isinstance(getattr(self, "final_model", None), str) and hasattr(self, "coef_")

    def _effect_arrays(self, x: np.ndarray) -> np.ndarray:
        if isinstance(self.final_model, str):
            return self.basis_(x) @ self.coef_
        return self.final_.predict(x)

    def _effect_se(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self._has_intervals():
            raise self._no_intervals()
        b = self.basis_(x)
        return b @ self.coef_, np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", b, self.cov_, b), 0.0))

    def _interval_arrays(self, x: np.ndarray, alpha: float) -> np.ndarray:
        est, se = self._effect_se(x)
        z = _normal_quantile(alpha)
        return np.column_stack([est - z * se, est + z * se])

    def _nuisance(self, x: np.ndarray, y: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Cross-fitted mu0, mu1, e and m = E[Y|X] (folds stratified by treatment)."""
        from ._metalearners import dr_scores

        om, pm = self._models()
        folds = self._folds(t)
        mu0, mu1, e, phi = dr_scores(y, t, x, folds, om, pm)
        self.folds_ = folds
        return mu0, mu1, np.clip(e, *CLIP), phi

    @property
    def coef_frame(self) -> pd.DataFrame:
        """Coefficients of the linear final stage (the best linear projection of the CATE on the basis) with HC1 SEs."""
        if not self._has_intervals():
            raise ArgumentError(f"{type(self).__name__} has no linear final stage; fit it with final_model='linear'")
        names = ["intercept"] + (
            list(self.feature_names_in_) if self.final_model == "linear" else [f"spline_{j}" for j in range(self.coef_.size - 1)]
        )
        se = np.sqrt(np.diag(self.cov_))
        return pd.DataFrame({"term": names, "estimate": self.coef_, "std_error": se})


class DRLearner(_LinearFinal):
    """DR-learner (Kennedy 2023): regress cross-fitted doubly robust (AIPW) scores on X.

    Parameters
    ----------
    outcome_model : scikit-learn regressor, optional
        Outcome model fitted per arm (default: random forest); cloned, never changed.
    propensity_model : scikit-learn classifier, optional
        Propensity model (default: logistic regression); scores clipped to [0.01, 0.99].
    final_model : {"linear", "spline"} or scikit-learn regressor, default "linear"
        ``"linear"``: least squares on an intercept and the covariates; ``"spline"``: on an additive cubic B-spline
        basis of each covariate (``n_knots`` quantile knots). Both give intervals from the HC1 sandwich
        covariance of the final stage; they cover the best linear (spline) projection of the CATE, which is the
        CATE itself when it lies in the span of the basis. A regressor gives point effects only.
    n_folds, random_state
        Cross-fitting folds (stratified by treatment) and their seed.
    alpha : float, default 0.05
        Level of the intervals written by scoring jobs (``1 - alpha``).

    Notes
    -----
    Scores :math:`\\phi_i = \\hat\\mu_1 - \\hat\\mu_0 + T(Y-\\hat\\mu_1)/\\hat e - (1-T)(Y-\\hat\\mu_0)/(1-\\hat e)` with nuisance
    models fitted on the other folds. The sandwich treats the scores as data (the nuisance error is of smaller
    order with cross-fitting, Semenova & Chernozhukov 2021).
    """

    def __init__(
        self,
        outcome_model: Any = None,
        propensity_model: Any = None,
        final_model: Any = "linear",
        *,
        n_knots: int = 4,
        n_folds: int = 5,
        random_state: Any = 0,
        alpha: float = 0.05,
    ) -> None:
        self.outcome_model = outcome_model
        self.propensity_model = propensity_model
        self.final_model = final_model
        self.n_knots = n_knots
        self.n_folds = n_folds
        self.random_state = random_state
        self.alpha = alpha

    def _fit_arrays(self, x: np.ndarray, y: np.ndarray, t: np.ndarray) -> None:
        final = _check_final(self.final_model)
        _, _, e, phi = self._nuisance(x, y, t)
        self.scores_, self.propensity_ = phi, e
        if isinstance(final, str):
            self.basis_ = _Basis(final, x, check_int(self.n_knots, "n_knots", minimum=2))
            self.coef_, self.cov_ = _robust_ols(phi, self.basis_(x))
        else:
            self.final_ = _fit(final, x, phi)


class RLearner(_LinearFinal):
    """R-learner (Nie & Wager 2021): minimise :math:`\\sum_i (\\tilde Y_i - \\tilde T_i\\,\\tau(X_i))^2` over
    cross-fitted residuals :math:`\\tilde Y = Y - \\hat m(X)`, :math:`\\tilde T = T - \\hat e(X)`.

    ``final_model="linear"`` / ``"spline"``: :math:`\\tau(x) = b(x)'\\beta` by least squares of :math:`\\tilde Y`
    on :math:`\\tilde T\\,b(X)` with HC1 intervals; a scikit-learn regressor is fitted to
    :math:`\\tilde Y/\\tilde T` with weights :math:`\\tilde T^2` (point effects only). Other parameters as
    :class:`DRLearner`; ``outcome_model`` here models :math:`E[Y \\mid X]` (both arms pooled).
    """

    def __init__(
        self,
        outcome_model: Any = None,
        propensity_model: Any = None,
        final_model: Any = "linear",
        *,
        n_knots: int = 4,
        n_folds: int = 5,
        random_state: Any = 0,
        alpha: float = 0.05,
    ) -> None:
        self.outcome_model = outcome_model
        self.propensity_model = propensity_model
        self.final_model = final_model
        self.n_knots = n_knots
        self.n_folds = n_folds
        self.random_state = random_state
        self.alpha = alpha

    def _fit_arrays(self, x: np.ndarray, y: np.ndarray, t: np.ndarray) -> None:
        final = _check_final(self.final_model)
        om, pm = self._models()
        folds = self._folds(t)
        m, e = np.empty(y.size), np.empty(y.size)
        for k in range(int(folds.max()) + 1):
            te = folds == k
            m[te] = _fit(om, x[~te], y[~te]).predict(x[te])
            e[te] = _proba(_fit(pm, x[~te], t[~te]), x[te])
        e = np.clip(e, *CLIP)
        ry, rt = y - m, t - e
        self.folds_, self.propensity_ = folds, e
        if isinstance(final, str):
            self.basis_ = _Basis(final, x, check_int(self.n_knots, "n_knots", minimum=2))
            self.coef_, self.cov_ = _robust_ols(ry, rt[:, None] * self.basis_(x))
        else:
            from sklearn.base import clone

            f = clone(final)
            try:
                self.final_ = f.fit(x, ry / rt, sample_weight=rt**2)
            except TypeError as exc:
                raise ArgumentTypeError(
                    f"`final_model` ({type(final).__name__}) must accept sample_weight in fit for the R-learner; use 'linear', "
                    "'spline' or a regressor that takes weights"
                ) from exc
