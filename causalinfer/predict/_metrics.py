"""Model evaluation with confidence intervals, paired model comparison and performance by chunk."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice, check_conf_level, check_random_state, show
from ..exceptions import ArgumentError, DataError
from ..results import Diagnostic, Provenance, Result, ResultSet, TableResult
from ._common import check_count, check_probability_rows, check_threshold, paired_by_index, percentile_bootstrap, plain, wilson_interval

__all__ = ["PerformanceResult", "compare_models", "coverage", "evaluate", "performance_by_chunk"]

CLASSIFICATION_METRICS = ("accuracy", "auc", "log_loss", "brier")
MULTICLASS_METRICS = ("accuracy", "log_loss", "brier")
REGRESSION_METRICS = ("rmse", "mae", "r2")
_TASKS = ("auto", "binary", "multiclass", "regression")
_EPS_PROB = 1e-15


# ---------------------------------------------------------------------- inputs
def _labels(y_true: Any, metric_names: Sequence[str]) -> np.ndarray:
    if y_true is None:
        raise DataError(
            f"`y_true` is None, but the metric(s) {list(metric_names)} need the true labels/outcomes; "
            "evaluate once labels are available (performance_by_chunk skips chunks without labels)"
        )
    arr = np.asarray(y_true.to_numpy() if hasattr(y_true, "to_numpy") else y_true)
    if arr.ndim != 1:
        raise DataError(f"`y_true` must be one-dimensional; got {show(arr)}")
    if arr.size == 0:
        raise DataError("`y_true` is empty")
    miss = pd.isna(arr)
    if miss.all():
        raise DataError(f"`y_true` has only missing values: the labels are absent, and {list(metric_names)} need them")
    if miss.any():
        raise DataError(
            f"`y_true` has {int(miss.sum())} missing label(s) of {arr.size}; drop those rows (or use performance_by_chunk, which uses labelled rows only)"
        )
    return arr


def _predictions(y_pred: Any, n: int, name: str = "y_pred") -> np.ndarray:
    if y_pred is None:
        raise DataError(f"`{name}` is required; got None")
    arr = np.asarray(y_pred.to_numpy() if hasattr(y_pred, "to_numpy") else y_pred)
    if arr.shape[0] != n:
        raise DataError(f"`{name}` must have one row per label ({n}); got {arr.shape[0]}")
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        raise DataError(f"`{name}` has {int((~np.isfinite(arr)).sum())} missing or infinite value(s); fix the predictions first")
    check_probability_rows(arr, name)
    return arr


def _infer_task(y: np.ndarray, pred: np.ndarray, task: str) -> str:
    task = check_choice(task, "task", _TASKS)
    if task != "auto":
        return task
    if pred.ndim == 2:
        return "binary" if pred.shape[1] == 2 else "multiclass"
    n_unique = np.unique(y).size
    if y.dtype.kind in "OUSb" or n_unique <= 2:
        return "binary" if n_unique <= 2 else "multiclass"
    return "regression"


def _binary(y: np.ndarray, pos_label: Any) -> np.ndarray:
    levels = np.unique(y)
    if levels.size > 2:
        raise DataError(f"`y_true` has {levels.size} classes; a binary metric needs two (or use task='multiclass')")
    if pos_label is None:
        if set(levels.tolist()) <= {0, 1}:
            pos_label = 1
        elif levels.size == 2:
            pos_label = levels[1]
        else:
            raise DataError(f"`y_true` holds only the class {plain(levels[0])!r}; binary metrics need both classes (or set `pos_label`)")
    return (y == pos_label).astype(np.int8)


def _positive_scores(pred: np.ndarray) -> np.ndarray:
    p = pred[:, 1] if pred.ndim == 2 else pred
    if p.dtype.kind not in "biuf":
        raise DataError("`y_pred` must hold predicted probabilities (or scores) of the positive class for AUC, log loss and Brier")
    return p.astype(float)


def _is_probability(p: np.ndarray) -> bool:
    return p.dtype.kind == "f" and bool(np.all((p >= 0) & (p <= 1)))


# ---------------------------------------------------------------------- interval helpers
def _t_interval(losses: np.ndarray, conf_level: float) -> tuple[float, float, float, float]:
    """Mean of per-row losses with its t interval (R ``t.test(losses)``), from the stats module."""
    from ..stats._ttest import t_interval_and_pvalue

    n = losses.size
    if n < 2:
        raise DataError(f"at least 2 labelled rows are needed for an interval; got {n}")
    est = float(losses.mean())
    se = float(losses.std(ddof=1) / math.sqrt(n))
    if se == 0:
        return est, se, est, est
    _, _, lo, hi = t_interval_and_pvalue(est, se, n - 1, 0.0, "two-sided", conf_level)
    return est, se, lo, hi


def delong_components(y: np.ndarray, scores: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and DeLong's structural components V10 (one per positive) and V01 (one per negative)."""
    from scipy.stats import rankdata

    pos = scores[y == 1]
    neg = scores[y == 0]
    m, n = pos.size, neg.size
    if m == 0 or n == 0:
        raise DataError(f"AUC needs both classes among the labels; got {m} positive and {n} negative")
    allr = rankdata(np.concatenate([pos, neg]))
    v10 = (allr[:m] - rankdata(pos)) / n
    v01 = 1.0 - (allr[m:] - rankdata(neg)) / m
    return float(v10.mean()), v10, v01


