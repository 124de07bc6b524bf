"""Generalised linear models of every common family and link, as R's ``glm``, with the package's sandwich covariances.

Validated against R's ``glm`` (``gaussian``, ``binomial`` with logit/probit/cloglog, ``poisson``, ``Gamma``,
``inverse.gaussian``), ``statmod::tweedie`` and ``sandwich`` (``tests/reference/glm.R``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_real, show
from ..exceptions import ArgumentError, DataError
from ..results import Diagnostic, Provenance
from ._glm_checks import dispersion_diagnostics
from ._glm_families import FAMILY_ALIASES, FAMILY_LINKS, LINK_ALIASES, Family, make_family
from ._glm_irls import MAXIT, IRLSFit, irls
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
from ._scale import SCALE_DATA, is_scale_data

__all__ = ["glm"]

_FAMILY_TITLES = {
    "gaussian": "Gaussian",
    "binomial": "Binomial",
    "poisson": "Poisson",
    "gamma": "Gamma",
    "inverse_gaussian": "Inverse Gaussian",
    "tweedie": "Tweedie",
}


@dataclass(frozen=True)
class GLMDesign(_PredictionDesign):
    """The prediction design of a :func:`glm` fit, with the fitting data and offset (for marginal effects and means)."""

    frame: Any = None
    offset: Any = None


def _check_family_link(family: Any, link: Any, var_power: Any) -> tuple[str, str, float | None]:
    """Canonical family and link names; the default link is R's canonical one (log for Tweedie)."""
    fam = str(family).strip().lower().replace(" ", "_") if isinstance(family, str) else family
    fam = FAMILY_ALIASES.get(fam, fam)
    if fam not in FAMILY_LINKS:
        raise ArgumentError(f"`family` must be one of {', '.join(repr(f) for f in FAMILY_LINKS)}; got {show(family)}")
    allowed = FAMILY_LINKS[fam]
    if link is None:
        lk = allowed[0]
    else:
        lk = LINK_ALIASES.get(str(link).strip().lower(), str(link).strip().lower()) if isinstance(link, str) else link
        if lk not in allowed:
            raise ArgumentError(
                f"`link` = {show(link)} is not available for family {fam!r}; use one of {', '.join(repr(a) for a in allowed)} "
                f"(default {allowed[0]!r})"
            )
    if fam == "tweedie":
        if var_power is None:
            raise ArgumentError("family='tweedie' needs `var_power`, the power p of Var(y) = phi mu^p (e.g. 1.5 for p in (1, 2))")
        p = check_real(var_power, "var_power")
        if p < 1:
            raise ArgumentError(
                f"`var_power` must be at least 1 (1: Poisson-like, between 1 and 2: compound Poisson-gamma, 2: gamma, 3: inverse "
                f"Gaussian); got {show(var_power)}"
            )
        return fam, lk, p
    if var_power is not None:
        raise ArgumentError(f"`var_power` applies to family='tweedie' only; got family={fam!r}. Leave it out")
    return fam, lk, None


def _check_outcome(fam: Family, y: np.ndarray, response: str) -> None:
    """Refuse outcomes outside the family's support, as R's ``family$initialize`` does."""
    name = fam.name
    if name == "binomial" and (np.any(y < 0) or np.any(y > 1)):
        bad = y[(y < 0) | (y > 1)]
        raise DataError(
            f"the outcome {response!r} of a binomial GLM must lie in [0, 1] (0/1 outcomes, or proportions of successes with the "
            f"numbers of trials as `weights`); got values such as {show(bad[:4].tolist())}. For counts out of n, pass "
            "y = successes / n and weights = n"
        )
    if name == "poisson" and np.any(y < 0):
        raise DataError(
            f"the outcome {response!r} of a Poisson GLM must be non-negative; got {int(np.sum(y < 0))} negative value(s) (min "
            f"{show(float(np.min(y)))}). Counts cannot be negative: check how the outcome was coded, or use family='gaussian'"
        )
    if name in ("gamma", "inverse_gaussian") and np.any(y <= 0):
        label = "a Gamma" if name == "gamma" else "an inverse Gaussian"
        fix = (
            "Negative values are outside any positive family: model them with family='gaussian' (a log link keeps the mean "
            "positive), or check how the outcome was coded"
            if np.any(y < 0)
            else "Zeros with a positive continuous part suit family='tweedie' with 1 < var_power < 2"
        )
        raise DataError(
            f"the outcome {response!r} of {label} GLM must be positive; got {int(np.sum(y < 0))} negative value(s) and "
            f"{int(np.sum(y == 0))} zero(s) (min {show(float(np.min(y)))}). {fix}"
        )
    if name == "tweedie":
        p = fam.var_power
        if p < 2 and np.any(y < 0):
            raise DataError(f"the outcome {response!r} of a Tweedie GLM with var_power < 2 must be non-negative; got negative values")
        if p >= 2 and np.any(y <= 0):
            raise DataError(
                f"the outcome {response!r} of a Tweedie GLM with var_power >= 2 must be positive; use 1 < var_power < 2 for zeros"
            )
    if fam.link.name == "log" and name == "gaussian" and np.all(y <= 0):
        raise DataError(f"a log link needs a positive mean, but the outcome {response!r} is never positive")


