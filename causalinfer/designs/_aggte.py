"""Aggregations of group-time effects and their influence functions, as ``did::aggte``; multiplier-bootstrap bands.

Influence functions here follow the convention of :mod:`causalinfer.designs._staggered`: one row per unit, one
column per estimate, scaled so that the variance of an estimate is the sum of squares of its column (unit-level
clustering). The aggregation weights are cohort shares estimated from the same units; their estimation adds the
term ``wif`` of ``did``'s ``compute.aggte`` (Callaway and Sant'Anna 2021, Appendix).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import ArgumentError, DataError
from ..stats._normal import z_quantile

AGGREGATES = ("dynamic", "group", "calendar", "simple", "none")
BOOT_WEIGHTS = ("rademacher", "mammen")


@dataclass(frozen=True)
class Aggregate:
    """An aggregated series (``labels``, ``att``, ``psi`` n x k) and its overall effect (``overall``, ``overall_psi``)."""

    labels: list[str]
    att: np.ndarray
    psi: np.ndarray
    overall: float
    overall_psi: np.ndarray


def _weight_influence(unit_cohort: np.ndarray, share: np.ndarray, cohorts: np.ndarray) -> np.ndarray:
    """``did``'s ``wif``: influence (n x k, in units of ``1/n``) of estimating the weights share_k / sum(share)."""
    total = share.sum()
    num = (unit_cohort[:, None] == cohorts[None, :]).astype(float) - share[None, :]
    return num / total - np.outer(num.sum(axis=1), share / total**2)


def _weighted(att: np.ndarray, psi: np.ndarray, idx: np.ndarray, share: np.ndarray, cohort: np.ndarray, unit_cohort: np.ndarray):
    """Share-weighted average of the cells ``idx`` with the influence of the estimated weights."""
    n = psi.shape[0]
    w = share[idx] / share[idx].sum()
    wif = _weight_influence(unit_cohort, share[idx], cohort[idx])
    return float(w @ att[idx]), psi[:, idx] @ w + wif @ att[idx] / n


