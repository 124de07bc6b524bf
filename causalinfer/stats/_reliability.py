"""Reliability: intraclass correlations (the six Shrout-Fleiss forms) and Cronbach's alpha, with F-based intervals.

Validated against hand computations in R from ``aov`` mean squares, with the intervals ``psych::ICC`` and
``psych::alpha.ci`` compute (``tests/reference/repeated.R``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_array, check_conf_level, show
from ..data import Dataset
from ..exceptions import ArgumentError, DataError
from ..results import Diagnostic, EffectSize, Provenance, Result, TableResult
from ._inputs import _frame_of
from ._repeated import _to_wide

__all__ = ["cronbach_alpha", "icc"]

ICC_COLUMNS = ("type", "description", "icc", "F", "df1", "df2", "pvalue", "ci_low", "ci_high", "conf_level")
_ICC_DESCRIPTIONS = {
    "ICC1": "single rater, absolute agreement, one-way random effects",
    "ICC2": "single rater, absolute agreement, two-way random effects",
    "ICC3": "single rater, consistency, two-way mixed effects",
    "ICC1k": "mean of k raters, absolute agreement, one-way random effects",
    "ICC2k": "mean of k raters, absolute agreement, two-way random effects",
    "ICC3k": "mean of k raters, consistency, two-way mixed effects",
}


def _matrix(
    data: Any, row: str | None, col: str | None, value: str | None, names: tuple[str, str, str]
) -> tuple[np.ndarray, list[str], str | None]:
    """Targets x raters (or subjects x items) matrix from long-form columns or a wide table/array."""
    given = [a is not None for a in (row, col, value)]
    if any(given):
        if not all(given):
            raise ArgumentError(f"long-form data needs all of `{names[0]}`, `{names[1]}` and `{names[2]}` (column names)")
        assert row is not None
        assert col is not None
        assert value is not None
        w = _to_wide(data, value, row, col, None, max_within=1)
        return w.Y, [str(lv) for lv in w.levels[0]], w.fingerprint
    if data is None:
        raise ArgumentError("`data` is required: a wide table (one row per target, one column per rater/item) or long-form columns")
    fp = None
    if isinstance(data, Dataset):
        data, fp = _frame_of(data)
    if isinstance(data, pd.DataFrame):
        cols = [str(c) for c in data.columns]
        bad = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
        if bad:
            raise ArgumentError(f"a wide `data` table must hold only numeric columns; non-numeric: {[str(b) for b in bad]}")
        Y = check_array(data.to_numpy(dtype=float, na_value=np.nan), "data", ndim=2)
    else:
        Y = check_array(data, "data", ndim=2)
        cols = [str(j + 1) for j in range(Y.shape[1])]
    return Y, cols, fp


def _icc_mean_squares(Y: np.ndarray) -> tuple[float, float, float, float]:
    """The ANOVA mean squares of an n x k ratings matrix: between targets (MSB), within targets (MSW), between
    raters (MSJ) and residual (MSE)."""
    n, k = Y.shape
    grand = Y.mean()
    row_m = Y.mean(axis=1)
    col_m = Y.mean(axis=0)
    ss_rows = k * float(np.sum((row_m - grand) ** 2))
    ss_cols = n * float(np.sum((col_m - grand) ** 2))
    ss_total = float(np.sum((Y - grand) ** 2))
    ss_within = ss_total - ss_rows
    ss_err = ss_within - ss_cols
    msb = ss_rows / (n - 1)
    msw = ss_within / (n * (k - 1))
    msj = ss_cols / (k - 1)
    mse = ss_err / ((n - 1) * (k - 1))
    return msb, msw, msj, mse


def _icc_rows(
    *, n: int, k: int, msb: float, msw: float, msj: float, mse: float, conf_level: float
) -> list[tuple[str, float, float, int, int, float, float]]:
    """Per form: name, ICC, F, its two df and the interval (exact F for ICC1/ICC3, McGraw-Wong for ICC2)."""
    from scipy import stats

    alpha = 1 - conf_level
    icc1 = (msb - msw) / (msb + (k - 1) * msw)
    icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
    icc3 = (msb - mse) / (msb + (k - 1) * mse)
    icc1k = (msb - msw) / msb
    icc2k = (msb - mse) / (msb + (msj - mse) / n)
    icc3k = (msb - mse) / msb
    f1, d1n, d1d = msb / msw, n - 1, n * (k - 1)
    f3, d3n, d3d = msb / mse, n - 1, (n - 1) * (k - 1)
    f1l = f1 / stats.f.ppf(1 - alpha / 2, d1n, d1d)
    f1u = f1 * stats.f.ppf(1 - alpha / 2, d1d, d1n)
    f3l = f3 / stats.f.ppf(1 - alpha / 2, d3n, d3d)
    f3u = f3 * stats.f.ppf(1 - alpha / 2, d3d, d3n)
    fj = msj / mse
    vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    f2u = stats.f.ppf(1 - alpha / 2, n - 1, v)
    f2l = stats.f.ppf(1 - alpha / 2, v, n - 1)
    l2 = n * (msb - f2u * mse) / (f2u * (k * msj + (k * n - k - n) * mse) + n * msb)
    u2 = n * (f2l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f2l * msb)
    return [
        ("ICC1", icc1, f1, d1n, d1d, (f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)),
        ("ICC2", icc2, f3, d3n, d3d, l2, u2),
        ("ICC3", icc3, f3, d3n, d3d, (f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)),
        ("ICC1k", icc1k, f1, d1n, d1d, 1 - 1 / f1l, 1 - 1 / f1u),
        ("ICC2k", icc2k, f3, d3n, d3d, l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))),
        ("ICC3k", icc3k, f3, d3n, d3d, 1 - 1 / f3l, 1 - 1 / f3u),
    ]


def _icc_table(rows: list[tuple[str, float, float, int, int, float, float]], *, conf_level: float) -> pd.DataFrame:
    """One row per ICC form with its description, F test and interval."""
    from scipy import stats

    return pd.DataFrame(
        [
            {
                "type": t,
                "description": _ICC_DESCRIPTIONS[t],
                "icc": est,
                "F": F,
                "df1": float(a),
                "df2": float(b),
                "pvalue": float(stats.f.sf(F, a, b)),
                "ci_low": float(lo),
                "ci_high": float(hi),
                "conf_level": conf_level,
            }
            for t, est, F, a, b, lo, hi in rows
        ],
        columns=list(ICC_COLUMNS),
    )


@vp.validate_params(
    {
        "data": ["data", "array-like"],
        "targets": [None, "column"],
        "raters": [None, "column"],
        "ratings": [None, "column"],
        "conf_level": "conf_level",
    }
)
def icc(
    data: Any,
    *,
    targets: str | None = None,
    raters: str | None = None,
    ratings: str | None = None,
    conf_level: float = 0.95,
) -> TableResult:
    """Intraclass correlation coefficients: the six forms of Shrout and Fleiss (1979) with F tests and intervals.

    Parameters
    ----------
    data : DataFrame, Dataset or 2-D array
        Wide: one row per target (subject), one column per rater. Or long form with ``targets``, ``raters`` and
        ``ratings`` columns (every target rated once by every rater).
    targets, raters, ratings : str, optional
        Column names for long-form data.
    conf_level : float
        Level of the intervals.

    Returns
    -------
    TableResult
        ``table`` / ``to_frame()``: one row per form (``ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k``, psych's names;
        ICC(1,1), ICC(2,1), ICC(3,1) and their k-rater means in Shrout-Fleiss notation) with columns
        ``type, description, icc, F, df1, df2, pvalue, ci_low, ci_high, conf_level``. ``details["mean_squares"]``.

    Notes
    -----
    From the one-way (targets) and two-way (targets + raters) ANOVA mean squares MSB, MSW, MSJ, MSE with n
    targets and k raters: ICC1 = (MSB - MSW)/(MSB + (k-1)MSW), ICC2 = (MSB - MSE)/(MSB + (k-1)MSE + k(MSJ-MSE)/n),
    ICC3 = (MSB - MSE)/(MSB + (k-1)MSE), and the k-rater forms. F tests MSB/MSW and MSB/MSE. Intervals: exact F
    intervals for ICC1 and ICC3; for ICC2 the Satterthwaite-type approximation of McGraw and Wong (1996), as
    ``psych::ICC``. Validated against those formulas evaluated in R from ``aov`` mean squares
    (``tests/reference/repeated.R``; Shrout and Fleiss's own example data included).

    Examples
    --------
    >>> import causalinfer as ci
    >>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> r = ci.stats.icc(sf)
    >>> [round(v, 2) for v in r.table["icc"]]
    [0.17, 0.29, 0.71, 0.44, 0.62, 0.91]
    """
    conf_level = check_conf_level(conf_level)
    Y, _, fp = _matrix(data, targets, raters, ratings, ("targets", "raters", "ratings"))
    n, k = Y.shape
    if n < 2 or k < 2:
        raise DataError(f"intraclass correlations need at least 2 targets and 2 raters; got {n} x {k}")
    msb, msw, msj, mse = _icc_mean_squares(Y)
    if msw <= 0 or mse <= 0:
        raise DataError("the ratings have no within-target variation (every rater agrees exactly), so the F ratios are undefined")
    rows = _icc_rows(n=n, k=k, msb=msb, msw=msw, msj=msj, mse=mse, conf_level=conf_level)
    table = _icc_table(rows, conf_level=conf_level)
    icc1, icc3 = rows[0][1], rows[2][1]
    diags = []
    if icc1 < 0 or icc3 < 0:
        diags.append(
            Diagnostic(
                "negative ICC",
                "warn",
                float(min(icc1, icc3)),
                "a negative ICC means within-target variation exceeds between-target variation: raters do not distinguish the targets",
            )
        )
    return TableResult(
        method="Intraclass correlations (Shrout-Fleiss forms)",
        estimand=f"reliability of ratings of {n} targets by {k} raters",
        n=n,
        table=table,
        diagnostics=tuple(diags),
        details={"mean_squares": {"MSB": msb, "MSW": msw, "MSJ": msj, "MSE": mse}},
        provenance=Provenance.current(data_fingerprint=fp),
    )


@vp.validate_params(
    {
        "data": ["data", "array-like"],
        "items": [None, vp.SequenceOf("column", min_length=2)],
        "subject": [None, "column"],
        "item": [None, "column"],
        "score": [None, "column"],
        "conf_level": "conf_level",
    }
)
def cronbach_alpha(
    data: Any,
    *,
    items: Sequence[str] | None = None,
    subject: str | None = None,
    item: str | None = None,
    score: str | None = None,
    conf_level: float = 0.95,
) -> Result:
    """Cronbach's alpha (internal consistency of a scale) with Feldt's F interval.

    Parameters
    ----------
    data : DataFrame, Dataset or 2-D array
        Wide: one row per respondent, one column per item (``items`` selects columns of a DataFrame). Or long
        form with ``subject``, ``item`` and ``score`` columns.
    items : sequence of str, optional
        Item columns of a wide DataFrame (default: all columns).
    subject, item, score : str, optional
        Column names for long-form data.
    conf_level : float

    Returns
    -------
    Result
        ``estimate`` (alpha), ``ci_low``/``ci_high`` (Feldt), ``n`` (respondents); ``effect_sizes``: the
        standardised alpha (from the mean inter-item correlation); ``details["items"]``: per item the corrected
        item-total correlation and alpha if the item is dropped.

    Notes
    -----
    :math:`\\alpha = \\frac{k}{k-1}(1 - \\sum s_i^2 / s_T^2)`. Interval (Feldt 1965):
    :math:`1 - (1-\\hat\\alpha) F_{1-a/2}(n-1, (n-1)(k-1))` to :math:`1 - (1-\\hat\\alpha) F_{a/2}(\\cdot)`, as
    ``psych::alpha.ci``. Validated against a hand computation in R (``tests/reference/repeated.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.cronbach_alpha([[3, 4, 3], [2, 2, 3], [4, 5, 4], [1, 2, 2], [3, 3, 4]])
    >>> round(r.estimate, 3)
    0.916
    """
    from scipy import stats

    conf_level = check_conf_level(conf_level)
    if items is not None:
        if not isinstance(data, (pd.DataFrame, Dataset)):
            raise ArgumentError(f"`items` selects columns of a DataFrame or Dataset; `data` is {type(data).__name__}")
        table = data.frame if isinstance(data, Dataset) else data
        missing = [c for c in items if c not in table.columns]
        if missing:
            raise ArgumentError(f"`items` {show(missing)} are not columns of `data`")
        data = table[list(items)]
    Y, names, fp = _matrix(data, subject, item, score, ("subject", "item", "score"))
    n, k = Y.shape
    if k < 2 or n < 3:
        raise DataError(f"Cronbach's alpha needs at least 2 items and 3 respondents; got {n} x {k}")
    var_items = Y.var(axis=0, ddof=1)
    total = Y.sum(axis=1)
    var_total = float(np.var(total, ddof=1))
    if var_total == 0:
        raise DataError("the total score is constant across respondents, so alpha is undefined")
    a = k / (k - 1) * (1 - float(np.sum(var_items)) / var_total)
    d1, d2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - a) * float(stats.f.ppf(1 - (1 - conf_level) / 2, d1, d2))
    hi = 1 - (1 - a) * float(stats.f.ppf((1 - conf_level) / 2, d1, d2))
    corr = np.corrcoef(Y, rowvar=False)
    rbar = float((corr.sum() - k) / (k * (k - 1)))
    std_alpha = k * rbar / (1 + (k - 1) * rbar)
    rows = []
    for j in range(k):
        rest = np.delete(Y, j, axis=1)
        rest_total = rest.sum(axis=1)
        r_it = float(np.corrcoef(Y[:, j], rest_total)[0, 1]) if np.std(rest_total) > 0 and np.std(Y[:, j]) > 0 else math.nan
        kk = k - 1
        drop = kk / (kk - 1) * (1 - float(np.sum(rest.var(axis=0, ddof=1))) / float(np.var(rest_total, ddof=1))) if kk >= 2 else math.nan
        rows.append(
            {
                "item": names[j],
                "mean": float(Y[:, j].mean()),
                "sd": float(np.sqrt(var_items[j])),
                "item_rest_r": r_it,
                "alpha_if_dropped": drop,
            }
        )
    diags = [
        Diagnostic(
            "alpha",
            "ok" if a >= 0 else "warn",
            a,
            "alpha >= 0" if a >= 0 else "negative alpha: some items are negatively related; reverse-score them first",
        )
    ]
    return Result(
        method="Cronbach's alpha with Feldt interval",
        estimand=f"internal consistency of {k} items",
        estimate=a,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        n=n,
        effect_sizes=(EffectSize("standardized_alpha", std_alpha, method="k r / (1 + (k - 1) r), r = mean inter-item correlation"),),
        diagnostics=tuple(diags),
        details={"items": pd.DataFrame(rows)},
        provenance=Provenance.current(data_fingerprint=fp),
    )
