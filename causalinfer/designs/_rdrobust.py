"""Robust bias-corrected local polynomial regression discontinuity on plain arrays (Calonico, Cattaneo, Titiunik).

The array layer behind :func:`causalinfer.designs.rdd`: the local polynomial point estimate of order ``p`` on each
side of the cutoff, its bias correction from a fit of order ``q`` with bandwidth ``b``, conventional and robust
variances (nearest-neighbour, HC0-HC3 or cluster-robust), and the MSE- and CER-optimal bandwidth selectors of
Calonico, Cattaneo and Titiunik (2014, 2020) and Calonico, Cattaneo, Farrell and Titiunik (2019). The formulas and
every numerical convention (pilot bandwidths, regularisation, standardisation of the variables before the bandwidth
search, the mass-point adjustment) follow the ``rdrobust`` package, against which it is tested to 1e-6.

All functions take the running variable sorted in ascending order (:func:`prepare` sorts once) so that the
nearest-neighbour residuals are computed in O(n * nnmatch) with cumulative sums instead of pairwise distances.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import linalg as sla

from ..exceptions import DataError
from ..stats._normal import z_crit, z_pvalue

VCES = ("nn", "hc0", "hc1", "hc2", "hc3")
BWSELECTS = ("mserd", "msetwo", "msesum", "cerrd", "certwo", "cersum")
#: Constants of the rule-of-thumb pilot bandwidth per kernel (as rdrobust).
_PILOT = {"triangular": 2.576, "uniform": 1.843, "epanechnikov": 2.34}
_EPS = math.sqrt(np.finfo(float).eps)
_BLOCK = 1 << 15


def kweight(x: np.ndarray, c: float, h: float, kernel: str) -> np.ndarray:
    """Kernel weights ``K((x - c) / h) / h`` as rdrobust scales them (uniform 1/2, Epanechnikov 3/4 (1 - u^2))."""
    u = (x - c) / h
    a = np.abs(u)
    if kernel == "epanechnikov":
        return (0.75 * (1 - u**2) * (a <= 1)) / h
    if kernel == "uniform":
        return (0.5 * (a <= 1)) / h
    return ((1 - a) * (a <= 1)) / h


def vander(u: np.ndarray, p: int) -> np.ndarray:
    out = np.empty((u.size, p + 1))
    out[:, 0] = 1.0
    for j in range(1, p + 1):
        out[:, j] = out[:, j - 1] * u
    return out


def inv_spd(a: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric positive-definite matrix by Cholesky (generalised inverse when that fails)."""
    try:
        c = sla.cho_factor(a, lower=True)
        return sla.cho_solve(c, np.eye(a.shape[0]))
    except (np.linalg.LinAlgError, sla.LinAlgError):
        return np.linalg.pinv(a)


