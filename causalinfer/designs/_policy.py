"""Whom to treat: the value of a targeting rule from doubly robust scores, and shallow policy trees with a budget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_conf_level, check_int, check_real, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Provenance, Result
from ._cate_models import CATEModel, DRLearner, binary_treatment, covariate_matrix, fold_labels
from ._common import dataset, need, numeric, t_inference
from ._heterogeneity import _held_out_cate
from ._metalearners import _default_classifier, _default_regressor, dr_scores

__all__ = ["policy_tree", "policy_value"]


def _inputs(
    data: Any, outcome: Any, treatment: Any, covariates: Any, func: str
) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    ds = dataset(data, outcome=outcome, treatment=treatment, covariates=covariates)
    y = numeric(ds, need(ds, "outcome", func), "outcome")
    t = binary_treatment(numeric(ds, need(ds, "treatment", func), "treatment"), "treatment")
    names = list(need(ds, "covariates", func))
    x, _ = covariate_matrix(ds.frame[names], names, "covariates")
    return ds, y, t, x, names


def _scores(y: np.ndarray, t: np.ndarray, x: np.ndarray, folds: np.ndarray, om: Any, pm: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Cross-fitted DR scores of the control mean and of the effect."""
    om = _default_regressor(seed) if om is None else om
    pm = _default_classifier() if pm is None else pm
    mu0, _, e, phi = dr_scores(y, t, x, folds, om, pm)
    e = np.clip(e, 0.01, 0.99)
    gamma0 = mu0 + (1 - t) * (y - mu0) / (1 - e)
    return gamma0, phi


def _value_terms(gamma0: np.ndarray, phi: np.ndarray, treat: np.ndarray, cost: float, conf_level: float) -> list[dict[str, Any]]:
    """Mean outcome net of cost under the rule, and its gain over treating no one and everyone (influence-function SEs)."""
    n = phi.size
    rows = []
    for name, vals in (
        ("value", gamma0 + treat * (phi - cost)),
        ("gain_over_treat_none", treat * (phi - cost)),
        ("gain_over_treat_all", (treat - 1) * (phi - cost)),
        ("value_treat_all", gamma0 + phi - cost),
        ("value_treat_none", gamma0),
    ):
        est, se = float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(n))
        stat, p, lo, hi = t_inference(est, se, None, conf_level)
        rows.append({"term": name, "estimate": est, "std_error": se, "ci_low": lo, "ci_high": hi, "statistic": stat, "pvalue": p})
    return rows


_COMMON = {
    "data": "data",
    "outcome": [None, "column"],
    "treatment": [None, "column"],
    "covariates": [None, "columns"],
    "outcome_model": [None, vp.HasMethods("fit", "predict", what="a scikit-learn regressor (with fit and predict)")],
    "propensity_model": [None, vp.HasMethods("fit", "predict_proba", what="a scikit-learn classifier (with fit and predict_proba)")],
    "cost": vp.Interval("real", None, None),
    "n_folds": vp.Interval("int", 2),
    "random_state": "random_state",
    "conf_level": "conf_level",
}


