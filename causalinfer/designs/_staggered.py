"""Staggered adoption: Callaway and Sant'Anna (2021) group-time average treatment effects and their aggregations."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice, check_conf_level, show
from ..exceptions import DataError, RoleError
from ..results import Diagnostic, Provenance, Result
from ._common import dataset, emit, labels, need, numeric, t_inference, terms_frame, treatment_values
from ._effect import as_effect
from ._panel import Panel, first_treated, make_panel

if TYPE_CHECKING:
    from ..effects import EffectResult

__all__ = ["callaway_santanna"]

_AGGREGATES = ("simple", "group", "dynamic", "none")
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


def group_time_att(y: np.ndarray, first: np.ndarray, n_times: int, control: str) -> GroupTime:
    """Unconditional ATT(g, t) from a balanced panel ``y`` (units x periods) and first-treated period codes.

    Post periods (t >= g) compare with period g - 1; pre periods (t < g) with t - 1 (a "varying" base), so the
    pre-period cells are placebo effects that should be near zero under parallel trends.
    """
    never = first == n_times
    cohorts = [g for g in np.unique(first) if 0 < g < n_times]
    cells_g, cells_t, att, cols, nt, nc = [], [], [], [], [], []
    for g in cohorts:
        treated = first == g
        for t in range(1, n_times):
            base = g - 1 if t >= g else t - 1
            if control == "never":
                ctrl = never
            else:
                ctrl = (first > max(t, base)) & (first != g)
            if not ctrl.any():
                continue
            dy = y[:, t] - y[:, base]
            m1, m0 = dy[treated].mean(), dy[ctrl].mean()
            n1, n0 = int(treated.sum()), int(ctrl.sum())
            psi = np.zeros(y.shape[0])
            psi[treated] = (dy[treated] - m1) / n1
            psi[ctrl] = -(dy[ctrl] - m0) / n0
            cells_g.append(g)
            cells_t.append(t)
            att.append(m1 - m0)
            cols.append(psi)
            nt.append(n1)
            nc.append(n0)
    if not att:
        raise DataError("no group-time effect can be estimated: no comparison units (never treated or not yet treated) are available")
    sizes = {int(g): int((first == g).sum()) for g in cohorts}
    return GroupTime(np.array(cells_g), np.array(cells_t), np.array(att), np.column_stack(cols), np.array(nt), np.array(nc), sizes)


def aggregation_weights(gt: GroupTime, aggregate: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Weights turning ATT(g,t) into aggregated effects: (labels, rows of weights per series, weights of the overall effect).

    ``simple``: post cells weighted by cohort size; ``group``: per cohort, the mean over its post periods, then
    cohorts weighted by size; ``dynamic``: per event time e = t - g, cohorts weighted by size, and the overall
    effect is the mean over e >= 0.
    """
    n_cells = gt.att.size
    post = gt.period >= gt.cohort
    size = np.array([gt.cohort_size[int(g)] for g in gt.cohort], dtype=float)
    if not post.any():
        raise DataError("no post-treatment group-time cell can be estimated")
    simple = np.where(post, size, 0.0)
    simple /= simple.sum()
    if aggregate in ("simple", "none"):
        return ["ATT"], simple[None, :], simple
    if aggregate == "group":
        rows, labs, gw = [], [], []
        for g in np.unique(gt.cohort[post]):
            m = post & (gt.cohort == g)
            rows.append(m / m.sum())
            labs.append(int(g))
            gw.append(gt.cohort_size[int(g)])
        mat = np.array(rows, dtype=float)
        overall = np.asarray(gw, dtype=float) @ mat / float(sum(gw))
        return [f"g={g}" for g in labs], mat, overall
    event = gt.period - gt.cohort
    rows, labs = [], []
    for e in np.unique(event):
        m = event == e
        w = np.where(m, size, 0.0)
        rows.append(w / w.sum())
        labs.append(int(e))
    mat = np.array(rows, dtype=float)
    post_rows = [i for i, e in enumerate(labs) if e >= 0]
    overall = mat[post_rows].mean(axis=0) if post_rows else np.zeros(n_cells)
    return [f"e={e}" for e in labs], mat, overall


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "unit": [None, "column"],
        "time": [None, "column"],
        "control": vp.Options(_CONTROLS),
        "aggregate": vp.Options(_AGGREGATES),
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
    control: str = "never",
    aggregate: str = "dynamic",
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
    control : {"never", "notyet"}
        Comparison units: never treated, or never and not yet treated (by both the period and the base period).
    aggregate : {"dynamic", "group", "simple", "none"}
        How ``terms`` summarise the ATT(g,t): by event time, by cohort, one overall ATT, or the raw cells.
    conf_level : float

    Returns
    -------
    EffectResult
        ``estimate``: the overall ATT of the chosen aggregation (simple: cohort-size weighted average of the post
        cells; group: size-weighted average of cohort means; dynamic: mean of the event-time effects e >= 0) with
        its standard error and normal CI. ``terms``: the aggregated series (or every ATT(g,t) cell with
        ``aggregate="none"``). ``details["group_time"]``: every cell with cohort, period, ATT, standard error,
        CI and group sizes. Diagnostics: ``"pre-trends"`` (joint Wald test that the cohort-size weighted averages
        of the pre-treatment placebo cells at each event time are zero; single-unit cohorts left out),
        ``"cohort sizes"`` (warns about single-unit cohorts), ``"always treated"`` (units treated in the first
        period, dropped).

    Raises
    ------
    DataError
        Unbalanced panel, no comparison units, or no treated unit observed before treatment.
    RoleError
        A treatment that is not 0/1 or switches off again.

    Notes
    -----
    :math:`ATT(g,t) = E[Y_t - Y_{g-1} | G = g] - E[Y_t - Y_{g-1} | C]` (unconditional parallel trends, no
    covariates), estimated by differences in means. Standard errors come from the unit-level influence
    functions :math:`\\psi_i = (\\Delta Y_i - \\bar{\\Delta Y}_g)/n_g` for treated and
    :math:`-(\\Delta Y_i - \\bar{\\Delta Y}_C)/n_C` for comparison units; aggregations are linear combinations,
    so their variance is :math:`\\sum_i (\\sum_c w_c\\psi_{ic})^2`, clustered by unit. The aggregation weights
    (cohort shares) are treated as fixed; the R package ``did`` adds a term for their estimation and reports
    multiplier-bootstrap intervals, so its standard errors for aggregated effects are slightly larger. The point
    estimates agree with ``did::att_gt`` (``est_method = "reg"`` without covariates).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.designs.callaway_santanna(ci.load_dataset("castle"), aggregate="simple")
    >>> round(r.estimate, 3)
    0.019
    """
    conf_level = check_conf_level(conf_level)
    control = check_choice(control, "control", _CONTROLS)
    aggregate = check_choice(aggregate, "aggregate", _AGGREGATES)
    ds = dataset(data, outcome=outcome, treatment=treatment, unit=unit, time=time)
    wide, first, panel, diags = _cs_panel(ds, control)
    gt = group_time_att(wide, first, panel.n_times, control)
    diags.extend(_cohort_size_diagnostics(gt, panel.times))
    times = panel.times
    cells = _cells_table(gt, times, conf_level)
    labs, mat, overall = aggregation_weights(gt, aggregate)
    if aggregate == "group":
        labs = [f"g={times[int(lab[2:])]}" for lab in labs]
    series_psi = gt.psi @ mat.T
    series = mat @ gt.att
    series_se = np.sqrt((series_psi**2).sum(axis=0))
    if aggregate == "none":
        terms = cells[["term", "estimate", "std_error", "ci_low", "ci_high", "statistic", "pvalue"]].copy()
    else:
        terms = terms_frame(labs, series, series_se, None, conf_level).drop(columns="df")
    est = float(overall @ gt.att)
    se = float(np.sqrt(((gt.psi @ overall) ** 2).sum()))
    stat, p, lo, hi = t_inference(est, se, None, conf_level)
    diags.append(_pretrend_diagnostic(gt))
    emit(diags, "callaway_santanna")
    what = {
        "simple": "cohort-size weighted average of post-treatment ATT(g,t)",
        "group": "average of cohort-specific ATTs, weighted by cohort size",
        "dynamic": "average of event-time ATTs over e >= 0",
        "none": "cohort-size weighted average of post-treatment ATT(g,t)",
    }[aggregate]
    result = Result(
        method=f"Callaway-Sant'Anna group-time ATT ({'never-treated' if control == 'never' else 'not-yet-treated'} controls, "
        f"unconditional parallel trends, {aggregate} aggregation)",
        estimand=f"{what}; effect of {ds.treatment} on {ds.outcome}",
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
        n=int(wide.shape[0]),
        diagnostics=tuple(diags),
        details={
            "group_time": cells,
            "aggregate": aggregate,
            "control": control,
            "n_units": int(wide.shape[0]),
            "n_periods": panel.n_times,
        },
        terms=terms,
        label="ATT",
        provenance=Provenance.current(data_fingerprint=ds.fingerprint()),
    )
    return as_effect(
        result,
        effect="ATT",
        func=callaway_santanna,
        ds=ds,
        design="did",
        options={"control": control, "aggregate": aggregate, "conf_level": conf_level},
        group=str(ds.unit),
    )


def _cs_panel(ds: Any, control: str) -> tuple[np.ndarray, np.ndarray, Panel, list[Diagnostic]]:
    """The balanced outcome matrix (units x periods), each unit's first treated period, the panel and early diagnostics.

    Units treated from the first period are dropped (never observed untreated), with a diagnostic.
    """
    y = numeric(ds, need(ds, "outcome", "callaway_santanna"), "outcome")
    need(ds, "treatment", "callaway_santanna")
    d = treatment_values(ds)
    panel = make_panel(
        labels(ds, need(ds, "unit", "callaway_santanna")), ds.frame[need(ds, "time", "callaway_santanna")], str(ds.unit), str(ds.time)
    )
    if not panel.balanced:
        counts = np.bincount(panel.unit_codes, minlength=panel.n_units)
        short = panel.units[counts < panel.n_times]
        raise DataError(
            f"callaway_santanna needs a balanced panel; {short.size} unit(s) (e.g. {ds.unit} = {show(short[0])}) are missing some of the "
            f"{panel.n_times} periods; keep the units observed in every period"
        )
    first = first_treated(d, panel, str(ds.treatment))
    wide = np.empty((panel.n_units, panel.n_times))
    wide[panel.unit_codes, panel.time_codes] = y
    diags: list[Diagnostic] = []
    always = first == 0
    if always.any():
        if always.sum() + (first == panel.n_times).sum() == panel.n_units:
            raise DataError(
                f"every treated unit is already treated in the first period ({show(panel.times[0])}); with no unit observed before "
                "treatment no group-time effect is identified"
            )
        diags.append(
            Diagnostic(
                "always treated",
                "warn",
                float(always.sum()),
                f"{int(always.sum())} unit(s) already treated in the first period were dropped: they are never observed untreated",
            )
        )
        keep = ~always
        wide, first = wide[keep], first[keep]
    if not (first < panel.n_times).any():
        raise RoleError(f"no unit is ever treated ({ds.treatment!r} is always 0)")
    if control == "never" and not (first == panel.n_times).any():
        raise DataError("there are no never-treated units to compare with; use control='notyet'")
    return wide, first, panel, diags


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
