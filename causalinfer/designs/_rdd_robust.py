"""The rdrobust-style path of :func:`causalinfer.designs.rdd`: data checks, bandwidths, fit, tables and diagnostics."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import ArgumentError, DataError
from ..results import Diagnostic
from . import _rdrobust as rr

BWSELECTS = (*rr.BWSELECTS, "ik")
INFERENCES = ("robust", "conventional")
ROWS = ("conventional", "bias-corrected", "robust")


def check_support(data: rr.Data, q: int, r_name: str) -> None:
    """Refuse a running variable without enough distinct values on a side to fit the bias-correction polynomial."""
    c = data.c
    for side, s, m in (("below", data.left, data.n_unique_left), ("at or above", data.right, data.n_unique_right)):
        if m < q + 1:
            raise DataError(
                f"running variable {r_name!r} has {m} distinct value(s) {side} the cutoff {c:g} ({s.x.size} observation(s)); "
                f"the bias-correction polynomial of order q = {q} needs at least {q + 1} on each side: "
                + (
                    "move the cutoff inside the data or collect data on that side"
                    if m == 0
                    else "lower `order`/`bias_order` or pass more data"
                )
            )


def check_windows(data: rr.Data, h: tuple[float, float], b: tuple[float, float], p: int, q: int, kernel: str) -> None:
    """Refuse bandwidths that leave too few observations on a side (say how many, which side and what to do)."""
    c = data.c
    for what, bw, order in (("h", h, p), ("b", b, q)):
        for i, (side, s) in enumerate((("below", data.left), ("at or above", data.right))):
            inside = s.x[s.window(c, bw[i], kernel)[0]]
            n, m = int(inside.size), rr.n_distinct(inside)
            if n < order + 2 or m < order + 1:
                name = "bandwidth" if what == "h" or b == h else "bias_bandwidth"
                raise DataError(
                    f"`{name}` {bw[i]:.6g} leaves {n} observation(s) ({m} distinct value(s) of the running variable) {side} "
                    f"the cutoff {c:g} with positive {kernel} kernel weight; the local polynomial of order {order} needs at "
                    f"least {order + 2} there ({order + 1} distinct): widen `{name}` (or omit it to choose it from the data) "
                    "or lower the order"
                )


def resolve_vce(vce: str, clustered: bool) -> str:
    """rdrobust's mapping: with clusters NN and HC0/HC1 become the CR1 cluster-robust variance."""
    if not clustered:
        return vce
    if vce in ("nn", "hc0", "hc1"):
        return "hc1"
    raise ArgumentError(
        f"`vce` {vce!r} has no cluster-robust version here; with a `cluster` column the variance is CR1 "
        "(cluster-robust with rdrobust's small-sample factor): pass vce='nn' or 'hc1', or drop `cluster`"
    )


def bandwidths(
    data: rr.Data,
    *,
    bandwidth: float | None,
    bias_bandwidth: float | None,
    p: int,
    q: int,
    deriv: int,
    kernel: str,
    bwselect: str,
    vce: str,
    nnmatch: int,
    masspoints: str,
) -> tuple[tuple[float, float], tuple[float, float], str]:
    """(h, b) per side and the words for how they were chosen."""
    if bandwidth is not None:
        h = float(bandwidth)
        b = float(bias_bandwidth) if bias_bandwidth is not None else h
        return (h, h), (b, b), "user-supplied"
    if data.left.x.size + data.right.x.size < 20:
        raise DataError(
            f"{data.left.x.size + data.right.x.size} observations are too few to choose a bandwidth from the data "
            "(rdrobust needs 20); pass bandwidth=..."
        )
    hl, hr, bl, br = rr.select_bandwidths(
        data, p=p, q=q, deriv=deriv, kernel=kernel, bwselect=bwselect, vce=vce, nnmatch=nnmatch, masspoints=masspoints == "adjust"
    )
    if bias_bandwidth is not None:
        bl = br = float(bias_bandwidth)
    words = {
        "mserd": "MSE-optimal (common)",
        "msetwo": "MSE-optimal (two-sided)",
        "msesum": "MSE-optimal for the sum",
        "cerrd": "CER-optimal (common)",
        "certwo": "CER-optimal (two-sided)",
        "cersum": "CER-optimal for the sum",
    }[bwselect]
    return (hl, hr), (bl, br), f"{words} (Calonico, Cattaneo, Titiunik), {bwselect}"


def inference_table(fit: rr.RDFit, conf_level: float) -> pd.DataFrame:
    rows = []
    for name, (est, se, z, p, lo, hi) in fit.intervals(conf_level).items():
        rows.append(
            {"term": name, "estimate": est, "std_error": se, "ci_low": lo, "ci_high": hi, "statistic": z, "df": math.nan, "pvalue": p}
        )
    return pd.DataFrame(rows, columns=["term", "estimate", "std_error", "ci_low", "ci_high", "statistic", "df", "pvalue"])


def bandwidth_table(fit: rr.RDFit) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "side": ["below", "above"],
            "h": list(fit.h),
            "b": list(fit.b),
            "n": list(fit.n),
            "n_unique": list(fit.n_unique),
            "n_effective_h": list(fit.n_h),
            "n_effective_b": list(fit.n_b),
        }
    )


def first_stage_table(fit: rr.RDFit, conf_level: float) -> tuple[pd.DataFrame, Diagnostic]:
    from ._common import t_inference

    tcl, tbc, scl, srb = fit.first_stage  # type: ignore[misc]
    rows = []
    for name, est, se in (("conventional", tcl, scl), ("bias-corrected", tbc, scl), ("robust", tbc, srb)):
        stat, p, lo, hi = t_inference(est, se, None, conf_level)
        rows.append(
            {"term": name, "estimate": est, "std_error": se, "ci_low": lo, "ci_high": hi, "statistic": stat, "df": math.nan, "pvalue": p}
        )
    f_stat = (tcl / scl) ** 2 if scl > 0 else math.inf
    ok = f_stat >= 10
    diag = Diagnostic(
        "first-stage jump",
        "ok" if ok else "warn",
        f_stat,
        f"jump in treatment take-up {tcl:.3g} (F = {f_stat:.3g})"
        + ("" if ok else " < 10: weak first stage, the fuzzy estimate is unreliable"),
    )
    return pd.DataFrame(rows), diag


def bandwidth_diagnostic(fit: rr.RDFit, rule: str) -> Diagnostic:
    nb, na = fit.n_h
    status = "ok" if min(nb, na) >= 20 else "warn"
    hs = f"{fit.h[0]:.4g}" if fit.h[0] == fit.h[1] else f"{fit.h[0]:.4g} below / {fit.h[1]:.4g} above"
    return Diagnostic(
        "bandwidth",
        status,
        fit.h[0],
        f"{rule} bandwidth h = {hs}: {nb} observations below and {na} at or above the cutoff with positive weight"
        + ("" if status == "ok" else "; few points, so the estimate is noisy"),
    )


def fit_curve(fit: rr.RDFit, cutoff: float) -> pd.DataFrame:
    """The two fitted order-p polynomials inside their bandwidths (sharp designs; for the plot)."""
    rows = []
    for side, beta, grid in (
        ("below", fit.beta_left, np.linspace(-fit.h[0], 0, 50)),
        ("above", fit.beta_right, np.linspace(0, fit.h[1], 50)),
    ):
        yhat = np.polyval(beta[::-1], grid)
        rows += [{"side": side, "x": float(g + cutoff), "fitted": float(v)} for g, v in zip(grid, yhat, strict=True)]
    return pd.DataFrame(rows)


def balance(
    ds: Any, data_for: Any, fit: rr.RDFit, *, p: int, q: int, deriv: int, kernel: str, vce: str, nnmatch: int, conf_level: float
) -> tuple[pd.DataFrame, Diagnostic]:
    """Robust bias-corrected jump of each pre-determined covariate at the outcome's bandwidths."""
    rows = []
    for cov in ds.covariates:
        f = rr.rd_fit(data_for(cov), p=p, q=q, deriv=deriv, h=fit.h, b=fit.b, kernel=kernel, vce=vce, nnmatch=nnmatch)
        _, se, z, pv, lo, hi = f.intervals(conf_level)["robust"]
        rows.append({"covariate": cov, "jump": f.tau_cl, "std_error": se, "statistic": z, "pvalue": pv, "ci_low": lo, "ci_high": hi})
    bal = pd.DataFrame(rows)
    pmin, k = float(bal["pvalue"].min()), len(rows)
    ok = pmin >= 0.05 / k
    worst = bal["covariate"].iloc[int(np.argmin(bal["pvalue"].to_numpy()))]
    return bal, Diagnostic(
        "covariate balance",
        "ok" if ok else "warn",
        pmin,
        f"smallest robust p-value for a jump in a covariate {pmin:.3g} ({worst!r}, {k} covariate(s), Bonferroni level {0.05 / k:.3g})"
        + ("" if ok else ": pre-determined covariates jump at the cutoff, so units on the two sides differ"),
    )


def cluster_diagnostic(fit: rr.RDFit) -> Diagnostic:
    """How many clusters the bandwidth holds on each side (CR1 is unreliable with few; at most p + 1 it may degenerate)."""
    gl, gr = fit.n_clusters  # type: ignore[misc]
    few = min(gl, gr)
    ok = few >= 10
    return Diagnostic(
        "clusters",
        "ok" if ok else "warn",
        few,
        f"{gl} cluster(s) below and {gr} at or above the cutoff inside the bandwidth"
        + (
            ""
            if ok
            else ": cluster-robust standard errors are unreliable with fewer than 10 clusters on a side; widen the bandwidth or cluster more coarsely only if the design allows"
        ),
    )
