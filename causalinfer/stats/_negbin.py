"""Negative binomial (NB2) regression with the shape ``theta`` estimated by maximum likelihood, as ``MASS::glm.nb``.

Validated against ``MASS::glm.nb`` and ``sandwich`` (``tests/reference/negbin.R``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_array
from ..exceptions import ArgumentError, ConvergenceError, DataError
from ..results import Diagnostic, Provenance
from ._regression import (
    RegressionResult,
    _caller_namespaces,
    _check_common,
    _check_glm_outcome,
    _collinearity,
    _cov_label,
    _design,
    _existence_diagnostic,
    _few_clusters,
    _n_clusters,
    _PredictionDesign,
    _slopes_wald,
    _terms,
)
from ._sandwich import check_full_rank, default_hac_lags, sandwich_cov, upper_triangular_inverse

__all__ = ["negative_binomial"]

_MAXIT = 100
_TOL = 1e-12


@dataclass(frozen=True)
class _NBFit:
    coef: np.ndarray
    mu: np.ndarray
    theta: float
    theta_se: float
    bread: np.ndarray
    xw: np.ndarray
    weight: np.ndarray
    iterations: int
    converged: bool


def _irls(
    X: np.ndarray, y: np.ndarray, pw: np.ndarray, off: np.ndarray, theta: float, eta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """IRLS for the log-link GLM with variance ``mu + mu^2/theta`` (theta = inf: Poisson), from the linear predictor ``eta``."""
    dev_old = math.inf
    coef = np.zeros(X.shape[1])
    for _ in range(_MAXIT):
        mu = np.exp(eta)
        w = pw * mu / (1.0 + mu / theta) if math.isfinite(theta) else pw * mu
        z = eta - off + (y - mu) / mu
        sw = np.sqrt(w)
        coef, *_ = np.linalg.lstsq(X * sw[:, None], z * sw, rcond=None)
        eta = X @ coef + off
        dev = _deviance(y, np.exp(eta), pw, theta)
        if abs(dev - dev_old) <= _TOL * (abs(dev) + 0.1):
            return coef, eta, True
        dev_old = dev
    return coef, eta, False


def _deviance(y: np.ndarray, mu: np.ndarray, pw: np.ndarray, theta: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
        if not math.isfinite(theta):
            return float(2 * np.sum(pw * (ylogy - (y - mu))))
        return float(2 * np.sum(pw * (ylogy - (y + theta) * np.log((y + theta) / (mu + theta)))))


def _loglik(y: np.ndarray, mu: np.ndarray, pw: np.ndarray, theta: float) -> float:
    from scipy.special import gammaln

    if not math.isfinite(theta):  # the Poisson limit
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.sum(pw * (np.where(y > 0, y * np.log(mu), 0.0) - mu - gammaln(y + 1))))

    return float(
        np.sum(
            pw
            * (
                gammaln(theta + y)
                - gammaln(theta)
                - gammaln(y + 1)
                + theta * math.log(theta)
                + y * np.log(mu + (y == 0))
                - (theta + y) * np.log(theta + mu)
            )
        )
    )


def _theta_ml(y: np.ndarray, mu: np.ndarray, pw: np.ndarray, theta0: float | None) -> tuple[float, float, bool]:
    """Newton steps on the profile score of theta at fixed means (``MASS::theta.ml``); returns theta, its SE, converged."""
    from scipy.special import digamma, polygamma

    n = float(np.sum(pw))
    # the digamma terms depend on y only through its distinct values: evaluate them once per value (weighted counts)
    uy, inv = np.unique(y, return_inverse=True)
    wy = np.bincount(inv.ravel(), weights=pw, minlength=uy.size)

    def _score(t: float) -> float:
        return float(np.sum(wy * digamma(t + uy)) - n * digamma(t) + np.sum(pw * (math.log(t) + 1.0 - np.log(t + mu) - (y + t) / (t + mu))))

    def _info(t: float) -> float:
        return float(
            -np.sum(wy * polygamma(1, t + uy)) + n * polygamma(1, t) + np.sum(pw * (-1.0 / t + 2.0 / (t + mu) - (y + t) / (t + mu) ** 2))
        )

    t = theta0 if theta0 is not None else n / float(np.sum(pw * (y / mu - 1.0) ** 2))
    if not (t > 0 and math.isfinite(t)):
        t = 1.0
    ok = False
    info = math.nan
    prev = math.inf
    for it in range(_MAXIT):
        score = _score(t)
        info = _info(t)
        if not (math.isfinite(score) and math.isfinite(info)) or info == 0:
            raise ConvergenceError(
                f"the maximum likelihood estimate of theta could not be computed (score {score:.3g}, information {info:.3g} at "
                f"theta = {t:.3g}): the counts are too extreme for the negative binomial model (for example a single large "
                "count among zeros). Check the outcome, or use poisson(..., cov_type='HC0')"
            )
        step = score / info
        new = t + step
        while new <= 0:  # stay in the parameter space
            step /= 2
            new = t + step
        # converged when the Newton step is negligible, or when it has stopped shrinking at the rounding noise of the
        # score (a large theta makes the likelihood flat: the score is a small difference of large sums)
        if abs(step) <= 1e-10 * t or (it >= 3 and abs(step) >= 0.5 * prev and abs(step) <= 1e-6 * t):
            t = new
            ok = True
            break
        prev = abs(step)
        t = new
    info = _info(t)
    return t, (1.0 / math.sqrt(info) if info > 0 else math.nan), ok


def _fit_nb(X: np.ndarray, y: np.ndarray, pw: np.ndarray, off: np.ndarray) -> _NBFit:
    """Alternate IRLS for the coefficients at fixed theta and a Newton ML step for theta, as ``glm.nb`` does."""
    eta0 = np.log(np.maximum(y, 0.1)) if np.any(y > 0) else np.zeros_like(y)
    coef, eta, _ = _irls(X, y, pw, off, math.inf, eta0)  # Poisson start
    mu = np.exp(eta)
    # d loglik / d(1/theta) at the Poisson fit is sum(w ((y - mu)^2 - y)) / 2: when it is not positive the counts are
    # not overdispersed and the likelihood is largest in the Poisson limit (theta = infinity)
    if float(np.sum(pw * ((y - mu) ** 2 - y))) <= 0:
        xw = X * np.sqrt(pw * mu)[:, None]
        rinv = upper_triangular_inverse(np.asarray(np.linalg.qr(xw, mode="r")))
        return _NBFit(coef, mu, math.inf, math.nan, rinv @ rinv.T, xw, pw * mu, 0, True)
    theta, _, _ = _theta_ml(y, mu, pw, None)
    converged = False
    it = 0
    ll_old = _loglik(y, np.exp(eta), pw, theta)
    while it < _MAXIT:
        it += 1
        coef, eta, _ = _irls(X, y, pw, off, theta, eta)
        new_theta, _, _ = _theta_ml(y, np.exp(eta), pw, theta)
        ll = _loglik(y, np.exp(eta), pw, new_theta)
        change = abs(ll - ll_old) / (abs(ll) + 1.0) + abs(new_theta - theta) / theta
        theta, ll_old = new_theta, ll
        if change < 1e-10:
            converged = True
            break
    coef, eta, _ = _irls(X, y, pw, off, theta, eta)
    mu = np.exp(eta)
    theta, theta_se, ok = _theta_ml(y, mu, pw, theta)
    w = pw * mu / (1.0 + mu / theta)
    xw = X * np.sqrt(w)[:, None]
    r = np.asarray(np.linalg.qr(xw, mode="r"))
    rinv = upper_triangular_inverse(r)
    return _NBFit(coef, mu, theta, theta_se, rinv @ rinv.T, xw, w, it, converged and ok)


@vp.validate_params(
    {
        "x": ["formula", "array-like"],
        "y": [None, "sample"],
        "data": [None, "data"],
        "add_constant": "boolean",
        "weights": [None, "sample"],
        "offset": [None, "sample"],
        "exposure": [None, "sample"],
        "cov_type": "cov_type",
        "cluster": [None, "sample"],
        "hac_lags": [None, vp.Interval("int", 0)],
        "conf_level": "conf_level",
    }
)
def negative_binomial(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    add_constant: bool = True,
    weights: Any = None,
    offset: Any = None,
    exposure: Any = None,
    cov_type: str = "nonrobust",
    cluster: Any = None,
    hac_lags: int | None = None,
    conf_level: float = 0.95,
) -> RegressionResult:
    """Negative binomial regression (NB2, log link) with theta estimated by maximum likelihood, as ``MASS::glm.nb``.

    The model for overdispersed counts: :math:`\\mathrm{Var}(y) = \\mu + \\mu^2/\\theta`; as
    :math:`\\theta \\to \\infty` it becomes Poisson. Use it when :func:`poisson` reports overdispersion.

    Parameters
    ----------
    x, y, data, add_constant, weights, cov_type, cluster, hac_lags, conf_level
        As for :func:`poisson`; the outcome must be non-negative counts.
    offset : array-like or str, optional
        Offset on the log scale (array or column name), e.g. ``np.log(exposure)``.
    exposure : array-like or str, optional
        Positive exposure (time at risk, population); the offset ``log(exposure)`` is used. Give ``offset`` or
        ``exposure``, not both.

    Returns
    -------
    RegressionResult
        One row per coefficient (log rate ratios) with z statistics. ``details["fit"]`` adds ``theta`` and
        ``theta_se`` (the ML estimate of theta and its standard error from the observed information, as
        ``glm.nb``'s ``theta`` and ``SE.theta``), ``alpha = 1/theta``, ``twologlik``, ``deviance`` and
        ``null_deviance`` (at the estimated theta), ``aic`` (counting theta as a parameter, as R's ``AIC``),
        ``pearson_chi2``. The classical covariance treats theta as known, as ``summary.glm`` of a ``glm.nb`` fit.
        :meth:`~RegressionResult.predict` works as for :func:`poisson`.

    Notes
    -----
    Fitted as ``glm.nb`` does: a Poisson fit gives the starting means; then IRLS for the coefficients at fixed
    theta alternates with Newton steps on the likelihood of theta at fixed means, until both the
    log-likelihood and theta stop changing (relative 1e-10; ``glm.nb`` stops at about 1e-8). Sandwich
    covariances use scores :math:`w_i (y_i - \\mu_i)/(1 + \\mu_i/\\theta)\\, x_i` and the bread of the weighted
    fit, as ``sandwich::vcovHC``/``vcovCL`` for a ``negbin`` object. Validated against ``MASS::glm.nb``
    (``tests/reference/negbin.R``: ``MASS::quine`` and a simulated data set with an offset).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(5)
    >>> df = pd.DataFrame({"x": rng.normal(size=400), "t": rng.uniform(1, 3, size=400)})
    >>> mu = df.t * np.exp(0.5 + 0.4 * df.x)
    >>> df["y"] = rng.negative_binomial(2.0, 2.0 / (2.0 + mu))
    >>> r = ci.stats.negative_binomial("y ~ x", data=df, exposure="t")
    >>> r.to_frame()["term"].tolist()
    ['(Intercept)', 'x']
    >>> 1.0 < r.fit["theta"] < 4.0
    True
    """
    return _negative_binomial(
        x,
        y,
        data=data,
        add_constant=add_constant,
        weights=weights,
        offset=offset,
        exposure=exposure,
        cov_type=cov_type,
        cluster=cluster,
        hac_lags=hac_lags,
        conf_level=conf_level,
        namespaces=_caller_namespaces(1),
    )


def _negative_binomial(
    x: Any,
    y: Any,
    *,
    data: Any,
    add_constant: bool,
    weights: Any,
    offset: Any,
    exposure: Any,
    cov_type: Any,
    cluster: Any,
    hac_lags: Any,
    conf_level: Any,
    namespaces: list[dict[str, Any]],
) -> RegressionResult:
    """The fit behind :func:`negative_binomial` (and ``glm(family="negative_binomial")``)."""
    cov_type, conf_level, hac_lags = _check_common(cov_type, conf_level, hac_lags)
    if offset is not None and exposure is not None:
        raise ArgumentError("give `offset` or `exposure`, not both (exposure E is the offset log(E))")
    off_arg = offset
    if exposure is not None:
        off_arg = _log_exposure(exposure, data)
    d = _design(
        x,
        y,
        data,
        add_constant=add_constant,
        weights=weights,
        cluster=cluster,
        offset=off_arg,
        cov_type=cov_type,
        namespaces=namespaces,
    )
    _check_glm_outcome("poisson", d)  # also refuses an outcome that is zero in every row
    n = d.X.shape[0]
    check_full_rank(d.X, d.names)
    lags = (default_hac_lags(n) if hac_lags is None else hac_lags) if cov_type == "HAC" else None
    pw = np.ones(n) if d.weights is None else d.weights
    off = np.zeros(n) if d.offset is None else d.offset
    f = _fit_nb(d.X, d.y, pw, off)
    if cov_type == "nonrobust":
        cov = f.bread
    else:
        sw = np.sqrt(f.weight)
        uw = pw * (d.y - f.mu) / (1.0 + f.mu / f.theta) / sw
        cov = sandwich_cov(f.xw, uw, f.bread, cov_type=cov_type, cluster=d.cluster, hac_lags=lags, cluster_adjust="HC0")
    fit_stats = _nb_fit_statistics(d, f, pw, off, cov, cov_type=cov_type, lags=lags)
    terms = _terms(d.names, f.coef, cov, conf_level, None)
    coll, vifs = _collinearity(d.X, d.names, d.intercept)
    diags = [coll, *_few_clusters(fit_stats.get("n_clusters"))]
    if not f.converged:
        diags.append(
            Diagnostic(
                "convergence", "fail", None, "the alternating fit of the coefficients and theta did not converge; estimates are unreliable"
            )
        )
    diags.append(_existence_diagnostic("poisson", d, _MuOnly(f.coef, f.mu)))
    diags.append(_theta_diagnostic(f.theta, f.theta_se))
    if cov_type == "nonrobust" or "wald_statistic" not in fit_stats:
        label, stat_name, stat, sdf, pval = (
            "likelihood-ratio test (theta fixed)",
            "LR chi-squared",
            fit_stats["lr_statistic"],
            fit_stats["lr_df"],
            fit_stats["lr_pvalue"],
        )
        if fit_stats["lr_df"] <= 0:
            stat, sdf, pval = None, None, None
    else:
        label, stat_name = f"Wald chi-squared test with the {cov_type} covariance", "Wald chi-squared"
        stat, sdf, pval = fit_stats["wald_statistic"], fit_stats["wald_df"], fit_stats["wald_pvalue"]
    return RegressionResult(
        method=f"Negative binomial regression (NB2, log link, theta by ML), {_cov_label(cov_type, lags, fit_stats.get('n_clusters'), linear=False)}",
        estimand=f"log rate ratios for {d.response} ({label}: all slopes zero)",
        statistic=stat,
        statistic_name=stat_name,
        df=sdf,
        pvalue=pval,
        conf_level=conf_level,
        alternative="two-sided",
        null_value=0.0,
        n=n,
        diagnostics=tuple(diags),
        terms=terms,
        details={"fit": fit_stats, "cov": pd.DataFrame(cov, index=d.names, columns=d.names), "vif": vifs, "fitted": f.mu},
        provenance=Provenance.current(data_fingerprint=d.fingerprint),
        design=_PredictionDesign(d.design_info, d.offset is not None),
    )


@dataclass(frozen=True)
class _MuOnly:
    coef: np.ndarray
    mu: np.ndarray


def _log_exposure(exposure: Any, data: Any) -> Any:
    if isinstance(exposure, str):
        from ._inputs import _frame_of

        if data is None:
            raise ArgumentError(f"`exposure` is the column name {exposure!r} but no `data` was given; pass data=your_dataframe")
        frame, _ = _frame_of(data)
        if exposure not in frame.columns:
            raise DataError(f"`exposure` names column {exposure!r}, which is not in the data")
        exposure = frame[exposure]
    arr = check_array(exposure, "exposure")
    if np.any(arr <= 0):
        raise DataError(f"`exposure` must be positive (its log is the offset); got {int(np.sum(arr <= 0))} value(s) <= 0")
    logs = np.log(arr)
    return pd.Series(logs, index=exposure.index) if isinstance(exposure, pd.Series) else logs


def _theta_diagnostic(theta: float, se: float) -> Diagnostic:
    if not math.isfinite(theta):
        return Diagnostic(
            "overdispersion",
            "warn",
            None,
            "no overdispersion: the variance of the counts about the Poisson fit does not exceed their mean, so the maximum "
            "likelihood estimate of theta is infinite and the model reduces to Poisson regression (these are its "
            "estimates; R's glm.nb reports a very large theta with an iteration-limit warning). Use poisson()",
        )
    if theta > 1e4:
        return Diagnostic(
            "overdispersion",
            "warn",
            theta,
            f"theta = {theta:.4g} is very large: the counts show no overdispersion and a Poisson model fits as well (simpler)",
        )
    return Diagnostic("overdispersion", "ok", theta, f"theta = {theta:.4g} (SE {se:.3g}): Var(y) = mu + mu^2/theta")


def _nb_fit_statistics(
    d: Any, f: _NBFit, pw: np.ndarray, off: np.ndarray, cov: np.ndarray, *, cov_type: str, lags: int | None
) -> dict[str, Any]:
    from scipy import stats

    n, k = d.X.shape
    dev = _deviance(d.y, f.mu, pw, f.theta)
    if d.intercept:
        ones = np.ones((n, 1))
        _, eta0, _ = _irls(ones, d.y, pw, off, f.theta, np.full(n, math.log(max(float(np.average(d.y, weights=pw)), 1e-8))))
        null_dev = _deviance(d.y, np.exp(eta0), pw, f.theta)
    else:
        null_dev = _deviance(d.y, np.exp(off), pw, f.theta)
    ll = _loglik(d.y, f.mu, pw, f.theta)
    lr_df = float(k - (1 if d.intercept else 0))
    lr = null_dev - dev
    var = f.mu + (f.mu**2 / f.theta if math.isfinite(f.theta) else 0.0)
    out: dict[str, Any] = {
        "n": n,
        "k": k,
        "df_resid": float(n - k),
        "df_null": float(n - (1 if d.intercept else 0)),
        "theta": f.theta,
        "theta_se": f.theta_se,
        "alpha": 1.0 / f.theta if math.isfinite(f.theta) else 0.0,
        "deviance": dev,
        "null_deviance": null_dev,
        "loglik": ll,
        "twologlik": 2 * ll,
        "aic": -2 * ll + 2 * (k + 1),
        "bic": -2 * ll + math.log(n) * (k + 1),
        "pearson_chi2": float(np.sum(pw * (d.y - f.mu) ** 2 / var)),
        "lr_statistic": lr,
        "lr_df": lr_df,
        "lr_pvalue": float(stats.chi2.sf(lr, lr_df)) if lr_df > 0 else math.nan,
        "iterations": f.iterations,
        "converged": f.converged,
        "cov_type": cov_type,
        "inference": "z",
        "model": "negative_binomial",
        "formula": d.formula,
        "response": d.response,
        "weighted": d.weights is not None,
    }
    if cov_type == "HAC":
        out["hac_lags"] = lags
    if cov_type == "cluster":
        out["n_clusters"] = _n_clusters(d.cluster)
    out.update(_slopes_wald(d.names, f.coef, cov, None))
    return out