@vp.validate_params({**_COMMON, "model": [None, vp.InstanceOf("causalinfer.designs._cate_models:CATEModel")], "rule": [None, "column"]})
def policy_value(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: str | Sequence[str] | None = None,
    rule: str | None = None,
    model: Any = None,
    cost: float = 0.0,
    outcome_model: Any = None,
    propensity_model: Any = None,
    n_folds: int = 5,
    random_state: int | None = 0,
    conf_level: float = 0.95,
) -> Result:
    """Value of treating the units whose predicted effect exceeds ``cost`` (or of a given 0/1 ``rule``).

    Parameters
    ----------
    data : Dataset or DataFrame
    outcome, treatment, covariates : str, optional
    rule : str, optional
        A 0/1 column saying whom the rule treats. Without it the rule is "treat if the CATE exceeds ``cost``",
        with each unit's CATE from ``model`` fitted on the other folds (so its own outcome plays no part).
    model : CATEModel, optional
        Default ``DRLearner()``.
    cost : float, default 0
        Cost of treating one unit, in outcome units; subtracted from the effect of every treated unit.
    outcome_model, propensity_model, n_folds, random_state, conf_level
        Nuisance models and cross-fitting of the doubly robust scores.

    Returns
    -------
    Result
        ``estimate``: gain of the rule over treating no one, :math:`\\frac1n\\sum_i \\pi_i(\\phi_i - c)`, with
        influence-function SE. ``terms``: ``value`` (mean outcome net of costs under the rule), the gains over
        treating no one and everyone, and the values of those two rules. ``details['share_treated']``,
        ``details['rule']`` (per-unit decision and held-out CATE).

    Notes
    -----
    :math:`\\phi_i` are cross-fitted AIPW scores of the effect and
    :math:`\\Gamma_{0i} = \\hat\\mu_0 + (1-T)(Y-\\hat\\mu_0)/(1-\\hat e)` of the control mean (Athey & Wager 2021).
    The interval treats the rule as fixed; for a rule learned from held-out folds this is the usual
    cross-fitted approximation.
    """
    conf_level = check_conf_level(conf_level)
    cost = check_real(cost, "cost")
    ds, y, t, x, names = _inputs(data, outcome, treatment, covariates, "policy_value")
    seed = random_state if isinstance(random_state, int) else 0
    folds = fold_labels(y.size, check_int(n_folds, "n_folds", minimum=2), seed, t)
    gamma0, phi = _scores(y, t, x, folds, outcome_model, propensity_model, seed)
    if rule is not None:
        from .._validation import check_column

        check_column(ds.frame, rule, "rule")
        treat = ds.frame[rule].to_numpy()
        if (
            not (pd.api.types.is_numeric_dtype(ds.frame[rule].dtype) or pd.api.types.is_bool_dtype(ds.frame[rule].dtype))
            or not np.isin(treat, (0, 1)).all()
        ):
            raise ArgumentError(f"`rule` column {rule!r} must hold 0/1 (treat or not); it has values {show(pd.unique(treat)[:6].tolist())}")
        treat = treat.astype(float)
        tau = np.full(y.size, np.nan)
        how = f"the rule in column {rule!r}"
    else:
        if model is not None and not isinstance(model, CATEModel):
            raise ArgumentTypeError(f"`model` must be a CATE model (DRLearner, CausalForest, ...); got {show(model)}")
        model = DRLearner(outcome_model, propensity_model, n_folds=2, random_state=seed) if model is None else model
        tau = _held_out_cate(model, x, names, y, t, folds)
        treat = (tau > cost).astype(float)
        how = f"treat if the held-out CATE ({type(model).__name__}) exceeds {cost:g}"
    terms = _value_terms(gamma0, phi, treat, cost, conf_level)
    head = terms[1]
    return Result(
        method=f"Policy value from cross-fitted doubly robust scores ({int(folds.max()) + 1} folds); rule: {how}",
        estimand=f"gain in mean {ds.outcome} net of treatment cost from targeting {ds.treatment} by the rule, over treating no one",
        estimate=head["estimate"],
        std_error=head["std_error"],
        ci_low=head["ci_low"],
        ci_high=head["ci_high"],
        conf_level=conf_level,
        statistic=head["statistic"],
        statistic_name="z",
        pvalue=head["pvalue"],
        alternative="two-sided",
        null_value=0.0,
        n=int(y.size),
        terms=pd.DataFrame(terms),
        details={"share_treated": float(treat.mean()), "rule": pd.DataFrame({"treat": treat, "cate": tau})},
        label="gain over treat-none",
        provenance=Provenance.current(random_state=random_state, data_fingerprint=ds.fingerprint()),
    )


# ------------------------------------------------------------------------------------------------ policy trees
def _candidates(x: np.ndarray, max_splits: int) -> list[np.ndarray]:
    out = []
    for j in range(x.shape[1]):
        u = np.unique(x[:, j])
        mids = (u[:-1] + u[1:]) / 2
        if mids.size > max_splits:
            mids = np.unique(np.quantile(x[:, j], np.linspace(0, 1, max_splits + 2)[1:-1]))
        out.append(mids)
    return out


