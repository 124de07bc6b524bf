"""Check suites: their definition (Python list or a TOML/YAML file beside the model), validation and the run."""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import _validation as vp
from .._validation import show
from ..exceptions import ArgumentError, DataError, SourceError
from ._check import CheckReport, CheckResult, finalise
from ._check_context import TABLES, CheckContext
from ._check_data import DATA_CHECKS
from ._check_model import METRIC_RANGES, MODEL_CHECKS

__all__ = ["CHECKS", "SuiteError", "load_suite", "run_suite"]

#: Every check a suite may name -> (function, tables it runs on by default).
CHECKS: dict[str, tuple[Any, tuple[str, ...]]] = {**DATA_CHECKS, **MODEL_CHECKS}

_COMMON = {"check", "data", "name"}
_OPTIONS: dict[str, set[str]] = {
    "schema": set(),
    "missing_values": {"tolerance"},
    "out_of_range": {"tolerance"},
    "duplicates": {"key", "max_share"},
    "constant_columns": set(),
    "train_test_overlap": {"max_share"},
    "unseen_categories": {"max_share"},
    "drift": {"metric", "threshold"},
    "performance": {"metric", "at_least", "at_most", "within", "threshold", "n_resamples"},
    "calibration_slope": {"within"},
    "champion": {"metric", "margin", "threshold"},
    "segments": {"column", "metric", "max_gap", "min_rows", "threshold"},
    "fairness": {"column", "measure", "max_gap", "min_rows", "threshold"},
    "coverage": {"nominal", "tolerance"},
    "label_leakage": {"max_score", "max_rows"},
}
_SHARES = ("tolerance", "max_share", "max_gap", "max_score", "nominal")
_SETTINGS = {"alpha", "label", "title"}
_PER_ROW = ("accuracy", "brier", "log_loss", "mae", "mse", "rmse")
_CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    "drift": {"metric": ("psi", "js", "wasserstein")},
    "segments": {"metric": _PER_ROW},
    "fairness": {"measure": ("tpr", "demographic_parity")},
    "champion": {"metric": ("auc", "accuracy", "log_loss", "brier", "mse", "mae")},
}


class SuiteError(ArgumentError):
    """A suite definition names an unknown check or option, or a threshold outside its range."""


