"""Pictures of heterogeneous effects and policies: CATE distribution, GATES bars, TOC curve, policy tree."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from ..exceptions import ArgumentError, ArgumentTypeError
from ..results import Result
from ..results._plot import get_axes

__all__ = ["plot_cate", "plot_gates", "plot_policy_tree", "plot_toc"]

_AX = [None, vp.HasMethods("plot", what="a matplotlib Axes")]


@vp.validate_params({"effects": "frame", "ax": _AX, "title": [None, "string"]})
def plot_cate(effects: pd.DataFrame, *, ax: Any = None, title: str | None = None) -> Any:
    """Every unit's CATE with its interval, sorted by the estimate (a frame from ``model.effect_frame(X)``).

    Returns
    -------
    matplotlib Axes
    """
    missing = [c for c in ("effect", "ci_low", "ci_high") if c not in effects.columns]
    if missing:
        raise ArgumentError(f"`effects` must have the columns effect, ci_low and ci_high (from model.effect_frame(X)); missing {missing}")
    ax = get_axes(ax)
    f = effects.sort_values("effect", kind="stable")
    rank = np.arange(len(f)) / max(len(f) - 1, 1)
    ax.fill_between(rank, f["ci_low"], f["ci_high"], color="C0", alpha=0.25, linewidth=0, label="interval")
    ax.plot(rank, f["effect"], color="C0", label="CATE")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("units, sorted by estimated effect (quantile)")
    ax.set_ylabel("conditional average treatment effect")
    ax.legend(loc="upper left")
    ax.set_title(title or "Estimated effects with intervals")
    return ax


def _result_with(result: Any, key: str, func: str) -> Result:
    if not isinstance(result, Result) or key not in result.details:
        raise ArgumentTypeError(f"`result` must be a Result from {func} (with details[{key!r}]); got {type(result).__name__}")
    return result


@vp.validate_params({"result": vp.InstanceOf("causalinfer.results:Result"), "ax": _AX, "title": [None, "string"]})
def plot_gates(result: Result, *, ax: Any = None, title: str | None = None) -> Any:
    """Sorted group average treatment effects with intervals and the average effect (from :func:`heterogeneity_test`)."""
    g = _result_with(result, "gates", "heterogeneity_test").details["gates"]
    ax = get_axes(ax)
    x = g["group"].to_numpy()
    est = g["effect"].to_numpy()
    ax.bar(x, est, color="C0", alpha=0.7)
    ax.errorbar(x, est, yerr=[est - g["ci_low"], g["ci_high"] - est], fmt="none", color="black", capsize=4)
    ate = pd.DataFrame(result.terms).set_index("term").loc["blp_ate", "estimate"]
    ax.axhline(ate, color="C3", linestyle="--", label="average effect")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xticks(x)
    ax.set_xlabel("group of predicted effect (1 = lowest)")
    ax.set_ylabel("group average treatment effect")
    ax.legend()
    ax.set_title(title or "GATES")
    return ax


@vp.validate_params({"result": vp.InstanceOf("causalinfer.results:Result"), "ax": _AX, "title": [None, "string"]})
def plot_toc(result: Result, *, ax: Any = None, title: str | None = None) -> Any:
    """Targeting operator characteristic: effect among the top q by predicted effect minus the average effect."""
    toc = _result_with(result, "toc", "heterogeneity_test").details["toc"]
    ax = get_axes(ax)
    ax.plot(toc["q"], toc["toc"], color="C0")
    ax.axhline(0, color="grey", linewidth=0.8)
    terms = pd.DataFrame(result.terms)
    est = dict(zip(terms["term"], terms["estimate"].astype(float), strict=True))
    ax.set_xlabel("share treated, by decreasing predicted effect (q)")
    ax.set_ylabel("TOC(q)")
    ax.set_title(title or f"TOC curve (AUTOC {est['autoc']:.3g}, Qini {est['qini']:.3g})")
    return ax


@vp.validate_params({"result": vp.InstanceOf("causalinfer.results:Result"), "ax": _AX, "title": [None, "string"]})
def plot_policy_tree(result: Result, *, ax: Any = None, title: str | None = None) -> Any:
    """The depth-2 policy tree of :func:`policy_tree` drawn as boxes and arrows."""
    r = _result_with(result, "tree", "policy_tree")
    names = r.details["covariates"]
    ax = get_axes(ax)
    ax.set_axis_off()

    def label(node: dict[str, Any]) -> str:
        if "action" in node:
            return "treat" if node["action"] else "do not treat"
        if node["feature"] < 0:
            return label(node["left"])
        return f"{names[node['feature']]!s} <= {node['threshold']:.4g}"

    def draw(node: dict[str, Any], x: float, y: float, dx: float) -> None:
        leaf = "action" in node or node["feature"] < 0
        colour = "#cfe8cf" if leaf and label(node) == "treat" else ("#f2d0d0" if leaf else "#dde6f2")
        ax.text(x, y, label(node), ha="center", va="center", bbox={"boxstyle": "round", "fc": colour, "ec": "grey"})
        if leaf:
            return
        for child, sign, word in ((node["left"], -1, "yes"), (node["right"], 1, "no")):
            cx, cy = x + sign * dx, y - 0.3
            ax.annotate("", xy=(cx, cy + 0.06), xytext=(x, y - 0.06), arrowprops={"arrowstyle": "->", "color": "grey"})
            ax.text((x + cx) / 2, (y + cy) / 2, word, ha="center", va="center", fontsize=8, color="grey")
            draw(child, cx, cy, dx / 2)

    draw(r.details["tree"], 0.5, 0.9, 0.25)
    ax.set_xlim(0, 1)
    ax.set_ylim(0.1, 1.0)
    ax.set_title(title or f"Policy tree (treats {100 * r.details['share_treated']:.3g}% of units)")
    return ax
