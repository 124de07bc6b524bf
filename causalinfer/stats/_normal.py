"""Normal-theory building blocks: critical values, p-values and limits shared by the large-sample methods."""

from __future__ import annotations

import math


def z_crit(conf_level: float, alternative: str = "two-sided") -> float:
    """The standard normal quantile for a two-sided (or one-sided) interval at ``conf_level``."""
    from scipy import stats

    q = (1 + conf_level) / 2 if alternative == "two-sided" else conf_level
    return float(stats.norm.ppf(q))


def z_pvalue(z: float, alternative: str) -> float:
    """P-value of a standard normal statistic ``z`` in the direction ``alternative``."""
    from scipy import stats

    if alternative == "less":
        return float(stats.norm.cdf(z))
    if alternative == "greater":
        return float(stats.norm.sf(z))
    return float(min(1.0, 2 * stats.norm.sf(abs(z))))


def z_limits(estimate: float, se: float, conf_level: float, alternative: str) -> tuple[float, float]:
    """``estimate -/+ z * se`` (one side infinite for a one-sided alternative)."""
    z = z_crit(conf_level, alternative)
    if alternative == "less":
        return -math.inf, estimate + z * se
    if alternative == "greater":
        return estimate - z * se, math.inf
    return estimate - z * se, estimate + z * se
