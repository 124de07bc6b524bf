"""Estimators of an experiment written on the per-variant summaries alone (the array layer).

Conventions. For each arm the metric is summarised by an :class:`Arm`: its number of randomised units ``n``,
the estimate of its mean (after covariate adjustment, if any), the unadjusted mean, and the per-unit variance
``var`` so that the variance of the arm's estimate is ``var / n``. Comparisons between two arms are Welch-type:
the variance of the difference is ``var_a / n_a + var_b / n_b`` with Welch-Satterthwaite degrees of freedom,
and the relative lift ``(mean_b - mean_a) / mean_a`` gets its variance by the delta method. These are the
definitions of GrowthBook's frequentist engine, against which the numbers are checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._summary import Summaries


@dataclass(frozen=True)
class Arm:
    """One arm's estimate of a metric."""

    n: float
    mean: float
    var: float
    unadjusted_mean: float


@dataclass(frozen=True)
class Adjustment:
    """Covariate adjustment of one comparison: coefficients and the variance reduction they achieved."""

    theta: tuple[float, ...]
    variance_reduction: float


@dataclass(frozen=True)
class Lift:
    """A lift estimate with its Welch-type inference."""

    estimate: float
    std_error: float
    df: float
    statistic: float
    pvalue: float
    ci_low: float
    ci_high: float


# ---------------------------------------------------------------------------------------------- per-arm moments
def mean_arm(s: Summaries, row: int, y: str, *, proportion: bool = False) -> Arm:
    """Mean of ``y`` in one arm; the variance is the sample variance, or ``p (1 - p)`` for a proportion."""
    n, m, c = s.moments([row], [y])
    var = m[0] * (1 - m[0]) if proportion else c[0, 0]
    return Arm(n, float(m[0]), float(var), float(m[0]))


def ratio_arm(s: Summaries, row: int, num: str, den: str) -> Arm:
    """Ratio ``sum(num) / sum(den)`` in one arm; per-unit variance of the ratio by the delta method."""
    n, m, c = s.moments([row], [num, den])
    mm, md = float(m[0]), float(m[1])
    ratio = mm / md
    var = c[0, 0] / md**2 - 2 * c[0, 1] * mm / md**3 + mm**2 * c[1, 1] / md**4
    return Arm(n, ratio, float(var), ratio)


def quantile_levels(n: int, level: float) -> tuple[float, float, float]:
    """The three levels of the order-statistic band: ``level`` and ``level -/+ z sqrt(level (1 - level) / n)``."""
    from scipy import special

    z = float(-special.ndtri(0.025))
    half = z * math.sqrt(level * (1 - level) / n)
    return level, max(0.0, level - half), min(1.0, level + half)


def order_positions(n: int, levels: tuple[float, ...]) -> list[tuple[int, int, float]]:
    """For each level, the 0-based ranks of the two order statistics numpy's linear quantile interpolates and the weight.

    The same arithmetic as ``np.quantile(..., method="linear")``: virtual index ``(n - 1) p``, its floor and the next
    rank (both the last rank at the top), weight the fractional part. An engine that returns the values at these
    ranks therefore gives the same quantile as numpy on the rows, to the last bit.
    """
    out = []
    for p in levels:
        virtual = (n - 1) * p
        lo = math.floor(virtual)
        hi = lo + 1
        if virtual >= n - 1:
            lo = hi = n - 1
        out.append((int(lo), int(hi), float(virtual - lo)))
    return out


