"""Continuous treatments: regression dose-response slopes and the partially linear model by double machine learning."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_array, check_conf_level, check_int, check_random_state
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Diagnostic, Provenance, Result
from ._common import check_cov_type, cov_label, dataset, emit, labels, matrix, need, numeric, t_inference, terms_frame
from ._effect import as_effect
from ._linalg import ols

if TYPE_CHECKING:
    from ..causal._effect import EffectResult

__all__ = ["dose_response", "partially_linear_dml"]


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "covariates": [None, "columns"],
        "cluster": [None, "column"],
        "degree": vp.Interval("int", 1, 5),
        "cov_type": [None, "cov_type"],
        "conf_level": "conf_level",
    }
)
def dose_response(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: str | Sequence[str] | None = None,
    cluster: str | None = None,
    degree: int = 1,
    cov_type: str | None = None,
    conf_level: float = 0.95,
) -> EffectResult:
    """Average marginal effect of a continuous treatment from a regression with a polynomial in the dose.

    Parameters
    ----------
    data : Dataset or DataFrame
    outcome, treatment : str, optional
        Numeric outcome and continuous treatment (dose).
    covariates : str or sequence of str, optional
        Confounders, entered linearly.
    cluster : str, optional
    degree : int
        Degree of the polynomial in the treatment (1 = linear, 2 = quadratic, ...).
    cov_type : {"classical", "HC0", "HC1", "cluster"}, optional
        Default HC1 (cluster-robust with a cluster).
    conf_level : float

    Returns
    -------
    EffectResult
        ``estimate``: the average marginal effect :math:`\\frac1n\\sum_i \\partial E[Y|D,X]/\\partial D` at the
        observed doses (the slope for ``degree=1``), with a delta-method ``std_error``, t-based CI and p-value on
        n - k df; ``terms``: the regression coefficients; ``details["curve"]``: the fitted dose-response (at the
        covariate means) with pointwise CIs on a grid of doses.

    Notes
    -----
    :math:`Y = \\alpha + \\sum_{j=1}^p \\beta_j D^j + X'\\gamma + e`; AME :math:`= \\sum_j j\\beta_j \\overline{D^{j-1}}`,
    a linear combination :math:`a'\\beta` with variance :math:`a'Va`. Under no unmeasured confounding given
    :math:`X` and a correct functional form it is the average derivative of the dose-response curve.
    Validated against R's ``lm`` with ``sandwich::vcovHC`` (``tests/reference/continuous.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=500)
    >>> d = x + rng.normal(size=500)
    >>> y = 2.0 * d + x + rng.normal(size=500)
    >>> r = ci.designs.dose_response(pd.DataFrame({"y": y, "d": d, "x": x}), outcome="y", treatment="d", covariates="x")
    >>> round(r.estimate, 1)
    2.0
    """
    conf_level = check_conf_level(conf_level)
    degree = check_int(degree, "degree", minimum=1, maximum=5)
    ds = dataset(data, outcome=outcome, treatment=treatment, covariates=covariates, cluster=cluster)
    y = numeric(ds, need(ds, "outcome", "dose_response"), "outcome")
    d_name = need(ds, "treatment", "dose_response")
    d = numeric(ds, d_name, "treatment")
    if np.unique(d).size <= degree:
        raise DataError(
            f"treatment {d_name!r} takes {np.unique(d).size} distinct value(s); a degree-{degree} polynomial needs at least {degree + 1}"
        )
    cov_type = check_cov_type(cov_type, ds.cluster)
    w = matrix(ds, ds.covariates, "covariate")
    powers = np.column_stack([d**j for j in range(1, degree + 1)])
    x = np.column_stack([np.ones_like(y), powers, w])
    pnames = [d_name if j == 1 else f"{d_name}^{j}" for j in range(1, degree + 1)]
    names = ["(Intercept)", *pnames, *ds.covariates]
    cl = labels(ds, ds.cluster) if cov_type == "cluster" and ds.cluster else None
    fit = ols(y, x, cov_type=cov_type, cluster=cl, names=names)
    df = float(fit.df_resid)
    a = np.zeros(fit.coef.size)
    for j in range(1, degree + 1):
        a[j] = j * float(np.mean(d ** (j - 1)))
    est = float(a @ fit.coef)
    se = float(np.sqrt(a @ fit.cov @ a))
    stat, p, lo, hi = t_inference(est, se, df, conf_level)
    grid = np.quantile(d, np.linspace(0.02, 0.98, 25))
    wbar = w.mean(axis=0) if w.shape[1] else np.empty(0)
    rows = []
    for g in grid:
        v = np.concatenate([[1.0], [g**j for j in range(1, degree + 1)], wbar])
        m, s = float(v @ fit.coef), float(np.sqrt(v @ fit.cov @ v))
        _, _, l2, h2 = t_inference(m, s, df, conf_level) if s > 0 else (0, 0, m, m)
        rows.append({"dose": float(g), "fitted": m, "std_error": s, "ci_low": l2, "ci_high": h2})
    diags = []
    if degree == 1 and d.size >= 30:
        quad = ols(y, np.column_stack([x, d**2]), cov_type=cov_type, cluster=cl)
        tq = float(quad.coef[-1] / quad.std_error[-1])
        _, pq, _, _ = t_inference(float(quad.coef[-1]), float(quad.std_error[-1]), float(quad.df_resid), 0.95)
        ok = pq >= 0.05
        diags.append(
            Diagnostic(
                "linearity in the dose",
                "ok" if ok else "warn",
                pq,
                f"test of an added squared dose: t = {tq:.3g}, p = {pq:.3g}"
                + ("" if ok else "; the effect is not linear in the dose, try degree=2"),
            )
        )
    emit(diags, "dose_response")
    result = Result(
        method=f"Dose-response regression (polynomial of degree {degree} in the treatment), {cov_label(cov_type)}",
        estimand=f"average marginal effect of {d_name} on {ds.outcome}"
        + (f" adjusting for {', '.join(ds.covariates)}" if ds.covariates else ""),
        estimate=est,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="t",
        df=df,
        pvalue=p,
        alternative="two-sided",
        null_value=0.0,
        n=fit.n,
        diagnostics=tuple(diags),
        details={"curve": pd.DataFrame(rows), "cov_type": cov_type},
        terms=terms_frame(names, fit.coef, fit.std_error, df, conf_level),
        label=f"AME of {d_name}",
        provenance=Provenance.current(data_fingerprint=ds.fingerprint()),
    )
    return as_effect(
        result,
        effect="average marginal effect",
        func=dose_response,
        ds=ds,
        design="continuous",
        options={"degree": degree, "cov_type": cov_type, "conf_level": conf_level},
        group=ds.cluster if cl is not None else None,
        adjusts=True,
    )


def _default_learner(random_state: int) -> Any:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=200, min_samples_leaf=5, max_features=0.5, random_state=random_state, n_jobs=1)


def _check_learner(model: Any, name: str) -> None:
    if not (hasattr(model, "fit") and hasattr(model, "predict")):
        raise ArgumentTypeError(f"`{name}` must be a scikit-learn regressor (with fit and predict); got {type(model).__name__}")


def crossfit_residuals(
    y: np.ndarray, d: np.ndarray, x: np.ndarray, folds: np.ndarray, model_y: Any, model_t: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold residuals :math:`Y - \\hat\\ell(X)` and :math:`D - \\hat m(X)`; models are cloned for every fold."""
    from sklearn.base import clone

    ry = np.empty_like(y)
    rd = np.empty_like(d)
    for k in np.unique(folds):
        test = folds == k
        train = ~test
        ry[test] = y[test] - clone(model_y).fit(x[train], y[train]).predict(x[test])
        rd[test] = d[test] - clone(model_t).fit(x[train], d[train]).predict(x[test])
    return ry, rd


