"""Two-period panel difference-in-differences with covariates (Sant'Anna and Zhao 2020), on plain arrays.

Each estimator takes the outcome change ``dy`` (post minus base period), a 0/1 treated indicator ``d`` and a
covariate matrix ``x`` whose first column is the intercept, and returns the ATT with its influence function
``inf`` in the convention of the R package ``DRDID``: mean zero, ``var(ATT) ~ mean(inf**2) / n``.

- ``reg``: outcome regression of ``dy`` on ``x`` among the comparison units (``DRDID::reg_did_panel``);
- ``ipw``: normalised (Hajek) inverse probability weighting with a logit propensity score
  (``DRDID::std_ipw_did_panel``);
- ``dr``: the locally efficient doubly robust estimator with a logit propensity score and least-squares outcome
  regression (``DRDID::drdid_panel``; what ``did::att_gt`` and ``csdid`` run for ``est_method = "dr"``);
- ``dr_imp``: the improved doubly robust estimator (``DRDID::drdid_imp_panel``): a calibrated
  propensity score (inverse probability tilting, Graham, Pinto and Egel 2012) whose odds weights balance the
  covariate means of the treated exactly, and a regression fitted by those weights, so that the estimation of
  both nuisance models leaves the influence function unchanged.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import DataError

#: Fitted propensity scores are capped here, as DRDID does, so that the odds of a comparison unit stay finite.
PS_CAP = 1.0 - 1e-6
#: Comparison units with a propensity score at or above this level get no weight (DRDID's ``trim.level``).
TRIM = 0.995


def _lstsq(x: np.ndarray, y: np.ndarray, w: np.ndarray, what: str) -> np.ndarray:
    """Weighted least-squares coefficients; a DataError when the covariates are collinear among the fitted units."""
    sw = np.sqrt(w)
    xw = x * sw[:, None]
    if np.linalg.matrix_rank(xw) < x.shape[1]:
        raise DataError(
            f"the covariates are collinear among the {what} of a group-time cell (or there are fewer such units than covariates); "
            "drop redundant covariates or use fewer"
        )
    coef, *_ = np.linalg.lstsq(xw, y * sw, rcond=None)
    return coef


def logit_fit(d: np.ndarray, x: np.ndarray, *, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood logit of ``d`` on ``x`` by Newton steps: (fitted probabilities, inverse information / n).

    The second value is ``n * vcov`` of R's ``glm``, the matrix DRDID multiplies the score by.
    """
    n, k = x.shape
    beta = np.zeros(k)
    for _ in range(max_iter):
        eta = x @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1.0 - p)
        grad = x.T @ (d - p)
        hess = (x * w[:, None]).T @ x
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12 * (1.0 + np.max(np.abs(beta))):
            break
    eta = x @ beta
    p = 1.0 / (1.0 + np.exp(-eta))
    hess = (x * (p * (1.0 - p))[:, None]).T @ x
    return p, np.linalg.inv(hess) * n


def calibrated_pscore(d: np.ndarray, x: np.ndarray, *, max_iter: int = 200) -> np.ndarray:
    """Propensity scores whose odds weights balance the covariate means: :math:`\\sum_{D=1} x = \\sum_{D=0} e^{x'\\gamma} x`.

    Minimises the strictly convex loss :math:`-\\bar{(D x'\\gamma - (1-D) e^{x'\\gamma})}` of DRDID's ``pscore.cal`` by
    damped Newton steps, starting from the logit fit (as DRDID does); the minimiser is unique, so the answer does not
    depend on the optimiser.
    """
    treated, control = d == 1, d == 0
    start, _ = logit_fit(d, x)
    gamma = np.linalg.lstsq(x, np.log(start / (1.0 - start)), rcond=None)[0]
    target = x[treated].sum(axis=0)
    xc = x[control]

    def loss(g: np.ndarray) -> float:
        return float(-(x[treated] @ g).sum() + np.exp(xc @ g).sum())

    current = loss(gamma)
    for _ in range(max_iter):
        e = np.exp(xc @ gamma)
        grad = (xc * e[:, None]).sum(axis=0) - target
        hess = (xc * e[:, None]).T @ xc
        step = np.linalg.solve(hess, grad)
        size = 1.0
        while True:
            trial = gamma - size * step
            new = loss(trial)
            if np.isfinite(new) and new <= current + 1e-4 * size * -(grad @ step):
                break
            size /= 2.0
            if size < 1e-12:
                break
        gamma, current = trial, new
        if np.max(np.abs(size * step)) < 1e-12 * (1.0 + np.max(np.abs(gamma))):
            break
    if not np.isfinite(current):
        raise DataError(
            "the calibrated propensity score of a group-time cell does not exist: the covariates separate treated from comparison units"
        )
    return 1.0 / (1.0 + np.exp(-(x @ gamma)))


