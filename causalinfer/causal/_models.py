"""Nuisance models: a lean logistic regression (Newton in numpy), least squares, and scikit-learn wrappers.

The built-in models are what the influence functions know how to differentiate; any scikit-learn estimator
may replace them (it is cloned and refitted, never mutated), at the price of treating its fitted values as
known when standard errors are computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np

from .._validation import show
from ..exceptions import ArgumentTypeError, ConvergenceError, DataError

_MAX_ETA = 30.0  # |linear predictor| beyond which a fitted probability is 0 or 1 to ~1e-13


@dataclass(frozen=True)
class Standardizer:
    """Centre and scale of the covariate columns, fixed once so that refits can start from old coefficients."""

    center: np.ndarray
    scale: np.ndarray

    @classmethod
    def of(cls, Z: np.ndarray, sd: np.ndarray | None = None) -> Standardizer:
        """Column means and standard deviations of ``Z`` (``sd``: ``Z.std(axis=0)`` when already computed)."""
        if Z.shape[1] == 0:
            return cls(np.zeros(0), np.ones(0))
        sd = Z.std(axis=0) if sd is None else sd
        return cls(Z.mean(axis=0), np.where(sd > 0, sd, 1.0))

    def design(self, Z: np.ndarray) -> np.ndarray:
        """``[1, (Z - center) / scale]``."""
        X = np.empty((Z.shape[0], Z.shape[1] + 1))
        X[:, 0] = 1.0
        np.subtract(Z, self.center, out=X[:, 1:])
        X[:, 1:] /= self.scale
        return X

    def extend(self, z: np.ndarray) -> Standardizer:
        """The standardizer with one more column ``z`` appended."""
        sd = float(z.std())
        return Standardizer(np.append(self.center, z.mean()), np.append(self.scale, sd if sd > 0 else 1.0))


@dataclass(frozen=True)
class LogitFit:
    """A maximum-likelihood logistic fit on a standardised design ``X`` (first column the intercept)."""

    beta: np.ndarray
    e: np.ndarray
    X: np.ndarray
    n_iter: int
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    def hessian(self) -> np.ndarray:
        """``X' diag(e(1-e)) X`` at the fitted probabilities (computed once)."""
        if "H" not in self._cache:
            self._cache["H"] = weighted_cross_product(self.X, self.e * (1.0 - self.e))
        return self._cache["H"]

    def info_inverse(self) -> np.ndarray:
        """``(X' diag(e(1-e)) X / n)^{-1}``: the inverse of the average information."""
        if "Hinv" not in self._cache:
            self._cache["Hinv"] = np.linalg.inv(self.hessian() / self.X.shape[0])
        return self._cache["Hinv"]

    def influence(self, a: np.ndarray) -> np.ndarray:
        """Influence functions of the coefficients, one row per unit: ``H^{-1} x_i (a_i - e_i)``."""
        return (self.X * (a - self.e)[:, None]) @ self.info_inverse().T

    def influence_times(self, a: np.ndarray, G: np.ndarray) -> np.ndarray:
        """``influence(a) @ G`` for a vector (p) or matrix (p x k) ``G`` without forming the n x p influence matrix."""
        r = a - self.e
        return (r if G.ndim == 1 else r[:, None]) * times(self.X, self.info_inverse().T @ G)


_BLOCK_ROWS = 8192  # rows per block of a pass: a block of X (and what is computed from it) stays in the processor's cache


_BLAS: Any = None


def one_blas_thread() -> Any:
    """A context in which BLAS runs on one thread, for loops of products over row blocks.

    The products of a loop over blocks are small (a few thousand rows by a few columns): threads gain nothing
    there and, on a busy machine, wait on each other at every call (a 22-column cross-product of 8,192 rows
    took 0.1 s with two threads under load against 1 ms with one). The thread count is restored on exit.
    """
    global _BLAS
    from threadpoolctl import ThreadpoolController

    if _BLAS is None:
        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


def row_blocks(n: int) -> list[slice]:
    """Consecutive row slices of at most ``_BLOCK_ROWS`` rows covering ``range(n)``.

    Products of a tall design with a few columns (``X @ V``, ``X' R``) taken block by block run several times
    faster than one BLAS call on the whole array (which threads poorly on such shapes) and keep every
    intermediate in cache; the sums differ from the one-call result only by rounding.
    """
    rows = max(1, _BLOCK_ROWS)
    return [slice(i, min(i + rows, n)) for i in range(0, n, rows)]


