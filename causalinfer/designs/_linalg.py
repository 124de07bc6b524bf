"""Least squares, two-stage least squares and sandwich covariances in numpy (arrays in, numbers out).

The covariance conventions follow R's ``sandwich`` package so that results can be checked against it:

* ``"nonrobust"`` (also spelled ``"classical"``): :math:`\\hat\\sigma^2 (X'WX)^{-1}` with :math:`\\hat\\sigma^2 = \\sum w_i u_i^2 / (n - k)`;
* ``"HC0"`` / ``"HC1"``: :math:`B M B` with :math:`B = (X'WX)^{-1}`, :math:`M = \\sum_i w_i^2 u_i^2 x_i x_i'`,
  HC1 scaled by :math:`n / (n - k)` (``sandwich::vcovHC``);
* ``"cluster"``: :math:`B (\\sum_g s_g s_g') B` with :math:`s_g = \\sum_{i \\in g} w_i u_i x_i`, scaled by
  :math:`G/(G-1) \\cdot (n-1)/(n-k)` (``sandwich::vcovCL`` with its default ``type = "HC1"``, CR1).

For two-stage least squares ``X`` in the scores and the bread is replaced by the first-stage fitted values
:math:`\\hat X = P_Z X`, while the residuals are the structural ones, :math:`u = y - X\\hat\\beta`
(as ``AER::ivreg`` with ``sandwich``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..exceptions import ArgumentError, DataError

#: The covariance types of the design estimators, in the package's one vocabulary (``normalize_cov_type``
#: also accepts the aliases, such as ``"classical"`` for ``"nonrobust"``).
COV_TYPES = ("nonrobust", "HC0", "HC1", "cluster")


@dataclass(frozen=True)
class LinearFit:
    """A fitted (two-stage) least-squares model: coefficients, covariance, residuals."""

    coef: np.ndarray
    cov: np.ndarray
    resid: np.ndarray
    n: int
    k: int
    n_clusters: int | None
    cov_type: str

    @property
    def std_error(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    @property
    def df_resid(self) -> int:
        return self.n - self.k


def _solve_inverse(a: np.ndarray, names: list[str] | None) -> np.ndarray:
    scale = np.sqrt(np.diag(a))
    if np.any(scale == 0):
        bad = [names[i] for i in np.flatnonzero(scale == 0)] if names else list(np.flatnonzero(scale == 0))
        raise DataError(f"regressor(s) {bad} are identically zero in the estimation sample; remove them")
    scaled = a / np.outer(scale, scale)
    cond = np.linalg.cond(scaled)
    if not np.isfinite(cond) or cond > 1e12:
        what = f" among {names}" if names else ""
        raise DataError(
            f"the regressors are perfectly (or almost perfectly) collinear{what} (condition number {cond:.3g}); remove redundant columns"
        )
    inv = np.linalg.inv(scaled)
    return inv / np.outer(scale, scale)


def sandwich_cov(
    scores_x: np.ndarray,
    resid: np.ndarray,
    bread: np.ndarray,
    *,
    cov_type: str,
    weights: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    k_total: int | None = None,
) -> tuple[np.ndarray, int | None]:
    """Covariance of least-squares coefficients; ``bread`` is :math:`(X'WX)^{-1}`. Returns (cov, n_clusters).

    The robust and clustered cases are :func:`causalinfer.stats._sandwich.sandwich_cov` (``sandwich::vcovHC`` /
    ``vcovCL``); ``k_total`` is the number of coefficients used in the small-sample factors when some were
    partialled out (fixed effects absorbed by demeaning); by default the number of columns of ``scores_x``.
    """
    from ..stats._sandwich import cluster_codes, normalize_cov_type
    from ..stats._sandwich import sandwich_cov as stats_sandwich_cov

    n, k = scores_x.shape
    k = k if k_total is None else k_total
    w = np.ones(n) if weights is None else weights
    cov_type = normalize_cov_type(cov_type, allowed=COV_TYPES)
    if cov_type == "nonrobust":
        sigma2 = float(np.sum(w * resid**2)) / (n - k)
        return sigma2 * bread, None
    if cov_type == "cluster" and cluster is None:
        raise ArgumentError("`cov_type` 'cluster' needs a `cluster` column; name one, or choose cov_type='HC1'")
    sw = np.sqrt(w)
    cov = stats_sandwich_cov(scores_x * sw[:, None], resid * sw, bread, cov_type=cov_type, cluster=cluster, n_params=k)
    g = int(cluster_codes(cluster, n).max()) + 1 if cov_type == "cluster" else None
    return cov, g


def ols(
    y: np.ndarray,
    x: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    cov_type: str = "HC1",
    cluster: np.ndarray | None = None,
    names: list[str] | None = None,
    k_total: int | None = None,
) -> LinearFit:
    """(Weighted) least squares of ``y`` on the columns of ``x`` with a sandwich covariance.

    ``k_total`` counts coefficients absorbed before the fit (e.g. unit fixed effects removed by demeaning).
    """
    n, k = x.shape
    k = k if k_total is None else k_total
    if n <= k:
        raise DataError(f"need more observations than coefficients to fit the regression; got n = {n} and {k} coefficients")
    sw = np.ones(n) if weights is None else weights
    xtx = x.T @ (x * sw[:, None])
    bread = _solve_inverse(xtx, names)
    coef = bread @ (x.T @ (sw * y))
    resid = y - x @ coef
    cov, g = sandwich_cov(x, resid, bread, cov_type=cov_type, weights=weights, cluster=cluster, k_total=k)
    return LinearFit(coef, cov, resid, n, k, g, cov_type)


def demean(values: np.ndarray, groups: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Subtract (weighted) group means from each column of ``values`` (``groups``: integer codes 0..G-1)."""
    v = values if values.ndim == 2 else values[:, None]
    g = int(groups.max()) + 1
    w = np.ones(v.shape[0]) if weights is None else weights
    sums = np.zeros((g, v.shape[1]))
    np.add.at(sums, groups, v * w[:, None])
    tot = np.bincount(groups, weights=w, minlength=g)
    out = v - (sums / tot[:, None])[groups]
    return out if values.ndim == 2 else out[:, 0]