def plr_estimate(ry: np.ndarray, rd: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Partialling-out estimate :math:`\\hat\\theta = \\sum \\tilde d\\tilde y / \\sum \\tilde d^2`, its standard error and scores."""
    n = ry.size
    j = float(np.mean(rd**2))
    theta = float(np.sum(rd * ry) / np.sum(rd**2))
    psi = (ry - theta * rd) * rd
    se = float(np.sqrt(np.mean(psi**2) / j**2 / n))
    return theta, se, psi


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "covariates": [None, "columns"],
        "model_y": [None, vp.HasMethods("fit", "predict", what="a scikit-learn regressor (with fit and predict)")],
        "model_t": [None, vp.HasMethods("fit", "predict", what="a scikit-learn regressor (with fit and predict)")],
        "n_folds": vp.Interval("int", 2),
        "folds": [None, "array-like"],
        "random_state": "random_state",
        "conf_level": "conf_level",
    }
)
def partially_linear_dml(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: str | Sequence[str] | None = None,
    model_y: Any = None,
    model_t: Any = None,
    n_folds: int = 5,
    folds: Any = None,
    random_state: int | None = 0,
    conf_level: float = 0.95,
) -> EffectResult:
    """Effect of a (continuous or binary) treatment in the partially linear model by double machine learning.

    Parameters
    ----------
    data : Dataset or DataFrame
    outcome, treatment : str, optional
    covariates : str or sequence of str, optional
        Confounders :math:`X`; at least one.
    model_y, model_t : scikit-learn regressor, optional
        Learners for :math:`E[Y|X]` and :math:`E[D|X]`; cloned and refitted on every fold, never changed.
        Default: random forests (200 trees, leaves of at least 5).
    n_folds : int
        Number of cross-fitting folds.
    folds : array-like of int, optional
        Explicit fold label per row (overrides ``n_folds`` and ``random_state`` for the split).
    random_state : int, optional
        Seed for the fold split and the default learners.
    conf_level : float

    Returns
    -------
    EffectResult
        ``estimate`` :math:`\\hat\\theta`, ``std_error`` from the orthogonal score, normal CI and p-value.
        Diagnostics: ``"nuisance fit"`` (share of the treatment variance left after removing :math:`E[D|X]`;
        warns when almost none is left, i.e. poor overlap). ``details``: ``r2_outcome`` and ``r2_treatment`` of the
        cross-fitted nuisance predictions, the folds used.

    Notes
    -----
    Model :math:`Y = \\theta D + g(X) + U`, :math:`D = m(X) + V`. With cross-fitted residuals
    :math:`\\tilde Y = Y - \\hat\\ell(X)`, :math:`\\tilde D = D - \\hat m(X)`,
    :math:`\\hat\\theta = \\sum\\tilde D\\tilde Y / \\sum\\tilde D^2` and
    :math:`\\widehat{Var} = \\overline{\\psi^2} / (n\\,\\overline{\\tilde D^2}^2)` with
    :math:`\\psi = (\\tilde Y - \\hat\\theta\\tilde D)\\tilde D` (Chernozhukov et al. 2018, the "partialling out"
    score, DML2). With linear-regression learners and given folds the estimate and standard error are checked
    against a hand-written cross-fitting in R (``tests/reference/continuous.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(400, 3))
    >>> d = x[:, 0] + rng.normal(size=400)
    >>> y = 1.5 * d + x @ [1.0, -1.0, 0.5] + rng.normal(size=400)
    >>> df = pd.DataFrame(x, columns=["x1", "x2", "x3"]).assign(d=d, y=y)
    >>> r = ci.designs.partially_linear_dml(df, outcome="y", treatment="d", covariates=["x1", "x2", "x3"],
    ...                                      model_y=LinearRegression(), model_t=LinearRegression())
    >>> round(r.estimate, 1)
    1.5
    """
    conf_level = check_conf_level(conf_level)
    n_folds = check_int(n_folds, "n_folds", minimum=2)
    ds = dataset(data, outcome=outcome, treatment=treatment, covariates=covariates)
    y = numeric(ds, need(ds, "outcome", "partially_linear_dml"), "outcome")
    d_name = need(ds, "treatment", "partially_linear_dml")
    d = numeric(ds, d_name, "treatment")
    x = matrix(ds, need(ds, "covariates", "partially_linear_dml"), "covariate")
    n = y.size
    if folds is None:
        if n < 2 * n_folds:
            raise DataError(f"need at least {2 * n_folds} rows for {n_folds}-fold cross-fitting; got {n}")
        rng = check_random_state(random_state)
        fold_ids = rng.permutation(np.arange(n) % n_folds)
    else:
        fold_ids = check_array(folds, "folds")
        if fold_ids.size != n:
            raise ArgumentError(f"`folds` must give one fold label per row ({n}); got {fold_ids.size}")
        if np.unique(fold_ids).size < 2:
            raise ArgumentError("`folds` must contain at least two different fold labels")
    seed = random_state if isinstance(random_state, int) else 0
    model_y = _default_learner(seed) if model_y is None else model_y
    model_t = _default_learner(seed) if model_t is None else model_t
    _check_learner(model_y, "model_y")
    _check_learner(model_t, "model_t")
    ry, rd = crossfit_residuals(y, d, x, fold_ids, model_y, model_t)
    if float(np.sum(rd**2)) <= 1e-12 * max(float(np.sum((d - d.mean()) ** 2)), 1e-300):
        raise DataError(f"the covariates predict treatment {d_name!r} perfectly, so no variation is left to estimate its effect")
    theta, se, _ = plr_estimate(ry, rd)
    stat, p, lo, hi = t_inference(theta, se, None, conf_level)
    r2_y = 1 - float(np.mean(ry**2) / np.var(y))
    r2_d = 1 - float(np.mean(rd**2) / np.var(d))
    left = 1 - r2_d
    status = "ok" if left >= 0.05 else "warn"
    diags = [
        Diagnostic(
            "nuisance fit",
            status,
            left,
            f"{100 * left:.3g}% of the treatment variance is not explained by the covariates (cross-fitted R² of E[D|X] {r2_d:.3g}; of E[Y|X] {r2_y:.3g})"
            + (
                ""
                if status == "ok"
                else "; the treatment is nearly determined by the covariates (poor overlap), so the estimate rests on little variation"
            ),
        )
    ]
    emit(diags, "partially_linear_dml")
    result = Result(
        method=f"Double machine learning, partially linear model ({np.unique(fold_ids).size}-fold cross-fitting; "
        f"{type(model_y).__name__} for E[Y|X], {type(model_t).__name__} for E[D|X])",
        estimand=f"constant effect of {d_name} on {ds.outcome} in Y = theta*D + g(X) + U, adjusting for {', '.join(ds.covariates)}",
        estimate=theta,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="z",
        pvalue=p,
        alternative="two-sided",
        null_value=0.0,
        n=n,
        diagnostics=tuple(diags),
        details={"r2_outcome": r2_y, "r2_treatment": r2_d, "n_folds": int(np.unique(fold_ids).size)},
        label=f"effect of {d_name}",
        provenance=Provenance.current(random_state=random_state, data_fingerprint=ds.fingerprint()),
    )
    # re-runs draw new folds (explicit fold labels belong to the original rows)
    return as_effect(
        result,
        effect="average marginal effect",
        func=partially_linear_dml,
        ds=ds,
        design="continuous",
        options={
            "model_y": model_y,
            "model_t": model_t,
            "n_folds": int(np.unique(fold_ids).size),
            "random_state": random_state,
            "conf_level": conf_level,
        },
        adjusts=True,
    )
