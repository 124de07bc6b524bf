"""Families and links of generalised linear models, as R's ``family`` objects, on plain numpy arrays.

A :class:`Link` maps the mean to the linear predictor (``linkfun``), back (``linkinv``) and gives
:math:`d\\mu/d\\eta` (``mu_eta``). A :class:`Family` gives the variance function, the deviance residuals, the
starting means and the AIC of R's ``binomial()``, ``poisson()``, ``gaussian()``, ``Gamma()``,
``inverse.gaussian()`` and ``statmod::tweedie()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

_EPS = np.finfo(float).eps
_THRESH = -special.ndtri(_EPS)  # R's binomial()$linkinv for probit clips eta to +-qnorm(eps)


@dataclass(frozen=True)
class Link:
    """A link function: ``eta = linkfun(mu)``, ``mu = linkinv(eta)``, ``mu_eta = dmu/deta``."""

    name: str
    linkfun: Callable[[np.ndarray], np.ndarray]
    linkinv: Callable[[np.ndarray], np.ndarray]
    mu_eta: Callable[[np.ndarray], np.ndarray]


def _logit_inv(eta: np.ndarray) -> np.ndarray:
    return np.clip(special.expit(eta), _EPS, 1 - _EPS)


def _logit_mu_eta(eta: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(eta))
    return np.maximum(e / (1 + e) ** 2, _EPS)


def _probit_inv(eta: np.ndarray) -> np.ndarray:
    return special.ndtr(np.clip(eta, -_THRESH, _THRESH))


def _probit_mu_eta(eta: np.ndarray) -> np.ndarray:
    return np.maximum(np.exp(-0.5 * eta**2) / math.sqrt(2 * math.pi), _EPS)


def _cloglog_inv(eta: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.clip(-np.expm1(-np.exp(eta)), _EPS, 1 - _EPS)


def _cloglog_mu_eta(eta: np.ndarray) -> np.ndarray:
    eta = np.minimum(eta, 700.0)
    return np.maximum(np.exp(eta) * np.exp(-np.exp(eta)), _EPS)


def _log_inv(eta: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.maximum(np.exp(eta), _EPS)


def _ones(eta: np.ndarray) -> np.ndarray:
    return np.ones_like(eta)


LINKS: dict[str, Link] = {
    "logit": Link("logit", lambda mu: np.log(mu / (1 - mu)), _logit_inv, _logit_mu_eta),
    "probit": Link("probit", special.ndtri, _probit_inv, _probit_mu_eta),
    "cloglog": Link("cloglog", lambda mu: np.log(-np.log1p(-mu)), _cloglog_inv, _cloglog_mu_eta),
    "log": Link("log", np.log, _log_inv, _log_inv),
    "identity": Link("identity", lambda mu: mu, lambda eta: eta, _ones),
    "inverse": Link("inverse", lambda mu: 1 / mu, lambda eta: 1 / eta, lambda eta: -1 / eta**2),
    "inverse_squared": Link("inverse_squared", lambda mu: 1 / mu**2, lambda eta: 1 / np.sqrt(eta), lambda eta: -1 / (2 * eta**1.5)),
}

#: R's spellings of the links, accepted as aliases.
LINK_ALIASES = {"1/mu^2": "inverse_squared", "inverse-squared": "inverse_squared", "inverse squared": "inverse_squared"}


@dataclass(frozen=True)
class Family:
    """An exponential-family distribution: variance function, deviance residuals, starting means, AIC, link."""

    name: str
    link: Link
    var_power: float  # V(mu) = mu^p (binomial: mu (1 - mu), marked by p = nan)
    fixed_dispersion: bool

    def variance(self, mu: np.ndarray) -> np.ndarray:
        if self.name == "binomial":
            return mu * (1 - mu)
        p = self.var_power
        return np.ones_like(mu) if p == 0 else mu if p == 1 else mu**p

    def dev_resids(self, y: np.ndarray, mu: np.ndarray, wt: np.ndarray) -> np.ndarray:
        return _DEVIANCE[self.name](y, mu, wt, self.var_power)

    def mustart(self, y: np.ndarray, wt: np.ndarray) -> np.ndarray:
        if self.name == "binomial":
            return (wt * y + 0.5) / (wt + 1)
        if self.name == "poisson":
            return y + 0.1
        if self.name == "tweedie":
            return y + 0.1 * (y == 0)
        if self.name == "gaussian" and self.link.name in ("log", "inverse"):
            return np.where(y > 0, y, max(float(np.mean(y)), 0.1))
        return y.astype(float)

    def valid_mu(self, mu: np.ndarray) -> bool:
        if not np.all(np.isfinite(mu)):
            return False
        if self.name == "binomial":
            return bool(np.all((mu > 0) & (mu < 1)))
        if self.name in ("poisson", "gamma", "inverse_gaussian", "tweedie"):
            return bool(np.all(mu > 0))
        return True

    def aic(self, y: np.ndarray, mu: np.ndarray, wt: np.ndarray, dev: float) -> float:
        """R's ``family$aic`` (minus twice the log-likelihood, plus 2 for an estimated dispersion); NaN for Tweedie."""
        return _AIC[self.name](y, mu, wt, dev)


