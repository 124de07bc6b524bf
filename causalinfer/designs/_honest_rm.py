"""Relative-magnitudes sensitivity of an event study (Rambachan and Roth 2023, Delta^RM(Mbar)), as
``HonestDiD::createSensitivityResults_relativeMagnitudes``.

Delta^RM(Mbar) bounds every post-treatment first difference of the trend difference by Mbar times the largest
pre-treatment first difference. It is the union, over the period s where that largest difference sits and its sign,
of polyhedra :math:`A_{s,\\pm}\\delta \\le 0`; the confidence set is the union of the sets of Andrews, Roth and
Pakes (ARP) moment-inequality tests over those polyhedra, with the moments of the post-treatment periods only
(HonestDiD's ``postPeriodMomentsOnly = TRUE``).

The ARP test of :math:`\\theta = l'\\tau_{post}` studentises the moments :math:`y_T(\\theta) = A\\hat\\beta -
A_1\\theta` and profiles the nuisance directions :math:`X`: :math:`\\hat\\eta = \\min_{\\eta,\\delta}\\{\\eta :
y_T - X\\delta \\le \\eta\\,\\sigma\\}`, whose dual is a maximum of :math:`\\lambda' y_T` over the vertices of
:math:`\\{\\lambda \\ge 0, \\sigma'\\lambda = 1, X'\\lambda = 0\\}`. The vertices are enumerated once, so the
statistic, the optimal vertex and the truncation points of the conditional test (the range of
:math:`\\gamma'y_T` over which the same vertex stays optimal, holding the part of :math:`y_T` independent of it
fixed) are exact; HonestDiD gets them from linear programs and a bisection to 1e-6. The hybrid ("C-LF") test
first rejects when :math:`\\hat\\eta` exceeds the least-favourable critical value at size kappa = alpha / 10,
simulated from 1000 draws, and otherwise runs the conditional test at size (alpha - kappa) / (1 - kappa).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..exceptions import ArgumentError

__all__ = ["rm_confidence_set"]

_MAX_BASES = 300_000


def rm_constraints(n_pre: int, n_post: int, mbar: float, s: int, positive: bool) -> np.ndarray:
    """Rows of :math:`A_{s,\\pm}(\\bar M)\\delta \\le 0` over (pre, post) coefficients, the reference period left out."""
    t = n_pre + n_post
    diff = np.zeros((t, t + 1))
    diff[np.arange(t), np.arange(t)] = -1.0
    diff[np.arange(t), np.arange(t) + 1] = 1.0
    v = np.zeros(t + 1)
    v[n_pre + s - 1], v[n_pre + s] = -1.0, 1.0
    if not positive:
        v = -v
    bound = np.vstack([np.tile(v, (n_pre, 1)), np.tile(mbar * v, (n_post, 1))])
    a = np.vstack([diff - bound, -diff - bound])
    a = a[(a**2).sum(axis=1) > 1e-10]
    return np.delete(a, n_pre, axis=1)


def gamma_matrix(l_vec: np.ndarray) -> np.ndarray:
    """An invertible matrix with first row l' and unit rows after it (HonestDiD's RREF construction: the first
    unit vectors, in order, that add rank)."""
    rows = [l_vec]
    for j in range(l_vec.size):
        e = np.eye(l_vec.size)[j]
        if np.linalg.matrix_rank(np.vstack([*rows, e])) > len(rows):
            rows.append(e)
        if len(rows) == l_vec.size:
            break
    return np.vstack(rows)


def dual_vertices(sd: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Vertices of {lambda >= 0, sd'lambda = 1, X'lambda = 0} (one per row), by enumerating bases."""
    m, k = sd.size, x.shape[1]
    if k == 0:
        return np.diag(1.0 / sd)
    n_bases = math.comb(m, k + 1)
    if n_bases > _MAX_BASES:
        raise ArgumentError(
            f"relative magnitudes with {k + 1} post-treatment coefficients need {n_bases} candidate vertices; "
            "pass fewer post-treatment periods (or aggregate them) to use restriction='relative_magnitudes'"
        )
    w = np.column_stack([sd, x])
    combos = np.array(list(itertools.combinations(range(m), k + 1)))
    blocks = w[combos].transpose(0, 2, 1)  # (bases, k + 1, k + 1): W_B'
    dets = np.linalg.det(blocks)
    ok = np.abs(dets) > 1e-12 * np.abs(blocks).max(axis=(1, 2)) ** (k + 1)
    rhs = np.zeros((int(ok.sum()), k + 1, 1))
    rhs[:, 0, 0] = 1.0
    lam_b = np.linalg.solve(blocks[ok], rhs)[:, :, 0]
    feasible = (lam_b >= -1e-10).all(axis=1)
    lam = np.zeros((int(feasible.sum()), m))
    np.put_along_axis(lam, combos[ok][feasible], np.clip(lam_b[feasible], 0.0, None), axis=1)
    if lam.shape[0] == 0:
        return lam
    _, keep = np.unique(np.round(lam, 10), axis=0, return_index=True)
    return lam[np.sort(keep)]


