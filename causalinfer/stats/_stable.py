"""Moments computed around overflow and underflow, and a check for quantities that cannot be represented.

Squares of values beyond about 1e154 overflow double precision and squares of values below about 1e-162
underflow to zero. Means and standard deviations are in the units of the data, so they are representable
whenever the data are: :func:`mean_sd` divides by a power of two before squaring (an exact operation, so
results for ordinary data are bit for bit those of the direct formula) and multiplies back. Quantities in
squared units (sums of squares, variances, covariance matrices) are not representable for such data;
:func:`check_squares` refuses them with a reason.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..exceptions import DataError

# squares of |x| in [_SQ_LOW, _SQ_HIGH] (times a few thousand observations) stay normal floating-point numbers
_SQ_HIGH = 1e150
_SQ_LOW = 1e-150


def pow2_scale(*arrays: np.ndarray) -> float:
    """A power of two close to the largest absolute value in ``arrays`` (1.0 when all are zero or empty)."""
    m = 0.0
    for a in arrays:
        if np.size(a):
            m = max(m, float(np.max(np.abs(a))))
    if m == 0.0 or not math.isfinite(m):
        return 1.0
    return math.ldexp(1.0, math.frexp(m)[1] - 1)  # in (m/2, m]: never overflows


def needs_scaling(*arrays: np.ndarray) -> bool:
    """True when squaring the values (or their spread) would overflow or underflow."""
    m = 0.0
    for a in arrays:
        if np.size(a):
            m = max(m, float(np.max(np.abs(a))))
    return m > _SQ_HIGH or 0.0 < m < _SQ_LOW


def mean_sd(a: np.ndarray, ddof: int = 1) -> tuple[float, float]:
    """Mean and standard deviation of ``a`` without overflow or underflow in the squares.

    Raises :class:`DataError` when the standard deviation itself exceeds the largest double.
    """
    n = a.size
    if n == 0:
        return math.nan, math.nan
    if not needs_scaling(a):
        m = float(a.mean())
        return m, float(a.std(ddof=ddof)) if n > ddof else math.nan
    s = pow2_scale(a)
    b = a / s
    m = float(b.mean()) * s
    if n <= ddof:
        return m, math.nan
    sd = float(b.std(ddof=ddof)) * s
    if not math.isfinite(sd):
        raise DataError(
            f"the standard deviation of the data exceeds the largest double-precision number ({np.finfo(float).max:.3g}), "
            "so it cannot be represented; rescale the data (e.g. divide by 1e10) first"
        )
    return m, sd


def finite_or_refuse(value: float, what: str) -> float:
    """``value`` if it is finite, otherwise a :class:`DataError` saying that ``what`` is not representable."""
    if not math.isfinite(value):
        raise DataError(
            f"{what} is beyond the largest double-precision number ({np.finfo(float).max:.3g}) for data of this magnitude; "
            "rescale the data (e.g. divide by 1e10) first"
        )
    return value


def check_squares(arrays: Sequence[np.ndarray], names: Sequence[str], what: str) -> None:
    """Refuse data whose squares overflow or underflow, for methods that report quantities in squared units."""
    for a, nm in zip(arrays, names, strict=True):
        if not np.size(a):
            continue
        m = float(np.max(np.abs(a)))
        if m > _SQ_HIGH:
            raise DataError(
                f"`{nm}` has values as large as {m:.3g}: their squares overflow double precision, so {what} cannot be "
                "represented. Rescale the data (e.g. divide by 1e10, which scales the results accordingly) first"
            )
        if 0.0 < m < _SQ_LOW:
            raise DataError(
                f"`{nm}` has no value larger than {m:.3g} in magnitude: their squares underflow to zero, so {what} cannot "
                "be represented. Rescale the data (e.g. multiply by 1e10, which scales the results accordingly) first"
            )
