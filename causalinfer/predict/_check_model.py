"""Model checks of a suite: performance gates, calibration slope, champion/challenger, segments, fairness gaps,
conformal coverage and label leakage. Every one decides on one-sided confidence bounds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ._check import CheckResult, Gate, Rule, combine_worst, gate_pvalues, gate_result, inconclusive_result, power_and_n, proportion_gate
from ._check_context import CheckContext

__all__ = ["LARGER_IS_BETTER", "METRIC_RANGES", "MODEL_CHECKS"]

#: Range of each metric a gate may name (a threshold outside it is refused).
METRIC_RANGES: dict[str, tuple[float, float]] = {
    "accuracy": (0.0, 1.0),
    "auc": (0.0, 1.0),
    "brier": (0.0, 2.0),
    "log_loss": (0.0, math.inf),
    "rmse": (0.0, math.inf),
    "mae": (0.0, math.inf),
    "mse": (0.0, math.inf),
    "r2": (-math.inf, 1.0),
}
LARGER_IS_BETTER = frozenset({"accuracy", "auc", "r2"})


def rule_of(spec: dict[str, Any], what: str) -> Rule:
    if "within" in spec:
        lo, hi = spec["within"]
        return Rule("within", float(lo), float(hi), what)
    if "at_least" in spec:
        return Rule("at_least", low=float(spec["at_least"]), what=what)
    return Rule("at_most", high=float(spec["at_most"]), what=what)


def _metric_gate(metric: str, y: np.ndarray, p: np.ndarray, rule: Rule, ctx: CheckContext, spec: dict[str, Any]) -> Gate:
    """The metric from :func:`evaluate` at confidence ``1 - 2 alpha`` and the p-values of the test its interval inverts."""
    from ._metrics import evaluate

    level = 1 - 2 * ctx.alpha
    opts = {"pos_label": ctx.positive(), "threshold": float(spec.get("threshold", 0.5)), "random_state": ctx.random_state}
    r = evaluate(y, p, metrics=metric, conf_level=level, n_resamples=int(spec.get("n_resamples", 500)), **opts)[metric]
    est, se, n = float(r.estimate or 0.0), float(r.std_error or 0.0), int(r.n or y.size)
    if metric == "accuracy":
        g = proportion_gate(round(est * n), n, rule, ctx.alpha)
    elif metric == "rmse":  # the interval is the t interval of the MSE, square-rooted
        sq = Rule(rule.kind, math.copysign(rule.low**2, rule.low), rule.high**2 if math.isfinite(rule.high) else math.inf)
        pp, pf = gate_pvalues(est**2, 2 * est * se, sq, df=n - 1)
        g = Gate(est, float(r.ci_low or 0.0), float(r.ci_high or 0.0), pp, pf, se, n)
    else:
        pp, pf = gate_pvalues(est, se, rule, df=None if metric in ("auc", "r2") else n - 1)
        g = Gate(est, float(r.ci_low or 0.0), float(r.ci_high or 0.0), pp, pf, se, n)
    g.ci_low, g.ci_high, g.std_error = float(r.ci_low or 0.0), float(r.ci_high or 0.0), se
    g.power, g.n_needed = power_and_n(est, se, n, rule, ctx.alpha)
    return g


def _labelled(ctx: CheckContext, name: str, check: str, which: str = "model") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, mask = ctx.labels(name, check)
    p = ctx.predictions(name, check, which=which)
    return y, p[mask], mask


def check_performance(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """A metric of :func:`evaluate` against a threshold, decided on its one-sided bound."""
    metric = str(spec["metric"])
    y, p, _ = _labelled(ctx, name, "performance")
    rule = rule_of(spec, metric)
    g = _metric_gate(metric, y, p, rule, ctx, spec)
    return gate_result(
        g,
        label=f"{metric} ({name})",
        check="performance",
        data=name,
        rule=rule,
        alpha=ctx.alpha,
        method=f"{metric} gate on the one-sided {100 * (1 - ctx.alpha):g}% bound(s) from evaluate",
    )


def calibration_slope(y01: np.ndarray, p: np.ndarray) -> tuple[float, float, float, float]:
    """Logistic recalibration ``logit P(y = 1) = a + b logit(p)`` by Newton-Raphson: (b, se(b), a, se(a))."""
    eps = 1e-12
    x = np.log(np.clip(p, eps, 1 - eps)) - np.log1p(-np.clip(p, eps, 1 - eps))
    X = np.column_stack([np.ones_like(x), x])
    beta = np.zeros(2)
    for _ in range(50):
        mu = 1 / (1 + np.exp(-(X @ beta)))
        w = mu * (1 - mu)
        info = X.T @ (X * w[:, None])
        step = np.linalg.solve(info, X.T @ (y01 - mu))
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    mu = 1 / (1 + np.exp(-(X @ beta)))
    cov = np.linalg.inv(X.T @ (X * (mu * (1 - mu))[:, None]))
    return float(beta[1]), float(math.sqrt(cov[1, 1])), float(beta[0]), float(math.sqrt(cov[0, 0]))


def check_calibration(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """Calibration slope (logistic recalibration of the labels on the logit of the predicted probability)."""
    from ..stats._normal import z_upper

    y, p, _ = _labelled(ctx, name, "calibration_slope")
    pos = ctx.positive()
    y01 = (y == pos).astype(float) if pos is not None else y.astype(float)
    if p.ndim != 1 or np.unique(y01).size != 2:
        raise DataError("check 'calibration_slope' needs a binary label with both classes and the positive-class probability")
    b, se, a, _ = calibration_slope(y01, np.asarray(p, dtype=float))
    rule = rule_of({"within": spec.get("within", (0.9, 1.1)), **spec}, "calibration slope")
    z = z_upper(ctx.alpha)
    pp, pf = gate_pvalues(b, se, rule)
    g = Gate(b, b - z * se, b + z * se, pp, pf, se, y.size)
    g.power, g.n_needed = power_and_n(b, se, y.size, rule, ctx.alpha)
    return gate_result(
        g,
        label=f"calibration slope ({name})",
        check="calibration_slope",
        data=name,
        rule=rule,
        alpha=ctx.alpha,
        method="Calibration slope by logistic recalibration (Wald bounds)",
        intercept=a,
    )


def check_champion(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """Non-inferiority of the model (challenger) to the champion on the same rows: paired, by index label."""
    from ._metrics import compare_models

    metric = str(spec.get("metric", "auc"))
    margin = float(spec.get("margin", 0.0))
    y, p_new, mask = _labelled(ctx, name, "champion")
    p_old = ctx.predictions(name, "champion", which="champion")[mask]
    r = compare_models(
        y,
        p_new,
        p_old,
        metrics=metric,
        names=("challenger", "champion"),
        conf_level=1 - 2 * ctx.alpha,
        pos_label=ctx.positive(),
        threshold=float(spec.get("threshold", 0.5)),
    )[metric]
    better_up = metric in LARGER_IS_BETTER
    what = f"{metric} of challenger minus champion"
    rule = Rule("at_least", low=-margin, what=what) if better_up else Rule("at_most", high=margin, what=what)
    est, se = float(r.estimate or 0.0), float(r.std_error or 0.0)
    pp, pf = gate_pvalues(est, se, rule, df=None if metric == "auc" else float(r.df1 or y.size - 1))
    g = Gate(est, float(r.ci_low or 0.0), float(r.ci_high or 0.0), pp, pf, se, y.size)
    g.power, g.n_needed = power_and_n(est, se, y.size, rule, ctx.alpha)
    return gate_result(
        g,
        label=f"champion/challenger {metric} ({name})",
        check="champion",
        data=name,
        rule=rule,
        alpha=ctx.alpha,
        method=f"Non-inferiority on the same rows ({r.method})",
        values={k: float(v) for k, v in r.details.items()},
    )


# ---------------------------------------------------------------------- groups: segments and fairness
def _group_gap(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Difference of means a - b with its (Welch) standard error."""
    va = a.var(ddof=1) / a.size if a.size > 1 else math.nan
    vb = b.var(ddof=1) / b.size if b.size > 1 else math.nan
    return float(a.mean() - b.mean()), float(math.sqrt(va + vb))


