"""Proportions: one proportion, two proportions (difference, ratio, odds ratio) and their tests.

Validated against R: ``prop.test``, ``binom.test``, ``fisher.test``, ``mcnemar.test`` and hand computations of
the textbook intervals (see ``tests/reference/proportions.R``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _validation as vp
from .._validation import check_alternative, check_choice, check_conf_level, check_probability
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Diagnostic, EffectSize, Provenance, Result
from ._counts import OneCount, TwoCounts, one_count, paired_table, two_counts
from ._fisher import Fisher2x2
from ._normal import z_crit, z_limits, z_pvalue

PROPORTION_METHODS = ("wilson", "agresti-coull", "clopper-pearson", "jeffreys", "wald")
DIFF_METHODS = ("newcombe", "wald", "agresti-caffo", "score")
ODDS_RATIO_METHODS = ("woolf", "conditional")

_PROPORTION_NAMES = {
    "wilson": "Wilson score interval",
    "agresti-coull": "Agresti-Coull interval",
    "clopper-pearson": "Clopper-Pearson exact interval",
    "jeffreys": "Jeffreys interval",
    "wald": "Wald interval",
}


# ---------------------------------------------------------------------------------------------- one proportion
def wilson_limits(x: float, n: float, z: float, yates: float = 0.0) -> tuple[float, float]:
    """Wilson score limits (with R's continuity correction ``yates``), each clipped to [0, 1]."""
    p = x / n
    z22n = z * z / (2 * n)
    pc = p + yates / n
    hi = 1.0 if pc >= 1 else (pc + z22n + z * math.sqrt(pc * (1 - pc) / n + z22n / (2 * n))) / (1 + 2 * z22n)
    pc = p - yates / n
    lo = 0.0 if pc <= 0 else (pc + z22n - z * math.sqrt(pc * (1 - pc) / n + z22n / (2 * n))) / (1 + 2 * z22n)
    return max(lo, 0.0), min(hi, 1.0)


def clopper_pearson_limits(x: int, n: int, conf_level: float, alternative: str) -> tuple[float, float]:
    from scipy import stats

    alpha = (1 - conf_level) / 2 if alternative == "two-sided" else 1 - conf_level
    lo = 0.0 if x == 0 else float(stats.beta.ppf(alpha, x, n - x + 1))
    hi = 1.0 if x == n else float(stats.beta.ppf(1 - alpha, x + 1, n - x))
    if alternative == "less":
        lo = 0.0
    elif alternative == "greater":
        hi = 1.0
    return lo, hi


def _proportion_limits(c: OneCount, method: str, conf_level: float, alternative: str) -> tuple[float, float]:
    x, n = c.x, c.n
    z = z_crit(conf_level, alternative)
    if method == "clopper-pearson":
        return clopper_pearson_limits(x, n, conf_level, alternative)
    if method == "wilson":
        lo, hi = wilson_limits(x, n, z)
    elif method == "agresti-coull":
        nt = n + z * z
        pt = (x + z * z / 2) / nt
        h = z * math.sqrt(pt * (1 - pt) / nt)
        lo, hi = max(0.0, pt - h), min(1.0, pt + h)
    elif method == "jeffreys":
        from scipy import stats

        alpha = (1 - conf_level) / 2 if alternative == "two-sided" else 1 - conf_level
        lo = 0.0 if x == 0 else float(stats.beta.ppf(alpha, x + 0.5, n - x + 0.5))
        hi = 1.0 if x == n else float(stats.beta.ppf(1 - alpha, x + 0.5, n - x + 0.5))
    else:  # wald
        p = x / n
        h = z * math.sqrt(p * (1 - p) / n)
        lo, hi = max(0.0, p - h), min(1.0, p + h)
    if alternative == "less":
        lo = 0.0
    elif alternative == "greater":
        hi = 1.0
    return lo, hi


def _small_count_diagnostic(c: OneCount, method: str) -> Diagnostic:
    small = min(c.x, c.n - c.x)
    if method == "wald" and small < 5:
        return Diagnostic(
            "small counts",
            "warn",
            float(small),
            f"only {small} success(es) or failure(s): the Wald interval is unreliable here; use the default Wilson interval",
        )
    if small < 5:
        return Diagnostic(
            "small counts", "ok", float(small), f"{small} success(es) or failure(s): small, but {_PROPORTION_NAMES[method]} handles it"
        )
    return Diagnostic("small counts", "ok", float(small), f"at least {small} successes and failures")


@vp.validate_params(
    {
        "x": ["sample", vp.Scalar()],
        "n": [None, vp.Scalar()],
        "data": [None, "data"],
        "success": vp.NoCheck("any label; compared with the values of x"),
        "method": vp.Options(PROPORTION_METHODS),
        "alternative": "alternative",
        "conf_level": "conf_level",
    }
)
def proportion(
    x: Any,
    n: Any = None,
    *,
    data: Any = None,
    success: Any = None,
    method: str = "wilson",
    alternative: str = "two-sided",
    conf_level: float = 0.95,
) -> Result:
    """A proportion with a confidence interval (Wilson score by default).

    Parameters
    ----------
    x : int, array-like or str
        Number of successes (with ``n``), an array of 0/1 or True/False outcomes, or a column name of ``data``.
    n : int, optional
        Number of trials, when ``x`` is a count.
    data : DataFrame or Dataset, optional
        Table holding the column named by ``x``.
    success : scalar, optional
        The value of ``x`` that counts as a success (default: ``x`` must be 0/1 or boolean).
    method : {"wilson", "agresti-coull", "clopper-pearson", "jeffreys", "wald"}
        Interval. ``"wilson"`` equals R's ``prop.test(x, n, correct = FALSE)$conf.int``; ``"clopper-pearson"``
        equals ``binom.test(x, n)$conf.int``.
    alternative : {"two-sided", "less", "greater"}
        ``"less"`` gives an upper bound (lower limit 0), ``"greater"`` a lower bound (upper limit 1).
    conf_level : float
        Confidence level.

    Returns
    -------
    Result
        ``estimate`` (x / n), ``std_error`` (sqrt(p(1-p)/n)), ``ci_low``, ``ci_high``, ``n``;
        ``details["successes"]`` and ``details["trials"]``; a diagnostic on small counts.

    Notes
    -----
    With :math:`\\hat p = x/n` and :math:`z` the normal quantile:

    - Wilson: :math:`(\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}) / (1 + z^2/n)`.
    - Agresti-Coull: :math:`\\tilde n = n + z^2`, :math:`\\tilde p = (x + z^2/2)/\\tilde n`,
      :math:`\\tilde p \\pm z\\sqrt{\\tilde p(1-\\tilde p)/\\tilde n}`, clipped to [0, 1].
    - Clopper-Pearson: beta quantiles :math:`B(\\alpha/2; x, n-x+1)` and :math:`B(1-\\alpha/2; x+1, n-x)`.
    - Jeffreys: :math:`B(\\alpha/2; x+1/2, n-x+1/2)` and :math:`B(1-\\alpha/2; x+1/2, n-x+1/2)`, with the lower
      limit 0 when x = 0 and the upper limit 1 when x = n (Brown, Cai and DasGupta, 2001).
    - Wald: :math:`\\hat p \\pm z\\sqrt{\\hat p(1-\\hat p)/n}`, clipped to [0, 1].

    Validated against R (``prop.test``, ``binom.test`` and ``qbeta``/``qnorm`` computations).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.proportion(12, 40)
    >>> round(r.estimate, 3), round(r.ci_low, 4), round(r.ci_high, 4)
    (0.3, 0.1807, 0.4543)
    """
    method = check_choice(method, "method", PROPORTION_METHODS)
    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    c = one_count(x, n, data=data, success=success)
    lo, hi = _proportion_limits(c, method, conf_level, alternative)
    p = c.x / c.n
    return Result(
        method=_PROPORTION_NAMES[method],
        estimand=f"proportion of successes ({c.label})",
        estimate=p,
        std_error=math.sqrt(p * (1 - p) / c.n),
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        alternative=alternative,
        n=c.n,
        diagnostics=(_small_count_diagnostic(c, method),),
        details={"successes": c.x, "trials": c.n},
        provenance=Provenance.current(data_fingerprint=c.fingerprint),
    )


# ---------------------------------------------------------------------------------------------- two proportions
def _mn_restricted(p1: float, p2: float, n1: int, n2: int, delta: float) -> tuple[float, float]:
    """Restricted MLE of (p1, p2) under p1 - p2 = delta (Miettinen and Nurminen, 1985, closed form)."""
    theta = n2 / n1
    a = 1 + theta
    b = -(1 + theta + p1 + theta * p2 + delta * (theta + 2))
    c = delta * delta + delta * (2 * p1 + theta + 1) + p1 + theta * p2
    d = -p1 * delta * (1 + delta)
    v = b**3 / (27 * a**3) - b * c / (6 * a * a) + d / (2 * a)
    s = b * b / (9 * a * a) - c / (3 * a)
    u = math.copysign(math.sqrt(max(s, 0.0)), v) if v != 0 else math.sqrt(max(s, 0.0))
    if u == 0:
        q1 = -b / (3 * a)
    else:
        w = (math.pi + math.acos(max(-1.0, min(1.0, v / u**3)))) / 3
        q1 = 2 * u * math.cos(w) - b / (3 * a)
    q1 = min(1.0, max(0.0, q1))
    q2 = min(1.0, max(0.0, q1 - delta))
    return q1, q2


def _mn_z(c: TwoCounts, delta: float) -> float:
    p1, p2 = c.x1 / c.n1, c.x2 / c.n2
    q1, q2 = _mn_restricted(p1, p2, c.n1, c.n2, delta)
    total = c.n1 + c.n2
    var = (q1 * (1 - q1) / c.n1 + q2 * (1 - q2) / c.n2) * total / (total - 1)
    diff = p1 - p2 - delta
    if var <= 0:
        return math.copysign(math.inf, diff) if diff != 0 else 0.0
    return diff / math.sqrt(var)


def _mn_limits(c: TwoCounts, z: float) -> tuple[float, float]:
    from scipy.optimize import brentq

    d = c.x1 / c.n1 - c.x2 / c.n2
    edge = 1e-13

    def solve(target: float, a: float, b: float) -> float:
        return float(brentq(lambda t: _mn_z(c, t) - target, a, b, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500))

    lo = -1.0 if _mn_z(c, -1 + edge) <= z or d <= -1 + edge else solve(z, -1 + edge, d)
    hi = 1.0 if _mn_z(c, 1 - edge) >= -z or d >= 1 - edge else solve(-z, d, 1 - edge)
    return lo, hi


def _diff_limits(c: TwoCounts, method: str, conf_level: float, alternative: str) -> tuple[float, float]:
    z = z_crit(conf_level, alternative)
    p1, p2 = c.x1 / c.n1, c.x2 / c.n2
    d = p1 - p2
    if method == "newcombe":
        l1, u1 = wilson_limits(c.x1, c.n1, z)
        l2, u2 = wilson_limits(c.x2, c.n2, z)
        lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    elif method == "score":
        lo, hi = _mn_limits(c, z)
    else:
        if method == "agresti-caffo":
            a1, a2 = (c.x1 + 1) / (c.n1 + 2), (c.x2 + 1) / (c.n2 + 2)
            est, se = a1 - a2, math.sqrt(a1 * (1 - a1) / (c.n1 + 2) + a2 * (1 - a2) / (c.n2 + 2))
        else:
            est, se = d, math.sqrt(p1 * (1 - p1) / c.n1 + p2 * (1 - p2) / c.n2)
        lo, hi = max(-1.0, est - z * se), min(1.0, est + z * se)
    if alternative == "less":
        lo = -1.0
    elif alternative == "greater":
        hi = 1.0
    return lo, hi


_DIFF_NAMES = {
    "newcombe": "Newcombe hybrid score interval (method 10) for a difference of proportions",
    "wald": "Wald interval for a difference of proportions",
    "agresti-caffo": "Agresti-Caffo interval for a difference of proportions",
    "score": "Miettinen-Nurminen score interval for a difference of proportions",
}


def _group_details(c: TwoCounts) -> dict[str, Any]:
    import pandas as pd

    table = pd.DataFrame(
        {
            "group": list(c.names),
            "successes": [c.x1, c.x2],
            "trials": [c.n1, c.n2],
            "proportion": [c.x1 / c.n1, c.x2 / c.n2],
        }
    )
    return {"groups": table}


def _two_estimand(c: TwoCounts, what: str) -> str:
    resp = f" of {c.response}" if c.response else ""
    return f"{what}{resp}: {c.names[0]} versus {c.names[1]}"


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "n": [None, "array-like"],
        "success": vp.NoCheck("any label; compared with the values of x"),
        "method": vp.Options(DIFF_METHODS),
        "alternative": "alternative",
        "conf_level": "conf_level",
    }
)
def diff_proportions(
    x: Any,
    y: Any = None,
    *,
    n: Any = None,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    success: Any = None,
    method: str = "newcombe",
    alternative: str = "two-sided",
    conf_level: float = 0.95,
) -> Result:
    """Difference of two proportions, p1 - p2, with a confidence interval (Newcombe's hybrid score by default).

    Parameters
    ----------
    x : array-like or str
        Successes ``(x1, x2)`` (with ``n``), a 2 x 2 table (rows: groups; columns: success, failure), the first
        group's 0/1 outcomes (with ``y``), or a binary column of ``data`` (with ``group``, or with ``y``).
    y : array-like or str, optional
        The second group's 0/1 outcomes, or a column name of ``data``.
    n : (int, int), optional
        Trials in each group, when ``x`` holds counts.
    data : DataFrame or Dataset, optional
    group : str, optional
        Column with two levels splitting ``x`` into the two groups (long form).
    levels : (a, b), optional
        Order of the groups; the estimate is p(a) - p(b). Default: sorted order, as R orders factor levels.
    success : scalar, optional
        The value counting as a success (default: outcomes must be 0/1 or boolean).
    method : {"newcombe", "wald", "agresti-caffo", "score"}
        ``"newcombe"``: Newcombe's (1998) method 10, combining Wilson intervals for each proportion.
        ``"wald"``: :math:`\\hat d \\pm z\\sqrt{\\hat p_1\\hat q_1/n_1 + \\hat p_2\\hat q_2/n_2}` (R's
        ``prop.test(correct = FALSE)`` interval). ``"agresti-caffo"``: Wald after adding one success and one
        failure to each group. ``"score"``: the Miettinen-Nurminen (1985) score interval, inverting the score
        statistic with the restricted maximum likelihood variance and the ``N/(N-1)`` factor.
    alternative : {"two-sided", "less", "greater"}
        One-sided intervals use the one-sided normal quantile and set the other limit to -1 or 1.
    conf_level : float

    Returns
    -------
    Result
        ``estimate`` (p1 - p2), ``std_error`` (unpooled), ``ci_low``, ``ci_high``, ``n`` (n1 + n2);
        ``details["groups"]`` with successes, trials and proportion per group.

    Notes
    -----
    Newcombe: with Wilson limits :math:`(l_i, u_i)`, :math:`L = \\hat d - \\sqrt{(\\hat p_1 - l_1)^2 + (u_2 - \\hat
    p_2)^2}` and :math:`U = \\hat d + \\sqrt{(u_1 - \\hat p_1)^2 + (\\hat p_2 - l_2)^2}`.
    Validated against R (``prop.test`` for Wald; Wilson-limit and score computations in
    ``tests/reference/proportions.R``, the latter solved with ``uniroot(tol = 1e-12)``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.diff_proportions((56, 48), n=(70, 80))
    >>> round(r.estimate, 3), round(r.ci_low, 4), round(r.ci_high, 4)
    (0.2, 0.0524, 0.3339)
    """
    method = check_choice(method, "method", DIFF_METHODS)
    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    c = two_counts(x, y, n=n, data=data, group=group, levels=levels, success=success)
    p1, p2 = c.x1 / c.n1, c.x2 / c.n2
    lo, hi = _diff_limits(c, method, conf_level, alternative)
    return Result(
        method=_DIFF_NAMES[method],
        estimand=_two_estimand(c, "difference in proportions"),
        estimate=p1 - p2,
        std_error=math.sqrt(p1 * (1 - p1) / c.n1 + p2 * (1 - p2) / c.n2),
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        alternative=alternative,
        null_value=0.0,
        n=c.n1 + c.n2,
        diagnostics=(_two_sample_counts_diagnostic(c, method == "wald"),),
        details=_group_details(c),
        provenance=Provenance.current(data_fingerprint=c.fingerprint),
    )