def tsls(
    y: np.ndarray,
    x: np.ndarray,
    z: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    cov_type: str = "HC1",
    cluster: np.ndarray | None = None,
    names: list[str] | None = None,
) -> LinearFit:
    """Two-stage least squares of ``y`` on ``x`` with instrument matrix ``z`` (exogenous columns appear in both)."""
    n, k = x.shape
    if z.shape[1] < k:
        raise DataError(f"2SLS needs at least as many instruments as regressors; got {z.shape[1]} for {k}")
    if n <= k:
        raise DataError(f"need more observations than coefficients; got n = {n} and {k} coefficients")
    sw = np.ones(n) if weights is None else weights
    ztz_inv = _solve_inverse(z.T @ (z * sw[:, None]), None)
    xhat = z @ (ztz_inv @ (z.T @ (x * sw[:, None])))
    bread = _solve_inverse(xhat.T @ (xhat * sw[:, None]), names)
    coef = bread @ (xhat.T @ (sw * y))
    resid = y - x @ coef
    cov, g = sandwich_cov(xhat, resid, bread, cov_type=cov_type, weights=weights, cluster=cluster)
    return LinearFit(coef, cov, resid, n, k, g, cov_type)


def wald_test(coef: np.ndarray, cov: np.ndarray, idx: list[int]) -> float:
    """Wald statistic :math:`b_R' V_R^{-1} b_R` for the joint null that ``coef[idx]`` are all zero."""
    b = coef[idx]
    v = cov[np.ix_(idx, idx)]
    return float(b @ np.linalg.solve(v, b))
