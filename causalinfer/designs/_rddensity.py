"""Manipulation test of Cattaneo, Jansson and Ma (2020): local polynomial density estimates on each side of a cutoff.

The density is the derivative of the empirical distribution function, estimated by a local polynomial fit of the
empirical CDF separately below and above the cutoff (unrestricted fit, as ``rddensity``'s default), with the
jackknife (default) or plug-in variance, the MSE-optimal bandwidths of ``rdbwdensity`` (normal-reference pilots,
regularised to hold at least 20 + p + 1 observations and distinct values on each side) and the mass-point adjustment
of the empirical CDF. Tested against the ``rddensity`` Python package.
"""

from __future__ import annotations

import math
import statistics
from functools import cache
from typing import Any

import numpy as np
from numpy.polynomial import Polynomial as P

from .. import _validation as vp
from .._validation import check_array, check_choice, check_conf_level, check_int, check_real
from ..exceptions import ArgumentError, DataError
from ..results import Diagnostic, Provenance, Result

__all__ = ["rdd_density"]

KERNELS = ("triangular", "uniform", "epanechnikov")
#: Normal-reference constants of rdbwdensity for the pilot bandwidths (orders 1-7).
_CB = (
    25884.444444494150957,
    3430865.4551236177795,
    845007948.04262602329,
    330631733667.03808594,
    187774809656037.3125,
    145729502641999264,
    146013502974449876992,
)
_CC = (
    4.8000000000000246914,
    548.57142857155463389,
    100800.00000020420703,
    29558225.458100609481,
    12896196859.612621307,
    7890871468221.609375,
    6467911284037581,
)


def _kernel_poly(kernel: str) -> P:
    """The kernel on [0, 1] as a polynomial."""
    return {"uniform": P([0.5]), "epanechnikov": P([0.75, 0, -0.75]), "triangular": P([1.0, -1.0])}[kernel]


@cache
def _s_c(p: int, kernel: str) -> tuple[np.ndarray, np.ndarray]:
    """:math:`S_{ij} = \\int_0^1 l^{i+j} K`, :math:`C_i = \\int_0^1 l^{i+p+1} K` (exact polynomial integrals)."""
    k = _kernel_poly(kernel)

    def mom(m: int) -> float:
        f = (P.basis(m) * k).integ()
        return float(f(1.0) - f(0.0))

    s = np.array([[mom(i + j) for j in range(p + 1)] for i in range(p + 1)])
    c = np.array([[mom(i + p + 1)] for i in range(p + 1)])
    return s, c


@cache
def _g(p: int, kernel: str) -> np.ndarray:
    """rddensity's G matrix on [0, 1] (the double integral of the plug-in variance), exactly."""
    k = _kernel_poly(kernel)
    out = np.zeros((p + 1, p + 1))
    for i in range(1, p + 2):
        a = (P.basis(i) * k).integ()  # A(y) = int_0^y x^i K(x) dx (integ has value 0 at 0)
        f = (P.basis(i - 1) * k).integ()
        b = f(1.0) - f  # B(y) = int_y^1 x^(i-1) K(x) dx
        for j in range(1, p + 2):
            t1 = (a * P.basis(j - 1) * k).integ()
            t2 = (b * P.basis(j) * k).integ()
            out[i - 1, j - 1] = float(t1(1.0) - t1(0.0) + t2(1.0) - t2(0.0))
    return out


def _hermite(x: float, p: int) -> float:
    coefs = {
        0: [1],
        1: [0, 1],
        2: [-1, 0, 1],
        3: [0, -3, 0, 1],
        4: [3, 0, -6, 0, 1],
        5: [0, 15, 0, -10, 0, 1],
        6: [-15, 0, 45, 0, -15, 0, 1],
        7: [0, -105, 0, 105, 0, -21, 0, 1],
        8: [105, 0, -420, 0, 210, 0, -28, 0, 1],
        9: [0, 945, 0, -1260, 0, 378, 0, -36, 0, 1],
    }[p]
    return float(P(coefs)(x))


