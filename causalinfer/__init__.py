"""causalinfer: predictive, statistical and causal inference with one Dataset and one Result family.

Subpackages load on first use so that ``import causalinfer`` stays fast::

    import causalinfer as ci
    ds = ci.load_dataset("lalonde")        # a Dataset with roles from the data card
    ci.stats.ttest(data=ds.frame, x="re78", group="treat")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .exceptions import (
    ArgumentError,
    ArgumentTypeError,
    AssumptionWarning,
    CausalInferError,
    CausalInferWarning,
    ConvergenceError,
    DataError,
    DataWarning,
    DependencyError,
    IdentificationError,
    RoleError,
    SourceError,
)

if TYPE_CHECKING:
    from . import causal, data, designs, effects, predict, report, results, stats
    from .data import Dataset, data_card, list_datasets, load_dataset
    from .results import Diagnostic, EffectSize, Result, ResultSet, TableResult

_LAZY_ATTRS = {
    "Dataset": "causalinfer.data",
    "load_dataset": "causalinfer.data",
    "list_datasets": "causalinfer.data",
    "data_card": "causalinfer.data",
    "Result": "causalinfer.results",
    "ResultSet": "causalinfer.results",
    "TableResult": "causalinfer.results",
    "Diagnostic": "causalinfer.results",
    "EffectSize": "causalinfer.results",
}
_SUBPACKAGES = ("causal", "data", "designs", "effects", "experiments", "predict", "report", "results", "stats")

__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "AssumptionWarning",
    "CausalInferError",
    "CausalInferWarning",
    "ConvergenceError",
    "DataError",
    "DataWarning",
    "Dataset",
    "DependencyError",
    "Diagnostic",
    "EffectSize",
    "IdentificationError",
    "Result",
    "ResultSet",
    "RoleError",
    "SourceError",
    "TableResult",
    "__version__",
    "causal",
    "data",
    "data_card",
    "designs",
    "effects",
    "list_datasets",
    "load_dataset",
    "predict",
    "report",
    "results",
    "stats",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY_ATTRS:
        value = getattr(importlib.import_module(_LAZY_ATTRS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"causalinfer.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'causalinfer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
