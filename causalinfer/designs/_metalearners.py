"""Heterogeneous effects of a binary treatment: S-, T-, X- and DR-learners, with subgroup effects from doubly robust scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_array, check_choice, check_conf_level, check_int, check_random_state, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError, RoleError
from ..results import Diagnostic, Provenance, Result
from ._common import dataset, emit, matrix, need, numeric, t_inference, treatment_values

__all__ = ["cate"]

LEARNERS = ("s", "t", "x", "dr")
#: Cross-fitted propensity scores are clipped to this range before weighting.
CLIP = (0.01, 0.99)


def _default_regressor(seed: int) -> Any:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=100, min_samples_leaf=5, max_features=0.5, random_state=seed, n_jobs=1)


def _default_classifier() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000)


def _fit(model: Any, x: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.base import clone

    return clone(model).fit(x, y)


def _proba(model: Any, x: np.ndarray) -> np.ndarray:
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(x))[:, 1]
    return np.asarray(model.predict(x), dtype=float)


def dr_scores(
    y: np.ndarray, t: np.ndarray, x: np.ndarray, folds: np.ndarray, outcome_model: Any, propensity_model: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cross-fitted :math:`\\hat\\mu_0, \\hat\\mu_1, \\hat e` and the doubly robust (AIPW) pseudo-outcomes."""
    n = y.size
    mu0, mu1, e = np.empty(n), np.empty(n), np.empty(n)
    for k in np.unique(folds):
        test, train = folds == k, folds != k
        tr1, tr0 = train & (t == 1), train & (t == 0)
        if tr1.sum() < 2 or tr0.sum() < 2:
            raise DataError(
                f"cross-fitting fold {k} leaves {int(tr1.sum())} treated and {int(tr0.sum())} control units to train on; each "
                "group's outcome model needs at least 2: use fewer folds (n_folds) or more data"
            )
        mu1[test] = _fit(outcome_model, x[tr1], y[tr1]).predict(x[test])
        mu0[test] = _fit(outcome_model, x[tr0], y[tr0]).predict(x[test])
        e[test] = _proba(_fit(propensity_model, x[train], t[train]), x[test])
    e_clip = np.clip(e, *CLIP)
    phi = mu1 - mu0 + t * (y - mu1) / e_clip - (1 - t) * (y - mu0) / (1 - e_clip)
    return mu0, mu1, e, phi


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "covariates": [None, "columns"],
        "learner": vp.Options(LEARNERS),
        "outcome_model": [None, vp.HasMethods("fit", "predict", what="a scikit-learn regressor (with fit and predict)")],
        "propensity_model": [None, vp.HasMethods("fit", "predict_proba", what="a scikit-learn classifier (with fit and predict_proba)")],
        "final_model": [None, vp.HasMethods("fit", "predict", what="a scikit-learn regressor (with fit and predict)")],
        "subgroups": [None, "column"],
        "n_folds": vp.Interval("int", 2),
        "folds": [None, "array-like"],
        "random_state": "random_state",
        "conf_level": "conf_level",
    }
)
def cate(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: str | Sequence[str] | None = None,
    learner: str = "dr",
    outcome_model: Any = None,
    propensity_model: Any = None,
    final_model: Any = None,
    subgroups: str | None = None,
    n_folds: int = 5,
    folds: Any = None,
    random_state: int | None = 0,
    conf_level: float = 0.95,
) -> Result:
    """Conditional average treatment effects of a binary treatment with a meta-learner, and effects by subgroup.

    Parameters
    ----------
    data : Dataset or DataFrame
    outcome : str, optional
    treatment : str, optional
        0/1 treatment.
    covariates : str or sequence of str, optional
        Confounders and effect modifiers :math:`X` (numeric).
    learner : {"dr", "s", "t", "x"}
        DR-learner (regress doubly robust pseudo-outcomes on X), S-learner (one outcome model with the treatment
        as a feature), T-learner (one outcome model per arm) or X-learner (Künzel et al. 2019).
    outcome_model : scikit-learn regressor, optional
        Outcome model (default: random forest). Cloned for every fit, never changed.
    propensity_model : scikit-learn classifier, optional
        Propensity model (default: logistic regression); used by the X- and DR-learners and for the subgroup
        effects.
    final_model : scikit-learn regressor, optional
        Second-stage model of the X- and DR-learners (default: same kind as ``outcome_model``).
    subgroups : str, optional
        Column whose values define subgroups (e.g. a covariate or a binned version of one); it need not be a
        covariate.
    n_folds : int
        Cross-fitting folds for the doubly robust scores.
    folds : array-like, optional
        Explicit fold label per row.
    random_state : int, optional
        Seed for the folds and the default models.
    conf_level : float

    Returns
    -------
    Result
        ``estimate``: the average treatment effect, the mean of the cross-fitted doubly robust (AIPW) scores, with
        ``std_error`` :math:`sd(\\phi)/\\sqrt n` and normal CI. ``terms``: one row per subgroup (``"<col>=<value>"``),
        the mean of the scores in the subgroup with its CI (or the overall ATE when no ``subgroups``).
        ``details["cate"]``: per-row CATE predictions of the chosen learner (column ``cate``) and the cross-fitted
        propensity; ``details["by_subgroup"]``: per subgroup, n, the AIPW effect and the learner's average CATE.
        Diagnostic ``"overlap"``: share of propensity scores outside [0.05, 0.95] and the extremes.

    Notes
    -----
    Scores :math:`\\phi_i = \\hat\\mu_1 - \\hat\\mu_0 + T(Y - \\hat\\mu_1)/\\hat e - (1-T)(Y-\\hat\\mu_0)/(1-\\hat e)` from
    cross-fitted nuisance models, with :math:`\\hat e` clipped to [0.01, 0.99]. Averages of :math:`\\phi` over
    subgroups defined by pre-treatment variables are doubly robust estimates of subgroup effects, whatever learner
    produced the individual CATEs. With linear and logistic nuisance models and given folds, scores, subgroup
    effects and T-learner CATEs are checked against a hand-written cross-fitting in R (``tests/reference/cate.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=1000)
    >>> t = (rng.random(1000) < 1 / (1 + np.exp(-x))).astype(int)
    >>> y = x + t * (1 + x) + rng.normal(size=1000)
    >>> df = pd.DataFrame({"y": y, "t": t, "x": x, "high": (x > 0).astype(int)})
    >>> r = ci.designs.cate(df, outcome="y", treatment="t", covariates="x", learner="t",
    ...                     outcome_model=LinearRegression(), subgroups="high")
    >>> r.terms["term"].tolist()
    ['high=0', 'high=1']
    """
    conf_level = check_conf_level(conf_level)
    learner = check_choice(learner, "learner", LEARNERS)
    n_folds = check_int(n_folds, "n_folds", minimum=2)
    ds = dataset(data, outcome=outcome, treatment=treatment, covariates=covariates)
    y = numeric(ds, need(ds, "outcome", "cate"), "outcome")
    t_name = need(ds, "treatment", "cate")
    t = treatment_values(ds)
    if not np.isin(t, (0.0, 1.0)).all():
        raise RoleError(f"treatment {t_name!r} must be 0/1 for cate; it has values {np.unique(t)[:6].tolist()}")
    x = matrix(ds, need(ds, "covariates", "cate"), "covariate")
    n = y.size
    seed = random_state if isinstance(random_state, int) else 0
    outcome_model = _default_regressor(seed) if outcome_model is None else outcome_model
    propensity_model = _default_classifier() if propensity_model is None else propensity_model
    final_model = _default_regressor(seed) if final_model is None else final_model
    for m, name in ((outcome_model, "outcome_model"), (final_model, "final_model")):
        if not (hasattr(m, "fit") and hasattr(m, "predict")):
            raise ArgumentTypeError(f"`{name}` must be a scikit-learn regressor (with fit and predict); got {type(m).__name__}")
    if not (hasattr(propensity_model, "fit") and (hasattr(propensity_model, "predict_proba") or hasattr(propensity_model, "predict"))):
        raise ArgumentTypeError(f"`propensity_model` must be a scikit-learn classifier; got {type(propensity_model).__name__}")
    fold_ids = _fold_labels(folds, random_state, n, n_folds)
    _, _, e, phi = dr_scores(y, t, x, fold_ids, outcome_model, propensity_model)

    tau = _individual_effects(learner, y, t, x, e, phi, fold_ids, outcome_model, final_model)

    ate = float(phi.mean())
    se = float(phi.std(ddof=1) / np.sqrt(n))
    stat, p, lo, hi = t_inference(ate, se, None, conf_level)
    if subgroups is not None:
        terms, rows = _subgroup_effects(ds, subgroups, t, phi, tau, conf_level)
    else:
        rows = []
        terms = [{"term": "ATE", "estimate": ate, "std_error": se, "ci_low": lo, "ci_high": hi, "statistic": stat, "pvalue": p}]
    diags = [_overlap_diagnostic(e)]
    emit(diags, "cate")
    details: dict[str, Any] = {
        "cate": pd.DataFrame({"cate": tau, "propensity": e}),
        "learner": learner,
        "n_folds": int(np.unique(fold_ids).size),
    }
    if rows:
        details["by_subgroup"] = pd.DataFrame(rows)
    name = {"s": "S-learner", "t": "T-learner", "x": "X-learner", "dr": "DR-learner"}[learner]
    return Result(
        method=f"Conditional average treatment effects ({name}, {type(outcome_model).__name__}); average and subgroup effects "
        f"from cross-fitted doubly robust scores ({int(np.unique(fold_ids).size)} folds)",
        estimand=f"average effect of {t_name} on {ds.outcome}" + (f", and by {subgroups}" if subgroups else ""),
        estimate=ate,
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
        details=details,
        terms=pd.DataFrame(terms),
        label="ATE",
        provenance=Provenance.current(random_state=random_state, data_fingerprint=ds.fingerprint()),
    )