def _two_sample_counts_diagnostic(c: TwoCounts, wald: bool) -> Diagnostic:
    small = int(min(c.x1, c.n1 - c.x1, c.x2, c.n2 - c.x2))
    if small < 5 and wald:
        return Diagnostic(
            "small counts",
            "warn",
            float(small),
            f"a group has only {small} success(es) or failure(s): Wald intervals are unreliable; use method='newcombe'",
        )
    return Diagnostic("small counts", "ok", float(small), f"smallest count of successes or failures in a group: {small}")


def _risk_ratio(c: TwoCounts, conf_level: float, alternative: str) -> tuple[float, float, float, float]:
    """Risk ratio, standard error of its log (Katz) and limits."""
    if c.x1 == 0 or c.x2 == 0:
        which = c.names[0] if c.x1 == 0 else c.names[1]
        raise DataError(
            f"group {which!r} has no successes, so the log risk ratio and its Katz interval are undefined; "
            "report the difference of proportions instead (diff_proportions)"
        )
    rr = (c.x1 / c.n1) / (c.x2 / c.n2)
    se = math.sqrt(1 / c.x1 - 1 / c.n1 + 1 / c.x2 - 1 / c.n2)
    lo, hi = z_limits(math.log(rr), se, conf_level, alternative)
    return rr, se, math.exp(lo), math.exp(hi)


