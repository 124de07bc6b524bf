"""Causal inference: would an intervention change the outcome, and by how much?

Designs for when unconfoundedness is not credible (instrumental variables, difference-in-differences, regression
discontinuity, continuous treatments, heterogeneous effects) live in :mod:`causalinfer.designs` and are
re-exported here (loaded on first use); ``estimate_effect(..., method="iv")`` reaches two-stage least squares from a graph.

Estimators of the effect of a binary treatment under unconfoundedness (regression adjustment, inverse
probability weighting, augmented IPW, double ML, propensity-score stratification) answer with an :class:`EffectResult` that carries overlap and
balance diagnostics and can :meth:`~EffectResult.refute` and :meth:`~EffectResult.sensitivity` itself.
"""

from typing import TYPE_CHECKING, Any

from ._effect import EffectResult, RefutationResult
from ._estimators import aipw, compare, dml, estimate_effect, ipw, regression_adjustment, stratification
from ._graph import IdentificationResult, identify_effect
from ._matching import matching, rosenbaum_bounds
from ._refute import refute
from ._sensitivity import e_value, robustness_value, unobserved_confounder

if TYPE_CHECKING:
    from ..designs import (
        callaway_santanna,
        cate,
        density_test,
        did_2x2,
        dose_response,
        event_study,
        ik_bandwidth,
        iv_2sls,
        partially_linear_dml,
        rdd,
        twfe,
        wald_estimator,
    )

#: Design estimators re-exported here, loaded from :mod:`causalinfer.designs` on first use (the designs do not
#: import this package, and this package does not load them until asked).
_FROM_DESIGNS = frozenset(
    {
        "callaway_santanna",
        "cate",
        "density_test",
        "did_2x2",
        "dose_response",
        "event_study",
        "ik_bandwidth",
        "iv_2sls",
        "partially_linear_dml",
        "rdd",
        "twfe",
        "wald_estimator",
    }
)


def __getattr__(name: str) -> Any:
    if name in _FROM_DESIGNS:
        from .. import designs

        value = getattr(designs, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _FROM_DESIGNS)


__all__ = [
    "EffectResult",
    "IdentificationResult",
    "RefutationResult",
    "aipw",
    "callaway_santanna",
    "cate",
    "compare",
    "density_test",
    "did_2x2",
    "dml",
    "dose_response",
    "e_value",
    "estimate_effect",
    "event_study",
    "identify_effect",
    "ik_bandwidth",
    "ipw",
    "iv_2sls",
    "matching",
    "partially_linear_dml",
    "rdd",
    "refute",
    "regression_adjustment",
    "robustness_value",
    "rosenbaum_bounds",
    "stratification",
    "twfe",
    "unobserved_confounder",
    "wald_estimator",
]