def _fv(
    y: np.ndarray, x: np.ndarray, n: int, nlh: int, hl: float, hr: float, p: int, s: int, kernel: str, mass: bool
) -> dict[str, np.ndarray]:
    """Unrestricted local polynomial fit of the empirical CDF ``y`` on sorted ``x`` (centred): rddensity's ``fv``.

    Returns arrays over (left, right, diff, sum) of the density estimate ``hat``, the jackknife and plug-in
    variances and the order-``s`` derivative ``s``.
    """
    nh = x.size
    xl, xr = x[:nlh], x[nlh:]
    w = np.empty(nh)
    if kernel == "uniform":
        w[:nlh], w[nlh:] = 1 / (2 * hl), 1 / (2 * hr)
    elif kernel == "triangular":
        w[:nlh], w[nlh:] = (1 + xl / hl) / hl, (1 - xr / hr) / hr
    else:
        w[:nlh], w[nlh:] = 0.75 * (1 - (xl / hl) ** 2) / hl, 0.75 * (1 - (xr / hr) ** 2) / hr
    xp = np.zeros((nh, 2 * p + 2))
    hp = np.zeros(2 * p + 2)
    for k in range(p + 1):
        xp[:nlh, 2 * k] = (xl / hl) ** k
        xp[nlh:, 2 * k + 1] = (xr / hr) ** k
        hp[2 * k], hp[2 * k + 1] = hl**k, hr**k
    hinv = np.diag(1 / hp)
    xpw = xp * w[:, None]
    nan4 = np.full(4, math.nan)
    try:
        sinv = np.linalg.inv(xpw.T @ xp)
    except np.linalg.LinAlgError:
        return {"hat": nan4, "jackknife": nan4, "plugin": nan4, "s": nan4}
    b = (xpw.T @ y) @ sinv @ hinv
    hat = np.array([b[2], b[3], b[3] - b[2], b[3] + b[2]])
    sd = np.array([b[2 * s], b[2 * s + 1], b[2 * s + 1] - b[2 * s], b[2 * s + 1] + b[2 * s]])
    tails = np.cumsum(np.vstack([np.zeros((1, xpw.shape[1])), xpw[::-1]]), axis=0) / (n - 1)
    lmat = tails[nh - 1 :: -1]
    if mass:
        first = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
        freq = np.diff(np.r_[first, nh])
        lmat = np.repeat(lmat[first], freq, axis=0)
    v = hinv @ sinv @ (lmat.T @ lmat) @ sinv @ hinv
    jk = np.array([v[2, 2], v[3, 3], v[2, 2] + v[3, 3] - 2 * v[2, 3], v[2, 2] + v[3, 3] + 2 * v[2, 3]])
    sk, _ = _s_c(p, kernel)
    ski = np.linalg.inv(sk)
    vk = ski @ _g(p, kernel) @ ski
    pl = np.array([hat[0] * vk[1, 1] / (n * hl), hat[1] * vk[1, 1] / (n * hr), 0.0, 0.0])
    pl[2] = pl[3] = pl[0] + pl[1]
    jk[jk < 0] = math.nan
    pl[pl < 0] = math.nan
    return {"hat": hat, "jackknife": jk, "plugin": pl, "s": sd}


def _cdf(x: np.ndarray, mass: bool) -> np.ndarray:
    """Empirical CDF values i/(n-1) of sorted x; ties share the value of the last of them."""
    n = x.size
    y = np.arange(n) / (n - 1)
    if mass:
        last = np.flatnonzero(np.r_[x[1:] != x[:-1], True])
        freq = np.diff(np.r_[-1, last])
        y = np.repeat(y[last], freq)
    return y


def _kth(v: np.ndarray, k: int) -> float:
    return float(v[min(k, v.size) - 1])


