"""Regression discontinuity: sharp and fuzzy local polynomial estimates, bandwidth choice, density and balance checks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_array, check_choice, check_conf_level, check_int, check_real, show
from ..exceptions import ArgumentError, DataError, RoleError
from ..results import Diagnostic, Provenance, Result
from . import _rdrobust as rr
from ._common import check_cov_type, cov_label, dataset, emit, labels, need, numeric, t_inference, terms_frame, treatment_values
from ._effect import as_effect
from ._linalg import LinearFit, ols, tsls
from ._rdd_robust import (
    BWSELECTS,
    INFERENCES,
    balance,
    bandwidth_diagnostic,
    bandwidth_table,
    bandwidths,
    check_support,
    check_windows,
    cluster_diagnostic,
    first_stage_table,
    fit_curve,
    inference_table,
    resolve_vce,
)

if TYPE_CHECKING:
    from ..effects import EffectResult

__all__ = ["density_test", "ik_bandwidth", "rdd"]

KERNELS = ("triangular", "uniform", "epanechnikov")


def kernel_weights(u: np.ndarray, kernel: str) -> np.ndarray:
    """Kernel weights at ``u = (x - c) / h``: zero outside [-1, 1] (open at the ends for triangular and Epanechnikov)."""
    a = np.abs(u)
    if kernel == "triangular":
        return np.clip(1.0 - a, 0.0, None)
    if kernel == "uniform":
        return (a <= 1.0).astype(float)
    return np.clip(0.75 * (1.0 - a**2), 0.0, None)


@cache
def kernel_constant(kernel: str) -> float:
    """Constant :math:`C_K` of the AMSE-optimal bandwidth of a local-linear boundary estimate (3.4375 for triangular)."""
    u = np.linspace(0.0, 1.0, 200001)
    k = kernel_weights(u, kernel)
    nu = [np.trapezoid(u**j * k, u) for j in range(4)]
    den = nu[2] * nu[0] - nu[1] ** 2
    c1 = 0.5 * (nu[2] ** 2 - nu[1] * nu[3]) / den
    c2 = float(np.trapezoid((nu[2] - u * nu[1]) ** 2 * k**2, u)) / den**2
    return float((c2 / (4 * c1**2)) ** 0.2)


def _poly(x: np.ndarray, order: int) -> np.ndarray:
    return np.column_stack([x**j for j in range(1, order + 1)]) if order else np.empty((x.size, 0))


@dataclass(frozen=True)
class LocalFit:
    """A local polynomial fit around the cutoff: coefficient names, the fit, the sample it used."""

    names: list[str]
    fit: LinearFit
    first: LinearFit | None
    n_below: int
    n_above: int
    index: np.ndarray


def local_fit(
    y: np.ndarray,
    x: np.ndarray,
    *,
    h: float,
    kernel: str,
    order: int,
    d: np.ndarray | None = None,
    cov_type: str = "HC1",
    cluster: np.ndarray | None = None,
) -> LocalFit:
    """Weighted local polynomial regression on each side of 0 (``x`` is centred at the cutoff).

    Sharp: :math:`y` on :math:`[1, T, x^j, T x^j]`, the jump is the coefficient of :math:`T = 1[x \\ge 0]`.
    Fuzzy (``d`` given): 2SLS of :math:`y` on :math:`[1, D, x^j, T x^j]` with :math:`T` instrumenting :math:`D`.
    """
    w = kernel_weights(x / h, kernel)
    idx = np.flatnonzero(w > 0)
    xs, ys, ws = x[idx], y[idx], w[idx]
    above = (xs >= 0).astype(float)
    n_above, n_below = int(above.sum()), int(idx.size - above.sum())
    need_n = order + 2
    if n_below < need_n or n_above < need_n:
        raise DataError(
            f"bandwidth {h:g} leaves {n_below} observation(s) below and {n_above} at or above the cutoff with positive kernel weight; "
            f"a local polynomial of order {order} needs at least {need_n} on each side: widen the bandwidth or lower the order"
        )
    p = _poly(xs, order)
    controls = np.column_stack([p, p * above[:, None]])
    pnames = [f"x^{j}" if j > 1 else "x" for j in range(1, order + 1)]
    cnames = pnames + [f"{n} x above" for n in pnames]
    cl = cluster[idx] if cluster is not None else None
    if d is None:
        xmat = np.column_stack([np.ones(idx.size), above, controls])
        names = ["(Intercept)", "jump", *cnames]
        return LocalFit(names, ols(ys, xmat, weights=ws, cov_type=cov_type, cluster=cl, names=names), None, n_below, n_above, idx)
    ds_ = d[idx]
    xmat = np.column_stack([np.ones(idx.size), ds_, controls])
    zmat = np.column_stack([np.ones(idx.size), above, controls])
    names = ["(Intercept)", "treatment", *cnames]
    first = ols(ds_, zmat, weights=ws, cov_type=cov_type, cluster=cl, names=["(Intercept)", "jump", *cnames])
    return LocalFit(names, tsls(ys, xmat, zmat, weights=ws, cov_type=cov_type, cluster=cl, names=names), first, n_below, n_above, idx)


def _ik_bandwidth(x: np.ndarray, y: np.ndarray, *, kernel: str = "triangular") -> float:
    """Imbens-Kalyanaraman (2012) MSE-optimal bandwidth for a sharp local-linear estimate at 0 (``x`` centred).

    Follows the three steps of IK's algorithm: a pilot density and variances with a uniform-kernel bandwidth
    :math:`1.84 s_x n^{-1/5}`; a global cubic between the medians on each side for the third derivative; local
    quadratics for the second derivatives with IK's regularisation terms. Not the CCT bandwidth of ``rdrobust``.
    """
    n = x.size
    below, above = x < 0, x >= 0
    h1 = 1.84 * float(np.std(x, ddof=1)) * n ** (-0.2)
    lo, hi = below & (x >= -h1), above & (x <= h1)
    if lo.sum() < 3 or hi.sum() < 3:
        raise DataError("too few observations near the cutoff to choose a bandwidth from the data; pass bandwidth=...")
    f = (lo.sum() + hi.sum()) / (2 * n * h1)
    s2_lo, s2_hi = float(np.var(y[lo], ddof=1)), float(np.var(y[hi], ddof=1))
    mid = (x >= np.median(x[below])) & (x <= np.median(x[above]))
    xm = x[mid]
    cub = np.column_stack([np.ones(xm.size), (xm >= 0).astype(float), xm, xm**2, xm**3])
    m3 = 6 * float(np.linalg.lstsq(cub, y[mid], rcond=None)[0][4])
    m3 = m3 if m3 != 0 else 1e-12
    n_lo, n_hi = int(below.sum()), int(above.sum())
    h2_lo = 3.56 * (s2_lo / (f * m3**2)) ** (1 / 7) * n_lo ** (-1 / 7)
    h2_hi = 3.56 * (s2_hi / (f * m3**2)) ** (1 / 7) * n_hi ** (-1 / 7)
    curv = []
    for side, h2, s2 in ((below & (x >= -h2_lo), h2_lo, s2_lo), (above & (x <= h2_hi), h2_hi, s2_hi)):
        xs = x[side]
        if xs.size < 4:
            raise DataError("too few observations near the cutoff to estimate curvature for the bandwidth; pass bandwidth=...")
        q = np.column_stack([np.ones(xs.size), xs, xs**2])
        m2 = 2 * float(np.linalg.lstsq(q, y[side], rcond=None)[0][2])
        r = 2160 * s2 / (xs.size * h2**4)
        curv.append((m2, r))
    (m2_lo, r_lo), (m2_hi, r_hi) = curv
    return float(kernel_constant(kernel) * ((s2_lo + s2_hi) / (f * ((m2_hi - m2_lo) ** 2 + r_lo + r_hi))) ** 0.2 * n ** (-0.2))


def _density_test(x: np.ndarray, *, bin_width: float | None = None, bandwidth: float | None = None) -> dict[str, float]:
    """McCrary (2008) test for a jump in the density of the running variable at 0 (``x`` centred at the cutoff).

    Returns ``theta`` (log difference of the density above and below), its standard error, ``z``, ``pvalue``,
    the bin width and the bandwidth, and the two density estimates.
    """
    from ..stats._normal import z_pvalue

    n = x.size
    b = bin_width if bin_width is not None else 2 * float(np.std(x, ddof=1)) * n ** (-0.5)
    k = np.floor(x / b).astype(np.int64)
    codes, counts = np.unique(k, return_counts=True)
    full = np.arange(codes.min(), codes.max() + 1)
    height = np.zeros(full.size)
    height[codes - codes.min()] = counts / (n * b)
    mids = (full + 0.5) * b
    left, right = mids < 0, mids > 0
    if left.sum() < 5 or right.sum() < 5:
        raise DataError("too few bins on one side of the cutoff for the density test; the running variable barely crosses the cutoff")
    if bandwidth is None:
        hs = []
        for side, span in ((left, -float(x.min())), (right, float(x.max()))):
            xm, ym = mids[side], height[side]
            coef = np.polyfit(xm, ym, 4)
            resid = ym - np.polyval(coef, xm)
            s2 = float(np.mean(resid**2))
            f2 = np.polyval(np.polyder(coef, 2), xm)
            hs.append(3.348 * (s2 * span / max(float(np.sum(f2**2)), 1e-300)) ** 0.2)
        bandwidth = float(np.mean(hs))
    est = []
    for side in (left, right):
        u = mids[side] / bandwidth
        w = kernel_weights(u, "triangular")
        m = w > 0
        if m.sum() < 3:
            raise DataError(f"density-test bandwidth {bandwidth:g} covers fewer than 3 bins on one side; pass a wider bandwidth")
        xm = np.column_stack([np.ones(int(m.sum())), mids[side][m]])
        sw = w[m]
        coef = np.linalg.solve(xm.T @ (xm * sw[:, None]), xm.T @ (sw * height[side][m]))
        est.append(float(coef[0]))
    f_lo, f_hi = est
    if f_lo <= 0 or f_hi <= 0:
        raise DataError("the estimated density at the cutoff is not positive on one side; the density test is undefined here")
    theta = math.log(f_hi) - math.log(f_lo)
    se = math.sqrt((1 / (n * bandwidth)) * (24 / 5) * (1 / f_hi + 1 / f_lo))
    z = theta / se
    return {
        "theta": theta,
        "std_error": se,
        "z": z,
        "pvalue": z_pvalue(z, "two-sided"),
        "bin_width": b,
        "bandwidth": bandwidth,
        "density_below": f_lo,
        "density_above": f_hi,
    }


@vp.validate_params(
    {
        "running": "array-like",
        "outcome": "array-like",
        "cutoff": vp.Interval("real"),
        "kernel": vp.Options(KERNELS),
    }
)
def ik_bandwidth(running: Any, outcome: Any, *, cutoff: float = 0.0, kernel: str = "triangular") -> float:
    r"""Imbens-Kalyanaraman (2012) MSE-optimal bandwidth for a sharp local-linear regression discontinuity.

    Parameters
    ----------
    running, outcome : array-like
        Running variable and outcome.
    cutoff : float
        The threshold; observations at or above it are on the treated side.
    kernel : {"triangular", "uniform", "epanechnikov"}
        Kernel of the final estimate; sets the constant :math:`C_K` (3.4375 for triangular (exactly 3.43754), 2.7019 for a uniform
        kernel on [-h, h], 3.1999 for Epanechnikov).

    Returns
    -------
    float
        The bandwidth (half-width of the window on the scale of ``running``).

    Notes
    -----
    :math:`h = C_K [(\hat\sigma^2_- + \hat\sigma^2_+) / (\hat f(c)((\hat m''_+ - \hat m''_-)^2 + r_+ + r_-))]^{1/5} n^{-1/5}`,
    with IK's pilot estimates and regularisation terms :math:`r_\pm = 2160\hat\sigma^2_\pm/(N_{2,\pm} h_{2,\pm}^4)`.
    A simplified implementation of IK's algorithm, not the CCT bandwidth of ``rdrobust``. Validated against a
    hand-written R version of the algorithm (``tests/reference/rdd.R``).

    Examples
    --------
    >>> import numpy as np
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(-1, 1, 2000)
    >>> y = 0.5 * x + x**2 + (x >= 0) + rng.normal(scale=0.3, size=2000)
    >>> round(ci.designs.ik_bandwidth(x, y), 2)
    0.41
    """
    kernel = check_choice(kernel, "kernel", KERNELS)
    c = check_real(cutoff, "cutoff")
    x = check_array(running, "running", min_size=10) - c
    y = check_array(outcome, "outcome", min_size=10)
    if x.size != y.size:
        raise DataError(f"`running` and `outcome` must have the same length; got {x.size} and {y.size}")
    if (x < 0).sum() < 5 or (x >= 0).sum() < 5:
        raise DataError(
            f"`running` needs at least 5 observations on each side of the cutoff {c:g}; got {(x < 0).sum()} below and {(x >= 0).sum()} above"
        )
    return _ik_bandwidth(x, y, kernel=kernel)


@vp.validate_params(
    {
        "running": "array-like",
        "cutoff": vp.Interval("real"),
        "bin_width": [None, vp.Interval("real", 0, closed="neither", what="positive")],
        "bandwidth": [None, vp.Interval("real", 0, closed="neither", what="positive")],
    }
)
def density_test(running: Any, *, cutoff: float = 0.0, bin_width: float | None = None, bandwidth: float | None = None) -> Result:
    r"""McCrary (2008) test for manipulation: a jump in the density of the running variable at the cutoff.

    Parameters
    ----------
    running : array-like
    cutoff : float
    bin_width : float, optional
        Histogram bin width; default :math:`2 s_x n^{-1/2}`.
    bandwidth : float, optional
        Bandwidth of the local-linear density fits; default McCrary's rule (a quartic fit on each side).

    Returns
    -------
    Result
        ``estimate`` :math:`\hat\theta = \ln\hat f_+ - \ln\hat f_-` with ``std_error``, normal CI, ``statistic``
        (z) and ``pvalue``; ``details`` hold the bin width, bandwidth and both density estimates.

    Notes
    -----
    :math:`se(\hat\theta) = \sqrt{(24/5)(1/\hat f_+ + 1/\hat f_-)/(nh)}` (McCrary 2008, triangular kernel).
    Validated against a hand-written R version of the procedure (``tests/reference/rdd.R``).

    Examples
    --------
    >>> import numpy as np
    >>> import causalinfer as ci
    >>> x = np.random.default_rng(1).normal(size=3000)
    >>> ci.designs.density_test(x).pvalue > 0.05
    True
    """
    c = check_real(cutoff, "cutoff")
    x = check_array(running, "running", min_size=20) - c
    if bin_width is not None and check_real(bin_width, "bin_width") <= 0:
        raise ArgumentError(f"`bin_width` must be positive; got {bin_width!r}")
    if bandwidth is not None and check_real(bandwidth, "bandwidth") <= 0:
        raise ArgumentError(f"`bandwidth` must be positive; got {bandwidth!r}")
    if (x < 0).sum() < 5 or (x >= 0).sum() < 5:
        raise DataError(
            f"`running` needs observations on both sides of the cutoff {c:g}; got {(x < 0).sum()} below and {(x >= 0).sum()} above"
        )
    out = _density_test(x, bin_width=bin_width, bandwidth=bandwidth)
    stat, p, lo, hi = t_inference(out["theta"], out["std_error"], None, 0.95)
    return Result(
        method="McCrary density test (local-linear density estimates on each side of the cutoff)",
        estimand=f"log difference of the density of the running variable above and below {c:g}",
        estimate=out["theta"],
        std_error=out["std_error"],
        ci_low=lo,
        ci_high=hi,
        conf_level=0.95,
        statistic=stat,
        statistic_name="z",
        pvalue=p,
        alternative="two-sided",
        null_value=0.0,
        n=int(x.size),
        details={k: v for k, v in out.items() if k not in ("theta", "std_error", "z", "pvalue")},
        provenance=Provenance.current(),
    )


def _bins(x: np.ndarray, y: np.ndarray, n_bins: int) -> pd.DataFrame:
    """Means of x and y in ``n_bins`` equal-width bins on each side (empty bins left out)."""
    frames = []
    for side, m in (("below", x < 0), ("above", x >= 0)):
        xs, ys = x[m], y[m]
        edges = np.linspace(xs.min(), xs.max(), n_bins + 1)
        k = np.clip(np.searchsorted(edges, xs, side="right") - 1, 0, n_bins - 1)
        cnt = np.bincount(k, minlength=n_bins)
        keep = cnt > 0
        sx = np.bincount(k, weights=xs, minlength=n_bins)[keep]
        sy = np.bincount(k, weights=ys, minlength=n_bins)[keep]
        c = cnt[keep]
        frames.append(pd.DataFrame({"side": side, "x": sx / c, "y": sy / c, "n": c.astype(int)}))
    return pd.concat(frames, ignore_index=True)


def _fit_curve(fit: LinearFit, h: float, order: int, cutoff: float, sharp: bool) -> pd.DataFrame:
    rows = []
    b = fit.coef
    for side, grid in (("below", np.linspace(-h, 0, 50)), ("above", np.linspace(0, h, 50))):
        t = 1.0 if side == "above" else 0.0
        yhat = b[0] + (b[1] * t if sharp else 0.0)
        for j in range(1, order + 1):
            yhat = yhat + b[1 + j] * grid**j + t * b[1 + order + j] * grid**j
        rows += [
            {"side": side, "x": float(g + cutoff), "fitted": float(v)} for g, v in zip(grid, np.broadcast_to(yhat, grid.shape), strict=True)
        ]
    return pd.DataFrame(rows)


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "running": [None, "column"],
        "cutoff": [None, vp.Interval("real")],
        "treatment": [None, "column"],
        "covariates": [None, "columns"],
        "cluster": [None, "column"],
        "weights": [None, "column"],
        "bandwidth": [None, vp.Interval("real", 0, closed="neither", what="a positive number")],
        "kernel": vp.Options(KERNELS),
        "order": vp.Interval("int", 0, 4),
        "cov_type": [None, "cov_type"],
        "density": "boolean",
        "n_bins": vp.Interval("int", 2),
        "conf_level": "conf_level",
        "bias_order": [None, vp.Interval("int", 1, 5)],
        "bias_bandwidth": [None, vp.Interval("real", 0, closed="neither", what="a positive number")],
        "deriv": vp.Interval("int", 0, 4),
        "bwselect": vp.Options(BWSELECTS),
        "vce": vp.Options(rr.VCES),
        "nnmatch": vp.Interval("int", 1),
        "masspoints": vp.Options(("adjust", "off")),
        "inference": vp.Options(INFERENCES),
        "covariate_adjustment": "boolean",
    }
)
def rdd(
    data: Any,
    *,
    outcome: str | None = None,
    running: str | None = None,
    cutoff: float | None = None,
    treatment: str | None = None,
    covariates: str | Sequence[str] | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    bandwidth: float | None = None,
    kernel: str = "triangular",
    order: int = 1,
    cov_type: str | None = None,
    density: bool = True,
    n_bins: int = 20,
    conf_level: float = 0.95,
    bias_order: int | None = None,
    bias_bandwidth: float | None = None,
    deriv: int = 0,
    bwselect: str = "mserd",
    vce: str = "nn",
    nnmatch: int = 3,
    masspoints: str = "adjust",
    inference: str = "robust",
    covariate_adjustment: bool = False,
) -> EffectResult:
    r"""Sharp, fuzzy or kink regression discontinuity with robust bias-corrected inference, as ``rdrobust``.

    Parameters
    ----------
    data : Dataset or DataFrame
    outcome : str, optional
    running : str, optional
        The running (forcing) variable; units at or above ``cutoff`` are on the treated side.
    cutoff : float, optional
        The threshold.
    treatment : str, optional
        Treatment actually received. When given the design is fuzzy: the jump in the outcome is divided by the
        jump in treatment. Omit it for a sharp design.
    covariates : str or sequence of str, optional
        Pre-determined covariates. Each is checked for a jump at the cutoff (balance); with
        ``covariate_adjustment=True`` they also enter the estimate linearly (Calonico, Cattaneo, Farrell and
        Titiunik 2019; rdrobust's ``covs``).
    cluster : str, optional
        Cluster identifier: the variances become cluster-robust (CR1, as rdrobust).
    weights : str, optional
        Positive observation weights that multiply the kernel weights in every local fit, the bandwidth selection
        included (rdrobust's ``weights``); not used with ``cov_type``.
    bandwidth : float, optional
        The main bandwidth h on both sides. Default: chosen by ``bwselect``.
    kernel : {"triangular", "uniform", "epanechnikov"}
    order : int
        Order p of the local polynomial (0 = local constant, 1 = local linear, ...).
    cov_type : {"classical", "HC0", "HC1", "cluster"}, optional
        Only for the earlier inference from the pooled weighted local regression (t-based, no bias correction):
        giving it switches to that estimator and its ``terms`` table of local-regression coefficients. Omit it
        for rdrobust's inference.
    density : bool
        Run a density (manipulation) test: the Cattaneo-Jansson-Ma test of :func:`rdd_density` (the McCrary test
        of :func:`density_test` when ``cov_type`` is given); its numbers go to ``details["density"]``.
    n_bins : int
        Bins per side for the binned scatter in ``details["bins"]`` (see :func:`plot_rdd`, :func:`rdplot`).
    conf_level : float
    bias_order : int, optional
        Order q of the bias-correction polynomial; default ``order + 1``.
    bias_bandwidth : float, optional
        Bandwidth b of the bias-correction fit; default ``bandwidth`` when that is given, else chosen by
        ``bwselect``.
    deriv : int
        0 for a jump in the level, 1 for a kink (jump in the first derivative), ...; at most ``order``.
    bwselect : {"mserd", "msetwo", "msesum", "cerrd", "certwo", "cersum", "ik"}
        MSE-optimal (``mse*``) or coverage-error-optimal (``cer*``) bandwidths, common to both sides (``rd``),
        separate on each side (``two``) or for the sum (``sum``), computed exactly as rdrobust's ``rdbwselect``;
        ``"ik"`` is the Imbens-Kalyanaraman (2012) bandwidth of :func:`ik_bandwidth` (then b = h).
    vce : {"nn", "hc0", "hc1", "hc2", "hc3"}
        Variance estimator: nearest-neighbour residuals (``nnmatch`` neighbours) or heteroskedasticity-robust.
        With a ``cluster`` column NN and HC0/HC1 become CR1.
    nnmatch : int
    masspoints : {"adjust", "off"}
        With ``"adjust"`` (rdrobust's default) the pilot bandwidth counts distinct values of the running variable
        and, when at least 20% of the values on a side are repeats, is widened to cover 10 distinct values.
    inference : {"robust", "conventional"}
        Which interval is the headline (both are always in ``terms``). ``"robust"``: the robust bias-corrected
        interval of Calonico, Cattaneo and Titiunik (2014), centred at the bias-corrected estimate.
    covariate_adjustment : bool

    Returns
    -------
    EffectResult
        ``estimate``: the conventional local polynomial estimate of the jump (sharp), the local Wald ratio
        (fuzzy) or the jump in the ``deriv``-th derivative (kink). With ``inference="robust"``: ``std_error`` is
        the robust standard error, ``ci_low``/``ci_high`` the robust bias-corrected interval, ``statistic`` the
        robust z = bias-corrected estimate / robust se and ``pvalue`` its normal p-value (rdrobust's "Robust"
        row). ``terms``: the three rows conventional, bias-corrected and robust. ``details``: ``bandwidth``
        (h below the cutoff), ``bandwidths`` (h, b, observations, distinct values and effective observations per
        side), ``n_below``/``n_above`` (effective observations inside h), ``bandwidth_rule``, ``vce``,
        ``order``, ``bias_order``, ``deriv``, ``kernel``, ``first_stage`` (fuzzy), ``covariate_coefficients``
        (adjusted), ``balance``, ``density``, ``bins`` and ``fit``. Diagnostics as before: ``"bandwidth"``,
        ``"first-stage jump"``, ``"density (manipulation)"``, ``"covariate balance"``.

    Raises
    ------
    DataError
        When a bandwidth holds too few observations on a side of the cutoff (the message says how many and which
        side), or a side has too few distinct values of the running variable.
    RoleError
        When the running variable has no observations on one side of the cutoff.

    Notes
    -----
    With kernel weights :math:`K((X - c)/h)`, the order-p fits on each side give the conventional estimate
    :math:`\hat\tau_p(h)`; the bias correction subtracts the leading bias estimated with an order-q fit at
    bandwidth b, and the robust variance accounts for the variability of that correction (Calonico, Cattaneo
    and Titiunik 2014, Econometrica 82(6)). Bandwidths follow Calonico, Cattaneo and Farrell (2020). Validated
    against the ``rdrobust`` Python package (estimates, standard errors, intervals and bandwidths to 1e-6 on the
    LMB data and simulated sharp, fuzzy, kink, covariate, cluster and mass-point designs:
    ``tests/reference/rdrobust_reference.py``); the ``cov_type`` path against hand-written weighted ``lm`` /
    ``AER::ivreg`` fits in R (``tests/reference/rdd.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> ds = ci.load_dataset("close_elections_lmb")
    >>> r = ci.designs.rdd(ds, density=False)
    >>> round(r.details["bandwidth"], 4), round(r.estimate, 2)
    (0.0864, 18.66)
    """
    conf_level = check_conf_level(conf_level)
    kernel = check_choice(kernel, "kernel", KERNELS)
    order = check_int(order, "order", minimum=0, maximum=4)
    n_bins = check_int(n_bins, "n_bins", minimum=2)
    for name, flag in (("density", density), ("covariate_adjustment", covariate_adjustment)):
        if not isinstance(flag, bool):
            raise ArgumentError(f"`{name}` must be True or False; got {flag!r}")
    ds = dataset(
        data, outcome=outcome, running=running, cutoff=cutoff, treatment=treatment, covariates=covariates, cluster=cluster, weights=weights
    )
    need(ds, "outcome", "rdd")
    need(ds, "running", "rdd")
    need(ds, "cutoff", "rdd")
    if ds.weights and cov_type is not None:
        raise RoleError(
            f"the local regression with `cov_type` does not use observation weights, and the data set the `weights` role "
            f"({ds.weights!r}); rather than ignore them silently it stops: drop `cov_type` (rdrobust-style estimation uses "
            "the weights) or drop the role (ds.with_roles(weights=None))"
        )
    if cov_type is not None:
        return _rdd_regression(ds, bandwidth, kernel, order, cov_type, density, n_bins, conf_level, bwselect)
    q = order + 1 if bias_order is None else check_int(bias_order, "bias_order", minimum=1, maximum=5)
    deriv = check_int(deriv, "deriv", minimum=0, maximum=4)
    if q <= order:
        raise ArgumentError(f"`bias_order` must be greater than `order` ({order}); got {q}. Omit it for order + 1")
    if deriv > order:
        raise ArgumentError(f"`deriv` must be at most `order` ({order}); got {deriv}. Raise `order` (e.g. order={deriv + 1})")
    opts = {
        "bandwidth": bandwidth,
        "bias_bandwidth": bias_bandwidth,
        "kernel": kernel,
        "order": order,
        "bias_order": bias_order,
        "deriv": deriv,
        "bwselect": check_choice(bwselect, "bwselect", BWSELECTS),
        "vce": check_choice(vce, "vce", rr.VCES),
        "nnmatch": check_int(nnmatch, "nnmatch", minimum=1),
        "masspoints": check_choice(masspoints, "masspoints", ("adjust", "off")),
        "inference": check_choice(inference, "inference", INFERENCES),
        "covariate_adjustment": covariate_adjustment,
        "n_bins": n_bins,
        "conf_level": conf_level,
    }
    return _rdd_robust(ds, q=q, density=density, **opts)


def _rd_arrays(
    ds: Any, column: str, adjust: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """(x, y, treatment, covariates, cluster codes) as plain arrays; covariates only when they adjust."""
    x = numeric(ds, str(ds.running), "running variable")
    y = numeric(ds, column, "outcome")
    d = treatment_values(ds) if ds.treatment else None
    z = np.column_stack([numeric(ds, v, "covariate") for v in ds.covariates]) if adjust and ds.covariates else None
    cl = pd.factorize(labels(ds, ds.cluster))[0] if ds.cluster else None
    return x, y, d, z, cl


def _observation_weights(ds: Any) -> np.ndarray | None:
    """The `weights` column as positive numbers (they multiply the kernel weights, as rdrobust's ``weights``)."""
    if not ds.weights:
        return None
    w = numeric(ds, str(ds.weights), "weights")
    bad = np.flatnonzero(~(w > 0) | ~np.isfinite(w))
    if bad.size:
        raise DataError(
            f"weights column {ds.weights!r} must hold positive finite numbers; {bad.size} row(s) do not (the first, row "
            f"{show(int(bad[0]))}, has {show(float(w[bad[0]]))}): drop the rows with zero weight (rdrobust would still "
            "count them in the pilot bandwidth) and fix negative or missing weights"
        )
    return w


def _rdd_robust(ds: Any, *, q: int, density: bool, **o: Any) -> EffectResult:
    """rdrobust's estimate, bandwidths and both intervals, with the design checks."""
    c = float(ds.cutoff)
    p, deriv, kernel = o["order"], o["deriv"], o["kernel"]
    x, y, d, z, cl = _rd_arrays(ds, str(ds.outcome), o["covariate_adjustment"])
    fw = _observation_weights(ds)
    if cl is not None and np.unique(cl).size < 2:
        raise DataError(
            f"cluster column {ds.cluster!r} has {np.unique(cl).size} distinct value(s); cluster-robust variances need at least 2 "
            "clusters (and many more to be reliable): cluster on a variable with several values or drop `cluster`"
        )
    vce = resolve_vce(o["vce"], cl is not None)
    data = rr.prepare(x, y, c, d, z, cl, fw)
    check_support(data, q, str(ds.running))
    if o["bwselect"] == "ik" and o["bandwidth"] is None:
        h0 = _ik_bandwidth(x - c, y, kernel=kernel)
        (h, b), rule = ((h0, h0), (h0, h0)), "Imbens-Kalyanaraman (2012) MSE-optimal"
    else:
        h, b, rule = bandwidths(
            data, bandwidth=o["bandwidth"], bias_bandwidth=o["bias_bandwidth"], p=p, q=q, deriv=deriv, kernel=kernel,
            bwselect=o["bwselect"], vce=vce, nnmatch=o["nnmatch"], masspoints=o["masspoints"],
        )  # fmt: skip
    check_windows(data, h, b, p, q, kernel)
    fit = rr.rd_fit(data, p=p, q=q, deriv=deriv, h=h, b=b, kernel=kernel, vce=vce, nnmatch=o["nnmatch"])
    conf_level = o["conf_level"]
    terms = inference_table(fit, conf_level)
    row = terms.set_index("term").loc[o["inference"]]
    details: dict[str, Any] = {
        "bandwidth": fit.h[0],
        "bias_bandwidth": fit.b[0],
        "bandwidths": bandwidth_table(fit),
        "bandwidth_rule": rule,
        "kernel": kernel,
        "order": p,
        "bias_order": q,
        "deriv": deriv,
        "cutoff": c,
        "n_below": fit.n_h[0],
        "n_above": fit.n_h[1],
        "vce": ("CR1 (cluster)" if cl is not None else vce.upper()) + (f", {o['nnmatch']} neighbours" if vce == "nn" else ""),
        "tau_bias_corrected": fit.tau_bc,
        "std_error_conventional": fit.se_cl,
        "std_error_robust": fit.se_rb,
    }
    if fit.n_clusters is not None:
        details["n_clusters"] = fit.n_clusters
    if fw is not None:
        details["weights"] = str(ds.weights)
    if fit.gamma is not None:
        details["covariate_coefficients"] = pd.DataFrame({"covariate": list(ds.covariates), "coefficient": fit.gamma[:, 0]})
    diags = [bandwidth_diagnostic(fit, rule)]
    if fit.n_clusters is not None:
        diags.append(cluster_diagnostic(fit))
    if fit.first_stage is not None:
        details["first_stage"], fdiag = first_stage_table(fit, conf_level)
        diags.append(fdiag)
    if density:
        diags.append(_cjm_check(x, c, details))
    if ds.covariates:

        def data_for(cov: str) -> rr.Data:
            return rr.prepare(x, numeric(ds, cov, "covariate"), c, None, None, cl, fw)

        details["balance"], bdiag = balance(
            ds, data_for, fit, p=p, q=q, deriv=deriv, kernel=kernel, vce=vce, nnmatch=o["nnmatch"], conf_level=conf_level
        )
        diags.append(bdiag)
    emit(diags, "rdd")
    details["bins"] = _bins(x - c, y, o["n_bins"]).assign(x=lambda t: t["x"] + c)
    if d is None and deriv == 0 and z is None:
        details["fit"] = fit_curve(fit, c)
    design = ("Fuzzy" if d is not None else "Sharp") + (" kink" if deriv == 1 else "")
    what = "robust bias-corrected" if o["inference"] == "robust" else "conventional"
    result = Result(
        method=(
            f"{design} regression discontinuity, local polynomial (p = {p}, q = {q}, {kernel} kernel, h = {fit.h[0]:.4g}"
            + (f"/{fit.h[1]:.4g}" if fit.h[0] != fit.h[1] else "")
            + f", b = {fit.b[0]:.4g}"
            + (f"/{fit.b[1]:.4g}" if fit.b[0] != fit.b[1] else "")
            + f"), {what} inference, {details['vce']}"
            + (", covariate-adjusted" if z is not None else "")
        ),
        estimand=_rdd_estimand(ds, sharp=d is None, deriv=deriv),
        estimate=fit.tau_cl,
        std_error=float(row["std_error"]),
        ci_low=float(row["ci_low"]),
        ci_high=float(row["ci_high"]),
        conf_level=conf_level,
        statistic=float(row["statistic"]),
        statistic_name="z",
        pvalue=float(row["pvalue"]),
        alternative="two-sided",
        null_value=0.0,
        n=fit.n_h[0] + fit.n_h[1],
        diagnostics=tuple(diags),
        details=details,
        terms=terms,
        label="jump" if d is None else "LATE at cutoff",
        provenance=Provenance.current(data_fingerprint=ds.fingerprint()),
    )
    adjust = bool(o["covariate_adjustment"] and ds.covariates)
    return as_effect(
        result,
        effect="effect at the cutoff" if d is None else "LATE at the cutoff",
        func=rdd,
        ds=ds,
        design="rdd",
        options=o,
        rerun_options={"density": False},
        rerun_ds=ds if adjust else ds.with_roles(covariates=()),
        group=ds.cluster if cl is not None else None,
        treatment=str(ds.treatment) if d is not None else f"{ds.running} >= {c:g}",
    )


def _rdd_regression(
    ds: Any, bandwidth: Any, kernel: str, order: int, cov_type: Any, density: bool, n_bins: int, conf_level: float, bwselect: str
) -> EffectResult:
    """The pooled weighted local regression with t inference (the estimator chosen by giving ``cov_type``)."""
    y_name, r_name = str(ds.outcome), str(ds.running)
    c = float(ds.cutoff) if ds.cutoff is not None else math.nan
    cov_type = check_cov_type(cov_type, ds.cluster)
    y = numeric(ds, y_name, "outcome")
    x = numeric(ds, r_name, "running variable") - c
    d = treatment_values(ds) if ds.treatment else None
    cl = labels(ds, ds.cluster) if cov_type == "cluster" and ds.cluster else None
    h, h_rule = _choose_bandwidth(bandwidth, x, y, kernel, r_name, bwselect, order)
    lf = local_fit(y, x, h=h, kernel=kernel, order=order, d=d, cov_type=cov_type, cluster=cl)
    fit = lf.fit
    df = float(fit.df_resid)
    est, se = float(fit.coef[1]), float(fit.std_error[1])
    stat, p, lo, hi = t_inference(est, se, df, conf_level)
    terms = terms_frame(lf.names, fit.coef, fit.std_error, df, conf_level)
    n_used = lf.n_below + lf.n_above
    details: dict[str, Any] = {
        "bandwidth": h,
        "bandwidth_rule": h_rule,
        "kernel": kernel,
        "order": order,
        "cutoff": c,
        "n_below": lf.n_below,
        "n_above": lf.n_above,
        "cov_type": cov_type,
    }
    diags = _rdd_checks(ds, lf, x, h, h_rule, kernel, order, cov_type, cl, conf_level, density, details)
    emit(diags, "rdd")
    details["bins"] = _bins(x, y, n_bins).assign(x=lambda t: t["x"] + c)
    if d is None:
        details["fit"] = _fit_curve(fit, h, order, c, sharp=True)
    design = "Fuzzy" if d is not None else "Sharp"
    estimand = _rdd_estimand(ds, sharp=d is None)
    result = Result(
        method=f"{design} regression discontinuity, local polynomial (order {order}, {kernel} kernel, h = {h:.4g}), {cov_label(cov_type)}",
        estimand=estimand,
        estimate=est,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="t",
        df=df,
        pvalue=p,
        alternative="two-sided",
        null_value=0.0,
        n=n_used,
        diagnostics=tuple(diags),
        details=details,
        terms=terms,
        label="jump" if d is None else "LATE at cutoff",
        provenance=Provenance.current(data_fingerprint=ds.fingerprint()),
    )
    return as_effect(
        result,
        effect="effect at the cutoff" if d is None else "LATE at the cutoff",
        func=rdd,
        ds=ds,
        design="rdd",
        options={
            "bandwidth": bandwidth,
            "kernel": kernel,
            "order": order,
            "cov_type": cov_type,
            "bwselect": bwselect,
            "n_bins": n_bins,
            "conf_level": conf_level,
        },
        rerun_options={"density": False},
        rerun_ds=ds.with_roles(covariates=()),
        group=ds.cluster if cl is not None else None,
        treatment=str(ds.treatment) if d is not None else f"{r_name} >= {c:g}",
    )


def _choose_bandwidth(
    bandwidth: Any, x: np.ndarray, y: np.ndarray, kernel: str, r_name: str, bwselect: str = "ik", order: int = 1
) -> tuple[float, str]:
    """The bandwidth (``bwselect``'s when not given, rdrobust's h below the cutoff) and the words for how it was chosen."""
    if bandwidth is None and bwselect == "ik":
        return _ik_bandwidth(x, y, kernel=kernel), "Imbens-Kalyanaraman (2012) MSE-optimal"
    if bandwidth is None:
        data = rr.prepare(x, y, 0.0)
        hb = rr.select_bandwidths(
            data, p=order, q=order + 1, deriv=0, kernel=kernel, bwselect=bwselect, vce="nn", nnmatch=3, masspoints=True
        )
        return hb[0], f"rdrobust {bwselect}"
    h = check_real(bandwidth, "bandwidth")
    if h <= 0:
        raise ArgumentError(f"`bandwidth` must be a positive number (a half-width on the scale of {r_name!r}); got {bandwidth!r}")
    return h, "user-supplied"


def _bandwidth_diagnostic(lf: Any, h: float, h_rule: str) -> Diagnostic:
    status = "ok" if min(lf.n_below, lf.n_above) >= 20 else "warn"
    return Diagnostic(
        "bandwidth",
        status,
        h,
        f"{h_rule} bandwidth {h:.4g}: {lf.n_below} observations below and {lf.n_above} at or above the cutoff"
        + ("" if status == "ok" else "; few points, so the estimate is noisy"),
    )


def _first_stage_check(lf: Any, conf_level: float) -> tuple[pd.DataFrame, Diagnostic]:
    """The fuzzy design's first-stage table and its strength (F < 10 warns)."""
    fj, fse = float(lf.first.coef[1]), float(lf.first.std_error[1])
    f_stat = (fj / fse) ** 2 if fse > 0 else math.inf
    table = terms_frame(["(Intercept)", "jump", *lf.names[2:]], lf.first.coef, lf.first.std_error, float(lf.first.df_resid), conf_level)
    if f_stat < 10:
        return table, Diagnostic(
            "first-stage jump",
            "warn",
            f_stat,
            f"jump in treatment take-up {fj:.3g} with F = {f_stat:.3g} < 10: weak first stage, the fuzzy estimate is unreliable",
        )
    return table, Diagnostic("first-stage jump", "ok", f_stat, f"jump in treatment take-up {fj:.3g} (F = {f_stat:.3g})")


def _density_check(x: np.ndarray, details: dict[str, Any]) -> Diagnostic:
    """The McCrary density test as a diagnostic (its table goes to ``details["density"]``)."""
    try:
        dens = _density_test(x)
    except DataError as exc:
        return Diagnostic("density (manipulation)", "warn", None, f"not run: {exc}")
    details["density"] = pd.DataFrame([dens])
    ok = dens["pvalue"] >= 0.05
    return Diagnostic(
        "density (manipulation)",
        "ok" if ok else "warn",
        dens["pvalue"],
        f"McCrary test: log density jump {dens['theta']:.3g} (se {dens['std_error']:.3g}), p = {dens['pvalue']:.3g}"
        + ("; no sign of sorting around the cutoff" if ok else "; units may be sorting around the cutoff, which breaks the design"),
    )


def _cjm_check(x: np.ndarray, c: float, details: dict[str, Any]) -> Diagnostic:
    """The Cattaneo-Jansson-Ma density test as a diagnostic (its numbers go to ``details["density"]``)."""
    from ._rddensity import rdd_density

    try:
        res = rdd_density(x, cutoff=c)
    except DataError as exc:
        return Diagnostic("density (manipulation)", "warn", None, f"not run: {exc}")
    d = res.details
    details["density"] = pd.DataFrame(
        [
            {
                "difference": res.estimate,
                "std_error": res.std_error,
                "z": res.statistic,
                "pvalue": res.pvalue,
                "density_below": d["density_below"],
                "density_above": d["density_above"],
                "bandwidth_below": d["bandwidth_below"],
                "bandwidth_above": d["bandwidth_above"],
            }
        ]
    )
    return res.diagnostics[0]


def _covariate_balance(
    ds: Any, x: np.ndarray, h: float, kernel: str, order: int, cov_type: str, cl: np.ndarray | None, conf_level: float
) -> tuple[pd.DataFrame, Diagnostic]:
    """Jumps of the pre-determined covariates at the cutoff, with a Bonferroni-level diagnostic."""
    rows = []
    for cov in ds.covariates:
        v = numeric(ds, cov, "covariate")
        cf = local_fit(v, x, h=h, kernel=kernel, order=order, cov_type=cov_type, cluster=cl).fit
        j, js = float(cf.coef[1]), float(cf.std_error[1])
        tt, pp, l2, h2 = t_inference(j, js, float(cf.df_resid), conf_level)
        rows.append({"covariate": cov, "jump": j, "std_error": js, "statistic": tt, "pvalue": pp, "ci_low": l2, "ci_high": h2})
    bal = pd.DataFrame(rows)
    pmin, k = float(bal["pvalue"].min()), len(rows)
    ok = pmin >= 0.05 / k
    worst = bal["covariate"].iloc[int(np.argmin(bal["pvalue"].to_numpy()))]
    return bal, Diagnostic(
        "covariate balance",
        "ok" if ok else "warn",
        pmin,
        f"smallest p-value for a jump in a covariate {pmin:.3g} ({worst!r}, {k} covariate(s), Bonferroni level {0.05 / k:.3g})"
        + ("" if ok else ": pre-determined covariates jump at the cutoff, so units on the two sides differ"),
    )


def _rdd_checks(
    ds: Any,
    lf: Any,
    x: np.ndarray,
    h: float,
    h_rule: str,
    kernel: str,
    order: int,
    cov_type: str,
    cl: np.ndarray | None,
    conf_level: float,
    density: bool,
    details: dict[str, Any],
) -> list[Diagnostic]:
    """Bandwidth, first-stage (fuzzy), density and covariate-balance diagnostics; their tables go into ``details``."""
    diags = [_bandwidth_diagnostic(lf, h, h_rule)]
    if lf.first is not None:
        details["first_stage"], first_diag = _first_stage_check(lf, conf_level)
        diags.append(first_diag)
    if density:
        diags.append(_density_check(x, details))
    if ds.covariates:
        details["balance"], balance_diag = _covariate_balance(ds, x, h, kernel, order, cov_type, cl, conf_level)
        diags.append(balance_diag)
    return diags


def _rdd_estimand(ds: Any, *, sharp: bool, deriv: int = 0) -> str:
    c = float(ds.cutoff)
    if deriv:
        what = "slope" if deriv == 1 else f"derivative of order {deriv}"
        base = (
            f"jump in the {what} of the mean of {ds.outcome}"
            if sharp
            else f"ratio of the jumps in the {what} of {ds.outcome} and {ds.treatment}"
        )
        return f"{base} at {ds.running} = {c:g}"
    if sharp:
        return f"jump in the mean of {ds.outcome} at {ds.running} = {c:g}"
    return f"local average treatment effect of {ds.treatment} on {ds.outcome} for compliers at {ds.running} = {c:g}"
