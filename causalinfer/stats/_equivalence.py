"""Equivalence testing: two one-sided t-tests (TOST) for one-sample, paired and two-sample means."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_probability, check_real
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Diagnostic, Provenance, Result
from ._inputs import one_sample, two_samples
from ._ttest import _normality

_EPS = np.finfo(float).eps


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "bounds": vp.NoCheck("checked by the body, which asks for a pair (low, high) of finite numbers with low < high"),
        "paired": "boolean",
        "equal_var": "boolean",
        "alpha": vp.Interval("real", 0, 0.5, closed="neither"),
    }
)
def tost(
    x: Any,
    y: Any = None,
    *,
    bounds: tuple[float, float],
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    paired: bool = False,
    equal_var: bool = False,
    alpha: float = 0.05,
) -> Result:
    """Equivalence test of means by two one-sided t-tests (Schuirmann's TOST), Welch by default.

    Parameters
    ----------
    x : array-like or str
        Sample (or column name of ``data``).
    y : array-like or str, optional
        Second sample; omit for a one-sample test, or use ``group`` for long-form data.
    bounds : (low, high)
        Equivalence margins on the raw scale of the mean (one sample), the mean difference (paired) or the
        difference in means ``x - y``; ``low < high``. Equivalence is claimed when the mean lies inside them.
    data : DataFrame or Dataset, optional
    group : str, optional
        Column with two levels splitting ``x`` (two-sample test).
    levels : (a, b), optional
    paired : bool
        Paired test on ``x - y``.
    equal_var : bool
        Pooled variance (Student) instead of Welch's standard error and df.
    alpha : float
        Level of each one-sided test; the reported interval has confidence ``1 - 2 alpha``.

    Returns
    -------
    Result
        ``estimate`` (mean, mean difference or difference in means), ``std_error``, ``ci_low``/``ci_high`` at
        ``1 - 2 alpha``, ``df``, ``pvalue`` = max of the two one-sided p-values, ``statistic`` = the t statistic
        of the larger p-value; ``details``: ``t_lower``/``p_lower`` (H0: mean <= low), ``t_upper``/``p_upper``
        (H0: mean >= high), ``bounds``, ``equivalent`` (pvalue < alpha), ``tests`` (a table of both).

    Notes
    -----
    :math:`t_L = (\\hat\\theta - \\Delta_L)/se` with :math:`p_L = P(T_{df} > t_L)`;
    :math:`t_U = (\\hat\\theta - \\Delta_U)/se` with :math:`p_U = P(T_{df} < t_U)`; TOST p-value
    :math:`\\max(p_L, p_U)`, which is below :math:`\\alpha` exactly when the :math:`1-2\\alpha` interval lies within
    the bounds. Validated against the one-sided ``t.test`` p-values and the ``conf.level = 1 - 2 alpha`` interval
    in R (``tests/reference/equivalence.R``).

    Examples
    --------
    >>> import numpy as np
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(3)
    >>> r = ci.stats.tost(rng.normal(0.05, 1, 200), rng.normal(0, 1, 200), bounds=(-0.3, 0.3))
    >>> r.details["equivalent"], r.conf_level
    (True, 0.9)
    """
    from scipy import special

    if bounds is None or isinstance(bounds, (str, bytes)) or not isinstance(bounds, Sequence) or len(bounds) != 2:
        raise ArgumentError(f"`bounds` must be a pair (low, high) of equivalence margins; got {bounds!r}")
    low = check_real(bounds[0], "bounds[0]")
    high = check_real(bounds[1], "bounds[1]")
    if not low < high:
        raise ArgumentError(f"`bounds` must satisfy low < high; got {bounds!r}")
    alpha = check_probability(alpha, "alpha", open_interval=True)
    if alpha >= 0.5:
        raise ArgumentError(f"`alpha` must be below 0.5 (the interval has confidence 1 - 2 alpha); got {alpha!r}")
    if not isinstance(paired, bool) or not isinstance(equal_var, bool):
        raise ArgumentTypeError(f"`paired` and `equal_var` must be True or False; got paired={paired!r}, equal_var={equal_var!r}")
    if y is None and group is None:
        s = one_sample(x, data=data)
        a = s.arrays[0]
        est, se, df, diags = _one(a, s.names[0])
        method, what = "One Sample TOST t-test", f"mean of {s.names[0]}"
        n = a.size
    else:
        s = two_samples(x, y, data=data, group=group, levels=levels, paired=paired)
        a, b = s.arrays
        if paired:
            est, se, df, diags = _one(a - b, f"{s.names[0]} - {s.names[1]}")
            method, what = "Paired TOST t-test", f"mean difference {s.names[0]} - {s.names[1]}"
            n = a.size
        else:
            est, se, df, diags = _two(a, b, s.names, equal_var)
            method = "Two Sample TOST t-test" if equal_var else "Welch Two Sample TOST t-test"
            what = f"difference in means: {s.names[0]} minus {s.names[1]}"
            n = a.size + b.size
    t_lo = (est - low) / se
    t_hi = (est - high) / se
    p_lo = float(special.stdtr(df, -t_lo))
    p_hi = float(special.stdtr(df, t_hi))
    q = float(special.stdtrit(df, 1 - alpha))
    ci_lo, ci_hi = est - q * se, est + q * se
    pval = max(p_lo, p_hi)
    stat = t_lo if p_lo >= p_hi else t_hi
    tests = pd.DataFrame(
        {
            "test": ["lower", "upper"],
            "null": [f"mean <= {low:g}", f"mean >= {high:g}"],
            "bound": [low, high],
            "t": [t_lo, t_hi],
            "df": [df, df],
            "pvalue": [p_lo, p_hi],
        }
    )
    return Result(
        method=method,
        estimand=f"{what}; equivalence within [{low:g}, {high:g}]",
        estimate=est,
        std_error=se,
        ci_low=ci_lo,
        ci_high=ci_hi,
        conf_level=1 - 2 * alpha,
        statistic=stat,
        statistic_name="t",
        df=df,
        pvalue=pval,
        n=n,
        diagnostics=tuple(diags),
        details={
            "t_lower": t_lo,
            "p_lower": p_lo,
            "t_upper": t_hi,
            "p_upper": p_hi,
            "bounds": [low, high],
            "alpha": alpha,
            "equivalent": bool(pval < alpha),
            "tests": tests,
        },
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )


def _one(a: np.ndarray, label: str) -> tuple[float, float, float, list[Diagnostic]]:
    n = a.size
    if n < 2:
        raise DataError(f"not enough observations (n = {n}) for a TOST t-test; need at least 2")
    m = float(a.mean())
    se = float(a.std(ddof=1)) / math.sqrt(n)
    if se == 0 or se < 10 * _EPS * abs(m):
        raise DataError(f"data are essentially constant (all values equal {m:g}), so the t statistics are undefined")
    return m, se, float(n - 1), [_normality(a, label)]


def _two(a: np.ndarray, b: np.ndarray, names: tuple[str, ...], equal_var: bool) -> tuple[float, float, float, list[Diagnostic]]:
    nx, ny = a.size, b.size
    vx = float(a.var(ddof=1)) if nx > 1 else 0.0
    vy = float(b.var(ddof=1)) if ny > 1 else 0.0
    if equal_var:
        if nx + ny < 3:
            raise DataError(f"not enough observations for a pooled TOST (n = {nx} and {ny}); need at least 3 in all")
        df = float(nx + ny - 2)
        v = ((nx - 1) * vx + (ny - 1) * vy) / df
        se = math.sqrt(v * (1 / nx + 1 / ny))
    else:
        for n_, nm in ((nx, names[0]), (ny, names[1])):
            if n_ < 2:
                raise DataError(f"not enough observations in sample {nm!r} (n = {n_}) for a Welch TOST; need at least 2 per sample")
        sx, sy = vx / nx, vy / ny
        se = math.sqrt(sx + sy)
        df = (sx + sy) ** 2 / (sx**2 / (nx - 1) + sy**2 / (ny - 1)) if se > 0 else math.nan
    mx, my = float(a.mean()), float(b.mean())
    if se == 0 or se < 10 * _EPS * max(abs(mx), abs(my)):
        raise DataError("data are essentially constant: both samples have zero variance, so the t statistics are undefined")
    diags = [_normality(a, names[0]), _normality(b, names[1])]
    return mx - my, se, df, diags
