"""Overlap and covariate balance: the checks that decide whether to believe an effect estimate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..results import Diagnostic
from ..results._plot import love_plot, overlap_plot  # noqa: F401  (plots live with the results)

#: Columns of the balance table.
BALANCE_COLUMNS = (
    "covariate",
    "mean_treated",
    "mean_control",
    "smd_before",
    "smd_after",
    "variance_ratio_before",
    "variance_ratio_after",
)
#: Columns of the overlap table (one row per treatment arm).
OVERLAP_COLUMNS = (
    "group",
    "n",
    "propensity_min",
    "propensity_q01",
    "propensity_median",
    "propensity_q99",
    "propensity_max",
    "weight_max",
    "weight_sum",
    "effective_sample_size",
)
SMD_THRESHOLD = 0.1
OVERLAP_BOUND = 0.01


def balance_table(Z: np.ndarray, names: Sequence[str], a: np.ndarray, weights: np.ndarray | None) -> pd.DataFrame:
    """Standardised mean differences and variance ratios before and after weighting.

    The SMD divides the (weighted) difference in means by the unweighted pooled standard deviation
    ``sqrt((s1^2 + s0^2) / 2)``, so before and after are on the same scale (as in R's cobalt).
    All four groups (treated, control, and both weighted) come from two passes over ``Z``, each one matrix
    product: the sums, then the squares about each group's own mean (the two-pass variance, as accurate as
    centring each group separately).
    """
    treated = a == 1
    M = _group_indicators(treated, a == 0, weights)
    S = M.T @ Z
    size = M.T @ np.ones(Z.shape[0])  # the same summation as S, so a column constant in a group has variance 0
    means = S / size[:, None]
    D = np.where(treated[:, None], means[0], means[1])  # each row's group mean (unweighted)
    np.subtract(Z, D, out=D)
    np.multiply(D, D, out=D)
    Q = M.T @ D
    m1, m0 = means[0], means[1]
    v1, v0 = Q[0] / (size[0] - 1.0), Q[1] / (size[1] - 1.0)
    pooled = np.sqrt((v1 + v0) / 2.0)
    pooled = np.where(pooled > 0, pooled, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        vr_before = np.where(v0 > 0, v1 / v0, np.nan)
    if weights is not None:
        wm1, wm0 = means[2], means[3]
        # weighted squares about the unweighted group mean, moved to the weighted mean
        wv1 = np.maximum(Q[2] / size[2] - (wm1 - m1) ** 2, 0.0)
        wv0 = np.maximum(Q[3] / size[3] - (wm0 - m0) ** 2, 0.0)
        smd_after = (wm1 - wm0) / pooled
        with np.errstate(divide="ignore", invalid="ignore"):
            vr_after = np.where(wv0 > 0, wv1 / wv0, np.nan)
    else:
        smd_after = np.full(len(names), np.nan)
        vr_after = np.full(len(names), np.nan)
    return pd.DataFrame(
        {
            "covariate": list(names),
            "mean_treated": m1,
            "mean_control": m0,
            "smd_before": (m1 - m0) / pooled,
            "smd_after": smd_after,
            "variance_ratio_before": vr_before,
            "variance_ratio_after": vr_after,
        },
        columns=list(BALANCE_COLUMNS),
    )


def _group_indicators(treated: np.ndarray, control: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Columns ``[treated, control]`` and, with weights, ``[w treated, w control]``: one matrix product sums all groups."""
    cols = [treated.astype(float), control.astype(float)]
    if weights is not None:
        cols += [weights * cols[0], weights * cols[1]]
    return np.column_stack(cols)


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2``."""
    return float(w.sum() ** 2 / (w @ w))


def overlap_table(e: np.ndarray, a: np.ndarray, weights: np.ndarray | None) -> pd.DataFrame:
    rows = []
    for label, mask in (("treated", a == 1), ("control", a == 0)):
        ea = e[mask]
        q = np.quantile(ea, [0.01, 0.5, 0.99])
        w = weights[mask] if weights is not None else None
        rows.append(
            {
                "group": label,
                "n": int(mask.sum()),
                "propensity_min": float(ea.min()),
                "propensity_q01": float(q[0]),
                "propensity_median": float(q[1]),
                "propensity_q99": float(q[2]),
                "propensity_max": float(ea.max()),
                "weight_max": float(w.max()) if w is not None else np.nan,
                "weight_sum": float(w.sum()) if w is not None else np.nan,
                "effective_sample_size": effective_sample_size(w) if w is not None else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(OVERLAP_COLUMNS))


def propensity_histogram(e: np.ndarray, a: np.ndarray, bins: int = 20) -> pd.DataFrame:
    edges = np.linspace(0.0, 1.0, bins + 1)
    h1, _ = np.histogram(e[a == 1], edges)
    h0, _ = np.histogram(e[a == 0], edges)
    return pd.DataFrame({"bin_low": edges[:-1], "bin_high": edges[1:], "treated": h1.astype(np.int64), "control": h0.astype(np.int64)})


def overlap_diagnostics(e: np.ndarray, a: np.ndarray, weights: np.ndarray | None, estimand: str) -> list[Diagnostic]:
    out = []
    # the ATT needs treated units to have comparable controls (e < 1); the ATC the reverse; the ATE both
    low = e < OVERLAP_BOUND
    high = e > 1 - OVERLAP_BOUND
    relevant = (low | high) if estimand == "ATE" else (high if estimand == "ATT" else low)
    k = int(relevant.sum())
    rng = f"propensities range from {e.min():.3g} to {e.max():.3g}"
    if k == 0:
        out.append(Diagnostic("overlap", "ok", 0.0, f"{rng}; no unit that matters for the {estimand} is within {OVERLAP_BOUND} of 0 or 1"))
    else:
        share = k / e.size
        out.append(
            Diagnostic(
                "overlap",
                "warn" if share < 0.05 else "fail",
                float(k),
                f"{rng}; {k} unit(s) ({100 * share:.1f}%) have propensity within {OVERLAP_BOUND} of 0 or 1, where the other group "
                "has almost no comparable units. Estimates lean on extrapolation and extreme weights: consider trim=0.05, "
                "the ATT/ATC, or restricting the population",
            )
        )
    if weights is not None:
        for label, mask in (("treated", a == 1), ("control", a == 0)):
            w = weights[mask]
            if np.all(w == w[0]):
                continue
            ess = effective_sample_size(w)
            share = float(w.max() / w.sum())
            status = "ok" if ess >= 0.1 * mask.sum() and share <= 0.05 else "warn"
            msg = f"effective sample size {ess:.1f} of {int(mask.sum())} {label} units; the largest weight carries {100 * share:.1f}% of the group's total"
            if status == "warn":
                msg += "; a few units dominate the estimate (consider trimming or clipping the propensity)"
            out.append(Diagnostic(f"weights ({label})", status, ess, msg))
    return out


def balance_diagnostic(table: pd.DataFrame, adjusted: bool) -> Diagnostic:
    col = "smd_after" if adjusted else "smd_before"
    smd = table[col].to_numpy(dtype=float)
    if smd.size == 0:
        return Diagnostic("balance", "ok", 0.0, "no covariates: nothing to balance")
    j = int(np.nanargmax(np.abs(smd)))
    worst = float(abs(smd[j]))
    name = table["covariate"].iloc[j]
    when = "after weighting" if adjusted else "without adjustment"
    if worst <= SMD_THRESHOLD:
        return Diagnostic(
            "balance", "ok", worst, f"largest |standardised mean difference| {when} is {worst:.3f} ({name}), below {SMD_THRESHOLD}"
        )
    bad = int(np.sum(np.abs(smd) > SMD_THRESHOLD))
    return Diagnostic(
        "balance",
        "warn",
        worst,
        f"{bad} covariate column(s) have |standardised mean difference| above {SMD_THRESHOLD} {when}; worst is {name} "
        f"({worst:.3f}). The propensity model may be misspecified: add interactions or squared terms, or use a doubly robust method",
    )
