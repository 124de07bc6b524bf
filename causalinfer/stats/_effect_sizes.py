"""Standardised mean differences (Cohen's d, Hedges' g) with noncentral-t confidence intervals."""

from __future__ import annotations

import math

import numpy as np

from ..exceptions import ConvergenceError
from ..results import Diagnostic, EffectSize


def noncentral_t_limits(t: float, df: float, conf_level: float, alternative: str) -> tuple[float, float]:
    """Confidence limits for the noncentrality parameter of a t statistic ``t`` on ``df`` df.

    The lower limit solves ``P(T <= t; ncp) = 1 - alpha/2`` and the upper ``P(T <= t; ncp) = alpha/2``
    (``alpha`` instead of ``alpha/2`` for one-sided intervals; the other limit is infinite).
    """
    from scipy import optimize, special

    def cdf(ncp: float) -> float:
        # the noncentral t distribution function of scipy.stats.nct, called without its per-call overhead
        return float(special.nctdtr(df, ncp, t)) if ncp != 0 else float(special.stdtr(df, t))

    def solve(target: float) -> float:
        # cdf is decreasing in ncp; bracket around t
        step = max(1.0, abs(t) / 4)
        lo, hi = t - step, t + step
        for _ in range(200):
            if cdf(lo) >= target:
                break
            lo -= step
            step *= 2
        step = max(1.0, abs(t) / 4)
        for _ in range(200):
            if cdf(hi) <= target:
                break
            hi += step
            step *= 2
        if not (cdf(lo) >= target >= cdf(hi)):
            raise ConvergenceError(f"could not bracket the noncentral t limit for t = {t:g} on {df:g} df")
        return float(optimize.brentq(lambda v: cdf(v) - target, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500))

    a = 1 - conf_level
    if alternative == "less":
        return -math.inf, solve(a)
    if alternative == "greater":
        return solve(1 - a), math.inf
    return solve(1 - a / 2), solve(a / 2)


def hedges_correction(df: float) -> float:
    """Exact small-sample bias correction J(df) = Γ(df/2) / (sqrt(df/2) Γ((df-1)/2))."""
    from scipy.special import gammaln

    return float(math.exp(gammaln(df / 2) - 0.5 * math.log(df / 2) - gammaln((df - 1) / 2)))


def standardized_differences(
    t: float, df: float, scale: float, conf_level: float, alternative: str, *, kind: str
) -> tuple[EffectSize, EffectSize]:
    """Cohen's d = t * scale and Hedges' g = J(df) d, with limits from the noncentral t distribution.

    ``scale`` turns a t statistic into d: ``1/sqrt(n)`` for one-sample and paired designs,
    ``sqrt(1/n1 + 1/n2)`` for two samples (pooled standard deviation).
    """
    d = t * scale
    lo, hi = noncentral_t_limits(t, df, conf_level, alternative)
    d_lo, d_hi = lo * scale, hi * scale
    j = hedges_correction(df)
    how = "noncentral t interval"
    return (
        EffectSize("Cohen's d", d, d_lo, d_hi, conf_level, f"{kind}; {how}"),
        EffectSize("Hedges' g", j * d, j * d_lo, j * d_hi, conf_level, f"{kind}, times the exact bias correction J(df); {how}"),
    )


def safe_standardized_differences(
    t: float, df: float, scale: float, conf_level: float, alternative: str, *, kind: str
) -> tuple[tuple[EffectSize, ...], tuple[Diagnostic, ...]]:
    """:func:`standardized_differences`, but an interval that cannot be found does not sink the test.

    When the noncentral t limits cannot be computed (a t statistic so large that the distribution cannot be
    evaluated), d and g are returned without limits, with a ``"warn"`` diagnostic saying why.
    """
    try:
        return standardized_differences(t, df, scale, conf_level, alternative, kind=kind), ()
    except (ConvergenceError, ValueError, ArithmeticError, RuntimeError) as exc:
        d = t * scale
        why = f"the noncentral t interval for t = {t:.6g} on {df:g} df could not be computed ({exc})"
        j = hedges_correction(df) if df > 1 else math.nan
        effects = (
            EffectSize("Cohen's d", d, None, None, None, f"{kind}; no interval: {why}"),
            EffectSize("Hedges' g", j * d, None, None, None, f"{kind}, times the exact bias correction J(df); no interval: {why}"),
        )
        return effects, (Diagnostic("effect size interval", "warn", None, f"{why}; Cohen's d and Hedges' g are given without limits"),)