def _best_stump(x: np.ndarray, r: np.ndarray, cands: list[np.ndarray], min_leaf: int) -> tuple[float, Any]:
    """Best depth-1 tree on rewards ``r`` (treat gains r_i, not treating 0): (reward, (feature, threshold, left, right))."""
    best = (max(r.sum(), 0.0), (-1, np.nan, int(r.sum() > 0), int(r.sum() > 0)))
    total = r.sum()
    for j, c in enumerate(cands):
        if c.size == 0:
            continue
        order = np.argsort(x[:, j], kind="stable")
        xs, cs = x[order, j], np.cumsum(r[order])
        k = np.searchsorted(xs, c, side="right")  # units going left
        ok = (k >= min_leaf) & (x.shape[0] - k >= min_leaf)
        if not ok.any():
            continue
        left = np.where(k > 0, cs[np.maximum(k - 1, 0)], 0.0)
        val = np.maximum(left, 0) + np.maximum(total - left, 0)
        val[~ok] = -np.inf
        i = int(np.argmax(val))
        if val[i] > best[0] + 1e-12:
            best = (float(val[i]), (j, float(c[i]), int(left[i] > 0), int(total - left[i] > 0)))
    return best


def _best_tree(x: np.ndarray, r: np.ndarray, cands: list[np.ndarray], min_leaf: int) -> tuple[float, dict[str, Any]]:
    """Exhaustive depth-2 policy tree (as policytree::policy_tree with depth = 2)."""
    val, stump = _best_stump(x, r, cands, min_leaf)
    best = (val, {"feature": stump[0], "threshold": stump[1], "left": {"action": stump[2]}, "right": {"action": stump[3]}})
    for j, c in enumerate(cands):
        for s in c:
            go = x[:, j] <= s
            if go.sum() < min_leaf or (~go).sum() < min_leaf:
                continue
            vl, sl = _best_stump(x[go], r[go], cands, min_leaf)
            vr, sr = _best_stump(x[~go], r[~go], cands, min_leaf)
            if vl + vr > best[0] + 1e-12:
                node = lambda st: {"feature": st[0], "threshold": st[1], "left": {"action": st[2]}, "right": {"action": st[3]}}  # noqa: E731
                best = (vl + vr, {"feature": j, "threshold": float(s), "left": node(sl), "right": node(sr)})
    return best


