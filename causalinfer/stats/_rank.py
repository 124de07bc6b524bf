"""Rank tests: Mann-Whitney (Wilcoxon rank sum), Wilcoxon signed rank, Kruskal-Wallis and Brunner-Munzel.

The first two follow R's ``wilcox.test`` step by step, including the Hodges-Lehmann estimate and its exact or
asymptotic confidence interval (the asymptotic interval solves R's equation with R's own root finder).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _validation as vp
from .._validation import check_alternative, check_conf_level, check_real
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Diagnostic, EffectSize, Provenance, Result
from ._inputs import one_sample, two_samples
from ._ksamples import group_table, k_samples
from ._normal import t_crit, t_pvalue, z_pvalue, z_quantile, z_upper
from ._rankdist import psignrank, pwilcox, qsignrank, qwilcox, zeroin

_TOL_ROOT = 1e-12
_MAX_EXACT_MW = 50_000  # n_x * n_y above which exact=True is refused (the exact counts take seconds)
_MAX_EXACT_SR = 500


def _rank_ties(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (as R's ``rank``) and the sizes of the tie blocks."""
    order = np.argsort(a, kind="mergesort")
    s = a[order]
    idx = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1], [True])))
    counts = np.diff(idx)
    avg = idx[:-1] + (counts + 1) / 2
    ranks = np.empty(a.size)
    ranks[order] = np.repeat(avg, counts)
    return ranks, counts.astype(float)


def _rank(a: np.ndarray) -> np.ndarray:
    return _rank_ties(a)[0]


def _tie_sizes(r: np.ndarray) -> np.ndarray:
    _, counts = np.unique(r, return_counts=True)
    return counts.astype(float)


def _norm_p(z: float, alternative: str) -> float:
    return z_pvalue(z, alternative)


def _qnorm(p: float, upper: bool = False) -> float:
    return z_upper(p) if upper else z_quantile(p)


def _check_bool_or_none(value: Any, name: str) -> None:
    if value is not None and not isinstance(value, bool):
        raise ArgumentTypeError(f"`{name}` must be True, False or None; got {value!r}")


def _fisher_ci(r: float, se: float, conf_level: float, alternative: str) -> tuple[float, float]:
    z = math.atanh(min(max(r, -1 + 1e-15), 1 - 1e-15))
    if alternative == "two-sided":
        q = _qnorm((1 + conf_level) / 2)
        return math.tanh(z - q * se), math.tanh(z + q * se)
    q = _qnorm(conf_level)
    if alternative == "greater":
        return math.tanh(z - q * se), 1.0
    return -1.0, math.tanh(z + q * se)