def reg_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Outcome-regression DiD (Heckman, Ichimura and Todd 1997) and its influence function (``DRDID::reg_did_panel``)."""
    n = dy.size
    control = d == 0
    coef = _lstsq(x[control], dy[control], np.ones(int(control.sum())), "comparison units")
    fit = x @ coef
    w_treat = d.astype(float)
    eta_treat = (w_treat * dy).mean() / w_treat.mean()
    eta_cont = (w_treat * fit).mean() / w_treat.mean()
    w_ols = 1.0 - w_treat
    xpx_inv = np.linalg.inv((x * w_ols[:, None]).T @ x / n)
    lin_ols = (x * (w_ols * (dy - fit))[:, None]) @ xpx_inv
    inf_treat = (w_treat * dy - w_treat * eta_treat) / w_treat.mean()
    m1 = (x * w_treat[:, None]).mean(axis=0)
    inf_cont = (w_treat * fit - w_treat * eta_cont + lin_ols @ m1) / w_treat.mean()
    return float(eta_treat - eta_cont), inf_treat - inf_cont


def _trimmed_pscore(d: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logit propensity scores capped below 1, the 0/1 trimming weights and the inverse information (times n).

    Comparison units with a fitted score of ``TRIM`` or more get weight 0 (DRDID's ``trim.level``); treated units
    are never trimmed.
    """
    ps, hess_inv = logit_fit(d, x)
    ps = np.minimum(ps, PS_CAP)
    keep = np.where(d == 1, 1.0, (ps < TRIM).astype(float))
    return ps, keep, hess_inv


def ipw_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Normalised inverse-probability-weighted DiD (Abadie 2005) and its influence function (``DRDID::std_ipw_did_panel``)."""
    ps, keep, hess_inv = _trimmed_pscore(d, x)
    w_treat = keep * d
    w_cont = keep * ps * (1.0 - d) / (1.0 - ps)
    eta_treat = (w_treat * dy).mean() / w_treat.mean()
    eta_cont = (w_cont * dy).mean() / w_cont.mean()
    lin_ps = (x * (d - ps)[:, None]) @ hess_inv
    inf_treat = (w_treat * dy - w_treat * eta_treat) / w_treat.mean()
    m2 = (x * (w_cont * (dy - eta_cont))[:, None]).mean(axis=0)
    inf_cont = (w_cont * dy - w_cont * eta_cont + lin_ps @ m2) / w_cont.mean()
    return float(eta_treat - eta_cont), inf_treat - inf_cont


def dr_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Locally efficient doubly robust DiD (Sant'Anna and Zhao 2020, eq. 3.1) with a logit propensity score and an
    outcome regression fitted by least squares on the comparison units (``DRDID::drdid_panel``, what ``did::att_gt``
    runs for ``est_method = "dr"``), and its influence function, which accounts for the estimation of both models."""
    n = dy.size
    ps, keep, hess_inv = _trimmed_pscore(d, x)
    control = d == 0
    coef = _lstsq(x[control], dy[control], np.ones(int(control.sum())), "comparison units")
    resid = dy - x @ coef
    w_treat = keep * d
    w_cont = keep * ps * (1.0 - d) / (1.0 - ps)
    eta_treat = (w_treat * resid).mean() / w_treat.mean()
    eta_cont = (w_cont * resid).mean() / w_cont.mean()
    w_ols = 1.0 - d
    xpx_inv = np.linalg.inv((x * w_ols[:, None]).T @ x / n)
    lin_ols = (x * (w_ols * resid)[:, None]) @ xpx_inv
    lin_ps = (x * (d - ps)[:, None]) @ hess_inv
    inf_treat = (w_treat * resid - w_treat * eta_treat - lin_ols @ (x * w_treat[:, None]).mean(axis=0)) / w_treat.mean()
    m2 = (x * (w_cont * (resid - eta_cont))[:, None]).mean(axis=0)
    m3 = (x * w_cont[:, None]).mean(axis=0)
    inf_cont = (w_cont * resid - w_cont * eta_cont + lin_ps @ m2 - lin_ols @ m3) / w_cont.mean()
    return float(eta_treat - eta_cont), inf_treat - inf_cont


def dr_imp_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Improved doubly robust DiD (Sant'Anna and Zhao 2020) and its influence function (``DRDID::drdid_imp_panel``)."""
    ps = np.minimum(calibrated_pscore(d, x), PS_CAP)
    control = d == 0
    odds = ps / (1.0 - ps)
    coef = _lstsq(x[control], dy[control], odds[control], "comparison units")
    fit = x @ coef
    w_treat = d.astype(float)
    w_cont = odds * (1.0 - w_treat)
    att_treat = w_treat * (dy - fit)
    att_cont = w_cont * (dy - fit)
    eta_treat = att_treat.mean() / w_treat.mean()
    eta_cont = att_cont.mean() / w_cont.mean()
    inf_treat = (att_treat - w_treat * eta_treat) / w_treat.mean()
    inf_cont = (att_cont - w_cont * eta_cont) / w_cont.mean()
    return float(eta_treat - eta_cont), inf_treat - inf_cont


ESTIMATORS = {"reg": reg_did, "ipw": ipw_did, "dr": dr_did, "dr_imp": dr_imp_did}