def _fold_labels(folds: Any, random_state: Any, n: int, n_folds: int) -> np.ndarray:
    """The given fold label per row, or random folds of near-equal size."""
    if folds is None:
        rng = check_random_state(random_state)
        return rng.permutation(np.arange(n) % n_folds)
    fold_ids = check_array(folds, "folds")
    if fold_ids.size != n:
        raise ArgumentError(f"`folds` must give one fold label per row ({n}); got {fold_ids.size}")
    return fold_ids


def _individual_effects(
    learner: str,
    y: np.ndarray,
    t: np.ndarray,
    x: np.ndarray,
    e: np.ndarray,
    phi: np.ndarray,
    fold_ids: np.ndarray,
    outcome_model: Any,
    final_model: Any,
) -> np.ndarray:
    """Each unit's conditional effect from the chosen meta-learner (S, T, X, or DR with cross-fitted final model)."""
    n = y.size
    if learner == "s":
        m = _fit(outcome_model, np.column_stack([x, t]), y)
        tau = m.predict(np.column_stack([x, np.ones(n)])) - m.predict(np.column_stack([x, np.zeros(n)]))
    elif learner == "t":
        tau = _fit(outcome_model, x[t == 1], y[t == 1]).predict(x) - _fit(outcome_model, x[t == 0], y[t == 0]).predict(x)
    elif learner == "x":
        m1 = _fit(outcome_model, x[t == 1], y[t == 1])
        m0 = _fit(outcome_model, x[t == 0], y[t == 0])
        d1 = y[t == 1] - m0.predict(x[t == 1])
        d0 = m1.predict(x[t == 0]) - y[t == 0]
        tau1 = _fit(final_model, x[t == 1], d1).predict(x)
        tau0 = _fit(final_model, x[t == 0], d0).predict(x)
        tau = np.clip(e, *CLIP) * tau0 + (1 - np.clip(e, *CLIP)) * tau1
    else:
        tau = np.empty(n)
        for k in np.unique(fold_ids):
            test = fold_ids == k
            tau[test] = _fit(final_model, x[~test], phi[~test]).predict(x[test])
    return tau