def _woolf(table: np.ndarray, conf_level: float, alternative: str) -> tuple[float, float, float, float]:
    a, b, c, d = (float(v) for v in table.ravel())
    if min(a, b, c, d) == 0:
        raise DataError(
            f"the 2 x 2 table {table.astype(int).tolist()} has a zero cell, so the Woolf (logit) interval is undefined; "
            "use method='conditional' (Fisher's conditional maximum likelihood estimate and exact interval)"
        )
    orr = a * d / (b * c)
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    lo, hi = z_limits(math.log(orr), se, conf_level, alternative)
    return orr, se, math.exp(lo), math.exp(hi)


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "n": [None, "array-like"],
        "success": vp.NoCheck("any label; compared with the values of x"),
        "alternative": "alternative",
        "conf_level": "conf_level",
    }
)
def ratio_proportions(
    x: Any,
    y: Any = None,
    *,
    n: Any = None,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    success: Any = None,
    alternative: str = "two-sided",
    conf_level: float = 0.95,
) -> Result:
    """Risk ratio p1 / p2 with the log (Katz) confidence interval and a Wald test of log RR = 0.

    Parameters are as for :func:`diff_proportions`.

    Returns
    -------
    Result
        ``estimate`` (p1 / p2), ``std_error`` (of log RR), ``ci_low``, ``ci_high``, ``statistic`` (z for
        log RR = 0), ``pvalue``, ``null_value`` (1); ``details["groups"]``.

    Notes
    -----
    :math:`\\widehat{RR} = \\hat p_1/\\hat p_2`, :math:`SE(\\log \\widehat{RR}) = \\sqrt{1/x_1 - 1/n_1 + 1/x_2 - 1/n_2}`
    (Katz et al., 1978); limits :math:`\\exp(\\log\\widehat{RR} \\pm z\\,SE)`. A group with no successes is an error.
    Validated against a hand computation in R.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.ratio_proportions((56, 48), n=(70, 80))
    >>> round(r.estimate, 4), round(r.ci_low, 4), round(r.ci_high, 4)
    (1.3333, 1.0766, 1.6512)
    """
    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    c = two_counts(x, y, n=n, data=data, group=group, levels=levels, success=success)
    rr, se, lo, hi = _risk_ratio(c, conf_level, alternative)
    z = math.log(rr) / se
    return Result(
        method="Risk ratio with log (Katz) interval",
        estimand=_two_estimand(c, "ratio of proportions"),
        estimate=rr,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=z,
        statistic_name="z (log scale)",
        pvalue=z_pvalue(z, alternative),
        alternative=alternative,
        null_value=1.0,
        n=c.n1 + c.n2,
        diagnostics=(_two_sample_counts_diagnostic(c, False),),
        details=_group_details(c),
        provenance=Provenance.current(data_fingerprint=c.fingerprint),
    )


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "n": [None, "array-like"],
        "success": vp.NoCheck("any label; compared with the values of x"),
        "method": vp.Options(ODDS_RATIO_METHODS),
        "alternative": "alternative",
        "conf_level": "conf_level",
    }
)
def odds_ratio(
    x: Any,
    y: Any = None,
    *,
    n: Any = None,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    success: Any = None,
    method: str = "woolf",
    alternative: str = "two-sided",
    conf_level: float = 0.95,
) -> Result:
    """Odds ratio of success in group 1 versus group 2, with the Woolf (logit) or exact conditional interval.

    Parameters are as for :func:`diff_proportions`, plus:

    method : {"woolf", "conditional"}
        ``"woolf"``: sample odds ratio ad/bc with :math:`\\exp(\\log OR \\pm z\\sqrt{1/a+1/b+1/c+1/d})` and a
        Wald z-test. ``"conditional"``: the conditional maximum likelihood estimate and exact interval of R's
        ``fisher.test``, with Fisher's exact p-value.

    Returns
    -------
    Result
        ``estimate``, ``ci_low``, ``ci_high``, ``pvalue`` (against OR = 1), ``std_error`` (of log OR, Woolf
        only), ``statistic`` (Woolf z only); ``details["table"]`` (the 2 x 2 table) and ``details["groups"]``.

    Notes
    -----
    Table layout: rows are the groups, columns are success and failure, so OR = (a/b) / (c/d).
    A zero cell makes the Woolf interval undefined (an error that suggests ``method="conditional"``).
    Validated against R's ``fisher.test`` (recomputed with ``uniroot(tol = 1e-12)``) and a hand computation.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.odds_ratio([[12, 5], [6, 14]])
    >>> round(r.estimate, 3)
    5.6
    """
    method = check_choice(method, "method", ODDS_RATIO_METHODS)
    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    c = two_counts(x, y, n=n, data=data, group=group, levels=levels, success=success)
    table = c.table
    details = {**_group_details(c), "table": table.astype(int).tolist()}
    if method == "woolf":
        orr, se, lo, hi = _woolf(table, conf_level, alternative)
        z = math.log(orr) / se
        return Result(
            method="Odds ratio with Woolf (logit) interval",
            estimand=_two_estimand(c, "odds ratio of success"),
            estimate=orr,
            std_error=se,
            ci_low=lo,
            ci_high=hi,
            conf_level=conf_level,
            statistic=z,
            statistic_name="z (log scale)",
            pvalue=z_pvalue(z, alternative),
            alternative=alternative,
            null_value=1.0,
            n=c.n1 + c.n2,
            details=details,
            provenance=Provenance.current(data_fingerprint=c.fingerprint),
        )
    f = Fisher2x2.from_table(table)
    lo, hi = f.interval(conf_level, alternative)
    return Result(
        method="Conditional maximum likelihood odds ratio with exact interval (Fisher)",
        estimand=_two_estimand(c, "odds ratio of success"),
        estimate=f.mle(),
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        pvalue=f.pvalue(1.0, alternative),
        alternative=alternative,
        null_value=1.0,
        n=c.n1 + c.n2,
        details=details,
        provenance=Provenance.current(data_fingerprint=c.fingerprint),
    )