def interpolate(a: float, b: float, t: float) -> float:
    """numpy's linear interpolation between two order statistics (exact at both ends)."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def quantile_arm_from(n: int, level: float, value_at: Any) -> Arm:
    """The quantile arm from ``value_at(rank)``, the order statistic of 0-based ``rank`` among the arm's ``n`` values.

    The sample quantiles (linear interpolation, numpy's default) at ``level -/+ z sqrt(level (1 - level) / n)`` with
    ``z = 1.96`` bracket the quantile with about 95% confidence, so ``se = (upper - lower) / (2 z)``; the per-unit
    variance is ``(n - 1) se^2``, GrowthBook's definition, so that ``var / n`` is the variance of the estimate.
    Only six order statistics are needed, which is what lets an engine compute the arm without sending the rows.
    """
    from scipy import special

    z = float(-special.ndtri(0.025))
    q, lower, upper = (interpolate(value_at(lo), value_at(hi), t) for lo, hi, t in order_positions(n, quantile_levels(n, level)))
    se = (upper - lower) / (2 * z)
    return Arm(float(n), float(q), float((n - 1) * se**2), float(q))


def quantile_arm(values: np.ndarray, level: float) -> Arm:
    """The ``level`` quantile of one arm's values, with a per-unit variance from the order-statistic band.

    See :func:`quantile_arm_from`; the quantiles equal ``np.quantile(values, levels)``.
    """
    ordered = np.sort(values)
    return quantile_arm_from(ordered.size, level, lambda r: float(ordered[r]))


def poststratified_arms(
    s: Summaries, rows: tuple[list[int], list[int]], y: str, *, proportion: bool = False
) -> tuple[Arm, Arm, np.ndarray]:
    """Post-stratified control and treatment means of ``y``; ``rows[k][h]`` is the summary row of arm k, stratum h.

    Each arm's mean is ``sum_h w_h mean_hk`` with ``w_h`` the share of stratum ``h`` among the units of the two
    arms, and the variance of that mean is ``sum_h w_h^2 var_hk / n_hk`` (stratum sizes treated as fixed, as in
    Miratrix, Sekhon & Yu 2013). The returned per-unit variance is ``n_k`` times it, so that ``var / n`` is the
    variance of the arm's estimate. This equals the treatment coefficient of the regression with treatment x centred
    stratum indicators (Lin 2013) and its HC2 standard error.
    """
    n_h = np.array([s.n[a] + s.n[b] for a, b in zip(rows[0], rows[1], strict=True)])
    w = n_h / n_h.sum()
    arms = []
    for arm_rows in rows:
        means, var_mean, n_total = 0.0, 0.0, 0.0
        for wh, row in zip(w, arm_rows, strict=True):
            n, m, c = s.moments([row], [y])
            v = m[0] * (1 - m[0]) if proportion else c[0, 0]
            means += wh * m[0]
            var_mean += wh**2 * v / n
            n_total += n
        arms.append(Arm(n_total, float(means), float(var_mean * n_total), float(means)))
    return arms[0], arms[1], w


def adjusted_arms(
    s: Summaries, rows: tuple[int, int], y: str, covariates: tuple[str, ...], *, proportion: bool = False
) -> tuple[Arm, Arm, Adjustment]:
    """Control and treatment arms of ``y`` adjusted for ``covariates`` (CUPED with one covariate).

    The coefficients ``theta`` regress ``y`` on the covariates over the two arms pooled (Deng et al. 2013):
    ``theta = S_xx^{-1} s_xy`` from the pooled covariance matrix. Each arm's adjusted mean is
    ``mean(y) - theta' mean(x)`` and its per-unit variance ``var(y) - 2 theta' cov(x, y) + theta' S_x theta``
    (within the arm), so the adjusted difference is the unadjusted one minus ``theta'`` times the difference in
    covariate means.
    """
    names = [y, *covariates]
    _, _, pooled = s.moments(list(rows), names)
    sxx, sxy = pooled[1:, 1:], pooled[1:, 0]
    if np.any(np.diag(sxx) <= 0) or pooled[0, 0] <= 0:
        theta = np.zeros(len(covariates))
    else:
        theta = np.linalg.solve(sxx, sxy)
    arms = []
    raw_var = 0.0
    adj_var = 0.0
    for row in rows:
        n, m, c = s.moments([row], names)
        var_y = m[0] * (1 - m[0]) if proportion else c[0, 0]
        var = var_y - 2 * theta @ c[1:, 0] + theta @ c[1:, 1:] @ theta
        arms.append(Arm(n, float(m[0] - theta @ m[1:]), float(var), float(m[0])))
        raw_var += var_y / n
        adj_var += var / n
    reduction = 1 - adj_var / raw_var if raw_var > 0 else math.nan
    return arms[0], arms[1], Adjustment(tuple(float(t) for t in theta), float(reduction))


# ---------------------------------------------------------------------------------------------- comparisons
def t_sf(x: float, df: float) -> float:
    """Upper tail of Student's t (the same special function scipy.stats.t uses, without its overhead)."""
    from scipy import special

    return float(special.stdtr(df, -x))


def t_ppf(q: float, df: float) -> float:
    """Quantile of Student's t."""
    from scipy import special

    return float(special.stdtrit(df, q))


def welch_df(a: Arm, b: Arm) -> float:
    """Welch-Satterthwaite degrees of freedom of the difference of two arm means."""
    va, vb = a.var / a.n, b.var / b.n
    den = va**2 / (a.n - 1) + vb**2 / (b.n - 1)
    return float((va + vb) ** 2 / den) if den > 0 else math.inf


def lift_variance(a: Arm, b: Arm, relative: bool) -> float:
    """Variance of the absolute lift, or of the relative lift by the delta method."""
    if relative:
        ma, mb = a.unadjusted_mean, b.unadjusted_mean
        return b.var / (ma**2 * b.n) + a.var * mb**2 / (ma**4 * a.n)
    return a.var / a.n + b.var / b.n


def lift(a: Arm, b: Arm, *, relative: bool, conf_level: float, alternative: str, null_value: float = 0.0) -> Lift:
    """Absolute (``b - a``) or relative (``(b - a) / a``) lift with a Welch t interval and p-value."""
    diff = b.mean - a.mean
    est = diff / a.unadjusted_mean if relative else diff
    se = math.sqrt(lift_variance(a, b, relative))
    df = welch_df(a, b)
    t = (est - null_value) / se if se > 0 else math.copysign(math.inf, est - null_value) if est != null_value else math.nan
    if alternative == "two-sided":
        p = 2 * t_sf(abs(t), df) if not math.isnan(t) else math.nan
        q = t_ppf(1 - (1 - conf_level) / 2, df)
        lo, hi = est - q * se, est + q * se
    else:
        q = t_ppf(conf_level, df)
        if alternative == "greater":
            p = t_sf(t, df) if not math.isnan(t) else math.nan
            lo, hi = est - q * se, math.inf
        else:
            p = t_sf(-t, df) if not math.isnan(t) else math.nan
            lo, hi = -math.inf, est + q * se
    return Lift(float(est), se, df, float(t), p if math.isnan(p) else min(1.0, p), float(lo), float(hi))


def fieller_relative(a: Arm, b: Arm, *, conf_level: float, alternative: str) -> tuple[float, float, bool]:
    """Fieller's interval for the relative lift ``mean_b / mean_a - 1`` of two independent arms.

    Inverts ``|mean_b - rho mean_a| <= q sqrt(v_b + rho^2 v_a)`` with ``v = var / n`` and ``q`` the Welch t
    quantile. Returns ``(low, high, bounded)``; when the control mean is not distinguishable from zero at this
    level the set is unbounded and the limits are infinite.
    """
    va, vb = a.var / a.n, b.var / b.n
    df = welch_df(a, b)
    level = 1 - (1 - conf_level) / 2 if alternative == "two-sided" else conf_level
    q2 = t_ppf(level, df) ** 2
    ma, mb = a.mean, b.mean
    A = ma**2 - q2 * va
    B = -2 * ma * mb
    C = mb**2 - q2 * vb
    disc = B * B - 4 * A * C
    if A <= 0 or disc < 0:
        return -math.inf, math.inf, False
    r = math.sqrt(disc)
    lo, hi = sorted(((-B - r) / (2 * A), (-B + r) / (2 * A)))
    lo, hi = lo - 1, hi - 1
    if alternative == "greater":
        hi = math.inf
    elif alternative == "less":
        lo = -math.inf
    return lo, hi, True


def mixture_sequential(
    a: Arm, b: Arm, *, relative: bool, conf_level: float, alternative: str, null_value: float = 0.0, tuning: float = 5000.0
) -> Lift:
    """Always-valid inference on the lift: a normal-mixture SPRT confidence sequence (GrowthBook's sequential engine).

    With ``N = n_a + n_b`` units, ``s^2 = N var(lift)`` and ``rho^2 = (-2 log alpha + log(1 - 2 log alpha)) / tuning``
    (the mixing variance that makes the sequence tightest when ``N`` is near ``tuning``; Waudby-Smith et al.,
    eq. 161), the half-width is ``s sqrt(2 (N rho^2 + 1) log(sqrt(N rho^2 + 1) / alpha) / (N rho)^2)`` (eq. 9) and
    the always-valid p-value is ``min(1, 1 / E)`` with the mixture e-value
    ``E = exp(rho^2 t^2 N / (2 (N rho^2 + 1))) / sqrt(N rho^2 + 1)``, ``t^2 = (lift - null)^2 / var(lift)`` (eq. 155).
    A one-sided alternative keeps the side of the two-sided sequence it needs and gives p = 1 when the estimate lies
    on the null side.
    """
    alpha = 1 - conf_level
    diff = b.mean - a.mean
    est = diff / a.unadjusted_mean if relative else diff
    var = lift_variance(a, b, relative)
    n = a.n + b.n
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning
    tr = n * rho2 + 1
    half = math.sqrt(var * n) * math.sqrt(2 * tr * math.log(math.sqrt(tr) / alpha) / (n * n * rho2))
    st2 = (est - null_value) ** 2 * n / var if var > 0 else math.inf
    evalue = math.exp(min(rho2 * st2 / (2 * tr), 700.0)) / math.sqrt(tr)
    p = min(1.0, 1 / evalue) if var > 0 else math.nan
    lo, hi = est - half, est + half
    if alternative == "greater":
        hi = math.inf
        p = p if est > null_value else 1.0
    elif alternative == "less":
        lo = -math.inf
        p = p if est < null_value else 1.0
    z = (est - null_value) / math.sqrt(var) if var > 0 else math.nan
    return Lift(float(est), math.sqrt(var), math.inf, float(z), p, lo, hi)


# ---------------------------------------------------------------------------------------------- sample ratio
def srm_chisq(counts: np.ndarray, weights: np.ndarray) -> tuple[float, float, float]:
    """Pearson chi-square of observed unit counts against a planned split: ``(statistic, df, p-value)``."""
    from scipy import stats

    counts = np.asarray(counts, dtype=float)
    expected = np.asarray(weights, dtype=float) / np.sum(weights) * counts.sum()
    x2 = float(np.sum((counts - expected) ** 2 / expected))
    df = float(counts.size - 1)
    return x2, df, float(stats.chi2.sf(x2, df))
