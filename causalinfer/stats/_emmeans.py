"""Estimated marginal means on a reference grid with pairwise contrasts, as R's ``emmeans``.

Validated against R's ``emmeans`` and ``pairs`` (``tests/reference/emmeans.R``).
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice, check_conf_level, show
from ..exceptions import ArgumentError
from ..results import Result
from ._margins import _data_and_offset, _matrix, _Model, _model_of
from ._normal import t_crit, t_pvalue, z_crit

if TYPE_CHECKING:
    from ._regression import RegressionResult

__all__ = ["emmeans"]

_ADJUST = ("tukey", "holm", "bonferroni", "none")


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.stats._regression:RegressionResult"),
        "specs": "string",
        "by": [None, "string"],
        "newdata": [None, "data"],
        "type": vp.Options(("link", "response")),
        "adjust": vp.Options(_ADJUST),
        "offset": [None, "sample"],
        "conf_level": "conf_level",
    }
)
def emmeans(
    result: RegressionResult,
    specs: str,
    *,
    by: str | None = None,
    newdata: Any = None,
    type: str = "link",
    adjust: str = "tukey",
    offset: Any = None,
    conf_level: float = 0.95,
) -> Result:
    """Estimated marginal means of a factor, with all pairwise contrasts, as R's ``emmeans`` and ``pairs``.

    Parameters
    ----------
    result : RegressionResult
        A fitted :func:`ols`, :func:`logit`, :func:`poisson`, :func:`negative_binomial` or :func:`glm` model
        (formula fits).
    specs : str
        The categorical variable whose levels' means are wanted.
    by : str, optional
        Another categorical variable: means and contrasts within each of its levels.
    newdata : DataFrame or Dataset, optional
        The fitting data (default: the data a :func:`glm` result keeps); it sets the covariate means.
    type : {"link", "response"}
        Scale of the means: the linear predictor, or the mean (back-transformed, with the link-scale interval
        mapped through the inverse link and a delta-method standard error). Contrasts are always differences on
        the link scale (log odds ratios for a logit model, log rate ratios for a log link), as ``pairs``.
    adjust : {"tukey", "holm", "bonferroni", "none"}
        Multiplicity adjustment of the contrasts' p-values (within each ``by`` group): Tukey's studentized range
        (Tukey-Kramer), or :func:`adjust_pvalues`. Intervals: Tukey, or Bonferroni for ``"holm"`` and
        ``"bonferroni"`` (as emmeans), unadjusted for ``"none"``.
    offset : array-like or str, optional
        Offset of the ``newdata`` rows when the model has one; the grid uses its mean.
    conf_level : float

    Returns
    -------
    Result
        ``terms``: one row per mean (``"g = a"``, or ``"g = a | h = lo"``) with ``estimate, std_error, ci_low,
        ci_high, statistic, df, pvalue`` (t on the residual df for least squares and for GLMs with an estimated
        dispersion, normal otherwise). ``details["contrasts"]``: a Result with one row per pair (``"a - b"``),
        adjusted p-values and intervals; ``details["grid"]``: the reference grid.

    Notes
    -----
    The reference grid holds every combination of the levels of the model's categorical variables, with numeric
    variables at their mean. A marginal mean averages the grid's linear predictors over the other factors with
    equal weights, :math:`L\\hat\\beta` with :math:`\\mathrm{se} = \\sqrt{L V L'}` (``V`` the fit's covariance).
    Validated against R's ``emmeans`` (``tests/reference/emmeans.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(2)
    >>> df = pd.DataFrame({"g": rng.choice(["a", "b", "c"], size=90), "x": rng.normal(size=90)})
    >>> df["y"] = (df.g == "b") + 0.5 * df.x + rng.normal(size=90)
    >>> em = ci.stats.emmeans(ci.stats.ols("y ~ g + x", data=df), "g", newdata=df)
    >>> em.terms["term"].tolist(), em.details["contrasts"].terms["term"].tolist()
    (['g = a', 'g = b', 'g = c'], ['a - b', 'a - c', 'b - c'])
    """
    scale = check_choice(type, "type", ("link", "response"))
    adj = check_choice(adjust, "adjust", _ADJUST)
    level = check_conf_level(conf_level)
    frame, off = _data_and_offset(result, newdata, offset)
    m = _model_of(result, frame)
    if isinstance(m.info, dict):
        raise ArgumentError("emmeans needs a model fitted with a formula (its categorical variables define the grid)")
    for name, value in (("specs", specs), ("by", by)):
        if value is not None and m.variables.get(value) is None:
            cats = [v for v, lv in m.variables.items() if lv is not None]
            raise ArgumentError(f"`{name}` = {show(value)} is not a categorical variable of the model; choose among {cats}")
    if by is not None and by == specs:
        raise ArgumentError(f"`by` must differ from `specs`; both are {specs!r}")
    grid = _reference_grid(frame, m)
    X = _matrix(m, grid)
    fit = result.details["fit"]
    df = float(fit["inference_df"]) if fit.get("inference") == "t" else math.inf
    groups = [None] if by is None else list(m.variables[by])
    means, contrasts = _means_and_contrasts(m, grid, X, specs, by, groups, df, level, adj, float(np.mean(off)), scale)
    what = f"estimated marginal means of {specs}" + (f" by {by}" if by else "")
    return Result(
        method=f"Estimated marginal means ({scale} scale, equal weights over the reference grid); pairwise contrasts on the link scale, {adj} adjustment",
        estimand=what,
        conf_level=level,
        alternative="two-sided",
        null_value=0.0,
        n=len(frame),
        terms=means,
        details={"contrasts": contrasts, "grid": grid},
        provenance=result.provenance,
    )


def _reference_grid(frame: pd.DataFrame, m: _Model) -> pd.DataFrame:
    factors = {v: lv for v, lv in m.variables.items() if lv is not None}
    numeric = {v: float(frame[v].astype(float).mean()) for v, lv in m.variables.items() if lv is None}
    rows = [dict(zip(factors, combo, strict=True)) for combo in itertools.product(*factors.values())]
    grid = pd.DataFrame(rows if rows else [{}])
    for v, mean in numeric.items():
        grid[v] = mean
    return grid


def _means_and_contrasts(
    m: _Model,
    grid: pd.DataFrame,
    X: np.ndarray,
    specs: str,
    by: Any,
    groups: list[Any],
    df: float,
    level: float,
    adj: str,
    off: float,
    scale: str,
) -> tuple[pd.DataFrame, Result]:
    levels = list(m.variables[specs])
    mean_rows, con_rows = [], []
    for gval in groups:
        in_group = np.ones(len(grid), dtype=bool) if by is None else (grid[by] == gval).to_numpy()
        L = np.array([X[in_group & (grid[specs] == lev).to_numpy()].mean(axis=0) for lev in levels])
        suffix = "" if by is None else f" | {by} = {gval}"
        mean_rows.append(_mean_table(m, L, off, [f"{specs} = {lev}{suffix}" for lev in levels], df, level, scale))
        pairs = list(itertools.combinations(range(len(levels)), 2))
        C = np.array([L[i] - L[j] for i, j in pairs])
        labels = [f"{levels[i]} - {levels[j]}{suffix}" for i, j in pairs]
        con_rows.append(_contrast_table(m, C, labels, len(levels), df, level, adj))
    contrasts = pd.concat(con_rows, ignore_index=True)
    con = Result(
        method=f"Pairwise contrasts of estimated marginal means of {specs} (link scale), {adj} adjustment",
        estimand=f"differences between the levels of {specs}",
        conf_level=level,
        alternative="two-sided",
        null_value=0.0,
        terms=contrasts,
    )
    return pd.concat(mean_rows, ignore_index=True), con


def _mean_table(m: _Model, L: np.ndarray, off: float, labels: list[str], df: float, level: float, scale: str) -> pd.DataFrame:
    eta = L @ m.coef + off
    se = np.sqrt(np.einsum("ij,jk,ik->i", L, m.cov, L))
    q = z_crit(level) if math.isinf(df) else t_crit(level, df)
    stat = eta / se
    p = _pvalues(stat, df)
    lo, hi = eta - q * se, eta + q * se
    if scale == "response":
        a, b = m.link.linkinv(lo), m.link.linkinv(hi)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        se = se * np.abs(m.link.mu_eta(eta))
        eta = m.link.linkinv(eta)
        stat, p = np.full(len(labels), np.nan), np.full(len(labels), np.nan)
    return pd.DataFrame({"term": labels, "estimate": eta, "std_error": se, "ci_low": lo, "ci_high": hi, "statistic": stat,
                         "df": np.full(len(labels), np.nan if math.isinf(df) else df), "pvalue": p})  # fmt: skip


def _pvalues(stat: np.ndarray, df: float) -> np.ndarray:
    from ._normal import z_pvalue

    if math.isinf(df):
        return np.array([z_pvalue(float(s), "two-sided") for s in stat])
    return np.asarray(t_pvalue(stat, df), dtype=float)


def _contrast_table(m: _Model, C: np.ndarray, labels: list[str], k: int, df: float, level: float, adj: str) -> pd.DataFrame:
    from scipy import stats

    from ._anova import _qtukey
    from ._multiple import adjust_pvalues

    est = C @ m.coef
    se = np.sqrt(np.einsum("ij,jk,ik->i", C, m.cov, C))
    stat = est / se
    raw = _pvalues(stat, df)
    n_pairs = len(labels)
    if adj == "tukey" and k > 2:
        p = np.minimum(stats.studentized_range.sf(np.abs(stat) * math.sqrt(2), k, df), 1.0)
        q = _qtukey(level, k, df) / math.sqrt(2)
    else:
        p = raw if adj in ("none", "tukey") else np.asarray(adjust_pvalues(raw, method=adj), dtype=float)
        lev = level if adj in ("none", "tukey") else 1 - (1 - level) / n_pairs
        q = z_crit(lev) if math.isinf(df) else t_crit(lev, df)
    return pd.DataFrame({"term": labels, "estimate": est, "std_error": se, "ci_low": est - q * se, "ci_high": est + q * se,
                         "statistic": stat, "df": np.full(n_pairs, np.nan if math.isinf(df) else df), "pvalue": p})  # fmt: skip
