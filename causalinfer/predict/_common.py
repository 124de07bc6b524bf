"""Small numerical helpers private to ``causalinfer.predict`` (Wilson interval, percentile bootstrap, conformal ranks)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_int, check_probability, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError


def wilson_interval(successes: int, n: int, conf_level: float) -> tuple[float, float]:
    """Wilson score interval for a proportion (R's ``prop.test(x, n, correct = FALSE)``), from the stats module."""
    from ..stats._normal import z_crit
    from ..stats._proportions import wilson_limits

    if n <= 0:
        return (math.nan, math.nan)
    return wilson_limits(successes, n, z_crit(conf_level))


def percentile_bootstrap(
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    n_resamples: int,
    conf_level: float,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    """Percentile bootstrap of ``statistic(indices)`` over ``n`` rows; returns (low, high, standard error).

    The resamples come from the stats resampling engine (batched, so memory stays bounded). Resamples where the
    statistic is undefined (NaN, e.g. one class only) are dropped; if more than half are dropped a
    :class:`DataError` is raised.
    """
    from ..stats import resample_apply

    seed = int(rng.integers(0, 2**63 - 1))
    values = np.asarray(resample_apply(statistic, n, n_resamples=n_resamples, random_state=seed, n_jobs=1), dtype=float)
    ok = values[np.isfinite(values)]
    if ok.size < n_resamples / 2:
        raise DataError(
            f"the bootstrap statistic was undefined in {n_resamples - ok.size} of {n_resamples} resamples "
            "(too few observations of one class?); use more data or a different interval method"
        )
    a = (1 - conf_level) / 2
    lo, hi = np.quantile(ok, [a, 1 - a])
    return float(lo), float(hi), float(ok.std(ddof=1))


def plain(value: Any) -> Any:
    """A numpy scalar as the Python number or string it holds (messages print 0, not np.int64(0))."""
    return value.item() if isinstance(value, np.generic) else value


def check_count(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer count; True/False are refused (they are not sizes, however Python counts them)."""
    if isinstance(value, (bool, np.bool_)):
        raise ArgumentTypeError(f"`{name}` must be an integer; got {value!r} (a boolean)")
    return check_int(plain(value), name, minimum=minimum, maximum=maximum)


def check_threshold(value: Any, name: str = "threshold") -> float:
    """A probability cut-off in [0, 1]: a row is predicted positive when its probability is at least this."""
    return check_probability(plain(value), name)


def check_probability_rows(arr: np.ndarray, name: str = "y_pred", *, atol: float = 1e-6) -> None:
    """An (n, k) array of class probabilities: every value in [0, 1] and every row summing to 1."""
    if arr.ndim != 2 or arr.dtype.kind not in "fiu":
        return
    outside = np.flatnonzero(((arr < 0) | (arr > 1)).any(axis=1))
    if outside.size:
        i = int(outside[0])
        raise DataError(
            f"`{name}` holds class probabilities outside [0, 1] in {outside.size} row(s), first row {i}: "
            f"{[float(v) for v in arr[i]]}; pass probabilities (predict_proba), not scores"
        )
    sums = arr.sum(axis=1)
    bad = np.flatnonzero(np.abs(sums - 1.0) > atol)
    if bad.size:
        i = int(bad[0])
        raise DataError(
            f"`{name}` has {bad.size} row(s) of class probabilities that do not sum to 1, first row {i} sums to "
            f"{float(sums[i]):.6g}; pass one column per class from predict_proba (all classes, in the order of classes_)"
        )


def check_alpha(alpha: Any, name: str = "alpha") -> float:
    """Miscoverage level strictly between 0 and 1."""
    return check_probability(plain(alpha), name, open_interval=True)


def min_calibration_size(alpha: float) -> int:
    """Smallest calibration set for which the split-conformal quantile at level 1 - alpha is finite."""
    return max(1, math.ceil((1 - alpha) / alpha - 1e-12))


def conformal_rank(n: int, alpha: float, *, what: str = "calibration set") -> int:
    """1-based rank k = ceil((n + 1)(1 - alpha)) of the calibration score used as the conformal quantile."""
    k = math.ceil((n + 1) * (1 - alpha) - 1e-12)
    if k > n:
        need = min_calibration_size(alpha)
        raise DataError(
            f"the {what} has {n} point(s) (n_samples = {n}), too few for coverage {1 - alpha:g} (alpha = {alpha:g}): "
            f"split conformal needs at least {need} calibration points at this level; "
            f"use more calibration data or a larger `alpha`"
        )
    return max(k, 1)


def first_bad_value(X: Any, row_label: Callable[[int], str] | None = None) -> str | None:
    """Where a feature table first holds text where numbers are expected, or a missing value (None if nowhere)."""
    label = row_label or (lambda i: f"row {i}")
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object) if np.ndim(X) == 2 else np.empty((0, 0)))
    for col in frame.columns:
        s = frame[col]
        if s.dtype.kind == "O" or pd.api.types.is_string_dtype(s.dtype):
            bad = np.flatnonzero((pd.to_numeric(s, errors="coerce").isna() & s.notna()).to_numpy())
            if bad.size:
                return f"column {col!r} holds the text {plain(s.iloc[bad[0]])!r} at {label(int(bad[0]))}, where numbers are expected"
        missing = np.flatnonzero(s.isna().to_numpy())
        if missing.size:
            return f"column {col!r} is missing at {label(int(missing[0]))} ({int(missing.size)} missing value(s))"
    return None


def model_input_error(exc: Exception, X: Any, doing: str, row_label: Callable[[int], str] | None = None) -> DataError | ArgumentTypeError:
    """Our error for a model that failed on ``X``, naming the first column and row it could not take.

    A TypeError of the model (a value of a type it cannot take) stays a TypeError (ArgumentTypeError).
    """
    where = first_bad_value(X, row_label)
    kind = ArgumentTypeError if isinstance(exc, TypeError) else DataError
    if where is None:
        return kind(f"the model failed while {doing}: {type(exc).__name__}: {exc}")
    return kind(
        f"the model failed while {doing}: {where} ({type(exc).__name__}: {exc}). Fix, impute or drop those rows, "
        "or use a model that accepts them"
    )


def as_target(y: Any, name: str = "y", *, n: int | None = None, numeric: bool = False) -> np.ndarray:
    """A 1-d numpy array of targets (numbers when ``numeric``), checked for length and missing values."""
    if y is None:
        raise DataError(
            f"`{name}` is None: this estimator requires y to be passed, but the target y is None; pass the labels / true outcomes"
        )
    arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"`{name}` must be one-dimensional; got {show(arr)}")
    if n is not None and arr.shape[0] != n:
        raise DataError(f"`{name}` must have one value per row of X ({n}); got {arr.shape[0]}")
    if numeric and arr.dtype.kind not in "biuf":
        values = pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce")
        bad = np.flatnonzero((values.isna() & pd.notna(pd.Series(arr, dtype=object))).to_numpy())
        if bad.size:
            raise DataError(
                f"`{name}` must hold numbers (the outcome of a regressor); got {plain(arr[bad[0]])!r} at row {int(bad[0])}"
                f" ({bad.size} value(s) that are not numbers); convert it, or use SplitConformalClassifier for labels"
            )
        arr = values.to_numpy(dtype=float)
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise DataError(f"`{name}` contains {int(np.isnan(arr).sum())} missing value(s); drop those rows first")
    if arr.dtype.kind == "O" and any(v is None or (isinstance(v, float) and math.isnan(v)) for v in arr):
        raise DataError(f"`{name}` contains missing values; drop those rows first")
    return arr


def n_rows(X: Any, name: str = "X") -> int:
    """Number of rows of a 2-d feature table (array or DataFrame)."""
    shape = getattr(X, "shape", None)
    if shape is None:
        X = np.asarray(X)
        shape = X.shape
    if len(shape) != 2:
        raise DataError(f"`{name}` must be two-dimensional (rows x features); got shape {tuple(shape)}")
    return int(shape[0])


def take_rows(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of an array or DataFrame (positional)."""
    if hasattr(X, "iloc"):
        return X.iloc[idx]
    return np.asarray(X)[idx]


def check_fraction_or_count(value: Any, name: str, n: int) -> int:
    """A calibration share: a fraction in (0, 1) or a count in [1, n - 1]; returns the count."""
    value = plain(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentError(f"`{name}` must be a fraction in (0, 1) or a number of rows; got {show(value)}")
    if isinstance(value, (int, np.integer)):
        count = int(value)
    else:
        if not 0.0 < float(value) < 1.0:
            raise ArgumentError(f"`{name}` as a fraction must be strictly between 0 and 1; got {show(value)}")
        count = round(float(value) * n)
    if not 1 <= count <= n - 1:
        raise ArgumentError(
            f"`{name}` leaves {count} of n_samples = {n} rows for calibration; it must leave at least one row for each of fitting and calibration"
        )
    return count


def paired_by_index(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: the arguments ``names`` hold one value per row; when two or more carry an index (Series or
    DataFrame) they are aligned on their labels (stats' ``align_by_index``) or refused, never paired by position."""
    import functools
    import inspect

    from ..stats._inputs import align_by_index

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind_partial(*args, **kwargs)
            given = {n: bound.arguments[n] for n in names if bound.arguments.get(n) is not None}
            if sum(isinstance(v, (pd.Series, pd.DataFrame)) for v in given.values()) >= 2:
                bound.arguments.update(align_by_index(**given))
            return func(*bound.args, **bound.kwargs)

        return wrapper

    return decorate
