"""Tests about distributions and variances: Shapiro-Wilk, Kolmogorov-Smirnov, Levene/Brown-Forsythe, Bartlett."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import _validation as vp
from .._validation import check_alternative, check_choice, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Diagnostic, Provenance, Result
from ._inputs import _frame_of, one_sample, two_samples
from ._ksamples import group_table, k_samples, shifted_moments
from ._normality import _swilk, normality_diagnostic


@vp.validate_params(
    {
        "x": "sample",
        "data": [None, "data"],
    }
)
def shapiro_wilk(x: Any, *, data: Any = None) -> Result:
    """Shapiro-Wilk test of normality (R's ``shapiro.test``; Royston's algorithm AS R94).

    Parameters
    ----------
    x : array-like or str
        The sample (3 to 5000 values), or a column name of ``data``.
    data : DataFrame or Dataset, optional

    Returns
    -------
    Result
        ``statistic`` (W), ``pvalue``, ``n``; a diagnostic notes that with large n tiny departures are significant.

    Notes
    -----
    :math:`W = (\\sum a_i x_{(i)})^2 / \\sum (x_i - \\bar x)^2` with Royston's (1992, 1995) approximations to the
    coefficients and to the null distribution of W, computed in double precision with exact normal quantiles
    (scipy's ``shapiro`` uses lower-precision quantile approximations and differs from R by up to ~1e-7).
    Validated against R's ``shapiro.test`` (``tests/reference/distribution.R``).

    Examples
    --------
    >>> import numpy as np
    >>> import causalinfer as ci
    >>> r = ci.stats.shapiro_wilk(np.random.default_rng(1).normal(size=30))
    >>> r.method, round(r.statistic, 4), round(r.pvalue, 4)
    ('Shapiro-Wilk normality test', 0.9157, 0.0207)
    """
    s = one_sample(x, data=data)
    a = s.arrays[0]
    n = a.size
    if n < 3 or n > 5000:
        raise DataError(f"`x` must have between 3 and 5000 observations for the Shapiro-Wilk test; got {n}")
    a = np.sort(a)
    rng = a[-1] - a[0]
    if rng < 1e-10:
        raise DataError("all `x` values are (nearly) identical, so normality cannot be tested")
    if rng < 1:
        a = a / rng
    w, p = _swilk(a)
    diag = (
        Diagnostic(
            "sample size",
            "warn",
            float(n),
            f"n = {n}: with this many observations even negligible departures from normality are significant; look at a Q-Q plot",
        )
        if n > 1000
        else Diagnostic("sample size", "ok", float(n), f"n = {n}")
    )
    return Result(
        method="Shapiro-Wilk normality test",
        estimand=f"normality of {s.names[0]}",
        statistic=w,
        statistic_name="W",
        pvalue=min(p, 1.0),
        n=n,
        diagnostics=(diag,),
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )


# ---------------------------------------------------------------------------------------------- Kolmogorov-Smirnov
def _pkstwo_r(x: float, tol: float = 1e-6) -> float:
    """The limiting Kolmogorov distribution P(K <= x), summed exactly as R's C routine pkstwo (tol 1e-6)."""
    if x <= 0:
        return 0.0
    k_max = int(math.sqrt(2 - math.log(tol)))
    if x < 1:
        z = -(math.pi / 2 * math.pi / 4) / (x * x)
        w = math.log(x)
        s = 0.0
        for k in range(1, k_max, 2):
            s += math.exp(k * k * z - w)
        return s / (1 / math.sqrt(2 * math.pi))
    z = -2 * x * x
    sign = -1.0
    k = 1
    old, new = 0.0, 1.0
    while abs(old - new) > tol:
        old = new
        new += 2 * sign * math.exp(z * k * k)
        sign *= -1
        k += 1
    return new


def _kolmogorov_sf(x: float, tol: float = 1e-6) -> float:
    """P(K > x) for the limiting Kolmogorov distribution, summed directly in the upper tail (no 1 - cdf).

    For x >= 1 the alternating series ``2 sum (-1)^(k-1) exp(-2 k^2 x^2)`` is the tail itself, so p-values far
    below 1e-16 keep their digits; below 1 the tail is large and ``1 - P(K <= x)`` is exact enough.
    """
    if x < 1:
        return 1.0 - _pkstwo_r(x, tol)
    z = -2 * x * x
    total, k, sign = 0.0, 1, 1.0
    while True:
        term = 2 * sign * math.exp(z * k * k)
        total += term
        if abs(term) <= tol * 1e-10 * max(total, 1e-300) or term == 0.0:
            break
        sign, k = -sign, k + 1
    return min(1.0, max(0.0, total))


def _psmirnov_exact_upper(stat: float, nx: int, ny: int, w: np.ndarray, two_sided: bool) -> float:
    """P(D >= stat) for the two-sample statistic by lattice-path counting (R 4.2 psmirnov with ties)."""
    n_all = nx + ny
    zs = np.sort(w)
    ties = np.append(np.diff(zs) != 0, True)
    q = (0.5 + math.floor(stat * nx * ny - 1e-7)) / (nx * ny)
    u = np.array([0.0])
    diag = np.array([1.0])
    for k in range(1, n_all + 1):
        u = np.append(u, 1 + u[-1])
        v = k - u
        keep = (u <= nx) & (v <= ny) & (u >= 0) & (v >= 0)
        u = u[keep]
        v = v[keep]
        d = u / nx - v / ny
        if two_sided:
            d = np.abs(d)
        diag = (np.append(diag, 0.0) + np.insert(diag, 0, 0.0))[keep]
        if ties[k - 1]:
            diag = diag * (q > d)
    total = float(diag[0])
    logdenom = math.lgamma(n_all + 1) - math.lgamma(nx + 1) - math.lgamma(ny + 1)
    return 1 - total / math.exp(logdenom)


def _resolve_cdf(dist: Any, args: Sequence[Any]) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    from scipy import stats

    if isinstance(dist, str):
        obj = getattr(stats, dist, None)
        if obj is None or not hasattr(obj, "cdf"):
            raise ArgumentError(f"`y` names {dist!r}, which is not a scipy.stats distribution (e.g. 'norm', 'expon', 'uniform')")
        frozen = obj(*args)
        return frozen.cdf, f"{dist}{tuple(args) if args else '()'}"
    if hasattr(dist, "cdf") and callable(dist.cdf):
        if args:
            return (lambda v: dist.cdf(v, *args)), getattr(getattr(dist, "dist", dist), "name", "distribution")
        return dist.cdf, getattr(getattr(dist, "dist", dist), "name", "distribution")
    if callable(dist):
        return (lambda v: dist(v, *args)), getattr(dist, "__name__", "cdf")
    raise ArgumentTypeError(f"`y` must be a sample, a scipy.stats distribution name, a frozen distribution or a CDF; got {show(dist)}")


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample", "callable", vp.HasMethods("cdf")],
        "args": "array-like",
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "alternative": "alternative",
        "exact": [None, "boolean"],
    }
)
def ks_test(
    x: Any,
    y: Any = None,
    *,
    args: Sequence[Any] = (),
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    alternative: str = "two-sided",
    exact: bool | None = None,
) -> Result:
    """Kolmogorov-Smirnov test: one sample against a distribution, or two samples (R 4.2's ``ks.test``).

    Parameters
    ----------
    x : array-like or str
        The sample (or a column name of ``data``).
    y : str, distribution, callable, array-like or column name
        A scipy.stats distribution name (``"norm"``) with parameters in ``args``, a frozen scipy distribution,
        a CDF callable, or a second sample (array, or column name of ``data``; a column name takes precedence over
        a distribution of the same name). Use ``group`` for long-form two samples.
    args : sequence
        Parameters of the named distribution, in scipy's order (e.g. ``(loc, scale)``).
    data : DataFrame or Dataset, optional
    group : str, optional
        Column with two levels splitting ``x`` (two-sample test).
    levels : (a, b), optional
    alternative : {"two-sided", "less", "greater"}
        As R: "greater" means the CDF of ``x`` lies above the null (or that of ``y``); "less", below.
    exact : bool or None
        One sample: default exact when n < 100 and no ties. Two samples: default exact when n_x n_y < 10000
        (ties handled exactly, as R 4.2).

    Returns
    -------
    Result
        ``statistic`` (D, D^+ or D^-), ``pvalue``, ``n``; ``details["exact"]``; diagnostics: ties.

    Notes
    -----
    One sample: exact two-sided p from the exact distribution of D (Marsaglia-Tsang-Wang / Simard-L'Ecuyer);
    exact one-sided from Birnbaum-Tingey; asymptotic two-sided from the Kolmogorov limit (summed as R does, to
    1e-6), one-sided :math:`\\exp(-2nD^2)`. Two samples: exact by counting lattice paths (R 4.2's ``psmirnov``,
    valid with ties); asymptotic from the Kolmogorov limit at :math:`\\sqrt{n_xn_y/(n_x+n_y)}D`.
    Validated against R's ``ks.test`` (``tests/reference/distribution.R``).

    Examples
    --------
    >>> import numpy as np
    >>> import causalinfer as ci
    >>> x = np.random.default_rng(2).normal(size=40)
    >>> r = ci.stats.ks_test(x, "norm", args=(0, 1))
    >>> r.method
    'Exact one-sample Kolmogorov-Smirnov test'
    """
    alternative = check_alternative(alternative)
    if exact is not None and not isinstance(exact, bool):
        raise ArgumentTypeError(f"`exact` must be True, False or None; got {exact!r}")
    if group is not None:
        two = True
    elif y is None:
        raise ArgumentError("`y` is required: a distribution name such as 'norm', a CDF, or a second sample (or pass group=)")
    elif isinstance(y, str):
        two = data is not None and y in _frame_of(data)[0].columns
    else:
        two = not (callable(y) or hasattr(y, "cdf"))
    if two:
        s = two_samples(x, y, data=data, group=group, levels=levels)
        a, b = s.arrays
        nx, ny = a.size, b.size
        d, p, use_exact, w = _ks_two_sample(a, b, alternative, exact)
        method = ("Exact" if use_exact else "Asymptotic") + " two-sample Kolmogorov-Smirnov test"
        n_tied = int(nx + ny - np.unique(w).size)
        estimand = f"equality of the distributions of {s.names[0]} and {s.names[1]}"
        n = nx + ny
        fp = s.fingerprint
    else:
        s = one_sample(x, data=data)
        a = s.arrays[0]
        n = a.size
        cdf, dname = _resolve_cdf(y, tuple(args))
        n_tied = int(n - np.unique(a).size)
        d, p, use_exact = _ks_one_sample(a, cdf, alternative, exact, n_tied)
        method = ("Exact" if use_exact else "Asymptotic") + " one-sample Kolmogorov-Smirnov test"
        estimand = f"{s.names[0]} follows {dname}"
        fp = s.fingerprint
    p = min(1.0, max(0.0, p))
    if n_tied:
        diag = Diagnostic(
            "ties",
            "warn",
            float(n_tied),
            f"{n_tied} tied value(s): the KS test assumes continuous data" + ("" if two else "; p-value is approximate"),
        )
    else:
        diag = Diagnostic("ties", "ok", 0.0, "no ties")
    name = {"two-sided": "D", "greater": "D^+", "less": "D^-"}[alternative]
    return Result(
        method=method,
        estimand=estimand,
        statistic=d,
        statistic_name=name,
        pvalue=p,
        alternative=alternative,
        n=n,
        diagnostics=(diag,),
        details={"exact": use_exact},
        provenance=Provenance.current(data_fingerprint=fp),
    )


def _ks_two_sample(a: np.ndarray, b: np.ndarray, alternative: str, exact: bool | None) -> tuple[float, float, bool, np.ndarray]:
    """Two-sample statistic (ties handled as R 4.2), exact or asymptotic p-value: (d, p, exact, pooled data)."""
    nx, ny = a.size, b.size
    use_exact = (nx * ny < 10000) if exact is None else exact
    w = np.concatenate([a, b])
    order = np.argsort(w, kind="stable")
    # Integer steps (ny up, nx down) keep the running difference exact: D is a multiple of 1/(nx ny), and equal
    # samples give exactly 0 rather than a rounding residue.
    z = np.cumsum(np.where(order < nx, ny, -nx)) / (nx * ny)
    ws = np.sort(w)
    has_ties = np.unique(w).size < nx + ny
    if has_ties:
        z = z[np.append(np.nonzero(np.diff(ws) != 0)[0], nx + ny - 1)]
    if alternative == "two-sided":
        d = float(np.max(np.abs(z)))
    elif alternative == "greater":
        d = float(np.max(z))
    else:
        d = float(-np.min(z))
    if use_exact:
        p = _psmirnov_exact_upper(d, nx, ny, w, alternative == "two-sided")
    else:
        m = nx * ny / (nx + ny)
        p = _kolmogorov_sf(math.sqrt(m) * d) if alternative == "two-sided" else math.exp(-2 * m * d * d)
    return d, p, use_exact, w


def _ks_one_sample(
    a: np.ndarray, cdf: Callable[[np.ndarray], np.ndarray], alternative: str, exact: bool | None, n_tied: int
) -> tuple[float, float, bool]:
    """One-sample statistic against ``cdf`` and its exact or asymptotic p-value: (d, p, exact)."""
    from scipy import stats

    n = a.size
    use_exact = (n < 100 and n_tied == 0) if exact is None else exact
    f = np.asarray(cdf(np.sort(a)), dtype=float) - np.arange(n) / n
    if not np.all(np.isfinite(f)):
        raise DataError("the null CDF returned non-finite values for some `x`; check the distribution parameters in `args`")
    if alternative == "two-sided":
        d = float(max(np.max(f), np.max(1 / n - f)))
    elif alternative == "greater":
        d = float(np.max(1 / n - f))
    else:
        d = float(np.max(f))
    if use_exact:
        if alternative == "two-sided":
            p = float(stats.kstwo.sf(d, n))
        else:
            p = _kolmogorov1x_sf(d, n)
    else:
        p = _kolmogorov_sf(math.sqrt(n) * d) if alternative == "two-sided" else math.exp(-2 * n * d * d)
    return d, p, use_exact


def _kolmogorov1x_sf(x: float, n: int) -> float:
    """Exact one-sided P(D^+ >= x) (Birnbaum and Tingey 1951): R's sum, taken as the tail itself rather than 1 - cdf."""
    if x <= 0:
        return 1.0
    if x >= 1:
        return 0.0
    j = np.arange(0, math.floor(n * (1 - x)) + 1, dtype=float)
    from scipy.special import gammaln

    lch = gammaln(n + 1) - gammaln(j + 1) - gammaln(n - j + 1)
    return min(1.0, x * float(np.sum(np.exp(lch + (n - j) * np.log(1 - x - j / n) + (j - 1) * np.log(x + j / n)))))