def _close(word: str, options: Sequence[str]) -> str:
    near = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def _check_range(where: str, key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(float(value)):
        raise SuiteError(f"{where}: `{key}` must be a number; got {show(value)}")
    if not low <= float(value) <= high:
        raise SuiteError(f"{where}: `{key}` = {show(value)} is outside the range [{low:g}, {high:g}]; give a value inside it")
    return float(value)


def _validate_within(where: str, pair: Any, low: float, high: float) -> None:
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise SuiteError(f"{where}: `within` must be a pair [low, high]; got {show(pair)}")
    a, b = (_check_range(where, "within", v, low, high) for v in pair)
    if a >= b:
        raise SuiteError(f"{where}: `within` must be [low, high] with low < high; got {show(pair)}")


def _validate_gate(where: str, spec: dict[str, Any]) -> None:
    """A performance gate: a known metric, exactly one rule, thresholds inside the metric's range."""
    metric = spec.get("metric")
    if metric not in METRIC_RANGES or metric == "mse":
        raise SuiteError(
            f"{where}: `metric` must be one of {sorted(set(METRIC_RANGES) - {'mse'})}; got {show(metric)}{_close(str(metric), list(METRIC_RANGES))}"
        )
    rules = [k for k in ("at_least", "at_most", "within") if k in spec]
    if len(rules) != 1:
        raise SuiteError(f"{where}: give exactly one of `at_least`, `at_most`, `within`; got {rules or 'none'}")
    low, high = METRIC_RANGES[str(metric)]
    if "within" in spec:
        _validate_within(where, spec["within"], low, high)
    else:
        _check_range(where, rules[0], spec[rules[0]], low, high)


def validate_spec(spec: Any, i: int) -> dict[str, Any]:
    """One check of a suite, checked: a known name, known options, values in range. Returns a plain dict."""
    if not isinstance(spec, Mapping):
        raise SuiteError(f"check {i} of the suite must be a table (mapping) with a `check` name; got {show(spec)}")
    name = spec.get("check")
    if name not in CHECKS:
        raise SuiteError(f"check {i}: unknown check {show(name)}{_close(str(name), list(CHECKS))}; known checks: {sorted(CHECKS)}")
    where = f"check {i} ({name})"
    unknown = set(spec) - _COMMON - _OPTIONS[str(name)]
    if unknown:
        opts = sorted(_OPTIONS[str(name)] | _COMMON)
        raise SuiteError(f"{where}: unknown option(s) {sorted(unknown)}{_close(sorted(unknown)[0], opts)}; options are {opts}")
    data = spec.get("data")
    for d in [data] if isinstance(data, str) else (data or []):
        if d not in TABLES:
            raise SuiteError(f"{where}: `data` must name tables among {list(TABLES)}; got {show(data)}")
    for key in _SHARES:
        if key in spec:
            _check_range(where, key, spec[key], 0.0, 1.0)
    if name == "performance":
        _validate_gate(where, dict(spec))
    if name in ("segments", "fairness") and not isinstance(spec.get("column"), str):
        raise SuiteError(f"{where}: `column` (the column that defines the groups) is required; got {show(spec.get('column'))}")
    for key, allowed in _CHOICES.get(str(name), {}).items():
        if key in spec and spec[key] not in allowed:
            raise SuiteError(f"{where}: `{key}` must be one of {list(allowed)}; got {show(spec[key])}{_close(str(spec[key]), allowed)}")
    if "margin" in spec:
        _check_range(where, "margin", spec["margin"], 0.0, math.inf)
    if "min_rows" in spec and not (isinstance(spec["min_rows"], int) and spec["min_rows"] >= 2):
        raise SuiteError(f"{where}: `min_rows` must be an integer >= 2; got {show(spec['min_rows'])}")
    if name == "calibration_slope" and "within" in spec:
        _validate_within(where, spec["within"], -math.inf, math.inf)
    return dict(spec)


def _read_file(path: Path) -> Mapping[str, Any]:
    if not path.is_file():
        raise SourceError(f"suite file {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yml", ".yaml"):
            from .._optional import import_optional

            yaml = import_optional("yaml", purpose="reading YAML suite files (or write the suite in TOML)")
            loaded = yaml.safe_load(text)
        else:
            import tomllib

            loaded = tomllib.loads(text)
    except (ValueError, TypeError) as exc:  # tomllib.TOMLDecodeError and yaml.YAMLError are ValueError subclasses or mapped here
        raise SuiteError(f"suite file {str(path)!r} is not valid {path.suffix.lstrip('.').upper() or 'TOML'}: {exc}") from exc
    except Exception as exc:  # yaml.YAMLError derives from Exception only
        raise SuiteError(f"suite file {str(path)!r} could not be parsed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(loaded, Mapping):
        raise SuiteError(f"suite file {str(path)!r} must hold a table with a `checks` list; got {show(loaded)}")
    return loaded


@vp.validate_params({"suite": [vp.PathLike("a suite file (TOML or YAML)"), vp.InstanceOf(Mapping), vp.SequenceOf(vp.InstanceOf(Mapping))]})
def load_suite(suite: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Read and validate a suite: a TOML/YAML file, its parsed mapping, or a list of checks.

    A file holds an optional ``[settings]`` table (``alpha``, ``label``, ``title``) and a ``[[checks]]`` array,
    each with a ``check`` name and its options. Returns (checks, settings).
    """
    if isinstance(suite, (str, os.PathLike)):
        suite = _read_file(Path(suite))
    if isinstance(suite, Mapping):
        extra = set(suite) - {"checks", "settings"}
        if extra:
            raise SuiteError(f"a suite has a `settings` table and a `checks` list; unknown key(s) {sorted(extra)}")
        settings = dict(suite.get("settings", {}))
        checks = suite.get("checks", [])
    else:
        settings, checks = {}, suite
    unknown = set(settings) - _SETTINGS
    if unknown:
        raise SuiteError(f"unknown suite setting(s) {sorted(unknown)}; settings are {sorted(_SETTINGS)}")
    if "alpha" in settings:
        _check_range("suite settings", "alpha", settings["alpha"], 1e-12, 0.5)
    if not isinstance(checks, (list, tuple)):
        raise SuiteError(f"`checks` of a suite must be a list of tables; got {show(checks)}")
    return [validate_spec(s, i) for i, s in enumerate(checks)], settings


def default_suite(ctx: CheckContext) -> list[dict[str, Any]]:
    """The data checks the given inputs allow (no model gates: their thresholds are the user's to state)."""
    has = {t for t in TABLES if ctx.tables.get(t) is not None}
    specs: list[dict[str, Any]] = [{"check": "schema"}, {"check": "missing_values"}, {"check": "duplicates"}]
    specs += [{"check": "constant_columns"}, {"check": "unseen_categories"}]
    if "train" in has:
        specs += [{"check": "out_of_range"}, {"check": "train_test_overlap"}, {"check": "drift"}]
        if ctx.label is not None and ctx.label in ctx.frame("train", "label_leakage").columns:
            specs.append({"check": "label_leakage"})
    return specs


def _tables_for(spec: dict[str, Any], ctx: CheckContext, explicit: bool) -> list[str]:
    data = spec.get("data")
    if data is not None:
        return [data] if isinstance(data, str) else list(data)
    _func, defaults = CHECKS[spec["check"]]
    needs_train = spec["check"] in ("out_of_range", "train_test_overlap", "drift")
    found = [t for t in ctx.available(defaults) if not (needs_train and ctx.tables.get("train") is None)]
    if needs_train and explicit and ctx.tables.get("train") is None:
        raise DataError(
            f"check {spec['check']!r} compares data with the training data, but `train` was not given; pass it or drop the check"
        )
    if not found and explicit:
        raise DataError(f"check {spec['check']!r} runs on the {' or '.join(defaults)} data, and none was given; pass it or set `data`")
    return found


def run_suite(ctx: CheckContext, specs: list[dict[str, Any]], *, explicit: bool, correction: str | None, title: str) -> CheckReport:
    """Run every check on its tables, then adjust the family and decide."""
    results: list[CheckResult] = []
    for spec in specs:
        func = CHECKS[spec["check"]][0]
        for table in _tables_for(spec, ctx, explicit):
            r = func(ctx, spec, table)
            if spec.get("name"):
                r = r.replace(label=f"{spec['name']}" if len(_tables_for(spec, ctx, explicit)) == 1 else f"{spec['name']} ({table})")
            results.append(r)
    seen: dict[str, int] = {}
    for i, r in enumerate(results):
        lab = r.label or r.check
        seen[lab] = seen.get(lab, 0) + 1
        if seen[lab] > 1:
            results[i] = r.replace(label=f"{lab} #{seen[lab]}")
    return finalise(results, ctx.alpha, correction, title)
