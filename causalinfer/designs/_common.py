"""Shared plumbing for the design-based estimators: reading roles from a Dataset, t/normal inference, terms tables."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..data import Dataset, as_dataset
from ..data._dataset import check_not_datetime
from ..exceptions import AssumptionWarning, DataError, RoleError
from ..results import Diagnostic
from ..stats._sandwich import normalize_cov_type
from ._linalg import COV_TYPES


def dataset(data: Any, **roles: Any) -> Dataset:
    """``data`` (Dataset or DataFrame) with the given role keywords applied."""
    return as_dataset(data, **roles)


def need(ds: Dataset, role: str, func: str) -> Any:
    """The value of ``role`` in ``ds``; a RoleError saying how to set it when missing."""
    value = getattr(ds, role)
    if value is None or value == ():
        raise RoleError(f"{func} needs the `{role}` role; pass {role}=... or a Dataset that sets it")
    return value


def numeric(ds: Dataset, column: str, role: str) -> np.ndarray:
    """Float values of ``column``, refusing non-numeric columns with a message naming the role."""
    s = ds.frame[column]
    check_not_datetime(s, role, column)
    if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
        raise RoleError(f"{role} {column!r} must be numeric; it has dtype {s.dtype}. Encode it as numbers first")
    return check_magnitude(s.to_numpy(dtype=float), role, column)


#: Beyond these magnitudes the squares and cross-products of least squares leave double precision.
_HUGE, _TINY = 1e150, 1e-150


def check_magnitude(values: np.ndarray, role: str, column: str) -> np.ndarray:
    """``values``, or a DataError when their squares would overflow or underflow double precision.

    The design estimators form cross-products (least squares, sandwich covariances, bandwidth pilots) in which a
    value near 1e300 overflows and one near 1e-300 underflows to zero; rather than return NaN or a zero standard
    error they refuse, saying how to rescale.
    """
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size else 0.0
    if top > _HUGE:
        raise DataError(
            f"{role} {column!r} has values as large as {top:.3g} in absolute value; the squares and cross-products the "
            f"estimator needs overflow double precision (beyond about 1e308). Rescale the column, e.g. divide it by "
            f"{10.0 ** math.floor(math.log10(top)):.0e} (estimates and standard errors scale by the same factor)"
        )
    if 0.0 < top < _TINY:
        raise DataError(
            f"{role} {column!r} has no value larger than {top:.3g} in absolute value; its squares underflow to zero in double "
            f"precision, which would make standard errors 0. Rescale the column, e.g. multiply it by "
            f"{10.0 ** -math.floor(math.log10(top)):.0e} (estimates and standard errors scale by the same factor)"
        )
    return values


def treatment_values(ds: Dataset) -> np.ndarray:
    """The treatment as floats: 0/1 for a stated ``treated_level``, else the numbers as given (magnitude-checked).

    A text treatment without ``treated_level`` is refused by the Dataset, with its levels in sorted order.
    """
    return check_magnitude(ds.treatment_values(), "treatment", str(ds.treatment))


def matrix(ds: Dataset, columns: Sequence[str], role: str) -> np.ndarray:
    """The named columns as an (n, p) float matrix."""
    if not columns:
        return np.empty((ds.n, 0))
    return np.column_stack([numeric(ds, c, role) for c in columns])


def labels(ds: Dataset, column: str) -> np.ndarray:
    """Values of an identifier column (unit, time, cluster) as a numpy array of any dtype."""
    return ds.frame[column].to_numpy()


def check_cov_type(cov_type: Any, cluster: str | None) -> str:
    """Resolve ``cov_type`` (None means 'cluster' when a cluster is set, else 'HC1')."""
    if cov_type is None:
        return "cluster" if cluster is not None else "HC1"
    cov_type = normalize_cov_type(cov_type, allowed=COV_TYPES)
    if cov_type == "cluster" and cluster is None:
        raise RoleError("`cov_type` 'cluster' needs a `cluster` column; pass cluster='column' or choose cov_type='HC1'")
    return cov_type


def t_inference(est: float, se: float, df: float | None, conf_level: float) -> tuple[float, float, float, float]:
    """Two-sided t (or normal when ``df`` is None) statistic, p-value and CI limits (the stats module's)."""
    if df is None:
        from ..stats._normal import z_limits, z_pvalue

        stat = est / se
        lo, hi = z_limits(est, se, conf_level, "two-sided")
        return float(stat), min(z_pvalue(stat, "two-sided"), 1.0), lo, hi
    from ..stats._ttest import t_interval_and_pvalue

    return t_interval_and_pvalue(est, se, df, 0.0, "two-sided", conf_level)


def terms_frame(names: Sequence[str], coef: np.ndarray, se: np.ndarray, df: float | None, conf_level: float) -> pd.DataFrame:
    """One row per coefficient with t (or z) statistics, p-values and CIs."""
    rows = []
    for name, b, s in zip(names, coef, se, strict=True):
        if s > 0 and math.isfinite(s):
            stat, p, lo, hi = t_inference(float(b), float(s), df, conf_level)
        else:
            stat = p = lo = hi = math.nan
        rows.append(
            {
                "term": str(name),
                "estimate": float(b),
                "std_error": float(s),
                "ci_low": lo,
                "ci_high": hi,
                "statistic": stat,
                "df": math.nan if df is None else float(df),
                "pvalue": p,
            }
        )
    return pd.DataFrame(rows, columns=["term", "estimate", "std_error", "ci_low", "ci_high", "statistic", "df", "pvalue"])


def cov_label(cov_type: str) -> str:
    return {
        "nonrobust": "classical (homoskedastic) standard errors",
        "HC0": "heteroskedasticity-robust (HC0) standard errors",
        "HC1": "heteroskedasticity-robust (HC1) standard errors",
        "cluster": "cluster-robust (CR1) standard errors",
    }[cov_type]


def emit(diagnostics: Sequence[Diagnostic], where: str) -> None:
    """Issue an AssumptionWarning for each diagnostic that is not ok (the result keeps them too)."""
    for d in diagnostics:
        if d.status != "ok":
            warnings.warn(f"{where}: {d.name}: {d.message}", AssumptionWarning, stacklevel=3)
