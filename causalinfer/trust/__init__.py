"""Predictive inference you can trust: conformal prediction, metrics with confidence intervals, drift monitoring.

- Conformal prediction: :class:`SplitConformalRegressor` (absolute and normalised scores),
  :class:`ConformalizedQuantileRegressor`, :class:`SplitConformalClassifier` (LAC, APS),
  :class:`JackknifePlusRegressor` (jackknife+, CV+).
- Evaluation with uncertainty: :func:`evaluate`, :func:`compare_models`, :func:`performance_by_chunk`,
  :func:`coverage` (do intervals keep their promise on new labelled data?).
- Monitoring: :class:`Profile` (a serialisable reference profile), checked chunk by chunk with
  :meth:`Profile.check` or a :class:`DriftMonitor`, answering with a :class:`DriftResult`.

Names load on first use (scikit-learn and scipy are imported only by the parts that need them).

Inside a scoring job, each piece works chunk by chunk: the fitted conformal predictor adds output columns and the
monitor accumulates the drift of features and predictions::

    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from causalinfer.trust import Profile, SplitConformalRegressor
    >>> rng = np.random.default_rng(0)
    >>> train = pd.DataFrame(rng.normal(size=(2000, 2)), columns=["a", "b"])
    >>> y = train["a"] - train["b"] + rng.normal(size=2000)
    >>> cp = SplitConformalRegressor(LinearRegression(), alpha=0.1, random_state=0).fit(train, y)
    >>> profile = Profile.build(train.assign(prediction=cp.predict(train)), prediction="prediction")
    >>> stored = profile.to_json()  # kept beside the model
    >>> monitor = Profile.from_json(stored).monitor()
    >>> new = pd.DataFrame(rng.normal(0.5, 1.0, size=(3000, 2)), columns=["a", "b"])
    >>> for start in range(0, len(new), 1000):
    ...     chunk = new.iloc[start : start + 1000]
    ...     out = pd.concat([chunk, cp.predict_frame(chunk)], axis=1)  # prediction, lower, upper
    ...     _ = monitor.update(out[["a", "b", "prediction"]])
    >>> list(out.columns)
    ['a', 'b', 'prediction', 'lower', 'upper']
    >>> monitor.result().alerts
    ('a', 'b')
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
