"""The shared Result family: every function in causalinfer answers with one of these."""

from ._result import (
    DIAGNOSTIC_COLUMNS,
    EFFECT_SIZE_COLUMNS,
    ESTIMATE_COLUMNS,
    Diagnostic,
    EffectSize,
    Provenance,
    Result,
    result_registry,
)
from ._resultset import RESULTSET_COLUMNS, ResultSet
from ._table import TableResult

__all__ = [
    "DIAGNOSTIC_COLUMNS",
    "EFFECT_SIZE_COLUMNS",
    "ESTIMATE_COLUMNS",
    "RESULTSET_COLUMNS",
    "Diagnostic",
    "EffectSize",
    "Provenance",
    "Result",
    "ResultSet",
    "TableResult",
    "result_registry",
]
