"""Synthetic control on plain arrays: the simplex least-squares solver and the search over predictor weights.

Conventions: ``X1`` (k,) and ``X0`` (k, J) are the predictors of the treated unit and of the J donors, already
standardised; ``Z1`` (t,) and ``Z0`` (t, J) their outcomes in the periods whose fit is minimised. Donor weights
``w`` lie on the simplex (non-negative, summing to one); predictor weights ``v`` are non-negative, sum to one.

The inner problem, ``min_w (X1 - X0 w)' diag(v) (X1 - X0 w)`` over the simplex, is solved exactly by an active-set
method in the manner of Lawson and Hanson's NNLS (the support grows by the donor with the most negative reduced
gradient; a step back drops donors whose weight would turn negative), warm-started from the previous support.
The outer problem, the pre-period mean squared prediction error of the outcome as a function of ``v``, is
minimised over a softmax parametrisation with L-BFGS using the exact gradient of the inner solution on its active
set (implicit differentiation of the KKT system), from several starts, polished by Nelder-Mead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def simplex_ls(A: np.ndarray, b: np.ndarray, w0: np.ndarray | None = None, *, tol: float = 1e-11) -> np.ndarray:
    """Exact minimiser of ``||A w - b||^2`` subject to ``w >= 0`` and ``sum(w) = 1`` (``A`` is k x J).

    An active-set method in the manner of Lawson and Hanson's NNLS: the support grows by the donor with the
    most negative reduced gradient and a step back drops donors whose weight would turn negative, until the KKT
    conditions hold (every donor outside the support has a gradient at least the support's common level).
    ``w0`` (a point of the simplex) warm-starts the support. Only (support x support) systems are solved.
    """
    from ._synth_kernels import simplex_ls_kernel

    A = np.ascontiguousarray(A, dtype=float)
    b = np.ascontiguousarray(b, dtype=float)
    warm = w0 is not None and bool(np.any(w0 > 0))
    start = np.ascontiguousarray(w0, dtype=float) if warm and w0 is not None else np.zeros(A.shape[1])
    return simplex_ls_kernel(A, b, start, warm, tol)  # type: ignore[no-any-return]


def simplex_qp(G: np.ndarray, c: np.ndarray, w0: np.ndarray | None = None) -> np.ndarray:
    """Exact minimiser of ``w'Gw - 2c'w`` over the simplex for positive semi-definite ``G`` (through a square root
    of ``G``: the same problem as :func:`simplex_ls`)."""
    vals, vecs = np.linalg.eigh(G)
    keep = vals > vals.max() * 1e-14 if vals.size else vals > 0
    root = np.sqrt(vals[keep])
    A = (vecs[:, keep] * root).T
    b = (vecs[:, keep].T @ c) / root
    return simplex_ls(A, b, w0)


@dataclass(frozen=True)
class SynthFit:
    """Donor weights ``w``, predictor weights ``v`` (summing to one) and the pre-period outcome MSPE ``loss``."""

    w: np.ndarray
    v: np.ndarray
    loss: float


def standardise(X1: np.ndarray, X0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each predictor divided by its standard deviation across the treated unit and the donors (as ``Synth``)."""
    both = np.column_stack([X1, X0])
    sd = both.std(axis=1, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    return X1 / sd, X0 / sd[:, None]


def regression_v(X1: np.ndarray, X0: np.ndarray, Z1: np.ndarray, Z0: np.ndarray) -> np.ndarray:
    """``Synth``'s regression-based predictor weights: squared coefficients of the pre-period outcomes on the
    (standardised) predictors across units, summed over periods, normalised to sum to one."""
    X = np.column_stack([X1, X0]).T
    Z = np.column_stack([Z1, Z0]).T  # (units, periods)
    design = np.column_stack([np.ones(X.shape[0]), X])
    beta = np.linalg.lstsq(design, Z, rcond=None)[0][1:]
    v = np.sum(beta**2, axis=1)
    if not np.all(np.isfinite(v)) or v.sum() <= 0:
        return np.full(X.shape[1], 1.0 / X.shape[1])
    return v / v.sum()


class _Objective:
    """The outer loss as a function of unnormalised predictor weights ``u`` in [0, 1]^k (``v = u / sum(u)``), with
    its gradient; remembers the last donor weights as a warm start and the best point seen."""

    def __init__(self, X1: np.ndarray, X0: np.ndarray, Z1: np.ndarray, Z0: np.ndarray) -> None:
        self.X1, self.X0 = np.ascontiguousarray(X1, dtype=float), np.ascontiguousarray(X0, dtype=float)
        self.Z1, self.Z0 = np.ascontiguousarray(Z1, dtype=float), np.ascontiguousarray(Z0, dtype=float)
        self._zeros = np.zeros(X0.shape[1])
        self.T = Z1.size
        self.w: np.ndarray | None = None
        self.best: SynthFit | None = None
        self.evaluations = 0

    def weights(self, v: np.ndarray) -> np.ndarray:
        return self._eval(v)[1]

    def _eval(self, v: np.ndarray) -> tuple[float, np.ndarray]:
        from ._synth_kernels import outer_loss

        warm = self.w is not None
        start = self.w if self.w is not None else self._zeros
        loss, self.w = outer_loss(self.X1, self.X0, self.Z1, self.Z0, np.ascontiguousarray(v, dtype=float), start, warm)
        self.evaluations += 1
        return float(loss), self.w

    def loss(self, w: np.ndarray) -> float:
        e = self.Z1 - self.Z0 @ w
        return float(e @ e) / self.T

    def _at(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        total = float(u.sum())
        v = u / total if total > 0 else np.full(u.size, 1.0 / u.size)
        loss, w = self._eval(v)
        if self.best is None or loss < self.best.loss:
            self.best = SynthFit(w.copy(), v.copy(), loss)
        return v, w, loss

    def value(self, u: np.ndarray) -> float:
        return self._at(np.abs(u))[2]

    def value_and_grad(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        v, w, loss = self._at(u)
        P = np.flatnonzero(w > 0)
        A = self.X0[:, P]
        r = A @ w[P] - self.X1
        g = -2.0 / self.T * (self.Z0[:, P].T @ (self.Z1 - self.Z0[:, P] @ w[P]))
        m = P.size
        K = np.zeros((m + 1, m + 1))
        K[:m, :m] = (A.T * v) @ A
        K[:m, m] = K[m, :m] = 1.0
        rhs = np.append(g, 0.0)
        try:
            lam = np.linalg.solve(K, rhs)[:m]
        except np.linalg.LinAlgError:
            lam = np.linalg.lstsq(K, rhs, rcond=None)[0][:m]
        dv = -r * (A @ lam)
        total = float(u.sum())
        du = (dv - v @ dv) / total if total > 0 else np.zeros_like(u)
        if not np.all(np.isfinite(du)):
            du = np.zeros_like(u)
        return loss, du


def nested_fit(
    X1: np.ndarray,
    X0: np.ndarray,
    Z1: np.ndarray,
    Z0: np.ndarray,
    *,
    starts: tuple[np.ndarray, ...] = (),
    n_random: int = 200,
    n_local: int = 6,
    budget: int = 400,
) -> SynthFit:
    """Predictor weights minimising the fit-period outcome MSPE of the synthetic control (``X`` standardised).

    The loss is not convex in V and has many local minima (each support of W is a basin), so the search is
    global-then-local: the loss at equal weights, the regression-based weights, each predictor nearly alone,
    ``starts`` and ``n_random`` seeded Dirichlet draws; a compass search in log scale (compiled, at most
    ``budget`` evaluations) from the ``n_local`` best distinct starts; bounded L-BFGS with the exact gradient
    from the best point. The same inputs always give the same answer.
    """
    from scipy.optimize import minimize

    from ._synth_kernels import outer_loss, pattern_search

    k = X1.size
    obj = _Objective(X1, X0, Z1, Z0)
    if k == 1:
        v = np.ones(1)
        w = obj.weights(v)
        return SynthFit(w, v, obj.loss(w))
    rng = np.random.default_rng(20100401)
    cands = [np.full(k, 1.0 / k), regression_v(X1, X0, Z1, Z0), *starts]
    cands += [np.where(np.arange(k) == i, 1.0, 0.05) for i in range(k)]
    cands += list(rng.dirichlet(np.full(k, 0.5), n_random))
    zeros = np.zeros(X0.shape[1])
    values = [float(outer_loss(obj.X1, obj.X0, obj.Z1, obj.Z0, np.ascontiguousarray(c / c.sum()), zeros, False)[0]) for c in cands]
    seen: list[float] = []
    for i in np.argsort(values, kind="stable"):
        if len(seen) >= n_local:
            break
        if any(abs(values[i] - s) <= 1e-12 * (1.0 + abs(s)) for s in seen):
            continue  # the same basin already searched
        seen.append(values[i])
        u0 = np.ascontiguousarray(np.maximum(cands[i] / cands[i].max(), 1e-6))
        loss, v, w, _ = pattern_search(obj.X1, obj.X0, obj.Z1, obj.Z0, u0, zeros, budget)
        if obj.best is None or loss < obj.best.loss:
            obj.best = SynthFit(w.copy(), v.copy(), float(loss))
    assert obj.best is not None
    obj.w = obj.best.w
    bounds = [(0.0, 1.0)] * k
    minimize(obj.value_and_grad, obj.best.v / obj.best.v.max(), jac=True, method="L-BFGS-B", bounds=bounds, options={"maxiter": 30})
    best = obj.best
    assert best is not None
    return _break_ties(X1, X0, Z1, Z0, best)


def _break_ties(X1: np.ndarray, X0: np.ndarray, Z1: np.ndarray, Z0: np.ndarray, fit: SynthFit) -> SynthFit:
    """When W reproduces the predictors exactly (the treated unit inside the donors' hull), every V gives the same
    predictor fit and W is not unique; pick, among the exact fits, one with the smallest outcome MSPE.

    Solved as a heavily penalised simplex least-squares problem (outcome rows plus predictor rows weighted so that
    any predictor misfit costs far more than the outcome); kept only if it is still an exact fit and better.
    """
    r = X0 @ fit.w - X1
    scale = float(np.sum(X1**2)) + 1.0
    if float(np.sum(fit.v * r**2)) > 1e-20 * scale:
        return fit
    T = Z1.size
    zscale = float(np.sum(Z1**2)) / T + 1.0
    penalty = 1e8 * zscale / scale
    A = np.vstack([Z0 / np.sqrt(T), np.sqrt(penalty) * X0])
    b = np.concatenate([Z1 / np.sqrt(T), np.sqrt(penalty) * X1])
    w = simplex_ls(A, b, fit.w)
    r2 = X0 @ w - X1
    loss = float(np.mean((Z1 - Z0 @ w) ** 2))
    if float(np.sum(r2**2)) <= 1e-12 * scale and loss < fit.loss:
        return SynthFit(w, fit.v, loss)
    return fit


def fixed_v_fit(X1: np.ndarray, X0: np.ndarray, Z1: np.ndarray, Z0: np.ndarray, v: np.ndarray) -> SynthFit:
    """Donor weights for given predictor weights ``v``."""
    obj = _Objective(X1, X0, Z1, Z0)
    w = obj.weights(v)
    return SynthFit(w, v, obj.loss(w))


def rmspe(gap: np.ndarray) -> float:
    return math.sqrt(float(np.mean(gap**2))) if gap.size else math.nan
