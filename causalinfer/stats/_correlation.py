"""Correlation coefficients with tests and intervals: Pearson, Spearman and Kendall (R's ``cor.test``)."""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np

from .. import _validation as vp
from .._validation import check_alternative, check_choice, check_conf_level
from ..exceptions import ArgumentTypeError, DataError
from ..results import Diagnostic, Provenance, Result
from ._inputs import two_samples
from ._normal import z_crit, z_pvalue

CORRELATION_METHODS = ("pearson", "spearman", "kendall")

# Edgeworth series coefficients of Best and Roberts (1975), Algorithm AS 89.
_AS89 = (0.2274, 0.2531, 0.1745, 0.0758, 0.1033, 0.3932, 0.0879, 0.0151, 0.0072, 0.0831, 0.0131, 4.6e-4)
_EXACT_RHO_MAX_N = 9


@functools.lru_cache(maxsize=16)
def _spearman_null_s(n: int) -> np.ndarray:
    """Sorted values of S = sum (i - pi(i))^2 over all n! permutations (small n only)."""
    idx = np.arange(n)
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int16)
    s = ((perms - idx) ** 2).sum(axis=1).astype(np.int64)
    return np.sort(s)


def spearman_tail(q: float, n: int, *, lower: bool) -> float:
    """``P(S < q)`` (lower) or ``P(S >= q)`` for Spearman's S = (n^3 - n)(1 - rho)/6 under independence.

    Exact enumeration for n <= 9, otherwise the Edgeworth series of Algorithm AS 89, as R's ``cor.test``.
    """
    from scipy import stats

    base = 0.0 if lower else 1.0
    if n <= 1 or q <= 0:
        return base
    n3 = n * (n * n - 1) / 3
    if q > n3:
        return 1 - base
    if n <= _EXACT_RHO_MAX_N:
        s = _spearman_null_s(n)
        ge = s.size - int(np.searchsorted(s, q, side="left"))
        return (s.size - ge) / s.size if lower else ge / s.size
    c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12 = _AS89
    y = float(n)
    b = 1 / y
    x = (6 * (q - 1) * b / (y * y - 1) - 1) * math.sqrt(y - 1)
    y = x * x
    u = (
        x
        * b
        * (c1 + b * (c2 + c3 * b) + y * (-c4 + b * (c5 + c6 * b) - y * b * (c7 + c8 * b - y * (c9 - c10 * b + y * b * (c11 - c12 * y)))))
    )
    y = u / math.exp(y / 2)
    pv = (-y if lower else y) + float(stats.norm.cdf(x) if lower else stats.norm.sf(x))
    return min(1.0, max(0.0, pv))


@functools.lru_cache(maxsize=64)
def _kendall_counts(n: int) -> np.ndarray:
    """Probability that a random permutation of n items has k inversions, k = 0 .. n(n-1)/2.

    Built from the Mahonian recursion, normalised at each step so that large n does not overflow.
    """
    counts = np.array([1.0])
    for m in range(2, n + 1):
        new = np.zeros(counts.size + m - 1)
        for j in range(m):
            new[j : j + counts.size] += counts
        counts = new / m
    return counts


def kendall_cdf(q: float, n: int) -> float:
    """``P(T <= q)`` for T, the number of concordant pairs among n untied pairs, under independence."""
    counts = _kendall_counts(n)
    if q < 0:
        return 0.0
    k = math.floor(q)
    if k >= counts.size - 1:
        return 1.0
    return float(min(1.0, counts[: k + 1].sum()))


def _ranks(a: np.ndarray) -> np.ndarray:
    from scipy import stats

    return np.asarray(stats.rankdata(a), dtype=float)