def _bandwidths(x: np.ndarray, p: int, kernel: str, vce: str, mass: bool) -> np.ndarray:
    """rdbwdensity (unrestricted): MSE-optimal bandwidths for left, right, difference and sum."""
    n = x.size
    nl = int(np.searchsorted(x, 0.0, side="left"))
    xu = np.unique(x)
    xl_abs, xr = np.abs(x[:nl])[::-1], x[nl:]
    xul_abs, xur = np.abs(xu[xu < 0])[::-1], xu[xu >= 0]
    mu, sd = float(np.mean(x)), float(np.std(x, ddof=1))
    phi = math.exp(-0.5 * (mu / sd) ** 2) / math.sqrt(2 * math.pi)
    fb = 1 / (_hermite(mu / sd, p + 2) ** 2 * phi)
    fc = 1 / (_hermite(mu / sd, p) ** 2 * phi)
    bn = ((2 * p + 1) / 4 * fb * _CB[p - 1] / n) ** (1 / (2 * p + 5)) * sd
    cn = (1 / (2 * p) * fc * _CC[p - 1] / n) ** (1 / (2 * p + 1)) * sd
    top = float(np.max(np.abs(xu)))
    bn, cn = min(bn, top), min(cn, top)
    bn = max(bn, _kth(xl_abs, 20 + p + 3), _kth(xr, 20 + p + 3), _kth(xul_abs, 20 + p + 3), _kth(xur, 20 + p + 3))
    cn = max(cn, _kth(xl_abs, 20 + p + 1), _kth(xr, 20 + p + 1), _kth(xul_abs, 20 + p + 1), _kth(xur, 20 + p + 1))
    y = _cdf(x, mass)
    fits = []
    for hh, order, s in ((bn, p + 2, p + 1), (cn, p, 1)):
        m = np.abs(x) <= hh
        xs = x[m]
        fits.append(_fv(y[m], xs, n, int(np.sum(xs < 0)), hh, hh, order, s, kernel, mass))
    fb_, fc_ = fits
    var = n * cn * (fc_["plugin"] if vce == "plugin" else fc_["jackknife"])
    sk, ck = _s_c(p, kernel)
    bc = float((np.linalg.inv(sk) @ ck)[1, 0])
    bias = np.array([fb_["s"][0] * bc * (-1) ** p, fb_["s"][1] * bc, 0.0, 0.0])
    bias[2], bias[3] = bias[1] - bias[0], bias[1] + bias[0]
    bias = bias**2
    with np.errstate(divide="ignore", invalid="ignore"):
        hn = (1 / (2 * p) * var / bias / n) ** (1 / (2 * p + 1))
    hn[~(var >= 0)] = 0.0
    hn[np.isnan(hn)] = 0.0
    left_range, right_range = abs(float(xu[0])), float(xu[-1])
    hn = np.minimum(hn, [left_range, right_range, max(left_range, right_range), max(left_range, right_range)])
    k = 20 + p + 1
    hlmin, hrmin = _kth(xl_abs, k), _kth(xr, k)
    hn = np.maximum(hn, [hlmin, hrmin, max(hlmin, hrmin), max(hlmin, hrmin)])
    hlmin, hrmin = _kth(xul_abs, k), _kth(xur, k)
    return np.maximum(hn, [hlmin, hrmin, max(hlmin, hrmin), max(hlmin, hrmin)])


