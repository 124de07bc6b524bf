"""One-way analysis of variance (classic F and Welch) with effect sizes, and Tukey's HSD comparisons."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_conf_level
from ..exceptions import ArgumentTypeError, DataError
from ..results import Diagnostic, EffectSize, Provenance, Result
from ._ksamples import group_table, k_samples, shifted_moments
from ._ttest import _normality


def _ncp_bound(f_obs: float, df1: float, df2: float, target: float) -> float:
    """The noncentrality lambda with P(F <= f_obs; df1, df2, lambda) = target (0 if none is >= 0)."""
    from scipy import optimize, special

    def g(lam: float) -> float:
        if lam == 0:
            return float(special.fdtr(df1, df2, f_obs)) - target
        return float(special.ncfdtr(df1, df2, lam, f_obs)) - target

    if g(0.0) <= 0:
        return 0.0
    hi = max(10.0, 2 * f_obs * df1)
    while g(hi) > 0:
        hi *= 2
        if hi > 1e9:
            break
    return float(optimize.brentq(g, 0.0, hi, xtol=1e-12, rtol=1e-14, maxiter=500))


def eta_squared_ci(f_obs: float, df1: float, df2: float, conf_level: float) -> tuple[float, float]:
    """Two-sided CI for the population proportion of variance explained, by inverting the noncentral F.

    The noncentrality bounds lambda are mapped to :math:`\\lambda / (\\lambda + N)` with :math:`N = df_1 + df_2 + 1`.
    """
    alpha = 1 - conf_level
    n = df1 + df2 + 1
    lo = _ncp_bound(f_obs, df1, df2, 1 - alpha / 2)
    hi = _ncp_bound(f_obs, df1, df2, alpha / 2)
    return lo / (lo + n), hi / (hi + n)


def _variance_diagnostics(samples: Any, var: Sequence[float], equal_var: bool) -> list[Diagnostic]:
    diags = [_normality(a, f"group {nm}") for a, nm in zip(samples.arrays, samples.names, strict=True)]
    v = [x for x in var if math.isfinite(x)]
    ratio = max(v) / min(v) if v and min(v) > 0 else math.inf
    if equal_var and ratio > 4:
        diags.append(
            Diagnostic(
                "variance ratio",
                "warn",
                ratio,
                f"largest/smallest group variance = {ratio:.3g} > 4: the classic F test is unreliable; use Welch's ANOVA (equal_var=False)",
            )
        )
    else:
        note = "" if equal_var else "; Welch's ANOVA does not assume equal variances"
        diags.append(Diagnostic("variance ratio", "ok", ratio, f"largest/smallest group variance = {ratio:.3g}{note}"))
    return diags


@vp.validate_params(
    {
        "samples": ["sample", "mapping"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "equal_var": "boolean",
        "conf_level": "conf_level",
    }
)
def anova_oneway(
    *samples: Any,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    equal_var: bool = False,
    conf_level: float = 0.95,
) -> Result:
    """One-way analysis of variance: Welch's F test (default) or the classic F test, with eta² and omega².

    Parameters
    ----------
    *samples : array-like or str
        Two or more samples; or column names of ``data`` (one column per group); or, with ``group``, the single
        response column of a long-form table.
    data : DataFrame or Dataset, optional
        Table holding the named columns.
    group : str, optional
        Column of ``data`` whose levels define the groups (long form).
    levels : sequence, optional
        Order (and selection) of the group levels; default sorted, as R orders factor levels.
    equal_var : bool
        False (default, as R's ``oneway.test``): Welch's heteroscedastic F test. True: the classic F test of
        ``summary(aov(y ~ g))`` / ``oneway.test(var.equal = TRUE)``.
    conf_level : float
        Confidence level of the effect-size intervals.

    Returns
    -------
    Result
        ``statistic`` (F), ``df`` (numerator, denominator), ``pvalue``, ``n``; ``effect_sizes``: ``eta_squared``
        and ``omega_squared`` (point estimates from the classic sums of squares, each with the noncentral-F
        interval for the population proportion of variance explained); ``details["anova_table"]`` (source, df,
        sum_sq, mean_sq, F, pvalue of the classic decomposition), ``details["groups"]`` (n, mean, sd, median);
        diagnostics: normality per group (Shapiro-Wilk) and the largest/smallest variance ratio.

    Notes
    -----
    Classic: :math:`F = [SS_B/(k-1)] / [SS_W/(N-k)]`. Welch (1951): with :math:`w_i = n_i/s_i^2`,
    :math:`F = \\frac{\\sum w_i(\\bar y_i - \\bar y_w)^2/(k-1)}{1 + 2(k-2)\\tau/(k^2-1)}`,
    :math:`\\tau = \\sum (1 - w_i/\\sum w)^2/(n_i-1)` and denominator df :math:`(k^2-1)/(3\\tau)`.
    :math:`\\eta^2 = SS_B/SS_T`, :math:`\\omega^2 = (SS_B - (k-1)MS_W)/(SS_T + MS_W)`. The interval inverts the
    noncentral F distribution of the classic F statistic (Steiger 2004): the bounds :math:`\\lambda` solve
    :math:`P(F \\le F_{obs}; \\lambda) = 1 - \\alpha/2` and :math:`\\alpha/2`, mapped to :math:`\\lambda/(\\lambda+N)`.
    Sums of squares are computed after shifting the data by a central value, with compensated sums, so data
    with many constant leading digits lose no accuracy (NIST StRD SmLs01-09, AtmWtAg, SiRstv).
    Validated against R's ``summary(aov())``, ``oneway.test()`` and ``uniroot`` on ``pf(..., ncp)``
    (``tests/reference/anova.R``) and against the NIST certified values.

    Examples
    --------
    >>> import numpy as np
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(0)
    >>> a, b, c = rng.normal(0, 1, 12), rng.normal(0.5, 1, 15), rng.normal(1, 2, 10)
    >>> r = ci.stats.anova_oneway(a, b, c)
    >>> r.method
    'One-way analysis of means (not assuming equal variances)'
    >>> round(r.effect_size("eta_squared").estimate, 3)
    0.056
    """
    conf_level = check_conf_level(conf_level)
    if not isinstance(equal_var, bool):
        raise ArgumentTypeError(f"`equal_var` must be True or False; got {equal_var!r}")
    s = k_samples(samples, data=data, group=group, levels=levels)
    arrays = s.arrays
    k = len(arrays)
    ns = np.array([a.size for a in arrays], dtype=float)
    n_total = int(ns.sum())
    if n_total <= k:
        raise DataError(f"one-way ANOVA needs more observations ({n_total}) than groups ({k}); at least one group needs 2 or more values")
    _c, means, ss, var = shifted_moments(arrays)
    grand = math.fsum(n * m for n, m in zip(ns, means, strict=True)) / n_total
    ssb = math.fsum(n * (m - grand) ** 2 for n, m in zip(ns, means, strict=True))
    ssw = math.fsum(ss)
    if ssw == 0 and ssb == 0:
        raise DataError("all values are equal, so the F statistic is undefined (0/0)")
    if ssw == 0:
        raise DataError(
            "every group is constant (zero within-group variance), so the F statistic is infinite; the groups differ without error"
        )
    df1, df2 = float(k - 1), float(n_total - k)
    msb, msw = ssb / df1, ssw / df2
    f_classic = msb / msw
    from scipy import stats

    p_classic = float(stats.f.sf(f_classic, df1, df2))
    if equal_var:
        f_stat, dfs, pval = f_classic, (df1, df2), p_classic
        method = "One-way analysis of means"
    else:
        small = [nm for a, nm in zip(arrays, s.names, strict=True) if a.size < 2]
        if small:
            raise DataError(
                f"Welch's ANOVA needs at least 2 observations per group; group(s) {small} have 1. Use equal_var=True or add data"
            )
        flat = [nm for v, nm in zip(var, s.names, strict=True) if v == 0]
        if flat:
            raise DataError(f"Welch's ANOVA needs within-group variation; group(s) {flat} are constant. Use equal_var=True")
        w = ns / np.array(var)
        sw = float(w.sum())
        mw = math.fsum(wi * m for wi, m in zip(w, means, strict=True)) / sw
        tau = float(np.sum((1 - w / sw) ** 2 / (ns - 1)))
        tmp = tau / (k * k - 1)
        f_stat = math.fsum(wi * (m - mw) ** 2 for wi, m in zip(w, means, strict=True)) / ((k - 1) * (1 + 2 * (k - 2) * tmp))
        dfs = (df1, 1 / (3 * tmp))
        pval = float(stats.f.sf(f_stat, dfs[0], dfs[1]))
        method = "One-way analysis of means (not assuming equal variances)"
    sst = ssb + ssw
    eta2 = ssb / sst
    omega2 = (ssb - df1 * msw) / (sst + msw)
    lo, hi = eta_squared_ci(f_classic, df1, df2, conf_level)
    es_method = "SS_between / SS_total; CI inverts the noncentral F of the classic F statistic (two-sided)"
    effect_sizes = (
        EffectSize("eta_squared", eta2, lo, hi, conf_level, es_method),
        EffectSize(
            "omega_squared",
            omega2,
            lo,
            hi,
            conf_level,
            "(SS_B - (k-1) MS_W)/(SS_T + MS_W); CI as for eta_squared (same population quantity)",
        ),
    )
    table = pd.DataFrame(
        {
            "source": ["between", "within"],
            "df": [df1, df2],
            "sum_sq": [ssb, ssw],
            "mean_sq": [msb, msw],
            "F": [f_classic, math.nan],
            "pvalue": [p_classic, math.nan],
        }
    )
    resp = f" of {s.response}" if s.response else ""
    return Result(
        method=method,
        estimand=f"equality of the {k} group means{resp}",
        statistic=f_stat,
        statistic_name="F",
        df=dfs,
        pvalue=min(pval, 1.0),
        n=n_total,
        effect_sizes=effect_sizes,
        diagnostics=tuple(_variance_diagnostics(s, var, equal_var)),
        details={"anova_table": table, "groups": group_table(s), "eta_squared": eta2, "omega_squared": omega2},
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )


def _qtukey(conf_level: float, k: int, df: float) -> float:
    """Studentized-range quantile: Newton's method on the CDF from a normal-theory start, bracketed for safety."""
    from scipy import optimize, stats

    dist = stats.studentized_range(k, df)

    def g(q: float) -> float:
        return float(dist.cdf(q)) - conf_level

    # start: Tukey's q for infinite df scaled by a t-type correction; Newton converges in a few steps
    q = float(stats.norm.ppf(0.5 + conf_level / 2)) * math.sqrt(2) * (1 + math.log(k) / 2)
    for _ in range(50):
        gq = g(q)
        dens = float(dist.pdf(q))
        if dens <= 0 or not math.isfinite(dens):
            break
        step = gq / dens
        q_new = max(q - step, q / 2)
        if abs(q_new - q) <= 1e-13 * q:
            return q_new
        q = q_new
    a, b = q / 2, q * 2
    while g(a) > 0:
        a /= 2
    while g(b) < 0:
        b *= 2
    return float(optimize.brentq(g, a, b, xtol=1e-13, rtol=1e-15))


@vp.validate_params(
    {
        "samples": ["sample", "mapping"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "conf_level": "conf_level",
    }
)
def tukey_hsd(
    *samples: Any,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    conf_level: float = 0.95,
) -> Result:
    """Tukey's honestly significant differences: all pairwise differences of group means (R's ``TukeyHSD``).

    Parameters
    ----------
    *samples : array-like or str
        Two or more samples, column names of ``data``, or (with ``group``) one response column.
    data : DataFrame or Dataset, optional
    group : str, optional
        Column of ``data`` whose levels define the groups (long form).
    levels : sequence, optional
        Order of the groups (default sorted, as R orders factor levels).
    conf_level : float
        Family-wise confidence level of the simultaneous intervals.

    Returns
    -------
    Result
        ``terms`` has one row per pair ``"b-a"`` (in R's order) with ``estimate`` (mean of b minus mean of a,
        R's ``diff``), ``std_error`` (of the difference), ``ci_low``/``ci_high`` (R's ``lwr``/``upr``),
        ``statistic`` (studentized range q), ``df`` (residual df) and ``pvalue`` (R's ``p adj``).
        ``details["groups"]`` gives n, mean, sd per group; diagnostics check normality and the variance ratio.

    Notes
    -----
    With :math:`MS_W` from the one-way ANOVA on :math:`\\nu = N - k` df, the pair (i, j) has
    :math:`q = |\\bar y_j - \\bar y_i| / \\sqrt{(MS_W/2)(1/n_i + 1/n_j)}`, adjusted p-value
    :math:`P(Q_{k,\\nu} > q)` and interval :math:`\\bar y_j - \\bar y_i \\pm q_{1-\\alpha;k,\\nu}\\sqrt{(MS_W/2)(1/n_i+1/n_j)}`
    (Tukey-Kramer for unequal sizes). The studentized range quantile is found by root-finding on its CDF.
    Validated against R's ``TukeyHSD(aov())`` (``tests/reference/anova.R``).

    Examples
    --------
    >>> import numpy as np
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(0)
    >>> r = ci.stats.tukey_hsd(rng.normal(0, 1, 10), rng.normal(1, 1, 10), rng.normal(2, 1, 10))
    >>> list(r.terms["term"])
    ['2-1', '3-1', '3-2']
    """
    conf_level = check_conf_level(conf_level)
    s = k_samples(samples, data=data, group=group, levels=levels)
    arrays = s.arrays
    k = len(arrays)
    ns = [a.size for a in arrays]
    n_total = sum(ns)
    if n_total <= k:
        raise DataError(f"Tukey's HSD needs more observations ({n_total}) than groups ({k})")
    _, means, ss, var = shifted_moments(arrays)
    df = float(n_total - k)
    msw = math.fsum(ss) / df
    if msw == 0:
        raise DataError("zero within-group variance: every group is constant, so Tukey intervals are undefined")
    from scipy import stats

    qcrit = _qtukey(conf_level, k, df)
    rows = []
    for i, j in itertools.combinations(range(k), 2):
        d = means[j] - means[i]
        half = math.sqrt(msw / 2 * (1 / ns[i] + 1 / ns[j]))
        q = abs(d) / half
        rows.append(
            {
                "term": f"{s.names[j]}-{s.names[i]}",
                "estimate": d,
                "std_error": half * math.sqrt(2),
                "ci_low": d - qcrit * half,
                "ci_high": d + qcrit * half,
                "statistic": q,
                "df": df,
                "pvalue": min(1.0, float(stats.studentized_range.sf(q, k, df))),
            }
        )
    resp = f" of {s.response}" if s.response else ""
    return Result(
        method="Tukey multiple comparisons of means",
        estimand=f"pairwise differences in means{resp} ({k} groups), family-wise {conf_level:.0%} intervals",
        conf_level=conf_level,
        statistic_name="q",
        df=df,
        n=n_total,
        terms=pd.DataFrame(rows),
        diagnostics=tuple(_variance_diagnostics(s, var, True)),
        details={"groups": group_table(s), "q_critical": qcrit, "mse": msw},
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )
