"""Plots for results; matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._optional import import_optional


def get_axes(ax: Any = None, *, figsize: tuple[float, float] = (6.0, 3.0)) -> Any:
    """``ax`` if given, else a fresh matplotlib Axes."""
    if ax is not None:
        return ax
    plt = import_optional("matplotlib.pyplot", extra="plot", purpose="plotting")
    _, new_ax = plt.subplots(figsize=figsize)
    return new_ax


def forest_plot(frame: pd.DataFrame, *, ax: Any = None, title: str = "", null_value: float | None = None, **kwargs: Any) -> Any:
    """Point estimates with confidence intervals, one row per line of ``frame`` (columns term, estimate, ci_low, ci_high)."""
    rows = frame[frame["estimate"].notna()].reset_index(drop=True)
    ax = get_axes(ax, figsize=(6.5, 0.5 + 0.45 * max(len(rows), 1)))
    y = np.arange(len(rows))[::-1]
    est = rows["estimate"].to_numpy(float)
    lo = rows["ci_low"].to_numpy(float)
    hi = rows["ci_high"].to_numpy(float)
    finite_lo = np.where(np.isfinite(lo), lo, est)
    finite_hi = np.where(np.isfinite(hi), hi, est)
    err = np.vstack([est - finite_lo, finite_hi - est])
    err = np.where(np.isnan(err), 0.0, err)
    ax.errorbar(est, y, xerr=err, fmt="o", color=kwargs.pop("color", "#0969da"), capsize=3, **kwargs)
    if null_value is not None:
        ax.axvline(null_value, color="#57606a", linestyle="--", linewidth=1)
    ax.set_yticks(y)
    ax.set_yticklabels([str(t) for t in rows["term"]])
    level = rows["conf_level"].dropna()
    ax.set_xlabel(f"estimate with {100 * level.iloc[0]:g}% CI" if len(level) else "estimate")
    if title:
        ax.set_title(title)
    ax.margins(y=0.15)
    return ax


def distribution_plot(
    values: np.ndarray,
    *,
    ax: Any = None,
    title: str = "",
    xlabel: str = "",
    marks: tuple[tuple[str, float, str], ...] = (),
    bins: int | str = "auto",
    **kwargs: Any,
) -> Any:
    """Histogram of a resampling distribution with vertical lines at ``marks`` ((label, position, style) triples)."""
    ax = get_axes(ax, figsize=(6.5, 3.2))
    ax.hist(values, bins=bins, color=kwargs.pop("color", "#8fb8ea"), edgecolor="white", linewidth=0.3, **kwargs)
    for label, pos, style in marks:
        if np.isfinite(pos):
            ax.axvline(pos, color="#0969da" if style == "-" else "#cf222e", linestyle=style, linewidth=1.2, label=label)
    if marks:
        ax.legend(fontsize=8, frameon=False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    if title:
        ax.set_title(title)
    return ax


def love_plot(table: pd.DataFrame, *, ax: Any = None, threshold: float = 0.1, title: str = "Covariate balance") -> Any:
    """Absolute standardised mean differences before and after adjustment, one row per covariate column."""
    rows = table.reset_index(drop=True)
    ax = get_axes(ax, figsize=(6.5, 0.6 + 0.3 * max(len(rows), 1)))
    y = np.arange(len(rows))[::-1]
    ax.scatter(np.abs(rows["smd_before"]), y, marker="o", facecolors="none", edgecolors="#cf222e", label="unadjusted")
    if rows["smd_after"].notna().any():
        ax.scatter(np.abs(rows["smd_after"]), y, marker="o", color="#0969da", label="adjusted")
    ax.axvline(threshold, color="#57606a", linestyle="--", linewidth=1)
    ax.set_yticks(y)
    ax.set_yticklabels([str(c) for c in rows["covariate"]])
    ax.set_xlabel("|standardised mean difference|")
    ax.set_title(title)
    ax.legend(loc="lower right")
    return ax


def overlap_plot(hist: pd.DataFrame, *, ax: Any = None, title: str = "Propensity score overlap") -> Any:
    """Mirrored histograms of the propensity score in the treated (up) and control (down) groups."""
    ax = get_axes(ax, figsize=(6.5, 3.5))
    width = (hist["bin_high"] - hist["bin_low"]).to_numpy(dtype=float)
    left = hist["bin_low"].to_numpy(dtype=float)
    ax.bar(left, hist["treated"].to_numpy(dtype=float), width=width, align="edge", color="#0969da", alpha=0.7, label="treated")
    ax.bar(left, -hist["control"].to_numpy(dtype=float), width=width, align="edge", color="#cf222e", alpha=0.7, label="control")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("propensity score")
    ax.set_ylabel("count (control below)")
    ax.set_title(title)
    ax.legend()
    return ax