def _tie_diagnostic(n_tied: int, exact_requested: bool, what: str = "ties") -> Diagnostic:
    if n_tied == 0:
        return Diagnostic(what, "ok", 0.0, f"no {what}: the exact distribution applies")
    msg = f"{n_tied} tied value(s); the normal approximation with tie correction is used"
    if exact_requested:
        return Diagnostic(
            what, "warn", float(n_tied), f"exact=True was requested but there are {n_tied} tied value(s): " + msg[msg.index(";") + 2 :]
        )
    return Diagnostic(what, "ok", float(n_tied), msg)


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "mu": vp.Interval("real"),
        "alternative": "alternative",
        "exact": [None, "boolean"],
        "correct": "boolean",
        "conf_level": "conf_level",
    }
)
def mann_whitney(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    mu: float = 0.0,
    alternative: str = "two-sided",
    exact: bool | None = None,
    correct: bool = True,
    conf_level: float = 0.95,
) -> Result:
    """Mann-Whitney U / Wilcoxon rank-sum test with the Hodges-Lehmann shift and its confidence interval.

    Parameters
    ----------
    x, y : array-like or str
        The two samples, or column names of ``data``. Use ``group`` instead of ``y`` for long-form data.
    data : DataFrame or Dataset, optional
    group : str, optional
        Column with two levels splitting ``x`` into the two samples.
    levels : (a, b), optional
        Order of the groups (default sorted, as R).
    mu : float
        Null location shift of ``x`` relative to ``y``.
    alternative : {"two-sided", "less", "greater"}
    exact : bool or None
        Exact distribution; default (None) exact when both samples have fewer than 50 values and there are no
        ties, as R. With ties the normal approximation is used whatever ``exact`` says. ``exact=True`` is
        refused above n_x * n_y = 50 000 (too slow; the normal approximation is accurate there).
    correct : bool
        Continuity correction in the normal approximation.
    conf_level : float

    Returns
    -------
    Result
        ``statistic`` (R's W: the Mann-Whitney U of ``x``), ``pvalue``, ``estimate`` (Hodges-Lehmann shift,
        R's "difference in location"), ``ci_low``/``ci_high``, ``effect_sizes``: ``rank_biserial``
        (:math:`2W/(n_x n_y) - 1`, positive when ``x`` tends to be larger) with a Fisher-z interval;
        ``details``: ``groups`` table, ``exact`` (bool), ``achieved_conf_level``; diagnostics: ties.

    Notes
    -----
    :math:`W = \\sum_{i} R(x_i - \\mu) - n_x(n_x+1)/2`. Normal approximation:
    :math:`z = (W - n_xn_y/2 - c)/\\sigma` with :math:`\\sigma^2 = \\frac{n_xn_y}{12}\\left(n_x+n_y+1 -
    \\frac{\\sum(t^3-t)}{(n_x+n_y)(n_x+n_y-1)}\\right)` and continuity correction :math:`c = \\pm 1/2`.
    Exact interval: order statistics of the :math:`n_xn_y` differences :math:`x_i - y_j` at ranks from
    ``qwilcox``; asymptotic interval and estimate: the roots in :math:`d` of :math:`z(d) = z_q` found with R's
    Brent root finder (tolerance 1e-12 here; R's default is 1e-4). The rank-biserial interval uses
    :math:`\\tanh(\\operatorname{atanh}(r) \\pm z_{1-\\alpha/2} s)` with
    :math:`s = \\sqrt{(n_x+n_y+1)/(3n_xn_y)}` (as the R package effectsize).
    Validated against R's ``wilcox.test(conf.int = TRUE, tol.root = 1e-12)`` (``tests/reference/rank.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    >>> r = ci.stats.mann_whitney(x, [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.07, 3.14])
    >>> r.method, r.statistic, round(r.pvalue, 4)
    ('Wilcoxon rank sum exact test', 50.0, 0.1996)
    >>> round(r.estimate, 3), round(r.ci_low, 3), round(r.ci_high, 3)
    (0.6, -0.378, 1.183)
    """
    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    mu = check_real(mu, "mu")
    _check_bool_or_none(exact, "exact")
    if not isinstance(correct, bool):
        raise ArgumentTypeError(f"`correct` must be True or False; got {correct!r}")
    s = two_samples(x, y, data=data, group=group, levels=levels)
    a, b = s.arrays
    nx, ny = a.size, b.size
    r = _rank(np.concatenate([a - mu, b]))
    w = float(r[:nx].sum() - nx * (nx + 1) / 2)
    if exact is None:
        use_exact = nx < 50 and ny < 50
    else:
        use_exact = exact
    ties = _tie_sizes(r)
    n_tied = int(ties[ties > 1].sum())
    details: dict[str, Any] = {"groups": group_table(s)}
    if ties.size == 1:
        raise DataError("all values are identical, so the rank-sum test and its interval are undefined")
    achieved = conf_level
    if use_exact and n_tied == 0 and nx * ny > _MAX_EXACT_MW:
        raise ArgumentError(
            f"`exact=True` with n_x * n_y = {nx * ny} would take too long (limit {_MAX_EXACT_MW}); use exact=False "
            "(the normal approximation is accurate at these sizes)"
        )
    if use_exact and n_tied == 0:
        method = "Wilcoxon rank sum exact test"
        pval, lo, hi, est, achieved = _rank_sum_exact(a, b, w, alternative=alternative, conf_level=conf_level)
        details["exact"] = True
    else:
        method = "Wilcoxon rank sum test" + (" with continuity correction" if correct else "")
        pval, lo, hi, est = _rank_sum_normal(a, b, w, ties, alternative=alternative, conf_level=conf_level, correct=correct)
        details["exact"] = False
    details["achieved_conf_level"] = achieved
    rb = 2 * w / (nx * ny) - 1
    rb_lo, rb_hi = _fisher_ci(rb, math.sqrt((nx + ny + 1) / (3 * nx * ny)), conf_level, alternative)
    es = EffectSize(
        "rank_biserial", rb, rb_lo, rb_hi, conf_level, "2U/(n_x n_y) - 1; Fisher z interval with se sqrt((n_x+n_y+1)/(3 n_x n_y))"
    )
    diags = [_tie_diagnostic(n_tied, exact is True)]
    if lo is None:
        diags.append(
            Diagnostic(
                "interval",
                "warn",
                None,
                "each sample is constant, so every shifted comparison is tied and no confidence interval of the shift can be "
                "computed (R's wilcox.test stops there with conf.int = TRUE); the estimate is the difference of the two values",
            )
        )
    elif achieved < conf_level:
        diags.append(
            Diagnostic(
                "conf_level",
                "warn",
                achieved,
                f"requested conf_level {conf_level} not achievable with these sample sizes; the interval has level {achieved:.3g}",
            )
        )
    resp = f" of {s.response}" if s.response else ""
    return Result(
        method=method,
        estimand=f"location shift{resp}: {s.names[0]} minus {s.names[1]} (Hodges-Lehmann)",
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        conf_level=achieved if lo is not None else None,
        statistic=w,
        statistic_name="W",
        pvalue=min(pval, 1.0),
        alternative=alternative,
        null_value=mu,
        n=nx + ny,
        effect_sizes=(es,),
        diagnostics=tuple(diags),
        details=details,
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )


def _rank_sum_exact(
    a: np.ndarray, b: np.ndarray, w: float, *, alternative: str, conf_level: float
) -> tuple[float, float | None, float | None, float, float]:
    """Exact p-value, interval for the shift (order statistics of the pairwise differences), estimate, achieved level."""
    nx, ny = a.size, b.size
    achieved = conf_level
    if alternative == "two-sided":
        p = pwilcox(w - 1, nx, ny, lower=False) if w > nx * ny / 2 else pwilcox(w, nx, ny)
        pval = min(2 * p, 1.0)
    elif alternative == "greater":
        pval = pwilcox(w - 1, nx, ny, lower=False)
    else:
        pval = pwilcox(w, nx, ny)
    alpha = 1 - conf_level
    diffs = np.sort(np.subtract.outer(a, b).ravel())
    if alternative == "two-sided":
        qu = qwilcox(alpha / 2, nx, ny) or 1
        ql = nx * ny - qu
        ach_alpha = 2 * pwilcox(qu - 1, nx, ny)
        lo, hi = float(diffs[qu - 1]), float(diffs[ql])
    else:
        qu = qwilcox(alpha, nx, ny) or 1
        ach_alpha = pwilcox(qu - 1, nx, ny)
        if alternative == "greater":
            lo, hi = float(diffs[qu - 1]), math.inf
        else:
            lo, hi = -math.inf, float(diffs[nx * ny - qu])
    if ach_alpha - alpha > alpha / 2:
        achieved = 1 - ach_alpha
    est = float(np.median(diffs))
    return pval, lo, hi, est, achieved


