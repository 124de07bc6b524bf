"""Design results as EffectResults: the label of the effect, and the re-run machinery behind refute() and sensitivity().

A design estimator wraps its :class:`~causalinfer.results.Result` with :func:`as_effect`. The returned
:class:`~causalinfer.effects.EffectResult` carries a :class:`DesignContext` as its ``refitter``: the Dataset it
was computed from, the options it was called with and a way to call the same function again on altered data.
The refutation loop in :mod:`causalinfer.effects` asks it for one refitted estimate per random generator.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from ..data import Dataset
from ..effects import EffectResult, outcome_e_value
from ..exceptions import ArgumentError, CausalInferError
from ..results import Result

#: How each kind of design is placebo-tested, and what the refuter's null hypothesis says.
_PLACEBOS = {
    "iv": (
        "placebo outcome",
        "replacing the outcome by a random permutation of itself (an outcome the treatment cannot affect), the same design "
        "finds effects centred at 0. p-value: t-test of the mean placebo effect against 0 across simulations; passed when p >= alpha",
    ),
    "did": (
        "placebo treated units",
        "giving the treatment path of each unit to another, randomly chosen unit (a placebo treated group), the same design "
        "finds effects centred at 0. p-value: t-test of the mean placebo effect against 0 across simulations; passed when p >= alpha",
    ),
    "rdd": (
        "placebo cutoff",
        "there is no jump at a placebo cutoff placed at the median of the running variable on each side of the real cutoff "
        "(fitted with that side's data only). p-value: chi-square test that every placebo jump is 0 (the sides use disjoint "
        "data, so the jumps are independent); passed when p >= alpha",
    ),
    "continuous": (
        "placebo treatment",
        "replacing the treatment by a random permutation of itself (a placebo with no effect), the same design finds effects "
        "centred at 0. p-value: t-test of the mean placebo effect against 0 across simulations; passed when p >= alpha",
    ),
}

_NULL_SUBSET = (
    "the original estimate is a plausible draw from the estimates on random subsets of the {what}. p-value: two-sided normal "
    "probability, under the subset estimates' mean and standard deviation, of a value as far from their mean as the original; "
    "passed when p >= alpha"
)
_NULL_BOOTSTRAP = (
    "the original estimate is a plausible draw from the estimates on bootstrap resamples of the {what}. p-value: two-sided "
    "normal probability, under the bootstrap estimates' mean and standard deviation, of a value as far from their mean as the "
    "original; passed when p >= alpha"
)
_NULL_RCC = (
    "adding an independent random covariate to the controls leaves the estimate unchanged. p-value: two-sided normal test of "
    "the mean shift of the estimate in units of its standard error; passed when p >= alpha"
)

#: What each design's identification rests on, for the error raised by sensitivity analyses that do not apply.
_ASSUMPTION = {
    "iv": "the instrument's relevance and exclusion, not on measuring every confounder",
    "did": "parallel trends, not on measuring every confounder",
    "rdd": "continuity at the cutoff, not on measuring every confounder",
}

RANDOM_COLUMN = "random common cause"


@dataclass(frozen=True, eq=False)
class DesignContext:
    """What a design result needs to re-run its own design on altered data (a :class:`~causalinfer.effects.Refitter`;
    lost in JSON)."""

    func: Callable[..., Any]
    dataset: Dataset
    options: Mapping[str, Any]
    design: str  # "iv", "did", "rdd" or "continuous"
    group: str | None = None  # column resampled as a whole (unit or cluster); None: rows
    adjusts: bool = False  # the function adjusts for `covariates` (random_common_cause applies)
    rerun_options: Mapping[str, Any] = field(default_factory=dict)  # overrides for re-runs (skip diagnostics not needed)
    cd: Any = None  # outcome, treatment and fingerprint, as read by the e-value
    data_fingerprint: str = ""  # of the data and roles the result was computed from

    # ------------------------------------------------------------------ the refute() protocol
    @property
    def refuters(self) -> tuple[str, ...]:
        base = ("placebo", "subset", "bootstrap")
        return (*base, "random_common_cause") if self.adjusts else base

    @property
    def default_refuters(self) -> tuple[str, ...]:
        return ("placebo", "subset")

    @property
    def fingerprint(self) -> str:
        return self.data_fingerprint

    def title(self, kind: str) -> str:
        if kind == "placebo":
            return _PLACEBOS[self.design][0]
        unit = "rows" if not self.group else f"{'units' if self.group == self.dataset.unit else 'clusters'} ({self.group})"
        return {"subset": f"subsets of {unit}", "bootstrap": f"bootstrap of {unit}", "random_common_cause": "random common cause"}[kind]

    def null(self, kind: str) -> str:
        what = "rows"
        if self.group:
            what = f"{'units' if self.group == self.dataset.unit else 'clusters'} ({self.group}), each with all its rows"
        if kind == "placebo":
            return _PLACEBOS[self.design][1]
        if kind == "subset":
            return _NULL_SUBSET.format(what=what)
        if kind == "bootstrap":
            return _NULL_BOOTSTRAP.format(what=what)
        return _NULL_RCC

    def deterministic(self, kind: str) -> bool:
        """Whether ``kind`` is a single fixed test rather than repeated random simulations."""
        return kind == "placebo" and self.design == "rdd"

    def estimate(self, frame: pd.DataFrame, **roles: Any) -> float:
        """The same design re-run on ``frame`` (with some roles changed); returns the headline estimate."""
        base = {k: v for k, v in self.dataset.roles.items() if k not in ("graph", "name")}
        base.update(roles)
        ds = Dataset(frame, **base)
        return float(self.func(ds, **{**self.options, **self.rerun_options}).estimate)

    def simulator(self, kind: str, subset_fraction: float) -> Callable[[np.random.Generator], float]:
        """A function of a random generator returning one re-run estimate on altered data."""
        frame = self.dataset.frame[list(self.dataset.used_columns)]
        n = len(frame)
        if kind == "random_common_cause":
            covs = (*self.dataset.covariates, RANDOM_COLUMN)

            def with_covariate(rng: np.random.Generator) -> float:
                return self.estimate(frame.assign(**{RANDOM_COLUMN: rng.standard_normal(n)}), covariates=covs)

            return with_covariate
        if kind in ("subset", "bootstrap"):
            return self._resampler(frame, kind, subset_fraction)
        return self._placebo(frame)

    def _resampler(self, frame: pd.DataFrame, kind: str, subset_fraction: float) -> Callable[[np.random.Generator], float]:
        if self.group is None:
            n = len(frame)
            m = max(round(subset_fraction * n), 4)

            def rows(rng: np.random.Generator) -> float:
                idx = np.sort(rng.choice(n, m, replace=False)) if kind == "subset" else rng.integers(0, n, n)
                return self.estimate(frame.iloc[idx].reset_index(drop=True))

            return rows
        codes, _ = pd.factorize(frame[self.group])
        g = int(codes.max()) + 1
        members = [np.flatnonzero(codes == j) for j in range(g)]
        m = max(round(subset_fraction * g), 2)
        unit = self.dataset.unit if self.dataset.unit not in (None, self.group) else None
        unit_codes = pd.factorize(frame[unit])[0] if unit is not None else None
        n_unit = 0 if unit_codes is None else int(unit_codes.max()) + 1

        def groups(rng: np.random.Generator) -> float:
            if kind == "subset":
                picked = np.sort(rng.choice(g, m, replace=False))
                idx = np.concatenate([members[j] for j in picked])
                return self.estimate(frame.iloc[idx].reset_index(drop=True))
            picked = rng.integers(0, g, g)
            idx = np.concatenate([members[j] for j in picked])
            draw = np.repeat(np.arange(g), [members[j].size for j in picked])
            out = frame.iloc[idx].reset_index(drop=True)
            # a group drawn twice becomes two groups (and its units two units), as in a cluster bootstrap
            out[self.group] = draw
            if unit is not None and unit_codes is not None:
                out[unit] = unit_codes[idx] + draw * n_unit
            return self.estimate(out)

        return groups

    def _placebo(self, frame: pd.DataFrame) -> Callable[[np.random.Generator], float]:
        ds = self.dataset
        n = len(frame)
        if self.design in ("iv", "continuous"):
            column = str(ds.outcome if self.design == "iv" else ds.treatment)
            values = frame[column].to_numpy()

            def permuted(rng: np.random.Generator) -> float:
                return self.estimate(frame.assign(**{column: values[rng.permutation(n)]}))

            return permuted
        # difference-in-differences: reassign whole treatment paths across units
        return self._placebo_units(frame)

    def _placebo_units(self, frame: pd.DataFrame) -> Callable[[np.random.Generator], float]:
        ds = self.dataset
        d_name, t_name = str(ds.treatment), str(ds.time)
        if ds.treated_level is not None:
            # labels with a stated treated level: reassign the 0/1 indicator and re-run on it (treated_level=None)
            frame = frame.assign(**{d_name: ds.treatment_values()})
            estimate: Callable[[pd.DataFrame], float] = partial(self.estimate, treated_level=None)
        else:
            estimate = self.estimate
        d = frame[d_name].to_numpy()
        if ds.unit is None:  # repeated cross-sections (did_2x2): permute the group indicator within each period
            periods = [np.flatnonzero(p) for p in (frame[t_name] == v for v in pd.unique(frame[t_name]))]

            def within(rng: np.random.Generator) -> float:
                new = d.copy()
                for rows in periods:
                    new[rows] = d[rows[rng.permutation(rows.size)]]
                return estimate(frame.assign(**{d_name: new}))

            return within
        ucodes, _ = pd.factorize(frame[ds.unit])
        tcodes, times = pd.factorize(frame[t_name], sort=True)
        n_units, n_times = int(ucodes.max()) + 1, len(times)
        wide = np.full((n_units, n_times), np.nan)
        wide[ucodes, tcodes] = d
        constant = bool(np.all(np.nanmax(wide, axis=1) == np.nanmin(wide, axis=1)))
        if constant:  # a fixed treated group: permute the group labels across units
            label = np.nanmax(wide, axis=1)

            def groups(rng: np.random.Generator) -> float:
                return estimate(frame.assign(**{d_name: label[rng.permutation(n_units)][ucodes]}))

            return groups
        binary = bool(np.isin(d, (0.0, 1.0)).all())
        if binary:
            filled = np.where(np.isnan(wide), 0.0, wide)
            started = np.cumsum(filled, axis=1) > 0
            absorbing = bool(np.all(~started | (np.isnan(wide) | (wide == 1))))
            if absorbing:  # adoption: each unit gets the first treated period of another unit
                first = np.where(started.any(axis=1), started.argmax(axis=1), n_times)

                def cohorts(rng: np.random.Generator) -> float:
                    g = first[rng.permutation(n_units)]
                    return estimate(frame.assign(**{d_name: (tcodes >= g[ucodes]).astype(float)}))

                return cohorts
        if np.isnan(wide).any():
            raise ArgumentError(
                "the placebo refuter for this panel reassigns treatment paths between units, which needs a balanced panel when "
                "the treatment is not a single adoption; use kind='subset' or 'bootstrap'"
            )

        def paths(rng: np.random.Generator) -> float:
            return estimate(frame.assign(**{d_name: wide[rng.permutation(n_units)][ucodes, tcodes]}))

        return paths

    def fixed_test(self) -> dict[str, Any]:
        """The RDD placebo-cutoff test: a jump at the median of the running variable on each side, one side's data each."""
        from scipy import stats

        ds = self.dataset
        frame = self.dataset.frame[list(ds.used_columns)]
        r = frame[str(ds.running)].to_numpy(dtype=float)
        c = float(ds.cutoff) if ds.cutoff is not None else math.nan
        rows = []
        skipped = []
        for side, keep in (("below", r < c), ("above", r >= c)):
            part = frame[keep].reset_index(drop=True)
            if len(part) == 0:
                continue
            placebo = float(np.median(part[str(ds.running)].to_numpy(dtype=float)))
            roles = {k: v for k, v in ds.roles.items() if k not in ("graph", "name")}
            roles.update(cutoff=placebo, covariates=())
            try:
                res = self.func(Dataset(part, **roles), **{**self.options, **self.rerun_options})
            except CausalInferError as exc:
                skipped.append(f"{side}: {exc}")
                continue
            rows.append(
                {
                    "side": side,
                    "cutoff": placebo,
                    "estimate": float(res.estimate),
                    "std_error": float(res.std_error),
                    "pvalue": float(res.pvalue),
                    "n": int(res.n),
                }
            )
        if not rows:
            raise ArgumentError("no placebo cutoff could be fitted on either side of the cutoff: " + "; ".join(skipped))
        table = pd.DataFrame(rows)
        z2 = float(np.sum((table["estimate"] / table["std_error"]) ** 2))
        p = float(stats.chi2.sf(z2, len(rows)))
        mean = float(table["estimate"].mean())
        se = float(np.sqrt(np.sum(table["std_error"] ** 2)) / len(rows))
        jumps = ", ".join(
            f"{e:.4g} at {x:.4g} (p = {q:.3g})" for e, x, q in zip(table["estimate"], table["cutoff"], table["pvalue"], strict=True)
        )
        return {
            "table": table,
            "estimate": mean,
            "std_error": se,
            "statistic": z2,
            "statistic_name": "chi2",
            "pvalue": p,
            "n": len(rows),
            "what": f"placebo jumps {jumps}",
            "skipped": skipped,
        }

    # ------------------------------------------------------------------ sensitivity
    def sensitivity(self, result: EffectResult, kind: str, **kwargs: Any) -> Result:
        if self.design == "continuous" and kind == "e_value":
            outcome_sd = kwargs.pop("outcome_sd", None)
            if outcome_sd is None:
                outcome_sd = float(np.std(self.cd.y, ddof=1))
            return outcome_e_value(result, self.cd.y, None, outcome_sd=outcome_sd, fingerprint=self.cd.fingerprint, **kwargs)
        if self.design == "continuous":
            raise ArgumentError(
                f"sensitivity kind {kind!r} is not available for {self.func.__name__}; for a continuous treatment use "
                "kind='e_value' (per unit of the treatment, on the outcome's SD scale), and refute(...)"
            )
        raise ArgumentError(
            f"sensitivity analyses for unmeasured confounding ({kind!r}) do not apply to {self.func.__name__}: its identification rests "
            f"on {_ASSUMPTION[self.design]}. Probe the design with result.refute('placebo'), 'subset' or 'bootstrap', and read its "
            "diagnostics"
        )