def _subgroup_effects(
    ds: Any, subgroups: str, t: np.ndarray, phi: np.ndarray, tau: np.ndarray, conf_level: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Mean doubly robust score per level of ``subgroups`` (terms rows and the by-subgroup table rows)."""
    from .._validation import check_column

    rows: list[dict[str, Any]] = []
    terms: list[dict[str, Any]] = []
    check_column(ds.frame, subgroups, "subgroups")
    g = ds.frame[subgroups].to_numpy()
    for level in pd.unique(g):
        mask = g == level
        k = int(mask.sum())
        if k < 2:
            raise DataError(f"subgroup {subgroups}={show(level)} has {k} row(s); each subgroup needs at least 2")
        if t[mask].min() == t[mask].max():
            raise DataError(
                f"subgroup {subgroups}={show(level)} has only {'treated' if t[mask][0] else 'control'} units; its effect is not identified"
            )
        est_g = float(phi[mask].mean())
        se_g = float(phi[mask].std(ddof=1) / np.sqrt(k))
        s_g, p_g, lo_g, hi_g = t_inference(est_g, se_g, None, conf_level)
        label = f"{subgroups}={level}"
        terms.append(
            {"term": label, "estimate": est_g, "std_error": se_g, "ci_low": lo_g, "ci_high": hi_g, "statistic": s_g, "pvalue": p_g}
        )
        rows.append(
            {
                "subgroup": str(level),
                "n": k,
                "effect": est_g,
                "std_error": se_g,
                "ci_low": lo_g,
                "ci_high": hi_g,
                "mean_cate": float(tau[mask].mean()),
            }
        )
    order = np.argsort([str(r["subgroup"]) for r in rows], kind="stable")
    terms = [terms[i] for i in order]
    rows = [rows[i] for i in order]
    return terms, rows


def _overlap_diagnostic(e: np.ndarray) -> Diagnostic:
    """Share of cross-fitted propensity scores outside [0.05, 0.95]."""
    outside = float(np.mean((e < 0.05) | (e > 0.95)))
    status = "ok" if outside <= 0.05 and e.min() > 0.01 and e.max() < 0.99 else "warn"
    return Diagnostic(
        "overlap",
        status,
        outside,
        f"propensity scores range from {e.min():.3g} to {e.max():.3g}; {100 * outside:.3g}% outside [0.05, 0.95]"
        + (
            ""
            if status == "ok"
            else "; some units have almost no comparable units in the other arm, so their effects are extrapolated (scores clipped to [0.01, 0.99])"
        ),
    )
