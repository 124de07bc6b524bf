"""Fisher scoring (iteratively reweighted least squares) for a generalised linear model, as R's ``glm.fit``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..exceptions import ConvergenceError
from ._glm_families import Family

MAXIT = 200


@dataclass(frozen=True)
class IRLSFit:
    coef: np.ndarray
    eta: np.ndarray
    mu: np.ndarray
    deviance: float
    iterations: int
    converged: bool


def irls(X: np.ndarray, y: np.ndarray, pw: np.ndarray, off: np.ndarray, fam: Family, eta: np.ndarray | None = None) -> IRLSFit:
    """Fisher scoring by iteratively reweighted least squares, as ``glm.fit``, with its step halving.

    Iterates to the fixed point of the coefficients (relative step below 1e-13, or no longer shrinking at rounding
    noise), not just until the deviance stops changing: the deviance is flat at the optimum, and with a non-canonical
    link it stops changing while the coefficients still move at about 1e-8. ``converged`` is R's criterion (relative
    deviance change below 1e-8).
    """
    link = fam.link
    if eta is None:
        eta = link.linkfun(fam.mustart(y, pw))
    mu = link.linkinv(eta)
    dev_old = float(np.sum(fam.dev_resids(y, mu, pw)))
    coef_old: np.ndarray | None = None
    converged = False
    coef = np.zeros(X.shape[1])
    prev_step = math.inf
    for it in range(1, MAXIT + 1):
        mu_eta = link.mu_eta(eta)
        z = eta - off + (y - mu) / mu_eta
        w = np.sqrt(pw * mu_eta**2 / fam.variance(mu))
        coef, *_ = np.linalg.lstsq(X * w[:, None], z * w, rcond=None)
        coef, eta, mu, dev = _step_halving(X, y, pw, off, fam, coef, coef_old)
        change = abs(dev - dev_old) / (abs(dev) + 0.1)
        converged = converged or change < 1e-8
        step = 0.0 if coef_old is None else float(np.max(np.abs(coef - coef_old)) / max(float(np.max(np.abs(coef))), 1e-300))
        # at the fixed point: the step is negligible, or it has stopped shrinking at the rounding noise of the solve
        if coef_old is not None and (step <= 1e-13 or (step <= 1e-10 and step >= 0.5 * prev_step)):
            return IRLSFit(coef, eta, mu, dev, it, True)
        dev_old, coef_old, prev_step = dev, coef, step
    return IRLSFit(coef, eta, mu, dev_old, MAXIT, converged)


def _step_halving(
    X: np.ndarray, y: np.ndarray, pw: np.ndarray, off: np.ndarray, fam: Family, coef: np.ndarray, coef_old: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Halve the step towards the previous coefficients while the deviance is not finite or the means are invalid."""
    for _ in range(60):
        eta = X @ coef + off
        with np.errstate(all="ignore"):
            mu = fam.link.linkinv(eta)
            dev = float(np.sum(fam.dev_resids(y, mu, pw))) if fam.valid_mu(mu) else math.nan
        if math.isfinite(dev):
            return coef, eta, mu, dev
        if coef_old is None:
            raise ConvergenceError(
                f"no valid set of coefficients was found for the {fam.name} family with the {fam.link.name} link: the fitted "
                "means leave the family's range (for example a negative mean under an inverse or identity link). Use the "
                "log link, which keeps every mean positive"
            )
        coef = (coef + coef_old) / 2
    raise ConvergenceError(f"step halving failed for the {fam.name} family with the {fam.link.name} link; try the log link")
