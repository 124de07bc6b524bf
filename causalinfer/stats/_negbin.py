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
from .._validation import check_array, show
from ..exceptions import ArgumentError, ConvergenceError, DataError
from ..results import Diagnostic, Provenance
from ._regression import (
    RegressionResult,
    _caller_namespaces,
    _check_common,
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
#: Newton decrement below which the likelihood is flat along the step: the coefficients have converged, or (when the
#: estimate does not exist) they drift towards infinity without changing the fit
_FLAT = 1e-20
_OVERFLOW = (
    "the fitted means overflowed while fitting the negative binomial model: the counts are too extreme for it (for "
    "example a single large count among zeros). Check the outcome, or use poisson(..., cov_type='HC0')"
)


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


def _deviance(y: np.ndarray, mu: np.ndarray, pw: np.ndarray, theta: float) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
        if not math.isfinite(theta):
            return float(2 * np.sum(pw * (ylogy - (y - mu))))
        return float(2 * np.sum(pw * (ylogy - (y + theta) * np.log((y + theta) / (mu + theta)))))


def _loglik(y: np.ndarray, mu: np.ndarray, pw: np.ndarray, theta: float) -> float:
    """Log-likelihood; the log-gamma terms are evaluated once per distinct count."""
    from scipy.special import gammaln

    uy, inv = np.unique(y, return_inverse=True)
    wy = np.bincount(inv.ravel(), weights=pw, minlength=uy.size)
    const = -float(wy @ gammaln(uy + 1))
    if not math.isfinite(theta):  # the Poisson limit
        with np.errstate(divide="ignore", invalid="ignore"):
            return const + float(pw @ (np.where(y > 0, y * np.log(mu), 0.0) - mu))
    lg = float(wy @ gammaln(theta + uy)) - float(np.sum(pw)) * (float(gammaln(theta)) - theta * math.log(theta))
    return const + lg + float(pw @ (y * np.log(mu + (y == 0)) - (theta + y) * np.log(theta + mu)))


@dataclass(frozen=True)
class _ThetaTerms:
    """The distinct counts and their total weights: the digamma terms of the theta score depend on y through them."""

    uy: np.ndarray
    wy: np.ndarray
    n: float

    @classmethod
    def of(cls, y: np.ndarray, pw: np.ndarray) -> _ThetaTerms:
        uy, inv = np.unique(y, return_inverse=True)
        return cls(uy, np.bincount(inv.ravel(), weights=pw, minlength=uy.size), float(np.sum(pw)))


def _theta_score_info(t: float, y: np.ndarray, mu: np.ndarray, pw: np.ndarray, tt: _ThetaTerms) -> tuple[float, float]:
    """Score and observed information of theta at fixed means (``MASS::theta.ml``)."""
    from scipy.special import digamma, polygamma

    inv = 1.0 / (mu + t)
    a = (y + t) * inv
    score = float(tt.wy @ digamma(t + tt.uy)) - tt.n * float(digamma(t)) + tt.n * (math.log(t) + 1.0)
    score += float(pw @ np.log(inv)) - float(pw @ a)
    info = -float(tt.wy @ polygamma(1, t + tt.uy)) + tt.n * float(polygamma(1, t)) - tt.n / t
    info += 2.0 * float(pw @ inv) - float(pw @ (a * inv))
    return score, info


def _theta_newton_step(t: float, score: float, info: float) -> float:
    """Newton step for theta, halved while it would leave the parameter space."""
    if not (math.isfinite(score) and math.isfinite(info)) or (info == 0 and score == 0):
        raise ConvergenceError(
            f"the maximum likelihood estimate of theta could not be computed (score {score:.3g}, information {info:.3g} at "
            f"theta = {t:.3g}): the counts are too extreme for the negative binomial model (for example a single large "
            "count among zeros). Check the outcome, or use poisson(..., cov_type='HC0')"
        )
    if info <= 0:  # the likelihood is not concave here: Newton's step would head for a minimum; climb instead
        return t if score > 0 else -t / 2
    step = score / info
    while t + step <= 0:
        step /= 2
    return step


def _theta_start(y: np.ndarray, mu: np.ndarray, pw: np.ndarray) -> float:
    """Moment estimate of theta at the Poisson means, from ``E[(y - mu)^2 - y] = mu^2 / theta`` (close to the MLE, so
    Newton's method converges in a few steps; ``MASS::theta.ml``'s start ``n / sum((y/mu - 1)^2)`` is often far off)."""
    excess = float(pw @ ((y - mu) ** 2 - y))
    t = float(pw @ mu**2) / excess if excess > 0 else 1.0
    return t if t > 0 and math.isfinite(t) else 1.0


def _theta_ml(y: np.ndarray, mu: np.ndarray, pw: np.ndarray, theta0: float | None, tt: _ThetaTerms) -> tuple[float, float, bool]:
    """Newton steps on the profile score of theta at fixed means (``MASS::theta.ml``); returns theta, its SE, converged."""
    t = theta0 if theta0 is not None else tt.n / float(pw @ (y / mu - 1.0) ** 2)
    if not (t > 0 and math.isfinite(t)):
        t = 1.0
    ok = False
    prev = math.inf
    for it in range(_MAXIT):
        step = _theta_newton_step(t, *_theta_score_info(t, y, mu, pw, tt))
        t += step
        # converged when the Newton step is negligible, or when it has stopped shrinking at the rounding noise of the
        # score (a large theta makes the likelihood flat: the score is a small difference of large sums)
        if abs(step) <= 1e-10 * t or (it >= 3 and abs(step) >= 0.5 * prev and abs(step) <= 1e-6 * t):
            ok = True
            break
        prev = abs(step)
    info = _theta_score_info(t, y, mu, pw, tt)[1]
    return t, (1.0 / math.sqrt(info) if info > 0 else math.nan), ok


def _scoring_step(X: np.ndarray, y: np.ndarray, pw: np.ndarray, mu: np.ndarray, theta: float) -> tuple[np.ndarray, float]:
    """One Fisher-scoring step ``(X'WX)^{-1} X'u`` for the coefficients at fixed theta (theta = inf: Poisson), and the
    Newton decrement ``u'X (X'WX)^{-1} X'u`` (twice the log-likelihood gain the step promises).

    The step is taken from the score, so the fixed point is the root of ``X'u = 0`` whatever the accuracy of the
    solve: ``X'WX`` is one BLAS product and a Cholesky factor, with least squares when the factor fails.
    """
    shrink = 1.0 / (1.0 + mu / theta) if math.isfinite(theta) else 1.0
    w = pw * mu * shrink
    g = X.T @ (pw * (y - mu) * shrink)
    step = _gram_solve(X * np.sqrt(w)[:, None], g)
    return step, float(g @ step)


def _gram_solve(xw: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``(xw'xw) b = rhs``: one BLAS product and a Cholesky factor, or the pseudo-inverse when it is singular."""
    from scipy.linalg import LinAlgError, cho_factor, cho_solve

    gram = xw.T @ xw
    try:
        return np.asarray(cho_solve(cho_factor(gram, check_finite=False), rhs, check_finite=False))
    except (LinAlgError, ValueError):
        return np.linalg.pinv(gram) @ rhs


def _relative_step(step: np.ndarray, coef: np.ndarray) -> float:
    return float(np.max(np.abs(step)) / max(float(np.max(np.abs(coef))), 1e-300))


def _settled(step: float, prev: float, tight: float, loose: float) -> bool:
    """Negligible, or no longer shrinking at the rounding noise of the score (a sum of n terms)."""
    return step <= tight or (loose >= step >= 0.5 * prev)


def _poisson_start(
    X: np.ndarray, y: np.ndarray, pw: np.ndarray, off: np.ndarray, coef: np.ndarray | None = None, tol: float = 1e-13
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Poisson maximum likelihood by Fisher scoring (``glm.nb``'s starting fit) to relative step ``tol``: coefficients,
    means, converged."""
    if coef is None:
        eta = np.log(np.maximum(y, 0.1))
        mu = np.exp(eta)
        coef = _gram_solve(X * np.sqrt(pw * mu)[:, None], X.T @ (pw * mu * (eta - off + (y - mu) / mu)))
    prev = math.inf
    for _ in range(_MAXIT):
        mu = np.exp(X @ coef + off)
        step, decrement = _scoring_step(X, y, pw, mu, math.inf)
        coef = coef + step
        rel = _relative_step(step, coef)
        if _settled(rel, prev, tol, max(tol, 1e-10)) or decrement <= _FLAT:
            return coef, np.exp(X @ coef + off), True
        prev = rel
    return coef, np.exp(X @ coef + off), False


def _fit_nb(X: np.ndarray, y: np.ndarray, pw: np.ndarray, off: np.ndarray) -> _NBFit:
    """Maximum likelihood for the coefficients and theta from the Poisson fit, as ``glm.nb`` (same estimate).

    Each iteration takes one Fisher-scoring step for the coefficients at the current theta and one Newton step for
    theta at the new means. The coefficients and theta are orthogonal (their cross information has mean zero), so
    this converges about as fast as Newton's method on both, with one ``X'WX`` product per iteration and no
    likelihood evaluations (``glm.nb`` runs IRLS to convergence between theta updates).
    """
    coef, mu, ok = _poisson_start(X, y, pw, off, tol=1e-4)
    # d loglik / d(1/theta) at the Poisson fit is sum(w ((y - mu)^2 - y)) / 2: when it is not positive the counts are
    # not overdispersed and the likelihood is largest in the Poisson limit (theta = infinity); decided at the
    # converged Poisson fit when the rough one leaves it in doubt
    excess = float(pw @ ((y - mu) ** 2 - y))
    if excess <= 1e-6 * float(pw @ y):
        coef, mu, ok = _poisson_start(X, y, pw, off, coef)
        if float(pw @ ((y - mu) ** 2 - y)) <= 0:
            return _nb_result(X, pw, coef, mu, math.inf, math.nan, 0, ok)
    tt = _ThetaTerms.of(y, pw)
    theta = _theta_start(y, mu, pw)
    prev_b = prev_t = math.inf
    converged = False
    it = 0
    while it < _MAXIT and not converged:
        it += 1
        step, decrement = _scoring_step(X, y, pw, mu, theta)
        coef = coef + step
        mu = np.exp(X @ coef + off)
        if not np.all(np.isfinite(mu)):
            raise ConvergenceError(_OVERFLOW)
        score, info = _theta_score_info(theta, y, mu, pw, tt)
        t_step = _theta_newton_step(theta, score, info)
        theta += t_step
        rel_b, rel_t = _relative_step(step, coef), abs(t_step) / theta
        settled_b = _settled(rel_b, prev_b, 1e-13, 1e-10) or decrement <= _FLAT
        converged = settled_b and _settled(rel_t, prev_t, 1e-11, 1e-7)
        prev_b, prev_t = rel_b, rel_t
    _, info = _theta_score_info(theta, y, mu, pw, tt)
    return _nb_result(X, pw, coef, mu, theta, 1.0 / math.sqrt(info) if info > 0 else math.nan, it, converged)


def _nb_result(X: np.ndarray, pw: np.ndarray, coef: np.ndarray, mu: np.ndarray, theta: float, theta_se: float, it: int, ok: bool) -> _NBFit:
    """The fit with its bread ``(X'WX)^{-1}``: from the Cholesky factor of ``X'WX`` when that is well conditioned,
    else from the thin QR factor of the weighted design (the accurate, slower route)."""
    w = pw * mu / (1.0 + mu / theta) if math.isfinite(theta) else pw * mu
    xw = X * np.sqrt(w)[:, None]
    r = gram_cholesky(xw, max_cond=1e6)
    if r is None:
        r = np.asarray(np.linalg.qr(xw, mode="r"))
    rinv = upper_triangular_inverse(r)
    return _NBFit(coef, mu, theta, theta_se, rinv @ rinv.T, xw, w, it, ok)


def gram_cholesky(X: np.ndarray, max_cond: float = 1e8) -> np.ndarray | None:
    """Upper-triangular ``R`` with ``R'R = X'X`` (the QR factor of ``X`` up to signs) from one BLAS product, or None
    when the column-scaled ``X'X`` has condition number above ``max_cond`` (then use a QR decomposition of ``X``).

    Below ``1e8`` the scaled ``X`` has condition number below ``1e4``, far from the rank tolerance, so ``X`` has
    full column rank.
    """
    gram = X.T @ X
    d = np.sqrt(np.diag(gram))
    if not np.all(np.isfinite(gram)) or np.any(d == 0):
        return None
    scaled = gram / np.outer(d, d)
    if np.linalg.cond(scaled) > max_cond:
        return None
    return np.asarray(np.linalg.cholesky(scaled)).T * d


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
    The estimate of ``glm.nb``, reached faster: a Poisson fit gives the starting means and a moment estimate of
    theta; then each iteration takes one Fisher-scoring step for the coefficients (one ``X'WX`` product) and one
    Newton step for theta, until both stop changing (relative steps about 1e-13 and 1e-11; ``glm.nb`` alternates
    full IRLS runs with theta fits and stops at about 1e-8). Where the likelihood of theta is not concave (a few
    extreme counts) the theta step climbs instead of following Newton, so the fit reaches the maximum where
    ``glm.nb`` can stop at a huge theta with a NaN standard error. Existence of the estimate is certified by the
    fitted score; the linear programme of :func:`poisson` runs only when that fails. Sandwich
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
    _check_counts(d.y, d.response)
    n = d.X.shape[0]
    gram_r = gram_cholesky(d.X)
    if gram_r is None:
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
    coll, vifs = _collinearity(d.X, d.names, d.intercept, gram_r)
    diags = [coll, *_few_clusters(fit_stats.get("n_clusters"))]
    if not f.converged:
        diags.append(
            Diagnostic(
                "convergence", "fail", None, "the alternating fit of the coefficients and theta did not converge; estimates are unreliable"
            )
        )
    score = pw * (d.y - f.mu) / (1.0 + f.mu / f.theta) if math.isfinite(f.theta) else pw * (d.y - f.mu)
    diags.append(_existence_diagnostic("poisson", d, _MuOnly(f.coef, f.mu, score)))
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


def _check_counts(y: np.ndarray, response: str) -> None:
    """Non-negative integer counts, not all zero."""
    if np.any(y < 0):
        raise DataError(
            f"the outcome {response!r} of a negative binomial regression must be non-negative counts; got {int(np.sum(y < 0))} "
            f"negative value(s) (min {show(float(np.min(y)))}). Check how the outcome was coded"
        )
    if np.any(y != np.round(y)):
        bad = y[y != np.round(y)]
        raise DataError(
            f"the outcome {response!r} of a negative binomial regression must be counts (integers); got {bad.size} non-integer "
            f"value(s) such as {show(float(bad[0]))}. For a non-negative continuous outcome use glm(family='poisson', "
            "cov_type='HC0') (quasi-Poisson) or glm(family='tweedie', var_power=1.5)"
        )
    if not np.any(y > 0):
        raise DataError(
            f"the outcome {response!r} is zero in every row: there is no rate to estimate (the maximum-likelihood "
            "intercept runs off to minus infinity); model a variable with at least one positive count"
        )


@dataclass(frozen=True)
class _MuOnly:
    coef: np.ndarray
    mu: np.ndarray
    score: np.ndarray  # the per-row score of the coefficients, X'score = 0 at the estimate


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


def _null_means(y: np.ndarray, pw: np.ndarray, off: np.ndarray, theta: float, has_offset: bool) -> np.ndarray:
    """Means of the intercept-only model at the fitted theta: the weighted mean, or Fisher scoring with an offset."""
    mean = float(np.average(y, weights=pw))
    if not has_offset:
        return np.full(y.size, mean)
    ones = np.ones((y.size, 1))
    b = np.array([math.log(max(mean, 1e-8)) - float(np.average(off, weights=pw))])
    prev = math.inf
    for _ in range(_MAXIT):
        step, decrement = _scoring_step(ones, y, pw, np.exp(b[0] + off), theta)
        b = b + step
        rel = _relative_step(step, b)
        if _settled(rel, prev, 1e-13, 1e-10) or decrement <= _FLAT:
            break
        prev = rel
    return np.exp(b[0] + off)


def _nb_fit_statistics(
    d: Any, f: _NBFit, pw: np.ndarray, off: np.ndarray, cov: np.ndarray, *, cov_type: str, lags: int | None
) -> dict[str, Any]:
    from scipy import stats

    n, k = d.X.shape
    dev = _deviance(d.y, f.mu, pw, f.theta)
    if d.intercept:
        null_dev = _deviance(d.y, _null_means(d.y, pw, off, f.theta, d.offset is not None), pw, f.theta)
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
