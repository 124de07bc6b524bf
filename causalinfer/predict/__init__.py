"""Predictive inference: score data with trained models, from where it lives to where it is read.

``score(model, source, destination)`` runs a chunked, resumable scoring job that writes every input row
exactly once; ``save_model`` / ``load_model`` persist models as skops files with a metadata sidecar (input
schema, library versions, content hash, training-data fingerprint).
"""

from ._contract import ChunkReport, ColumnSpec, InputSchema
from ._errors import JobConflictError, ModelError, SchemaError, UntrustedModelError
from ._models import ModelInfo, frame_fingerprint, load_model, model_info, save_model
from ._score import OUTPUTS, ScoringResult, score
from ._sinks import SQLDestination
from ._sources import SQLSource

__all__ = [
    "OUTPUTS",
    "ChunkReport",
    "ColumnSpec",
    "InputSchema",
    "JobConflictError",
    "ModelError",
    "ModelInfo",
    "SQLDestination",
    "SQLSource",
    "SchemaError",
    "ScoringResult",
    "UntrustedModelError",
    "frame_fingerprint",
    "load_model",
    "model_info",
    "save_model",
    "score",
]
