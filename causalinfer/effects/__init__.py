"""Effect results and what every effect estimator shares: refutation and sensitivity to unmeasured confounding.

This layer sits below both :mod:`causalinfer.causal` (estimators under unconfoundedness) and
:mod:`causalinfer.designs` (instrumental variables, difference-in-differences, regression discontinuity, ...).
An estimator answers with an :class:`EffectResult` carrying a :class:`Refitter`: the object that knows how to
refit that estimator on altered data. The refutation loop (:func:`refute`) and the E-value (:func:`e_value`)
speak only to the refitter, so the two estimator families share them without importing each other.
"""

from ._refitter import REFUTERS, SENSITIVITIES, Refitter, refitter_of
from ._refute import RefutationResult, judge, refute, simulate
from ._result import EffectResult
from ._sensitivity import e_value, e_value_from_rr, outcome_e_value, robustness_values

__all__ = [
    "REFUTERS",
    "SENSITIVITIES",
    "EffectResult",
    "Refitter",
    "RefutationResult",
    "e_value",
    "e_value_from_rr",
    "judge",
    "outcome_e_value",
    "refitter_of",
    "refute",
    "robustness_values",
    "simulate",
]
