"""Pictures of design-based results; matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _validation as vp
from ..exceptions import ArgumentTypeError
from ..results import Result
from ..results._plot import get_axes


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.results:Result"),
        "ax": [None, vp.HasMethods("plot", what="a matplotlib Axes")],
        "title": [None, "string"],
    }
)
def plot_event_study(result: Result, *, ax: Any = None, title: str | None = None) -> Any:
    """Event-time coefficients with confidence intervals, a zero line and the treatment onset.

    Parameters
    ----------
    result : Result
        From :func:`event_study` (uses ``details["event_time"]``) or :func:`callaway_santanna` with
        ``aggregate="dynamic"`` (uses ``terms``).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(result, Result):
        raise ArgumentTypeError(f"`result` must be a Result from event_study or callaway_santanna; got {type(result).__name__}")
    if "event_time" in result.details:
        table = result.details["event_time"]
        e = table["event_time"].to_numpy(float)
    elif result.terms is not None and result.terms["term"].str.startswith("e=").all():
        table = result.terms
        e = table["term"].str[2:].astype(float).to_numpy()
    else:
        raise ArgumentTypeError(
            "`result` has no event-time coefficients; use event_study(...) or callaway_santanna(..., aggregate='dynamic')"
        )
    est = table["estimate"].to_numpy(float)
    lo = table["ci_low"].to_numpy(float)
    hi = table["ci_high"].to_numpy(float)
    fresh = ax is None
    ax = get_axes(ax, figsize=(6.5, 3.5))
    pre = e < 0
    for mask, colour, label in ((pre, "#57606a", "before treatment"), (~pre, "#0969da", "after treatment")):
        err = np.vstack([est[mask] - lo[mask], hi[mask] - est[mask]])
        ax.errorbar(e[mask], est[mask], yerr=err, fmt="o", color=colour, capsize=3, label=label)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.axvline(-0.5, color="#cf222e", linestyle="--", linewidth=1)
    level = result.conf_level or 0.95
    ax.set_xlabel("periods relative to treatment")
    ax.set_ylabel(f"effect with {100 * level:g}% CI")
    ax.set_title(title if title is not None else result.method.split(",")[0])
    ax.legend(frameon=False)
    if fresh:
        ax.figure.tight_layout()
    return ax


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.results:Result"),
        "ax": [None, vp.HasMethods("plot", what="a matplotlib Axes")],
        "title": [None, "string"],
    }
)
def plot_rdd(result: Result, *, ax: Any = None, title: str | None = None) -> Any:
    """Binned scatter of the outcome against the running variable, with the local fits and the cutoff.

    Parameters
    ----------
    result : Result
        From :func:`rdd` (uses ``details["bins"]`` and, for sharp designs, ``details["fit"]``).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    if not isinstance(result, Result) or "bins" not in result.details:
        raise ArgumentTypeError(f"`result` must be a Result from rdd(...); got {type(result).__name__}")
    bins = result.details["bins"]
    fresh = ax is None
    ax = get_axes(ax, figsize=(6.5, 3.5))
    for side, colour in (("below", "#57606a"), ("above", "#0969da")):
        b = bins[bins["side"] == side]
        ax.scatter(b["x"], b["y"], s=14, color=colour, label=f"bin means ({side})")
    if "fit" in result.details:
        fit = result.details["fit"]
        for side in ("below", "above"):
            f = fit[fit["side"] == side]
            ax.plot(f["x"], f["fitted"], color="#cf222e", linewidth=2)
    ax.axvline(result.details["cutoff"], color="black", linestyle="--", linewidth=1)
    ax.set_xlabel("running variable")
    ax.set_ylabel("outcome")
    ax.set_title(title if title is not None else f"Regression discontinuity (h = {result.details['bandwidth']:.3g})")
    if fresh:
        ax.figure.tight_layout()
    return ax