def _rank_sum_normal(
    a: np.ndarray, b: np.ndarray, w: float, ties: np.ndarray, *, alternative: str, conf_level: float, correct: bool
) -> tuple[float, float | None, float | None, float]:
    """Normal-approximation p-value and R's asymptotic interval and estimate for the shift (inverting the test)."""
    nx, ny = a.size, b.size
    z0 = w - nx * ny / 2
    n = nx + ny

    def sigma_of(tt: np.ndarray) -> float:
        return math.sqrt((nx * ny / 12) * ((n + 1) - float(np.sum(tt**3 - tt)) / (n * (n - 1))))

    corr = (math.copysign(0.5, z0) if z0 != 0 else 0.0) if alternative == "two-sided" else (0.5 if alternative == "greater" else -0.5)
    if not correct:
        corr = 0.0
    z = (z0 - corr) / sigma_of(ties)
    pval = _norm_p(z, alternative)

    def wfun(d: float, use_corr: bool) -> float:
        dr, tt = _rank_ties(np.concatenate([a - d, b]))
        dz = float(dr[:nx].sum() - nx * (nx + 1) / 2 - nx * ny / 2)
        c = 0.0
        if use_corr:
            c = (math.copysign(0.5, dz) if dz != 0 else 0.0) if alternative == "two-sided" else (0.5 if alternative == "greater" else -0.5)
        sig = sigma_of(tt)
        if sig == 0:
            raise DataError(
                "each sample is constant, so every shifted comparison is tied and the confidence interval of the shift is undefined"
            )
        return (dz - c) / sig

    alpha = 1 - conf_level
    mumin = float(a.min() - b.max())
    mumax = float(a.max() - b.min())
    try:
        w_lo, w_hi = wfun(mumin, correct), wfun(mumax, correct)
    except DataError:
        # both samples constant: R reports W and its p-value and stops only when asked for the interval
        return pval, None, None, float(np.median(np.subtract.outer(a, b)))

    def root(zq: float) -> float:
        fl = w_lo - zq
        if fl <= 0:
            return mumin
        fu = w_hi - zq
        if fu >= 0:
            return mumax
        return zeroin(lambda d: wfun(d, correct) - zq, mumin, mumax, fl, fu, _TOL_ROOT)

    if alternative == "two-sided":
        lo, hi = root(_qnorm(alpha / 2, upper=True)), root(_qnorm(alpha / 2))
    elif alternative == "greater":
        lo, hi = root(_qnorm(alpha, upper=True)), math.inf
    else:
        lo, hi = -math.inf, root(_qnorm(alpha))
    e_lo, e_hi = wfun(mumin, False), wfun(mumax, False)
    est = zeroin(lambda d: wfun(d, False), mumin, mumax, e_lo, e_hi, _TOL_ROOT)
    return pval, lo, hi, est


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "mu": vp.Interval("real"),
        "alternative": "alternative",
        "exact": [None, "boolean"],
        "correct": "boolean",
        "conf_level": "conf_level",
    }
)
def wilcoxon(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    mu: float = 0.0,
    alternative: str = "two-sided",
    exact: bool | None = None,
    correct: bool = True,
    conf_level: float = 0.95,
) -> Result:
    """Wilcoxon signed-rank test (one sample, or paired when ``y`` is given) with the pseudomedian and its CI.

    Parameters
    ----------
    x : array-like or str
        The sample, or the first of the paired samples (or column names of ``data``).
    y : array-like or str, optional
        Second paired sample; the test is then on ``x - y``.
    data : DataFrame or Dataset, optional
    mu : float
        Null value of the (pseudo)median of ``x`` (or of ``x - y``).
    alternative : {"two-sided", "less", "greater"}
    exact : bool or None
        Exact distribution; default exact when fewer than 50 non-zero differences, no ties and no zeros (R).
        ``exact=True`` is refused above 500 non-zero differences.
    correct : bool
        Continuity correction in the normal approximation.
    conf_level : float

    Returns
    -------
    Result
        ``statistic`` (V: sum of ranks of positive differences), ``pvalue``, ``estimate`` (pseudomedian: the
        Hodges-Lehmann estimate, median of the Walsh averages in the exact case), ``ci_low``/``ci_high``;
        ``effect_sizes``: ``rank_biserial`` (matched-pairs, :math:`2V/(n(n+1)/2) - 1` over non-zero
        differences) with a Fisher-z interval; ``details``: ``n_zero`` (zeros dropped), ``exact``,
        ``achieved_conf_level``; diagnostics: ties and zeros. When every non-zero difference is tied, V and
        its p-value are reported as R reports them, without a confidence interval (R stops there when asked for
        one) and with a diagnostic saying so.

    Raises
    ------
    DataError
        When every difference equals ``mu``: R returns V = 0 with p = NA there.

    Notes
    -----
    Zeros (``x - mu == 0``) are dropped, as R does. Normal approximation
    :math:`z = (V - n(n+1)/4 - c)/\\sqrt{n(n+1)(2n+1)/24 - \\sum(t^3-t)/48}`. Exact interval: Walsh averages at
    ranks from ``qsignrank``; asymptotic interval: R's equation solved with R's Brent root finder (tolerance 1e-12).
    The rank-biserial interval is :math:`\\tanh(\\operatorname{atanh}(r) \\pm z s)` with
    :math:`s = \\sqrt{(2n^3+3n^2+n)/6} / (n(n+1)/2)` (as the R package effectsize).
    Validated against R's ``wilcox.test(conf.int = TRUE, tol.root = 1e-12)`` (``tests/reference/rank.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    >>> y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    >>> r = ci.stats.wilcoxon(x, y, alternative="greater")
    >>> r.statistic, round(r.pvalue, 5)
    (40.0, 0.01953)
    """
    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    mu = check_real(mu, "mu")
    _check_bool_or_none(exact, "exact")
    if not isinstance(correct, bool):
        raise ArgumentTypeError(f"`correct` must be True or False; got {correct!r}")
    if y is None:
        s = one_sample(x, data=data)
        d_all = s.arrays[0]
        what = f"(pseudo)median of {s.names[0]}"
    else:
        s = two_samples(x, y, data=data, paired=True)
        d_all = s.arrays[0] - s.arrays[1]
        what = f"(pseudo)median of the differences {s.names[0]} - {s.names[1]}"
    xs = d_all - mu
    n_zero = int(np.sum(xs == 0))
    xs = xs[xs != 0]
    n = xs.size
    if n == 0:
        raise DataError(f"all differences from mu = {mu:g} are zero, so the signed-rank test is undefined")
    use_exact = (n < 50) if exact is None else exact
    r = _rank(np.abs(xs))
    v = float(r[xs > 0].sum())
    ties = _tie_sizes(r)
    n_tied = int(ties[ties > 1].sum())
    details: dict[str, Any] = {"n_zero": n_zero}
    lo: float | None
    hi: float | None
    achieved = conf_level
    if use_exact and n_tied == 0 and n_zero == 0 and n > _MAX_EXACT_SR:
        raise ArgumentError(
            f"`exact=True` with {n} non-zero differences would take too long (limit {_MAX_EXACT_SR}); use exact=False "
            "(the normal approximation is accurate at these sizes)"
        )
    if use_exact and n_tied == 0 and n_zero == 0:
        method = "Wilcoxon signed rank exact test"
        pval, lo, hi, est, achieved = _signed_rank_exact(xs + mu, v, alternative=alternative, conf_level=conf_level)
        details["exact"] = True
    else:
        method = "Wilcoxon signed rank test" + (" with continuity correction" if correct else "")
        pval, lo, hi, est, achieved = _signed_rank_normal(
            xs + mu, v, ties, alternative=alternative, conf_level=conf_level, correct=correct, details=details
        )
        details["exact"] = False
    details["achieved_conf_level"] = achieved
    return _signed_rank_result(
        s,
        d_all,
        what,
        method=method,
        v=v,
        n=n,
        n_zero=n_zero,
        n_tied=n_tied,
        pval=pval,
        est=est,
        lo=lo,
        hi=hi,
        achieved=achieved,
        conf_level=conf_level,
        alternative=alternative,
        mu=mu,
        exact=exact,
        details=details,
    )


