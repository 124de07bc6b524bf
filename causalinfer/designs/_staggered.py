"""Staggered adoption: Callaway and Sant'Anna (2021) group-time average treatment effects and their aggregations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice, check_conf_level, check_random_state, show
from ..exceptions import DataError, RoleError
from ..results import Diagnostic, Provenance, Result
from ..stats._normal import z_crit
from ._aggte import AGGREGATES, BOOT_WEIGHTS, Aggregate, aggregate_cells, multiplier_bootstrap, standard_errors
from ._common import dataset, emit, labels, need, numeric, t_inference, terms_frame, treatment_values
from ._drdid import ESTIMATORS, logit_fit
from ._effect import as_effect
from ._panel import Panel, first_treated, make_panel

if TYPE_CHECKING:
    from ..effects import EffectResult

__all__ = ["callaway_santanna"]

_CONTROLS = ("never", "notyet")


@dataclass(frozen=True)
class GroupTime:
    """ATT(g, t) estimates and their unit-level influence functions (columns of ``psi``)."""

    cohort: np.ndarray  # period code of first treatment, per cell
    period: np.ndarray  # period code, per cell
    att: np.ndarray
    psi: np.ndarray  # n_units x n_cells; var(ATT) = sum of squares of a column
    n_treated: np.ndarray
    n_control: np.ndarray
    cohort_size: dict[int, int]
    skipped: tuple[tuple[int, int, str], ...] = ()  # (cohort, period, reason) of cells left out


def _cell_plan(g: int, ti: int, anticipation: int, universal: bool) -> tuple[int, int, bool]:
    """The period and base period codes of one cell, and whether it is the (empty) universal base cell.

    Post periods, and the anticipation periods before them, compare with the last period before anticipation
    (``g - anticipation - 1``); earlier periods with the period before ("varying") or with that same reference
    ("universal"), as ``did::att_gt``.
    """
    tfac = 0 if universal else 1
    tn = ti + tfac
    ref = g - anticipation - 1
    base = ref if universal or g - anticipation <= tn else ti
    return tn, base, universal and base == tn


def group_time_att(
    y: np.ndarray,
    first: np.ndarray,
    n_times: int,
    control: str,
    *,
    x: np.ndarray | None = None,
    method: str = "reg",
    anticipation: int = 0,
    base_period: str = "varying",
    cohorts: list[int] | None = None,
) -> GroupTime:
    """ATT(g, t) from a balanced panel ``y`` (units x periods) and first-treated period codes (never: ``n_times``).

    ``x`` (units x periods x covariates, intercept first) enters each cell at the earlier of its two periods, as
    ``did`` does; without it the estimators reduce to differences in means. Each cell is estimated on its cohort and
    its comparison units by :mod:`._drdid`; its influence function (``psi``, variance = sum of squares) is zero for
    the other units. Cells without comparison units, or whose propensity score reaches 0.999 for some unit (``did``'s
    overlap check), are left out and counted in ``skipped``.
    """
    never = first >= n_times
    if cohorts is None:
        cohorts = [int(g) for g in np.unique(first) if anticipation < g < n_times]
    universal = base_period == "universal"
    n = y.shape[0]
    xs = np.ones((n, n_times, 1)) if x is None else x
    estimator = ESTIMATORS[method if x is not None else "reg"]
    cells_g, cells_t, att, cols, nt, nc, skipped = [], [], [], [], [], [], []
    for g in cohorts:
        treated = first == g
        for ti in range(n_times - (0 if universal else 1)):
            tn, base, empty = _cell_plan(g, ti, anticipation, universal)
            if empty:
                cells_g.append(g)
                cells_t.append(tn)
                att.append(0.0)
                cols.append(np.zeros(n))
                nt.append(int(treated.sum()))
                nc.append(0)
                continue
            ctrl = never if control == "never" else never | ((first > max(tn, base) + anticipation) & ~treated)
            if not ctrl.any():
                skipped.append((g, tn, "no comparison units"))
                continue
            rows = treated | ctrl
            xc = xs[rows, min(tn, base), :]
            d = treated[rows].astype(float)
            if x is not None and method != "reg" and _overlap_fails(d, xc):
                skipped.append((g, tn, "propensity score of 0.999 or more (no overlap)"))
                continue
            est, inf = estimator(y[rows, tn] - y[rows, base], d, xc)
            psi = np.zeros(n)
            psi[rows] = inf / rows.sum()
            cells_g.append(g)
            cells_t.append(tn)
            att.append(est)
            cols.append(psi)
            nt.append(int(treated.sum()))
            nc.append(int(ctrl.sum()))
    if not att or all(c == 0 for c in nc):
        raise DataError("no group-time effect can be estimated: no comparison units (never treated or not yet treated) are available")
    sizes = {int(g): int((first == g).sum()) for g in cohorts}
    return GroupTime(
        np.array(cells_g), np.array(cells_t), np.array(att), np.column_stack(cols), np.array(nt), np.array(nc), sizes, tuple(skipped)
    )


def _overlap_fails(d: np.ndarray, x: np.ndarray) -> bool:
    """``did``'s overlap check: an unweighted logit of the cell's treatment on its covariates fits 0.999 or more."""
    if x.shape[1] == 1:
        return bool(d.mean() >= 0.999)
    try:
        ps, _ = logit_fit(d, x)
    except np.linalg.LinAlgError:
        return True
    return bool(not np.all(np.isfinite(ps)) or ps.max() >= 0.999)


_METHODS = ("dr", "ipw", "reg", "dr_imp")
_BASES = ("varying", "universal")
_WHAT = {
    "simple": "cohort-share weighted average of post-treatment ATT(g,t)",
    "group": "average of cohort-specific ATTs, weighted by cohort share",
    "dynamic": "average of event-time ATTs over e >= 0",
    "calendar": "average of calendar-period ATTs",
    "none": "cohort-share weighted average of post-treatment ATT(g,t)",
}
_METHOD_NAMES = {
    "dr": "doubly robust",
    "ipw": "inverse probability weighting",
    "reg": "outcome regression",
    "dr_imp": "improved doubly robust",
}


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "unit": [None, "column"],
        "time": [None, "column"],
        "covariates": [None, "columns"],
        "control": vp.Options(_CONTROLS),
        "aggregate": vp.Options(AGGREGATES),
        "est_method": vp.Options(_METHODS),
        "anticipation": vp.Interval("int", 0),
        "base_period": vp.Options(_BASES),
        "min_e": [None, vp.Interval("real", finite=False)],
        "max_e": [None, vp.Interval("real", finite=False)],
        "balance_e": [None, vp.Interval("int", 0)],
        "n_boot": vp.Interval("int", 0),
        "boot_weights": vp.Options(BOOT_WEIGHTS),
        "random_state": "random_state",
        "conf_level": "conf_level",
    }
)
def callaway_santanna(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    unit: str | None = None,
    time: str | None = None,
    covariates: Sequence[str] | None = None,
    control: str = "never",
    aggregate: str = "dynamic",
    est_method: str = "dr",
    anticipation: int = 0,
    base_period: str = "varying",
    min_e: float | None = None,
    max_e: float | None = None,
    balance_e: int | None = None,
    n_boot: int = 1000,
    boot_weights: str = "rademacher",
    random_state: Any = None,
    conf_level: float = 0.95,
) -> EffectResult:
    """Group-time average treatment effects on the treated for staggered adoption (Callaway and Sant'Anna 2021).

    Parameters
    ----------
    data : Dataset or DataFrame
        A balanced long panel, one row per unit and period.
    outcome : str, optional
    treatment : str, optional
        Absorbing 0/1 indicator: 1 from a unit's first treated period on. Each unit's cohort is that period.
    unit, time : str, optional
    covariates : list of str, optional
        Covariates for conditional parallel trends (default: the Dataset's ``covariates`` role). Each cell uses
        their values in the earlier of its two periods, as ``did`` does; time-invariant covariates are the usual case.
    control : {"never", "notyet"}
        Comparison units: never treated, or never and not yet treated (by the period, the base period and the
        anticipation window).
    aggregate : {"dynamic", "group", "calendar", "simple", "none"}
        How ``terms`` summarise the ATT(g,t): by event time, by cohort, by calendar period, one overall ATT, or the
        raw cells.
    est_method : {"dr", "ipw", "reg", "dr_imp"}
        Two-period estimator of each cell with covariates (Sant'Anna and Zhao 2020): ``"dr"`` doubly robust with a
        logit propensity score and least-squares outcome regression (``DRDID::drdid_panel``, the default of
        ``did::att_gt`` and ``csdid``), ``"ipw"`` normalised inverse probability weighting, ``"reg"`` outcome
        regression, ``"dr_imp"`` the improved doubly robust estimator (calibrated propensity score and weighted
        regression, ``DRDID::drdid_imp_panel``). Without covariates all four are the difference in mean changes.
    anticipation : int
        Number of periods before treatment in which units may already react; comparisons use the period before.
    base_period : {"varying", "universal"}
        Pre-treatment cells compare consecutive periods ("varying") or every period with the last one before
        treatment ("universal", whose base cell is reported as 0 with standard error 0).
    min_e, max_e : float, optional
        Event-time window of the aggregations (``did::aggte``'s ``min_e``/``max_e``), in periods.
    balance_e : int, optional
        Dynamic aggregation over the cohorts observed for at least ``balance_e`` periods after treatment only.
    n_boot : int
        Multiplier-bootstrap draws for the uniform (simultaneous) band of the aggregated series; 0 for none.
    boot_weights : {"rademacher", "mammen"}
    random_state : int or numpy Generator, optional
        Seed of the multiplier bootstrap.
    conf_level : float

    Returns
    -------
    EffectResult
        ``estimate``: the overall ATT of the chosen aggregation (simple: cohort-share weighted average of the post
        cells; group: share-weighted average of cohort means; dynamic: mean of the event-time effects e >= 0;
        calendar: mean of the calendar-period effects) with its analytic standard error and normal CI.
        ``terms``: the aggregated series (or every ATT(g,t) cell with ``aggregate="none"``), pointwise intervals.
        ``details["group_time"]``: every cell with cohort, period, event time, ATT, standard error, CI and group
        sizes. ``details["uniform_band"]``: the series with bootstrap standard errors and the simultaneous band
        ``estimate +- critical_value * boot_se``; ``details["critical_value"]``. Diagnostics: ``"pre-trends"``,
        ``"cohort sizes"`` (single-unit cohorts), ``"always treated"`` (units treated in the first period, or within
        the anticipation window, dropped), ``"skipped cells"`` (cells without comparison units or without overlap),
        ``"never treated"`` (none present).

    Raises
    ------
    DataError
        Unbalanced panel (naming the units), no comparison units, or no treated unit observed before treatment.
    RoleError
        A treatment that is not 0/1 or switches off again.

    Notes
    -----
    ATT(g,t) compares the change of the outcome between the base period and period t of cohort g with that of the
    comparison units, conditional on covariates through the estimator chosen by ``est_method``. Standard errors
    come from unit-level influence functions (clustered by unit); the aggregations include the influence of the
    estimated cohort shares that weight them, as ``did::aggte``. Event times count periods. Validated against the
    Python port ``csdid`` (ATT(g,t), analytic standard errors and the four aggregations with their standard errors,
    on the castle data and on simulated panels with covariates for every estimator, control group, base period
    and anticipation).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.designs.callaway_santanna(ci.load_dataset("castle"), aggregate="simple")
    >>> round(r.estimate, 3)
    0.019
    """
    conf_level = check_conf_level(conf_level)
    control = check_choice(control, "control", _CONTROLS)
    aggregate = check_choice(aggregate, "aggregate", AGGREGATES)
    roles = {} if covariates is None else {"covariates": covariates}
    ds = dataset(data, outcome=outcome, treatment=treatment, unit=unit, time=time, **roles)
    cs = _cs_panel(ds, control, anticipation)
    x = None if cs.x.shape[2] == 1 else cs.x
    gt = group_time_att(
        cs.y, cs.first, cs.n_times, control, x=x, method=est_method, anticipation=anticipation, base_period=base_period, cohorts=cs.cohorts
    )
    diags = cs.diagnostics + _cohort_size_diagnostics(gt, cs.times) + _skipped_diagnostics(gt, cs.times)
    times = cs.times
    cells = _cells_table(gt, times, conf_level)
    agg = aggregate_cells(
        gt.att,
        gt.psi,
        gt.cohort,
        gt.period,
        cs.first,
        aggregate,
        min_e=-np.inf if min_e is None else min_e,
        max_e=np.inf if max_e is None else max_e,
        balance_e=balance_e,
    )
    labs = agg.labels
    if aggregate in ("group", "calendar"):
        labs = [f"{'g' if aggregate == 'group' else 't'}={times[int(lab)]}" for lab in labs]
    elif aggregate == "dynamic":
        labs = [f"e={lab}" for lab in labs]
    series_se = standard_errors(agg.psi)
    if aggregate == "none":
        terms = cells[["term", "estimate", "std_error", "ci_low", "ci_high", "statistic", "pvalue"]].copy()
    else:
        terms = terms_frame(labs, agg.att, series_se, None, conf_level).drop(columns="df")
    band, crit = _uniform_band(aggregate, labs, agg, series_se, n_boot, boot_weights, random_state, conf_level)
    est = agg.overall
    se = float(np.sqrt((agg.overall_psi**2).sum()))
    stat, p, lo, hi = t_inference(est, se, None, conf_level)
    diags.append(_pretrend_diagnostic(gt))
    emit(diags, "callaway_santanna")
    covs = list(cs.covariates)
    result = Result(
        method=f"Callaway-Sant'Anna group-time ATT ({'never-treated' if control == 'never' else 'not-yet-treated'} controls, "
        + (f"{_METHOD_NAMES[est_method]} with covariates {', '.join(covs)}" if covs else "unconditional parallel trends")
        + (f", anticipation {anticipation}" if anticipation else "")
        + f", {base_period} base period, {aggregate} aggregation)",
        estimand=f"{_WHAT[aggregate]}; effect of {ds.treatment} on {ds.outcome}",
        estimate=est,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="z",
        pvalue=p,
        alternative="two-sided",
        null_value=0.0,
        n=int(cs.y.shape[0]),
        diagnostics=tuple(diags),
        details={
            "group_time": cells,
            "aggregate": aggregate,
            "control": control,
            "est_method": est_method if covs else "none (no covariates)",
            "covariates": covs,
            "anticipation": anticipation,
            "base_period": base_period,
            "n_units": int(cs.y.shape[0]),
            "n_periods": cs.n_times,
            "uniform_band": band,
            "event_cov": (agg.psi.T @ agg.psi).tolist() if aggregate != "none" else None,
            "critical_value": crit,
            "n_boot": n_boot,
            "boot_weights": boot_weights,
        },
        terms=terms,
        label="ATT",
        provenance=Provenance.current(data_fingerprint=ds.fingerprint()),
    )
    options = {
        "control": control,
        "aggregate": aggregate,
        "est_method": est_method,
        "anticipation": anticipation,
        "base_period": base_period,
        "min_e": min_e,
        "max_e": max_e,
        "balance_e": balance_e,
        "n_boot": n_boot,
        "boot_weights": boot_weights,
        "random_state": random_state,
        "conf_level": conf_level,
    }
    return as_effect(
        result,
        effect="ATT",
        func=callaway_santanna,
        ds=ds,
        design="did",
        options=options,
        group=str(ds.unit),
        adjusts=True,
        rerun_options={"n_boot": 0},
    )


def _uniform_band(
    aggregate: str, labs: list[str], agg: Aggregate, se: np.ndarray, n_boot: int, weights: str, random_state: Any, conf_level: float
) -> tuple[pd.DataFrame | None, float | None]:
    """The simultaneous band of an aggregated series by multiplier bootstrap (None for one number or n_boot = 0)."""
    if aggregate in ("simple", "none") or n_boot == 0:
        return None, None

    rng = check_random_state(random_state)
    boot_se, crit = multiplier_bootstrap(agg.psi, n_boot=n_boot, weights=weights, conf_level=conf_level, rng=rng)
    z = z_crit(conf_level)
    if not math.isfinite(crit) or crit < z:
        crit = z  # as did: never narrower than the pointwise band
    band = pd.DataFrame(
        {
            "term": labs,
            "estimate": agg.att,
            "std_error": se,
            "boot_se": boot_se,
            "band_low": agg.att - crit * boot_se,
            "band_high": agg.att + crit * boot_se,
        }
    )
    return band, crit


@dataclass(frozen=True)
class _CSData:
    """The balanced panel as arrays, after the units and periods ``did`` leaves out."""

    y: np.ndarray  # units x periods
    x: np.ndarray  # units x periods x (1 + covariates); intercept first
    first: np.ndarray  # first treated period code; n_times for never treated
    times: np.ndarray
    cohorts: list[int]  # cohorts whose ATT(g,t) are estimated
    covariates: tuple[str, ...]
    diagnostics: list[Diagnostic]

    @property
    def n_times(self) -> int:
        return int(self.times.size)


def _cs_panel(ds: Any, control: str, anticipation: int) -> _CSData:
    """The balanced outcome and covariate arrays, each unit's first treated period, and early diagnostics.

    As ``did::att_gt``: units treated in the first period (or within ``anticipation`` periods of it) are dropped;
    without never-treated units, the periods from the last cohort's (less anticipation) on are dropped and that
    cohort only serves as comparison group.
    """
    y = numeric(ds, need(ds, "outcome", "callaway_santanna"), "outcome")
    need(ds, "treatment", "callaway_santanna")
    d = treatment_values(ds)
    panel = make_panel(
        labels(ds, need(ds, "unit", "callaway_santanna")), ds.frame[need(ds, "time", "callaway_santanna")], str(ds.unit), str(ds.time)
    )
    if not panel.balanced:
        raise DataError(_unbalanced_message(panel, str(ds.unit)))
    first = first_treated(d, panel, str(ds.treatment))
    n_times = panel.n_times
    covs = tuple(ds.covariates)
    xcols = [np.ones(y.size)] + [numeric(ds, c, "covariate") for c in covs]
    x = np.empty((panel.n_units, n_times, len(xcols)))
    for j, col in enumerate(xcols):
        x[panel.unit_codes, panel.time_codes, j] = col
    wide = np.empty((panel.n_units, n_times))
    wide[panel.unit_codes, panel.time_codes] = y
    diags: list[Diagnostic] = []
    early = first <= anticipation
    if early.any():
        if early.sum() + (first == n_times).sum() == panel.n_units:
            raise DataError(
                f"every treated unit is already treated in the first period ({show(panel.times[0])})"
                + (f" or within anticipation = {anticipation} periods of it" if anticipation else "")
                + "; with no unit observed before treatment no group-time effect is identified"
            )
        where = "in the first period" + (f" or within the {anticipation} anticipation period(s) after it" if anticipation else "")
        diags.append(
            Diagnostic(
                "always treated",
                "warn",
                float(early.sum()),
                f"{int(early.sum())} unit(s) already treated {where} were dropped: they are never observed untreated",
            )
        )
        wide, first, x = wide[~early], first[~early], x[~early]
    if not (first < n_times).any():
        raise RoleError(f"no unit is ever treated ({ds.treatment!r} is always 0)")
    cohorts = [int(g) for g in np.unique(first) if anticipation < g < n_times]
    times = panel.times
    if not (first == n_times).any():
        last = max(cohorts)
        cut = last - anticipation
        cohorts = [g for g in cohorts if g < cut]
        if cut < 2 or not cohorts:
            raise DataError(
                f"there are no never-treated units, and no cohort is treated early enough to be compared with the last one "
                f"({show(times[last])}); no group-time effect is identified"
            )
        diags.append(
            Diagnostic(
                "never treated",
                "warn",
                0.0,
                f"there are no never-treated units: periods from {show(times[cut])} on are dropped and the last cohort "
                f"({show(times[last])}) serves only as comparison group",
            )
        )
        wide, x, times = wide[:, :cut], x[:, :cut], times[:cut]
    return _CSData(wide, x, first, np.asarray(times), cohorts, covs, diags)


def _unbalanced_message(panel: Panel, unit: str) -> str:
    """Which units are missing periods, for the error of estimators that need a balanced panel."""
    counts = np.bincount(panel.unit_codes, minlength=panel.n_units)
    short = panel.units[counts < panel.n_times]
    listed = ", ".join(show(u) for u in short[:5]) + (", ..." if short.size > 5 else "")
    return (
        f"callaway_santanna needs a balanced panel; {short.size} unit(s) ({unit} = {listed}) are missing some of the "
        f"{panel.n_times} periods; keep the units observed in every period (e.g. drop these units)"
    )


def _skipped_diagnostics(gt: GroupTime, times: np.ndarray) -> list[Diagnostic]:
    """A warning naming the cells left out (no comparison units, or no overlap)."""
    if not gt.skipped:
        return []
    shown = "; ".join(f"ATT({times[g]}, {times[t]}): {why}" for g, t, why in gt.skipped[:5])
    more = f" and {len(gt.skipped) - 5} more" if len(gt.skipped) > 5 else ""
    return [
        Diagnostic(
            "skipped cells",
            "warn",
            float(len(gt.skipped)),
            f"{len(gt.skipped)} group-time cell(s) could not be estimated and are left out of every aggregation: {shown}{more}",
        )
    ]


def _cohort_size_diagnostics(gt: GroupTime, times: np.ndarray) -> list[Diagnostic]:
    """A warning for cohorts of a single unit, whose cell standard errors are too small."""
    small = {g: n for g, n in gt.cohort_size.items() if n < 2}
    if not small:
        return []
    which = ", ".join(str(times[g]) for g in small)
    return [
        Diagnostic(
            "cohort sizes",
            "warn",
            float(min(gt.cohort_size.values())),
            f"cohort(s) {which} contain a single unit: their ATT(g,t) standard errors ignore that unit's own variability and are too small",
        )
    ]


def _cells_table(gt: GroupTime, times: np.ndarray, conf_level: float) -> pd.DataFrame:
    """One row per ATT(g,t) cell: cohort, period, event time, estimate, normal CI and group sizes."""
    se_cells = np.sqrt((gt.psi**2).sum(axis=0))
    cell_rows = []
    for i in range(gt.att.size):
        stat, p, lo, hi = t_inference(float(gt.att[i]), float(se_cells[i]), None, conf_level) if se_cells[i] > 0 else (math.nan,) * 4
        cell_rows.append(
            {
                "term": f"ATT({times[gt.cohort[i]]}, {times[gt.period[i]]})",
                "cohort": times[gt.cohort[i]].item(),
                "period": times[gt.period[i]].item(),
                "event_time": int(gt.period[i] - gt.cohort[i]),
                "estimate": float(gt.att[i]),
                "std_error": float(se_cells[i]),
                "ci_low": lo,
                "ci_high": hi,
                "statistic": stat,
                "pvalue": p,
                "n_treated": int(gt.n_treated[i]),
                "n_control": int(gt.n_control[i]),
            }
        )
    cells = pd.DataFrame(cell_rows)
    return cells


def _pretrend_diagnostic(gt: GroupTime) -> Diagnostic:
    """Joint Wald test that the cohort-size weighted pre-treatment event-time averages of ATT(g,t) are zero."""
    usable = (gt.period < gt.cohort) & (gt.n_treated >= 2)
    n_single = int(np.sum((gt.period < gt.cohort) & (gt.n_treated < 2)))
    event = gt.period - gt.cohort
    pre_events = np.unique(event[usable])
    from scipy import stats

    if pre_events.size:
        size = np.array([gt.cohort_size[int(g)] for g in gt.cohort], dtype=float)
        wmat = np.array([np.where(usable & (event == e_), size, 0.0) for e_ in pre_events])
        wmat /= wmat.sum(axis=1, keepdims=True)
        b = wmat @ gt.att
        psi_pre = gt.psi @ wmat.T
        v = psi_pre.T @ psi_pre
        rank = int(np.linalg.matrix_rank(v, tol=1e-10 * max(float(np.abs(v).max()), 1e-300), hermitian=True))
        wstat = float(b @ np.linalg.pinv(v, rcond=1e-10, hermitian=True) @ b)
        pp = float(stats.chi2.sf(wstat, rank))
        status = "ok" if pp >= 0.05 else "warn"
        msg = (
            f"joint Wald test that the {pre_events.size} pre-treatment event-time averages of ATT(g,t) are zero: "
            f"chi2 = {wstat:.3g} on {rank} df, p = {pp:.3g}"
        )
        if n_single:
            msg += f" ({n_single} cell(s) of single-unit cohorts left out: their standard errors are too small)"
        msg += (
            "; no evidence against parallel pre-trends" if status == "ok" else "; pre-treatment differences suggest parallel trends fails"
        )
        return Diagnostic("pre-trends", status, pp, msg)
    return Diagnostic("pre-trends", "warn", None, "no pre-treatment periods besides the base period: pre-trends cannot be tested")
