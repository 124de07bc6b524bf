"""Partial correlation: the correlation of two variables after removing the linear effect of covariates."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _validation as vp
from .._validation import check_array, check_choice, check_conf_level, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Provenance, Result
from ._inputs import _column, _frame_of
from ._normal import t_pvalue, z_crit

__all__ = ["partial_correlation"]


@vp.validate_params(
    {
        "x": "sample",
        "y": "sample",
        "covar": ["columns", "array-like"],
        "data": [None, "data"],
        "method": vp.Options(("pearson", "spearman")),
        "conf_level": "conf_level",
    }
)
def partial_correlation(
    x: Any,
    y: Any,
    covar: Any,
    *,
    data: Any = None,
    method: str = "pearson",
    conf_level: float = 0.95,
) -> Result:
    """Partial correlation of ``x`` and ``y`` given covariates, with a t test and a Fisher-z interval.

    Parameters
    ----------
    x, y : array-like or str
        The two variables (or column names of ``data``).
    covar : array-like, str or list of str
        Covariates to partial out: a column name, a list of column names, or an array (n,) or (n, k).
    data : DataFrame or Dataset, optional
    method : {"pearson", "spearman"}
        Spearman ranks every variable (covariates included) first, as ``ppcor::pcor.test``.
    conf_level : float

    Returns
    -------
    Result
        ``estimate`` (partial r), ``ci_low``/``ci_high`` (Fisher z with n - 3 - k), ``statistic`` (t),
        ``df`` (n - 2 - k), ``pvalue`` (two-sided), ``n``; ``details["k"]`` (number of covariates).

    Notes
    -----
    r is the correlation of the least-squares residuals of x and y on the covariates (with intercept);
    :math:`t = r\\sqrt{(n-2-k)/(1-r^2)}`. Validated against the residual correlation computed with R's ``lm``
    (``tests/reference/repeated.R``).

    Examples
    --------
    >>> import numpy as np
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=100)
    >>> r = ci.stats.partial_correlation(z + rng.normal(size=100), z + rng.normal(size=100), z)
    >>> r.df
    97.0
    """
    from scipy import stats

    method = check_choice(method, "method", ("pearson", "spearman"))
    conf_level = check_conf_level(conf_level)
    fp = None
    names = ("x", "y")
    if data is not None:
        frame, fp = _frame_of(data)
        if not isinstance(x, str) or not isinstance(y, str):
            raise ArgumentTypeError("with `data`, `x` and `y` must be column names")
        cols = [covar] if isinstance(covar, str) else list(covar) if isinstance(covar, (list, tuple)) else None
        if not cols or not all(isinstance(c, str) for c in cols):
            raise ArgumentTypeError(f"with `data`, `covar` must be a column name or a list of column names; got {show(covar)}")
        if len({x, y, *cols}) != 2 + len(cols):
            raise ArgumentError(f"`x`, `y` and `covar` must name different columns; got x={x!r}, y={y!r}, covar={cols}")
        names = (x, y)
        xa = check_array(_column(frame, x, "x"), "x")
        ya = check_array(_column(frame, y, "y"), "y")
        Z = np.column_stack([check_array(_column(frame, c, "covar"), f"covar[{c!r}]") for c in cols])
    else:
        if isinstance(x, str) or isinstance(y, str) or isinstance(covar, str):
            raise ArgumentTypeError("column names were given but no `data`; pass data=your_dataframe")
        if isinstance(covar, (list, tuple)) and covar and all(isinstance(c, str) for c in covar):
            raise ArgumentTypeError(f"`covar` holds column names {show(covar)} but no `data` was given; pass data=your_dataframe")
        xa, ya = check_array(x, "x"), check_array(y, "y")
        try:
            one_column = np.ndim(covar) <= 1
        except (TypeError, ValueError):  # ragged rows: check_array says so
            one_column = False
        Z = check_array(covar, "covar").reshape(-1, 1) if one_column else check_array(covar, "covar", ndim=2)
    n = xa.size
    if ya.size != n or Z.shape[0] != n:
        raise DataError(f"`x`, `y` and `covar` must have the same number of observations; got {n}, {ya.size} and {Z.shape[0]}")
    k = Z.shape[1]
    if n - 3 - k < 1:
        raise DataError(f"a partial correlation with {k} covariate(s) needs at least {k + 4} observations; got {n}")
    if method == "spearman":
        xa, ya = stats.rankdata(xa), stats.rankdata(ya)
        Z = np.column_stack([stats.rankdata(c) for c in Z.T])
    D = np.column_stack([np.ones(n), Z])
    if np.linalg.matrix_rank(D) < D.shape[1]:
        raise DataError("the covariates are collinear (or constant); drop redundant ones")
    q, _ = np.linalg.qr(D)
    ex = xa - q @ (q.T @ xa)
    ey = ya - q @ (q.T @ ya)
    sx, sy = float(np.sqrt(ex @ ex)), float(np.sqrt(ey @ ey))
    if sx == 0 or sy == 0:
        raise DataError("`x` or `y` is an exact linear function of the covariates, so the partial correlation is undefined")
    r = float(np.clip(ex @ ey / (sx * sy), -1.0, 1.0))
    df = n - 2 - k
    t = r * math.sqrt(df / (1 - r * r)) if abs(r) < 1 else math.copysign(math.inf, r)
    p = t_pvalue(t, df)
    zq = z_crit(conf_level)
    se = 1 / math.sqrt(n - 3 - k)
    z = math.atanh(r) if abs(r) < 1 else math.copysign(math.inf, r)
    label = "Pearson" if method == "pearson" else "Spearman"
    return Result(
        method=f"{label} partial correlation",
        estimand=f"correlation of {names[0]} and {names[1]} given {k} covariate(s)",
        estimate=r,
        ci_low=math.tanh(z - zq * se),
        ci_high=math.tanh(z + zq * se),
        conf_level=conf_level,
        statistic=t,
        statistic_name="t",
        df=float(df),
        pvalue=min(1.0, p),
        alternative="two-sided",
        null_value=0.0,
        n=n,
        details={"k": k},
        provenance=Provenance.current(data_fingerprint=fp),
    )