def _null_deviance(y: np.ndarray, pw: np.ndarray, off: np.ndarray, fam: Family, intercept: bool, has_offset: bool) -> float:
    """Deviance of the intercept-only model (with the offset), as ``glm.fit``."""
    if not intercept:
        return float(np.sum(fam.dev_resids(y, fam.link.linkinv(off), pw)))
    if not has_offset:
        return float(np.sum(fam.dev_resids(y, np.full_like(y, np.sum(pw * y) / np.sum(pw)), pw)))
    return irls(np.ones((y.size, 1)), y, pw, off, fam).deviance


def _bread_and_scores(X: np.ndarray, y: np.ndarray, pw: np.ndarray, f: IRLSFit, fam: Family) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X'WX)^{-1}`` at the estimate, the weighted design ``sqrt(W) X`` and the scaled working residuals."""
    mu_eta = fam.link.mu_eta(f.eta)
    var = fam.variance(f.mu)
    W = pw * mu_eta**2 / var
    sW = np.sqrt(W)
    xw = X * sW[:, None]
    rinv = upper_triangular_inverse(np.asarray(np.linalg.qr(xw, mode="r")))
    uw = pw * (y - f.mu) * mu_eta / var / sW  # working residual times working weight, over sqrt(W)
    return rinv @ rinv.T, xw, uw


def _pearson(y: np.ndarray, mu: np.ndarray, pw: np.ndarray, fam: Family) -> float:
    return float(np.sum(pw * (y - mu) ** 2 / fam.variance(mu)))


