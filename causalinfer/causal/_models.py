"""Nuisance models: a lean logistic regression (Newton in numpy), least squares, and scikit-learn wrappers.

The built-in models are what the influence functions know how to differentiate; any scikit-learn estimator
may replace them (it is cloned and refitted, never mutated), at the price of treating its fitted values as
known when standard errors are computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    def of(cls, Z: np.ndarray) -> Standardizer:
        if Z.shape[1] == 0:
            return cls(np.zeros(0), np.ones(0))
        sd = Z.std(axis=0)
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

    def info_inverse(self) -> np.ndarray:
        """``(X' diag(e(1-e)) X / n)^{-1}``: the inverse of the average information."""
        w = self.e * (1.0 - self.e)
        H = self.X.T @ (self.X * w[:, None]) / self.X.shape[0]
        return np.linalg.inv(H)

    def influence(self, a: np.ndarray) -> np.ndarray:
        """Influence functions of the coefficients, one row per unit: ``H^{-1} x_i (a_i - e_i)``."""
        return (self.X * (a - self.e)[:, None]) @ self.info_inverse().T


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
    quadratically, so stopping once a step is below ``tol`` leaves an error of order ``tol**2``.
    ``reuse_hessian=True`` (used for refits that start near the answer) keeps the Hessian of the first step
    while the steps keep shrinking fast (a chord iteration: each step then costs two matrix-vector products
    instead of a Hessian) and converges to the same maximum; ``H0``, a Hessian ``X' W X`` from a nearby fit,
    then saves even the first one, and ``e0``, the fitted probabilities at ``beta0``, the first pass over ``X``.
    Raises a :class:`DataError` on perfect or
    quasi-complete separation, which would put propensities at 0 or 1.
    """
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    _n, p = X.shape
    if beta0 is None:
        beta = np.zeros(p)
        m = float(a.mean())
        beta[0] = np.log(m / (1.0 - m))
    else:
        beta = np.asarray(beta0, dtype=float).copy()
    factor = None
    if reuse_hessian and H0 is not None and H0.shape == (p, p):
        try:
            factor = cho_factor(H0)
        except LinAlgError:
            factor = None
    last = np.inf
    for it in range(1, max_iter + 1):
        if it == 1 and e0 is not None and beta0 is not None:
            e = e0
        else:
            eta = X @ beta
            # An early Newton step can overshoot (unscaled covariates, a start far from the optimum); clip the linear
            # predictor so exp cannot overflow. Separation is judged on the converged fit (or on non-convergence).
            np.clip(eta, -_MAX_ETA, _MAX_ETA, out=eta)
            e = eta
            np.negative(e, out=e)
            np.exp(e, out=e)
            e += 1.0
            np.reciprocal(e, out=e)
        grad = X.T @ (a - e)
        if factor is None or not reuse_hessian:
            w = e * (1.0 - e)
            try:
                factor = cho_factor(X.T @ (X * w[:, None]))
            except LinAlgError:
                _separation(names)
        step = cho_solve(factor, grad)
        if not reuse_hessian and np.all(np.isfinite(step)):
            # damped Newton: halve the step until the log-likelihood does not fall (a full step can overshoot)
            ll_old = _loglik(X, a, beta)
            t = 1.0
            for _ in range(40):
                if _loglik(X, a, beta + t * step) >= ll_old - 1e-12 * abs(ll_old):
                    break
                t *= 0.5
            step = t * step
        size = float(np.max(np.abs(step)))
        if not np.isfinite(size):
            _separation(names)
        if reuse_hessian and size > 0.25 * last:
            factor = None  # the chord steps slowed down: refresh the Hessian next time
        last = size
        beta = beta + step
        if size < tol and reuse_hessian:
            # refits: the propensities of the previous iterate differ from the final ones by O(tol); reuse them
            return LogitFit(beta=beta, e=e, X=X, n_iter=it)
        if size < tol:
            eta = X @ beta
            if np.abs(eta).max() > _MAX_ETA:
                _separation(names)
            return LogitFit(beta=beta, e=expit(eta), X=X, n_iter=it)
    eta = X @ beta
    if np.abs(eta).max() > 15:
        _separation(names)
    raise ConvergenceError(f"the logistic propensity model did not converge in {max_iter} Newton steps; simplify the covariates")


def _loglik(X: np.ndarray, a: np.ndarray, beta: np.ndarray) -> float:
    eta = X @ beta
    return float(a @ eta - np.logaddexp(0.0, eta).sum())


def _separation(names: tuple[str, ...]) -> None:
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


def fit_ols(X: np.ndarray, y: np.ndarray) -> OLSFit:
    """Least squares through the stats module's QR solver (accurate when columns differ in scale by orders of magnitude).

    This is the influence-function specialisation of the one least-squares core (``stats._sandwich``): the same
    coefficients, with the bread scaled by n as the estimators' influence functions need it.
    """
    from ..stats._sandwich import qr_least_squares

    n = X.shape[0]
    coef, rinv, _, _ = qr_least_squares(X, y)
    return OLSFit(coef=coef, resid=y - X @ coef, bread=n * (rinv @ rinv.T))


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