def _tie_sizes(a: np.ndarray) -> np.ndarray:
    _, counts = np.unique(a, return_counts=True)
    return counts[counts > 1].astype(float)


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "method": vp.Options(CORRELATION_METHODS),
        "alternative": "alternative",
        "conf_level": "conf_level",
        "exact": [None, "boolean"],
        "continuity": "boolean",
    }
)
def correlation(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    method: str = "pearson",
    alternative: str = "two-sided",
    conf_level: float = 0.95,
    exact: bool | None = None,
    continuity: bool = False,
) -> Result:
    """Correlation coefficient with a test of zero correlation and a confidence interval; R's ``cor.test``.

    Parameters
    ----------
    x, y : array-like or str
        Paired samples of equal length, or column names of ``data``.
    data : DataFrame or Dataset, optional
    method : {"pearson", "spearman", "kendall"}
    alternative : {"two-sided", "less", "greater"}
    conf_level : float
    exact : bool, optional
        Exact p-value for Spearman (default True; R's AS 89 algorithm: enumeration for n <= 9, an Edgeworth series
        up to n = 1290) and Kendall (default when n < 50). Ignored with ties, as in R.
    continuity : bool
        Continuity correction for the large-sample Spearman and Kendall p-values (R's ``continuity``).

    Returns
    -------
    Result
        ``estimate`` (r, rho or tau), ``ci_low``/``ci_high``, ``std_error`` (of the Fisher z), ``statistic``
        (Pearson: t; Spearman: S; Kendall: T when exact, otherwise z), ``df`` (Pearson), ``pvalue``,
        ``null_value`` 0, ``n``; diagnostics: Shapiro-Wilk normality of each margin (Pearson) or ties (rank methods).

    Notes
    -----
    Pearson: :math:`t = r\\sqrt{n-2}/\\sqrt{1-r^2}` on n - 2 df; interval :math:`\\tanh(\\operatorname{atanh} r \\pm
    z/\\sqrt{n-3})`, exactly as ``cor.test`` (n >= 4). Spearman and Kendall p-values follow ``cor.test``. Their
    intervals are Fisher-z intervals with the Bonett and Wright (2000) standard errors:
    :math:`\\sqrt{(1 + \\rho^2/2)/(n-3)}` for Spearman and :math:`\\sqrt{0.437/(n-4)}` for Kendall (the latter from
    Fieller, Hartley and Pearson, 1957); they need n >= 4 (Spearman) and n >= 5 (Kendall).
    Validated against R's ``cor.test`` and hand computations of the intervals.

    Examples
    --------
    >>> import numpy as np, causalinfer as ci
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=30); b = a + rng.normal(size=30)
    >>> r = ci.stats.correlation(a, b)
    >>> round(r.estimate, 3), round(r.ci_low, 3), round(r.ci_high, 3)
    (0.491, 0.159, 0.723)
    """
    from scipy import stats

    method = check_choice(method, "method", CORRELATION_METHODS)
    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    if exact is not None and not isinstance(exact, bool):
        raise ArgumentTypeError(f"`exact` must be True, False or None; got {exact!r}")
    if not isinstance(continuity, bool):
        raise ArgumentTypeError(f"`continuity` must be True or False; got {continuity!r}")
    if y is None:
        raise DataError("a correlation needs two paired samples: pass `y` (or two column names with `data`)")
    s = two_samples(x, y, data=data, paired=True, min_size=1)
    a, b = s.arrays
    n = a.size
    need = 3 if method == "pearson" else 2
    if n < need:
        raise DataError(f"not enough observations (n = {n}) for a {method} correlation; need at least {need}")
    for arr, nm in ((a, s.names[0]), (b, s.names[1])):
        if np.ptp(arr) == 0:
            raise DataError(f"`{nm}` is constant (all values equal {arr[0]:g}), so the correlation is undefined")
    diags: list[Diagnostic] = []
    df: float | None = None
    ties = min(np.unique(a).size, np.unique(b).size) < n
    if method == "pearson":
        r = float(np.corrcoef(a, b)[0, 1])
        r = max(-1.0, min(1.0, r))
        df = float(n - 2)
        stat = math.sqrt(df) * r / math.sqrt(1 - r * r) if abs(r) < 1 else math.copysign(math.inf, r)
        if alternative == "less":
            p = float(stats.t.cdf(stat, df))
        elif alternative == "greater":
            p = float(stats.t.sf(stat, df))
        else:
            p = float(min(1.0, 2 * min(stats.t.cdf(stat, df), stats.t.sf(stat, df))))
        se = 1 / math.sqrt(n - 3) if n > 3 else None
        name, stat_name = "Pearson's product-moment correlation", "t"
        ci_method = "Fisher z"
    elif method == "spearman":
        ra, rb = _ranks(a), _ranks(b)
        r = float(np.corrcoef(ra, rb)[0, 1])
        r = max(-1.0, min(1.0, r))
        q = (n**3 - n) * (1 - r) / 6
        stat = q
        use_exact = (True if exact is None else exact) and not ties
        half = (n**3 - n) / 6

        def pspear(qq: float, lower: bool) -> float:
            if n <= 1290 and use_exact:
                return spearman_tail(round(qq) + 2 * lower, n, lower=lower)
            den = half + (1 if continuity else 0)
            rr = 1 - qq / den
            tt = rr / math.sqrt((1 - rr * rr) / (n - 2)) if abs(rr) < 1 else math.copysign(math.inf, rr)
            return float(stats.t.sf(tt, n - 2) if lower else stats.t.cdf(tt, n - 2))

        if alternative == "two-sided":
            p = min(1.0, 2 * (pspear(q, False) if q > half else pspear(q, True)))
        elif alternative == "greater":
            p = pspear(q, True)
        else:
            p = pspear(q, False)
        se = math.sqrt((1 + r * r / 2) / (n - 3)) if n > 3 else None
        name, stat_name = "Spearman's rank correlation rho", "S"
        ci_method = "Fisher z with the Bonett-Wright standard error"
    else:
        r = float(stats.kendalltau(a, b, variant="b").statistic)
        use_exact = (n < 50 if exact is None else exact) and not ties
        if use_exact:
            q = round((r + 1) * n * (n - 1) / 4)
            stat, stat_name = float(q), "T"
            if alternative == "two-sided":
                pk = 1 - kendall_cdf(q - 1, n) if q > n * (n - 1) / 4 else kendall_cdf(q, n)
                p = min(1.0, 2 * pk)
            elif alternative == "greater":
                p = 1 - kendall_cdf(q - 1, n)
            else:
                p = kendall_cdf(q, n)
        else:
            xt, yt = _tie_sizes(a), _tie_sizes(b)
            t0 = n * (n - 1) / 2
            t1 = float(np.sum(xt * (xt - 1))) / 2
            t2 = float(np.sum(yt * (yt - 1))) / 2
            sk = r * math.sqrt((t0 - t1) * (t0 - t2))
            v0 = n * (n - 1) * (2 * n + 5)
            vt = float(np.sum(xt * (xt - 1) * (2 * xt + 5)))
            vu = float(np.sum(yt * (yt - 1) * (2 * yt + 5)))
            v1 = float(np.sum(xt * (xt - 1))) * float(np.sum(yt * (yt - 1)))
            v2 = float(np.sum(xt * (xt - 1) * (xt - 2))) * float(np.sum(yt * (yt - 1) * (yt - 2)))
            var_s = (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1)) + v2 / (9 * n * (n - 1) * (n - 2))
            if continuity:
                sk = math.copysign(abs(sk) - 1, sk) if sk != 0 else 0.0
            stat, stat_name = sk / math.sqrt(var_s), "z"
            p = z_pvalue(stat, alternative)
        se = math.sqrt(0.437 / (n - 4)) if n > 4 else None
        name = "Kendall's rank correlation tau"
        ci_method = "Fisher z with the Fieller-Hartley-Pearson standard error"
    if se is not None and abs(r) < 1:
        z = z_crit(conf_level, alternative)
        zr = math.atanh(r)
        lo = -1.0 if alternative == "less" else math.tanh(zr - z * se)
        hi = 1.0 if alternative == "greater" else math.tanh(zr + z * se)
    elif se is not None:
        lo, hi = r, r
    else:
        lo = hi = None  # type: ignore[assignment]
        diags.append(Diagnostic("interval", "warn", float(n), f"n = {n} is too small for a Fisher-z interval; no interval is given"))
    if method == "pearson":
        diags.extend(_marginal_normality(arr, nm) for arr, nm in ((a, s.names[0]), (b, s.names[1])))
    else:
        if ties:
            diags.append(
                Diagnostic(
                    "ties",
                    "warn",
                    None,
                    "the data have ties, so the p-value uses the large-sample approximation (as R does), not the exact distribution",
                )
            )
        else:
            diags.append(Diagnostic("ties", "ok", None, "no ties"))
    return Result(
        method=name,
        estimand=f"{method.capitalize()} correlation between {s.names[0]} and {s.names[1]}",
        estimate=r,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level if lo is not None else None,
        statistic=stat,
        statistic_name=stat_name,
        df=df,
        pvalue=p,
        alternative=alternative,
        null_value=0.0,
        n=n,
        diagnostics=tuple(diags),
        details={"interval_method": ci_method},
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )


def _marginal_normality(sample: np.ndarray, label: str) -> Diagnostic:
    """Shapiro-Wilk check of one margin: the Pearson test and its Fisher-z interval assume bivariate normality."""
    from scipy import stats

    name = f"normality ({label})"
    if sample.size < 3:
        return Diagnostic(name, "warn", None, f"only {sample.size} observations: normality cannot be checked")
    x = sample if sample.size <= 5000 else np.random.default_rng(0).choice(sample, 5000, replace=False)
    p = float(stats.shapiro(x).pvalue)
    if p >= 0.05:
        return Diagnostic(name, "ok", p, f"Shapiro-Wilk p = {p:.3g}: no evidence against normality")
    return Diagnostic(
        name,
        "warn",
        p,
        f"Shapiro-Wilk p = {p:.3g}: the Fisher-z interval assumes bivariate normality and can under-cover for "
        "non-normal data; consider method='spearman' or 'kendall', or a bootstrap interval",
    )
