"""The t and normal building blocks shared by every large-sample and t-based method of the package.

Critical values, p-values and limits of the form ``estimate -/+ q * se`` are computed here and nowhere else
(the regression tables, t-tests, Brunner-Munzel, correlation, and the design and causal estimators through
``t_interval_and_pvalue``). Tails are taken from the survival function, never as ``1 - cdf``, so tiny p-values
keep their digits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def z_crit(conf_level: float, alternative: str = "two-sided") -> float:
    """The standard normal quantile for a two-sided (or one-sided) interval at ``conf_level``."""
    from scipy import stats

    q = (1 + conf_level) / 2 if alternative == "two-sided" else conf_level
    return float(stats.norm.ppf(q))


def z_quantile(p: float) -> float:
    """The standard normal quantile at lower-tail probability ``p`` (``ppf``)."""
    from scipy import stats

    return float(stats.norm.ppf(p))


def z_density(x: Any) -> Any:
    """The standard normal density at ``x`` (a float for a scalar, an array for an array)."""
    from scipy import stats

    d = stats.norm.pdf(np.asarray(x, dtype=float))
    return float(d) if np.ndim(d) == 0 else d


def z_upper(p: float) -> float:
    """The standard normal quantile with upper-tail probability ``p`` (``isf``, exact for tiny ``p``)."""
    from scipy import stats

    return float(stats.norm.isf(p))


def z_pvalue(z: float, alternative: str) -> float:
    """P-value of a standard normal statistic ``z`` in the direction ``alternative``."""
    from scipy import stats

    if alternative == "less":
        return float(stats.norm.cdf(z))
    if alternative == "greater":
        return float(stats.norm.sf(z))
    return float(np.minimum(2 * stats.norm.sf(abs(z)), 1.0))  # np.minimum keeps a NaN statistic NaN


def z_limits(estimate: float, se: float, conf_level: float, alternative: str) -> tuple[float, float]:
    """``estimate -/+ z * se`` (one side infinite for a one-sided alternative)."""
    z = z_crit(conf_level, alternative)
    if alternative == "less":
        return -math.inf, estimate + z * se
    if alternative == "greater":
        return estimate - z * se, math.inf
    return estimate - z * se, estimate + z * se


def t_crit(conf_level: float, df: Any, alternative: str = "two-sided") -> Any:
    """The t quantile on ``df`` degrees of freedom for a two-sided (or one-sided) interval at ``conf_level``.

    A float for a scalar ``df``, an array for an array of ``df`` (one per coefficient).
    """
    from scipy import stats

    q = 0.5 + conf_level / 2 if alternative == "two-sided" else conf_level
    out = stats.t.ppf(q, np.asarray(df, dtype=float))
    return float(out) if np.ndim(out) == 0 else out


def t_upper(p: float, df: float) -> float:
    """The t quantile on ``df`` degrees of freedom with upper-tail probability ``p`` (``isf``, exact for tiny ``p``)."""
    from scipy import stats

    return float(stats.t.isf(p, df))


def t_pvalue(t: Any, df: Any, alternative: str = "two-sided") -> Any:
    """P-value(s) of t statistic(s) on ``df`` df (a float for a scalar, an array for an array)."""
    from scipy import stats

    arr = np.asarray(t, dtype=float)
    if alternative == "less":
        p = stats.t.cdf(arr, df)
    elif alternative == "greater":
        p = stats.t.sf(arr, df)
    else:
        p = np.minimum(2 * stats.t.sf(np.abs(arr), df), 1.0)
    return float(p) if np.ndim(p) == 0 else p


def coefficient_table_inference(coef: np.ndarray, se: np.ndarray, conf_level: float, df: float | None) -> tuple[np.ndarray, ...]:
    """Statistics, two-sided p-values and limits for a table of coefficients: t on ``df`` df, or normal (``df`` None)."""
    from scipy import stats

    stat = coef / se
    if df is None:
        p = np.minimum(2 * stats.norm.sf(np.abs(stat)), 1.0)
        q = z_crit(conf_level)
    else:
        p = t_pvalue(stat, df)
        q = t_crit(conf_level, df)
    return stat, p, coef - q * se, coef + q * se


def t_interval_and_pvalue(
    estimate: float, se: float, df: float, null: float, alternative: str, conf_level: float
) -> tuple[float, float, float, float]:
    """t statistic, p-value and confidence limits for ``estimate`` with standard error ``se`` on ``df`` df."""
    t = (estimate - null) / se
    q = t_crit(conf_level, df, alternative)
    if alternative == "less":
        lo, hi = -math.inf, estimate + se * q
    elif alternative == "greater":
        lo, hi = estimate - se * q, math.inf
    else:
        lo, hi = estimate - q * se, estimate + q * se
    return float(t), min(float(t_pvalue(t, df, alternative)), 1.0), lo, hi
