"""Small numerical helpers private to ``causalinfer.predict`` (Wilson interval, percentile bootstrap, conformal ranks)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_probability, show
from ..exceptions import ArgumentError, DataError


def wilson_interval(successes: int, n: int, conf_level: float) -> tuple[float, float]:
    """Wilson score interval for a proportion (R's ``prop.test(x, n, correct = FALSE)``), from the stats module."""
    from scipy import stats

    from ..stats._proportions import wilson_limits

    if n <= 0:
        return (math.nan, math.nan)
    return wilson_limits(successes, n, float(stats.norm.ppf(0.5 + conf_level / 2)))


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


def check_alpha(alpha: Any, name: str = "alpha") -> float:
    """Miscoverage level strictly between 0 and 1."""
    return check_probability(alpha, name, open_interval=True)


def min_calibration_size(alpha: float) -> int:
    """Smallest calibration set for which the split-conformal quantile at level 1 - alpha is finite."""
    return max(1, math.ceil((1 - alpha) / alpha - 1e-12))


def conformal_rank(n: int, alpha: float, *, what: str = "calibration set") -> int:
    """1-based rank k = ceil((n + 1)(1 - alpha)) of the calibration score used as the conformal quantile."""
    k = math.ceil((n + 1) * (1 - alpha) - 1e-12)
    if k > n:
        need = min_calibration_size(alpha)
        raise DataError(
            f"the {what} has {n} point(s), too few for coverage {1 - alpha:g} (alpha = {alpha:g}): "
            f"split conformal needs at least {need} calibration points at this level; "
            f"use more calibration data or a larger `alpha`"
        )
    return max(k, 1)


def as_target(y: Any, name: str = "y", *, n: int | None = None) -> np.ndarray:
    """A 1-d numpy array of targets (any dtype), checked for length and missing values."""
    if y is None:
        raise DataError(f"`{name}` is required here (the labels / true outcomes); got None")
    arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"`{name}` must be one-dimensional; got {show(arr)}")
    if n is not None and arr.shape[0] != n:
        raise DataError(f"`{name}` must have one value per row of X ({n}); got {arr.shape[0]}")
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
            f"`{name}` leaves {count} of {n} rows for calibration; it must leave at least one row for each of fitting and calibration"
        )
    return count