def aggregate_cells(
    att: np.ndarray,
    psi: np.ndarray,
    cohort: np.ndarray,
    period: np.ndarray,
    unit_cohort: np.ndarray,
    kind: str,
    *,
    min_e: float = -np.inf,
    max_e: float = np.inf,
    balance_e: int | None = None,
    last_period: int | None = None,
) -> Aggregate:
    """Aggregate ATT(g,t) cells (period codes ``cohort``, ``period``) as ``did::aggte(type=kind)``.

    ``unit_cohort`` holds every unit's cohort code (never treated: any code that is not a cohort). The weight of a
    cell is the share of its cohort among all units.
    """
    n = psi.shape[0]
    cohorts = np.unique(cohort)
    share_of = {int(g): float(np.mean(unit_cohort == g)) for g in cohorts}
    share = np.array([share_of[int(g)] for g in cohort])
    event = period - cohort
    window = (cohort <= period) & (event >= min_e) & (event <= max_e)
    if kind in ("simple", "none"):
        idx = np.flatnonzero(window)
        if idx.size == 0:
            raise DataError("no post-treatment group-time effect lies in the event-time window (min_e, max_e)")
        est, p = _weighted(att, psi, idx, share, cohort, unit_cohort)
        return Aggregate(["ATT"], np.array([est]), p[:, None], est, p)
    if kind == "group":
        labels, vals, cols = [], [], []
        for g in cohorts:
            idx = np.flatnonzero((cohort == g) & window)
            if idx.size == 0:
                raise DataError(f"cohort code {int(g)} has no post-treatment group-time effect in the event-time window (min_e, max_e)")
            labels.append(int(g))
            vals.append(att[idx].mean())
            cols.append(psi[:, idx].mean(axis=1))
        g_att, g_psi = np.array(vals), np.column_stack(cols)
        g_share = np.array([share_of[g] for g in labels])
        w = g_share / g_share.sum()
        wif = _weight_influence(unit_cohort, g_share, np.array(labels))
        return Aggregate([str(g) for g in labels], g_att, g_psi, float(w @ g_att), g_psi @ w + wif @ g_att / n)
    if kind == "dynamic":
        keep = np.ones(att.size, dtype=bool)
        events = np.unique(event)
        if balance_e is not None:
            top = int(period.max()) if last_period is None else last_period
            keep = (top - cohort) >= balance_e
            events = np.unique(event[keep])
            events = events[(events <= balance_e) & (events >= balance_e - top)]
        events = events[(events >= min_e) & (events <= max_e)]
        if events.size == 0:
            raise ArgumentError("no event time lies in the window given by min_e, max_e and balance_e; widen it")
        vals, cols = [], []
        for e in events:
            est, p = _weighted(att, psi, np.flatnonzero((event == e) & keep), share, cohort, unit_cohort)
            vals.append(est)
            cols.append(p)
        e_att, e_psi = np.array(vals), np.column_stack(cols)
        post = events >= 0
        overall = float(e_att[post].mean()) if post.any() else float("nan")
        overall_psi = e_psi[:, post].mean(axis=1) if post.any() else np.full(n, np.nan)
        return Aggregate([str(int(e)) for e in events], e_att, e_psi, overall, overall_psi)
    # calendar
    t_labels: list[str] = []
    vals, cols = [], []
    for t1 in np.unique(period[period >= cohort.min()]):
        idx = np.flatnonzero((period == t1) & (cohort <= period))
        if idx.size == 0:
            continue
        est, p = _weighted(att, psi, idx, share, cohort, unit_cohort)
        t_labels.append(str(int(t1)))
        vals.append(est)
        cols.append(p)
    c_att, c_psi = np.array(vals), np.column_stack(cols)
    return Aggregate(t_labels, c_att, c_psi, float(c_att.mean()), c_psi.mean(axis=1))


def standard_errors(psi: np.ndarray) -> np.ndarray:
    """Unit-clustered standard errors of the columns of an influence-function matrix."""
    return np.sqrt((psi**2).sum(axis=0))


def multiplier_bootstrap(
    psi: np.ndarray, *, n_boot: int, weights: str, conf_level: float, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Bootstrap standard errors and the critical value of a uniform band (``did``'s ``mboot``).

    Each draw multiplies every unit's influence by an independent weight of mean 0 and variance 1 (Rademacher
    +-1, or Mammen's two-point weights). A column's standard error is the interquartile range of its draws divided
    by that of the standard normal; the critical value is the ``conf_level`` quantile of the largest absolute
    t-statistic across columns (``type = 1`` quantiles, as R). Columns without variation get NaN and are left out.
    """
    n = psi.shape[0]
    if weights == "rademacher":
        v = rng.integers(0, 2, size=(n_boot, n)) * 2.0 - 1.0
    else:
        s5 = np.sqrt(5.0)
        lo, hi = (1.0 - s5) / 2.0, (1.0 + s5) / 2.0
        v = np.where(rng.random((n_boot, n)) < (s5 + 1.0) / (2.0 * s5), lo, hi)
    draws = v @ np.nan_to_num(psi)
    q75 = np.quantile(draws, 0.75, axis=0, method="inverted_cdf")
    q25 = np.quantile(draws, 0.25, axis=0, method="inverted_cdf")

    se = (q75 - q25) / (z_quantile(0.75) - z_quantile(0.25))
    usable = np.isfinite(se) & (se > np.sqrt(np.finfo(float).eps) * 10 / np.sqrt(n))
    se = np.where(usable, se, np.nan)
    if not usable.any():
        return se, float("nan")
    tmax = np.max(np.abs(draws[:, usable] / se[usable]), axis=1)
    crit = float(np.quantile(tmax, conf_level, method="inverted_cdf"))
    return se, crit
