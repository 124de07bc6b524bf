"""Overlap and covariate balance: the checks that decide whether to believe an effect estimate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..results import Diagnostic
from ..results._plot import love_plot, overlap_plot  # noqa: F401  (plots live with the results)
from ._models import one_blas_thread, row_blocks

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
    All four groups (treated, control, and both weighted) come from two passes over ``Z``, block by block
    over the rows, each block one matrix product: the sums, then the squares about each group's own mean (the
    two-pass variance, as accurate as centring each group separately).
    """
    treated = a == 1
    blocks = row_blocks(Z.shape[0])
    with one_blas_thread():
        means, size, Q = _group_moments(Z, treated, _group_indicators(treated, a == 0, weights), blocks)
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


def _group_moments(Z: np.ndarray, treated: np.ndarray, M: np.ndarray, blocks: list[slice]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group means, sizes and sums of squares about each row's unweighted group mean, for the groups in ``M``'s columns."""
    g, k = M.shape[1], Z.shape[1]
    S, size = np.zeros((g, k)), np.zeros(g)
    ones = np.ones(blocks[0].stop if blocks else 0)
    for sl in blocks:
        Mb = M[sl]
        S += Mb.T @ Z[sl]
        size += Mb.T @ ones[: Mb.shape[0]]  # the same summation as S, so a column constant in a group has variance 0
    means = S / size[:, None]
    Q = np.zeros((g, k))
    for sl in blocks:
        Mb = M[sl]
        D = np.where(treated[sl, None], means[0], means[1])  # each row's group mean (unweighted)
        np.subtract(Z[sl], D, out=D)
        np.multiply(D, D, out=D)
        Q += Mb.T @ D
    return means, size, Q


def _group_indicators(treated: np.ndarray, control: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Columns ``[treated, control]`` and, with weights, ``[w treated, w control]``: one matrix product sums all groups."""
    M = np.empty((treated.size, 2 if weights is None else 4), order="F")  # column by column, each contiguous
    M[:, 0] = treated
    M[:, 1] = control
    if weights is not None:
        np.multiply(weights, M[:, 0], out=M[:, 2])
        np.multiply(weights, M[:, 1], out=M[:, 3])
    return M


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2``."""
    return float(w.sum() ** 2 / (w @ w))


@dataclass(frozen=True)
class Group:
    """One treatment arm's propensities and weights, taken out of the full arrays once for every overlap summary."""

    label: str
    n: int
    e: np.ndarray
    weights: np.ndarray | None
    _memo: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    def ess(self) -> float:
        """``effective_sample_size`` of the arm's weights, computed once."""
        assert self.weights is not None
        if "ess" not in self._memo:
            self._memo["ess"] = effective_sample_size(self.weights)
        return self._memo["ess"]


def split_groups(e: np.ndarray, a: np.ndarray, weights: np.ndarray | None) -> tuple[Group, Group]:
    """The treated and the control arm (in that order)."""
    out = []
    for label, mask in (("treated", a == 1), ("control", a == 0)):
        ea = e[mask]
        out.append(Group(label, int(ea.size), ea, weights[mask] if weights is not None else None))
    return out[0], out[1]


def overlap_table(e: np.ndarray, a: np.ndarray, weights: np.ndarray | None, groups: tuple[Group, Group] | None = None) -> pd.DataFrame:
    rows = []
    for g in groups or split_groups(e, a, weights):
        ea, w = g.e, g.weights
        q = np.quantile(ea, [0.01, 0.5, 0.99])
        rows.append(
            {
                "group": g.label,
                "n": g.n,
                "propensity_min": float(ea.min()),
                "propensity_q01": float(q[0]),
                "propensity_median": float(q[1]),
                "propensity_q99": float(q[2]),
                "propensity_max": float(ea.max()),
                "weight_max": float(w.max()) if w is not None else np.nan,
                "weight_sum": float(w.sum()) if w is not None else np.nan,
                "effective_sample_size": g.ess() if w is not None else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=list(OVERLAP_COLUMNS))


def propensity_histogram(e: np.ndarray, a: np.ndarray, bins: int = 20, groups: tuple[Group, Group] | None = None) -> pd.DataFrame:
    edges = np.linspace(0.0, 1.0, bins + 1)
    g1, g0 = groups or split_groups(e, a, None)
    # equal-width bins given by their number and range: numpy's direct bin computation (checked against these same
    # edges), not the sort-and-search it uses for an array of edges
    h1, _ = np.histogram(g1.e, bins, range=(0.0, 1.0))
    h0, _ = np.histogram(g0.e, bins, range=(0.0, 1.0))
    return pd.DataFrame({"bin_low": edges[:-1], "bin_high": edges[1:], "treated": h1.astype(np.int64), "control": h0.astype(np.int64)})


def overlap_diagnostics(
    e: np.ndarray, a: np.ndarray, weights: np.ndarray | None, estimand: str, groups: tuple[Group, Group] | None = None
) -> list[Diagnostic]:
    """Overlap check and, with weights, the effective sample size of each arm (``groups``: ``split_groups(e, a, weights)``)."""
    out = []
    groups = groups or split_groups(e, a, weights)
    # the ATT needs treated units to have comparable controls (e < 1); the ATC the reverse; the ATE both
    low = e < OVERLAP_BOUND
    high = e > 1 - OVERLAP_BOUND
    relevant = (low | high) if estimand == "ATE" else (high if estimand == "ATT" else low)
    k = int(np.count_nonzero(relevant))
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
        for g in groups:
            w = g.weights
            assert w is not None
            if np.all(w == w[0]):
                continue
            ess = g.ess()
            share = float(w.max() / w.sum())
            status = "ok" if ess >= 0.1 * g.n and share <= 0.05 else "warn"
            msg = f"effective sample size {ess:.1f} of {g.n} {g.label} units; the largest weight carries {100 * share:.1f}% of the group's total"
            if status == "warn":
                msg += "; a few units dominate the estimate (consider trimming or clipping the propensity)"
            out.append(Diagnostic(f"weights ({g.label})", status, ess, msg))
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
