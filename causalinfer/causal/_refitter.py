"""The refitter an effect result of :mod:`causalinfer.causal` carries (a :class:`causalinfer.effects.Refitter`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..effects import REFUTERS, outcome_e_value
from ..exceptions import ArgumentError
from . import _core as core
from ._design import CausalData
from ._refute import NULLS, TITLES
from ._refute import simulator as refute_simulator
from ._sensitivity import robustness_value_of, unobserved_confounder_of

if TYPE_CHECKING:
    from ..effects import EffectResult
    from ..results import Result

__all__ = ["CausalRefitter"]


@dataclass(frozen=True)
class CausalRefitter:
    """What a result needs to refit itself: the (possibly trimmed) data, the settings and a warm start.

    Follows :class:`causalinfer.effects.Refitter`.
    """

    cd: CausalData
    spec: core.Spec
    warm: core.Warm
    conf_level: float
    #: sensitivity analyses only some estimators offer, by kind (matching adds "rosenbaum")
    extra_sensitivities: Mapping[str, Callable[..., Result]] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return self.cd.fingerprint

    @property
    def refuters(self) -> tuple[str, ...]:
        return REFUTERS

    @property
    def default_refuters(self) -> tuple[str, ...]:
        return ("placebo", "random_common_cause", "subset")

    def title(self, kind: str) -> str:
        return TITLES[kind]

    def null(self, kind: str) -> str:
        return NULLS[kind]

    def deterministic(self, kind: str) -> bool:
        return False

    def simulator(self, kind: str, subset_fraction: float) -> Callable[[np.random.Generator], float]:
        return refute_simulator(kind, self, subset_fraction)

    def fixed_test(self) -> dict[str, Any]:
        raise ArgumentError("the estimators under unconfoundedness have no fixed refutation test")

    def sensitivity(self, result: EffectResult, kind: str, **kwargs: Any) -> Result:
        if kind in self.extra_sensitivities:
            return self.extra_sensitivities[kind](result, **kwargs)
        if kind == "rosenbaum":
            raise ArgumentError("Rosenbaum bounds need a matching result computed in this session (causalinfer.causal.matching)")
        if kind == "e_value":
            return outcome_e_value(
                result, self.cd.y, self.cd.a, outcome_sd=kwargs.pop("outcome_sd", None), fingerprint=self.fingerprint, **kwargs
            )
        if kind == "unobserved_confounder":
            return unobserved_confounder_of(self, result, **kwargs)
        return robustness_value_of(self, result, **kwargs)
