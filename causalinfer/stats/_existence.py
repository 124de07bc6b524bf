"""Does the maximum likelihood estimate of a logistic or Poisson regression exist?

For a logistic regression the MLE is infinite exactly when the data are (quasi-)completely separated: some
direction ``b != 0`` has ``x_i'b >= 0`` for every success and ``x_i'b <= 0`` for every failure (Albert and
Anderson 1984). For a Poisson regression it is infinite exactly when some ``b`` has ``x_i'b = 0`` wherever
``y_i > 0`` and ``x_i'b <= 0`` wherever ``y_i = 0``, strictly for at least one row (Haberman 1974; Santos
Silva and Tenreyro 2010): a zero-count cell, for example. Both are linear programmes (Konis 2007, the method
of R's ``detectseparation``): maximise the total slack over ``b`` in the box ``[-1, 1]^k``; a positive optimum
proves non-existence, and the coefficients that move in the optimal direction are those whose estimates run off
to infinity. The fitted values at 0 or 1 that IRLS stops at are only a symptom; this is the proof.

The programme is solved only when it can find something. The fitted model's score is itself a certificate of
existence (Gordan's and Motzkin's theorems of the alternative): at the estimate ``sum_i u_i x_i = 0``, where the
per-row score ``u_i`` has the sign of ``y_i - mu_i``. If, after the smallest correction that makes that sum exactly
zero, ``u_i`` is still strictly positive on every success and negative on every failure (logistic), or negative on
every zero count (Poisson), no direction of non-existence can exist. A fit whose fitted values approach the boundary
fails the certificate and goes to the linear programme.
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


def certified_by_score(X: np.ndarray, y: np.ndarray, score: np.ndarray, family: str) -> bool:
    """Does the fitted score prove that the estimate exists? (See the module notes; rows of zero weight dropped.)

    ``score`` holds the per-row scores ``u_i`` with ``X'u`` zero at the estimate. The signed rows that must keep
    their sign are every row (logit) or the zero counts (Poisson); the correction ``X (X'X)^{-1} X'u`` must leave
    each of them at least half its size, and each must be a non-negligible share of the largest.
    """
    bound = np.abs(score) if family == "logit" else np.where(y > 0, np.inf, -score)
    if family == "logit" and not np.all(np.sign(score) == np.where(y > 0.5, 1.0, -1.0)):
        return False
    constrained = bound[np.isfinite(bound)]
    if constrained.size and float(np.min(constrained)) <= 1e-8 * float(np.max(np.abs(score))):
        return False
    scale = np.max(np.abs(X), axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    gram = (X.T @ X) / np.outer(scale, scale)
    if not np.all(np.isfinite(gram)) or np.linalg.cond(gram) > 1e10:
        return False
    correction = X @ (np.linalg.solve(gram, (X.T @ score) / scale) / scale)
    return bool(np.all(np.abs(correction) <= 0.5 * bound))


def check_existence(
    X: np.ndarray, y: np.ndarray, names: list[str], family: str, weights: np.ndarray | None = None, score: np.ndarray | None = None
) -> Existence:
    """Check that the MLE of a ``"logit"`` or ``"poisson"`` GLM is finite: by the fitted ``score`` when given and
    conclusive, else by linear programming."""
    keep = np.ones(y.size, dtype=bool) if weights is None else weights > 0
    all_rows = bool(np.all(keep))
    if score is not None and certified_by_score(
        X if all_rows else X[keep], y if all_rows else y[keep], score if all_rows else score[keep], family
    ):
        return Existence(True, (), "", 0.0)
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