def _dev_gaussian(y: np.ndarray, mu: np.ndarray, wt: np.ndarray, p: float) -> np.ndarray:
    return wt * (y - mu) ** 2


def _ylogy(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)


def _dev_binomial(y: np.ndarray, mu: np.ndarray, wt: np.ndarray, p: float) -> np.ndarray:
    return 2 * wt * (_ylogy(y, mu) + _ylogy(1 - y, 1 - mu))


def _dev_poisson(y: np.ndarray, mu: np.ndarray, wt: np.ndarray, p: float) -> np.ndarray:
    return 2 * wt * (_ylogy(y, mu) - (y - mu))


def _dev_gamma(y: np.ndarray, mu: np.ndarray, wt: np.ndarray, p: float) -> np.ndarray:
    return -2 * wt * (np.log(np.where(y == 0, 1.0, y / mu)) - (y - mu) / mu)


def _dev_inverse_gaussian(y: np.ndarray, mu: np.ndarray, wt: np.ndarray, p: float) -> np.ndarray:
    return wt * ((y - mu) ** 2 / (y * mu**2))


def _dev_tweedie(y: np.ndarray, mu: np.ndarray, wt: np.ndarray, p: float) -> np.ndarray:
    """``statmod::tweedie()$dev.resids``."""
    y1 = y + 0.1 * (y == 0)
    theta = np.log(y1 / mu) if p == 1 else (y1 ** (1 - p) - mu ** (1 - p)) / (1 - p)
    kappa = np.log(y1 / mu) if p == 2 else (y ** (2 - p) - mu ** (2 - p)) / (2 - p)
    return 2 * wt * (y * theta - kappa)


_DEVIANCE = {
    "gaussian": _dev_gaussian,
    "binomial": _dev_binomial,
    "poisson": _dev_poisson,
    "gamma": _dev_gamma,
    "inverse_gaussian": _dev_inverse_gaussian,
    "tweedie": _dev_tweedie,
}


def _aic_gaussian(y: np.ndarray, mu: np.ndarray, wt: np.ndarray, dev: float) -> float:
    n = y.size
    return float(n * (math.log(2 * math.pi * dev / n) + 1) + 2 - np.sum(np.log(wt)))


def _aic_binomial(y: np.ndarray, mu: np.ndarray, wt: np.ndarray, dev: float) -> float:
    m = wt
    return float(-2 * np.sum(stats.binom.logpmf(np.round(m * y), np.round(m), mu)))


def _aic_poisson(y: np.ndarray, mu: np.ndarray, wt: np.ndarray, dev: float) -> float:
    return float(-2 * np.sum(stats.poisson.logpmf(y, mu) * wt))


def _aic_gamma(y: np.ndarray, mu: np.ndarray, wt: np.ndarray, dev: float) -> float:
    disp = dev / float(np.sum(wt))
    return float(-2 * np.sum(stats.gamma.logpdf(y, 1 / disp, scale=mu * disp) * wt) + 2)


def _aic_inverse_gaussian(y: np.ndarray, mu: np.ndarray, wt: np.ndarray, dev: float) -> float:
    sw = float(np.sum(wt))
    return float(sw * (1 + math.log(dev / sw * 2 * math.pi)) + 3 * np.sum(np.log(y) * wt) + 2)


_AIC: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray, float], float]] = {
    "gaussian": _aic_gaussian,
    "binomial": _aic_binomial,
    "poisson": _aic_poisson,
    "gamma": _aic_gamma,
    "inverse_gaussian": _aic_inverse_gaussian,
    "tweedie": lambda y, mu, wt, dev: math.nan,
}

#: Links each family accepts (the first is the default: R's canonical link; Tweedie defaults to log).
FAMILY_LINKS: dict[str, tuple[str, ...]] = {
    "gaussian": ("identity", "log", "inverse"),
    "binomial": ("logit", "probit", "cloglog", "log"),
    "poisson": ("log", "identity"),
    "gamma": ("inverse", "identity", "log"),
    "inverse_gaussian": ("inverse_squared", "inverse", "identity", "log"),
    "tweedie": ("log", "identity", "inverse", "inverse_squared"),
    "negative_binomial": ("log",),
}

FAMILY_ALIASES = {
    "normal": "gaussian",
    "logistic": "binomial",
    "inverse.gaussian": "inverse_gaussian",
    "inverse-gaussian": "inverse_gaussian",
    "inversegaussian": "inverse_gaussian",
    "negbin": "negative_binomial",
    "negative-binomial": "negative_binomial",
    "nb": "negative_binomial",
}

_POWER = {"gaussian": 0.0, "binomial": math.nan, "poisson": 1.0, "gamma": 2.0, "inverse_gaussian": 3.0}


def make_family(name: str, link: str, var_power: float | None = None) -> Family:
    """The family ``name`` with link ``link`` (both already checked against :data:`FAMILY_LINKS`)."""
    p = float(var_power) if name == "tweedie" and var_power is not None else _POWER.get(name, math.nan)
    return Family(name, LINKS[link], p, name in ("binomial", "poisson"))
