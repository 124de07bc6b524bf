"""Least-squares fits and sandwich covariance matrices from plain numpy arrays.

This is the numerical core of the regression functions, kept free of formulas and Result objects so that
other parts of the package (regression adjustment, doubly robust estimators) can call it directly:

>>> import numpy as np
>>> from causalinfer.stats._sandwich import fit_least_squares
>>> rng = np.random.default_rng(0)
>>> X = np.column_stack([np.ones(50), rng.normal(size=50)])
>>> y = X @ [1.0, 2.0] + rng.normal(size=50)
>>> fit = fit_least_squares(X, y, cov_type="HC3")
>>> fit.coef.shape, fit.cov.shape
((2,), (2, 2))
>>> from causalinfer.stats._sandwich import fit_glm
>>> d = (rng.uniform(size=50) < 0.5).astype(float)
>>> fit_glm(X, d, family="logit", cov_type="HC0").cov.shape
(2, 2)

The covariance conventions are those of R's ``sandwich`` package: ``vcovHC`` (HC0-HC3), ``vcovCL`` (one-way
clustering, ``type = "HC1"``, ``cadjust = TRUE``) and ``NeweyWest`` (Bartlett kernel, ``prewhite = FALSE``,
``adjust = FALSE``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _validation as vp
from .._validation import COV_ALIASES, cov_type_key, show
from ..exceptions import ArgumentError, ConvergenceError, DataError

#: Covariance types understood by :func:`sandwich_cov` and the regression functions.
COV_TYPES: tuple[str, ...] = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster", "HAC")

#: Other spellings of the covariance types, as other packages name them (matched ignoring case, "-" and "_").


@vp.validate_params(
    {
        "cov_type": "string",
        "allowed": vp.SequenceOf("string", min_length=1),
        "name": "string",
    }
)
def normalize_cov_type(cov_type: Any, *, allowed: tuple[str, ...] = COV_TYPES, name: str = "cov_type") -> str:
    """The canonical name of a covariance type, accepting the aliases other packages use.

    Canonical names are those of :data:`COV_TYPES` (``"nonrobust"`` is the classical covariance, also accepted as
    ``"classical"``, ``"iid"``, ``"const"``; ``"robust"`` means ``"HC1"``, as in Stata; ``"clustered"``/``"CR1"``
    mean ``"cluster"``; ``"newey-west"`` means ``"HAC"``). ``allowed`` restricts the result to the types a
    caller supports; anything else is an :class:`~causalinfer.exceptions.ArgumentError` listing them.

    >>> normalize_cov_type("classical"), normalize_cov_type("hc3"), normalize_cov_type("Newey-West")
    ('nonrobust', 'HC3', 'HAC')
    """
    import difflib

    choices = ", ".join(repr(c) for c in allowed)
    if not isinstance(cov_type, str):
        raise ArgumentError(f"`{name}` must be one of {choices}; got {show(cov_type)}")
    key = cov_type_key(cov_type)
    canonical = COV_ALIASES.get(key)
    if canonical is None or canonical not in allowed:
        close = difflib.get_close_matches(key, list(COV_ALIASES), n=1, cutoff=0.5)
        hint = f"; did you mean {COV_ALIASES[close[0]]!r}?" if close and COV_ALIASES[close[0]] in allowed else ""
        extra = " here" if canonical is not None else ""
        raise ArgumentError(f"`{name}` must be one of {choices}{extra}; got {show(cov_type)}{hint}")
    return canonical


#: Relative tolerance below which a column counts as a linear combination of earlier ones (R's lm uses 1e-7).
ALIAS_TOL = 1e-7


@dataclass(frozen=True)
class LeastSquaresFit:
    """Coefficients and covariance of a (weighted) least-squares fit.

    Attributes
    ----------
    coef : ndarray (k,)
    cov : ndarray (k, k)
        Covariance matrix of ``coef`` of the requested type.
    df_resid : float
        Residual degrees of freedom ``n - k``.
    residuals, fitted : ndarray (n,)
        ``y - X @ coef`` and ``X @ coef`` (unweighted).
    leverage : ndarray (n,)
        Diagonal of the (weighted) hat matrix.
    sigma2 : float
        ``sum(w * residuals**2) / df_resid``.
    bread : ndarray (k, k)
        ``(X' W X)^{-1}``.
    cov_type : str
    q, r : ndarray
        Thin QR factors of ``sqrt(w) X`` (reused by diagnostics).
    """

    coef: np.ndarray
    cov: np.ndarray
    df_resid: float
    residuals: np.ndarray
    fitted: np.ndarray
    leverage: np.ndarray
    sigma2: float
    bread: np.ndarray
    cov_type: str
    q: np.ndarray
    r: np.ndarray


def aliased_columns(X: np.ndarray, tol: float = ALIAS_TOL) -> list[int]:
    """Indices of columns of ``X`` that are (numerically) linear combinations of the columns before them.

    Mirrors R's ``lm``: a column is aliased when its residual after projection on the earlier non-aliased
    columns has norm below ``tol`` times its own norm.
    """
    norms = np.linalg.norm(X, axis=0)
    if np.all(norms > 0):
        r = np.asarray(np.linalg.qr(X, mode="r"))
        if np.all(np.abs(np.diag(r)) >= tol * norms):
            return []  # fast path: full column rank
    kept: list[int] = []
    out: list[int] = []
    for j in range(X.shape[1]):
        col = X[:, j]
        norm = float(norms[j])
        if norm == 0.0:
            out.append(j)
            continue
        if kept:
            q, _ = np.linalg.qr(X[:, kept])
            resid = col - q @ (q.T @ col)
            if float(np.linalg.norm(resid)) < tol * norm:
                out.append(j)
                continue
        kept.append(j)
    return out


def check_full_rank(X: np.ndarray, names: list[str] | tuple[str, ...], arg: str = "X") -> None:
    """Raise :class:`DataError` naming the aliased columns if ``X`` is not of full column rank."""
    bad = aliased_columns(X)
    if bad:
        which = [names[j] for j in bad]
        raise DataError(
            f"perfect collinearity in `{arg}`: column(s) {which} are exact linear combinations of the other columns "
            f"(R's lm would report NA for them); drop or recombine them"
        )


def upper_triangular_inverse(r: np.ndarray) -> np.ndarray:
    """Inverse of an upper-triangular matrix (LAPACK ``dtrtri``)."""
    from scipy.linalg import lapack

    rinv, info = lapack.dtrtri(np.asfortranarray(r), lower=0)
    if info != 0:
        raise DataError("the design matrix is singular (a column is a linear combination of the others)")
    return np.triu(rinv)


def qr_least_squares(xw: np.ndarray, yw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares coefficients by a thin QR decomposition: ``(coef, rinv, q, r)``, ``bread = rinv @ rinv.T``.

    The one solver behind every least-squares fit of the package (regression, regression adjustment and the
    influence functions of the causal estimators), accurate when columns differ in scale by orders of magnitude.
    """
    n, k = xw.shape
    if n < k:
        raise DataError(f"{n} row(s) cannot fit {k} parameters by least squares; need at least as many rows as parameters")
    q, r = np.linalg.qr(xw, mode="reduced")
    rinv = upper_triangular_inverse(r)
    return rinv @ (q.T @ yw), rinv, q, r


def fit_least_squares(
    X: np.ndarray,
    y: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    cov_type: str = "nonrobust",
    cluster: Any = None,
    hac_lags: int | None = None,
    names: list[str] | tuple[str, ...] | None = None,
) -> LeastSquaresFit:
    """Weighted least squares by QR with a covariance matrix of the requested type.

    Parameters
    ----------
    X : ndarray (n, k)
        Design matrix, including the constant column if wanted. Must have full column rank.
    y : ndarray (n,)
    weights : ndarray (n,), optional
        Positive case weights, as ``lm(weights=)``.
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster", "HAC"}
    cluster : array-like (n,), optional
        Cluster labels for ``cov_type="cluster"``.
    hac_lags : int, optional
        Bartlett lag truncation for ``cov_type="HAC"`` (default ``floor(4 (n/100)^(2/9))``).
    names : sequence of str, optional
        Column names, used in the collinearity error message.
    """
    n, k = X.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    sw = np.sqrt(w)
    xw = X * sw[:, None]
    yw = y * sw
    if n <= k:
        check_full_rank(xw, list(names) if names is not None else [f"x{j}" for j in range(k)])
        raise DataError(f"not enough observations: {n} rows for {k} coefficients; need more rows than coefficients")
    cov_type = normalize_cov_type(cov_type)
    q, r = np.linalg.qr(xw, mode="reduced")
    if np.any(np.abs(np.diag(r)) < ALIAS_TOL * np.linalg.norm(xw, axis=0)):
        check_full_rank(xw, list(names) if names is not None else [f"x{j}" for j in range(k)])
    rinv = upper_triangular_inverse(r)
    coef = rinv @ (q.T @ yw)
    bread = rinv @ rinv.T
    fitted = X @ coef
    resid = y - fitted
    uw = resid * sw
    df_resid = float(n - k)
    sigma2 = float(uw @ uw) / df_resid
    leverage = np.einsum("ij,ij->i", q, q)
    if cov_type == "nonrobust":
        cov = sigma2 * bread
    else:
        cov = sandwich_cov(xw, uw, bread, cov_type=cov_type, leverage=leverage, cluster=cluster, hac_lags=hac_lags)
    return LeastSquaresFit(coef, cov, df_resid, resid, fitted, leverage, sigma2, bread, cov_type, q, r)


@dataclass(frozen=True)
class GLMFit:
    """Coefficients and covariance of a logistic or Poisson GLM (canonical link).

    Attributes
    ----------
    coef, cov : ndarray
    mu : ndarray (n,)
        Fitted means (probabilities for the logit model).
    variance : ndarray (n,)
        Variance function at the fitted means, ``mu (1 - mu)`` or ``mu``.
    deviance, null_deviance, loglik : float
    converged : bool
    iterations : int
    bread : ndarray (k, k)
        ``(X' diag(w V(mu)) X)^{-1}``, the classical covariance.
    """

    coef: np.ndarray
    cov: np.ndarray
    mu: np.ndarray
    variance: np.ndarray
    deviance: float
    null_deviance: float
    loglik: float
    converged: bool
    iterations: int
    bread: np.ndarray


def fit_glm(
    X: np.ndarray,
    y: np.ndarray,
    *,
    family: str = "logit",
    weights: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    cov_type: str = "nonrobust",
    cluster: Any = None,
    hac_lags: int | None = None,
    names: list[str] | tuple[str, ...] | None = None,
) -> GLMFit:
    """Logistic (``family="logit"``) or Poisson (``"poisson"``) regression by IRLS (statsmodels), with sandwich covariances.

    ``weights`` are prior weights (R's ``glm(weights=)``). Every matrix is evaluated at the converged
    coefficients. For ``cov_type="cluster"`` the factor is ``G/(G-1)`` only, as ``sandwich::vcovCL`` uses for
    ``glm`` by default.
    """
    cov_type = normalize_cov_type(cov_type)
    import warnings

    import statsmodels.api as sm
    from scipy.special import expit

    n, k = X.shape
    check_full_rank(X, list(names) if names is not None else [f"x{j}" for j in range(k)])
    if n <= k:
        raise DataError(f"not enough observations: {n} rows for {k} coefficients")
    if family not in ("logit", "poisson"):
        raise ArgumentError(f"`family` must be 'logit' or 'poisson'; got {show(family)}")
    pw = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    fam = sm.families.Binomial() if family == "logit" else sm.families.Poisson()
    model = sm.GLM(y, X, family=fam, var_weights=pw, offset=offset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(method="IRLS", tol=1e-12, maxiter=100)
        deviance = float(res.deviance)
        null_dev = float(res.null_deviance)
        loglik = float(res.llf)
    coef = np.asarray(res.params, dtype=float)
    if not np.all(np.isfinite(coef)):
        raise ConvergenceError(f"the {family} fit did not converge to finite coefficients; check for separation or extreme values")
    eta = X @ coef + (0.0 if offset is None else offset)
    if family == "logit":
        mu = expit(eta)
        vmu = mu * (1.0 - mu)
    else:
        mu = np.exp(eta)
        vmu = mu
    sW = np.sqrt(pw * vmu)
    xw = X * sW[:, None]
    r = np.asarray(np.linalg.qr(xw, mode="r"))
    rinv = upper_triangular_inverse(r)
    bread = rinv @ rinv.T
    if cov_type == "nonrobust":
        cov = bread
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            uw = np.where(sW > 0, pw * (y - mu) / sW, 0.0)
        cov = sandwich_cov(xw, uw, bread, cov_type=cov_type, cluster=cluster, hac_lags=hac_lags, cluster_adjust="HC0")
    history = getattr(res, "fit_history", {}) or {}
    return GLMFit(
        coef, cov, mu, vmu, deviance, null_dev, loglik, bool(getattr(res, "converged", True)), int(history.get("iteration", 0)), bread
    )


def default_hac_lags(n: int) -> int:
    """Newey and West's (1994) rule of thumb ``floor(4 (n/100)^(2/9))``."""
    return math.floor(4 * (n / 100.0) ** (2.0 / 9.0))


def sandwich_cov(
    xw: np.ndarray,
    uw: np.ndarray,
    bread: np.ndarray,
    *,
    cov_type: str,
    leverage: np.ndarray | None = None,
    cluster: Any = None,
    hac_lags: int | None = None,
    cluster_adjust: str = "HC1",
    n_params: int | None = None,
) -> np.ndarray:
    """Sandwich covariance ``B M B`` for estimating equations with scores ``xw[i] * uw[i]``.

    For (weighted) least squares ``xw = sqrt(w) X`` and ``uw = sqrt(w) e``; for a GLM with canonical link
    ``xw = sqrt(W) X`` (``W`` the working weights) and ``uw = (y - mu) * prior_weight / sqrt(W)``. ``bread`` is
    ``(xw' xw)^{-1}``.

    ``HC1`` multiplies HC0 by ``n/(n-k)``; ``HC2``/``HC3`` divide the squared residuals by ``1-h`` and
    ``(1-h)^2``; ``cluster`` sums scores within clusters and multiplies by ``G/(G-1) * (n-1)/(n-k)``
    (``sandwich::vcovCL`` with ``type = "HC1"``, its default for ``lm``; ``cluster_adjust="HC0"`` drops the
    second factor, as ``vcovCL`` does by default for ``glm``); ``HAC`` uses Bartlett weights ``1 - j/(L+1)`` with no
    small-sample factor (``sandwich::NeweyWest(lag = L, prewhite = FALSE)``).

    ``n_params`` is the ``k`` of the small-sample factors when it differs from the columns of ``xw``: fixed
    effects absorbed by demeaning still count as estimated parameters.
    """
    n, p = xw.shape
    k = p if n_params is None else int(n_params)
    if cov_type in ("HC0", "HC1", "HC2", "HC3"):
        u = uw
        if cov_type in ("HC2", "HC3"):
            if leverage is None:
                leverage = np.einsum("ij,jk,ik->i", xw, bread, xw)
            one_minus_h = 1.0 - leverage
            if np.any(one_minus_h <= 1e-12):
                raise DataError(f"{cov_type} is undefined: some observations have leverage 1 (they fit exactly); use HC0 or HC1")
            u = uw / (np.sqrt(one_minus_h) if cov_type == "HC2" else one_minus_h)
        scores = xw * u[:, None]
        meat = scores.T @ scores
        cov = bread @ meat @ bread
        if cov_type == "HC1":
            cov *= n / (n - k)
        return cov
    if cov_type == "cluster":
        codes = cluster_codes(cluster, n)
        g = int(codes.max()) + 1
        scores = xw * uw[:, None]
        summed = np.zeros((g, p))
        np.add.at(summed, codes, scores)
        meat = summed.T @ summed
        adj = g / (g - 1) * ((n - 1) / (n - k) if cluster_adjust == "HC1" else 1.0)
        return adj * (bread @ meat @ bread)
    if cov_type == "HAC":
        lags = default_hac_lags(n) if hac_lags is None else int(hac_lags)
        if lags < 0:
            raise ArgumentError(f"`hac_lags` must be a non-negative integer; got {show(hac_lags)}")
        scores = xw * uw[:, None]
        meat = scores.T @ scores
        for j in range(1, min(lags, n - 1) + 1):
            gamma = scores[j:].T @ scores[:-j]
            meat += (1.0 - j / (lags + 1.0)) * (gamma + gamma.T)
        return bread @ meat @ bread
    raise ArgumentError(f"`cov_type` must be one of {', '.join(repr(c) for c in COV_TYPES)}; got {show(cov_type)}")


def cluster_codes(cluster: Any, n: int) -> np.ndarray:
    """Integer codes 0..G-1 for cluster labels; at least two clusters and no missing labels."""
    import pandas as pd

    if cluster is None:
        raise ArgumentError("`cluster` must be given when cov_type='cluster': pass cluster labels or a column name")
    labels = pd.Series(np.asarray(cluster) if not isinstance(cluster, pd.Series) else cluster.to_numpy())
    if len(labels) != n:
        raise DataError(f"`cluster` must have one label per observation ({n}); got {len(labels)}")
    if labels.isna().any():
        raise DataError(f"`cluster` has {int(labels.isna().sum())} missing label(s); drop those rows or give them a cluster")
    codes, uniques = pd.factorize(labels, sort=True)
    if len(uniques) < 2:
        raise DataError(f"`cluster` must define at least 2 clusters for cluster-robust errors; got {len(uniques)}")
    return np.asarray(codes)