def _row_metric(metric: str, y: np.ndarray, p: np.ndarray, ctx: CheckContext, spec: dict[str, Any]) -> np.ndarray:
    from ._metrics import _row_losses

    task = ctx.task(y)
    losses = _row_losses("mse" if metric == "rmse" else metric, y, p, task, float(spec.get("threshold", 0.5)), ctx.positive())
    return losses if metric in LARGER_IS_BETTER else -losses  # larger is better on the returned scale


def _gap_parts(groups: np.ndarray, score: np.ndarray, rule: Rule, min_rows: int, alpha: float) -> tuple[list[Gate], dict[str, int]]:
    """Each group against the rest of the rows: gate on the gap (rest minus group), and the groups too small to judge."""
    from ..stats._normal import z_upper

    parts, small = [], {}
    z = z_upper(alpha)
    for gval in pd.unique(groups):
        inside = groups == gval
        n_in = int(inside.sum())
        if n_in < min_rows or n_in == groups.size:
            small[str(gval)] = n_in
            continue
        gap, se = _group_gap(score[~inside], score[inside])
        if not se > 0:
            small[str(gval)] = n_in
            continue
        pp, pf = gate_pvalues(gap, se, rule)
        g = Gate(gap, gap - z * se, gap + z * se, pp, pf, se, n_in, str(gval), value=float(score[inside].mean()))
        g.power, g.n_needed = power_and_n(gap, se, n_in, rule, alpha)
        parts.append(g)
    return parts, small


def _groups_result(ctx: CheckContext, parts: list[Gate], small: dict[str, int], min_rows: int, **kw: Any) -> CheckResult:
    rule: Rule = kw["rule"]
    if not parts:
        return inconclusive_result(
            label=kw["label"],
            check=kw["check"],
            data=kw["data"],
            rule=rule.words(),
            n=sum(small.values()),
            n_needed=min_rows,
            message=f"every group is too small to judge (rows: {small}); each needs {min_rows}",
        )
    worst, p_pass, p_fail = combine_worst(parts)
    if small:
        p_pass = 1.0  # a group that cannot be judged cannot pass
    g = Gate(
        worst.estimate, worst.ci_low, worst.ci_high, p_pass, p_fail, worst.std_error, worst.n, worst.label, worst.power, worst.n_needed
    )
    if small:
        g.n_needed = max(min_rows, worst.n_needed or 0) if p_pass >= ctx.alpha else g.n_needed
    table = pd.DataFrame(
        [
            {"group": q.label, "n": q.n, "value": kw.get("sign", 1.0) * (q.value or 0.0), "gap": q.estimate, "ci_low": q.ci_low}
            | {"ci_high": q.ci_high, "pvalue": q.pvalue_fail}
            for q in parts
        ]
    )
    note = f"; too small to judge: {small} (need {min_rows} rows each)" if small else ""
    msg = f"worst group {worst.label!r} of {len(parts)} (alarm Bonferroni-adjusted across groups){note}"
    return gate_result(
        g,
        label=kw["label"],
        check=kw["check"],
        data=kw["data"],
        rule=rule,
        alpha=ctx.alpha,
        method=kw["method"],
        message=msg,
        worst=worst.label,
        groups=table,
        too_small=small,
    )


def _group_column(ctx: CheckContext, name: str, check: str, spec: dict[str, Any], mask: np.ndarray) -> np.ndarray:
    col = spec.get("column")
    frame = ctx.frame(name, check)
    if not col or col not in frame.columns:
        raise DataError(f"check {check!r} needs `column`, a column of the {name} data; got {col!r} (columns: {list(frame.columns)[:12]})")
    return frame[col].astype(str).to_numpy()[mask]