def as_effect(
    result: Result,
    *,
    effect: str,
    func: Callable[..., Any],
    ds: Dataset,
    options: Mapping[str, Any],
    design: str,
    group: str | None = None,
    adjusts: bool = False,
    rerun_options: Mapping[str, Any] | None = None,
    rerun_ds: Dataset | None = None,
    treatment: str | None = None,
) -> EffectResult:
    """``result`` as an EffectResult labelled ``effect``, able to re-run ``func`` on altered copies of ``ds``.

    ``rerun_ds`` (default ``ds``) is the Dataset re-runs start from, e.g. without roles that only feed diagnostics;
    ``treatment`` names the treatment when it is not a column role (the side of a sharp discontinuity).
    """
    fields = {f.name: getattr(result, f.name) for f in dataclasses.fields(Result) if f.init}
    fingerprint = ds.fingerprint()
    ds = ds if rerun_ds is None else rerun_ds
    cd = None
    if design == "continuous":
        y = ds.frame[str(ds.outcome)].to_numpy(dtype=float)
        cd = SimpleNamespace(y=y, a=ds.frame[str(ds.treatment)].to_numpy(dtype=float), fingerprint=fingerprint)
    ctx = DesignContext(
        func=func,
        dataset=ds,
        options=dict(options),
        design=design,
        group=group,
        adjusts=adjusts,
        rerun_options=dict(rerun_options or {}),
        cd=cd,
        data_fingerprint=fingerprint,
    )
    return EffectResult(
        **fields,
        effect=effect,
        treatment=treatment if treatment is not None else str(ds.treatment or ""),
        outcome=str(ds.outcome or ""),
        refitter=ctx,
    )