def _signed_rank_normal(
    xx: np.ndarray, v: float, ties: np.ndarray, *, alternative: str, conf_level: float, correct: bool, details: dict[str, Any]
) -> tuple[float, float | None, float | None, float, float]:
    """Normal-approximation p-value (tie-corrected), and R's asymptotic interval and estimate of the pseudomedian."""
    n = xx.size
    achieved = conf_level
    z0 = v - n * (n + 1) / 4
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - float(np.sum(ties**3 - ties)) / 48)
    corr = 0.0
    if correct:
        corr = (math.copysign(0.5, z0) if z0 != 0 else 0.0) if alternative == "two-sided" else (0.5 if alternative == "greater" else -0.5)
    pval = _norm_p((z0 - corr) / sigma, alternative)

    def wfun(dd: float, use_corr: bool) -> float:
        xd = xx - dd
        xd = xd[xd != 0]
        nx = xd.size
        dr, tt = _rank_ties(np.abs(xd))
        zd = float(dr[xd > 0].sum()) - nx * (nx + 1) / 4
        sig = math.sqrt(nx * (nx + 1) * (2 * nx + 1) / 24 - float(np.sum(tt**3 - tt)) / 48)
        c = 0.0
        if use_corr:
            c = (math.copysign(0.5, zd) if zd != 0 else 0.0) if alternative == "two-sided" else (0.5 if alternative == "greater" else -0.5)
        return (zd - c) / sig if sig > 0 else math.nan

    w_lo = wfun(float(xx.min()), correct)
    w_hi = wfun(float(xx.max()), correct) if math.isfinite(w_lo) else math.nan
    lo: float | None
    hi: float | None
    if math.isfinite(w_lo) and math.isfinite(w_hi):
        lo, hi, est, achieved = _signed_rank_normal_interval(xx, wfun, alternative=alternative, conf_level=conf_level, correct=correct)
    else:
        # R computes V and its p-value here, and stops only when asked for the interval ("cannot compute
        # confidence interval when all observations are zero or tied"): report the test, leave the interval out
        lo = hi = None
        est = float(np.median(xx))
        details["interval_note"] = (
            "all non-zero differences are tied, so no confidence interval of the pseudomedian can be computed "
            "(R's wilcox.test stops there with conf.int = TRUE); the estimate is their common value"
        )
    return pval, lo, hi, est, achieved


