"""Poisson pseudo-maximum likelihood with absorbed fixed effects (PPML), as fixest's ``fepois`` and pyfixest.

Reached through :func:`causalinfer.stats.poisson` with ``absorb=[...]`` or ``"y ~ x | firm + year"``. IRLS in
which every step demeans the working response and the regressors with the working weights ``w mu`` (Guimaraes
and Portugal 2010; Correia, Guimaraes and Zylkin 2020), started at ``mu = (y + mean(y)) / 2`` and stopped when
the relative change of the deviance ``|D - D_old| / (0.1 + |D|)`` falls below 1e-12 (fixest's criterion).
Rows whose level of some factor has only zero outcomes are dropped first (their fixed effect would be minus
infinity: pyfixest's ``separation_check=["fe"]``), after singletons. Standard errors use the working weights of
the last step, the small-sample factors of :mod:`._fixed_effects` (classical: (N-1)/(N-K) times the inverse
information) and normal (z) inference, as pyfixest. Validated against pyfixest
(``tests/reference/fixed_effects_pyfixest.py``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from .._validation import show
from ..exceptions import ArgumentError, ConvergenceError, DataError
from ..results import Diagnostic, Provenance
from ._demean import FE_MAXITER, demean, recode
from ._fixed_effects import FEData, Tools, check_absorbed, covariance, fe_diagnostics, prepare

_COV = ("nonrobust", "HC0", "HC1", "cluster")


def _separated(d: FEData) -> FEData:
    """Drop rows in levels whose outcomes are all zero (one pass per factor, as pyfixest)."""
    drop = np.zeros(len(d.y), dtype=bool)
    for f in range(d.codes.shape[1]):
        pos = np.bincount(d.codes[:, f], weights=(d.y > 0).astype(float), minlength=int(d.levels[f]))
        drop |= pos[d.codes[:, f]] == 0
    if not drop.any():
        return dataclasses.replace(d, n_params=0)
    keep = ~drop
    codes, levels = recode(d.codes[keep])
    rows = np.flatnonzero(d.keep)[keep]
    mask = np.zeros_like(d.keep)
    mask[rows] = True
    return dataclasses.replace(
        d,
        X=d.X[keep],
        y=d.y[keep],
        y_raw=d.y_raw[keep],
        weights=None if d.weights is None else d.weights[keep],
        clusters=[pd.factorize(c[keep], sort=True)[0] for c in d.clusters],
        codes=codes,
        levels=levels,
        keep=mask,
        n_params=int(drop.sum()),  # rows dropped for separation, reported by the caller
    )


def _deviance(y: np.ndarray, mu: np.ndarray, w: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2.0 * np.sum(w * (term - (y - mu))))


def irls(d: FEData, tol: float, maxiter: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, float]:
    """Coefficients, the last demeaned regressors and working residuals, working weights, fitted means, iterations, deviance."""
    y, X = d.y, d.X
    w = np.ones(len(y)) if d.weights is None else d.weights
    mu = (y + np.mean(y)) / 2.0
    eta = np.log(mu)
    last = _deviance(y, mu, w)
    for it in range(1, maxiter + 1):
        z = eta + y / mu - 1.0
        cw = w * mu
        Z = np.column_stack([z, X])
        if d.fe_names:
            Z, _, ok = demean(Z, d.codes, d.levels, cw, tol=1e-13, maxiter=FE_MAXITER)
            if not ok:
                raise ConvergenceError(f"demeaning by {d.fe_names} did not converge in IRLS step {it}")
        sw = np.sqrt(cw)
        xw = Z[:, 1:] * sw[:, None]
        coef = np.linalg.lstsq(xw, Z[:, 0] * sw, rcond=None)[0]
        resid = Z[:, 0] - Z[:, 1:] @ coef
        eta = z - resid
        if np.any(eta > 700):
            raise ConvergenceError("the Poisson fit diverged (linear predictor above 700); check for separation or rescale the regressors")
        mu = np.exp(eta)
        dev = _deviance(y, mu, w)
        crit = abs(dev - last) / (0.1 + abs(dev))
        last = dev
        if crit < tol:
            return coef, Z[:, 1:], resid, cw, mu, it, dev
    raise ConvergenceError(f"the Poisson IRLS did not converge in {maxiter} iterations (tolerance {tol:g})")


def fe_poisson(
    x: Any, data: Any, *, absorb: Any, weights: Any, cov_type: str, cluster: Any, conf_level: float, namespaces: Any, tools: Tools
) -> Any:
    """:func:`poisson` with absorbed fixed effects; see the module docstring."""
    if cov_type not in _COV:
        raise ArgumentError(f"with absorbed fixed effects, `cov_type` must be one of {list(_COV)}; got {show(cov_type)}")
    raw = prepare(
        x, data, absorb=absorb, weights=weights, cluster=cluster, cov_type=cov_type, namespaces=namespaces, tools=tools, demeaned=False
    )
    if np.any(raw.y < 0):
        raise DataError(
            f"the outcome {raw.response!r} must be non-negative for Poisson regression; got {int(np.sum(raw.y < 0))} negative value(s)"
        )
    d = _separated(raw)
    n_sep = d.n_params
    coef, Xd, resid, cw, mu, iters, dev = irls(d, 1e-12, 100)
    work = dataclasses.replace(d, X=Xd, y=Xd @ coef + resid, weights=cw, n_params=0)
    check_absorbed(work, d.X)
    xw = Xd * np.sqrt(cw)[:, None]
    bread = np.linalg.inv(xw.T @ xw)
    uw = resid * np.sqrt(cw)
    cov, info = covariance(work, coef, bread, uw, "HC0" if cov_type == "nonrobust" else cov_type)
    n = len(d.y)
    if cov_type == "nonrobust":
        cov = bread * (n - 1) / (n - info["K"])
    return _result(d, coef, cov, info, mu, dev, iters, n_sep, cov_type, conf_level, tools)


def _result(
    d: FEData, coef: Any, cov: Any, info: dict, mu: Any, dev: float, iters: int, n_sep: int, cov_type: str, conf_level: float, tools: Tools
) -> Any:
    from scipy.special import gammaln

    w = np.ones(len(d.y)) if d.weights is None else d.weights
    with np.errstate(divide="ignore", invalid="ignore"):
        loglik = float(np.sum(w * (np.where(d.y > 0, d.y * np.log(mu), 0.0) - mu - gammaln(d.y + 1))))
    fit = {
        "n": len(d.y),
        "k": len(coef),
        "deviance": dev,
        "loglik": loglik,
        "iterations": iters,
        "cov_type": cov_type,
        "inference": "z",
        "model": "poisson",
        "formula": d.formula,
        "response": d.response,
        "weighted": d.weights is not None,
        "fixed_effects": list(d.fe_names),
        "fixed_effect_levels": {nm: int(v) for nm, v in zip(d.fe_names, d.levels, strict=True)},
        "n_singletons": d.n_singletons,
        "n_separated": n_sep,
        "n_params_with_fe": info["K"],
        "fe_params": info["k_fe"],
        **{k: info[k] for k in ("n_clusters", "clusters_each", "fe_nested") if k in info},
    }
    fit.update(tools.slopes_wald(d.names, coef, cov, None))
    diags = list(fe_diagnostics(d, fit.get("n_clusters"), tools.few_clusters))
    sep_msg = f"{n_sep} row(s) dropped: their level of a fixed effect has only zero outcomes (the effect would be -infinity)"
    diags.append(Diagnostic("separation", "ok", float(n_sep), sep_msg if n_sep else "no fixed-effect level with only zero outcomes"))
    have = "wald_statistic" in fit
    return tools.result_class(
        method=f"Poisson pseudo-maximum likelihood absorbing {' + '.join(d.fe_names)} (IRLS with demeaning); {cov_type} covariance, z tests",
        estimand=f"log rate ratios for {d.response} | {' + '.join(d.fe_names)} (Wald chi-square test: all coefficients zero)",
        statistic=fit["wald_statistic"] if have else None,
        statistic_name="chi2",
        df=fit["wald_df"] if have else None,
        pvalue=fit["wald_pvalue"] if have else None,
        conf_level=conf_level,
        alternative="two-sided",
        null_value=0.0,
        n=len(d.y),
        diagnostics=tuple(diags),
        terms=tools.terms(d.names, coef, cov, conf_level, None),
        details={"fit": fit, "cov": pd.DataFrame(cov, index=d.names, columns=d.names), "fitted": mu},
        provenance=Provenance.current(data_fingerprint=d.fingerprint),
        design=dataclasses.replace(d, n_params=int(info["K"])),
    )