def times(X: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``X @ V`` (``V`` a vector or a narrow matrix), block by block over the rows of ``X``."""
    out = np.empty((X.shape[0], *V.shape[1:]))
    with one_blas_thread():
        for sl in row_blocks(X.shape[0]):
            np.matmul(X[sl], V, out=out[sl])
    return out


def t_times(X: np.ndarray, R: np.ndarray) -> np.ndarray:
    """``X' R`` (``R`` a vector or a narrow matrix with as many rows as ``X``), block by block over the rows."""
    out = np.zeros((X.shape[1], *R.shape[1:]))
    with one_blas_thread():
        for sl in row_blocks(X.shape[0]):
            out += X[sl].T @ R[sl]
    return out


def weighted_cross_product(X: np.ndarray, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``X' diag(w) X`` for non-negative ``w`` by one BLAS call on ``sqrt(w) X``.

    numpy hands ``A.T @ A`` to BLAS as one symmetric rank-k update. ``out``, an array shaped like ``X``, is reused
    for ``sqrt(w) X`` so that iterations allocate nothing.
    """
    Xw = np.multiply(X, np.sqrt(w)[:, None], out=out)
    return Xw.T @ Xw


def expit(eta: np.ndarray) -> np.ndarray:
    from scipy.special import expit as _expit

    return np.asarray(_expit(eta))


def fit_logit(
    X: np.ndarray,
    a: np.ndarray,
    beta0: np.ndarray | None = None,
    *,
    tol: float = 1e-8,
    max_iter: int = 60,
    names: tuple[str, ...] = (),
    reuse_hessian: bool = False,
    H0: np.ndarray | None = None,
    e0: np.ndarray | None = None,
) -> LogitFit:
    """Newton-Raphson for an unpenalised logistic regression (what R's ``glm(family=binomial)`` computes).

    Starts from ``beta0`` when given (a warm start), else from the log-odds of the mean. Newton converges
    quadratically, so stopping once a step is below ``tol`` leaves an error of order ``tol**2``. Each step
    costs one pass for the fitted probabilities and the gradient, one BLAS call for ``X' W X`` and one pass
    for the log-likelihood at the new point; a step is halved only when that log-likelihood falls.
    ``reuse_hessian=True`` (used for refits that start near the answer) keeps the Hessian of the first step
    while the steps keep shrinking fast (a chord iteration: each step then costs two matrix-vector products
    instead of a Hessian) and converges to the same maximum; ``H0``, a Hessian ``X' W X`` from a nearby fit,
    then saves even the first one, and ``e0``, the fitted probabilities at ``beta0``, the first pass over ``X``.
    Raises a :class:`DataError` on perfect or
    quasi-complete separation, which would put propensities at 0 or 1.
    """
    p = X.shape[1]
    if beta0 is None:
        beta = np.zeros(p)
        m = float(a.mean())
        beta[0] = np.log(m / (1.0 - m))
    else:
        beta = np.asarray(beta0, dtype=float).copy()
    if reuse_hessian:
        return _chord(X, a, beta, tol=tol, max_iter=max_iter, names=names, H0=H0, e0=e0 if beta0 is not None else None)
    return _damped_newton(X, a, beta, tol=tol, max_iter=max_iter, names=names)


def _probabilities(eta: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Fitted probabilities from the linear predictor, clipped to ``|eta| <= _MAX_ETA`` so exp cannot overflow."""
    # An early Newton step can overshoot (unscaled covariates, a start far from the optimum). Separation is judged
    # on the converged fit (or on non-convergence).
    e = _one_plus_exp_minus(eta, out)
    np.reciprocal(e, out=e)
    return e


def _one_plus_exp_minus(eta: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``1 + exp(-eta)`` with ``eta`` clipped to ``|eta| <= _MAX_ETA``."""
    d = np.clip(eta, -_MAX_ETA, _MAX_ETA, out=out)
    np.negative(d, out=d)
    np.exp(d, out=d)
    d += 1.0
    return d


def _damped_newton(X: np.ndarray, a: np.ndarray, beta: np.ndarray, *, tol: float, max_iter: int, names: tuple[str, ...]) -> LogitFit:
    """Newton steps, each halved (up to 40 times) only while the log-likelihood at the new point is lower.

    Every point is visited by one pass over ``X`` (:func:`_logit_pass`) that returns the log-likelihood there
    and, for the next step, the gradient and ``X' W X``: a step that is accepted at once costs one pass, and
    the Hessian of the final point, which the standard errors need, comes with the pass that reached it.
    """
    with one_blas_thread():
        return _newton_loop(X, a, beta, tol=tol, max_iter=max_iter, names=names)


def _newton_loop(X: np.ndarray, a: np.ndarray, beta: np.ndarray, *, tol: float, max_iter: int, names: tuple[str, ...]) -> LogitFit:
    b = 1.0 - a
    e, spare = np.empty(X.shape[0]), np.empty(X.shape[0])
    here = _logit_pass(X, a, b, beta, e)
    for it in range(1, max_iter + 1):
        step = _newton_solve(here.H, here.grad, names)
        t = 1.0
        for _ in range(40):
            new = _logit_pass(X, a, b, beta + t * step, spare)
            if new.ll >= here.ll - 1e-12 * abs(here.ll):
                break
            t *= 0.5
        else:  # no halving helped: take the smallest step tried, as a line search that gives up would
            new = _logit_pass(X, a, b, beta + t * step, spare)
        step = t * step
        beta = beta + step
        here, e, spare = new, spare, e
        if float(np.max(np.abs(step))) < tol:
            if here.max_eta > _MAX_ETA:
                _separation(names)
            return LogitFit(beta=beta, e=e, X=X, n_iter=it, _cache={"H": here.H})
    _not_converged(X, beta, max_iter, names)


@dataclass(frozen=True)
class _PassSums:
    ll: float  # log-likelihood
    grad: np.ndarray  # X' (a - e)
    H: np.ndarray  # X' diag(e (1 - e)) X
    max_eta: float  # largest |linear predictor|


def _logit_pass(X: np.ndarray, a: np.ndarray, b: np.ndarray, beta: np.ndarray, e: np.ndarray) -> _PassSums:
    """Log-likelihood, gradient and ``X' W X`` at ``beta`` in one pass over ``X``; the fitted probabilities go to ``e``.

    The rows are taken in blocks, and everything a block needs (linear predictor, probabilities, weights, its
    weighted copy for ``X' W X``) is computed while the block is in cache, instead of one pass over the whole of
    ``X`` per quantity. Probabilities come from the linear predictor clipped to ``|eta| <= _MAX_ETA``; the
    log-likelihood is ``-b' eta - sum log(1 + exp(-eta))`` (exact beyond the clipping bound, see
    :func:`_loglik_eta`).
    """
    n, p = X.shape
    rows = max(1, min(n, _BLOCK_ROWS))
    d = np.empty(rows)
    Xw = np.empty((rows, p), order="F" if np.isfortran(X) else "C")  # the layout of X: elementwise loops run along rows
    H = np.zeros((p, p))
    grad = np.zeros(p)
    ll = 0.0
    max_eta = 0.0
    for sl in row_blocks(n):
        i, j = sl.start, sl.stop
        m = j - i
        Xb, ab = X[i:j], a[i:j]
        eta = Xb @ beta
        top = float(np.max(np.abs(eta)))
        max_eta = max(max_eta, top)
        ll += _loglik_eta(ab, b[i:j], eta, d[:m], top)
        eb = np.reciprocal(d[:m], out=e[i:j])
        grad += Xb.T @ (ab - eb)
        w = np.multiply(eb, 1.0 - eb, out=d[:m])
        np.sqrt(w, out=w)
        Wb = np.multiply(Xb, w[:, None], out=Xw[:m])
        H += Wb.T @ Wb
    return _PassSums(ll=ll, grad=grad, H=H, max_eta=max_eta)


def _newton_solve(H: np.ndarray, grad: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """The Newton step ``H^{-1} grad``; a Hessian that is not positive definite means separation."""
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    try:
        factor = cho_factor(H)
    except LinAlgError:
        _separation(names)
    step = cho_solve(factor, grad)
    if not np.all(np.isfinite(step)):
        _separation(names)
    return np.asarray(step)


def _chord(
    X: np.ndarray,
    a: np.ndarray,
    beta: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    names: tuple[str, ...],
    H0: np.ndarray | None,
    e0: np.ndarray | None,
) -> LogitFit:
    """Refits near the answer: Newton steps that keep one Hessian while the steps shrink fast."""
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    p = X.shape[1]
    factor = None
    if H0 is not None and H0.shape == (p, p):
        try:
            factor = cho_factor(H0)
        except LinAlgError:
            factor = None
    buf: np.ndarray | None = None
    last = np.inf
    for it in range(1, max_iter + 1):
        e = e0 if it == 1 and e0 is not None else _probabilities(X @ beta)
        grad = X.T @ (a - e)
        if factor is None:
            if buf is None:
                buf = np.empty_like(X)
            try:
                factor = cho_factor(weighted_cross_product(X, e * (1.0 - e), out=buf))
            except LinAlgError:
                _separation(names)
        step = cho_solve(factor, grad)
        size = float(np.max(np.abs(step)))
        if not np.isfinite(size):
            _separation(names)
        if size > 0.25 * last:
            factor = None  # the chord steps slowed down: refresh the Hessian next time
        last = size
        beta = beta + step
        if size < tol:
            # the propensities of the previous iterate differ from the final ones by O(tol); reuse them
            return LogitFit(beta=beta, e=e, X=X, n_iter=it)
    _not_converged(X, beta, max_iter, names)


def _not_converged(X: np.ndarray, beta: np.ndarray, max_iter: int, names: tuple[str, ...]) -> NoReturn:
    eta = X @ beta
    if np.abs(eta).max() > 15:
        _separation(names)
    raise ConvergenceError(f"the logistic propensity model did not converge in {max_iter} Newton steps; simplify the covariates")


def _loglik_eta(a: np.ndarray, b: np.ndarray, eta: np.ndarray, d: np.ndarray, top: float | None = None) -> float:
    """Log-likelihood at the linear predictor ``eta`` (``b = 1 - a``); leaves ``1 + exp(-eta)`` (clipped) in ``d``.

    ``log(1 + exp(eta)) = eta + log(1 + exp(-eta))``, so the log-likelihood ``a' eta - sum log(1 + exp(eta))`` is
    ``-b' eta - sum log(d)``: one exp and one log per unit. Beyond the clipping bound the exact form is used.
    ``top``: ``max |eta|`` when the caller has it.
    """
    _one_plus_exp_minus(eta, out=d)
    if (float(np.max(np.abs(eta))) if top is None else top) > _MAX_ETA:
        return float(a @ eta - np.logaddexp(0.0, eta).sum())
    return float(-(b @ eta) - np.log(d).sum())


def _separation(names: tuple[str, ...]) -> NoReturn:
    cols = f" (covariate columns: {', '.join(names)})" if names else ""
    raise DataError(
        "perfect separation in the propensity model: some units are predicted to be treated (or untreated) with "
        f"probability 0 or 1, so there is no overlap between the groups{cols}. Drop or coarsen the covariate that "
        "predicts treatment perfectly, or restrict the data to the region where both groups occur"
    )


@dataclass(frozen=True)
class OLSFit:
    """Least squares with the pieces the influence function needs."""

    coef: np.ndarray
    resid: np.ndarray
    bread: np.ndarray  # (X'X / n)^{-1}

    def influence(self, X: np.ndarray) -> np.ndarray:
        """Influence functions of the coefficients: ``bread @ x_i r_i``, one row per unit."""
        return (X * self.resid[:, None]) @ self.bread.T

    def influence_times(self, X: np.ndarray, G: np.ndarray) -> np.ndarray:
        """``influence(X) @ G`` for a vector ``G`` without forming the n x k influence matrix."""
        return self.resid * times(X, self.bread.T @ G)


def fit_ols(X: np.ndarray, y: np.ndarray) -> OLSFit:
    """Least squares through the stats module's QR solver (accurate when columns differ in scale by orders of magnitude).

    This is the influence-function specialisation of the one least-squares core (``stats._sandwich``): the same
    coefficients, with the bread scaled by n as the estimators' influence functions need it.
    """
    from ..stats._sandwich import qr_least_squares

    n = X.shape[0]
    coef, rinv, _, _ = qr_least_squares(X, y)
    return OLSFit(coef=coef, resid=y - times(X, coef), bread=n * (rinv @ rinv.T))


# ---------------------------------------------------------------------- scikit-learn nuisance models
def check_classifier(model: Any, arg: str) -> Any:
    if model is None:
        return None
    if not (hasattr(model, "fit") and hasattr(model, "predict_proba") and hasattr(model, "get_params")):
        raise ArgumentTypeError(
            f"`{arg}` must be a scikit-learn classifier with predict_proba (or None for logistic regression); got {show(model)}"
        )
    return model


def check_regressor(model: Any, arg: str) -> Any:
    if model is None:
        return None
    if not (hasattr(model, "fit") and hasattr(model, "predict") and hasattr(model, "get_params")):
        raise ArgumentTypeError(f"`{arg}` must be a scikit-learn regressor (or None for linear regression); got {show(model)}")
    return model


def sk_propensity(model: Any, Z_fit: np.ndarray, a_fit: np.ndarray, Z_pred: np.ndarray) -> np.ndarray:
    """Clone ``model``, fit it to (Z_fit, a_fit) and return P(A=1) for Z_pred."""
    from sklearn.base import clone

    m = clone(model)
    m.fit(Z_fit, a_fit.astype(int))
    classes = list(m.classes_)
    if 1 not in classes:
        raise DataError("the propensity model saw only untreated units in a fold; use fewer folds")
    return np.asarray(m.predict_proba(Z_pred)[:, classes.index(1)], dtype=float)


def sk_outcome(model: Any, Z_fit: np.ndarray, y_fit: np.ndarray, Z_pred: np.ndarray) -> np.ndarray:
    from sklearn.base import clone

    m = clone(model)
    m.fit(Z_fit, y_fit)
    return np.asarray(m.predict(Z_pred), dtype=float)
