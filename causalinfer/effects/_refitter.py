"""The protocol between an effect result and the estimator that produced it: "refit me on altered data".

An estimator that wants its results to refute themselves and to run sensitivity analyses attaches an object
following :class:`Refitter` to the :class:`~causalinfer.effects.EffectResult` it returns. The generic loops in
this package (repeated refits, the tests that judge them, the E-value) speak only to that object, so the
estimators under unconfoundedness (:mod:`causalinfer.causal`) and the research designs
(:mod:`causalinfer.designs`) both plug into them without knowing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

import numpy as np

from .._validation import show
from ..exceptions import ArgumentError, ArgumentTypeError

if TYPE_CHECKING:
    from ..results import Result
    from ._result import EffectResult

#: Every refuter name known to the loop in :func:`causalinfer.effects.refute`; each refitter says which apply.
REFUTERS = ("placebo", "random_common_cause", "subset", "bootstrap", "dummy_outcome")

#: Every sensitivity analysis an effect result can be asked for; each refitter says which apply.
SENSITIVITIES = ("e_value", "robustness_value", "unobserved_confounder", "rosenbaum")


@runtime_checkable
class Refitter(Protocol):
    """What an effect result needs to refit its estimator on altered data.

    Attributes
    ----------
    fingerprint : str
        Fingerprint of the data and roles the result was computed from (recorded in the refutations' provenance).
    refuters : tuple of str
        The refuters that apply to this estimator (a subset of :data:`REFUTERS`).
    default_refuters : tuple of str
        The refuters run when none is named.
    """

    @property
    def fingerprint(self) -> str: ...

    @property
    def refuters(self) -> tuple[str, ...]: ...

    @property
    def default_refuters(self) -> tuple[str, ...]: ...

    def title(self, kind: str) -> str:
        """A short name of the refuter ``kind`` for this estimator ("placebo treatment", "subsets of units")."""
        ...

    def null(self, kind: str) -> str:
        """The null hypothesis the refuter ``kind`` tests, and how its p-value is formed, in words."""
        ...

    def deterministic(self, kind: str) -> bool:
        """Whether ``kind`` is one fixed test (see :meth:`fixed_test`) rather than repeated random refits."""
        ...

    def simulator(self, kind: str, subset_fraction: float) -> Callable[[np.random.Generator], float]:
        """A function of a random generator returning the estimate refitted on one altered copy of the data."""
        ...

    def fixed_test(self) -> dict[str, Any]:
        """The one fixed test of a deterministic refuter: keys ``table``, ``estimate``, ``std_error``, ``statistic``,
        ``statistic_name``, ``pvalue``, ``n``, ``what`` (a sentence) and ``skipped`` (reasons, possibly empty)."""
        ...

    def sensitivity(self, result: EffectResult, kind: str, **kwargs: Any) -> Result:
        """Run the sensitivity analysis ``kind`` (one of :data:`SENSITIVITIES`) for ``result``, or raise an
        :class:`~causalinfer.exceptions.ArgumentError` saying why it does not apply to this estimator."""
        ...


def refitter_of(result: Any) -> Refitter:
    """The refitter attached to ``result``, or a clear error when ``result`` is not a live effect result."""
    refitter = getattr(result, "refitter", _ABSENT)
    if refitter is _ABSENT:
        raise ArgumentTypeError(
            f"`result` must be an EffectResult from a causalinfer.causal or causalinfer.designs estimator; got {show(result)}"
        )
    if refitter is None:
        raise ArgumentError(
            "this EffectResult does not carry its data (it was rebuilt from JSON); estimate the effect again and refute that result"
        )
    return cast(Refitter, refitter)


_ABSENT = object()