def check_segments(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """Per-segment performance against the rest of the rows: the worst gap, adjusted for the number of segments."""
    metric = str(spec.get("metric", "accuracy"))
    if metric == "auc":
        raise DataError("check 'segments' compares per-row metrics (accuracy, brier, log_loss, mae, mse); AUC is not a per-row metric")
    y, p, mask = _labelled(ctx, name, "segments")
    groups = _group_column(ctx, name, "segments", spec, mask)
    score = _row_metric(metric, y, p, ctx, spec)
    gap = float(spec.get("max_gap", 0.05))
    rule = Rule("at_most", high=gap, what=f"{metric} gap of a segment behind the rest")
    min_rows = int(spec.get("min_rows", 30))
    parts, small = _gap_parts(groups, score, rule, min_rows, ctx.alpha)
    return _groups_result(
        ctx,
        parts,
        small,
        min_rows,
        label=f"segments {spec['column']} ({name})",
        check="segments",
        data=name,
        rule=rule,
        sign=1.0 if metric in LARGER_IS_BETTER else -1.0,
        method=f"Segment {metric} against the rest (Welch bounds, Bonferroni across segments)",
    )


def check_fairness(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """Gap in true-positive rate or in positive-prediction rate (demographic parity) between each group and the rest."""
    measure = str(spec.get("measure", "tpr"))
    thr = float(spec.get("threshold", 0.5))
    if measure == "tpr":
        y, p, mask = _labelled(ctx, name, "fairness")
        keep = y == ctx.positive() if ctx.positive() is not None else y == 1
    else:
        p = ctx.predictions(name, "fairness")
        mask = np.ones(p.shape[0], dtype=bool)
        keep = np.ones(p.shape[0], dtype=bool)
    groups = _group_column(ctx, name, "fairness", spec, mask)[keep]
    positive = (np.asarray(p, dtype=float) >= thr).astype(float)[keep] if np.ndim(p) == 1 else np.asarray(p)[keep]
    gap = float(spec.get("max_gap", 0.1))
    rule = Rule("within", -gap, gap, f"{measure} gap (rest minus group)")
    min_rows = int(spec.get("min_rows", 30))
    parts, small = _gap_parts(groups, positive, rule, min_rows, ctx.alpha)
    what = "true-positive rate" if measure == "tpr" else "positive-prediction rate"
    return _groups_result(
        ctx,
        parts,
        small,
        min_rows,
        label=f"fairness {measure} {spec['column']} ({name})",
        check="fairness",
        data=name,
        rule=rule,
        method=f"Difference in {what}, each group against the rest (Wald bounds)",
    )


def check_coverage(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """Coverage of conformal intervals or sets on labelled data against the nominal level minus ``tolerance``."""
    from ._metrics import coverage

    y, mask = ctx.labels(name, "coverage")
    model = ctx.model
    X = ctx.model_input(name, "coverage")
    Xl = X[mask] if isinstance(X, np.ndarray) else X.loc[X.index[mask]]
    if hasattr(model, "predict_interval"):
        r = coverage(y, model.predict_interval(Xl))
    elif hasattr(model, "predict_set"):
        r = coverage(y, model.predict_set(Xl), classes=model.classes_)
    else:
        raise DataError("check 'coverage' needs a conformal model (predict_interval or predict_set); `model` has neither")
    nominal = float(spec.get("nominal", 1 - float(getattr(model, "alpha", 0.1))))
    tol = float(spec.get("tolerance", 0.01))
    rule = Rule("at_least", low=nominal - tol, what="coverage")
    n = int(r.n or y.size)
    g = proportion_gate(round(float(r.estimate or 0) * n), n, rule, ctx.alpha)
    g.power, g.n_needed = power_and_n(g.estimate, g.std_error, n, rule, ctx.alpha)
    return gate_result(
        g,
        label=f"coverage ({name})",
        check="coverage",
        data=name,
        rule=rule,
        alpha=ctx.alpha,
        method=f"Conformal coverage against nominal {nominal:g} (exact binomial bounds)",
        nominal=nominal,
    )


def check_leakage(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """No single input column predicts the label almost perfectly (AUC of the column, or |correlation|, below ``max_score``)."""
    from ._metrics import _delong_var, delong_components

    frame = ctx.frame(name, "label_leakage")
    _y, mask = ctx.labels(name, "label_leakage")
    limit = float(spec.get("max_score", 0.99))
    rng = np.random.default_rng(ctx.random_state)
    rows = np.flatnonzero(mask)
    cap = int(spec.get("max_rows", 100_000))
    if rows.size > cap:
        rows = np.sort(rng.choice(rows, cap, replace=False))
    sub = frame.iloc[rows]
    ys = sub[ctx.label].to_numpy()
    binary = np.unique(ys).size == 2
    rule = Rule("at_most", high=limit, what="best single-column AUC" if binary else "best single-column |correlation|")
    parts = []
    for c in ctx.present_features(sub):
        x = _encoded(sub[c], ys, binary)
        if x is None:
            continue
        ok = ~np.isnan(x)
        if binary:
            yb = (ys[ok] == np.unique(ys)[1]).astype(np.int8)
            if yb.min() == yb.max():
                continue
            auc, v10, v01 = delong_components(yb, x[ok])
            est, se = max(auc, 1 - auc), math.sqrt(_delong_var(v10, v01))
        else:
            est, se = _abs_corr(x[ok], ys[ok].astype(float))
        pp, pf = gate_pvalues(est, se, rule)
        parts.append(Gate(est, est - 1.6449 * se, est + 1.6449 * se, pp, pf, se, int(ok.sum()), c))
    if not parts:
        return inconclusive_result(
            label=f"label leakage ({name})",
            check="label_leakage",
            data=name,
            rule=rule.words(),
            n=len(rows),
            n_needed=None,
            message="no column could be scored against the label",
        )
    return _leak_result(ctx, parts, rule, name)


def _leak_result(ctx: CheckContext, parts: list[Gate], rule: Rule, name: str) -> CheckResult:
    from ..stats._normal import z_upper

    z = z_upper(ctx.alpha)
    for q in parts:
        q.ci_low, q.ci_high = q.estimate - z * (q.std_error or 0), q.estimate + z * (q.std_error or 0)
    worst, p_pass, p_fail = combine_worst(parts)
    g = Gate(worst.estimate, worst.ci_low, worst.ci_high, p_pass, p_fail, worst.std_error, worst.n, worst.label)
    g.power, g.n_needed = power_and_n(g.estimate, g.std_error, g.n, rule, ctx.alpha)
    return gate_result(
        g,
        label=f"label leakage ({name})",
        check="label_leakage",
        data=name,
        rule=rule,
        alpha=ctx.alpha,
        method="Single-column prediction of the label (DeLong / Fisher bounds)",
        message=f"closest to the label: column {worst.label!r}",
        worst=worst.label,
    )


def _encoded(s: pd.Series, y: np.ndarray, binary: bool) -> np.ndarray | None:
    """A column as numbers: numeric as is; categorical (at most 100 levels) as the mean label per level."""
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan)
    labels = s.astype("string")
    if labels.nunique(dropna=True) > 100:
        return None
    target = pd.Series((y == np.unique(y)[1]).astype(float) if binary else y.astype(float), index=s.index)
    means = target.groupby(labels.to_numpy()).mean()
    return labels.map(means).to_numpy(dtype=float, na_value=np.nan)


def _abs_corr(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """|Pearson correlation| with its delta-method standard error (1 - r^2) / sqrt(n)."""
    if x.size < 4 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0, 0.0
    r = float(np.corrcoef(x, y)[0, 1])
    return abs(r), (1 - r * r) / math.sqrt(x.size - 3)


#: check name -> (function, tables it runs on by default)
MODEL_CHECKS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "performance": (check_performance, ("test",)),
    "calibration_slope": (check_calibration, ("test",)),
    "champion": (check_champion, ("test",)),
    "segments": (check_segments, ("test",)),
    "fairness": (check_fairness, ("test",)),
    "coverage": (check_coverage, ("production",)),
    "label_leakage": (check_leakage, ("train",)),
}