def duplicates(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted ``x``: the size of each value's group of ties and each unit's 1-based position within it."""
    n = x.size
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    start = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
    counts = np.diff(np.r_[start, n])
    gid = np.repeat(np.arange(start.size), counts)
    return counts[gid], np.arange(n) - start[gid] + 1


def n_distinct(x: np.ndarray) -> int:
    """Number of distinct values of a sorted array (no sort needed)."""
    return 0 if x.size == 0 else 1 + int(np.count_nonzero(x[1:] != x[:-1]))


def nn_windows(
    x: np.ndarray, dups: np.ndarray, dupsid: np.ndarray, matches: int, pos: np.ndarray | None = None, ties: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-neighbour windows ``[lo, hi)`` of the units at ``pos`` (default all) in sorted ``x``.

    Each unit's window grows one neighbouring group of tied values at a time towards the closer side (both on a
    tie) until it holds at least ``matches`` other units (rdrobust's rule). All units advance together, so the
    loop runs at most about ``matches`` times.
    """
    n = x.size
    if ties is None:
        ties = bool(dups.size) and int(dups.max()) > 1
    if pos is None and n > _BLOCK:
        # in cache-sized blocks: the same answer, far less memory traffic on large n
        parts = [nn_windows(x, dups, dupsid, matches, np.arange(a, min(a + _BLOCK, n)), ties) for a in range(0, n, _BLOCK)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    cap = min(matches, n - 1)
    pos = np.arange(n) if pos is None else pos
    rpos = (dups[pos] - dupsid[pos]).astype(np.int64)
    lpos = (dupsid[pos] - 1).astype(np.int64)
    top = n - 1
    xp = x[pos]
    active = lpos + rpos < cap
    while active.any():
        li, ri = pos - lpos - 1, pos + rpos + 1
        left_out, right_out = li < 0, ri > top
        np.clip(li, 0, top, out=li)
        np.clip(ri, 0, top, out=ri)
        dl, dr = xp - x[li], x[ri] - xp
        go_r = left_out | ~(dl < dr)
        go_l = ~left_out & (right_out | ~(dl > dr))
        go_r &= active & ~(right_out & ~left_out)
        go_l &= active
        if ties:
            rpos += np.where(go_r, dups[ri], 0)
            lpos += np.where(go_l, dups[li], 0)
        else:
            rpos += go_r
            lpos += go_l
        active &= lpos + rpos < cap
    return pos - lpos, pos + rpos + 1


def window_residuals(d: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """:math:`\\sqrt{J/(J+1)}\\,(d_i - \\bar d_{\\text{others}})` over each window, from one cumulative sum."""
    j = (hi - lo - 1).astype(float)
    dc = d - d.mean(axis=0)
    cs = np.vstack([np.zeros((1, d.shape[1])), np.cumsum(dc, axis=0)])
    others = cs[hi] - cs[lo] - dc
    return np.sqrt(j / (j + 1))[:, None] * (dc - others / j[:, None])


def nn_residuals(x: np.ndarray, d: np.ndarray, dups: np.ndarray, dupsid: np.ndarray, matches: int) -> np.ndarray:
    """Nearest-neighbour residuals (rdrobust's ``vce="nn"``) of the columns of ``d`` for sorted ``x``."""
    lo, hi = nn_windows(x, dups, dupsid, matches)
    return window_residuals(d, lo, hi)


def hc_residuals(d: np.ndarray, fitted: np.ndarray, vce: str, k: int, hii: np.ndarray | None, clustered: bool) -> np.ndarray:
    """Residuals scaled for HC0-HC3 (HC1 unscaled under clustering, where the CR1 factor applies instead)."""
    n = d.shape[0]
    if vce == "hc0" or (vce == "hc1" and clustered):
        w: Any = 1.0
    elif vce == "hc1":
        w = math.sqrt(n / (n - k))
    elif vce == "hc2":
        w = np.sqrt(1 / np.maximum(1 - hii, 1e-8))[:, None]  # type: ignore[operator]
    else:
        w = (1 / np.maximum(1 - hii, 1e-8))[:, None]  # type: ignore[operator]
    return w * (d - fitted)


def meat(rx: np.ndarray, r: np.ndarray, cl: np.ndarray | None, k_df: int) -> np.ndarray:
    """Sandwich meat for the combined residual ``r``: HC-type, or CR1 summed within clusters."""
    a = rx * r[:, None]
    if cl is None:
        return a.T @ a
    codes, inv = np.unique(cl, return_inverse=True)
    g, n = codes.size, a.shape[0]
    sums = np.zeros((g, a.shape[1]))
    np.add.at(sums, inv, a)
    w = ((n - 1) / (n - k_df)) * (g / (g - 1)) if g > 1 else math.nan
    return w * (sums.T @ sums)


@dataclass
class Side:
    """One side of the cutoff: the data sorted by the running variable, with the tie structure."""

    x: np.ndarray
    y: np.ndarray
    t: np.ndarray | None
    z: np.ndarray | None
    cl: np.ndarray | None
    fw: np.ndarray | None = None  # observation weights (rdrobust's ``weights``), multiplying the kernel weights
    dups: np.ndarray = field(init=False)
    dupsid: np.ndarray = field(init=False)

    _nn: dict[int, tuple[np.ndarray, np.ndarray]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.dups, self.dupsid = duplicates(self.x)

    def window(self, c: float, h: float, kernel: str) -> tuple[slice, np.ndarray]:
        """The contiguous run of units with positive kernel weight at bandwidth ``h`` (x is sorted), and the weights."""
        x = self.x
        a = int(np.searchsorted(x, c - h * (1 + 1e-8), side="left"))
        e = int(np.searchsorted(x, c + h * (1 + 1e-8), side="right"))
        w = kweight(x[a:e], c, h, kernel)
        if self.fw is not None:
            w = w * self.fw[a:e]
        pos = np.flatnonzero(w > 0)
        if pos.size == 0:
            return slice(a, a), w[:0]
        return slice(a + int(pos[0]), a + int(pos[-1]) + 1), w[pos[0] : pos[-1] + 1]

    def nn_residuals(self, sl: Any, d: np.ndarray, matches: int) -> np.ndarray:
        """NN residuals within the run ``sl``: the side's windows (found once) where they fit inside it, else redone."""
        a, e = sl.start, sl.stop
        if matches not in self._nn:
            self._nn[matches] = nn_windows(self.x, self.dups, self.dupsid, matches)
        lo_all, hi_all = self._nn[matches]
        lo, hi = lo_all[a:e] - a, hi_all[a:e] - a
        bad = np.flatnonzero((lo < 0) | (hi > e - a))
        if e - a - 1 < matches:
            bad = np.arange(e - a)
        if bad.size:
            lo[bad], hi[bad] = nn_windows(self.x[a:e], self.dups[a:e], self.dupsid[a:e], matches, bad)
        return window_residuals(d, lo, hi)

    def outcomes(self, idx: Any = slice(None)) -> np.ndarray:
        cols = [self.y[idx]]
        if self.t is not None:
            cols.append(self.t[idx])
        out = np.column_stack(cols)
        if self.z is not None:
            out = np.column_stack([out, self.z[idx]])
        return out

    def scaled(self, x_sd: float, y_sd: float, with_t: bool) -> Side:
        out = Side(self.x / x_sd, self.y / y_sd, self.t if with_t else None, self.z, self.cl, self.fw)
        return out


def _residuals(
    side: Side,
    idx: Any,
    d: np.ndarray,
    r: np.ndarray,
    w: np.ndarray,
    invg: np.ndarray,
    beta: np.ndarray,
    vce: str,
    nnmatch: int,
    k: int,
) -> np.ndarray:
    if vce == "nn":
        return side.nn_residuals(idx, d, nnmatch)
    hii = np.sum((r @ invg) * (r * w[:, None]), axis=1) if vce in ("hc2", "hc3") else None
    return hc_residuals(d, r @ beta, vce, k, hii, side.cl is not None)


def _partial_covs(rw: np.ndarray, d: np.ndarray, z: np.ndarray, w: np.ndarray, invg: np.ndarray, dt: int) -> np.ndarray:
    """Per-side pieces of the covariate coefficients: (Z'WZ - U'G^-1U, Z'WD - U'G^-1U) restricted as rdrobust."""
    u = rw.T @ d
    cz = np.arange(1 + dt, d.shape[1])
    zwd = (z * w[:, None]).T @ d
    uigu = u[:, cz].T @ (invg @ u)
    return np.hstack([zwd[:, cz] - uigu[:, cz], zwd[:, : 1 + dt] - uigu[:, : 1 + dt]])


def _combiner(beta_nu: np.ndarray, gamma: np.ndarray | None, dt: int, nu: int) -> np.ndarray:
    """Linear combination ``s`` of the outcome columns that gives the (fuzzy, covariate-adjusted) estimand."""
    fac = math.factorial(nu)
    if gamma is None and not dt:
        return np.array([1.0])
    if gamma is None:
        ty, tt = fac * beta_nu[0], fac * beta_nu[1]
        return np.array([1 / tt, -(ty / tt**2)])
    if not dt:
        return np.r_[1.0, -gamma[:, 0]]
    cz = np.arange(2, beta_nu.size)
    ty = fac * float(np.r_[1.0, -gamma[:, 0]] @ np.r_[beta_nu[0], beta_nu[cz]])
    tt = fac * float(np.r_[1.0, -gamma[:, 1]] @ np.r_[beta_nu[1], beta_nu[cz]])
    return np.hstack([1 / tt, -(ty / tt**2), -(1 / tt) * gamma[:, 0] + (ty / tt**2) * gamma[:, 1]])


def _bw_pilot(side: Side, c: float, o: int, nu: int, h: float, kernel: str, vce: str, nnmatch: int) -> tuple[float, float, np.ndarray]:
    """Variance and bias constant of the order-``o`` fit at pilot bandwidth ``h`` (rdrobust's V-fit)."""
    idx, ew = side.window(c, h, kernel)
    ex = side.x[idx]
    if n_distinct(ex) < o + 1:
        return math.nan, math.nan, np.array([1.0])
    r = vander(ex - c, o)
    rw = r * ew[:, None]
    invg = inv_spd(r.T @ rw)
    d = side.outcomes(idx)
    dt = int(side.t is not None)
    gamma = None
    if side.z is not None:
        parts = _partial_covs(rw, d, side.z[idx], ew, invg, dt)
        nz = side.z.shape[1]
        gamma = np.linalg.pinv(parts[:, :nz]) @ parts[:, nz:]
    beta = invg @ (rw.T @ d)
    s = _combiner(beta[nu], gamma, dt, nu)
    res = _residuals(side, idx, d, r, ew, invg, beta, vce, nnmatch, o + 1)
    cl = side.cl[idx] if side.cl is not None else None
    vv = float((invg @ meat(rw, res @ s, cl, o + 1) @ invg)[nu, nu])
    v = rw.T @ (((ex - c) / h) ** (o + 1))
    bconst = float((h ** np.arange(o + 1) * (invg @ v))[nu])
    return vv, bconst, s


def _bw_constants(
    side: Side,
    c: float,
    o: int,
    nu: int,
    o_b: int,
    h_v: float,
    h_b: float,
    scale: float,
    kernel: str,
    vce: str,
    nnmatch: int,
    cache: dict[Any, Any],
) -> tuple[float, float, float, float]:
    """rdrobust's ``rdrobust_bw``: (V, B, R, rate) for the bandwidth of an order-``o`` estimate of derivative ``nu``."""
    key = (o, nu)
    if key not in cache:
        cache[key] = _bw_pilot(side, c, o, nu, h_v, kernel, vce, nnmatch)
    vv, bconst, s = cache[key]
    bad = (math.nan, math.nan, math.nan, 1 / (2 * o + 3))
    if not math.isfinite(vv) or not (math.isfinite(h_b) and h_b > 0):
        return bad
    idx, ew = side.window(c, h_b, kernel)
    ex = side.x[idx]
    if n_distinct(ex) < o_b + 1:
        return bad
    r = vander(ex - c, o_b)
    rw = r * ew[:, None]
    invg = inv_spd(r.T @ rw)
    d = side.outcomes(idx)
    beta = invg @ (rw.T @ d)
    reg = 0.0
    if scale > 0:
        res = _residuals(side, idx, d, r, ew, invg, beta, vce, nnmatch, o_b + 1)
        cl = side.cl[idx] if side.cl is not None else None
        vb = float((invg @ meat(rw, res @ s, cl, o_b + 1) @ invg)[-1, -1])
        reg = 3 * bconst**2 * vb
    b = math.sqrt(2 * (o + 1 - nu)) * bconst * float(np.dot(s, beta[-1]))
    return (2 * nu + 1) * h_v ** (2 * nu + 1) * vv, b, scale * (2 * (o + 1 - nu)) * reg, 1 / (2 * o + 3)


@dataclass
class Data:
    """Both sides of the cutoff plus what the bandwidth search needs."""

    left: Side
    right: Side
    c: float
    mass_left: float
    mass_right: float
    n_unique_left: int
    n_unique_right: int


def prepare(
    x: np.ndarray,
    y: np.ndarray,
    c: float,
    t: np.ndarray | None = None,
    z: np.ndarray | None = None,
    cl: np.ndarray | None = None,
    fw: np.ndarray | None = None,
) -> Data:
    """Sort once by the running variable and split at the cutoff (``x < c`` left, ``x >= c`` right)."""
    order = np.argsort(x)
    x, y = x[order], y[order]
    t = t[order] if t is not None else None
    z = z[order] if z is not None else None
    cl = cl[order] if cl is not None else None
    fw = fw[order] if fw is not None else None
    k = int(np.searchsorted(x, c, side="left"))

    def part(sl: slice) -> Side:
        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return a[sl] if a is not None else None

        return Side(x[sl], y[sl], cut(t), cut(z), cut(cl), cut(fw))

    left, right = part(slice(0, k)), part(slice(k, None))
    ml, mr = n_distinct(left.x), n_distinct(right.x)
    return Data(left, right, c, 1 - ml / max(left.x.size, 1), 1 - mr / max(right.x.size, 1), ml, mr)


def _quantile_type2(x: np.ndarray, prob: float) -> float:
    n = x.size
    hh = n * prob
    j = math.floor(hh)
    return float(0.5 * (x[j - 1] + x[j])) if hh == j else float(x[j])


def _cascade(
    sides: tuple[Side, Side],
    c: float,
    p: int,
    q: int,
    deriv: int,
    d_bw: tuple[float, float],
    *,
    two: bool,
    reg: float,
    bw_max: tuple[float, float, float],
    kernel: str,
    vce: str,
    nnmatch: int,
    c_bw: float,
    caches: tuple[dict[Any, Any], dict[Any, Any]],
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Steps 2 and 3 of the bandwidth search: b from the pilot d, then h from b (common or per side)."""

    def consts(o: int, nu: int, o_b: int, hb: tuple[float, float]) -> list[tuple[float, float, float, float]]:
        return [_bw_constants(s, c, o, nu, o_b, c_bw, hb[i], reg, kernel, vce, nnmatch, caches[i]) for i, s in enumerate(sides)]

    def solve(cs: list[tuple[float, float, float, float]], cap: tuple[float, float]) -> tuple[float, float]:
        if two:
            return tuple(min((k[0] / (k[1] ** 2 + reg * k[2])) ** k[3], m) for k, m in zip(cs, cap, strict=True))  # type: ignore[return-value]
        (vl, bl, rl, rate), (vr, br, rr, _) = cs
        v = min(((vl + vr) / ((br - bl) ** 2 + reg * (rr + rl))) ** rate, bw_max[2])
        return v, v

    cap = (bw_max[0], bw_max[1]) if two else (bw_max[2], bw_max[2])
    b = solve(consts(q, p + 1, q + 1, d_bw), cap)
    h = solve(consts(p, deriv, q, b), cap)
    return h, b


def select_bandwidths(
    data: Data,
    *,
    p: int,
    q: int,
    deriv: int,
    kernel: str,
    bwselect: str,
    vce: str,
    nnmatch: int,
    masspoints: bool,
    scaleregul: float = 1.0,
    fuzzy_bw: bool = True,
) -> tuple[float, float, float, float]:
    """rdrobust's bandwidth selectors (``mserd``, ``msetwo``, ``msesum``, ``cerrd``, ``certwo``, ``cersum``).

    Returns (h_left, h_right, b_left, b_right). Variables are standardised by their standard deviations first
    (rdrobust's ``stdvars=True``), the pilot is the rule-of-thumb ``C_K min(sd, IQR/1.349) N^{-1/5}`` (with the
    number of distinct values in place of N under the mass-point adjustment), and every stage is capped at the
    distance from the cutoff to the farthest observation.
    """
    L, R, c0 = data.left, data.right, data.c
    x_all = np.r_[L.x, R.x]
    y_all = np.r_[L.y, R.y]
    n = x_all.size
    x_sd, y_sd = float(np.std(x_all, ddof=1)), float(np.std(y_all, ddof=1))
    iq = _quantile_type2(x_all, 0.75) - _quantile_type2(x_all, 0.25)
    bwp = min(1.0, (iq / x_sd) / 1.349)
    with_t = L.t is not None and R.t is not None and fuzzy_bw and bool(np.var(L.t) != 0) and bool(np.var(R.t) != 0)
    sides = (L.scaled(x_sd, y_sd, with_t), R.scaled(x_sd, y_sd, with_t))
    c = c0 / x_sd
    range_l, range_r = abs(c - sides[0].x.min()), abs(c - sides[1].x.max())
    bwcheck = 10 if masspoints and (data.mass_left >= 0.2 or data.mass_right >= 0.2) else None
    m_count = data.n_unique_left + data.n_unique_right if masspoints else n
    c_bw = _PILOT[kernel] * bwp * m_count ** (-0.2)
    bw_max = (abs(c - sides[0].x.min()), abs(c - sides[1].x.max()))
    bw_max3 = (bw_max[0], bw_max[1], max(bw_max))
    c_bw = min(c_bw, bw_max3[2])
    bw_min = (0.0, 0.0)
    if bwcheck is not None:
        ul = np.unique(sides[0].x)[::-1]
        ur = np.unique(sides[1].x)
        bw_min = (
            abs(ul - c)[min(bwcheck, ul.size) - 1] * (1 + _EPS),
            abs(ur - c)[min(bwcheck, ur.size) - 1] * (1 + _EPS),
        )
        c_bw = max(c_bw, *bw_min)
    caches: tuple[dict[Any, Any], dict[Any, Any]] = ({}, {})
    kw = dict(kernel=kernel, vce=vce, nnmatch=nnmatch)
    cdl = _bw_constants(sides[0], c, q + 1, q + 1, q + 2, c_bw, range_l * (1 + _EPS), 0, cache=caches[0], **kw)  # type: ignore[arg-type]
    cdr = _bw_constants(sides[1], c, q + 1, q + 1, q + 2, c_bw, range_r * (1 + _EPS), 0, cache=caches[1], **kw)  # type: ignore[arg-type]
    two = bwselect in ("msetwo", "certwo")
    if two:
        d_bw = (min((cdl[0] / cdl[1] ** 2) ** cdl[3], bw_max[0]), min((cdr[0] / cdr[1] ** 2) ** cdr[3], bw_max[1]))
    else:
        diff = (cdr[1] + cdl[1]) if bwselect in ("msesum", "cersum") else (cdr[1] - cdl[1])
        dd = min(((cdl[0] + cdr[0]) / diff**2) ** cdl[3], bw_max3[2])
        d_bw = (dd, dd)
    if bwcheck is not None:
        d_bw = (max(d_bw[0], bw_min[0]), max(d_bw[1], bw_min[1])) if two else (max(d_bw[0], *bw_min),) * 2
    if bwselect in ("msesum", "cersum"):
        h, b = _cascade_sum(sides, c, p, q, deriv, d_bw, reg=scaleregul, bw_max=bw_max3[2], c_bw=c_bw, caches=caches, **kw)  # type: ignore[arg-type]
    else:
        h, b = _cascade(sides, c, p, q, deriv, d_bw, two=two, reg=scaleregul, bw_max=bw_max3, c_bw=c_bw, caches=caches, **kw)  # type: ignore[arg-type]
    h = (x_sd * h[0], x_sd * h[1])
    b = (x_sd * b[0], x_sd * b[1])
    if bwselect.startswith("cer"):
        g = None
        if L.cl is not None:
            g = np.unique(L.cl).size + np.unique(R.cl).size  # type: ignore[arg-type]
        cer = (g if g is not None else n) ** (-(p / ((3 + p) * (3 + 2 * p))))
        h = (h[0] * cer, h[1] * cer)
    out = (h[0], h[1], b[0], b[1])
    if not all(math.isfinite(v) and v > 0 for v in out):
        raise DataError(
            "not enough variation in the running variable near the cutoff to choose a bandwidth from the data "
            f"(the search gave h = {out[0]:.4g}/{out[1]:.4g}, b = {out[2]:.4g}/{out[3]:.4g}): the running variable "
            "may have too few distinct values (mass points); pass bandwidth=... or use a lower order"
        )
    return out


def _cascade_sum(
    sides: tuple[Side, Side],
    c: float,
    p: int,
    q: int,
    deriv: int,
    d_bw: tuple[float, float],
    *,
    reg: float,
    bw_max: float,
    kernel: str,
    vce: str,
    nnmatch: int,
    c_bw: float,
    caches: tuple[dict[Any, Any], dict[Any, Any]],
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The ``msesum`` cascade: the sum instead of the difference of the two bias constants."""

    def step(o: int, nu: int, o_b: int, hb: float) -> float:
        (vl, bl, rl, rate), (vr, br, rr, _) = (
            _bw_constants(s, c, o, nu, o_b, c_bw, hb, reg, kernel, vce, nnmatch, caches[i]) for i, s in enumerate(sides)
        )
        return min(((vl + vr) / ((br + bl) ** 2 + reg * (rr + rl))) ** rate, bw_max)

    b = step(q, p + 1, q + 1, d_bw[0])
    h = step(p, deriv, q, b)
    return (h, h), (b, b)


@dataclass(frozen=True)
class RDFit:
    """Everything an rdrobust-style fit reports."""

    tau_cl: float
    tau_bc: float
    se_cl: float
    se_rb: float
    h: tuple[float, float]
    b: tuple[float, float]
    n: tuple[int, int]
    n_h: tuple[int, int]
    n_b: tuple[int, int]
    n_unique: tuple[int, int]
    beta_left: np.ndarray
    beta_right: np.ndarray
    gamma: np.ndarray | None
    first_stage: tuple[float, float, float, float] | None  # tau_T_cl, tau_T_bc, se_T_cl, se_T_rb
    n_clusters: tuple[int, int] | None

    def intervals(self, level: float) -> dict[str, tuple[float, float, float, float, float, float]]:
        """``{"conventional": (est, se, z, p, lo, hi)...}`` at ``level`` (normal quantiles, as rdrobust)."""
        zq = z_crit(level)
        out: dict[str, Any] = {}
        for name, est, se in (
            ("conventional", self.tau_cl, self.se_cl),
            ("bias-corrected", self.tau_bc, self.se_cl),
            ("robust", self.tau_bc, self.se_rb),
        ):
            z = est / se if se > 0 else math.nan
            out[name] = (est, se, z, z_pvalue(z, "two-sided") if math.isfinite(z) else math.nan, est - zq * se, est + zq * se)
        return out


def _side_fit(side: Side, c: float, p: int, q: int, h: float, b: float, kernel: str) -> dict[str, Any]:
    """The weighted design of one side: order-p fit at h, order-q fit at b, and the bias-corrected score matrix Q."""
    sl_h, _ = side.window(c, h, kernel)
    sl_b, _ = side.window(c, b, kernel)
    idx = sl_h if h > b else sl_b
    ex = side.x[idx]
    w_h = kweight(ex, c, h, kernel)
    w_b = kweight(ex, c, b, kernel)
    if side.fw is not None:
        w_h, w_b = w_h * side.fw[idx], w_b * side.fw[idx]
    r_q = vander(ex - c, q)
    r_p = r_q[:, : p + 1]
    rw_p = r_p * w_h[:, None]
    rw_qb = r_q * w_b[:, None]
    invg_q = inv_spd(r_q.T @ rw_qb)
    invg_p = inv_spd(r_p.T @ rw_p)
    lvec = rw_p.T @ (((ex - c) / h) ** (p + 1))
    m = (r_q @ invg_q[p + 1, :]) * w_b
    qq = rw_p - h ** (p + 1) * m[:, None] * lvec[None, :]
    d = side.outcomes(idx)
    return {
        "idx": idx,
        "d": d,
        "r_p": r_p,
        "r_q": r_q,
        "w_h": w_h,
        "w_b": w_b,
        "rw_p": rw_p,
        "rw_qb": rw_qb,
        "invg_p": invg_p,
        "invg_q": invg_q,
        "Q": qq,
        "beta_p": invg_p @ (rw_p.T @ d),
        "beta_q": invg_q @ (rw_qb.T @ d),
        "beta_bc": invg_p @ (qq.T @ d),
        "n_h": sl_h.stop - sl_h.start,
        "n_b": sl_b.stop - sl_b.start,
    }


def _estimands(
    fl: dict[str, Any], fr: dict[str, Any], gamma: np.ndarray | None, dt: int, deriv: int
) -> tuple[float, float, np.ndarray, tuple[float, float, np.ndarray] | None]:
    """Conventional and bias-corrected estimates, the variance combiner s_Y, and the first stage (fuzzy)."""
    fac = math.factorial(deriv)
    bp = fr["beta_p"] - fl["beta_p"]
    bbc = fr["beta_bc"] - fl["beta_bc"]
    if gamma is None:
        s_y = np.array([1.0])
        if not dt:
            return fac * bp[deriv, 0], fac * bbc[deriv, 0], s_y, None
        ty_cl, ty_bc = fac * bp[deriv, 0], fac * bbc[deriv, 0]
        tt_cl, tt_bc = fac * bp[deriv, 1], fac * bbc[deriv, 1]
        sv_t = np.array([0.0, 1.0])
    else:
        s_y = np.r_[1.0, -gamma[:, 0]]
        if not dt:
            return fac * float(s_y @ bp[deriv]), fac * float(s_y @ bbc[deriv]), s_y, None
        cz = np.arange(2, bp.shape[1])
        s_t = np.r_[1.0, -gamma[:, 1]]
        ty_cl = fac * float(s_y @ np.r_[bp[deriv, 0], bp[deriv, cz]])
        ty_bc = fac * float(s_y @ np.r_[bbc[deriv, 0], bbc[deriv, cz]])
        tt_cl = fac * float(s_t @ np.r_[bp[deriv, 1], bp[deriv, cz]])
        tt_bc = fac * float(s_t @ np.r_[bbc[deriv, 1], bbc[deriv, cz]])
        sv_t = np.r_[0.0, 1.0, -gamma[:, 1]]
    tau_cl = ty_cl / tt_cl
    s2 = np.array([1 / tt_cl, -(ty_cl / tt_cl**2)])
    tau_bc = tau_cl - float(s2 @ np.array([ty_cl - ty_bc, tt_cl - tt_bc]))
    s_full = s2 if gamma is None else np.hstack([s2, -(1 / tt_cl) * gamma[:, 0] + (ty_cl / tt_cl**2) * gamma[:, 1]])
    return tau_cl, tau_bc, s_full, (tt_cl, tt_bc, sv_t)


def rd_fit(
    data: Data, *, p: int, q: int, deriv: int, h: tuple[float, float], b: tuple[float, float], kernel: str, vce: str, nnmatch: int
) -> RDFit:
    """rdrobust's estimation step at given bandwidths (``h``, ``b``: left and right)."""
    L, R, c = data.left, data.right, data.c
    fl = _side_fit(L, c, p, q, h[0], b[0], kernel)
    fr = _side_fit(R, c, p, q, h[1], b[1], kernel)
    dt = int(L.t is not None)
    gamma = None
    if L.z is not None:
        nz = L.z.shape[1]
        parts = [_partial_covs(f["rw_p"], f["d"], s.z[f["idx"]], f["w_h"], f["invg_p"], dt) for f, s in ((fl, L), (fr, R))]  # type: ignore[index]
        tot = parts[0] + parts[1]
        gamma = np.linalg.pinv(tot[:, :nz]) @ tot[:, nz:]
    tau_cl, tau_bc, s_y, first = _estimands(fl, fr, gamma, dt, deriv)
    fac2 = math.factorial(deriv) ** 2
    v_cl = v_rb = vt_cl = vt_rb = 0.0
    for f, s in ((fl, L), (fr, R)):
        res_h, res_b = _fit_residuals(f, s, p, q, vce, nnmatch)
        cl = s.cl[f["idx"]] if s.cl is not None else None
        ip = f["invg_p"]
        v_cl += float((ip @ meat(f["rw_p"], res_h @ s_y, cl, p + 1) @ ip)[deriv, deriv])
        v_rb += float((ip @ meat(f["Q"], res_b @ s_y, cl, q + 1) @ ip)[deriv, deriv])
        if first is not None:
            vt_cl += float((ip @ meat(f["rw_p"], res_h @ first[2], cl, p + 1) @ ip)[deriv, deriv])
            vt_rb += float((ip @ meat(f["Q"], res_b @ first[2], cl, q + 1) @ ip)[deriv, deriv])
    fs = None if first is None else (first[0], first[1], math.sqrt(fac2 * vt_cl), math.sqrt(fac2 * vt_rb))
    ncl = None
    if L.cl is not None:
        ncl = (int(np.unique(L.cl[fl["idx"]]).size), int(np.unique(R.cl[fr["idx"]]).size))  # type: ignore[index]
    return RDFit(
        tau_cl=float(tau_cl),
        tau_bc=float(tau_bc),
        se_cl=math.sqrt(fac2 * v_cl),
        se_rb=math.sqrt(fac2 * v_rb),
        h=h,
        b=b,
        n=(L.x.size, R.x.size),
        n_h=(fl["n_h"], fr["n_h"]),
        n_b=(fl["n_b"], fr["n_b"]),
        n_unique=(data.n_unique_left, data.n_unique_right),
        beta_left=fl["beta_p"][:, 0],
        beta_right=fr["beta_p"][:, 0],
        gamma=gamma,
        first_stage=fs,
        n_clusters=ncl,
    )


def _fit_residuals(f: dict[str, Any], side: Side, p: int, q: int, vce: str, nnmatch: int) -> tuple[np.ndarray, np.ndarray]:
    """Residuals for the conventional (order p, bandwidth h) and the robust (order q, bandwidth b) variances."""
    idx, d = f["idx"], f["d"]
    if vce == "nn":
        res = side.nn_residuals(idx, d, nnmatch)
        return res, res
    res_h = _residuals(side, idx, d, f["r_p"], f["w_h"], f["invg_p"], f["beta_p"], vce, nnmatch, p + 1)
    res_b = _residuals(side, idx, d, f["r_q"], f["w_b"], f["invg_q"], f["beta_q"], vce, nnmatch, q + 1)
    return res_h, res_b