def two_by_two_effect_sizes(table: np.ndarray, conf_level: float) -> tuple[EffectSize, ...]:
    """Woolf odds ratio and Katz risk ratio of a 2 x 2 table (rows: groups; columns: success, failure).

    Cells that make a measure undefined (zeros) leave that measure out.
    """
    out = []
    a, b, c, d = (float(v) for v in table.ravel())
    if min(a, b, c, d) > 0:
        orr, _, lo, hi = _woolf(table, conf_level, "two-sided")
        out.append(EffectSize("odds ratio", orr, lo, hi, conf_level, "sample odds ratio, Woolf (logit) interval"))
    if a > 0 and c > 0:
        counts = TwoCounts(int(a), int(a + b), int(c), int(c + d), ("row 1", "row 2"))
        rr, _, lo, hi = _risk_ratio(counts, conf_level, "two-sided")
        out.append(EffectSize("risk ratio", rr, lo, hi, conf_level, "ratio of first-column proportions by row, log (Katz) interval"))
    return tuple(out)


# ---------------------------------------------------------------------------------------------- tests
@vp.validate_params(
    {
        "x": ["sample", vp.Scalar()],
        "n": [None, vp.Scalar(), "array-like"],
        "y": [None, "sample"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "success": vp.NoCheck("any label; compared with the values of x"),
        "p": [None, "probability"],
        "correct": "boolean",
        "alternative": "alternative",
        "conf_level": "conf_level",
    }
)
def prop_test(
    x: Any,
    n: Any = None,
    *,
    y: Any = None,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    success: Any = None,
    p: float | None = None,
    correct: bool = True,
    alternative: str = "two-sided",
    conf_level: float = 0.95,
) -> Result:
    """Score (chi-squared) test of one proportion against ``p``, or of the equality of two proportions; R's ``prop.test``.

    Parameters
    ----------
    x : int, array-like or str
        One sample: a count (with ``n``), 0/1 outcomes, or a column of ``data``. Two samples: counts
        ``(x1, x2)`` with ``n = (n1, n2)``, a 2 x 2 table, 0/1 outcomes with ``y``, or a column with ``group``.
    n : int or (int, int), optional
        Trials.
    y : array-like or str, optional
        Second sample's 0/1 outcomes (or column name).
    data, group, levels, success
        As for :func:`diff_proportions`.
    p : float, optional
        Null proportion for the one-sample test (default 0.5); not used with two samples.
    correct : bool
        Yates continuity correction (R's default, True).
    alternative : {"two-sided", "less", "greater"}
    conf_level : float

    Returns
    -------
    Result
        One sample: ``estimate`` (x/n), Wilson interval (continuity corrected when ``correct``), ``statistic``
        (X-squared), ``df`` 1, ``pvalue``, ``null_value`` (p). Two samples: ``estimate`` (p1 - p2) with the Wald
        interval of ``prop.test`` (continuity corrected when ``correct``), the chi-squared statistic, effect
        sizes (odds ratio, risk ratio) and a diagnostic on expected counts.

    Notes
    -----
    One-sided p-values use :math:`z = \\mathrm{sign}(\\hat p - p)\\sqrt{X^2}` as R does. The continuity
    correction is :math:`\\min(1/2, |x - np|)` for one sample and :math:`\\min(1/2, |\\hat d| / (1/n_1 + 1/n_2))`
    for two. Validated against R's ``prop.test``.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.prop_test((56, 48), n=(70, 80))
    >>> round(r.statistic, 4), round(r.pvalue, 5)
    (6.1143, 0.01341)
    """
    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    if not isinstance(correct, bool):
        raise ArgumentTypeError(f"`correct` must be True or False; got {correct!r}")
    two = (
        y is not None
        or group is not None
        or (n is not None and np.ndim(n) == 1)
        or (data is None and not isinstance(x, str) and np.ndim(x) == 2)
    )
    if not two:
        c = one_count(x, n, data=data, success=success)
        p0 = 0.5 if p is None else check_probability(p, "p", open_interval=True)
        return _prop_test_one(c, p0, correct, alternative, conf_level)
    if p is not None:
        raise ArgumentError("`p` is the null proportion of a one-sample test; a two-sample test compares the groups with each other")
    c2 = two_counts(x, y, n=n, data=data, group=group, levels=levels, success=success)
    return _prop_test_two(c2, correct, alternative, conf_level)


def _prop_test_one(c: OneCount, p0: float, correct: bool, alternative: str, conf_level: float) -> Result:
    from scipy import stats

    x, n = c.x, c.n
    yates = min(0.5 if correct else 0.0, abs(x - n * p0))
    z = z_crit(conf_level, alternative)
    lo, hi = wilson_limits(x, n, z, yates)
    if alternative == "less":
        lo = 0.0
    elif alternative == "greater":
        hi = 1.0
    e = np.array([n * p0, n * (1 - p0)])
    o = np.array([x, n - x], dtype=float)
    stat = float(np.sum((np.abs(o - e) - yates) ** 2 / e))
    est = x / n
    if alternative == "two-sided":
        pval = float(stats.chi2.sf(stat, 1))
    else:
        zz = math.copysign(math.sqrt(stat), est - p0) if est != p0 else 0.0
        pval = z_pvalue(zz, alternative)
    return Result(
        method=f"1-sample proportions test {'with' if yates else 'without'} continuity correction",
        estimand=f"proportion of successes ({c.label})",
        estimate=est,
        std_error=math.sqrt(est * (1 - est) / n),
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="X-squared",
        df=1.0,
        pvalue=pval,
        alternative=alternative,
        null_value=p0,
        n=n,
        diagnostics=(_expected_diagnostic(e, "binom_test"),),
        details={"successes": x, "trials": n},
        provenance=Provenance.current(data_fingerprint=c.fingerprint),
    )


def _expected_diagnostic(expected: np.ndarray, exact: str) -> Diagnostic:
    emin = float(np.min(expected))
    if emin < 5:
        return Diagnostic(
            "expected counts",
            "warn",
            emin,
            f"smallest expected count is {emin:.3g} < 5: the chi-squared approximation may be inaccurate; use {exact} for an exact test",
        )
    return Diagnostic("expected counts", "ok", emin, f"smallest expected count is {emin:.3g} (>= 5)")


def _prop_test_two(c: TwoCounts, correct: bool, alternative: str, conf_level: float) -> Result:
    from scipy import stats

    p1, p2 = c.x1 / c.n1, c.x2 / c.n2
    delta = p1 - p2
    inv = 1 / c.n1 + 1 / c.n2
    yates = min(0.5 if correct else 0.0, abs(delta) / inv)
    z = z_crit(conf_level, alternative)
    width = z * math.sqrt(p1 * (1 - p1) / c.n1 + p2 * (1 - p2) / c.n2) + yates * inv
    lo, hi = max(delta - width, -1.0), min(delta + width, 1.0)
    if alternative == "less":
        lo = -1.0
    elif alternative == "greater":
        hi = 1.0
    pooled = (c.x1 + c.x2) / (c.n1 + c.n2)
    if pooled in (0.0, 1.0):
        raise DataError(
            f"all {c.n1 + c.n2} outcomes are {'failures' if pooled == 0 else 'successes'}, so the chi-squared statistic is undefined "
            "(R returns NaN); there is no evidence of a difference"
        )
    o = c.table
    e = np.array([[c.n1 * pooled, c.n1 * (1 - pooled)], [c.n2 * pooled, c.n2 * (1 - pooled)]])
    stat = float(np.sum((np.abs(o - e) - yates) ** 2 / e))
    if alternative == "two-sided":
        pval = float(stats.chi2.sf(stat, 1))
    else:
        zz = math.copysign(math.sqrt(stat), delta) if delta != 0 else 0.0
        pval = z_pvalue(zz, alternative)
    return Result(
        method=f"2-sample test for equality of proportions {'with' if yates else 'without'} continuity correction",
        estimand=_two_estimand(c, "difference in proportions"),
        estimate=delta,
        std_error=math.sqrt(p1 * (1 - p1) / c.n1 + p2 * (1 - p2) / c.n2),
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="X-squared",
        df=1.0,
        pvalue=pval,
        alternative=alternative,
        null_value=0.0,
        n=c.n1 + c.n2,
        effect_sizes=two_by_two_effect_sizes(o, conf_level),
        diagnostics=(_expected_diagnostic(e, "fisher_test"),),
        details=_group_details(c),
        provenance=Provenance.current(data_fingerprint=c.fingerprint),
    )


def binom_pvalue(x: int, n: int, p: float, alternative: str) -> float:
    """Exact binomial p-value with R's two-sided rule (sum of outcomes no more likely than x, tolerance 1e-7)."""
    from scipy import stats

    if alternative == "less":
        return float(stats.binom.cdf(x, n, p))
    if alternative == "greater":
        return float(stats.binom.sf(x - 1, n, p))
    if p == 0:
        return float(x == 0)
    if p == 1:
        return float(x == n)
    rel = 1 + 1e-7
    d = stats.binom.pmf(x, n, p)
    m = n * p
    if x == m:
        return 1.0
    if x < m:
        i = np.arange(math.ceil(m), n + 1)
        yy = int(np.sum(stats.binom.pmf(i, n, p) <= d * rel))
        out = stats.binom.cdf(x, n, p) + stats.binom.sf(n - yy, n, p)
    else:
        i = np.arange(0, math.floor(m) + 1)
        yy = int(np.sum(stats.binom.pmf(i, n, p) <= d * rel))
        out = stats.binom.cdf(yy - 1, n, p) + stats.binom.sf(x - 1, n, p)
    return float(min(1.0, out))


@vp.validate_params(
    {
        "x": ["sample", vp.Scalar()],
        "n": [None, vp.Scalar()],
        "data": [None, "data"],
        "success": vp.NoCheck("any label; compared with the values of x"),
        "p": "probability",
        "alternative": "alternative",
        "conf_level": "conf_level",
    }
)
def binom_test(
    x: Any,
    n: Any = None,
    *,
    data: Any = None,
    success: Any = None,
    p: float = 0.5,
    alternative: str = "two-sided",
    conf_level: float = 0.95,
) -> Result:
    """Exact binomial test of a proportion with the Clopper-Pearson interval; R's ``binom.test``.

    Parameters
    ----------
    x : int, array-like or str
        Successes (with ``n``), 0/1 outcomes, or a column name of ``data``.
    n : int, optional
        Trials.
    data, success
        As for :func:`proportion`.
    p : float
        Null probability of success, in [0, 1].
    alternative : {"two-sided", "less", "greater"}
    conf_level : float

    Returns
    -------
    Result
        ``estimate`` (x/n), ``ci_low``/``ci_high`` (Clopper-Pearson), ``statistic`` (number of successes),
        ``df`` (number of trials, R's ``parameter``), ``pvalue``, ``null_value`` (p).

    Notes
    -----
    The two-sided p-value sums the probabilities of all outcomes whose probability is at most
    :math:`(1 + 10^{-7})\\,P(X = x)`, R's rule. Validated against R's ``binom.test``.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.binom_test(7, 20, p=0.2)
    >>> round(r.pvalue, 5)
    0.09822
    """
    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    p0 = check_probability(p, "p")
    c = one_count(x, n, data=data, success=success)
    lo, hi = clopper_pearson_limits(c.x, c.n, conf_level, alternative)
    return Result(
        method="Exact binomial test",
        estimand=f"probability of success ({c.label})",
        estimate=c.x / c.n,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=float(c.x),
        statistic_name="number of successes",
        df=float(c.n),
        pvalue=binom_pvalue(c.x, c.n, p0, alternative),
        alternative=alternative,
        null_value=p0,
        n=c.n,
        details={"successes": c.x, "trials": c.n},
        provenance=Provenance.current(data_fingerprint=c.fingerprint),
    )


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "success": vp.NoCheck("any label; compared with the values of x"),
        "correct": "boolean",
    }
)
def mcnemar_test(x: Any, y: Any = None, *, data: Any = None, success: Any = None, correct: bool = True) -> Result:
    """McNemar's test of marginal homogeneity for paired binary outcomes; R's ``mcnemar.test``.

    Parameters
    ----------
    x : array-like or str
        A 2 x 2 table of paired outcomes, or the first measurement's 0/1 outcomes (or column name).
    y : array-like or str, optional
        The second measurement's 0/1 outcomes (or column name), paired with ``x``.
    data : DataFrame or Dataset, optional
    success : scalar, optional
        The value counting as a success.
    correct : bool
        Continuity correction (R's default, True); R applies it only when the discordant counts differ.

    Returns
    -------
    Result
        ``statistic`` (McNemar's chi-squared), ``df`` 1, ``pvalue``; ``estimate`` is the difference of the
        paired proportions (b - c) / N and ``effect_sizes`` holds the conditional odds ratio b / c;
        ``details["table"]``; a diagnostic when there are few discordant pairs (use an exact binomial test on them).

    Notes
    -----
    With discordant counts b (x success, y failure) and c: :math:`X^2 = (|b - c| - 1)^2/(b + c)` corrected,
    :math:`(b - c)^2/(b + c)` uncorrected. Validated against R's ``mcnemar.test``.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.mcnemar_test([[794, 86], [150, 570]])
    >>> round(r.statistic, 3)
    16.818
    """
    from scipy import stats

    if not isinstance(correct, bool):
        raise ArgumentTypeError(f"`correct` must be True or False; got {correct!r}")
    table, fp = paired_table(x, y, data=data, success=success)
    b, c = float(table[0, 1]), float(table[1, 0])
    total = float(table.sum())
    if b + c == 0:
        raise DataError(
            "there are no discordant pairs (both off-diagonal counts are 0), so McNemar's statistic is undefined (R returns NaN)"
        )
    use_cc = correct and b != c
    stat = (abs(b - c) - 1) ** 2 / (b + c) if use_cc else (b - c) ** 2 / (b + c)
    diag = (
        Diagnostic(
            "discordant pairs",
            "warn",
            b + c,
            f"only {int(b + c)} discordant pairs: use binom_test({int(b)}, {int(b + c)}) for an exact test",
        )
        if b + c < 25
        else Diagnostic("discordant pairs", "ok", b + c, f"{int(b + c)} discordant pairs")
    )
    effects = (EffectSize("conditional odds ratio", b / c, method="ratio of discordant counts b / c"),) if c > 0 else ()
    return Result(
        method="McNemar's Chi-squared test" + (" with continuity correction" if use_cc else ""),
        estimand="difference of paired proportions (x minus y)",
        estimate=(b - c) / total,
        statistic=stat,
        statistic_name="McNemar's chi-squared",
        df=1.0,
        pvalue=float(stats.chi2.sf(stat, 1)),
        alternative="two-sided",
        n=int(total),
        effect_sizes=effects,
        diagnostics=(diag,),
        details={"table": table.astype(int).tolist()},
        provenance=Provenance.current(data_fingerprint=fp),
    )
