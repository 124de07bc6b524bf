"""Post hoc pairwise comparisons after a k-group test: Games-Howell (unequal variances) and Dunn (ranks).

Validated against hand computations in R with ``ptukey``/``qtukey`` and ``p.adjust`` (``tests/reference/repeated.R``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice, check_conf_level
from ..exceptions import DataError
from ..results import Diagnostic, Provenance, Result
from ._anova import _qtukey
from ._ksamples import group_table, k_samples, shifted_moments
from ._multiple import adjust_pvalues
from ._normal import z_pvalue

__all__ = ["dunn", "games_howell"]

DUNN_ADJUST = ("holm", "bonferroni", "hochberg", "hommel", "BH", "BY", "none")


@vp.validate_params(
    {
        "samples": ["sample", "mapping"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "conf_level": "conf_level",
    }
)
def games_howell(
    *samples: Any,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    conf_level: float = 0.95,
) -> Result:
    """Games-Howell pairwise comparisons of means, for groups with unequal variances and sizes.

    Parameters
    ----------
    *samples : array-like or str
        Two or more samples, column names of ``data``, or (with ``group``) one response column.
    data : DataFrame or Dataset, optional
    group : str, optional
        Column whose levels define the groups (long form).
    levels : sequence, optional
        Order of the groups (default sorted, as R orders factor levels).
    conf_level : float
        Family-wise confidence level of the simultaneous intervals.

    Returns
    -------
    Result
        ``terms``: one row per pair ``"b-a"`` (same order as :func:`tukey_hsd`) with ``estimate`` (mean of b minus
        mean of a), ``std_error`` (Welch), ``ci_low``/``ci_high``, ``statistic`` (``t = |difference| / SE``),
        ``df`` (Welch-Satterthwaite) and ``pvalue`` (adjusted through the studentized range). ``details["groups"]``.

    Notes
    -----
    For groups i, j: :math:`SE = \\sqrt{s_i^2/n_i + s_j^2/n_j}`, Welch df, :math:`p = P(Q_{k,\\nu} > \\sqrt2\\,t)` and
    interval :math:`d \\pm q_{1-\\alpha;k,\\nu} SE / \\sqrt2`. Validated against a hand computation with R's
    ``ptukey``/``qtukey`` (``tests/reference/repeated.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.games_howell([10.1, 9.8, 10.4, 10.0], [11.9, 13.5, 10.2, 12.8, 14.1], [9.9, 10.3, 10.0])
    >>> r.terms["term"].tolist()
    ['2-1', '3-1', '3-2']
    """
    from scipy import stats

    conf_level = check_conf_level(conf_level)
    s = k_samples(samples, data=data, group=group, levels=levels, min_size=2)
    k = len(s.arrays)
    _, means, _, var = shifted_moments(s.arrays)
    ns = [a.size for a in s.arrays]
    if any(v == 0 for v in var):
        raise DataError("a group has zero variance, so the Games-Howell standard error is undefined for its pairs")
    rows = []
    for i, j in itertools.combinations(range(k), 2):
        vi, vj = var[i] / ns[i], var[j] / ns[j]
        se = math.sqrt(vi + vj)
        df = (vi + vj) ** 2 / (vi**2 / (ns[i] - 1) + vj**2 / (ns[j] - 1))
        d = means[j] - means[i]
        t = abs(d) / se
        half = _qtukey(conf_level, k, df) / math.sqrt(2) * se
        rows.append(
            {
                "term": f"{s.names[j]}-{s.names[i]}",
                "estimate": d,
                "std_error": se,
                "ci_low": d - half,
                "ci_high": d + half,
                "statistic": t,
                "df": df,
                "pvalue": min(1.0, float(stats.studentized_range.sf(t * math.sqrt(2), k, df))),
            }
        )
    resp = f" of {s.response}" if s.response else ""
    return Result(
        method="Games-Howell multiple comparisons of means",
        estimand=f"pairwise differences in means{resp} ({k} groups, unequal variances), family-wise {conf_level:.0%} intervals",
        conf_level=conf_level,
        statistic_name="t",
        n=sum(ns),
        terms=pd.DataFrame(rows),
        details={"groups": group_table(s)},
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )


@vp.validate_params(
    {
        "samples": ["sample", "mapping"],
        "data": [None, "data"],
        "group": [None, "column"],
        "levels": [None, "array-like"],
        "adjust": vp.Options(DUNN_ADJUST),
    }
)
def dunn(
    *samples: Any,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    adjust: str = "holm",
) -> Result:
    """Dunn's test: pairwise comparisons of mean ranks after a Kruskal-Wallis test.

    Parameters
    ----------
    *samples, data, group, levels
        As :func:`kruskal_wallis`.
    adjust : {"holm", "bonferroni", "hochberg", "hommel", "BH", "BY", "none"}
        Multiplicity adjustment of the pairwise p-values (R's ``p.adjust`` methods).

    Returns
    -------
    Result
        ``terms``: one row per pair ``"b-a"`` with ``estimate`` (mean rank of b minus mean rank of a),
        ``std_error``, ``statistic`` (z) and ``pvalue`` (adjusted by ``adjust``); the unadjusted two-sided
        p-values are ``details["pvalues_unadjusted"]``.

    Notes
    -----
    Ranks are taken over all groups together (average ranks for ties);
    :math:`SE^2 = (N(N+1)/12 - \\sum(t^3-t)/(12(N-1)))(1/n_i + 1/n_j)` (Dunn 1964, with the tie correction).
    Validated against a hand computation in R with ``p.adjust`` (``tests/reference/repeated.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.stats.dunn([2.9, 3.0, 2.5, 2.6, 3.2], [3.8, 2.7, 4.0, 2.4], [2.8, 3.4, 3.7, 2.2, 2.0])
    >>> r.terms["term"].tolist()
    ['2-1', '3-1', '3-2']
    """
    from scipy import stats

    adjust = check_choice(adjust, "adjust", DUNN_ADJUST)
    s = k_samples(samples, data=data, group=group, levels=levels)
    k = len(s.arrays)
    allx = np.concatenate(s.arrays)
    N = allx.size
    r = stats.rankdata(allx)
    _, counts = np.unique(allx, return_counts=True)
    tie = float(np.sum(counts**3 - counts)) / (12 * (N - 1))
    base = N * (N + 1) / 12 - tie
    if base <= 0:
        raise DataError("all values are equal, so Dunn's statistic is undefined")
    bounds = np.cumsum([0] + [a.size for a in s.arrays])
    mean_rank = [float(r[bounds[i] : bounds[i + 1]].mean()) for i in range(k)]
    ns = [a.size for a in s.arrays]
    rows, raw = [], []
    for i, j in itertools.combinations(range(k), 2):
        se = math.sqrt(base * (1 / ns[i] + 1 / ns[j]))
        d = mean_rank[j] - mean_rank[i]
        z = d / se
        raw.append(z_pvalue(z, "two-sided"))
        rows.append({"term": f"{s.names[j]}-{s.names[i]}", "estimate": d, "std_error": se, "statistic": z})
    padj = np.asarray(raw) if adjust == "none" else np.asarray(adjust_pvalues(raw, method=adjust), dtype=float)
    terms = pd.DataFrame(rows)
    terms["pvalue"] = padj
    tab = group_table(s)
    tab["mean_rank"] = mean_rank
    n_tied = int(counts[counts > 1].sum())
    resp = f" of {s.response}" if s.response else ""
    return Result(
        method=f"Dunn's test of mean-rank differences ({adjust} adjustment)",
        estimand=f"pairwise differences in mean ranks{resp} ({k} groups)",
        statistic_name="z",
        n=N,
        terms=terms,
        diagnostics=(
            Diagnostic("ties", "ok", float(n_tied), f"{n_tied} tied value(s), handled by the tie correction" if n_tied else "no ties"),
        ),
        details={"groups": tab, "pvalues_unadjusted": pd.Series(raw, index=terms["term"].tolist(), name="pvalue")},
        provenance=Provenance.current(data_fingerprint=s.fingerprint),
    )