@vp.validate_params(
    {
        "running": "array-like",
        "cutoff": vp.Interval("real"),
        "order": vp.Interval("int", 1, 7),
        "kernel": vp.Options(KERNELS),
        "vce": vp.Options(("jackknife", "plugin")),
        "bwselect": vp.Options(("comb", "each", "diff", "sum")),
        "bandwidth": [None, vp.Interval("real", 0, closed="neither", what="a positive number")],
        "masspoints": "boolean",
        "conf_level": "conf_level",
    }
)
def rdd_density(
    running: Any,
    *,
    cutoff: float = 0.0,
    order: int = 2,
    kernel: str = "triangular",
    vce: str = "jackknife",
    bwselect: str = "comb",
    bandwidth: float | None = None,
    masspoints: bool = True,
    conf_level: float = 0.95,
) -> Result:
    r"""Cattaneo-Jansson-Ma density (manipulation) test at the cutoff, as ``rddensity``.

    Parameters
    ----------
    running : array-like
        The running variable.
    cutoff : float
    order : int
        Order p of the local polynomial for the bandwidth; the test uses order p + 1 (rddensity's q).
    kernel : {"triangular", "uniform", "epanechnikov"}
    vce : {"jackknife", "plugin"}
        Variance of the density estimates; the headline test uses it.
    bwselect : {"comb", "each", "diff", "sum"}
        rddensity's bandwidth choice: the median of the left (right), difference and sum bandwidths (``comb``),
        one per side (``each``), the difference's or the sum's on both sides.
    bandwidth : float, optional
        The same bandwidth on both sides instead of the data-driven ones.
    masspoints : bool
        Let tied values share one value of the empirical distribution function (rddensity's default).
    conf_level : float

    Returns
    -------
    Result
        ``estimate``: the difference of the density estimates above and below the cutoff, with ``std_error``,
        normal CI, ``statistic`` (z) and ``pvalue``. ``details``: ``density_below``/``density_above``, their
        standard errors, ``bandwidth_below``/``bandwidth_above``, ``n_below``/``n_above`` (all) and
        ``n_effective_below``/``n_effective_above``, the plug-in and jackknife statistics.

    Notes
    -----
    Cattaneo, Jansson and Ma (2020), "Simple local polynomial density estimators", JASA 115(531). Validated against
    the ``rddensity`` Python package on the bundled LMB data and simulated data with and without bunching
    (``tests/reference/rddensity_reference.py``).

    Examples
    --------
    >>> import numpy as np
    >>> import causalinfer as ci
    >>> x = np.random.default_rng(1).normal(size=3000)
    >>> ci.designs.rdd_density(x).pvalue > 0.05
    True
    """
    from ..stats._normal import z_limits, z_pvalue

    c = check_real(cutoff, "cutoff")
    order = check_int(order, "order", minimum=1, maximum=7)
    kernel = check_choice(kernel, "kernel", KERNELS)
    vce = check_choice(vce, "vce", ("jackknife", "plugin"))
    bwselect = check_choice(bwselect, "bwselect", ("comb", "each", "diff", "sum"))
    if not isinstance(masspoints, bool):
        raise ArgumentError(f"`masspoints` must be True or False; got {masspoints!r}")
    x = np.sort(check_array(running, "running", min_size=2)) - c
    n = x.size
    nl = int(np.searchsorted(x, 0.0, side="left"))
    need = 20 + order + 2
    if min(nl, n - nl) < need:
        raise DataError(
            f"`running` has {nl} observation(s) below and {n - nl} at or above the cutoff {c:g}; the density test with "
            f"order {order} needs at least {need} on each side: move the cutoff or pass more data"
        )
    mass = masspoints and bool(np.any(x[1:] == x[:-1]))
    if bandwidth is None:
        hn = _bandwidths(x, order, kernel, vce, mass)
        pick = {"each": (hn[0], hn[1]), "diff": (hn[2], hn[2]), "sum": (hn[3], hn[3])}
        hl, hr = (
            pick[bwselect] if bwselect in pick else (statistics.median([hn[0], hn[2], hn[3]]), statistics.median([hn[1], hn[2], hn[3]]))
        )
    else:
        hl = hr = check_real(bandwidth, "bandwidth")
    y = _cdf(x, mass)
    m = (x >= -hl) & (x <= hr)
    xs = x[m]
    nlh = int(np.sum(xs < 0))
    if nlh < order + 2 or xs.size - nlh < order + 2:
        raise DataError(
            f"bandwidths {hl:.6g} below / {hr:.6g} above leave {nlh} and {xs.size - nlh} observations; the density fit "
            f"of order {order + 1} needs at least {order + 2} on each side: widen `bandwidth` or omit it"
        )
    fv = _fv(y[m], xs, n, nlh, float(hl), float(hr), order + 1, 1, kernel, mass)
    diff = float(fv["hat"][2])
    se = math.sqrt(fv[vce][2]) if fv[vce][2] >= 0 else math.nan
    z = diff / se if se > 0 else math.nan
    p = z_pvalue(z, "two-sided") if math.isfinite(z) else math.nan
    conf_level = check_conf_level(conf_level)
    lo, hi = z_limits(diff, se, conf_level, "two-sided") if math.isfinite(se) else (math.nan, math.nan)
    other = "plugin" if vce == "jackknife" else "jackknife"
    z_other = diff / math.sqrt(fv[other][2]) if fv[other][2] > 0 else math.nan
    details = {
        "density_below": float(fv["hat"][0]),
        "density_above": float(fv["hat"][1]),
        "std_error_below": math.sqrt(fv[vce][0]),
        "std_error_above": math.sqrt(fv[vce][1]),
        "bandwidth_below": float(hl),
        "bandwidth_above": float(hr),
        "n_below": nl,
        "n_above": n - nl,
        "n_effective_below": nlh,
        "n_effective_above": int(xs.size - nlh),
        "order": order,
        "kernel": kernel,
        "vce": vce,
        "bwselect": bwselect if bandwidth is None else "user-supplied",
        f"statistic_{other}": z_other,
        f"pvalue_{other}": z_pvalue(z_other, "two-sided") if math.isfinite(z_other) else math.nan,
        "mass_points": mass,
    }
    diag = Diagnostic(
        "density (manipulation)",
        "ok" if not (p < 0.05) else "warn",
        p,
        f"Cattaneo-Jansson-Ma test: density {details['density_below']:.4g} below and {details['density_above']:.4g} above, "
        f"z = {z:.3g}, p = {p:.3g}"
        + ("; no sign of sorting around the cutoff" if not (p < 0.05) else "; units may be sorting around the cutoff"),
    )
    return Result(
        method=f"Cattaneo-Jansson-Ma density test (local polynomial order {order + 1}, {kernel} kernel, {vce} variance)",
        estimand=f"difference of the density of the running variable above and below {c:g}",
        estimate=diff,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=z,
        statistic_name="z",
        pvalue=p,
        alternative="two-sided",
        null_value=0.0,
        n=n,
        diagnostics=(diag,),
        details=details,
        provenance=Provenance.current(),
    )