def _signed_rank_exact(xx: np.ndarray, v: float, *, alternative: str, conf_level: float) -> tuple[float, float, float, float, float]:
    """Exact p-value, Walsh-average interval and estimate of the pseudomedian, and the achieved level."""
    n = xx.size
    alpha = 1 - conf_level
    achieved = conf_level
    if alternative == "two-sided":
        p = psignrank(v - 1, n, lower=False) if v > n * (n + 1) / 4 else psignrank(v, n)
        pval = min(2 * p, 1.0)
    elif alternative == "greater":
        pval = psignrank(v - 1, n, lower=False)
    else:
        pval = psignrank(v, n)
    walsh = np.add.outer(xx, xx)[np.triu_indices(n)]
    walsh = np.sort(walsh) / 2
    m = n * (n + 1) // 2
    if alternative == "two-sided":
        qu = qsignrank(alpha / 2, n) or 1
        ql = m - qu
        ach_alpha = 2 * psignrank(qu - 1, n)
        lo, hi = float(walsh[qu - 1]), float(walsh[ql])
    else:
        qu = qsignrank(alpha, n) or 1
        ach_alpha = psignrank(qu - 1, n)
        if alternative == "greater":
            lo, hi = float(walsh[qu - 1]), math.inf
        else:
            lo, hi = -math.inf, float(walsh[m - qu])
    if ach_alpha - alpha > alpha / 2:
        achieved = 1 - float(f"{ach_alpha:.2g}")
    est = float(np.median(walsh))
    return pval, lo, hi, est, achieved


def _signed_rank_normal_interval(
    xx: np.ndarray, wfun: Any, *, alternative: str, conf_level: float, correct: bool
) -> tuple[float, float, float, float]:
    """R's asymptotic interval for the pseudomedian (inverting the corrected normal approximation) and the estimate."""
    alpha = 1 - conf_level
    achieved = conf_level
    mumin, mumax = float(xx.min()), float(xx.max())
    w_lo = wfun(mumin, correct)
    w_hi = wfun(mumax, correct)

    def root(zq: float) -> float:
        return zeroin(lambda dd: wfun(dd, correct) - zq, mumin, mumax, w_lo - zq, w_hi - zq, _TOL_ROOT)

    a_ = alpha
    if alternative == "two-sided":
        while w_lo - _qnorm(a_ / 2, upper=True) < 0 or w_hi - _qnorm(a_ / 2) > 0:
            a_ *= 2
            if a_ >= 1:
                break
    elif alternative == "greater":
        while w_lo - _qnorm(a_, upper=True) < 0:
            a_ *= 2
            if a_ >= 1:
                break
    else:
        while w_hi - _qnorm(a_ / 2) > 0:
            a_ *= 2
            if a_ >= 1:
                break
    if a_ >= 1 or 1 - conf_level < a_ * 0.75:
        achieved = 1 - min(1.0, a_)
    med = float(np.median(xx))
    if alternative == "two-sided":
        lo, hi = (root(_qnorm(a_ / 2, upper=True)), root(_qnorm(a_ / 2))) if a_ < 1 else (med, med)
    elif alternative == "greater":
        lo, hi = (root(_qnorm(a_, upper=True)) if a_ < 1 else med), math.inf
    else:
        lo, hi = -math.inf, (root(_qnorm(a_)) if a_ < 1 else med)
    e_lo, e_hi = wfun(mumin, False), wfun(mumax, False)
    est = zeroin(lambda dd: wfun(dd, False), mumin, mumax, e_lo, e_hi, _TOL_ROOT)
    return lo, hi, est, achieved


def _signed_rank_result(
    s: Any,
    d_all: np.ndarray,
    what: str,
    *,
    method: str,
    v: float,
    n: int,
    n_zero: int,
    n_tied: int,
    pval: float,
    est: float,
    lo: float | None,
    hi: float | None,
    achieved: float,
    conf_level: float,
    alternative: str,
    mu: float,
    exact: bool | None,
    details: dict[str, Any],
) -> Result:
    m_total = n * (n + 1) / 2
    rb = 2 * v / m_total - 1
    se = math.sqrt((2 * n**3 + 3 * n**2 + n) / 6) / m_total
    rb_lo, rb_hi = _fisher_ci(rb, se, conf_level, alternative)
    es = EffectSize(
        "rank_biserial",
        rb,
        rb_lo,
        rb_hi,
        conf_level,
        "matched-pairs 2V/(n(n+1)/2) - 1; Fisher z interval with se sqrt((2n^3+3n^2+n)/6)/(n(n+1)/2)",
    )
    diags = [_tie_diagnostic(n_tied, exact is True)]
    if n_zero:
        diags.append(
            Diagnostic(
                "zeros",
                "warn" if exact is True else "ok",
                float(n_zero),
                f"{n_zero} difference(s) equal to mu were dropped; the normal approximation is used",
            )
        )
    if lo is None:
        diags.append(Diagnostic("interval", "warn", None, details["interval_note"]))
    elif achieved < conf_level:
        diags.append(
            Diagnostic(
                "conf_level", "warn", achieved, f"requested conf_level {conf_level} not achievable; the interval has level {achieved:.3g}"
            )
        )
    return Result(
        method=method,
        estimand=what,
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        conf_level=achieved if lo is not None else None,
        statistic=v,
        statistic_name="V",
        pvalue=min(pval, 1.0),
        alternative=alternative,
        null_value=mu,
        n=int(d_all.size),
        effect_sizes=(es,),
        diagnostics=tuple(diags),
        details=details,
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )


