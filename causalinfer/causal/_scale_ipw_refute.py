"""Refutations of an IPW result computed inside an engine: each simulation is a refit by further passes.

A result of :func:`causalinfer.causal.ipw` on a Parquet, SQL or dask ``data`` carries a :class:`ScaleRefitter`
(following :class:`causalinfer.effects.Refitter`), so ``result.refute("placebo")`` and ``result.refute("subset")``
work as in memory, with the progress bar of the refutation loop. Rows inside an engine have no order, so nothing is
permuted or indexed: every row draws a number in [0, 1) from a hash of its values and the simulation's seed. The
placebo treatment is 1 where that number is below the treated share (a random treatment with no effect; the
in-memory refuter permutes the treatment instead, which fixes the number treated exactly), and a subset keeps the
rows whose number is below ``subset_fraction``. Each refit runs the logistic propensity's Newton passes and one
pass for the point estimate, on the same (trimmed) population as the original result.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import ArgumentError
from ._refute import TITLES
from ._scale_ipw_passes import IPWRows

if TYPE_CHECKING:
    from ..effects import EffectResult
    from ..results import Result

__all__ = ["ScaleRefitter"]

_NULLS = {
    "placebo": (
        "replacing the treatment by a random one (each row treated with the original treated share, drawn from a hash of "
        "the row and the seed; a placebo with no effect), the estimator finds effects centred at 0. p-value: t-test of the "
        "mean placebo effect against 0 across simulations; passed when p >= alpha"
    ),
    "subset": (
        "the original estimate is a plausible draw from the estimates on random subsets of the rows (each row kept when a "
        "hash of the row and the seed falls below subset_fraction). p-value: two-sided normal probability, under the subset "
        "estimates' mean and standard deviation, of a value as far from their mean as the original; passed when p >= alpha"
    ),
}


@dataclass(frozen=True)
class ScaleRefitter:
    """What an at-scale IPW result needs to refit itself: where the rows are, the design and the fitted propensity."""

    data: Any
    rows: IPWRows
    beta: np.ndarray
    share_treated: float
    normalize: bool
    names: tuple[str, ...]
    scale: np.ndarray  # the covariate columns' standard deviations (Newton's step size is judged on that scale)

    @property
    def fingerprint(self) -> str:
        return ""

    @property
    def refuters(self) -> tuple[str, ...]:
        return ("placebo", "subset")

    @property
    def default_refuters(self) -> tuple[str, ...]:
        return ("placebo", "subset")

    def title(self, kind: str) -> str:
        return TITLES[kind]

    def null(self, kind: str) -> str:
        return _NULLS[kind]

    def deterministic(self, kind: str) -> bool:
        return False

    def simulator(self, kind: str, subset_fraction: float) -> Callable[[np.random.Generator], float]:
        share = self.share_treated if kind == "placebo" else subset_fraction
        start = self.beta.copy()
        if kind == "placebo":  # the placebo is unrelated to the covariates: start from the intercept-only fit
            start = np.zeros_like(self.beta)
            start[0] = math.log(share / (1.0 - share))

        def one(rng: np.random.Generator) -> float:
            seed = int(rng.integers(0, 2**53))
            return self._refit(dataclasses.replace(self.rows, draw=(kind, seed, share)), start)

        return one

    def _refit(self, rows: IPWRows, start: np.ndarray) -> float:
        from ..stats._scale import _passes
        from ._scale_ipw_fit import newton, run_pass

        with _passes(self.data) as passes:
            beta, _ = newton(passes, rows, start, self.scale, self.names)
            m = run_pass(passes, rows, beta, "point")
        if self.normalize:
            return float(m["swy1"] / m["sw1"] - m["swy0"] / m["sw0"])
        return float((m["swy1"] - m["swy0"]) / m["sc"])

    def fixed_test(self) -> dict[str, Any]:
        raise ArgumentError("the estimators under unconfoundedness have no fixed refutation test")

    def sensitivity(self, result: EffectResult, kind: str, **kwargs: Any) -> Result:
        raise ArgumentError(
            f"the {kind!r} sensitivity analysis needs the rows in memory and is not computed for a result on a Parquet, SQL "
            "or dask `data`; run it on a sample loaded into a DataFrame"
        )
