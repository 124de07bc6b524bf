"""Compiled kernels of the synthetic control: the active-set simplex least-squares solver (numba).

Imported on first use by :mod:`causalinfer.designs._synth_core`, so that importing the package does not load numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _face(A: np.ndarray, b: np.ndarray, P: np.ndarray, m: int) -> np.ndarray:
    """Minimiser of ``||A[:, P] z - b||^2`` subject to ``sum(z) = 1`` (KKT system; least squares when singular)."""
    k = A.shape[0]
    K = np.zeros((m + 1, m + 1))
    rhs = np.zeros(m + 1)
    for a in range(m):
        pa = P[a]
        for c in range(a, m):
            pc = P[c]
            s = 0.0
            for r in range(k):
                s += A[r, pa] * A[r, pc]
            K[a, c] = s
            K[c, a] = s
        s = 0.0
        for r in range(k):
            s += A[r, pa] * b[r]
        rhs[a] = s
        K[a, m] = 1.0
        K[m, a] = 1.0
    rhs[m] = 1.0
    ok = True
    sol: np.ndarray = np.zeros(m + 1)
    try:
        sol = np.linalg.solve(K, rhs)
    except Exception:  # numba raises a generic error for a singular matrix
        ok = False
    if ok:
        for a in range(m + 1):
            if not np.isfinite(sol[a]):
                ok = False
                break
    if not ok:
        sol = np.linalg.lstsq(K, rhs)[0]
    return sol[:m].copy()


@njit(cache=True)
def simplex_ls_kernel(A: np.ndarray, b: np.ndarray, w0: np.ndarray, warm: bool, tol: float) -> np.ndarray:
    """Exact ``argmin ||A w - b||^2`` over the simplex by an active-set method (see ``simplex_ls``)."""
    k, J = A.shape
    w = np.zeros(J)
    if J == 1:
        w[0] = 1.0
        return w
    if warm:
        total = 0.0
        for j in range(J):
            if w0[j] > 0:
                w[j] = w0[j]
                total += w0[j]
        for j in range(J):
            w[j] /= total
    else:
        best, jbest = np.inf, 0
        for j in range(J):
            s = 0.0
            for r in range(k):
                d = A[r, j] - b[r]
                s += d * d
            if s < best:
                best, jbest = s, j
        w[jbest] = 1.0
    amax = 0.0
    for r in range(k):
        for j in range(J):
            amax = max(amax, abs(A[r, j]))
    bmax = 0.0
    for r in range(k):
        bmax = max(bmax, abs(b[r]))
    scale = 1.0 + amax * (amax + bmax)
    P = np.zeros(J, dtype=np.int64)
    resid = np.zeros(k)
    for _outer in range(10 * J + 50):
        for _inner in range(J + 1):
            m = 0
            for j in range(J):
                if w[j] > 0:
                    P[m] = j
                    m += 1
            z = _face(A, b, P, m)
            allpos = True
            for a in range(m):
                if z[a] <= 0:
                    allpos = False
                    break
            if allpos:
                for a in range(m):
                    w[P[a]] = z[a]
                break
            alpha = np.inf
            for a in range(m):
                if z[a] <= 0:
                    wa = w[P[a]]
                    step = wa / (wa - z[a])
                    if step < alpha:
                        alpha = step
            dropped = False
            worst, aworst = np.inf, -1
            for a in range(m):
                j = P[a]
                new = w[j] + alpha * (z[a] - w[j])
                if z[a] <= 0 and new <= 1e-15:
                    new = 0.0
                if new < 0:
                    new = 0.0
                if z[a] <= 0 and new == 0.0:
                    dropped = True
                if z[a] <= 0 and z[a] < worst:
                    worst, aworst = z[a], a
                w[j] = new
            if not dropped and aworst >= 0:
                w[P[aworst]] = 0.0
            total = 0.0
            for j in range(J):
                total += w[j]
            for j in range(J):
                w[j] /= total
        # optimality: every donor outside the support has a gradient at least the support's level
        for r in range(k):
            s = -b[r]
            for j in range(J):
                if w[j] > 0:
                    s += A[r, j] * w[j]
            resid[r] = s
        level = 0.0
        gmin, jmin = np.inf, -1
        for j in range(J):
            g = 0.0
            for r in range(k):
                g += A[r, j] * resid[r]
            if w[j] > 0:
                level += g * w[j]
            elif g < gmin:
                gmin, jmin = g, j
        if jmin < 0 or gmin >= level - tol * scale:
            break
        w[jmin] = 1e-300  # joins the support with (numerically) zero weight
    for j in range(J):
        if w[j] <= 1e-300:
            w[j] = 0.0
    return w


@njit(cache=True)
def outer_loss(
    X1: np.ndarray, X0: np.ndarray, Z1: np.ndarray, Z0: np.ndarray, v: np.ndarray, w0: np.ndarray, warm: bool
) -> tuple[float, np.ndarray]:
    """Fit-period outcome MSPE of the synthetic control whose donor weights solve the inner problem for ``v``."""
    k, J = X0.shape
    A = np.empty((k, J))
    b = np.empty(k)
    for r in range(k):
        root = np.sqrt(v[r])
        b[r] = X1[r] * root
        for j in range(J):
            A[r, j] = X0[r, j] * root
    w = simplex_ls_kernel(A, b, w0, warm, 1e-11)
    T = Z1.shape[0]
    loss = 0.0
    for t in range(T):
        e = Z1[t]
        for j in range(J):
            if w[j] > 0:
                e -= Z0[t, j] * w[j]
        loss += e * e
    return loss / T, w


@njit(cache=True)
def fw_weights_kernel(A: np.ndarray, b: np.ndarray, start: np.ndarray, zeta: float, min_decrease: float, max_iter: int) -> np.ndarray:
    """Frank-Wolfe for ``min zeta^2 ||x||^2 + ||A x - b||^2 / n`` over the simplex, with exact line search, stopped when
    the objective falls by less than ``min_decrease^2`` (``synthdid::sc.weight.fw``; ``A``, ``b`` already centred)."""
    n, k = A.shape
    x = start.copy()
    eta = n * zeta * zeta
    Ax = A @ x
    prev2 = np.inf
    prev1 = np.inf
    t = 0
    while t < max_iter and (t < 2 or prev2 - prev1 > min_decrease * min_decrease):
        t += 1
        r = Ax - b
        half = A.T @ r + eta * x
        i = 0
        for j in range(1, k):
            if half[j] < half[i]:
                i = j
        moved = False
        for j in range(k):
            if (j == i and x[j] != 1.0) or (j != i and x[j] != 0.0):
                moved = True
                break
        if moved:
            d_err = A[:, i] - Ax
            hd = -(half @ x) + half[i]
            dx2 = x @ x - 2.0 * x[i] + 1.0
            step = -hd / (d_err @ d_err + eta * dx2)
            step = min(1.0, max(0.0, step))
            x = x * (1.0 - step)
            x[i] += step
            Ax = Ax + step * d_err
        err = Ax - b
        val = zeta * zeta * (x @ x) + (err @ err) / n
        prev2, prev1 = prev1, val
    return x


@njit(cache=True)
def _normalised(u: np.ndarray) -> np.ndarray:
    return u / u.sum()


@njit(cache=True)
def pattern_search(
    X1: np.ndarray, X0: np.ndarray, Z1: np.ndarray, Z0: np.ndarray, u0: np.ndarray, w0: np.ndarray, budget: int
) -> tuple[float, np.ndarray, np.ndarray, int]:
    """Compass search on the predictor weights in log scale: each weight multiplied or divided by ``exp(step)``
    in turn, moves kept when they lower the fit-period MSPE, the step halved when no move helps."""
    k = u0.size
    u = u0.copy()
    best, w = outer_loss(X1, X0, Z1, Z0, _normalised(u), w0, w0.sum() > 0)
    evals = 1
    step = 1.0
    while step > 1e-3 and evals < budget:
        improved = False
        for i in range(k):
            for sign in (1.0, -1.0):
                trial = u.copy()
                trial[i] = trial[i] * np.exp(sign * step)
                if trial[i] < 1e-12:
                    continue
                loss, wt = outer_loss(X1, X0, Z1, Z0, _normalised(trial), w, True)
                evals += 1
                if loss < best - 1e-14 * abs(best):
                    best, u, w = loss, trial, wt
                    improved = True
                    break
        if not improved:
            step *= 0.5
        m = u.max()
        u = u / m
    return best, _normalised(u), w, evals
