"""EffectResult and RefutationResult, which live in :mod:`causalinfer.effects` (shared with the designs)."""

from ..effects import EffectResult, RefutationResult

__all__ = ["EffectResult", "RefutationResult"]