def _delong_var(v10: np.ndarray, v01: np.ndarray) -> float:
    s10 = float(v10.var(ddof=1)) if v10.size > 1 else 0.0
    s01 = float(v01.var(ddof=1)) if v01.size > 1 else 0.0
    return s10 / v10.size + s01 / v01.size


def _z(conf_level: float) -> float:
    from ..stats._normal import z_crit

    return z_crit(conf_level)


# ---------------------------------------------------------------------- metrics
@dataclass
class _Metric:
    estimate: float
    std_error: float | None
    ci_low: float
    ci_high: float
    method: str
    estimand: str


def _metric(
    name: str,
    y: np.ndarray,
    pred: np.ndarray,
    task: str,
    *,
    conf_level: float,
    threshold: float,
    pos_label: Any,
    auc_method: str,
    n_resamples: int,
    rng: np.random.Generator,
) -> _Metric:
    """One metric with its interval, by task."""
    if task == "regression":
        return _regression_metric(name, y, pred, conf_level=conf_level, n_resamples=n_resamples, rng=rng)
    if task == "multiclass":
        return _multiclass_metric(name, y, pred, conf_level=conf_level)
    return _binary_metric(
        name,
        y,
        pred,
        conf_level=conf_level,
        threshold=threshold,
        pos_label=pos_label,
        auc_method=auc_method,
        n_resamples=n_resamples,
        rng=rng,
    )


def _regression_metric(
    name: str, y: np.ndarray, pred: np.ndarray, *, conf_level: float, n_resamples: int, rng: np.random.Generator
) -> _Metric:
    """MAE and RMSE with t intervals, R-squared with a percentile bootstrap interval."""
    if pred.ndim != 1 or pred.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        raise DataError("regression metrics need numeric `y_true` and a one-dimensional numeric `y_pred`")
    e = y.astype(float) - pred.astype(float)
    if name == "mae":
        est, se, lo, hi = _t_interval(np.abs(e), conf_level)
        return _Metric(est, se, lo, hi, "Mean absolute error with t interval", "mean absolute prediction error")
    if name == "rmse":
        mse, se_mse, lo, hi = _t_interval(e**2, conf_level)
        est = math.sqrt(mse)
        se = se_mse / (2 * est) if est > 0 else 0.0
        return _Metric(
            est,
            se,
            math.sqrt(max(lo, 0.0)),
            math.sqrt(hi),
            "Root mean squared error (t interval for the MSE, square-rooted)",
            "root mean squared prediction error",
        )
    yf = y.astype(float)
    pf = pred.astype(float)
    if np.ptp(yf) == 0:
        raise DataError("R2 is undefined: `y_true` is constant")

    def r2(idx: np.ndarray) -> float:
        yy = yf[idx]
        ss = float(((yy - yy.mean()) ** 2).sum())
        return 1 - float(((yy - pf[idx]) ** 2).sum()) / ss if ss > 0 else math.nan

    est = r2(np.arange(y.size))
    lo, hi, se = percentile_bootstrap(r2, y.size, n_resamples=n_resamples, conf_level=conf_level, rng=rng)
    return _Metric(
        est,
        se,
        min(lo, est),
        max(hi, est),
        f"R-squared with percentile bootstrap interval ({n_resamples} resamples)",
        "share of outcome variance explained by the predictions",
    )


def _multiclass_metric(name: str, y: np.ndarray, pred: np.ndarray, *, conf_level: float) -> _Metric:
    """Accuracy (Wilson), log loss and Brier score (t intervals) of a multiclass prediction."""
    if pred.ndim == 1:
        if name != "accuracy":
            raise DataError(f"`{name}` needs predicted probabilities, an (n, n_classes) array; got one label per row")
        correct = pred == y
        return _accuracy(correct, conf_level, "predicted label equals the true label")
    classes = np.unique(y)
    if pred.shape[1] < classes.size:
        raise DataError(
            f"`y_pred` has {pred.shape[1]} probability columns but `y_true` has {classes.size} classes; pass `classes` order via sorted labels"
        )
    codes = np.searchsorted(np.arange(pred.shape[1]) if y.dtype.kind in "iu" and classes.max() < pred.shape[1] else classes, y)
    p = pred.astype(float)
    if name == "accuracy":
        return _accuracy(np.argmax(p, axis=1) == codes, conf_level, "most probable class equals the true class")
    py = p[np.arange(y.size), codes]
    if name == "log_loss":
        est, se, lo, hi = _t_interval(-np.log(np.clip(py, _EPS_PROB, 1.0)), conf_level)
        return _Metric(est, se, lo, hi, "Log loss with t interval", "mean negative log-probability of the true class")
    onehot = np.zeros_like(p)
    onehot[np.arange(y.size), codes] = 1.0
    est, se, lo, hi = _t_interval(((p - onehot) ** 2).sum(axis=1), conf_level)
    return _Metric(
        est,
        se,
        lo,
        hi,
        "Brier score (multiclass) with t interval",
        "mean squared distance between predicted probabilities and the one-hot truth",
    )


def _binary_metric(
    name: str,
    y: np.ndarray,
    pred: np.ndarray,
    *,
    conf_level: float,
    threshold: float,
    pos_label: Any,
    auc_method: str,
    n_resamples: int,
    rng: np.random.Generator,
) -> _Metric:
    """Accuracy, AUC (DeLong or bootstrap), log loss and Brier score of a binary prediction."""
    yb = _binary(y, pos_label)
    if name == "accuracy":
        if pred.ndim == 1 and not _is_probability(pred):
            if not np.isin(pred, np.unique(y)).all():
                raise DataError("`y_pred` must be probabilities in [0, 1] or predicted labels from `y_true`'s classes for accuracy")
            correct = pred == y
            return _accuracy(correct, conf_level, "predicted label equals the true label")
        s = _positive_scores(pred)
        return _accuracy(
            (s >= threshold).astype(np.int8) == yb, conf_level, f"share of correct predictions (positive when probability >= {threshold:g})"
        )
    s = _positive_scores(pred)
    if name == "auc":
        auc, v10, v01 = delong_components(yb, s)
        if auc_method == "delong":
            se = math.sqrt(_delong_var(v10, v01))
            z = _z(conf_level)
            return _Metric(
                auc,
                se,
                max(0.0, auc - z * se),
                min(1.0, auc + z * se),
                "AUC with DeLong interval",
                "area under the ROC curve (probability a positive scores above a negative)",
            )

        def auc_stat(idx: np.ndarray) -> float:
            yy = yb[idx]
            if yy.min() == yy.max():
                return math.nan
            return delong_components(yy, s[idx])[0]

        lo, hi, se = percentile_bootstrap(auc_stat, y.size, n_resamples=n_resamples, conf_level=conf_level, rng=rng)
        return _Metric(
            auc,
            se,
            min(lo, auc),
            max(hi, auc),
            f"AUC with percentile bootstrap interval ({n_resamples} resamples)",
            "area under the ROC curve",
        )
    if not _is_probability(s):
        raise DataError(f"`{name}` needs predicted probabilities in [0, 1]; `y_pred` ranges over [{s.min():.4g}, {s.max():.4g}]")
    if name == "log_loss":
        ps = np.clip(s, _EPS_PROB, 1 - _EPS_PROB)
        est, se, lo, hi = _t_interval(-(yb * np.log(ps) + (1 - yb) * np.log1p(-ps)), conf_level)
        return _Metric(est, se, lo, hi, "Log loss with t interval", "mean negative log-likelihood of the labels")
    est, se, lo, hi = _t_interval((s - yb) ** 2, conf_level)
    return _Metric(est, se, lo, hi, "Brier score with t interval", "mean squared difference between predicted probability and outcome")


def _accuracy(correct: np.ndarray, conf_level: float, estimand: str) -> _Metric:
    n = correct.size
    k = int(np.sum(correct))
    lo, hi = wilson_interval(k, n, conf_level)
    p = k / n
    return _Metric(p, math.sqrt(p * (1 - p) / n), lo, hi, "Accuracy with Wilson score interval", estimand)


def _metric_names(metrics: Any, task: str) -> tuple[str, ...]:
    allowed = {"binary": CLASSIFICATION_METRICS, "multiclass": MULTICLASS_METRICS, "regression": REGRESSION_METRICS}[task]
    if metrics is None:
        return allowed
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    for m in names:
        check_choice(m, "metrics", allowed)
    if not names:
        raise ArgumentError("`metrics` is empty; name at least one metric")
    return names


@vp.validate_params(
    {
        "y_true": [None, "array-like"],
        "y_pred": "array-like",
        "task": vp.Options(_TASKS),
        "metrics": [
            None,
            vp.Options((*CLASSIFICATION_METRICS, *REGRESSION_METRICS)),
            vp.SequenceOf(vp.Options((*CLASSIFICATION_METRICS, *REGRESSION_METRICS))),
        ],
        "conf_level": "conf_level",
        "threshold": "probability",
        "pos_label": vp.NoCheck("any label; compared with the values of y_true"),
        "auc_method": vp.Options(("delong", "bootstrap")),
        "n_resamples": vp.Interval("int", 100),
        "random_state": "random_state",
    }
)
@paired_by_index("y_true", "y_pred")
def evaluate(
    y_true: Any,
    y_pred: Any,
    *,
    task: str = "auto",
    metrics: str | Sequence[str] | None = None,
    conf_level: float = 0.95,
    threshold: float = 0.5,
    pos_label: Any = None,
    auc_method: str = "delong",
    n_resamples: int = 2000,
    random_state: int | None = 0,
) -> ResultSet:
    """Performance metrics of a model, each with a confidence interval.

    Parameters
    ----------
    y_true : array-like
        True labels (classification) or outcomes (regression). Required: metrics cannot be computed without them.
    y_pred : array-like
        Binary: probability (or score) of the positive class, shape ``(n,)`` or ``(n, 2)``; or predicted labels
        (accuracy only). Multiclass: probabilities ``(n, n_classes)`` in sorted class order, or labels.
        Regression: predictions.
    task : {"auto", "binary", "multiclass", "regression"}
        Inferred from the labels when "auto" (two distinct values or non-numeric: classification).
    metrics : str or sequence of str, optional
        Binary: ``accuracy, auc, log_loss, brier`` (default all); multiclass: ``accuracy, log_loss, brier``;
        regression: ``rmse, mae, r2``.
    conf_level : float
    threshold : float
        Probability at or above which a row is predicted positive (accuracy).
    pos_label : optional
        The positive class; default 1 for 0/1 labels, else the larger label.
    auc_method : {"delong", "bootstrap"}
    n_resamples : int
        Bootstrap resamples (R2, and AUC with ``auc_method="bootstrap"``).
    random_state : int, optional
        Seed of the bootstrap.

    Returns
    -------
    ResultSet
        One :class:`~causalinfer.results.Result` per metric (label = metric name) with ``estimate``, ``std_error``,
        ``ci_low``, ``ci_high``, ``conf_level``, ``n`` and ``method`` naming the interval.

    Notes
    -----
    Accuracy: Wilson score interval (validated against R ``prop.test(correct = FALSE)``). AUC: DeLong variance
    :math:`S_{10}/m + S_{01}/n` of the structural components, interval :math:`\\hat A \\pm z\\,\\mathrm{se}` clipped to
    [0, 1] (validated against R ``pROC::ci.auc(method = "delong")``). Log loss, Brier score and MAE are means of
    per-row losses with a t interval (validated against R ``t.test``); RMSE square-roots the t interval of the
    MSE; R2 uses a percentile bootstrap. Coverage of these intervals is checked by simulation in the tests.

    Examples
    --------
    >>> import numpy as np
    >>> from causalinfer.predict import evaluate
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 300); p = np.clip(0.3 + 0.4 * y + rng.normal(0, 0.2, 300), 0.01, 0.99)
    >>> res = evaluate(y, p)
    >>> res.labels
    ('accuracy', 'auc', 'log_loss', 'brier')
    >>> bool(res["auc"].ci_low < res["auc"].estimate < res["auc"].ci_high)
    True
    """
    conf_level = check_conf_level(conf_level)
    threshold = check_threshold(threshold)
    auc_method = check_choice(auc_method, "auc_method", ("delong", "bootstrap"))
    n_resamples = check_count(n_resamples, "n_resamples", minimum=100)
    rng = check_random_state(random_state)
    y = _labels(y_true, ["requested metrics"] if metrics is None else ([metrics] if isinstance(metrics, str) else list(metrics)))
    pred = _predictions(y_pred, y.size)
    task = _infer_task(y, pred, task)
    names = _metric_names(metrics, task)
    results = []
    for name in names:
        m = _metric(
            name,
            y,
            pred,
            task,
            conf_level=conf_level,
            threshold=threshold,
            pos_label=pos_label,
            auc_method=auc_method,
            n_resamples=n_resamples,
            rng=rng,
        )
        results.append(
            Result(
                method=m.method,
                estimand=m.estimand,
                estimate=m.estimate,
                std_error=m.std_error,
                ci_low=m.ci_low,
                ci_high=m.ci_high,
                conf_level=conf_level,
                n=int(y.size),
                label=name,
                provenance=Provenance.current(random_state=random_state),
            )
        )
    return ResultSet(results, labels=list(names), title=f"Model evaluation ({task})")


# ---------------------------------------------------------------------- paired comparison
@vp.validate_params(
    {
        "y_true": [None, "array-like"],
        "y_pred_a": "array-like",
        "y_pred_b": "array-like",
        "task": vp.Options(_TASKS),
        "metrics": [
            None,
            vp.Options((*CLASSIFICATION_METRICS, *REGRESSION_METRICS)),
            vp.SequenceOf(vp.Options((*CLASSIFICATION_METRICS, *REGRESSION_METRICS))),
        ],
        "names": vp.SequenceOf("string", length=2),
        "conf_level": "conf_level",
        "threshold": "probability",
        "pos_label": vp.NoCheck("any label; compared with the values of y_true"),
    }
)
@paired_by_index("y_true", "y_pred_a", "y_pred_b")
def compare_models(
    y_true: Any,
    y_pred_a: Any,
    y_pred_b: Any,
    *,
    task: str = "auto",
    metrics: str | Sequence[str] | None = None,
    names: tuple[str, str] = ("A", "B"),
    conf_level: float = 0.95,
    threshold: float = 0.5,
    pos_label: Any = None,
) -> ResultSet:
    """Paired comparison of two models scored on the same rows: difference A - B per metric, CI and p-value.

    Parameters
    ----------
    y_true, y_pred_a, y_pred_b : array-like
        Labels and the two models' predictions (same forms as :func:`evaluate`).
    task, metrics, conf_level, threshold, pos_label
        As for :func:`evaluate`. Binary metrics: ``auc, accuracy, log_loss, brier`` (default all);
        regression: ``mse, mae``; multiclass: ``accuracy, log_loss, brier``.
    names : (str, str)
        Names of the two models, used in the estimands.

    Returns
    -------
    ResultSet
        One Result per metric: ``estimate`` = metric(A) - metric(B), ``ci_low``/``ci_high``, ``statistic``
        (Z for AUC, t otherwise), ``df`` (t only), ``pvalue`` (two-sided, null 0), ``details`` with both metric values.

    Notes
    -----
    AUC: DeLong's test for two correlated ROC curves, :math:`\\mathrm{var}(\\hat A - \\hat B) =
    (S^{10}_{AA} + S^{10}_{BB} - 2S^{10}_{AB})/m + (S^{01}_{AA} + S^{01}_{BB} - 2S^{01}_{AB})/n` (validated against
    R ``pROC::roc.test(method = "delong", paired = TRUE)``). Other metrics: paired t-test on the per-row
    differences of loss (for accuracy, of the correctness indicators), validated against R ``t.test(paired = TRUE)``.

    Examples
    --------
    >>> import numpy as np
    >>> from causalinfer.predict import compare_models
    >>> rng = np.random.default_rng(2)
    >>> y = rng.integers(0, 2, 400)
    >>> good = 1 / (1 + np.exp(-(2 * y - 1) * 1.5 + rng.normal(size=400)))
    >>> weak = 1 / (1 + np.exp(-(2 * y - 1) * 0.5 + rng.normal(size=400)))
    >>> res = compare_models(y, good, weak, metrics="auc")
    >>> bool(res["auc"].estimate > 0 and res["auc"].pvalue < 0.05)
    True
    """

    conf_level = check_conf_level(conf_level)
    threshold = check_threshold(threshold)
    if not (isinstance(names, tuple) and len(names) == 2 and all(isinstance(s, str) for s in names)):
        raise ArgumentError(f"`names` must be a pair of strings; got {show(names)}")
    req = ["comparison metrics"] if metrics is None else ([metrics] if isinstance(metrics, str) else list(metrics))
    y = _labels(y_true, req)
    pa = _predictions(y_pred_a, y.size, "y_pred_a")
    pb = _predictions(y_pred_b, y.size, "y_pred_b")
    task = _infer_task(y, pa, task)
    allowed = {"binary": ("auc", "accuracy", "log_loss", "brier"), "multiclass": MULTICLASS_METRICS, "regression": ("mse", "mae")}[task]
    if metrics is None:
        chosen = allowed
    else:
        chosen = (metrics,) if isinstance(metrics, str) else tuple(metrics)
        for m in chosen:
            check_choice(m, "metrics", allowed)
    a_name, b_name = names
    results = [
        _delong_comparison(y, pa, pb, pos_label, names, conf_level)
        if metric == "auc"
        else _paired_loss_comparison(metric, y, pa, pb, task, threshold, pos_label, names, conf_level)
        for metric in chosen
    ]
    return ResultSet(results, labels=list(chosen), title=f"Paired comparison of models {a_name} and {b_name}")


def _delong_comparison(y: np.ndarray, pa: np.ndarray, pb: np.ndarray, pos_label: Any, names: tuple[str, str], conf_level: float) -> Result:
    """DeLong's test of the difference in AUC of two models scored on the same rows."""
    from ..stats._normal import z_pvalue

    a_name, b_name = names
    yb = _binary(y, pos_label)
    auc_a, v10a, v01a = delong_components(yb, _positive_scores(pa))
    auc_b, v10b, v01b = delong_components(yb, _positive_scores(pb))
    s10 = np.cov(np.vstack([v10a, v10b]))
    s01 = np.cov(np.vstack([v01a, v01b]))
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / v10a.size + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / v01a.size
    diff = auc_a - auc_b
    if not var > 0:
        raise DataError("the two models rank every pair of rows identically; DeLong's variance is zero and no test is possible")
    se = math.sqrt(var)
    zs = diff / se
    z = _z(conf_level)
    return Result(
        method="DeLong's test for two correlated ROC curves",
        estimand=f"difference in AUC: {a_name} minus {b_name}",
        estimate=diff,
        std_error=se,
        ci_low=diff - z * se,
        ci_high=diff + z * se,
        conf_level=conf_level,
        statistic=zs,
        statistic_name="Z",
        pvalue=z_pvalue(zs, "two-sided"),
        alternative="two-sided",
        null_value=0.0,
        n=int(y.size),
        label="auc",
        details={f"auc_{a_name}": auc_a, f"auc_{b_name}": auc_b},
        provenance=Provenance.current(),
    )


def _paired_loss_comparison(
    metric: str,
    y: np.ndarray,
    pa: np.ndarray,
    pb: np.ndarray,
    task: str,
    threshold: float,
    pos_label: Any,
    names: tuple[str, str],
    conf_level: float,
) -> Result:
    """Paired t-test on the per-row losses (or correctness) of two models scored on the same rows."""
    from ..stats._normal import t_pvalue

    a_name, b_name = names
    la = _row_losses(metric, y, pa, task, threshold, pos_label)
    lb = _row_losses(metric, y, pb, task, threshold, pos_label)
    d = la - lb
    n = d.size
    est, se, lo, hi = _t_interval(d, conf_level)
    if se == 0:
        raise DataError(f"the per-row {metric} of the two models differ by a constant; the paired t-test is undefined")
    t = est / se
    sign = -1.0 if metric == "accuracy" else 1.0  # accuracy uses correctness, where larger is better
    return Result(
        method=f"Paired t-test on per-row {'correctness' if metric == 'accuracy' else metric.replace('_', ' ')}",
        estimand=f"difference in {metric.replace('_', ' ')}: {a_name} minus {b_name}",
        estimate=est,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=t,
        statistic_name="t",
        df=float(n - 1),
        pvalue=t_pvalue(t, n - 1),
        alternative="two-sided",
        null_value=0.0,
        n=n,
        label=metric,
        details={
            f"{metric}_{a_name}": float(la.mean()),
            f"{metric}_{b_name}": float(lb.mean()),
            "direction": "larger is better" if sign < 0 else "smaller is better",
        },
        provenance=Provenance.current(),
    )


def _row_losses(metric: str, y: np.ndarray, pred: np.ndarray, task: str, threshold: float, pos_label: Any) -> np.ndarray:
    """Per-row loss (or correctness for accuracy) whose mean is the metric."""
    if task == "regression":
        e = y.astype(float) - pred.astype(float)
        return e**2 if metric == "mse" else np.abs(e)
    if task == "multiclass":
        classes = np.unique(y)
        if pred.ndim == 1:
            if metric != "accuracy":
                raise DataError(f"`{metric}` needs predicted probabilities, an (n, n_classes) array")
            return (pred == y).astype(float)
        codes = np.searchsorted(classes, y)
        p = pred.astype(float)
        if metric == "accuracy":
            return (np.argmax(p, axis=1) == codes).astype(float)
        py = p[np.arange(y.size), codes]
        if metric == "log_loss":
            return -np.log(np.clip(py, _EPS_PROB, 1.0))
        onehot = np.zeros_like(p)
        onehot[np.arange(y.size), codes] = 1.0
        return ((p - onehot) ** 2).sum(axis=1)
    yb = _binary(y, pos_label)
    if metric == "accuracy":
        if pred.ndim == 1 and not _is_probability(pred):
            return (pred == y).astype(float)
        return ((_positive_scores(pred) >= threshold).astype(np.int8) == yb).astype(float)
    s = _positive_scores(pred)
    if not _is_probability(s):
        raise DataError(f"`{metric}` needs predicted probabilities in [0, 1]")
    if metric == "log_loss":
        ps = np.clip(s, _EPS_PROB, 1 - _EPS_PROB)
        return -(yb * np.log(ps) + (1 - yb) * np.log1p(-ps))
    return (s - yb) ** 2


# ---------------------------------------------------------------------- by chunk
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class PerformanceResult(TableResult):
    """A metric per chunk with confidence intervals (columns ``chunk, n, n_labelled, estimate, ci_low, ci_high``)."""

    _kind: ClassVar[str] = "performance"

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """The metric by chunk with its confidence band. Needs matplotlib."""
        from ..results._plot import get_axes

        t = self.table
        ax = get_axes(ax, figsize=(6.5, 3.0))
        x = np.arange(len(t))
        est = t["estimate"].to_numpy(dtype=float)
        ax.fill_between(x, t["ci_low"].to_numpy(dtype=float), t["ci_high"].to_numpy(dtype=float), color="#0969da", alpha=0.2, linewidth=0)
        ax.plot(x, est, marker="o", color=kwargs.pop("color", "#0969da"), **kwargs)
        ax.set_xticks(x)
        ax.set_xticklabels([str(c) for c in t["chunk"]], rotation=45 if len(t) > 8 else 0)
        ax.set_xlabel("chunk")
        level = self.conf_level or 0.95
        ax.set_ylabel(f"{self.details.get('metric', 'metric')} ({100 * level:g}% CI)")
        ax.set_title(self.method)
        return ax


def _chunk_ids(chunks: Any, chunk_size: Any, n: int) -> np.ndarray:
    """A chunk label per row: the ``chunks`` given, or consecutive blocks of ``chunk_size`` rows."""
    if chunks is None:
        if chunk_size is None:
            raise ArgumentError("give `chunks` (a chunk label per row) or `chunk_size`")
        return np.arange(n) // check_count(chunk_size, "chunk_size", minimum=1)
    ids = np.asarray(chunks.to_numpy() if hasattr(chunks, "to_numpy") else chunks)
    if ids.shape[0] != n:
        raise DataError(f"`chunks` must have one value per row ({n}); got {ids.shape[0]}")
    return ids


def _chunk_row(
    c: Any, rows_c: np.ndarray, labelled: np.ndarray, y_all: np.ndarray, pred: np.ndarray, metric: str, task: str, options: dict[str, Any]
) -> tuple[dict[str, Any], _Metric | None]:
    """One chunk's row of the table, and its metric (None when the labelled rows give no estimate)."""
    sel = rows_c & labelled
    row: dict[str, Any] = {
        "chunk": c,
        "n": int(rows_c.sum()),
        "n_labelled": int(sel.sum()),
        "estimate": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
    }
    if sel.sum() < 2:
        return row, None
    yc = y_all[sel]
    if yc.dtype == object:
        try:
            yc = yc.astype(float)
        except (TypeError, ValueError):
            yc = yc.astype(str)
    elif yc.dtype.kind == "f" and task != "regression" and np.all(yc == np.round(yc)):
        yc = yc.astype(np.int64)
    try:
        m = _metric(metric, yc, pred[sel], task, **options)
    except DataError:
        return row, None
    row.update(estimate=m.estimate, ci_low=m.ci_low, ci_high=m.ci_high)
    return row, m


@vp.validate_params(
    {
        "y_true": [None, "array-like"],
        "y_pred": "array-like",
        "chunks": [None, "array-like"],
        "chunk_size": [None, vp.Interval("int", 1)],
        "metric": vp.Options((*CLASSIFICATION_METRICS, *REGRESSION_METRICS)),
        "task": vp.Options(_TASKS),
        "conf_level": "conf_level",
        "threshold": "probability",
        "pos_label": vp.NoCheck("any label; compared with the values of y_true"),
        "n_resamples": vp.Interval("int", 1),
        "random_state": "random_state",
    }
)
@paired_by_index("y_true", "y_pred", "chunks")
def performance_by_chunk(
    y_true: Any,
    y_pred: Any,
    *,
    chunks: Any = None,
    chunk_size: int | None = None,
    metric: str = "accuracy",
    task: str = "auto",
    conf_level: float = 0.95,
    threshold: float = 0.5,
    pos_label: Any = None,
    n_resamples: int = 1000,
    random_state: int | None = 0,
) -> PerformanceResult:
    """A metric with its confidence interval in each chunk of scored rows, using the rows whose labels have arrived.

    Parameters
    ----------
    y_true : array-like
        Labels, with missing values (NaN/None) for rows whose label has not arrived yet.
    y_pred : array-like
        Predictions, as for :func:`evaluate`.
    chunks : array-like, optional
        Chunk of each row (a batch id, a date); chunks appear in order of first appearance.
    chunk_size : int, optional
        Consecutive chunks of this many rows (when ``chunks`` is not given).
    metric : str
        One metric name accepted by :func:`evaluate` for the task.
    task, conf_level, threshold, pos_label, n_resamples, random_state
        As for :func:`evaluate`.

    Returns
    -------
    PerformanceResult
        Table with columns ``chunk, n, n_labelled, estimate, ci_low, ci_high``; chunks without labels (or with too
        few for an interval) have NaN estimates and a diagnostic naming them.

    Examples
    --------
    >>> import numpy as np
    >>> from causalinfer.predict import performance_by_chunk
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 600).astype(float); p = np.clip(0.25 + 0.5 * y + rng.normal(0, 0.2, 600), 0, 1)
    >>> y[500:] = np.nan  # labels not yet arrived
    >>> r = performance_by_chunk(y, p, chunk_size=200)
    >>> r.table["n_labelled"].tolist()
    [200, 200, 100]
    """
    conf_level = check_conf_level(conf_level)
    threshold = check_threshold(threshold)
    if y_true is None:
        raise DataError(f"`y_true` is None, but {metric!r} needs labels; pass the labels with NaN for rows not labelled yet")
    y_all = np.asarray(y_true.to_numpy() if hasattr(y_true, "to_numpy") else y_true)
    n = y_all.size
    pred = _predictions(y_pred, n)
    chunk_ids = _chunk_ids(chunks, chunk_size, n)
    labelled = ~pd.isna(y_all)
    if not labelled.any():
        raise DataError(f"`y_true` has no labels at all: {metric!r} cannot be computed until labels arrive")
    y_obs = y_all[labelled]
    if y_obs.dtype == object:
        with contextlib.suppress(TypeError, ValueError):
            y_obs = y_obs.astype(float)
    task = _infer_task(y_obs if y_obs.dtype != object else y_obs.astype(str), pred[labelled], task)
    check_choice(
        metric, "metric", {"binary": CLASSIFICATION_METRICS, "multiclass": MULTICLASS_METRICS, "regression": REGRESSION_METRICS}[task]
    )
    rng = check_random_state(random_state)
    options = {
        "conf_level": conf_level,
        "threshold": threshold,
        "pos_label": pos_label,
        "auc_method": "delong",
        "n_resamples": n_resamples,
        "rng": rng,
    }
    rows = []
    empty: list[str] = []
    method = ""
    for c in pd.unique(chunk_ids):
        row, m = _chunk_row(c, chunk_ids == c, labelled, y_all, pred, metric, task, options)
        rows.append(row)
        if m is None:
            empty.append(str(c))
        else:
            method = m.method
    table = pd.DataFrame(rows, columns=["chunk", "n", "n_labelled", "estimate", "ci_low", "ci_high"])
    diags = []
    if empty:
        diags.append(
            Diagnostic(
                "chunks without estimate",
                "warn",
                len(empty),
                f"no estimate for chunk(s) {empty[:8]}{' ...' if len(empty) > 8 else ''}: labels absent, too few, or one class only",
            )
        )
    return PerformanceResult(
        method=f"{metric} by chunk" + (f" ({method})" if method else ""),
        estimand=f"{metric} per chunk of scored rows, on rows with labels",
        conf_level=conf_level,
        n=int(labelled.sum()),
        table=table,
        diagnostics=tuple(diags),
        details={"metric": metric, "task": task},
        provenance=Provenance.current(random_state=random_state),
    )


