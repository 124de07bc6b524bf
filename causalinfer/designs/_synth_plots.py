"""Pictures of a synthetic control: gaps against the placebos, trajectories, donor weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice
from ..exceptions import ArgumentError, ArgumentTypeError
from ..results import Result
from ..results._plot import get_axes

KINDS = ("gaps", "trajectory", "weights")


def _numeric_periods(periods: pd.Series) -> tuple[np.ndarray, list[Any] | None]:
    """Positions to plot the periods at, and tick labels when the periods are not numbers."""
    values = periods.to_numpy()
    try:
        return values.astype(float), None
    except (TypeError, ValueError):
        return np.arange(values.size, dtype=float), [str(v) for v in values]


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.results:Result"),
        "kind": vp.Options(KINDS),
        "max_pre_rmspe_ratio": [None, vp.Interval("real", 0.0, None, closed="neither")],
        "ax": [None, vp.HasMethods("plot", what="a matplotlib Axes")],
        "title": [None, "string"],
    }
)
def plot_synth(
    result: Result, *, kind: str = "gaps", max_pre_rmspe_ratio: float | None = None, ax: Any = None, title: str | None = None
) -> Any:
    """Plot a synthetic control result.

    Parameters
    ----------
    result : Result
        From :func:`synthetic_control`.
    kind : {"gaps", "trajectory", "weights"}
        ``"gaps"``: treated minus synthetic by period, with every placebo's gap in grey (Abadie et al. 2010,
        figure 4); ``"trajectory"``: the treated unit and its synthetic control; ``"weights"``: the donor weights.
    max_pre_rmspe_ratio : float, optional
        For ``"gaps"``: leave out placebos whose pre-treatment RMSPE exceeds this multiple of the treated unit's
        (ADH use 5, 2); default: show all.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    kind = check_choice(kind, "kind", KINDS)
    gaps = result.details.get("gaps")
    if not isinstance(gaps, pd.DataFrame) or "synthetic" not in gaps.columns:
        raise ArgumentTypeError("`result` is not a synthetic control result (it has no details['gaps']); use synthetic_control(...)")
    x, ticks = _numeric_periods(gaps["period"])
    post = gaps["post"].to_numpy(bool)
    onset = x[post][0] - 0.5 if post.any() else None
    ax = get_axes(ax, figsize=(6.5, 3.5))
    if kind == "weights":
        w = result.details["weights"]
        w = w[w["weight"] > 1e-6]
        ax.barh([str(u) for u in w["unit"]][::-1], w["weight"].to_numpy()[::-1], color="#0969da")
        ax.set_xlabel("donor weight")
        ax.set_title(title or "Synthetic control: donor weights")
        return ax
    if kind == "trajectory":
        ax.plot(x, gaps["treated"], color="black", label="treated")
        ax.plot(x, gaps["synthetic"], color="#0969da", linestyle="--", label="synthetic control")
        ax.set_ylabel("outcome")
    else:
        placebos = result.details.get("placebo_gaps")
        if placebos is None:
            raise ArgumentError("this result has no placebo gaps; fit it with placebo=True to draw them")
        keep = None
        if max_pre_rmspe_ratio is not None:
            table = result.details["placebos"]
            limit = float(table.loc[table["treated"], "pre_rmspe"].iloc[0]) * max_pre_rmspe_ratio
            keep = set(table.loc[~table["treated"] & (table["pre_rmspe"] <= limit), "unit"])
        for unit, part in placebos.groupby("unit", sort=False):
            if keep is None or unit in keep:
                ax.plot(x, part["gap"].to_numpy(), color="#8c959f", linewidth=0.7, alpha=0.7)
        ax.plot(x, gaps["gap"], color="black", linewidth=2, label="treated")
        ax.plot([], [], color="#8c959f", label="placebos (donors as if treated)")
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_ylabel("gap: treated - synthetic")
    if onset is not None:
        ax.axvline(onset, color="#cf222e", linestyle="--", linewidth=1)
    if ticks is not None:
        ax.set_xticks(x, ticks)
    ax.set_xlabel("period")
    ax.legend(frameon=False)
    ax.set_title(title or ("Synthetic control: gaps" if kind == "gaps" else "Synthetic control: trajectories"))
    return ax