@vp.validate_params(
    {
        "samples": ["sample", "mapping"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
    }
)
def kruskal_wallis(*samples: Any, data: Any = None, group: str | None = None, levels: Sequence[Any] | None = None) -> Result:
    """Kruskal-Wallis rank-sum test of equal distributions in k groups (R's ``kruskal.test``).

    Parameters
    ----------
    *samples : array-like or str
        Two or more samples, column names of ``data``, or (with ``group``) one response column.
    data : DataFrame or Dataset, optional
    group : str, optional
        Column of ``data`` whose levels define the groups (long form).
    levels : sequence, optional
        Order (and selection) of the groups.

    Returns
    -------
    Result
        ``statistic`` (Kruskal-Wallis chi-squared H, tie-corrected), ``df`` (k - 1), ``pvalue`` (chi-squared
        approximation), ``effect_sizes``: ``epsilon_squared`` :math:`H/(N-1)` (point estimate);
        ``details["groups"]`` (n, mean, sd, median, mean_rank); diagnostics: ties and smallest group size.

    Notes
    -----
    :math:`H = \\left[\\frac{12}{N(N+1)}\\sum R_i^2/n_i - 3(N+1)\\right] / \\left[1 - \\sum(t^3-t)/(N^3-N)\\right]`.
    Validated against R's ``kruskal.test`` (``tests/reference/rank.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.kruskal_wallis([2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4], [2.8, 3.4, 3.7, 2.2, 2.0])
    >>> round(r.statistic, 4), r.df
    (0.7714, 2.0)
    """
    s = k_samples(samples, data=data, group=group, levels=levels)
    arrays = s.arrays
    k = len(arrays)
    allx = np.concatenate(arrays)
    n = allx.size
    r = _rank(allx)
    ties = _tie_sizes(r)
    denom = 1 - float(np.sum(ties**3 - ties)) / (n**3 - n)
    if denom <= 0:
        raise DataError("all values are equal, so the Kruskal-Wallis statistic is undefined")
    bounds = np.cumsum([0] + [a.size for a in arrays])
    rsum = [float(r[bounds[i] : bounds[i + 1]].sum()) for i in range(k)]
    h = (12 * sum(rs**2 / a.size for rs, a in zip(rsum, arrays, strict=True)) / (n * (n + 1)) - 3 * (n + 1)) / denom
    from scipy import stats

    pval = float(stats.chi2.sf(h, k - 1))
    tab = group_table(s)
    tab["mean_rank"] = [rs / a.size for rs, a in zip(rsum, arrays, strict=True)]
    n_tied = int(ties[ties > 1].sum())
    diags = [
        Diagnostic("ties", "ok", float(n_tied), f"{n_tied} tied value(s); H includes the tie correction" if n_tied else "no ties"),
    ]
    nmin = min(a.size for a in arrays)
    if nmin < 5:
        diags.append(
            Diagnostic(
                "group size",
                "warn",
                float(nmin),
                f"smallest group has {nmin} observation(s); the chi-squared approximation may be poor below 5 per group",
            )
        )
    else:
        diags.append(Diagnostic("group size", "ok", float(nmin), f"smallest group has {nmin} observations"))
    resp = f" of {s.response}" if s.response else ""
    return Result(
        method="Kruskal-Wallis rank sum test",
        estimand=f"equality of the distributions{resp} in {k} groups",
        statistic=h,
        statistic_name="Kruskal-Wallis chi-squared",
        df=float(k - 1),
        pvalue=min(pval, 1.0),
        n=n,
        effect_sizes=(EffectSize("epsilon_squared", h / (n - 1), method="rank epsilon squared H/(N-1)"),),
        diagnostics=tuple(diags),
        details={"groups": tab},
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "alternative": "alternative",
        "conf_level": "conf_level",
    }
)
def brunner_munzel(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    alternative: str = "two-sided",
    conf_level: float = 0.95,
) -> Result:
    """Brunner-Munzel test of stochastic equality, with the estimated probability of superiority and its CI.

    Parameters
    ----------
    x, y : array-like or str
        The two samples (or column names of ``data``); or use ``group`` for long-form data.
    data : DataFrame or Dataset, optional
    group : str, optional
    levels : (a, b), optional
    alternative : {"two-sided", "less", "greater"}
        "greater": ``x`` tends to be larger than ``y`` (the probability of superiority exceeds 1/2).
    conf_level : float

    Returns
    -------
    Result
        ``estimate``: :math:`\\hat p = P(X > Y) + \\tfrac12 P(X = Y)` (null value 0.5), ``std_error``,
        ``ci_low``/``ci_high`` (t interval on the Welch-Satterthwaite df, clipped to [0, 1]), ``statistic``
        (Brunner-Munzel W, positive when ``x`` tends to be larger), ``df``, ``pvalue``.

    Notes
    -----
    With overall ranks :math:`R`, within-sample ranks :math:`R^{(x)}, R^{(y)}`,
    :math:`S_x^2 = \\sum (R_{x_i} - R^{(x)}_i - \\bar R_x + (n_x+1)/2)^2/(n_x-1)` (and :math:`S_y^2` likewise),
    :math:`se = \\sqrt{S_x^2/(n_x n_y^2) + S_y^2/(n_y n_x^2)}`, :math:`W = (\\hat p - 1/2)/se` and
    :math:`df = (n_xS_x^2 + n_yS_y^2)^2 / [(n_xS_x^2)^2/(n_x-1) + (n_yS_y^2)^2/(n_y-1)]`.
    Note that scipy's ``brunnermunzel`` reports :math:`-W` (its estimand is :math:`P(X<Y) + \\tfrac12P(X=Y)`).
    Validated against scipy.stats.brunnermunzel and a direct R implementation (``tests/reference/rank.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.brunner_munzel([1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 2, 4, 1, 1], [3, 3, 4, 3, 1, 2, 3, 1, 1, 5, 4])
    >>> round(r.statistic, 4), round(r.pvalue, 4)
    (-3.1375, 0.0058)
    """
    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    s = two_samples(x, y, data=data, group=group, levels=levels)
    a, b = s.arrays
    nx, ny = a.size, b.size
    if nx < 2 or ny < 2:
        raise DataError(f"the Brunner-Munzel test needs at least 2 observations per sample; got {nx} and {ny}")
    rc = _rank(np.concatenate([a, b]))
    rcx, rcy = rc[:nx], rc[nx:]
    rx, ry = _rank(a), _rank(b)
    mx, my = float(rcx.mean()), float(rcy.mean())
    sx = float(np.sum((rcx - rx - mx + (nx + 1) / 2) ** 2)) / (nx - 1)
    sy = float(np.sum((rcy - ry - my + (ny + 1) / 2) ** 2)) / (ny - 1)
    if sx == 0 and sy == 0:
        raise DataError(
            "the samples do not overlap (or are constant), so the Brunner-Munzel variance estimate is zero and the test is undefined; "
            "use mann_whitney (exact) instead"
        )
    p_hat = (mx - (nx + 1) / 2) / ny
    se = math.sqrt(sx / (nx * ny**2) + sy / (ny * nx**2))
    stat = (p_hat - 0.5) / se
    df = (nx * sx + ny * sy) ** 2 / ((nx * sx) ** 2 / (nx - 1) + (ny * sy) ** 2 / (ny - 1))

    if alternative == "greater":
        pval = t_pvalue(stat, df, "greater")
        q = t_crit(conf_level, df, "greater")
        lo, hi = max(0.0, p_hat - q * se), 1.0
    elif alternative == "less":
        pval = t_pvalue(stat, df, "less")
        q = t_crit(conf_level, df, "less")
        lo, hi = 0.0, min(1.0, p_hat + q * se)
    else:
        pval = t_pvalue(stat, df)
        q = t_crit(conf_level, df)
        lo, hi = max(0.0, p_hat - q * se), min(1.0, p_hat + q * se)
    diags = []
    if min(nx, ny) < 10:
        diags.append(
            Diagnostic(
                "sample size",
                "warn",
                float(min(nx, ny)),
                "fewer than 10 observations in a sample: the t approximation may be liberal; consider a permutation test",
            )
        )
    else:
        diags.append(Diagnostic("sample size", "ok", float(min(nx, ny)), "at least 10 observations per sample"))
    resp = f" of {s.response}" if s.response else ""
    return Result(
        method="Brunner-Munzel Test",
        estimand=f"P({s.names[0]} > {s.names[1]}) + 0.5 P(equal){resp}",
        estimate=p_hat,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="W",
        df=df,
        pvalue=min(pval, 1.0),
        alternative=alternative,
        null_value=0.5,
        n=nx + ny,
        diagnostics=tuple(diags),
        details={"groups": group_table(s)},
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )
