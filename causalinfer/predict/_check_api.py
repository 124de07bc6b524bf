"""``check``: run a suite of model and data checks; ``assert_check``: the same as a one-line test assertion."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .. import _validation as vp
from .._validation import check_choice, check_probability, show
from ..exceptions import ArgumentError
from ._check import CheckReport
from ._check_context import TABLES, CheckContext
from ._check_suite import default_suite, load_suite, run_suite
from ._contract import InputSchema

__all__ = ["assert_check", "check"]


def _model_and_schema(model: Any, trusted: Any) -> tuple[Any, InputSchema | None]:
    if model is None:
        return None, None
    if isinstance(model, (str, os.PathLike)):
        from ._models import load_model

        est, info = load_model(model, trusted=trusted, with_info=True)
        return est, info.schema
    if not hasattr(model, "predict"):
        raise ArgumentError(f"`model` must be a fitted model (with predict) or a saved model file; got {show(model)}")
    names = getattr(model, "feature_names_in_", None)
    return model, None if names is None else InputSchema.from_names(names)


def _named_columns(specs: list[dict[str, Any]]) -> set[str]:
    """Key and group columns named by the suite: identifiers and segments, not model inputs."""
    out: set[str] = set()
    for spec in specs:
        for key in ("key", "column"):
            v = spec.get(key)
            out.update([v] if isinstance(v, str) else list(v or []))
    return out


def _given_predictions(predictions: Any, champion_predictions: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for which, given in (("model", predictions), ("champion", champion_predictions)):
        if given is None:
            continue
        items = given.items() if isinstance(given, Mapping) else [("test", given)]
        for table, pred in items:
            if table not in TABLES:
                raise ArgumentError(f"predictions are keyed by table, one of {list(TABLES)}; got {show(table)}")
            out[f"{which}:{table}"] = pred
    return out


@vp.validate_params(
    {
        "model": vp.NoCheck("a fitted model or the path of a model saved with save_model"),
        "train": [None, "data"],
        "test": [None, "data"],
        "production": [None, "data"],
        "label": [None, "string"],
        "suite": [None, vp.PathLike("a suite file (TOML or YAML)"), vp.InstanceOf(Mapping), vp.SequenceOf(vp.InstanceOf(Mapping))],
        "alpha": [None, vp.Interval("real", 0.0, 0.5, closed="neither")],
        "correction": [None, vp.Options(("holm", "bh"))],
        "champion": vp.NoCheck("a fitted model or the path of a saved model"),
        "predictions": [None, "array-like", "mapping"],
        "champion_predictions": [None, "array-like", "mapping"],
        "pos_label": vp.NoCheck("any label; compared with the values of the label column"),
        "trusted": vp.SequenceOf("string"),
        "random_state": "random_state",
        "title": [None, "string"],
    }
)
def check(
    model: Any = None,
    *,
    train: Any = None,
    test: Any = None,
    production: Any = None,
    label: str | None = None,
    suite: Any = None,
    alpha: float | None = None,
    correction: str | None = "holm",
    champion: Any = None,
    predictions: Any = None,
    champion_predictions: Any = None,
    pos_label: Any = None,
    trusted: tuple[str, ...] = (),
    random_state: int | None = 0,
    title: str | None = None,
) -> CheckReport:
    """Run a suite of data and model checks; each answers pass, fail or inconclusive on a confidence bound.

    Parameters
    ----------
    model : estimator or path, optional
        The model under test (the challenger): a fitted estimator, or a file saved with :func:`save_model`
        (its sidecar schema is the input contract the schema check uses).
    train, test, production : DataFrame or Dataset, optional
        Training data (the reference for drift, ranges, categories and overlap), held-out test data, and
        production data (labelled where labels have arrived: unlabelled rows are left out of label checks).
    label : str, optional
        The label column (in every table that has labels). Label checks without it raise a clear error.
    suite : path, mapping or list of mappings, optional
        The checks: a TOML (or YAML) file, its parsed form, or a list such as
        ``[{"check": "performance", "metric": "auc", "at_least": 0.8}]``. Default: the data checks the inputs allow.
        Checks: ``schema, missing_values, out_of_range, duplicates, constant_columns, label_leakage,
        train_test_overlap, unseen_categories, drift, performance, calibration_slope, champion, segments,
        fairness, coverage`` (see the README section "Model checks in CI" and examples/checks.toml for their options).
    alpha : float, optional
        Level of every decision (default 0.05, or the suite file's ``settings.alpha``): gates use one-sided
        ``1 - alpha`` bounds; alarms are controlled at ``alpha`` across the family.
    correction : {"holm", "bh"} or None
        Adjustment of the alarm p-values across the inferential checks: Holm (family-wise error rate, default),
        Benjamini-Hochberg (false-discovery rate) or None.
    champion : estimator or path, optional
        The current model for the ``champion`` check; both models score the same test rows.
    predictions, champion_predictions : array-like or mapping, optional
        Predictions already computed (for the test data, or a mapping ``{"test": ..., "production": ...}``);
        Series are matched to the data rows by index label and refused when the rows differ.
    pos_label : optional
        Positive class of a binary label (default: the model's second class, else 1).
    trusted : sequence of str
        Type names trusted when loading a model file (see :func:`load_model`).
    random_state : int, optional
        Seed for subsampling (label leakage) and bootstrap intervals.
    title : str, optional

    Returns
    -------
    CheckReport
        A ResultSet of :class:`CheckResult` (status, estimate, one-sided bounds, rule, p-values, power and
        ``n_needed``); ``status`` and ``exit_code`` (0 pass, 1 fail, 3 inconclusive) summarise the suite.

    Notes
    -----
    A gate "metric at least t" passes when the lower one-sided ``1 - alpha`` bound is at least t (each gate a
    level-alpha test, so a suite that passes as a whole is an intersection-union test at level alpha), fails
    when the alarm p-value of "the metric is below t", adjusted across the family, is below alpha, and is
    inconclusive otherwise. Checks with several parts (columns, segments, groups) pass when every part passes
    and alarm on the Bonferroni-adjusted smallest part p-value. Census checks (duplicates, schema, overlap,
    unseen categories, constant columns) count the data given and are exact; drift uses the drift monitor's
    effect-size rule, with the training profile built from at most 250,000 training rows (a seeded subsample).
    Metric bounds come from :func:`evaluate` and :func:`compare_models`; shares use exact binomial tests.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from causalinfer.predict import check
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x1": rng.normal(size=4000), "x2": rng.normal(size=4000)})
    >>> X["y"] = (X.x1 + rng.normal(size=4000) > 0).astype(int)
    >>> m = LogisticRegression().fit(X[["x1", "x2"]][:2000], X.y[:2000])
    >>> rep = check(m, train=X[:2000], test=X[2000:], label="y", suite=[{"check": "performance", "metric": "auc", "at_least": 0.7}])
    >>> rep.status, rep.exit_code
    ('pass', 0)
    """
    from ._reference import as_frame

    specs, settings = ([], {}) if suite is None else load_suite(suite)
    alpha = check_probability(alpha if alpha is not None else settings.get("alpha", 0.05), "alpha", open_interval=True)
    if correction is not None:
        correction = check_choice(correction, "correction", ("holm", "bh"))
    est, schema = _model_and_schema(model, trusted)
    champ = _model_and_schema(champion, trusted)[0]
    tables = {n: (None if v is None else as_frame(v, name=n)) for n, v in (("train", train), ("test", test), ("production", production))}
    if all(v is None for v in tables.values()):
        raise ArgumentError("no data to check: pass at least one of `train`, `test`, `production`")
    ctx = CheckContext(
        tables=tables,
        model=est,
        champion=champ,
        schema=schema,
        label=label or settings.get("label"),
        alpha=alpha,
        pos_label=pos_label,
        random_state=random_state,
        given_predictions=_given_predictions(predictions, champion_predictions),
    )
    ctx.not_features = frozenset(_named_columns(specs))
    explicit = suite is not None
    title = title or settings.get("title") or "Model checks"
    return run_suite(ctx, specs if explicit else default_suite(ctx), explicit=explicit, correction=correction, title=title)


@vp.validate_params(
    {
        "report": [None, vp.InstanceOf("causalinfer.predict._check:CheckReport")],
        "allow_inconclusive": "boolean",
        "check_options": vp.NoCheck("the keyword arguments of check(), checked there"),
    }
)
def assert_check(report: CheckReport | None = None, *, allow_inconclusive: bool = False, **check_options: Any) -> CheckReport:
    """Raise AssertionError when a suite fails (or, unless ``allow_inconclusive``, cannot decide).

    Give a :class:`CheckReport`, or the arguments of :func:`check` to run one. The message lists the verdict of
    every check that did not pass. Returns the report when it passes, so a test can look further.

    Examples
    --------
    >>> from causalinfer.predict import assert_check  # doctest: +SKIP
    >>> assert_check(model, train=train, test=test, label="y", suite="checks.toml")  # doctest: +SKIP
    """
    rep = report if report is not None else check(**check_options)
    bad = bool(rep.failed) or (bool(rep.inconclusive) and not allow_inconclusive)
    if bad:
        head = f"model checks {rep.status}: {len(rep.failed)} failed, {len(rep.inconclusive)} inconclusive of {len(rep)}"
        raise AssertionError(f"{head}\n{rep.failure_summary(include_inconclusive=not allow_inconclusive)}")
    return rep
