"""Causal inference: would an intervention change the outcome, and by how much?

Estimators of the effect of a binary treatment under unconfoundedness (regression adjustment, inverse
probability weighting, augmented IPW, double ML, propensity-score stratification) answer with an :class:`EffectResult` that carries overlap and
balance diagnostics and can :meth:`~EffectResult.refute` and :meth:`~EffectResult.sensitivity` itself.
"""

from ._effect import EffectResult, RefutationResult
from ._estimators import aipw, compare, dml, estimate_effect, ipw, regression_adjustment, stratification
from ._graph import IdentificationResult, identify_effect
from ._matching import matching, rosenbaum_bounds
from ._refute import refute
from ._sensitivity import e_value, robustness_value, unobserved_confounder

__all__ = [
    "EffectResult",
    "IdentificationResult",
    "RefutationResult",
    "aipw",
    "compare",
    "dml",
    "e_value",
    "estimate_effect",
    "identify_effect",
    "ipw",
    "matching",
    "refute",
    "regression_adjustment",
    "robustness_value",
    "rosenbaum_bounds",
    "stratification",
    "unobserved_confounder",
]
