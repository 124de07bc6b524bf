"""Student and Welch t-tests (one-sample, two-sample, paired), validated against R's ``t.test``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_alternative, check_conf_level, check_real
from ..exceptions import ArgumentTypeError, DataError
from ..results import Diagnostic, EffectSize, Provenance, Result
from ._effect_sizes import standardized_differences
from ._inputs import Samples, one_sample, two_samples

_EPS = np.finfo(float).eps


def t_interval_and_pvalue(
    estimate: float, se: float, df: float, null: float, alternative: str, conf_level: float
) -> tuple[float, float, float, float]:
    """t statistic, p-value and confidence limits for ``estimate`` with standard error ``se`` on ``df`` df."""
    from scipy import stats

    t = (estimate - null) / se
    if alternative == "less":
        p = float(stats.t.cdf(t, df))
        lo, hi = -math.inf, estimate + se * float(stats.t.ppf(conf_level, df))
    elif alternative == "greater":
        p = float(stats.t.sf(t, df))
        lo, hi = estimate - se * float(stats.t.ppf(conf_level, df)), math.inf
    else:
        p = float(2 * stats.t.sf(abs(t), df))
        q = float(stats.t.ppf(0.5 + conf_level / 2, df))
        lo, hi = estimate - q * se, estimate + q * se
    return float(t), min(p, 1.0), lo, hi


def _normality(sample: np.ndarray, label: str) -> Diagnostic:
    from scipy import stats

    n = sample.size
    if n < 3:
        return Diagnostic(f"normality ({label})", "warn", None, f"only {n} observation(s): normality cannot be checked")
    if np.ptp(sample) == 0:
        return Diagnostic(f"normality ({label})", "warn", None, "all values are equal")
    x = sample if n <= 5000 else np.random.default_rng(0).choice(sample, 5000, replace=False)
    p = float(stats.shapiro(x).pvalue)
    if p >= 0.05:
        return Diagnostic(f"normality ({label})", "ok", p, f"Shapiro-Wilk p = {p:.3g}: no evidence against normality")
    if n >= 30:
        return Diagnostic(
            f"normality ({label})",
            "ok",
            p,
            f"Shapiro-Wilk p = {p:.3g}, but with n = {n} the t-test is robust to non-normality of this kind",
        )
    return Diagnostic(
        f"normality ({label})",
        "warn",
        p,
        f"Shapiro-Wilk p = {p:.3g} with only n = {n}: consider a rank test (mann_whitney / wilcoxon) or a bootstrap interval",
    )


def _group_table(samples: Samples) -> pd.DataFrame:
    rows = [
        {"group": name, "n": int(a.size), "mean": float(a.mean()), "sd": float(a.std(ddof=1)) if a.size > 1 else math.nan}
        for name, a in zip(samples.names, samples.arrays, strict=True)
    ]
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
        Second sample (or column name). Omit for a one-sample test, or use ``group`` instead.
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
        ``pt(t, df, ncp)`` with ``uniroot(tol = 1e-12)``.

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

    one = y is None and group is None
    if one:
        s = one_sample(x, data=data)
        a = s.arrays[0]
        return _one_sample_result(a, s, mu, alternative, conf_level, method="One Sample t-test", what=f"mean of {s.names[0]}")
    s = two_samples(x, y, data=data, group=group, levels=levels, paired=paired)
    a, b = s.arrays
    if paired:
        d = a - b
        ds = Samples((d,), (f"{s.names[0]} - {s.names[1]}",), fingerprint=s.fingerprint)
        return _one_sample_result(
            d, ds, mu, alternative, conf_level, method="Paired t-test", what=f"mean difference {s.names[0]} - {s.names[1]}"
        )

    nx, ny = a.size, b.size
    mx, my = float(a.mean()), float(b.mean())
    vx = float(a.var(ddof=1)) if nx > 1 else 0.0
    vy = float(b.var(ddof=1)) if ny > 1 else 0.0
    if equal_var:
        if nx + ny < 3 or (nx < 2 and ny < 2):
            raise DataError(f"not enough observations for a pooled two-sample t-test (n = {nx} and {ny}); need at least 3 in all")
        df = float(nx + ny - 2)
        v = 0.0
        if nx > 1:
            v += (nx - 1) * vx
        if ny > 1:
            v += (ny - 1) * vy
        v /= df
        se = math.sqrt(v * (1 / nx + 1 / ny))
        method = "Two Sample t-test"
    else:
        for n_, nm in ((nx, s.names[0]), (ny, s.names[1])):
            if n_ < 2:
                raise DataError(f"not enough observations in sample {nm!r} (n = {n_}) for Welch's t-test; need at least 2 per sample")
        sx, sy = vx / nx, vy / ny
        se = math.sqrt(sx + sy)
        df = (sx + sy) ** 2 / (sx**2 / (nx - 1) + sy**2 / (ny - 1)) if se > 0 else math.nan
        method = "Welch Two Sample t-test"
    if se < 10 * _EPS * max(abs(mx), abs(my)) or se == 0:
        raise DataError("data are essentially constant: both samples have zero variance, so the t statistic is undefined")
    est = mx - my
    t, p, lo, hi = t_interval_and_pvalue(est, se, df, mu, alternative, conf_level)

    diags = [_normality(a, s.names[0]), _normality(b, s.names[1])]
    ratio = max(vx, vy) / min(vx, vy) if min(vx, vy) > 0 else math.inf
    if equal_var and ratio > 2:
        diags.append(
            Diagnostic(
                "variance ratio",
                "warn",
                ratio,
                f"larger/smaller variance = {ratio:.3g} > 2: the pooled test is unreliable; use Welch (equal_var=False)",
            )
        )
    else:
        msg = f"larger/smaller variance = {ratio:.3g}" + ("; Welch's test does not assume equal variances" if not equal_var else "")
        diags.append(Diagnostic("variance ratio", "ok", ratio, msg))
    resp = f" of {s.response}" if s.response else ""
    effects = _two_sample_effect_sizes(a, b, mu, conf_level, alternative)
    return Result(
        method=method,
        estimand=f"difference in means{resp}: {s.names[0]} minus {s.names[1]}",
        estimate=est,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=t,
        statistic_name="t",
        df=df,
        pvalue=p,
        alternative=alternative,
        null_value=mu,
        n=nx + ny,
        effect_sizes=effects,
        diagnostics=tuple(diags),
        details={"groups": _group_table(s)},
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )


def _one_sample_result(a: np.ndarray, s: Samples, mu: float, alternative: str, conf_level: float, *, method: str, what: str) -> Result:
    n = a.size
    if n < 2:
        raise DataError(f"not enough observations (n = {n}) for a t-test; need at least 2")
    m = float(a.mean())
    se = float(a.std(ddof=1)) / math.sqrt(n)
    if se < 10 * _EPS * abs(m) or se == 0:
        raise DataError(f"data are essentially constant (all values equal {m:g}), so the t statistic is undefined")
    t, p, lo, hi = t_interval_and_pvalue(m, se, n - 1, mu, alternative, conf_level)
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
        effect_sizes=standardized_differences(
            t,
            n - 1,
            1 / math.sqrt(n),
            conf_level,
            alternative,
            kind=f"(mean - mu) / sd{' of the differences' if method.startswith('Paired') else ''}",
        ),
        diagnostics=(_normality(a, s.names[0]),),
        details={"groups": _group_table(s)},
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )


def _two_sample_effect_sizes(a: np.ndarray, b: np.ndarray, mu: float, conf_level: float, alternative: str) -> tuple[EffectSize, ...]:
    """Cohen's d and Hedges' g on the pooled standard deviation (whichever t-test was run)."""
    nx, ny = a.size, b.size
    if nx + ny < 3:
        return ()
    pooled = ((nx - 1) * (float(a.var(ddof=1)) if nx > 1 else 0.0) + (ny - 1) * (float(b.var(ddof=1)) if ny > 1 else 0.0)) / (nx + ny - 2)
    if pooled <= 0:
        return ()
    scale = math.sqrt(1 / nx + 1 / ny)
    t = (float(a.mean()) - float(b.mean()) - mu) / (math.sqrt(pooled) * scale)
    return standardized_differences(t, nx + ny - 2, scale, conf_level, alternative, kind="(difference in means - mu) / pooled sd")
