"""Location estimates with confidence intervals (mean, median, quantiles) and the z-test with known sigma."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _validation as vp
from .._validation import check_alternative, check_conf_level, check_probability, check_real
from ..exceptions import ArgumentError, DataError
from ..results import Diagnostic, Provenance, Result
from ._inputs import one_sample, two_samples
from ._normal import z_limits, z_pvalue
from ._ttest import _normality, t_interval_and_pvalue

_EPS = np.finfo(float).eps


@vp.validate_params(
    {
        "x": "sample",
        "data": [None, "data"],
        "alternative": "alternative",
        "conf_level": "conf_level",
    }
)
def mean_ci(
    x: Any,
    *,
    data: Any = None,
    alternative: str = "two-sided",
    conf_level: float = 0.95,
) -> Result:
    """The mean with its t confidence interval (R's ``t.test(x)$conf.int``).

    Parameters
    ----------
    x : array-like or str
        The sample, or a column name of ``data``.
    data : DataFrame or Dataset, optional
    alternative : {"two-sided", "less", "greater"}
        ``"less"`` gives an upper confidence bound, ``"greater"`` a lower one.
    conf_level : float

    Returns
    -------
    Result
        ``estimate`` (mean), ``std_error`` (sd / sqrt(n)), ``ci_low``, ``ci_high``, ``df`` (n - 1), ``n``;
        a normality diagnostic (Shapiro-Wilk, relaxed for n >= 30).

    Notes
    -----
    :math:`\\bar x \\pm t_{n-1, 1-\\alpha/2}\\, s/\\sqrt n`. Validated against R's ``t.test``.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.mean_ci([4.1, 5.3, 3.8, 6.0, 5.1, 4.7])
    >>> round(r.estimate, 3), round(r.ci_low, 4), round(r.ci_high, 4)
    (4.833, 3.9842, 5.6824)
    """
    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    s = one_sample(x, data=data)
    a = s.arrays[0]
    n = a.size
    if n < 2:
        raise DataError(f"`x` needs at least 2 observations for a t interval; got {n}")
    m = float(a.mean())
    se = float(a.std(ddof=1)) / math.sqrt(n)
    if se == 0 or se < 10 * _EPS * abs(m):
        raise DataError(f"`x` is constant (all values equal {m:g}): its standard deviation is 0, so the t interval is degenerate")
    _, _, lo, hi = t_interval_and_pvalue(m, se, n - 1, 0.0, alternative, conf_level)
    return Result(
        method="t interval for the mean",
        estimand=f"mean of {s.names[0]}",
        estimate=m,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        df=float(n - 1),
        alternative=alternative,
        n=n,
        diagnostics=(_normality(a, s.names[0]),),
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )


def order_statistic_interval(x: np.ndarray, q: float, conf_level: float) -> tuple[float, float, int | None, int | None, float]:
    """Distribution-free interval for the q-quantile from order statistics.

    Returns the limits, their 1-based ranks (None for an infinite limit) and the achieved coverage
    ``P(L <= B <= U - 1)`` for ``B ~ Binomial(n, q)``.
    """
    from scipy import stats

    n = x.size
    a = (1 - conf_level) / 2
    xs = np.sort(x)
    cdf = stats.binom.cdf(np.arange(n + 1), n, q)
    # lower rank L: the largest L - 1 with P(B <= L - 1) <= alpha/2
    ok = np.nonzero(cdf <= a)[0]
    low_rank = int(ok[-1]) + 1 if ok.size else None
    # upper rank U: U - 1 is the smallest j with P(B <= j) >= 1 - alpha/2
    up = np.nonzero(cdf >= 1 - a)[0]
    high_rank = int(up[0]) + 1 if up.size and int(up[0]) + 1 <= n else None
    lo = float(xs[low_rank - 1]) if low_rank is not None else -math.inf
    hi = float(xs[high_rank - 1]) if high_rank is not None else math.inf
    p_hi = float(cdf[high_rank - 1]) if high_rank is not None else 1.0
    p_lo = float(cdf[low_rank - 1]) if low_rank is not None else 0.0
    return lo, hi, low_rank, high_rank, p_hi - p_lo


@vp.validate_params(
    {
        "x": "sample",
        "q": vp.OPEN_PROBABILITY,
        "data": [None, "data"],
        "conf_level": "conf_level",
    }
)
def quantile_ci(
    x: Any,
    q: float = 0.5,
    *,
    data: Any = None,
    conf_level: float = 0.95,
) -> Result:
    """A quantile with an exact distribution-free (order-statistic, binomial) confidence interval.

    Parameters
    ----------
    x : array-like or str
        The sample, or a column name of ``data``.
    q : float
        The quantile, strictly between 0 and 1 (0.5 is the median).
    data : DataFrame or Dataset, optional
    conf_level : float
        The interval's coverage is at least this, for any continuous distribution.

    Returns
    -------
    Result
        ``estimate`` (R's default type-7 sample quantile), ``ci_low``, ``ci_high`` (order statistics;
        ``-inf``/``inf`` when the sample is too small for a finite limit at this level), ``n``;
        ``details`` has ``lower_rank`` and ``upper_rank`` (1-based ranks of the limits, None when infinite) and ``achieved_coverage``.

    Notes
    -----
    With :math:`B \\sim \\mathrm{Binomial}(n, q)` the number of observations below the quantile, the lower limit
    is :math:`x_{(L)}` for the largest :math:`L` with :math:`P(B \\le L - 1) \\le \\alpha/2`, and the upper limit is
    :math:`x_{(U)}` with :math:`U - 1` = ``qbinom(1 - alpha/2, n, q)``. The coverage is
    :math:`P(L \\le B \\le U - 1) \\ge 1 - \\alpha`. Validated against an R computation with ``qbinom``.

    Examples
    --------
    >>> import numpy as np, causalinfer as ci
    >>> x = np.random.default_rng(1).exponential(size=50)
    >>> r = ci.stats.quantile_ci(x, 0.9)
    >>> r.details["lower_rank"], r.details["upper_rank"]
    (41, 50)
    """
    qq = check_probability(q, "q", open_interval=True)
    conf_level = check_conf_level(conf_level)
    s = one_sample(x, data=data)
    a = s.arrays[0]
    return _quantile_result(a, qq, conf_level, s.names[0], s.fingerprint, median=False)


@vp.validate_params(
    {
        "x": "sample",
        "data": [None, "data"],
        "conf_level": "conf_level",
    }
)
def median_ci(x: Any, *, data: Any = None, conf_level: float = 0.95) -> Result:
    """The median with its exact distribution-free (order-statistic, binomial) confidence interval.

    Parameters
    ----------
    x : array-like or str
        The sample, or a column name of ``data``.
    data : DataFrame or Dataset, optional
    conf_level : float

    Returns
    -------
    Result
        ``estimate`` (sample median), ``ci_low`` = :math:`x_{(k)}`, ``ci_high`` = :math:`x_{(n-k+1)}`, ``n``;
        ``details`` has ``lower_rank``, ``upper_rank`` and ``achieved_coverage`` (at least ``conf_level``).

    Notes
    -----
    :math:`k` is the largest integer with :math:`2 P(B \\le k - 1) \\le \\alpha` for
    :math:`B \\sim \\mathrm{Binomial}(n, 1/2)`, so :math:`k - 1` is ``qbinom(alpha/2, n, 0.5)`` or one less.
    With n < 6 at the 95% level no finite interval exists and the limits are infinite (with a warning).
    Validated against an R computation with ``qbinom``.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.median_ci([3.1, 4.7, 2.2, 5.9, 4.4, 3.8, 6.1, 2.9, 4.0, 5.2])
    >>> r.estimate, r.ci_low, r.ci_high
    (4.2, 2.9, 5.9)
    """
    conf_level = check_conf_level(conf_level)
    s = one_sample(x, data=data)
    return _quantile_result(s.arrays[0], 0.5, conf_level, s.names[0], s.fingerprint, median=True)


def _quantile_result(a: np.ndarray, q: float, conf_level: float, name: str, fp: str | None, *, median: bool) -> Result:
    lo, hi, rl, rh, cover = order_statistic_interval(a, q, conf_level)
    est = float(np.median(a)) if median else float(np.quantile(a, q))
    if rl is None or rh is None:
        diag = Diagnostic(
            "sample size",
            "warn",
            float(a.size),
            f"n = {a.size} is too small for a finite {'two-sided' if (rl is None and rh is None) else ''} order-statistic interval "
            f"at the {conf_level:g} level; {'both limits are' if (rl is None and rh is None) else 'one limit is'} infinite",
        )
    else:
        diag = Diagnostic(
            "achieved coverage", "ok", cover, f"the interval covers with probability {cover:.4g} (>= {conf_level:g}) for continuous data"
        )
    label = "median" if median else f"{q:g}-quantile"
    ties = np.unique(a).size < a.size
    diags = [diag]
    if ties:
        diags.append(
            Diagnostic(
                "ties",
                "warn",
                None,
                "the data have ties: the coverage guarantee assumes a continuous distribution (it is conservative with ties)",
            )
        )
    return Result(
        method=f"Order-statistic (binomial) interval for the {label}",
        estimand=f"{label} of {name}",
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        n=a.size,
        diagnostics=tuple(diags),
        details={"lower_rank": rl, "upper_rank": rh, "achieved_coverage": cover, "quantile": q},
        provenance=Provenance.current(data_fingerprint=fp),
    )


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "sigma": [None, vp.Interval("real", 0, closed="neither")],
        "sigma_y": [None, vp.Interval("real", 0, closed="neither")],
        "mu": vp.Interval("real"),
        "alternative": "alternative",
        "conf_level": "conf_level",
    }
)
def ztest(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    sigma: float | None = None,
    sigma_y: float | None = None,
    mu: float = 0.0,
    alternative: str = "two-sided",
    conf_level: float = 0.95,
) -> Result:
    """One- and two-sample z-tests for means with known population standard deviations.

    Parameters
    ----------
    x : array-like or str
        First sample, or a column name of ``data``.
    y : array-like or str, optional
        Second sample (or column name); omit for a one-sample test or use ``group``.
    data : DataFrame or Dataset, optional
    group : str, optional
        Column with two levels splitting ``x`` into two samples (long form).
    levels : (a, b), optional
        Group order; the estimate is mean(a) - mean(b).
    sigma : float
        Known standard deviation of ``x`` (required).
    sigma_y : float, optional
        Known standard deviation of the second sample (default: ``sigma``).
    mu : float
        Null value of the mean or of the difference in means.
    alternative : {"two-sided", "less", "greater"}
    conf_level : float

    Returns
    -------
    Result
        ``estimate`` (mean or difference in means), ``std_error`` (:math:`\\sigma/\\sqrt n` or
        :math:`\\sqrt{\\sigma_x^2/n_x + \\sigma_y^2/n_y}`), ``ci_low``, ``ci_high``, ``statistic`` (z),
        ``pvalue``, ``null_value``, ``n``; ``details["groups"]`` with n and mean.

    Notes
    -----
    :math:`z = (\\hat\\theta - \\mu)/SE`, referred to the standard normal. Validated against a hand computation
    in R (``pnorm``/``qnorm``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.ztest([101.2, 98.4, 103.9, 100.8, 99.5], sigma=2.0, mu=100)
    >>> round(r.statistic, 4), round(r.pvalue, 4)
    (0.8497, 0.3955)
    """
    import pandas as pd

    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    mu = check_real(mu, "mu")
    if sigma is None:
        raise ArgumentError("`sigma` (the known population standard deviation) is required for a z-test; without it use ttest")
    sd_x = check_real(sigma, "sigma")
    if sd_x <= 0:
        raise ArgumentError(f"`sigma` must be a positive standard deviation; got {sigma!r}")
    one = y is None and group is None
    if one:
        if sigma_y is not None:
            raise ArgumentError("`sigma_y` is for a two-sample test; give `y` or `group` too")
        s = one_sample(x, data=data)
        a = s.arrays[0]
        est, se, n = float(a.mean()), sd_x / math.sqrt(a.size), a.size
        method, what = "One-sample z-test", f"mean of {s.names[0]}"
        groups = pd.DataFrame({"group": [s.names[0]], "n": [a.size], "mean": [est]})
    else:
        sd_y = sd_x if sigma_y is None else check_real(sigma_y, "sigma_y")
        if sd_y <= 0:
            raise ArgumentError(f"`sigma_y` must be a positive standard deviation; got {sigma_y!r}")
        s = two_samples(x, y, data=data, group=group, levels=levels)
        a, b = s.arrays
        est = float(a.mean()) - float(b.mean())
        se = math.sqrt(sd_x**2 / a.size + sd_y**2 / b.size)
        n = a.size + b.size
        resp = f" of {s.response}" if s.response else ""
        method, what = "Two-sample z-test", f"difference in means{resp}: {s.names[0]} minus {s.names[1]}"
        groups = pd.DataFrame({"group": list(s.names), "n": [a.size, b.size], "mean": [float(a.mean()), float(b.mean())]})
    z = (est - mu) / se
    lo, hi = z_limits(est, se, conf_level, alternative)
    return Result(
        method=method,
        estimand=what,
        estimate=est,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=z,
        statistic_name="z",
        pvalue=z_pvalue(z, alternative),
        alternative=alternative,
        null_value=mu,
        n=n,
        details={"groups": groups},
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )
