"""EffectResult: the answer to 'would this intervention work, and how much?'."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .._validation import check_choice
from ..exceptions import ArgumentError
from ..results import Result
from ._refitter import SENSITIVITIES, Refitter, refitter_of
from ._sensitivity import e_value


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class EffectResult(Result):
    """A causal effect estimate with its uncertainty and the diagnostics that decide whether to believe it.

    Beyond the shared :class:`~causalinfer.results.Result` fields (``estimate``, ``std_error``, ``ci_low``,
    ``ci_high``, ``pvalue`` against no effect, ``n``, ``diagnostics``), it records

    effect : str
        Which effect was estimated: "ATE", "ATT" or "ATC" for the estimators under unconfoundedness; for design
        estimators (:mod:`causalinfer.designs`) a label such as "LATE", "ATT", "effect at the cutoff" or
        "average marginal effect".
    treatment, outcome : str
        The columns the question is about.
    refitter : Refitter, optional
        What :meth:`refute` and :meth:`sensitivity` need to refit the estimator (its data, settings and a warm
        start). Kept by :meth:`replace`; not compared, not printed and not serialised, so a result rebuilt from
        JSON has none: refute it by estimating again.

    ``details`` holds ``"balance"`` (standardised mean differences and variance ratios before and after
    adjustment), ``"overlap"`` (propensity range, largest weight and effective sample size per group),
    ``"propensity_histogram"`` and ``"potential_outcomes"`` where they apply.
    """

    effect: str = "ATE"
    treatment: str = ""
    outcome: str = ""
    refitter: Refitter | None = field(default=None, compare=False, repr=False, metadata={"transient": True})

    def replace(self, **changes: Any) -> EffectResult:
        """A copy with some fields changed; the refitter comes along unless replaced."""
        return dataclasses.replace(self, **changes)

    @property
    def _context(self) -> Refitter | None:
        """The refitter under its former private name (kept for code written against it)."""
        return self.refitter

    # ------------------------------------------------------------------ tables
    @property
    def balance(self) -> pd.DataFrame:
        """Covariate balance before and after adjustment (see ``details["balance"]``)."""
        table = self.details.get("balance")
        if table is None:
            raise ArgumentError("this result has no balance table")
        return table.copy()  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ actions
    def refute(
        self,
        kind: str | Sequence[str] | None = None,
        *,
        n_simulations: int = 100,
        subset_fraction: float = 0.8,
        alpha: float = 0.05,
        random_state: Any = None,
        n_jobs: int = 2,
        progress: bool | None = None,
    ) -> Any:
        """Try to refute this estimate by refitting the estimator (and every nuisance model) on altered data.

        See :func:`causalinfer.causal.refute` for the refuters, what passing means and the p-values; the default
        is ``("placebo", "random_common_cause", "subset")``, or ``("placebo", "subset")`` for a design result.
        Returns a :class:`RefutationResult` for one kind and a :class:`~causalinfer.results.ResultSet` for several.
        """
        from ._refute import refute

        return refute(
            self,
            kind,
            n_simulations=n_simulations,
            subset_fraction=subset_fraction,
            alpha=alpha,
            random_state=random_state,
            n_jobs=n_jobs,
            progress=progress,
        )

    def sensitivity(self, kind: str = "e_value", **kwargs: Any) -> Result:
        """How strong would unmeasured confounding have to be to explain the estimate away?

        ``kind="e_value"`` (VanderWeele and Ding), ``"robustness_value"`` (Cinelli and Hazlett) or
        ``"unobserved_confounder"`` (a simulated confounder of given strengths, estimator refitted) or
        ``"rosenbaum"`` (Rosenbaum bounds, for 1:1 matching); see
        :func:`causalinfer.causal.e_value`, :func:`causalinfer.causal.robustness_value` and
        :func:`causalinfer.causal.unobserved_confounder`. A design result says which of them apply to it (the
        E-value for a continuous treatment; none for designs that do not rest on measuring every confounder).
        """
        kind = check_choice(kind, "kind", SENSITIVITIES)
        if kind == "e_value":  # through the declared function, so its options are checked as there
            return e_value(self, **kwargs)
        return refitter_of(self).sensitivity(self, kind, **kwargs)

    def plot(self, ax: Any = None, kind: str = "estimate", **kwargs: Any) -> Any:
        """``kind="estimate"`` (a forest plot), ``"love"`` (balance before/after) or ``"overlap"`` (propensity histograms)."""
        kind = check_choice(kind, "kind", ("estimate", "love", "overlap"))
        if kind == "estimate":
            return super().plot(ax=ax, **kwargs)
        from ..results._plot import love_plot, overlap_plot

        if kind == "love":
            table = self.balance
            if "smd_before" not in table.columns:
                raise ArgumentError(
                    "this result's balance table is not a before/after adjustment comparison (a regression discontinuity "
                    "reports covariate jumps at the cutoff in details['balance']); use kind='estimate'"
                )
            return love_plot(table, ax=ax, **kwargs)
        hist = self.details.get("propensity_histogram")
        if hist is None:
            raise ArgumentError("this result has no propensity scores to plot")
        return overlap_plot(hist, ax=ax, **kwargs)
