"""Regression discontinuity plot with data-driven bins (Calonico, Cattaneo and Titiunik 2015), as ``rdplot``.

Bin means of the outcome on each side of the cutoff with the number of bins chosen to be IMSE-optimal or to mimic
the variability of the raw data (evenly spaced or quantile spaced bins, with spacings or polynomial-regression
estimators of the bias and variance), and a global polynomial fit of order p on each side. Tested against
``rdrobust.rdplot``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice, check_int, check_real
from ..exceptions import ArgumentError, DataError, RoleError
from ..results import Provenance, Result
from ._common import dataset, need, numeric
from ._rdrobust import inv_spd, kweight, n_distinct

__all__ = ["rdplot"]

BINSELECTS = ("esmv", "es", "espr", "esmvpr", "qs", "qspr", "qsmv", "qsmvpr")
KERNELS = ("uniform", "triangular", "epanechnikov")
WORDS = {
    "es": "IMSE-optimal evenly spaced bins (spacings estimators)",
    "espr": "IMSE-optimal evenly spaced bins (polynomial regression)",
    "esmv": "mimicking-variance evenly spaced bins (spacings estimators)",
    "esmvpr": "mimicking-variance evenly spaced bins (polynomial regression)",
    "qs": "IMSE-optimal quantile-spaced bins (spacings estimators)",
    "qspr": "IMSE-optimal quantile-spaced bins (polynomial regression)",
    "qsmv": "mimicking-variance quantile-spaced bins (spacings estimators)",
    "qsmvpr": "mimicking-variance quantile-spaced bins (polynomial regression)",
}


def _global_fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Global polynomials in raw x of y and y^2 (order 4, lowered when singular), as rdplot's pilot fits."""
    for k in range(4, 1, -1):
        rk = np.column_stack([x**i for i in range(k + 1)])
        try:
            import scipy.linalg as sla

            cf = sla.cho_factor(rk.T @ rk, lower=True)
            inv = sla.cho_solve(cf, np.eye(k + 1))
            return inv @ (rk.T @ y), inv @ (rk.T @ y**2), k
        except np.linalg.LinAlgError:
            continue
    raise DataError("the running variable has too few distinct values for rdplot's pilot polynomial fits")


