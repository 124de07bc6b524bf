"""Student and Welch t-tests (one-sample, two-sample, paired), validated against R's ``t.test``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_alternative, check_conf_level, check_real
from ..exceptions import ArgumentTypeError, DataError
from ..results import Diagnostic, EffectSize, Provenance, Result
from ._effect_sizes import safe_standardized_differences
from ._inputs import Samples, one_sample, two_samples
from ._normal import t_interval_and_pvalue
from ._normality import normality_diagnostic
from ._stable import finite_or_refuse, mean_sd

__all__ = ["t_interval_and_pvalue", "ttest"]  # the interval helper lives in _normal; re-exported for callers

_EPS = np.finfo(float).eps


def _normality(sample: np.ndarray, label: str) -> Diagnostic:
    return normality_diagnostic(
        sample,
        label,
        advice="consider a rank test (mann_whitney / wilcoxon) or a bootstrap interval",
        robust_text="the t-test is robust to non-normality of this kind",
    )


def _group_table(samples: Samples) -> pd.DataFrame:
    rows = []
    for name, a in zip(samples.names, samples.arrays, strict=True):
        m, sd = mean_sd(a)
        rows.append({"group": name, "n": int(a.size), "mean": m, "sd": sd})
    return pd.DataFrame(rows, columns=["group", "n", "mean", "sd"])


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "mu": vp.Interval("real"),
        "paired": "boolean",
        "equal_var": "boolean",
        "alternative": "alternative",
        "conf_level": "conf_level",
    }
)
def ttest(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    mu: float = 0.0,
    paired: bool = False,
    equal_var: bool = False,
    alternative: str = "two-sided",
    conf_level: float = 0.95,
) -> Result:
    """One-sample, two-sample (Welch by default, or pooled) and paired t-tests with a confidence interval.

    Parameters
    ----------
    x : array-like or str
        First sample, or a column name of ``data``.
    y : array-like or str, optional
        Second sample (or column name). Omit for a one-sample test, or use ``group`` instead. With
        ``paired=True``, two Series (or DataFrame columns) are paired by index label, not by position.
    data : DataFrame or Dataset, optional
        Table holding the columns named by ``x``, ``y`` and ``group``.
    group : str, optional
        Column with exactly two levels that splits ``x`` into two samples (long form).
    levels : (a, b), optional
        Order of the two groups; the estimate is mean(a) - mean(b). Default: sorted order, as R uses.
    mu : float
        Null value: the mean (one-sample), the mean difference (paired) or the difference in means.
    paired : bool
        Paired test on ``x - y``.
    equal_var : bool
        Pool the variances (Student's test). Default False: Welch's test with Satterthwaite df.
    alternative : {"two-sided", "less", "greater"}
    conf_level : float
        Confidence level of the interval.

    Returns
    -------
    Result
        ``estimate`` (mean, mean difference or difference in means), ``std_error``, ``ci_low``/``ci_high``,
        ``statistic`` (t), ``df``, ``pvalue``; ``details["groups"]`` has n, mean and sd per sample;
        diagnostics check normality and, for two samples, the variance ratio. ``effect_sizes`` holds Cohen's d and
        Hedges' g with confidence intervals: one-sample and paired d = (mean - mu) / sd (of the differences);
        two-sample d = (difference in means - mu) / pooled sd, for Welch's test too. The limits invert the
        noncentral t distribution of the corresponding (pooled) t statistic; g multiplies d and its limits by
        the exact correction J(df) = Γ(df/2) / (sqrt(df/2) Γ((df-1)/2)). Validated against R by solving
        ``pt(t, df, ncp)`` with ``uniroot(tol = 1e-12)``. When those limits cannot be found (a t statistic so
        large that the noncentral t distribution cannot be evaluated), the effect sizes are reported without an
        interval and a diagnostic says why; the test itself is unaffected.

    Raises
    ------
    DataError
        Fewer than two observations (per sample for Welch), or data without spread: R's ``t.test`` stops with
        "data are essentially constant" there. Data of any magnitude are accepted (means and standard deviations
        are computed after an exact rescaling, so values near 1e300 or 1e-300 give the same answer as R).

    Notes
    -----
    Welch: :math:`t = (\\bar x - \\bar y - \\mu)/\\sqrt{s_x^2/n_x + s_y^2/n_y}` with Satterthwaite df
    :math:`(s_x^2/n_x + s_y^2/n_y)^2 / [ (s_x^2/n_x)^2/(n_x-1) + (s_y^2/n_y)^2/(n_y-1) ]`.
    Validated against R's ``t.test`` (see ``tests/reference/``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> ds = ci.load_dataset("lalonde")
    >>> r = ci.stats.ttest("re78", data=ds, group="treat", levels=(1, 0))
    >>> round(r.estimate, 2), round(r.df, 1)
    (1794.34, 307.1)
    """
    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    mu = check_real(mu, "mu")
    if not isinstance(paired, bool) or not isinstance(equal_var, bool):
        raise ArgumentTypeError(f"`paired` and `equal_var` must be True or False; got paired={paired!r}, equal_var={equal_var!r}")
    if y is None and group is None:
        s = one_sample(x, data=data)
        return _one_sample_result(s.arrays[0], s, mu, alternative, conf_level, method="One Sample t-test", what=f"mean of {s.names[0]}")
    s = two_samples(x, y, data=data, group=group, levels=levels, paired=paired)
    a, b = s.arrays
    if paired:
        d = a - b
        if not np.all(np.isfinite(d)):
            raise DataError("the paired differences x - y overflow double precision (values near 1e308); rescale the data first")
        ds = Samples((d,), (f"{s.names[0]} - {s.names[1]}",), fingerprint=s.fingerprint)
        return _one_sample_result(
            d, ds, mu, alternative, conf_level, method="Paired t-test", what=f"mean difference {s.names[0]} - {s.names[1]}"
        )
    return _two_sample_result(s, mu=mu, equal_var=equal_var, alternative=alternative, conf_level=conf_level)


@dataclass(frozen=True)
class TwoSampleMoments:
    """Means, standard deviations and the standard error and df of the difference, computed around overflow."""

    nx: int
    ny: int
    mx: float
    my: float
    sdx: float
    sdy: float
    se: float
    df: float
    method: str


def two_sample_moments(a: np.ndarray, b: np.ndarray, names: Sequence[str], *, equal_var: bool, what: str = "t-test") -> TwoSampleMoments:
    """Standard error and df of mean(a) - mean(b): pooled (Student) or Welch-Satterthwaite.

    Works with standard errors rather than variances, so no square of the data is formed.
    """
    nx, ny = a.size, b.size
    (mx, sdx), (my, sdy) = mean_sd(a), mean_sd(b)
    sdx = 0.0 if nx < 2 else sdx
    sdy = 0.0 if ny < 2 else sdy
    if equal_var:
        if nx + ny < 3 or (nx < 2 and ny < 2):
            raise DataError(f"not enough observations for a pooled two-sample {what} (n = {nx} and {ny}); need at least 3 in all")
        df = float(nx + ny - 2)
        c = max(sdx, sdy)
        pooled = c * math.sqrt(((nx - 1) * (sdx / c) ** 2 + (ny - 1) * (sdy / c) ** 2) / df) if c > 0 else 0.0
        se = pooled * math.sqrt(1 / nx + 1 / ny)
        method = "Two Sample t-test"
    else:
        for n_, nm in ((nx, names[0]), (ny, names[1])):
            if n_ < 2:
                raise DataError(f"not enough observations in sample {nm!r} (n = {n_}) for Welch's {what}; need at least 2 per sample")
        ex, ey = sdx / math.sqrt(nx), sdy / math.sqrt(ny)
        se = math.hypot(ex, ey)
        if se > 0:
            ux, uy = (ex / se) ** 2, (ey / se) ** 2
            df = 1.0 / (ux**2 / (nx - 1) + uy**2 / (ny - 1))
        else:
            df = math.nan
        method = "Welch Two Sample t-test"
    finite_or_refuse(se, "the standard error of the difference in means")
    if se == 0 or se < 10 * _EPS * max(abs(mx), abs(my)):
        raise DataError(f"data are essentially constant: both samples have zero variance, so the {what} statistic is undefined")
    return TwoSampleMoments(nx, ny, mx, my, sdx, sdy, se, df, method)


def _variance_ratio(mom: TwoSampleMoments, equal_var: bool) -> Diagnostic:
    lo, hi = sorted((mom.sdx, mom.sdy))
    ratio = (hi / lo) ** 2 if lo > 0 else math.inf
    if equal_var and ratio > 2:
        return Diagnostic(
            "variance ratio",
            "warn",
            ratio,
            f"larger/smaller variance = {ratio:.3g} > 2: the pooled test is unreliable; use Welch (equal_var=False)",
        )
    msg = f"larger/smaller variance = {ratio:.3g}" + ("; Welch's test does not assume equal variances" if not equal_var else "")
    return Diagnostic("variance ratio", "ok", ratio, msg)


def _two_sample_result(s: Samples, *, mu: float, equal_var: bool, alternative: str, conf_level: float) -> Result:
    a, b = s.arrays
    mom = two_sample_moments(a, b, s.names, equal_var=equal_var)
    est = finite_or_refuse(mom.mx - mom.my, "the difference in means")
    t, p, lo, hi = t_interval_and_pvalue(est, mom.se, mom.df, mu, alternative, conf_level)
    lo, hi = finite_limits(lo, hi, alternative)
    effects, effect_diags = _two_sample_effect_sizes(mom, mu, conf_level, alternative)
    diags = [_normality(a, s.names[0]), _normality(b, s.names[1]), _variance_ratio(mom, equal_var), *effect_diags]
    resp = f" of {s.response}" if s.response else ""
    return Result(
        method=mom.method,
        estimand=f"difference in means{resp}: {s.names[0]} minus {s.names[1]}",
        estimate=est,
        std_error=mom.se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=t,
        statistic_name="t",
        df=mom.df,
        pvalue=p,
        alternative=alternative,
        null_value=mu,
        n=mom.nx + mom.ny,
        effect_sizes=effects,
        diagnostics=tuple(diags),
        details={"groups": _group_table(s)},
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )


def one_sample_moments(a: np.ndarray, what: str = "t-test") -> tuple[float, float]:
    """Mean and standard error of one sample (at least two observations, not constant), around overflow."""
    n = a.size
    if n < 2:
        raise DataError(f"not enough observations (n = {n}) for a {what}; need at least 2")
    m, sd = mean_sd(a)
    se = finite_or_refuse(sd / math.sqrt(n), "the standard error of the mean")
    if se == 0 or se < 10 * _EPS * abs(m):
        raise DataError(f"data are essentially constant (all values equal {m:g}), so the {what} statistic is undefined")
    return m, se


def finite_limits(lo: float, hi: float, alternative: str) -> tuple[float, float]:
    """Confidence limits, refused when a limit that should be finite overflows (one-sided intervals keep their infinite side)."""
    if alternative != "less":
        finite_or_refuse(lo, "the lower confidence limit")
    if alternative != "greater":
        finite_or_refuse(hi, "the upper confidence limit")
    return lo, hi


def _one_sample_result(a: np.ndarray, s: Samples, mu: float, alternative: str, conf_level: float, *, method: str, what: str) -> Result:
    n = a.size
    m, se = one_sample_moments(a)
    t, p, lo, hi = t_interval_and_pvalue(m, se, n - 1, mu, alternative, conf_level)
    lo, hi = finite_limits(lo, hi, alternative)
    kind = f"(mean - mu) / sd{' of the differences' if method.startswith('Paired') else ''}"
    effects, effect_diags = safe_standardized_differences(t, n - 1, 1 / math.sqrt(n), conf_level, alternative, kind=kind)
    return Result(
        method=method,
        estimand=what,
        estimate=m,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=t,
        statistic_name="t",
        df=float(n - 1),
        pvalue=p,
        alternative=alternative,
        null_value=mu,
        n=n,
        effect_sizes=effects,
        diagnostics=(_normality(a, s.names[0]), *effect_diags),
        details={"groups": _group_table(s)},
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )


def _two_sample_effect_sizes(
    mom: TwoSampleMoments, mu: float, conf_level: float, alternative: str
) -> tuple[tuple[EffectSize, ...], tuple[Diagnostic, ...]]:
    """Cohen's d and Hedges' g on the pooled standard deviation (whichever t-test was run)."""
    nx, ny = mom.nx, mom.ny
    if nx + ny < 3:
        return (), ()
    c = max(mom.sdx, mom.sdy)
    if c <= 0:
        return (), ()
    pooled_sd = c * math.sqrt(((nx - 1) * (mom.sdx / c) ** 2 + (ny - 1) * (mom.sdy / c) ** 2) / (nx + ny - 2))
    scale = math.sqrt(1 / nx + 1 / ny)
    t = (mom.mx - mom.my - mu) / (pooled_sd * scale)
    return safe_standardized_differences(t, nx + ny - 2, scale, conf_level, alternative, kind="(difference in means - mu) / pooled sd")
