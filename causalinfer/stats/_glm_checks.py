"""Dispersion checks of a fitted GLM that point to the family that fits: overdispersion of counts and proportions,
and the power of the variance function of continuous outcomes.

The count test is Cameron and Trivedi's (1990) regression test, as ``AER::dispersiontest``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..exceptions import ConvergenceError
from ..results import Diagnostic
from ._glm_families import Family

#: Variance powers of the families with a power variance function, and what to use for each.
_POWER_FAMILIES = ((0.0, "family='gaussian'"), (1.0, "a quasi-Poisson model (family='poisson' with cov_type='HC0')"),
                   (2.0, "family='gamma'"), (3.0, "family='inverse_gaussian'"))  # fmt: skip


def cameron_trivedi(y: np.ndarray, mu: np.ndarray, trafo: int) -> tuple[float, float, float]:
    """Overdispersion test of a Poisson fit (``AER::dispersiontest``): alpha, z statistic and one-sided p-value.

    ``trafo=1``: :math:`\\mathrm{Var}(y) = (1+\\alpha)\\mu` (quasi-Poisson); ``trafo=2``:
    :math:`\\mathrm{Var}(y) = \\mu + \\alpha\\mu^2` (negative binomial, NB2). Auxiliary regression of
    :math:`((y-\\mu)^2 - y)/\\mu` on :math:`\\mu^{trafo-1}` without a constant.
    """
    from ._normal import z_pvalue

    aux = ((y - mu) ** 2 - y) / mu
    z = np.ones_like(mu) if trafo == 1 else mu
    zz = float(z @ z)
    alpha = float(z @ aux) / zz
    resid = aux - alpha * z
    se = math.sqrt(float(resid @ resid) / (y.size - 1) / zz)
    stat = alpha / se if se > 0 else math.inf
    return alpha, stat, z_pvalue(stat, "greater")


def dispersion_diagnostics(d: Any, fam: Family, mu: np.ndarray, pw: np.ndarray, cov_type: str) -> list[Diagnostic]:
    """Overdispersion (binomial, Poisson) or variance-function (other families) diagnostic."""
    n, k = d.X.shape
    if n - k <= 0:
        return []
    if fam.name == "poisson":
        return [_count_dispersion(d.y, mu, pw, n - k, cov_type, d.weights is None)]
    if fam.name == "binomial":
        if np.all(np.isin(d.y, (0.0, 1.0))) and d.weights is None:
            return []  # a 0/1 outcome carries no information about dispersion
        ratio = float(np.sum(pw * (d.y - mu) ** 2 / (mu * (1 - mu)))) / (n - k)
        if ratio > 1.5:
            status = "warn" if cov_type == "nonrobust" else "ok"
            return [Diagnostic("overdispersion", status, ratio, f"Pearson chi-square / df = {ratio:.3g} > 1.5: the proportions vary more "
                               "than binomial; use quasi-binomial errors (cov_type='HC0') or a beta-binomial model")]  # fmt: skip
        return [Diagnostic("overdispersion", "ok", ratio, f"Pearson chi-square / df = {ratio:.3g}: no sign of overdispersion")]
    return [_variance_power(d.y, mu, fam)]


def _count_dispersion(y: np.ndarray, mu: np.ndarray, pw: np.ndarray, df: int, cov_type: str, unweighted: bool) -> Diagnostic:
    ratio = float(np.sum(pw * (y - mu) ** 2 / mu)) / df
    text = f"Pearson chi-square / df = {ratio:.3g}"
    significant = ratio > 1.5
    if unweighted:
        a1, _, p1 = cameron_trivedi(y, mu, 1)
        a2, _, p2 = cameron_trivedi(y, mu, 2)
        text += f"; Cameron-Trivedi tests: Var = (1 + {a1:.3g}) mu, p = {p1:.3g}; Var = mu + {a2:.3g} mu^2, p = {p2:.3g}"
        significant = significant or min(p1, p2) < 0.05
    if ratio < 1 / 1.5:
        return Diagnostic("overdispersion", "warn", ratio, f"{text}: the counts are underdispersed (less variable than Poisson); "
                          "classical standard errors are too large; a robust covariance (cov_type='HC0') corrects them")  # fmt: skip
    if not significant:
        return Diagnostic("overdispersion", "ok", ratio, f"{text}: no sign of overdispersion")
    if cov_type != "nonrobust":
        return Diagnostic("overdispersion", "ok", ratio, f"{text}: overdispersed, handled by the robust covariance ({cov_type}); "
                          "family='negative_binomial' models the extra variance")  # fmt: skip
    return Diagnostic("overdispersion", "warn", ratio, f"{text}: overdispersed, so classical standard errors are too small. Fit "
                      "family='negative_binomial' (variance mu + mu^2/theta) or keep the Poisson mean with quasi-Poisson "
                      "errors (cov_type='HC0')")  # fmt: skip


def variance_power(y: np.ndarray, mu: np.ndarray) -> tuple[float, float, int]:
    """Power ``p`` of ``Var(y) = phi mu^p`` and its standard error, from a Gamma GLM with log link of the squared residuals on ``log(mu)``.

    The squared residuals have mean ``phi mu^p``; the Gamma quasi-likelihood fit of ``log E(r^2) = a + p log(mu)``
    is Davidian and Carroll's (1987) variance-function estimator, far less noisy than least squares on ``log r^2``.
    """
    from ._glm_families import make_family
    from ._glm_irls import irls

    r2 = (y - mu) ** 2
    keep = (r2 > 0) & (mu > 0)
    m = int(np.sum(keep))
    if m < 10:
        return math.nan, math.nan, m
    lx = np.log(mu[keep])
    if float(np.ptp(lx)) <= 1e-8:
        return math.nan, math.nan, m
    X = np.column_stack([np.ones(m), lx - lx.mean()])
    fam = make_family("gamma", "log")
    # start from the mean square, not from the squared residuals themselves: those span many orders of magnitude and
    # the Gamma working response y/mu then sends Fisher scoring off to overflow
    start = np.full(m, math.log(float(np.mean(r2[keep]))))
    try:
        with np.errstate(all="ignore"):
            f = irls(X, r2[keep], np.ones(m), np.zeros(m), fam, eta=start)
    except (ConvergenceError, np.linalg.LinAlgError):
        return math.nan, math.nan, m
    if not (f.converged and np.all(np.isfinite(f.coef))):
        return math.nan, math.nan, m
    phi = float(np.sum((r2[keep] - f.mu) ** 2 / f.mu**2)) / (m - 2)
    cov = phi * np.linalg.inv(X.T @ X)  # Gamma with log link: W = 1
    return float(f.coef[1]), math.sqrt(float(cov[1, 1])), m


def _variance_power(y: np.ndarray, mu: np.ndarray, fam: Family) -> Diagnostic:
    p_hat, se, _ = variance_power(y, mu)
    if not math.isfinite(p_hat):
        return Diagnostic(
            "variance function",
            "ok",
            None,
            "the variance function could not be checked (too little spread in the fitted means, or too few non-zero residuals)",
        )
    p_fam = fam.var_power
    text = f"squared residuals grow with the fitted means as mu^{p_hat:.3g} (SE {se:.2g})"
    if abs(p_hat - p_fam) <= 0.5 or abs(p_hat - p_fam) <= 2 * se:
        return Diagnostic("variance function", "ok", p_hat, f"{text}, consistent with the {fam.name} family's power {p_fam:g}")
    if 1.1 < p_hat < 1.9:
        better = f"family='tweedie' with var_power={p_hat:.2g}"
    else:
        better = min(_POWER_FAMILIES, key=lambda pf: abs(pf[0] - p_hat))[1]
    return Diagnostic("variance function", "warn", p_hat, f"{text}, not the power {p_fam:g} the {fam.name} family assumes: standard "
                      f"errors are off; consider {better}, or a robust covariance (cov_type='HC3')")  # fmt: skip