def _check_bounds(arr: np.ndarray) -> np.ndarray:
    """(lower, upper) rows as floats: numbers, not missing, lower <= upper (each refusal names the first row)."""
    try:
        bounds = arr.astype(float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"`intervals` must hold numbers (lower, upper); got {show(arr)} ({exc})") from exc
    missing = np.flatnonzero(np.isnan(bounds).any(axis=1))
    if missing.size:
        raise DataError(f"`intervals` has {missing.size} row(s) with a missing bound, first row {int(missing[0])}; drop or fix them")
    crossed = np.flatnonzero(bounds[:, 0] > bounds[:, 1])
    if crossed.size:
        i = int(crossed[0])
        raise DataError(
            f"`intervals` has {crossed.size} row(s) with lower > upper, first row {i}: ({float(bounds[i, 0])!r}, {float(bounds[i, 1])!r}); "
            "the columns are (lower, upper): swap them if they were given the other way round"
        )
    return bounds


@vp.validate_params(
    {
        "y_true": [None, "array-like"],
        "intervals": "array-like",
        "classes": [None, "array-like"],
        "nominal": [None, vp.OPEN_PROBABILITY],
        "conf_level": "conf_level",
    }
)
@paired_by_index("y_true", "intervals")
def coverage(
    y_true: Any,
    intervals: Any,
    *,
    classes: Any = None,
    nominal: float | None = None,
    conf_level: float = 0.95,
) -> Result:
    """Empirical coverage of prediction intervals or prediction sets on labelled data, with a Wilson interval.

    Parameters
    ----------
    y_true : array-like
        True outcomes (intervals) or labels (sets).
    intervals : array-like
        Either an ``(n, 2)`` array of (lower, upper) bounds, as from ``predict_interval``, or a boolean
        ``(n, n_classes)`` array of prediction sets, as from ``predict_set`` (then ``classes`` is required).
    classes : array-like, optional
        Class of each column of a set array (the predictor's ``classes_``).
    nominal : float, optional
        The promised coverage (``1 - alpha``); when given, a diagnostic says whether it lies inside the interval.
    conf_level : float

    Returns
    -------
    Result
        ``estimate`` = share of rows covered, Wilson ``ci_low``/``ci_high``, ``n``; ``details`` has
        ``mean_width`` (intervals) or ``mean_set_size`` (sets).

    Examples
    --------
    >>> import numpy as np
    >>> from causalinfer.predict import coverage
    >>> y = np.array([0.1, 0.5, 2.0, -1.0])
    >>> iv = np.array([[0, 1], [0, 1], [0, 1], [-2, 0]])
    >>> coverage(y, iv).estimate
    0.75
    """
    conf_level = check_conf_level(conf_level)
    y = _labels(y_true, ["coverage"])
    arr = np.asarray(intervals)
    if arr.ndim != 2 or arr.shape[0] != y.size:
        raise DataError(
            f"`intervals` must be an (n, 2) array of bounds or an (n, n_classes) boolean set array with n = {y.size}; got {show(arr)}"
        )
    if arr.dtype == bool:
        if classes is None:
            raise ArgumentError("`classes` is required with prediction sets (pass the predictor's classes_)")
        cls = np.asarray(classes)
        if cls.size != arr.shape[1]:
            raise DataError(f"`classes` must name the {arr.shape[1]} set columns; got {cls.size}")
        lookup = {c: j for j, c in enumerate(cls.tolist())}
        cols = np.array([lookup.get(v, -1) for v in y.tolist()])
        covered = np.where(cols >= 0, arr[np.arange(y.size), np.maximum(cols, 0)], False)
        extra: dict[str, Any] = {"mean_set_size": float(arr.sum(axis=1).mean())}
        what = "prediction sets"
    else:
        if arr.shape[1] != 2:
            raise DataError(f"`intervals` must have two columns (lower, upper); got {arr.shape[1]}")
        arr = _check_bounds(arr)
        yf = y.astype(float)
        covered = (arr[:, 0] <= yf) & (yf <= arr[:, 1])
        extra = {"mean_width": float(np.mean(arr[:, 1] - arr[:, 0]))}
        what = "prediction intervals"
    k, n = int(covered.sum()), int(y.size)
    lo, hi = wilson_interval(k, n, conf_level)
    diags = []
    if nominal is not None:
        nominal = check_conf_level(nominal, "nominal")
        if lo <= nominal <= hi:
            diags.append(Diagnostic("nominal coverage", "ok", nominal, f"the promised coverage {nominal:g} lies inside the interval"))
        elif hi < nominal:
            diags.append(
                Diagnostic(
                    "nominal coverage",
                    "fail",
                    nominal,
                    f"coverage is below the promised {nominal:g}: the data may have drifted (the guarantee is an average over calibration sets; one calibration set can fall short by about sqrt(alpha (1 - alpha) / n_calibration))",
                )
            )
        else:
            diags.append(
                Diagnostic(
                    "nominal coverage", "warn", nominal, f"coverage is above the promised {nominal:g}: the {what} are wider than needed"
                )
            )
    return Result(
        method="Empirical coverage with Wilson score interval",
        estimand=f"share of true values inside the {what}",
        estimate=k / n,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        n=n,
        diagnostics=tuple(diags),
        details=extra,
        label="coverage",
        provenance=Provenance.current(),
    )
