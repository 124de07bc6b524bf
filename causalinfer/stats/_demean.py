"""Absorbing categorical fixed effects: factor codes, singleton removal and weighted alternating projections.

The array layer of the fixed-effects regressions: plain numpy arrays in, plain arrays out. ``demean`` replaces
each column by its residual from a (weighted) regression on the indicators of every factor, computed by
alternating projections (subtract the group means of one factor after another) with Irons-Tuck extrapolation,
as ``fixest`` and ``pyfixest`` do, until the largest change of a sweep is below ``tol``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Default convergence tolerance of the demeaning (largest absolute change of one sweep, relative to the column's scale).
FE_TOL = 1e-10
#: Default cap on the number of sweeps.
FE_MAXITER = 100_000

_KERNELS: dict[str, Any] = {}


def _kernels() -> dict[str, Any]:
    """The numba kernels, compiled on first use (importing this module stays cheap)."""
    if _KERNELS:
        return _KERNELS
    import numba

    @numba.njit(cache=True)
    def sweep(x: np.ndarray, codes: np.ndarray, w: np.ndarray, inv_wsum: np.ndarray, offsets: np.ndarray, buf: np.ndarray) -> None:
        n, m = codes.shape
        for f in range(m):
            lo = offsets[f]
            hi = offsets[f + 1]
            for g in range(lo, hi):
                buf[g] = 0.0
            for i in range(n):
                buf[lo + codes[i, f]] += w[i] * x[i]
            for g in range(lo, hi):
                buf[g] *= inv_wsum[g]
            for i in range(n):
                x[i] -= buf[lo + codes[i, f]]

    @numba.njit(cache=True)
    def demean_column(
        x0: np.ndarray, codes: np.ndarray, w: np.ndarray, inv_wsum: np.ndarray, offsets: np.ndarray, tol: float, maxiter: int
    ) -> tuple[np.ndarray, int, bool]:
        n = x0.shape[0]
        buf = np.empty(offsets[-1])
        x = x0.copy()
        scale = 0.0
        for i in range(n):
            a = abs(x0[i])
            if a > scale:
                scale = a
        thresh = tol * max(scale, 1e-300)
        sweep(x, codes, w, inv_wsum, offsets, buf)
        if codes.shape[1] == 1:
            return x, 1, True
        x1 = x.copy()
        x2 = x.copy()
        for it in range(1, maxiter + 1):
            # x -> x1 = F(x) -> x2 = F(x1); then extrapolate (Irons and Tuck 1969) along the last step
            for i in range(n):
                x1[i] = x[i]
            sweep(x1, codes, w, inv_wsum, offsets, buf)
            for i in range(n):
                x2[i] = x1[i]
            sweep(x2, codes, w, inv_wsum, offsets, buf)
            change = 0.0
            num = 0.0
            den = 0.0
            for i in range(n):
                d1 = x2[i] - x1[i]
                d2 = d1 - (x1[i] - x[i])
                a = abs(d1)
                if a > change:
                    change = a
                num += d1 * d2
                den += d2 * d2
            if change <= thresh:
                return x2, it, True
            if den > 0.0:
                c = num / den
                for i in range(n):
                    x[i] = x2[i] - c * (x2[i] - x1[i])
            else:
                for i in range(n):
                    x[i] = x2[i]
        return x2, maxiter, False

    _KERNELS["sweep"] = sweep
    _KERNELS["column"] = demean_column
    return _KERNELS


def factor_codes(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..L_f-1 of each factor (an (n, m) int64 array) and the numbers of levels L_f."""
    import pandas as pd

    n = len(columns[0])
    codes = np.empty((n, len(columns)), dtype=np.int64)
    levels = np.empty(len(columns), dtype=np.int64)
    for f, col in enumerate(columns):
        c, u = pd.factorize(col, sort=False)
        codes[:, f] = c
        levels[f] = len(u)
    return codes, levels


def singleton_mask(codes: np.ndarray) -> np.ndarray:
    """Rows to keep after removing, repeatedly, rows whose level of some factor occurs only once (as fixest)."""
    n, m = codes.shape
    keep = np.ones(n, dtype=bool)
    if m == 0:
        return keep
    while True:
        dropped = False
        for f in range(m):
            c = codes[keep, f]
            counts = np.bincount(c)
            single = counts[c] == 1
            if single.any():
                idx = np.flatnonzero(keep)
                keep[idx[single]] = False
                dropped = True
        if not dropped or m == 1:
            return keep


def recode(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense codes again after rows were dropped."""
    out = np.empty_like(codes)
    levels = np.empty(codes.shape[1], dtype=np.int64)
    for f in range(codes.shape[1]):
        u, inv = np.unique(codes[:, f], return_inverse=True)
        out[:, f] = inv
        levels[f] = len(u)
    return out, levels


def demean(
    X: np.ndarray,
    codes: np.ndarray,
    levels: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    tol: float = FE_TOL,
    maxiter: int = FE_MAXITER,
) -> tuple[np.ndarray, int, bool]:
    """Residuals of each column of ``X`` (n, p) on the indicators of the factors in ``codes`` (n, m).

    Returns the demeaned array, the largest number of sweeps used and whether every column converged.
    """
    n, p = X.shape
    w = np.ones(n) if weights is None else np.ascontiguousarray(weights, dtype=float)
    offsets = np.zeros(len(levels) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(levels)
    wsum = np.zeros(int(offsets[-1]))
    for f in range(codes.shape[1]):
        wsum[offsets[f] : offsets[f + 1]] = np.bincount(codes[:, f], weights=w, minlength=int(levels[f]))
    inv_wsum = 1.0 / wsum
    kern = _kernels()["column"]
    cc = np.ascontiguousarray(codes)
    out = np.empty((n, p), order="F")
    iters, ok = 0, True
    for j in range(p):
        col, it, conv = kern(np.ascontiguousarray(X[:, j], dtype=float), cc, w, inv_wsum, offsets, float(tol), int(maxiter))
        out[:, j] = col
        iters, ok = max(iters, int(it)), ok and bool(conv)
    return out, iters, ok
