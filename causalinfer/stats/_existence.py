"""Does the maximum likelihood estimate of a logistic or Poisson regression exist?

For a logistic regression the MLE is infinite exactly when the data are (quasi-)completely separated: some
direction ``b != 0`` has ``x_i'b >= 0`` for every success and ``x_i'b <= 0`` for every failure (Albert and
Anderson 1984). For a Poisson regression it is infinite exactly when some ``b`` has ``x_i'b = 0`` wherever
``y_i > 0`` and ``x_i'b <= 0`` wherever ``y_i = 0``, strictly for at least one row (Haberman 1974; Santos
Silva and Tenreyro 2010): a zero-count cell, for example. Both are linear programmes (Konis 2007, the method
of R's ``detectseparation``): maximise the total slack over ``b`` in the box ``[-1, 1]^k``; a positive optimum
proves non-existence, and the coefficients that move in the optimal direction are those whose estimates run off
to infinity. The fitted values at 0 or 1 that IRLS stops at are only a symptom; this is the proof.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_TOL = 1e-7


@dataclass(frozen=True)
class Existence:
    """Outcome of the check: ``exists`` and, when it does not, the terms whose estimates are infinite."""

    exists: bool
    infinite_terms: tuple[str, ...]
    kind: str  # "separation", "zero counts" or "" when the estimate exists; "unchecked" when the LP failed
    slack: float


def _solve(c: np.ndarray, a_ub: np.ndarray | None, a_eq: np.ndarray | None, k: int) -> tuple[float, np.ndarray] | None:
    from scipy.optimize import linprog

    res = linprog(
        c,
        A_ub=a_ub if a_ub is not None and a_ub.size else None,
        b_ub=np.zeros(a_ub.shape[0]) if a_ub is not None and a_ub.size else None,
        A_eq=a_eq if a_eq is not None and a_eq.size else None,
        b_eq=np.zeros(a_eq.shape[0]) if a_eq is not None and a_eq.size else None,
        bounds=[(-1.0, 1.0)] * k,
        method="highs",
    )
    if res.status != 0:
        return None
    return float(-res.fun), np.asarray(res.x)


def _full_column_rank(A: np.ndarray) -> bool:
    """Rank of ``A`` equal to its number of columns (via the small triangular factor of its QR decomposition)."""
    if A.shape[0] < A.shape[1]:
        return False
    r = np.linalg.qr(A, mode="r")
    return bool(np.linalg.matrix_rank(r, tol=np.abs(r).max() * max(A.shape) * np.finfo(float).eps * 10) == A.shape[1])


def _scaled(X: np.ndarray) -> np.ndarray:
    scale = np.max(np.abs(X), axis=0)
    return X / np.where(scale > 0, scale, 1.0)


def check_existence(X: np.ndarray, y: np.ndarray, names: list[str], family: str, weights: np.ndarray | None = None) -> Existence:
    """Linear-programming check that the MLE of a ``"logit"`` or ``"poisson"`` GLM is finite."""
    keep = np.ones(y.size, dtype=bool) if weights is None else weights > 0
    Xs = _scaled(X[keep])
    yy = y[keep]
    k = Xs.shape[1]
    if family == "logit":
        s = np.where(yy > 0.5, 1.0, -1.0)
        A = s[:, None] * Xs  # want A b >= 0, maximise sum(A b)
        out = _solve(-A.sum(axis=0), -A, None, k)
        kind = "separation"
    else:
        pos = yy > 0
        A_eq = Xs[pos]
        A_zero = Xs[~pos]
        if A_zero.shape[0] == 0 or _full_column_rank(A_eq):
            # no b != 0 has x'b = 0 on every positive count: the estimate exists, no programme to solve
            return Existence(True, (), "", 0.0)
        out = _solve(A_zero.sum(axis=0), A_zero, A_eq, k)  # x'b <= 0 on zeros, maximise -sum(x'b)
        kind = "zero counts"
    if out is None:
        return Existence(True, (), "unchecked", float("nan"))
    slack, b = out
    if slack <= _TOL * max(1.0, float(Xs.shape[0])) ** 0.5:
        return Existence(True, (), "", slack)
    return Existence(False, _infinite_terms(names, b, family, Xs, yy), kind, slack)


def _infinite_terms(names: list[str], b: np.ndarray, family: str, Xs: np.ndarray, yy: np.ndarray) -> tuple[str, ...]:
    """Coefficients that move along some direction of non-existence: max and min of each b_j over the cone."""
    k = Xs.shape[1]
    if k > 30:  # one LP per direction would be slow; report the optimal direction's support
        return tuple(nm for nm, bj in zip(names, b, strict=True) if abs(bj) > 1e-6)
    if family == "logit":
        s = np.where(yy > 0.5, 1.0, -1.0)
        a_ub, a_eq = -(s[:, None] * Xs), None
    else:
        pos = yy > 0
        a_ub, a_eq = Xs[~pos], Xs[pos]
    out = []
    for j, nm in enumerate(names):
        for sign in (1.0, -1.0):
            c = np.zeros(k)
            c[j] = -sign
            res = _solve(c, a_ub, a_eq, k)
            if res is not None and res[0] > 1e-6:
                out.append(nm)
                break
    return tuple(out)
