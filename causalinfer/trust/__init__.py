"""Predictive inference you can trust: conformal prediction, metrics with confidence intervals, drift monitoring.

- Conformal prediction: :class:`SplitConformalRegressor` (absolute and normalised scores),
  :class:`ConformalizedQuantileRegressor`, :class:`SplitConformalClassifier` (LAC, APS),
  :class:`JackknifePlusRegressor` (jackknife+, CV+).
- Evaluation with uncertainty: :func:`evaluate`, :func:`compare_models`, :func:`performance_by_chunk`,
  :func:`coverage` (do intervals keep their promise on new labelled data?).
- Monitoring: :class:`Profile` (a serialisable reference profile), checked chunk by chunk with
  :meth:`Profile.check` or a :class:`DriftMonitor`, answering with a :class:`DriftResult`.

Names load on first use (scikit-learn and scipy are imported only by the parts that need them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._conformal import ConformalizedQuantileRegressor, JackknifePlusRegressor, SplitConformalClassifier, SplitConformalRegressor
    from ._drift import DriftMonitor, DriftResult
    from ._metrics import PerformanceResult, compare_models, coverage, evaluate, performance_by_chunk
    from ._profile import Profile

_NAMES = {
    "ConformalizedQuantileRegressor": "._conformal",
    "JackknifePlusRegressor": "._conformal",
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
}

__all__ = [
    "ConformalizedQuantileRegressor",
    "DriftMonitor",
    "DriftResult",
    "JackknifePlusRegressor",
    "PerformanceResult",
    "Profile",
    "SplitConformalClassifier",
    "SplitConformalRegressor",
    "compare_models",
    "coverage",
    "evaluate",
    "performance_by_chunk",
]


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        value = getattr(importlib.import_module(_NAMES[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'causalinfer.trust' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