def tree_actions(tree: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """0/1 action of every row of ``x`` under a tree from :func:`_best_tree`."""
    if "action" in tree:
        return np.full(x.shape[0], float(tree["action"]))
    if tree["feature"] < 0:
        return np.full(x.shape[0], float(tree["left"]["action"]))
    go = x[:, tree["feature"]] <= tree["threshold"]
    out = np.empty(x.shape[0])
    out[go] = tree_actions(tree["left"], x[go])
    out[~go] = tree_actions(tree["right"], x[~go])
    return out


def _budget_tree(
    x: np.ndarray, r: np.ndarray, cands: list[np.ndarray], min_leaf: int, budget: float | None
) -> tuple[dict[str, Any], float]:
    """Best tree, or with a budget the best tree for the smallest per-unit penalty that keeps the treated share within it."""
    _, tree = _best_tree(x, r, cands, min_leaf)
    if budget is None or tree_actions(tree, x).mean() <= budget:
        return tree, 0.0
    lo, hi = 0.0, float(np.abs(r).max()) * 2 + 1.0
    best = None
    for _ in range(25):
        lam = (lo + hi) / 2
        _, tr = _best_tree(x, r - lam, cands, min_leaf)
        if tree_actions(tr, x).mean() <= budget:
            best, hi = (tr, lam), lam
        else:
            lo = lam
    if best is None:
        return {"action": 0}, hi
    return best


def _describe(tree: dict[str, Any], names: list[str], depth: int = 0) -> list[str]:
    pad = "  " * depth
    if "action" in tree:
        return [f"{pad}-> {'treat' if tree['action'] else 'do not treat'}"]
    if tree["feature"] < 0:
        return _describe(tree["left"], names, depth)
    f = names[tree["feature"]]
    return [
        f"{pad}if {f} <= {tree['threshold']:.6g}:",
        *_describe(tree["left"], names, depth + 1),
        f"{pad}else ({f} > {tree['threshold']:.6g}):",
        *_describe(tree["right"], names, depth + 1),
    ]


@vp.validate_params(
    {
        **_COMMON,
        "budget": [None, vp.Interval("real", 0, None, closed="neither")],
        "min_leaf": vp.Interval("int", 1),
        "max_splits": vp.Interval("int", 1),
    }
)
def policy_tree(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    covariates: str | Sequence[str] | None = None,
    cost: float = 0.0,
    budget: float | None = None,
    min_leaf: int = 10,
    max_splits: int = 32,
    outcome_model: Any = None,
    propensity_model: Any = None,
    n_folds: int = 5,
    random_state: int | None = 0,
    conf_level: float = 0.95,
) -> Result:
    """Depth-2 policy tree learned exhaustively on doubly robust scores, optionally under a budget, with its value.

    Parameters
    ----------
    data, outcome, treatment, covariates
        As :func:`policy_value`.
    cost : float, default 0
        Cost of treating one unit; the reward of treating unit i is :math:`\\phi_i - c`.
    budget : float, optional
        Largest share of units the policy may treat, in (0, 1].
    min_leaf : int, default 10
        Fewest units in a leaf.
    max_splits : int, default 32
        Candidate thresholds per covariate (midpoints of distinct values, or that many quantiles).
    outcome_model, propensity_model, n_folds, random_state, conf_level
        Doubly robust scores and cross-fitting.

    Returns
    -------
    Result
        ``estimate``: the honest gain over treating no one of the tree policy: each fold is decided by a tree
        learned on the other folds. ``terms`` as :func:`policy_value` (value, gains over treat-none/treat-all).
        ``details['tree']``: the tree learned on all units (nested dict), ``details['tree_text']``, its
        ``share_treated`` and the budget penalty ``penalty`` (per unit, 0 without a binding budget).

    Notes
    -----
    The exhaustive search of Athey & Wager (2021) / ``policytree``: every covariate and candidate threshold at the
    root, and the best depth-1 tree in each child. A budget is met through a Lagrange penalty per treated unit,
    found by bisection: the tree is optimal among trees treating the same share, not among all trees meeting the
    budget.
    """
    conf_level = check_conf_level(conf_level)
    cost = check_real(cost, "cost")
    if budget is not None:
        budget = check_real(budget, "budget")
        if not 0 < budget <= 1:
            raise ArgumentError(
                f"`budget` is the largest share of units to treat, in (0, 1]; got {show(budget)}"
                + (", more than the whole population: use budget=1 (or None) for no constraint" if budget > 1 else "")
            )
    ds, y, t, x, names = _inputs(data, outcome, treatment, covariates, "policy_tree")
    min_leaf = check_int(min_leaf, "min_leaf", minimum=1)
    if 2 * min_leaf > y.size:
        raise DataError(f"`min_leaf` = {min_leaf} needs at least {2 * min_leaf} units to split; the data have {y.size}")
    seed = random_state if isinstance(random_state, int) else 0
    folds = fold_labels(y.size, check_int(n_folds, "n_folds", minimum=2), seed, t)
    gamma0, phi = _scores(y, t, x, folds, outcome_model, propensity_model, seed)
    cands = _candidates(x, check_int(max_splits, "max_splits", minimum=1))
    r = phi - cost
    treat = np.empty(y.size)
    for k in range(int(folds.max()) + 1):
        te = folds == k
        tr, _ = _budget_tree(x[~te], r[~te], cands, min_leaf, budget)
        treat[te] = tree_actions(tr, x[te])
    tree, penalty = _budget_tree(x, r, cands, min_leaf, budget)
    terms = _value_terms(gamma0, phi, treat, cost, conf_level)
    head = terms[1]
    text = "\n".join(_describe(tree, names))
    return Result(
        method=f"Depth-2 policy tree (exhaustive search on cross-fitted doubly robust scores{', budget ' + format(budget, 'g') if budget else ''}); "
        f"value from trees learned on the other folds ({int(folds.max()) + 1} folds)",
        estimand=f"gain in mean {ds.outcome} net of treatment cost from assigning {ds.treatment} by the tree, over treating no one",
        estimate=head["estimate"],
        std_error=head["std_error"],
        ci_low=head["ci_low"],
        ci_high=head["ci_high"],
        conf_level=conf_level,
        statistic=head["statistic"],
        statistic_name="z",
        pvalue=head["pvalue"],
        alternative="two-sided",
        null_value=0.0,
        n=int(y.size),
        terms=pd.DataFrame(terms),
        details={
            "tree": tree,
            "tree_text": text,
            "share_treated": float(tree_actions(tree, x).mean()),
            "share_treated_cross_fitted": float(treat.mean()),
            "penalty": float(penalty),
            "covariates": names,
        },
        label="gain over treat-none",
        provenance=Provenance.current(random_state=random_state, data_fingerprint=ds.fingerprint()),
    )