def _side_terms(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Bias and variance pieces of one side for the bin selectors (rdplot's spacings and regression estimators)."""
    g1, g2, k = _global_fit(x, y)
    order = np.argsort(x, kind="stable")
    xi, yi = x[order], y[order]
    dx, dy = np.diff(xi), np.diff(yi)
    xbar = (xi[1:] + xi[:-1]) / 2

    def poly(v: np.ndarray, g: np.ndarray) -> np.ndarray:
        return np.column_stack([v**i for i in range(k + 1)]) @ g

    def dpoly(v: np.ndarray) -> np.ndarray:
        return np.column_stack([(j + 1) * v**j for j in range(k)]) @ g1[1:]

    var_y = float(np.var(y, ddof=1))
    s2_bar = poly(xbar, g2) - poly(xbar, g1) ** 2
    s2_bar[s2_bar < 0] = var_y
    s2 = poly(x, g2) - poly(x, g1) ** 2
    s2[s2 < 0] = var_y
    return {"mu1": dpoly(x), "mu1_bar": dpoly(xbar), "dx": dx, "dy": dy, "s2_bar": s2_bar, "s2": s2, "var_y": var_y, "n": x.size}


def bin_numbers(
    xl: np.ndarray, yl: np.ndarray, xr: np.ndarray, yr: np.ndarray, c: float, x_min: float, x_max: float
) -> dict[str, np.ndarray]:
    """Every selector's number of bins per side: ``{"es": (J_left, J_right), ..., "esmv": ...}`` (as rdplot)."""
    L, R = _side_terms(xl, yl), _side_terms(xr, yr)
    n = L["n"] + R["n"]
    ranges = (c - x_min, x_max - c)

    def j_fun(b: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.ceil(((2 * b) / v * n) ** (1 / 3))

    sides = (L, R)
    b_es = np.array([(r**2 / (12 * n)) * np.sum(s["mu1"] ** 2) for r, s in zip(ranges, sides, strict=True)])
    v_es_hat = np.array([(0.5 / r) * np.sum(s["dx"] * s["dy"] ** 2) for r, s in zip(ranges, sides, strict=True)])
    v_es_chk = np.array([(1 / r) * np.sum(s["dx"] * s["s2_bar"]) for r, s in zip(ranges, sides, strict=True)])
    b_qs = np.array([(s["n"] ** 2 / (24 * n)) * np.sum(s["dx"] ** 2 * s["mu1_bar"] ** 2) for s in sides])
    v_qs_hat = np.array([(1 / (2 * s["n"])) * np.sum(s["dy"] ** 2) for s in sides])
    v_qs_chk = np.array([(1 / s["n"]) * np.sum(s["s2"]) for s in sides])
    var_y = np.array([L["var_y"], R["var_y"]])
    scale = n / math.log(n) ** 2
    return {
        "es": j_fun(b_es, v_es_hat),
        "espr": j_fun(b_es, v_es_chk),
        "qs": j_fun(b_qs, v_qs_hat),
        "qspr": j_fun(b_qs, v_qs_chk),
        "esmv": np.ceil(var_y / v_es_hat * scale),
        "esmvpr": np.ceil(var_y / v_es_chk * scale),
        "qsmv": np.ceil(var_y / v_qs_hat * scale),
        "qsmvpr": np.ceil(var_y / v_qs_chk * scale),
    }


def _imse_mv(binselect: str, js: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    base = binselect.replace("mv", "")
    mv = binselect if "mv" in binselect else binselect[:2] + "mv" + binselect[2:]
    return js[base], js[mv]


def _bins_table(
    xl: np.ndarray, yl: np.ndarray, xr: np.ndarray, yr: np.ndarray, c: float, x_min: float, x_max: float, jl: int, jr: int, quantile: bool
) -> pd.DataFrame:
    if quantile:
        el, er = np.quantile(xl, np.linspace(0, 1, jl + 1)), np.quantile(xr, np.linspace(0, 1, jr + 1))
    else:
        el, er = np.linspace(x_min, c, jl + 1), np.linspace(c, x_max, jr + 1)
    kl = np.clip(np.searchsorted(el, xl, side="right") - 1, 0, jl - 1)
    kr = np.clip(np.searchsorted(er, xr, side="right"), 1, jr) - 1
    frames = []
    for side, k, x, y, e, j in (("below", kl, xl, yl, el, jl), ("above", kr, xr, yr, er, jr)):
        cnt = np.bincount(k, minlength=j)
        keep = cnt > 0
        sx = np.bincount(k, weights=x, minlength=j)[keep] / cnt[keep]
        sy = np.bincount(k, weights=y, minlength=j)[keep] / cnt[keep]
        mid = ((e[:-1] + e[1:]) / 2)[keep]
        frames.append(
            pd.DataFrame(
                {
                    "side": side,
                    "x": sx,
                    "y": sy,
                    "n": cnt[keep].astype(int),
                    "bin_mid": mid,
                    "bin_low": e[:-1][keep],
                    "bin_high": e[1:][keep],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "running": [None, "column"],
        "cutoff": [None, vp.Interval("real")],
        "order": vp.Interval("int", 0, 8),
        "binselect": vp.Options(BINSELECTS),
        "n_bins": [None, vp.Interval("int", 1)],
        "scale": vp.Interval("real", 0, closed="neither", what="a positive number"),
        "kernel": vp.Options(KERNELS),
        "masspoints": vp.Options(("adjust", "off")),
    }
)
def rdplot(
    data: Any,
    *,
    outcome: str | None = None,
    running: str | None = None,
    cutoff: float | None = None,
    order: int = 4,
    binselect: str = "esmv",
    n_bins: int | Sequence[int] | None = None,
    scale: float = 1.0,
    kernel: str = "uniform",
    masspoints: str = "adjust",
) -> Result:
    """Binned-scatter regression discontinuity plot with rdplot's data-driven number of bins.

    Parameters
    ----------
    data : Dataset or DataFrame
    outcome, running : str, optional
    cutoff : float, optional
    order : int
        Order of the global polynomial fitted on each side (rdplot's p, default 4).
    binselect : {"esmv", "es", "espr", "esmvpr", "qs", "qspr", "qsmv", "qsmvpr"}
        ``es``/``qs``: evenly spaced or quantile-spaced bins; ``mv``: number of bins that mimics the variance of
        the raw data (else IMSE-optimal); ``pr``: polynomial-regression instead of spacings estimators. With
        ``masspoints="adjust"`` and at least 20% repeated values on a side the ``pr`` version is used, as rdplot.
    n_bins : int, optional
        A fixed number of bins on each side instead.
    scale : float
        Multiplies the selected number of bins.
    kernel : {"uniform", "triangular", "epanechnikov"}
        Weights of the global polynomial fit over the whole support.
    masspoints : {"adjust", "off"}

    Returns
    -------
    Result
        ``estimate``: the difference of the two global polynomial fits at the cutoff (a description, not an
        estimate to report; use :func:`rdd`). ``details``: ``bins`` (per bin: side, mean x, mean y, count, bin
        limits), ``fit`` (the polynomial curves), ``n_bins_below``/``n_bins_above`` (the J used),
        ``J_imse`` and ``J_mimicking_variance`` (left, right), ``binselect`` and ``cutoff``; draw it with
        :func:`plot_rdd`.

    Notes
    -----
    Calonico, Cattaneo and Titiunik (2015), "Optimal data-driven regression discontinuity plots", JASA 110(512).
    Validated against ``rdrobust.rdplot`` (numbers of bins, bin means and polynomial coefficients).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.designs.rdplot(ci.load_dataset("close_elections_lmb"))
    >>> r.details["n_bins_below"], r.details["n_bins_above"]
    (184, 158)
    """
    ds = dataset(data, outcome=outcome, running=running, cutoff=cutoff)
    y_name, r_name = need(ds, "outcome", "rdplot"), need(ds, "running", "rdplot")
    c = float(need(ds, "cutoff", "rdplot"))
    if ds.weights:
        raise RoleError(
            f"rdplot does not use observation weights, and the data set the `weights` role ({ds.weights!r}); "
            "rather than ignore them silently it stops: drop the role (ds.with_roles(weights=None)) to plot unweighted"
        )
    order = check_int(order, "order", minimum=0, maximum=8)
    binselect = check_choice(binselect, "binselect", BINSELECTS)
    kernel = check_choice(kernel, "kernel", KERNELS)
    masspoints = check_choice(masspoints, "masspoints", ("adjust", "off"))
    scale = check_real(scale, "scale")
    if scale <= 0:
        raise ArgumentError(f"`scale` must be a positive number; got {scale!r}")
    x = numeric(ds, r_name, "running variable")
    y = numeric(ds, y_name, "outcome")
    below = x < c
    xl, yl, xr, yr = x[below], y[below], x[~below], y[~below]
    if xl.size + xr.size < 20 or min(n_distinct(np.sort(xl)), n_distinct(np.sort(xr))) < 3:
        raise DataError(
            f"rdplot needs at least 20 observations and 3 distinct values of {r_name!r} on each side of the cutoff {c:g}; "
            f"got {xl.size} below and {xr.size} at or above. Pass more data or move the cutoff"
        )
    x_min, x_max = float(x.min()), float(x.max())
    used = binselect
    if masspoints == "adjust":
        mass = max(1 - n_distinct(np.sort(xl)) / xl.size, 1 - n_distinct(np.sort(xr)) / xr.size)
        if mass >= 0.2 and not binselect.endswith("pr"):
            used = binselect + "pr"
    js = bin_numbers(xl, yl, xr, yr, c, x_min, x_max)
    j_imse, j_mv = _imse_mv(used, js)
    chosen = js[used]
    if n_bins is not None:
        nb = (n_bins, n_bins) if np.isscalar(n_bins) else tuple(n_bins)  # type: ignore[arg-type]
        jl, jr = (check_int(v, "n_bins", minimum=1) for v in nb)
    else:
        jl, jr = int(scale * chosen[0]), int(scale * chosen[1])
    bins = _bins_table(xl, yl, xr, yr, c, x_min, x_max, jl, jr, used.startswith("qs"))
    coefs, fit_rows = [], []
    for side, xs, ys, h, grid in (
        ("below", xl, yl, c - x_min, np.linspace(x_min, c, 500)),
        ("above", xr, yr, x_max - c, np.linspace(c, x_max, 500)),
    ):
        r = np.column_stack([(xs - c) ** j for j in range(order + 1)])
        w = kweight(xs, c, h, kernel)
        g = inv_spd(r.T @ (r * w[:, None])) @ (r.T @ (w * ys))
        coefs.append(g)
        fitted = np.column_stack([(grid - c) ** j for j in range(order + 1)]) @ g
        fit_rows.append(pd.DataFrame({"side": side, "x": grid, "fitted": fitted}))
    details = {
        "bins": bins,
        "fit": pd.concat(fit_rows, ignore_index=True),
        "coefficients": pd.DataFrame({"power": range(order + 1), "below": coefs[0], "above": coefs[1]}),
        "n_bins_below": jl,
        "n_bins_above": jr,
        "J_imse": (float(j_imse[0]), float(j_imse[1])),
        "J_mimicking_variance": (float(j_mv[0]), float(j_mv[1])),
        "binselect": used if n_bins is None else "user-supplied",
        "cutoff": c,
        "bandwidth": max(c - x_min, x_max - c),
        "order": order,
    }
    return Result(
        method=f"Regression discontinuity plot: {WORDS[used] if n_bins is None else 'user-chosen evenly spaced bins'}, global polynomial of order {order}",
        estimand=f"difference at {r_name} = {c:g} of the global polynomial fits of {y_name} on each side (descriptive)",
        estimate=float(coefs[1][0] - coefs[0][0]),
        n=int(x.size),
        details=details,
        provenance=Provenance.current(data_fingerprint=ds.fingerprint()),
    )
