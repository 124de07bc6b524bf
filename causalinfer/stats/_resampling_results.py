"""Result classes of the resampling engine: they carry the resampling distribution and can draw it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..results import Result


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class BootstrapResult(Result):
    """A bootstrap confidence interval.

    Besides the shared fields, ``details`` holds ``"distribution"`` (summary table of the bootstrap
    distribution), ``"monte_carlo"`` (Monte Carlo standard errors of the interval endpoints),
    ``"n_resamples"``, ``"seed"``, ``"interval"`` (the method), for BCa ``"z0"`` and ``"acceleration"``,
    and ``"_distribution"`` (every bootstrap replicate, used by :meth:`plot` and :attr:`distribution`).
    """

    @property
    def distribution(self) -> np.ndarray:
        """The bootstrap replicates of the statistic (a copy)."""
        return np.array(self.details["_distribution"], dtype=float)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Histogram of the bootstrap distribution with the estimate and the interval marked. Needs matplotlib."""
        from ..results._plot import distribution_plot

        level = f"{100 * self.conf_level:g}% CI" if self.conf_level is not None else "CI"
        marks = [("estimate", float(self.estimate if self.estimate is not None else np.nan), "-")]
        if self.ci_low is not None:
            marks.append((level, self.ci_low, "--"))
        if self.ci_high is not None:
            marks.append((level if self.ci_low is None or not np.isfinite(self.ci_low) else "_", self.ci_high, "--"))
        return distribution_plot(
            self.distribution, ax=ax, title=self.method, xlabel=f"bootstrap replicates of the {self.estimand}", marks=tuple(marks), **kwargs
        )


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class PermutationResult(Result):
    """A permutation test.

    ``details`` holds ``"null_distribution"`` (summary table), ``"monte_carlo"`` (Monte Carlo standard error
    of the p-value; zero for an exact test), ``"n_resamples"``, ``"exact"``, ``"seed"`` and
    ``"_null_distribution"`` (the statistic under every permutation drawn, used by :meth:`plot`).
    """

    @property
    def null_distribution(self) -> np.ndarray:
        """The statistic under each permutation (a copy)."""
        return np.array(self.details["_null_distribution"], dtype=float)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Histogram of the permutation distribution with the observed statistic marked. Needs matplotlib."""
        from ..results._plot import distribution_plot

        obs = float(self.statistic if self.statistic is not None else np.nan)
        return distribution_plot(
            self.null_distribution,
            ax=ax,
            title=self.method,
            xlabel=f"{self.statistic_name or 'statistic'} under permutation",
            marks=(("observed", obs, "--"),),
            **kwargs,
        )