# ---------------------------------------------------------------------------------------------- variances


@vp.validate_params(
    {
        "samples": ["sample", "mapping"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "center": vp.Options(("median", "mean")),
    }
)
def levene_test(
    *samples: Any,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    center: str = "median",
) -> Result:
    """Levene's test of equal variances; median-centred (Brown-Forsythe) by default, as ``car::leveneTest``.

    Parameters
    ----------
    *samples : array-like or str
        Two or more samples, column names of ``data``, or (with ``group``) one response column.
    data : DataFrame or Dataset, optional
    group : str, optional
    levels : sequence, optional
    center : {"median", "mean"}
        Centre of each group: "median" (Brown-Forsythe, robust; car's default) or "mean" (Levene's original).

    Returns
    -------
    Result
        ``statistic`` (F), ``df`` (k - 1, N - k), ``pvalue``; ``details["groups"]`` (n, mean, sd, median).

    Notes
    -----
    The one-way ANOVA F statistic of :math:`z_{ij} = |y_{ij} - c_i|` with :math:`c_i` the group median or mean.
    Validated against a direct R computation ``anova(lm(abs(y - ave(y, g, FUN = median)) ~ g))``, which is what
    ``car::leveneTest`` computes (``tests/reference/distribution.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.levene_test([8.9, 9.1, 9.0, 8.7, 9.3], [7.1, 10.2, 8.8, 11.0, 6.5])
    >>> r.method
    "Levene's test for homogeneity of variance (center = median)"
    """
    check_choice(center, "center", ("median", "mean"))
    s = k_samples(samples, data=data, group=group, levels=levels)
    zs = []
    for a in s.arrays:
        c = float(np.median(a)) if center == "median" else float(np.mean(a))
        zs.append(np.abs(a - c))
    k = len(zs)
    n = sum(z.size for z in zs)
    if n <= k:
        raise DataError(f"Levene's test needs more observations ({n}) than groups ({k})")
    _, means, ss, _ = shifted_moments(zs)
    ns = [z.size for z in zs]
    grand = math.fsum(ni * m for ni, m in zip(ns, means, strict=True)) / n
    ssb = math.fsum(ni * (m - grand) ** 2 for ni, m in zip(ns, means, strict=True))
    ssw = math.fsum(ss)
    if ssw == 0:
        raise DataError("absolute deviations are constant within every group (e.g. all values equal), so Levene's F is undefined")
    df1, df2 = k - 1, n - k
    f = (ssb / df1) / (ssw / df2)
    from scipy import stats

    return Result(
        method=f"Levene's test for homogeneity of variance (center = {center})",
        estimand=f"equality of the variances of {k} groups" + (f" of {s.response}" if s.response else ""),
        statistic=f,
        statistic_name="F",
        df=(float(df1), float(df2)),
        pvalue=min(1.0, float(stats.f.sf(f, df1, df2))),
        n=n,
        details={"groups": group_table(s)},
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
def bartlett_test(*samples: Any, data: Any = None, group: str | None = None, levels: Sequence[Any] | None = None) -> Result:
    """Bartlett's test of equal variances in k normal samples (R's ``bartlett.test``).

    Parameters
    ----------
    *samples : array-like or str
        Two or more samples (each with at least 2 values), column names of ``data``, or one response column with
        ``group``.
    data : DataFrame or Dataset, optional
    group : str, optional
    levels : sequence, optional

    Returns
    -------
    Result
        ``statistic`` (Bartlett's K-squared), ``df`` (k - 1), ``pvalue``; diagnostics: normality per group
        (Bartlett's test is sensitive to non-normality; prefer ``levene_test`` then).

    Notes
    -----
    :math:`K^2 = \\frac{(N-k)\\ln s_p^2 - \\sum (n_i-1)\\ln s_i^2}{1 + \\frac{1}{3(k-1)}\\left(\\sum \\frac{1}{n_i-1} -
    \\frac{1}{N-k}\\right)}`, compared with :math:`\\chi^2_{k-1}`. Validated against R's ``bartlett.test``.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.bartlett_test([8.9, 9.1, 9.0, 8.7, 9.3], [7.1, 10.2, 8.8, 11.0, 6.5])
    >>> round(r.statistic, 4)
    10.5042
    """
    s = k_samples(samples, data=data, group=group, levels=levels, min_size=2)
    _, _, ss, var = shifted_moments(s.arrays)
    flat = [nm for v, nm in zip(var, s.names, strict=True) if v == 0]
    if flat:
        raise DataError(f"Bartlett's test needs positive variance in every group; group(s) {flat} are constant")
    ni = np.array([a.size for a in s.arrays], dtype=float)
    k = ni.size
    dfi = ni - 1
    n_k = float(dfi.sum())
    vp = math.fsum(ss) / n_k
    stat = (n_k * math.log(vp) - float(np.sum(dfi * np.log(var)))) / (1 + (float(np.sum(1 / dfi)) - 1 / n_k) / (3 * (k - 1)))
    from scipy import stats

    diags = tuple(
        normality_diagnostic(
            a,
            f"group {nm}",
            robust_n=None,
            advice="Bartlett's test is sensitive to non-normality; levene_test is the robust alternative",
        )
        for a, nm in zip(s.arrays, s.names, strict=True)
    )
    return Result(
        method="Bartlett test of homogeneity of variances",
        estimand=f"equality of the variances of {k} groups" + (f" of {s.response}" if s.response else ""),
        statistic=stat,
        statistic_name="Bartlett's K-squared",
        df=float(k - 1),
        pvalue=min(1.0, float(stats.chi2.sf(stat, k - 1))),
        n=int(ni.sum()),
        diagnostics=diags,
        details={"groups": group_table(s)},
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )
