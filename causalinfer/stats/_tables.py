"""Contingency tables and counts: Pearson's chi-squared test, the G-test and Fisher's exact test.

Validated against R's ``chisq.test`` and ``fisher.test`` (see ``tests/reference/tables.R``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_alternative, check_conf_level, check_real
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Diagnostic, EffectSize, Provenance, Result
from ._counts import check_counts_vector, check_table, crosstab
from ._fisher import Fisher2x2, fisher_rxc_pvalue
from ._inputs import _frame_of
from ._proportions import two_by_two_effect_sizes

_STAT_NAMES = {"pearson": "X-squared", "g": "G"}


def _observed(x: Any, y: Any, data: Any) -> tuple[np.ndarray, list[Any] | None, list[Any] | None, str | None, bool]:
    """The table to test: (counts, row labels, column labels, data fingerprint, is_goodness_of_fit)."""
    if y is not None:
        tab, rl, cl, fp = crosstab(x, y, data=data)
        return tab, rl, cl, fp, False
    if data is not None:
        frame, fp = _frame_of(data)
        if not isinstance(x, str):
            raise ArgumentTypeError(f"with `data`, `x` must be a column name; got {type(x).__name__}")
        from .._validation import check_column

        check_column(frame, x, "x")
        s = frame[x]
        if s.isna().any():
            raise DataError(f"`x` contains {int(s.isna().sum())} missing value(s); drop them first")
        counts = s.value_counts(sort=False).sort_index()
        return counts.to_numpy(dtype=float), list(counts.index), None, fp, True
    if isinstance(x, str):
        raise ArgumentTypeError(f"`x` is the column name {x!r} but no `data` was given; pass data=your_dataframe")
    if isinstance(x, pd.DataFrame) or np.ndim(x) == 2:
        tab = check_table(x, "x")
        row_labels = list(x.index) if isinstance(x, pd.DataFrame) else None
        col_labels = list(x.columns) if isinstance(x, pd.DataFrame) else None
        return tab, row_labels, col_labels, None, False
    counts_vec = check_counts_vector(x, "x")
    labels = list(x.index) if isinstance(x, pd.Series) else None
    return counts_vec, labels, None, None, True


def _null_probabilities(p: Any, k: int, rescale_p: bool) -> np.ndarray:
    if p is None:
        return np.full(k, 1.0 / k)
    from .._validation import check_array

    arr = check_array(p, "p")
    if arr.size != k:
        raise ArgumentError(f"`p` must give one probability per category ({k}); got {arr.size}")
    if (arr < 0).any():
        raise ArgumentError(f"`p` must hold non-negative probabilities; got {arr[arr < 0][0]:g}")
    if rescale_p:
        if arr.sum() <= 0:
            raise ArgumentError("`p` must have a positive sum to be rescaled")
        return arr / arr.sum()
    if abs(arr.sum() - 1) > math.sqrt(np.finfo(float).eps):
        raise ArgumentError(f"`p` must sum to 1 (it sums to {arr.sum():.6g}); pass rescale_p=True to rescale it")
    if (arr > 1).any():
        raise ArgumentError("`p` must hold probabilities in [0, 1]")
    return arr


def cramers_v(chi2: float, n: float, shape: tuple[int, int], conf_level: float) -> EffectSize:
    """Cramér's V with a confidence interval by inverting the noncentral chi-squared distribution.

    :math:`V = \\sqrt{X^2 / (n (k - 1))}` with :math:`k = \\min(r, c)`. The limits solve
    :math:`P(\\chi^2_{df}(\\lambda) \\le X^2) = 1 - \\alpha/2` and :math:`= \\alpha/2` for the noncentrality
    :math:`\\lambda` (zero when the equation has no non-negative root), then map
    :math:`\\lambda \\mapsto \\sqrt{\\lambda/(n(k-1))}`, capped at 1.
    """
    from scipy import optimize, special, stats

    k = min(shape) - 1
    df = (shape[0] - 1) * (shape[1] - 1)
    denom = n * k
    alpha = 1 - conf_level

    def cdf(lam: float) -> float:
        # scipy.stats.ncx2.cdf without its per-call overhead
        return float(stats.chi2.cdf(chi2, df)) if lam == 0 else float(special.chndtr(chi2, df, lam))

    def root(target: float) -> float:
        if cdf(0.0) <= target:
            return 0.0
        hi = max(1.0, chi2)
        while cdf(hi) > target:
            hi *= 2
        return float(optimize.brentq(lambda lam: cdf(lam) - target, 0.0, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps, maxiter=500))

    lam_lo, lam_hi = root(1 - alpha / 2), root(alpha / 2)
    v = math.sqrt(chi2 / denom)
    lo, hi = min(1.0, math.sqrt(lam_lo / denom)), min(1.0, math.sqrt(lam_hi / denom))
    return EffectSize(
        "Cramer's V", min(v, 1.0), lo, hi, conf_level, "noncentral chi-squared inversion of the uncorrected Pearson statistic"
    )


def _table_frame(values: np.ndarray, rl: list[Any] | None, cl: list[Any] | None) -> pd.DataFrame:
    return pd.DataFrame(values, index=pd.Index(rl) if rl else None, columns=pd.Index(cl) if cl else None)


def _contingency(x: Any, y: Any, data: Any, p: Any, rescale_p: bool, correct: bool, conf_level: float, kind: str) -> Result:
    from scipy import stats

    obs, rl, cl, fp, gof = _observed(x, y, data)
    n = float(obs.sum())
    if n <= 0:
        raise DataError("`x` has no observations (all counts are zero)")
    if gof:
        if obs.size < 2:
            raise DataError(f"a goodness-of-fit test needs at least 2 categories; got {obs.size}")
        probs = _null_probabilities(p, obs.size, rescale_p)
        expected = n * probs
        if (expected == 0).any():
            raise ArgumentError("`p` gives a category zero probability, so its expected count is 0; remove that category")
        df = float(obs.size - 1)
        yates = 0.0
        exact_hint = "binom_test (two categories) or an exact multinomial test"
    else:
        if p is not None:
            raise ArgumentError("`p` is for a goodness-of-fit test on a vector of counts; a table is tested for independence")
        rows, cols = obs.sum(axis=1), obs.sum(axis=0)
        if (rows == 0).any() or (cols == 0).any():
            raise DataError("the table has a row or column with no observations, so expected counts are zero; drop empty rows and columns")
        expected = np.outer(rows, cols) / n
        df = float((obs.shape[0] - 1) * (obs.shape[1] - 1))
        yates = float(min(0.5, np.min(np.abs(obs - expected)))) if (correct and obs.shape == (2, 2) and kind == "pearson") else 0.0
        exact_hint = "fisher_test"
    if kind == "pearson":
        stat = float(np.sum((np.abs(obs - expected) - yates) ** 2 / expected))
    else:
        pos = obs > 0
        stat = float(2 * np.sum(obs[pos] * np.log(obs[pos] / expected[pos])))
    pval = float(stats.chi2.sf(stat, df))
    emin = float(expected.min())
    if emin < 5:
        diag = Diagnostic(
            "expected counts",
            "warn",
            emin,
            f"smallest expected count is {emin:.3g} < 5 ({int(np.sum(expected < 5))} of {expected.size} cells): "
            f"the chi-squared approximation may be inaccurate; use {exact_hint} instead",
        )
    else:
        diag = Diagnostic("expected counts", "ok", emin, f"all expected counts are at least 5 (smallest {emin:.3g})")
    effects: tuple[EffectSize, ...] = ()
    details: dict[str, Any] = {"observed": _table_frame(obs, rl, cl), "expected": _table_frame(expected, rl, cl)}
    if gof:
        what = "goodness of fit of the category counts to the probabilities p"
        method = "Chi-squared test for given probabilities" if kind == "pearson" else "G-test (likelihood ratio) for given probabilities"
        details["residuals"] = _table_frame((obs - expected) / np.sqrt(expected), rl, None)
    else:
        what = "independence of the rows and columns of the table"
        if kind == "pearson":
            method = "Pearson's Chi-squared test" + (" with Yates' continuity correction" if yates else "")
            pearson = stat if not yates else float(np.sum((obs - expected) ** 2 / expected))
        else:
            method = "G-test (likelihood ratio) of independence"
            pearson = float(np.sum((obs - expected) ** 2 / expected))
        effects = (cramers_v(pearson, n, obs.shape, conf_level),)
        if obs.shape == (2, 2):
            effects = effects + two_by_two_effect_sizes(obs, conf_level)
        rs, cs = obs.sum(axis=1) / n, obs.sum(axis=0) / n
        details["residuals"] = _table_frame((obs - expected) / np.sqrt(expected), rl, cl)
        details["stdres"] = _table_frame((obs - expected) / np.sqrt(expected * np.outer(1 - rs, 1 - cs)), rl, cl)
    return Result(
        method=method,
        estimand=what,
        statistic=stat,
        statistic_name=_STAT_NAMES[kind],
        df=df,
        pvalue=pval,
        n=round(n),
        effect_sizes=effects,
        diagnostics=(diag,),
        details=details,
        provenance=Provenance.current(data_fingerprint=fp),
    )


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "p": [None, "array-like"],
        "rescale_p": "boolean",
        "correct": "boolean",
        "conf_level": "conf_level",
    }
)
def chisq_test(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    p: Any = None,
    rescale_p: bool = False,
    correct: bool = True,
    conf_level: float = 0.95,
) -> Result:
    """Pearson's chi-squared test of independence (a table, or two categorical variables) or of goodness of fit.

    Parameters
    ----------
    x : array-like or str
        A 2-D table of counts (independence), a 1-D vector of counts (goodness of fit against ``p``), a
        categorical array (with ``y``), or a column name of ``data`` (with ``y`` for independence; alone for
        goodness of fit of its value counts, categories in sorted order).
    y : array-like or str, optional
        Second categorical variable (or column name); ``x`` and ``y`` are cross-tabulated.
    data : DataFrame or Dataset, optional
    p : array-like, optional
        Null probabilities for goodness of fit (default: equal).
    rescale_p : bool
        Divide ``p`` by its sum instead of requiring it to sum to 1.
    correct : bool
        Yates' continuity correction for 2 x 2 tables (R's default, True).
    conf_level : float
        Level of the Cramér's V interval (and of the 2 x 2 odds ratio and risk ratio intervals).

    Returns
    -------
    Result
        ``statistic`` (X-squared), ``df``, ``pvalue``, ``n``; for independence, ``effect_sizes`` holds Cramér's V
        with its interval and, for a 2 x 2 table, the Woolf odds ratio and Katz risk ratio (row 1 versus row 2,
        first column as the event). ``details`` has the ``observed`` and ``expected`` tables, Pearson
        ``residuals`` and standardized residuals ``stdres`` (as R's ``chisq.test``). A diagnostic warns when an
        expected count is below 5 and points to the exact test.

    Notes
    -----
    :math:`X^2 = \\sum (|O - E| - c)^2 / E` with :math:`c = \\min(1/2, \\min|O - E|)` for a 2 x 2 table with
    ``correct`` (R's rule) and 0 otherwise. Independence: :math:`E_{ij} = r_i c_j / n`, df = (r-1)(c-1);
    goodness of fit: :math:`E_i = n p_i`, df = k - 1. Cramér's V uses the uncorrected statistic; its interval
    inverts the noncentral chi-squared distribution (see :func:`cramers_v`).
    Validated against R's ``chisq.test`` and a ``uniroot`` computation of the Cramér's V limits.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.chisq_test([[12, 5], [6, 14]])
    >>> round(r.statistic, 4), round(r.pvalue, 5)
    (4.5439, 0.03304)
    """
    conf_level = check_conf_level(conf_level)
    for name, v in (("correct", correct), ("rescale_p", rescale_p)):
        if not isinstance(v, bool):
            raise ArgumentTypeError(f"`{name}` must be True or False; got {v!r}")
    return _contingency(x, y, data, p, rescale_p, correct, conf_level, "pearson")


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "p": [None, "array-like"],
        "rescale_p": "boolean",
        "conf_level": "conf_level",
    }
)
def g_test(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    p: Any = None,
    rescale_p: bool = False,
    conf_level: float = 0.95,
) -> Result:
    """Likelihood-ratio (G) test of independence or of goodness of fit.

    Takes the same inputs as :func:`chisq_test`.

    Returns
    -------
    Result
        ``statistic`` (G), ``df``, ``pvalue``, ``n``; effect sizes, details and diagnostics as :func:`chisq_test`.

    Notes
    -----
    :math:`G = 2\\sum O \\log(O / E)` over cells with :math:`O > 0`, referred to :math:`\\chi^2_{df}` with the same
    expected counts and df as the Pearson test. No continuity (Williams) correction is applied.
    Validated against a hand computation in R.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.g_test([[12, 5], [6, 14]])
    >>> round(r.statistic, 4)
    6.2342
    """
    conf_level = check_conf_level(conf_level)
    if not isinstance(rescale_p, bool):
        raise ArgumentTypeError(f"`rescale_p` must be True or False; got {rescale_p!r}")
    return _contingency(x, y, data, p, rescale_p, False, conf_level, "g")


@vp.validate_params(
    {
        "x": "sample",
        "y": [None, "sample"],
        "data": [None, "data"],
        "odds_ratio": vp.Interval("real", 0, closed="neither"),
        "alternative": "alternative",
        "conf_level": "conf_level",
        "max_tables": vp.Interval("int", 1),
    }
)
def fisher_test(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    odds_ratio: float = 1.0,
    alternative: str = "two-sided",
    conf_level: float = 0.95,
    max_tables: int = 2_000_000,
) -> Result:
    """Fisher's exact test; for 2 x 2 tables with the conditional MLE odds ratio and exact interval (R's ``fisher.test``).

    Parameters
    ----------
    x : array-like or str
        A table of counts, a categorical array (with ``y``), or a column name of ``data``.
    y : array-like or str, optional
        Second categorical variable (or column name).
    data : DataFrame or Dataset, optional
    odds_ratio : float
        Null odds ratio (2 x 2 only).
    alternative : {"two-sided", "less", "greater"}
        One-sided alternatives are for 2 x 2 tables only.
    conf_level : float
    max_tables : int
        For larger tables, the most tables the exact enumeration may visit before giving up with an error.

    Returns
    -------
    Result
        2 x 2: ``estimate`` (conditional MLE of the odds ratio), ``ci_low``/``ci_high`` (exact conditional),
        ``pvalue``, ``null_value``; ``effect_sizes`` the sample (Woolf) odds ratio and Katz risk ratio when
        defined. r x c: ``pvalue`` only, with ``details["tables_enumerated"]``.

    Notes
    -----
    2 x 2: the top-left count has the noncentral hypergeometric distribution given the margins; the estimate
    solves :math:`E_\\psi[X] = x` and the limits solve :math:`P_\\psi(X \\ge x) = \\alpha/2` and
    :math:`P_\\psi(X \\le x) = \\alpha/2`; these are solved to machine precision (R's ``uniroot`` default
    tolerance is looser). The two-sided p-value sums the probabilities at most :math:`(1 + 10^{-7})` times that
    of the observed table. r x c: every table with the observed margins is enumerated.
    Validated against R's ``fisher.test`` (2 x 2 limits recomputed in R with ``uniroot(tol = 1e-12)``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.fisher_test([[3, 1], [1, 3]])
    >>> round(r.pvalue, 4), round(r.estimate, 4)
    (0.4857, 6.4083)
    """
    alternative = check_alternative(alternative)
    conf_level = check_conf_level(conf_level)
    or0 = check_real(odds_ratio, "odds_ratio", finite=False)
    if or0 < 0 or math.isnan(or0):
        raise ArgumentError(f"`odds_ratio` must be a number in [0, inf]; got {odds_ratio!r}")
    obs, rl, cl, fp, gof = _observed(x, y, data)
    if gof:
        raise DataError("Fisher's exact test needs a table with at least 2 rows and 2 columns (or two variables x and y)")
    details: dict[str, Any] = {"observed": _table_frame(obs, rl, cl)}
    n = round(obs.sum())
    if obs.shape == (2, 2):
        f = Fisher2x2.from_table(obs)
        lo, hi = f.interval(conf_level, alternative)
        return Result(
            method="Fisher's Exact Test for Count Data",
            estimand="odds ratio of the 2 x 2 table (conditional on its margins)",
            estimate=f.mle(),
            ci_low=lo,
            ci_high=hi,
            conf_level=conf_level,
            pvalue=f.pvalue(or0, alternative),
            alternative=alternative,
            null_value=or0,
            n=n,
            effect_sizes=two_by_two_effect_sizes(obs, conf_level),
            details=details,
            provenance=Provenance.current(data_fingerprint=fp),
        )
    if alternative != "two-sided":
        raise ArgumentError(f"`alternative` must be 'two-sided' for a table larger than 2 x 2 (shape {obs.shape}); got {alternative!r}")
    if or0 != 1.0:
        raise ArgumentError("`odds_ratio` applies to 2 x 2 tables only")
    pval, count = fisher_rxc_pvalue(obs, max_tables=max_tables)
    details["tables_enumerated"] = count
    return Result(
        method="Fisher's Exact Test for Count Data",
        estimand="independence of the rows and columns of the table",
        pvalue=pval,
        alternative="two-sided",
        n=n,
        details=details,
        provenance=Provenance.current(data_fingerprint=fp),
    )