@vp.validate_params(
    {
        "x": ["formula", "array-like"],
        "y": [None, "sample"],
        "data": [None, "data", *SCALE_DATA],
        "family": vp.Options(tuple(FAMILY_LINKS) + tuple(FAMILY_ALIASES), ignore_case=True),
        "link": [None, vp.Options(("logit", "probit", "cloglog", "log", "identity", "inverse", "inverse_squared", *LINK_ALIASES))],
        "var_power": [None, vp.Interval("real", 1.0)],
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
def glm(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    family: str = "gaussian",
    link: str | None = None,
    var_power: float | None = None,
    add_constant: bool = True,
    weights: Any = None,
    offset: Any = None,
    exposure: Any = None,
    cov_type: str = "nonrobust",
    cluster: Any = None,
    hac_lags: int | None = None,
    conf_level: float = 0.95,
) -> RegressionResult:
    """Generalised linear model of any common family and link, as R's ``glm``.

    Parameters
    ----------
    x, y, data, add_constant, cov_type, cluster, hac_lags, conf_level
        As for :func:`ols`: a formula with ``data``, or a design matrix and an outcome. ``data`` may also be a
        Parquet file or folder (``ci.data.ParquetSource``), a ``ci.data.SQLTable``, a DuckDB relation or a dask
        DataFrame: the fit is then computed inside the engine from per-pass sums (families gaussian, binomial,
        poisson, gamma and inverse_gaussian with the links identity, log, logit, inverse and inverse_squared;
        ``nonrobust``, ``HC0``, ``HC1`` and ``cluster`` covariances; no offset), with the same numbers.
    family : {"gaussian", "binomial", "poisson", "gamma", "inverse_gaussian", "tweedie", "negative_binomial"}
        The outcome's distribution. ``"negative_binomial"`` (log link) estimates theta by maximum likelihood and
        returns :func:`negative_binomial`'s result.
    link : str, optional
        ``"logit"``, ``"probit"``, ``"cloglog"``, ``"log"``, ``"identity"``, ``"inverse"`` or
        ``"inverse_squared"`` (R's ``"1/mu^2"``). Default: R's canonical link (identity, logit, log, inverse,
        inverse_squared), and log for Tweedie. A link the family does not take is refused, naming those it takes.
    var_power : float, optional
        Tweedie only (and required there): the power ``p >= 1`` of :math:`\\mathrm{Var}(y) = \\phi\\mu^p`.
    weights : array-like or str, optional
        Positive prior weights (R's ``glm(weights=)``); for a binomial outcome given as proportions, the numbers
        of trials.
    offset, exposure : array-like or str, optional
        An offset on the link scale, or a positive exposure whose log is the offset (give one of them).

    Returns
    -------
    RegressionResult
        One row per coefficient. With a fixed dispersion (binomial, Poisson) the statistics are z; with an
        estimated dispersion and classical errors they are t on the residual df, as ``summary.glm``; with a robust
        covariance they are z, as ``lmtest::coeftest`` for a ``glm``. ``details["fit"]``: ``deviance``,
        ``null_deviance``, ``df_resid``, ``df_null``, ``dispersion`` (Pearson chi-squared / residual df, 1 for
        binomial and Poisson), ``pearson_chi2``, ``loglik``, ``aic`` and ``bic`` as R's ``logLik``/``AIC``
        (NaN for Tweedie, whose density R does not evaluate either), ``family``, ``link``, ``var_power``.
        Diagnostics: collinearity, convergence, overdispersion (binomial and Poisson: Pearson ratio and the
        Cameron-Trivedi test, pointing to quasi-likelihood errors or the negative binomial) and the variance
        function (other families: the slope of log squared residuals on log means, pointing to the family whose
        variance power fits). :meth:`~RegressionResult.predict` gives means with intervals computed on the link
        scale and mapped back; :func:`lr_test` compares nested fits.

    Notes
    -----
    Fisher scoring (IRLS) from R's starting values, with ``glm.fit``'s step halving, iterated to the fixed point.
    Classical covariance :math:`\\hat\\phi (X'WX)^{-1}`, :math:`W = w\\,(d\\mu/d\\eta)^2/V(\\mu)`; sandwich
    covariances with scores :math:`w (y-\\mu) (d\\mu/d\\eta) / V(\\mu)\\, x`, as ``sandwich::estfun.glm`` (the
    dispersion cancels), HC types ``vcovHC``, ``cluster`` ``vcovCL`` (factor ``G/(G-1)``), HAC ``NeweyWest``.
    Validated against R's ``glm``, ``statmod::tweedie`` and ``sandwich`` (``tests/reference/glm.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(11)
    >>> df = pd.DataFrame({"x": rng.uniform(size=200)})
    >>> df["y"] = rng.gamma(shape=4.0, scale=np.exp(0.5 + df.x) / 4.0)
    >>> r = ci.stats.glm("y ~ x", data=df, family="gamma", link="log")
    >>> r.to_frame()["term"].tolist(), r.fit["family"], r.fit["link"]
    (['(Intercept)', 'x'], 'gamma', 'log')
    >>> 0.15 < r.fit["dispersion"] < 0.4
    True
    """
    fam_name, link_name, p = _check_family_link(family, link, var_power)
    namespaces = _caller_namespaces(1)
    if is_scale_data(data):  # a Parquet file, SQL table, DuckDB relation or dask DataFrame: IRLS from sums in the engine
        opts = {"add_constant": add_constant, "weights": weights, "offset": offset, "exposure": exposure, "cluster": cluster}
        return _glm_at_scale(
            x, y, data, fam_name, link_name, namespaces, cov_type=cov_type, conf_level=conf_level, hac_lags=hac_lags, **opts
        )
    if fam_name == "negative_binomial":
        from ._negbin import _negative_binomial

        return _negative_binomial(x, y, data=data, add_constant=add_constant, weights=weights, offset=offset, exposure=exposure,
                                  cov_type=cov_type, cluster=cluster, hac_lags=hac_lags, conf_level=conf_level, namespaces=namespaces)  # fmt: skip
    cov_type, conf_level, hac_lags = _check_common(cov_type, conf_level, hac_lags)
    if offset is not None and exposure is not None:
        raise ArgumentError("give `offset` or `exposure`, not both (exposure E is the offset log(E))")
    if exposure is not None:
        from ._negbin import _log_exposure

        offset = _log_exposure(exposure, data)
    d = _design(
        x, y, data, add_constant=add_constant, weights=weights, cluster=cluster, offset=offset, cov_type=cov_type, namespaces=namespaces
    )
    fam = make_family(fam_name, link_name, p)
    _check_outcome(fam, d.y, d.response)
    check_full_rank(d.X, d.names)
    return _fit_and_report(d, fam, data, cov_type=cov_type, conf_level=conf_level, hac_lags=hac_lags)


def _glm_at_scale(x: Any, y: Any, data: Any, fam: str, link: str, namespaces: Any, **opts: Any) -> RegressionResult:
    from ._regression import _scale_helpers
    from ._scale_glm import glm_at_scale

    opts["cov_type"], opts["conf_level"], lags = _check_common(opts["cov_type"], opts["conf_level"], opts.pop("hac_lags"))
    if lags is not None:
        raise ArgumentError("`hac_lags` does not apply on a Parquet, SQL or dask `data` (HAC needs the rows in order)")
    helpers = {**_scale_helpers(), "lr_against_null": _lr_against_null, "glm_family_test": _overall_test}
    helpers.update({"family_titles": _FAMILY_TITLES, "GLMDesign": GLMDesign})
    return glm_at_scale(x, y, data, fam, link, helpers, namespaces, **opts)  # type: ignore[no-any-return]


def _fit_and_report(d: Any, fam: Family, data: Any, *, cov_type: str, conf_level: float, hac_lags: int | None) -> RegressionResult:
    n, k = d.X.shape
    lags = (default_hac_lags(n) if hac_lags is None else hac_lags) if cov_type == "HAC" else None
    pw = np.ones(n) if d.weights is None else d.weights
    off = np.zeros(n) if d.offset is None else d.offset
    f = irls(d.X, d.y, pw, off, fam)
    bread, xw, uw = _bread_and_scores(d.X, d.y, pw, f, fam)
    fit_stats = _fit_statistics(d, fam, f, pw, off, cov_type=cov_type, lags=lags)
    if cov_type == "nonrobust":
        cov = fit_stats["dispersion"] * bread
    else:
        cov = sandwich_cov(xw, uw, bread, cov_type=cov_type, cluster=d.cluster, hac_lags=lags, cluster_adjust="HC0")
    t_df = None if fam.fixed_dispersion or cov_type != "nonrobust" else float(n - k)
    fit_stats["inference"] = "z" if t_df is None else "t"
    if t_df is not None:
        fit_stats["inference_df"] = t_df
    fit_stats.update(_slopes_wald(d.names, f.coef, cov, t_df))
    terms = _terms(d.names, f.coef, cov, conf_level, t_df)
    coll, vifs = _collinearity(d.X, d.names, d.intercept)
    diags = [
        coll,
        *_few_clusters(fit_stats.get("n_clusters")),
        *_convergence(f),
        *_existence(d, fam, f),
        *dispersion_diagnostics(d, fam, f.mu, pw, cov_type),
    ]
    label, stat_name, stat, sdf, pval = _overall_test(fit_stats, cov_type, fam)
    title = f"{_FAMILY_TITLES[fam.name]} GLM" + (f" (var_power {fam.var_power:g})" if fam.name == "tweedie" else "")
    return RegressionResult(
        method=f"{title}, {fam.link.name} link, {_cov_label(cov_type, lags, fit_stats.get('n_clusters'), linear=False)}",
        estimand=f"{fam.link.name}-scale coefficients for {d.response} ({label}: all slopes zero)",
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
        design=GLMDesign(d.design_info, d.offset is not None, _fitting_frame(d, data), d.offset),
    )


def _fitting_frame(d: Any, data: Any) -> pd.DataFrame:
    """The fitting data kept for marginal effects and means: the data of a formula fit, or the regressors of a
    design-matrix fit named as its columns (without the added constant)."""
    if d.formula is not None:
        from ._inputs import _frame_of

        return _frame_of(data)[0]
    info = d.design_info
    names = list(info["names"])
    X = d.X
    if info["add_constant"]:
        names, X = names[1:], X[:, 1:]
    return pd.DataFrame(X, columns=names)


def _existence(d: Any, fam: Family, f: IRLSFit) -> list[Diagnostic]:
    """Separation of a 0/1 outcome (any binomial link), or a zero-count cell under a log link (Poisson, Tweedie):
    the linear-programming proof that the estimate is infinite, with a warning, as for :func:`logit`/:func:`poisson`."""
    kind = None
    if fam.name == "binomial" and np.all(np.isin(d.y, (0.0, 1.0))):
        kind = "logit"
    elif fam.name in ("poisson", "tweedie") and fam.link.name == "log" and np.any(d.y == 0):
        kind = "poisson"
    if kind is None:
        return []
    pw = np.ones(d.y.size) if d.weights is None else d.weights
    with np.errstate(all="ignore"):  # the score certifies existence; a fit at the boundary goes to the linear programme
        score = pw * (d.y - f.mu) * fam.link.mu_eta(f.eta) / fam.variance(f.mu)
    return [_existence_diagnostic(kind, d, _ScoredFit(f.coef, f.mu, np.nan_to_num(score, nan=0.0, posinf=0.0, neginf=0.0)))]


@dataclass(frozen=True)
class _ScoredFit:
    coef: np.ndarray
    mu: np.ndarray
    score: np.ndarray  # per-row score of the coefficients: X'score = 0 at the estimate


def _convergence(f: IRLSFit) -> list[Diagnostic]:
    if f.converged:
        return []
    return [Diagnostic("convergence", "fail", None, f"IRLS did not converge in {MAXIT} iterations; the estimates are unreliable")]


def _fit_statistics(d: Any, fam: Family, f: IRLSFit, pw: np.ndarray, off: np.ndarray, *, cov_type: str, lags: int | None) -> dict[str, Any]:
    """Deviances, dispersion, likelihood and information criteria as R's ``glm``, ``summary.glm`` and ``logLik``."""
    n, k = d.X.shape
    pearson = _pearson(d.y, f.mu, pw, fam)
    dispersion = 1.0 if fam.fixed_dispersion else pearson / (n - k)
    aic_family = fam.aic(d.y, f.mu, pw, f.deviance)
    n_par = k + (0 if fam.fixed_dispersion or fam.name == "tweedie" else 1)
    loglik = n_par - k - aic_family / 2 if math.isfinite(aic_family) else math.nan
    out: dict[str, Any] = {
        "n": n,
        "k": k,
        "df_resid": float(n - k),
        "df_null": float(n - (1 if d.intercept else 0)),
        "deviance": f.deviance,
        "null_deviance": _null_deviance(d.y, pw, off, fam, d.intercept, d.offset is not None),
        "dispersion": dispersion,
        "pearson_chi2": pearson,
        "loglik": loglik,
        "aic": -2 * loglik + 2 * n_par,
        "bic": -2 * loglik + math.log(n) * n_par,
        "iterations": f.iterations,
        "converged": f.converged,
        "cov_type": cov_type,
        "model": "glm",
        "family": fam.name,
        "link": fam.link.name,
        "var_power": fam.var_power if fam.name == "tweedie" else None,
        "formula": d.formula,
        "response": d.response,
        "weighted": d.weights is not None,
    }
    out.update(_lr_against_null(out, fam, k - (1 if d.intercept else 0)))
    if cov_type == "HAC":
        out["hac_lags"] = lags
    if cov_type == "cluster":
        out["n_clusters"] = _n_clusters(d.cluster)
    return out


def _lr_against_null(fit: dict[str, Any], fam: Family, df_model: int) -> dict[str, Any]:
    """Deviance test of all slopes: chi-squared with a fixed dispersion, F with an estimated one (``anova.glm``)."""
    from scipy import stats

    drop = fit["null_deviance"] - fit["deviance"]
    if df_model <= 0:
        return {"lr_statistic": drop, "lr_df": 0.0, "lr_pvalue": math.nan}
    if fam.fixed_dispersion:
        return {"lr_statistic": drop, "lr_df": float(df_model), "lr_pvalue": float(stats.chi2.sf(drop, df_model))}
    F = drop / df_model / fit["dispersion"]
    return {
        "lr_statistic": F,
        "lr_df": float(df_model),
        "lr_df2": fit["df_resid"],
        "lr_pvalue": float(stats.f.sf(F, df_model, fit["df_resid"])),
    }


def _overall_test(fit: dict[str, Any], cov_type: str, fam: Family) -> tuple[str, str, Any, Any, Any]:
    if cov_type != "nonrobust" and "wald_statistic" in fit:
        name = "Wald chi-squared"
        return f"Wald chi-squared test with the {cov_type} covariance", name, fit["wald_statistic"], fit["wald_df"], fit["wald_pvalue"]
    if fit["lr_df"] <= 0:
        return "deviance test", "LR chi-squared", None, None, None
    if fam.fixed_dispersion:
        return "likelihood-ratio (deviance) test", "LR chi-squared", fit["lr_statistic"], fit["lr_df"], fit["lr_pvalue"]
    return "deviance F test", "F", fit["lr_statistic"], (fit["lr_df"], fit["lr_df2"]), fit["lr_pvalue"]
