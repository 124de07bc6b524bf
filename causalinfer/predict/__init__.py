"""Predictive inference: score data with trained models, say how far to trust each score, and watch for drift.

``score(model, source, destination)`` runs a chunked, resumable scoring job that writes every input row
exactly once; ``save_model`` / ``load_model`` persist models as skops files with a metadata sidecar (input
schema, library versions, content hash, training-data fingerprint).

Trust: conformal prediction (:class:`SplitConformalRegressor`, :class:`ConformalizedQuantileRegressor`,
:class:`SplitConformalClassifier`, :class:`JackknifePlusRegressor`), evaluation with confidence intervals
(:func:`evaluate`, :func:`compare_models`, :func:`performance_by_chunk`, :func:`coverage`) and drift monitoring
(:class:`Profile`, :class:`DriftMonitor`, :class:`DriftResult`). These load on first use.

The two meet in ``score``: a saved conformal predictor writes its intervals (``outputs=("prediction", "interval")``,
columns ``lower``/``upper``) or prediction sets (``outputs=("prediction", "set")``, columns ``set_size`` and
``in_set_<class>``) chunk by chunk, and ``score(..., monitor=profile)`` checks the scored rows for drift and
attaches the :class:`DriftResult` to the :class:`ScoringResult`.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._contract import ChunkReport, ColumnSpec, InputSchema
from ._errors import JobConflictError, ModelError, SchemaError, UntrustedModelError
from ._models import ModelInfo, frame_fingerprint, load_model, model_info, save_model
from ._score import OUTPUTS, ScoringResult, score
from ._sinks import SQLDestination
from ._sources import SQLSource

if TYPE_CHECKING:
    from ._check import CheckReport, CheckResult
    from ._check_api import assert_check, check
    from ._check_suite import SuiteError, load_suite
    from ._conformal import (
        ConformalizedQuantileRegressor,
        JackknifePlusRegressor,
        NotFittedError,
        SplitConformalClassifier,
        SplitConformalRegressor,
    )
    from ._drift import DriftMonitor, DriftResult
    from ._metrics import PerformanceResult, compare_models, coverage, evaluate, performance_by_chunk
    from ._profile import Profile

_NAMES = {
    "ConformalizedQuantileRegressor": "._conformal",
    "JackknifePlusRegressor": "._conformal",
    "NotFittedError": "._conformal",
    "SplitConformalClassifier": "._conformal",
    "SplitConformalRegressor": "._conformal",
    "DriftMonitor": "._drift",
    "DriftResult": "._drift",
    "Profile": "._profile",
    "compare_models": "._metrics",
    "coverage": "._metrics",
    "evaluate": "._metrics",
    "performance_by_chunk": "._metrics",
    "PerformanceResult": "._metrics",
    "CheckReport": "._check",
    "CheckResult": "._check",
    "SuiteError": "._check_suite",
    "assert_check": "._check_api",
    "check": "._check_api",
    "load_suite": "._check_suite",
}

__all__ = [
    "OUTPUTS",
    "CheckReport",
    "CheckResult",
    "ChunkReport",
    "ColumnSpec",
    "ConformalizedQuantileRegressor",
    "DriftMonitor",
    "DriftResult",
    "InputSchema",
    "JackknifePlusRegressor",
    "JobConflictError",
    "ModelError",
    "ModelInfo",
    "NotFittedError",
    "PerformanceResult",
    "Profile",
    "SQLDestination",
    "SQLSource",
    "SchemaError",
    "ScoringResult",
    "SplitConformalClassifier",
    "SplitConformalRegressor",
    "SuiteError",
    "UntrustedModelError",
    "assert_check",
    "check",
    "compare_models",
    "coverage",
    "evaluate",
    "frame_fingerprint",
    "load_model",
    "load_suite",
    "model_info",
    "performance_by_chunk",
    "save_model",
    "score",
]


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'causalinfer.predict' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