@dataclass
class _Polyhedron:
    """The ARP test of theta for one polyhedron A delta <= 0 (moments of the post periods only)."""

    y0: np.ndarray  # A beta
    a1: np.ndarray  # coefficient of theta in the moments
    verts: np.ndarray  # dual vertices (rows)
    vsv: np.ndarray  # V Sigma_Y V'
    lf_cv: float | None  # least-favourable critical value (None: conditional test only)
    cap_at_lf: bool  # HonestDiD truncates at the LF value only when there are nuisance directions

    def accept(self, thetas: np.ndarray, alpha: float, kappa: float) -> np.ndarray:
        """Whether each theta survives the test (vectorised over theta)."""
        if self.verts.shape[0] == 0:
            return np.ones(thetas.size, dtype=bool)  # the moments can be pushed down without bound: never reject
        cols = np.arange(thetas.size)
        vy = (self.verts @ self.y0)[:, None] - (self.verts @ self.a1)[:, None] * thetas[None, :]
        j = np.argmax(vy, axis=0)
        eta = vy[j, cols]
        size = alpha if self.lf_cv is None else (alpha - kappa) / (1 - kappa)
        var_b = self.vsv[j, j]
        degenerate = np.abs(var_b) < np.finfo(float).eps
        var_b = np.where(degenerate, 1.0, var_b)
        vc = self.vsv[:, j] / var_b  # (vertices, thetas): v' Sigma gamma / gamma' Sigma gamma
        vs = vy - vc * eta
        others = np.arange(vy.shape[0])[:, None] != j[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = vs / (1.0 - vc)
        vlo = np.where(others & (vc < 1 - 1e-12), ratio, -np.inf).max(axis=0)
        vup = np.where(others & (vc > 1 + 1e-12), ratio, np.inf).min(axis=0)
        if self.lf_cv is not None and self.cap_at_lf:
            vup = np.minimum(vup, self.lf_cv)
        sd_b = np.sqrt(var_b)
        reject = _conditional_reject(eta / sd_b, vlo / sd_b, vup / sd_b, size, check_range=self.cap_at_lf)
        reject = np.where(degenerate, eta > 0, reject)
        if self.lf_cv is not None:
            reject |= eta > self.lf_cv
        return ~reject


def _log_upper(x: np.ndarray) -> np.ndarray:
    return special.log_ndtr(-x)


def _conditional_reject(stat: np.ndarray, zlo: np.ndarray, zup: np.ndarray, size: float, *, check_range: bool) -> np.ndarray:
    """stat > max(0, the 1 - size quantile of N(0, 1) truncated to [zlo, zup]), through tail probabilities in logs
    (P(X > stat) < size), so far tails neither underflow nor round."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ls_stat, ls_lo, ls_up = _log_upper(stat), _log_upper(zlo), _log_upper(zup)
        num = ls_stat + np.log1p(-np.exp(ls_up - ls_stat))
        den = ls_lo + np.log1p(-np.exp(ls_up - ls_lo))
        reject = (stat > 0) & ((num < math.log(size) + den) | (stat >= zup))
    flat = zlo >= zup
    reject = np.where(flat, stat > np.maximum(0.0, zlo), reject)
    if check_range:
        reject &= (zlo <= stat) & (stat <= zup)
    return reject


@functools.lru_cache(maxsize=64)
def _legacy_normals(seed: int, m: int) -> np.ndarray:
    out = np.random.RandomState(seed).standard_normal((1000, m))
    out.setflags(write=False)
    return out


def _least_favourable_cv(verts: np.ndarray, sigma_y: np.ndarray, kappa: float, seed: int | np.random.Generator) -> float:
    """1 - kappa quantile of the statistic under the least favourable null (mean zero), from 1000 draws. With an
    integer seed the draws are numpy's legacy ``RandomState(seed).multivariate_normal`` ones (SVD factor, as
    HonestDiD's port), with the standard normals cached across polyhedra."""
    if verts.shape[0] == 0:
        return math.inf
    if isinstance(seed, np.random.Generator):
        draws = seed.multivariate_normal(np.zeros(sigma_y.shape[0]), sigma_y, size=1000)
    else:
        _, sv, vt = np.linalg.svd(sigma_y)
        draws = _legacy_normals(int(seed), sigma_y.shape[0]) @ (np.sqrt(sv)[:, None] * vt)
    return float(np.quantile((draws @ verts.T).max(axis=1), 1 - kappa))


def _polyhedron(
    beta: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    lv: np.ndarray,
    mbar: float,
    s: int,
    positive: bool,
    hybrid: bool,
    seed: object,
    kappa: float,
) -> _Polyhedron:
    n_post = lv.size
    a = rm_constraints(n_pre, n_post, mbar, s, positive)
    a = a[(a[:, n_pre:] != 0).any(axis=1)]
    a_gamma = a[:, n_pre:] @ np.linalg.inv(gamma_matrix(lv))
    sigma_y = a @ sigma @ a.T
    sd = np.sqrt(np.diag(sigma_y))
    verts = dual_vertices(sd, a_gamma[:, 1:])
    lf = _least_favourable_cv(verts, sigma_y, kappa, seed) if hybrid else None  # type: ignore[arg-type]
    return _Polyhedron(a @ beta, a_gamma[:, 0], verts, verts @ sigma_y @ verts.T, lf, n_post > 1)


class RMProblem:
    """All the polyhedra of Delta^RM(Mbar) for one event study, target and Mbar."""

    def __init__(
        self, beta: np.ndarray, sigma: np.ndarray, n_pre: int, lv: np.ndarray, mbar: float, alpha: float, hybrid: bool, seed: object
    ) -> None:
        self.alpha, self.kappa = alpha, alpha / 10
        self.parts = [
            _polyhedron(beta, sigma, n_pre, lv, mbar, s, positive, hybrid, seed, self.kappa)
            for s in range(-(n_pre - 1), 1)
            for positive in (True, False)
        ]

    def accept(self, thetas: np.ndarray) -> np.ndarray:
        out = np.zeros(thetas.size, dtype=bool)
        for part in self.parts:
            pending = ~out
            if pending.any():
                out[pending] |= part.accept(thetas[pending], self.alpha, self.kappa)
        return out


def _edge(problem: RMProblem, inside: float, outside: float, rounds: int = 4) -> float:
    """The outermost accepted theta between an accepted and a rejected value: each round tests 33 evenly spaced
    points and keeps the gap after the outermost accepted one (32^4, about 10^6 times narrower after four rounds)."""
    for _ in range(rounds):
        pts = np.linspace(inside, outside, 33)
        acc = problem.accept(pts)
        i = int(np.flatnonzero(acc).max())
        inside, outside = float(pts[i]), float(pts[i + 1])
    return inside


def rm_confidence_set(
    beta: np.ndarray,
    sigma: np.ndarray,
    n_pre: int,
    lv: np.ndarray,
    mbar: float,
    *,
    alpha: float,
    hybrid: bool,
    seed: object,
    grid_points: int,
    grid: tuple[float, float],
) -> tuple[float, float, bool]:
    """Lowest and highest accepted theta (each refined to about 1e-6 of the grid step between the outermost
    accepted and the next rejected grid point), and whether the set reaches an end of the grid."""
    problem = RMProblem(beta, sigma, n_pre, lv, mbar, alpha, hybrid, seed)
    thetas = np.linspace(grid[0], grid[1], grid_points)
    acc = problem.accept(thetas)
    if not acc.any():
        return math.nan, math.nan, False
    idx = np.flatnonzero(acc)
    first, last = int(idx[0]), int(idx[-1])
    lo = thetas[first] if first == 0 else _edge(problem, thetas[first], thetas[first - 1])
    hi = thetas[last] if last == thetas.size - 1 else _edge(problem, thetas[last], thetas[last + 1])
    return float(lo), float(hi), first == 0 or last == thetas.size - 1


def rm_accepts_zero(
    beta: np.ndarray, sigma: np.ndarray, n_pre: int, lv: np.ndarray, mbar: float, *, alpha: float, hybrid: bool, seed: object
) -> bool:
    return bool(RMProblem(beta, sigma, n_pre, lv, mbar, alpha, hybrid, seed).accept(np.array([0.0]))[0])
