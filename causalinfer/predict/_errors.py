"""Errors raised by scoring jobs and model persistence (all :class:`~causalinfer.exceptions.CausalInferError`)."""

from __future__ import annotations

from ..exceptions import CausalInferError, DataError, SourceError

__all__ = ["JobConflictError", "ModelError", "SchemaError", "UntrustedModelError"]


class ModelError(CausalInferError, ValueError):
    """A model file cannot be used: not a model, tampered with (hash mismatch), or missing its metadata."""


class UntrustedModelError(ModelError):
    """A model file holds types the caller has not trusted by name."""


class SchemaError(DataError):
    """A chunk of input does not satisfy the model's input schema (missing column, unsafe cast)."""


class JobConflictError(SourceError):
    """The destination already holds output of a different scoring job (or of unknown origin)."""
