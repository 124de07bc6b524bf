"""Heterogeneity-robust event studies: Sun and Abraham (2021) interaction weights, Borusyak, Jaravel and Spiess
(2024) imputation.

Both take a long panel with an absorbing 0/1 treatment and count event time in periods (``e = t - g`` in period
codes, so ``e = 0`` is the first treated period).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_conf_level, show
from ..exceptions import DataError, RoleError
from ..results import Diagnostic, Provenance, Result
from ._common import dataset, emit, labels, need, numeric, t_inference, terms_frame, treatment_values
from ._effect import as_effect
from ._linalg import demean, ols, wald_test
from ._panel import first_treated, make_panel

if TYPE_CHECKING:
    from ..effects import EffectResult

__all__ = ["did_imputation", "sun_abraham"]


@dataclass(frozen=True)
class _Long:
    """A long panel as codes: outcome, unit and period codes, each row's cohort code (never: n_times)."""

    y: np.ndarray
    unit: np.ndarray
    period: np.ndarray
    cohort: np.ndarray
    times: np.ndarray
    units: np.ndarray
    diagnostics: list[Diagnostic]
    x: np.ndarray | None = None  # time-varying covariates (did_imputation)

    @property
    def n_times(self) -> int:
        return int(self.times.size)


def _long_panel(ds: Any, func: str, covariates: Sequence[str] = ()) -> _Long:
    """Outcome and codes of a long panel; units treated in the first period are dropped with a diagnostic."""
    y = numeric(ds, need(ds, "outcome", func), "outcome")
    need(ds, "treatment", func)
    d = treatment_values(ds)
    panel = make_panel(labels(ds, need(ds, "unit", func)), ds.frame[need(ds, "time", func)], str(ds.unit), str(ds.time))
    first = first_treated(d, panel, str(ds.treatment))
    cohort = first[panel.unit_codes]
    diags: list[Diagnostic] = []
    always = cohort == 0
    if not (cohort[~always] < panel.n_times).any():
        raise RoleError(f"{func} needs units that are treated after the first period; {ds.treatment!r} gives none")
    if always.any():
        k = int((first == 0).sum())
        diags.append(
            Diagnostic(
                "always treated",
                "warn",
                float(k),
                f"{k} unit(s) already treated in the first period were dropped: they are never observed untreated",
            )
        )
    keep = ~always
    x = np.column_stack([numeric(ds, c, "covariate")[keep] for c in covariates]) if covariates else None
    return _Long(y[keep], panel.unit_codes[keep], panel.time_codes[keep], cohort[keep], panel.times, panel.units, diags, x)


def _fe_ols(y: np.ndarray, x: np.ndarray, unit: np.ndarray, period: np.ndarray, names: list[str]) -> Any:
    """Least squares with unit and period fixed effects (units absorbed by demeaning), CR1 clustered by unit.

    The small-sample factor counts the slopes and the period effects, not the unit effects nested in the clusters
    (``fixest``/``pyfixest`` with their default ``ssc``).
    """
    periods = np.unique(period)
    dummies = (period[:, None] == periods[None, 1:]).astype(float)
    full = np.column_stack([x, dummies])
    _, ucodes = np.unique(unit, return_inverse=True)
    yt, xt = demean(y, ucodes), demean(full, ucodes)
    k_total = full.shape[1] + 1
    return ols(yt, xt, cov_type="cluster", cluster=ucodes, names=names + [f"period {p}" for p in periods[1:]], k_total=k_total)


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "unit": [None, "column"],
        "time": [None, "column"],
        "conf_level": "conf_level",
    }
)
def sun_abraham(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    unit: str | None = None,
    time: str | None = None,
    conf_level: float = 0.95,
) -> EffectResult:
    """Interaction-weighted event study of Sun and Abraham (2021), robust to effects that differ across cohorts.

    Parameters
    ----------
    data : Dataset or DataFrame
        A long panel (balance not required), one row per unit and period.
    outcome, treatment, unit, time : str, optional
        Roles; ``treatment`` is an absorbing 0/1 indicator whose first 1 defines each unit's cohort.
    conf_level : float

    Returns
    -------
    EffectResult
        ``terms``: one row per event time ``e`` (``"e=-3"``, ...; e = -1 is the reference) with the
        interaction-weighted estimate, cluster-robust standard error (by unit) and t interval on G - 1 degrees of
        freedom. ``estimate``: the ATT, the average of the post-treatment cohort-by-event-time coefficients
        weighted by their numbers of observations. ``details["cohort_event"]``: every coefficient with its cohort,
        event time, weight and standard error. Diagnostics: ``"pre-trends"`` (joint Wald test of the leads),
        ``"control cohort"`` (when the last-treated cohort replaces never-treated units), ``"always treated"``.

    Notes
    -----
    Regresses :math:`y_{it}` on unit and period effects and on indicators of every cohort g (but the comparison
    cohort) times every event time :math:`e \\ne -1`; the event-time estimate is
    :math:`\\sum_g \\Pr(G = g \\mid e)\\,\\hat\\delta_{g,e}` with the cohort shares among the observations at event
    time e. The comparison cohort is the never treated, or without them the last-treated cohort, whose treated
    periods are dropped. Standard errors treat the shares as fixed (as ``fixest::sunab`` / ``pyfixest``). The
    coefficients and their standard errors are checked against ``pyfixest`` (``feols`` with ``i(rel_time, cohort,
    ref=-1)`` and unit and period effects).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.designs.sun_abraham(ci.load_dataset("castle"))
    >>> r.terms["term"].tolist()[-2:]
    ['e=3', 'e=4']
    """
    conf_level = check_conf_level(conf_level)
    ds = dataset(data, outcome=outcome, treatment=treatment, unit=unit, time=time)
    lp = _long_panel(ds, "sun_abraham")
    keep, control, diags = _comparison_cohort(lp)
    y, unit_c, period, cohort = lp.y[keep], lp.unit[keep], lp.period[keep], lp.cohort[keep]
    treated_cohort = cohort != control
    event = np.where(treated_cohort, period - cohort, 0)
    cells = sorted({(int(g), int(e)) for g, e in zip(cohort[treated_cohort], event[treated_cohort], strict=True) if e != -1})
    if not cells:
        raise DataError("sun_abraham found no cohort-by-event-time cell besides the reference e = -1")
    index = {c: j for j, c in enumerate(cells)}
    x = np.zeros((y.size, len(cells)))
    rows = np.flatnonzero(treated_cohort & (event != -1))
    x[rows, [index[(int(cohort[i]), int(event[i]))] for i in rows]] = 1.0
    names = [f"g={lp.times[g]}, e={e}" for g, e in cells]
    fit = _fe_ols(y, x, unit_c, period, names)
    k = len(cells)
    counts = x.sum(axis=0)
    events = sorted({e for _, e in cells})
    g_clusters = int(fit.n_clusters)
    df = float(g_clusters - 1)
    weights = np.zeros((len(events), fit.coef.size))
    for r, e in enumerate(events):
        cols = [index[c] for c in cells if c[1] == e]
        weights[r, cols] = counts[cols] / counts[cols].sum()
    est_e = weights @ fit.coef
    se_e = np.sqrt(np.einsum("ij,jk,ik->i", weights, fit.cov, weights))
    terms = terms_frame([f"e={e}" for e in events], est_e, se_e, df, conf_level)
    post = np.array([e >= 0 for _, e in cells])
    a = np.zeros(fit.coef.size)
    a[:k][post] = counts[post] / counts[post].sum()
    est = float(a @ fit.coef)
    se = float(np.sqrt(a @ fit.cov @ a))
    stat, p, lo, hi = t_inference(est, se, df, conf_level)
    diags.append(_leads_test(fit, [index[c] for c in cells if c[1] < 0], "sun_abraham"))
    diags += _single_unit_cohorts(
        lp,
        "the cohort's interaction coefficients fit that unit exactly, so the clustered standard errors of those cells and of the averages using them see none of its own variability and are too small",
    )
    emit(diags, "sun_abraham")
    detail = pd.DataFrame(
        {
            "cohort": [lp.times[g].item() if hasattr(lp.times[g], "item") else lp.times[g] for g, _ in cells],
            "event_time": [e for _, e in cells],
            "estimate": fit.coef[:k],
            "std_error": fit.std_error[:k],
            "n_obs": counts.astype(int),
            "weight": [float(weights[events.index(e), index[(g, e)]]) for g, e in cells],
        }
    )
    result = Result(
        method="Sun-Abraham interaction-weighted event study (cohort x event-time interactions, unit and period fixed effects, "
        "cluster-robust (CR1) standard errors by unit)",
        estimand=f"average effect of {ds.treatment} on {ds.outcome} over treated cohort-periods (cohort-by-event-time cells weighted by size)",
        estimate=est,
        std_error=se,
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="t",
        df=df,
        pvalue=p,
        alternative="two-sided",
        null_value=0.0,
        n=int(y.size),
        diagnostics=tuple(diags),
        details={
            "cohort_event": detail,
            "event_cov": (weights @ fit.cov @ weights.T).tolist(),
            "n_clusters": g_clusters,
            "control_cohort": "never treated" if control == lp.n_times else str(lp.times[control]),
        },
        terms=terms,
        label="ATT",
        provenance=Provenance.current(data_fingerprint=ds.fingerprint()),
    )
    return as_effect(result, effect="ATT", func=sun_abraham, ds=ds, design="did", options={"conf_level": conf_level}, group=str(ds.unit))


def _single_unit_cohorts(lp: _Long, consequence: str) -> list[Diagnostic]:
    """A warning naming the treated cohorts made of a single unit, with what that does to the standard errors."""
    cohorts = np.unique(lp.cohort[lp.cohort < lp.n_times])
    sizes = [np.unique(lp.unit[lp.cohort == c]).size for c in cohorts]
    single = [show(lp.times[c]) for c, n in zip(cohorts, sizes, strict=True) if n == 1]
    if not single:
        return []
    return [Diagnostic("cohort sizes", "warn", 1.0, f"cohort(s) {', '.join(single)} contain a single unit: {consequence}")]


def _comparison_cohort(lp: _Long) -> tuple[np.ndarray, int, list[Diagnostic]]:
    """Rows kept and the comparison cohort code: never treated, else the last cohort with its treated periods dropped."""
    diags = list(lp.diagnostics)
    if (lp.cohort == lp.n_times).any():
        return np.ones(lp.y.size, dtype=bool), lp.n_times, diags
    last = int(lp.cohort.max())
    keep = lp.period < last
    if not (lp.cohort[keep] < last).any():
        raise DataError("there are no never-treated units and only one cohort: no comparison group is left")
    diags.append(
        Diagnostic(
            "control cohort",
            "warn",
            None,
            f"there are no never-treated units: the last-treated cohort ({show(lp.times[last])}) is the comparison group and "
            f"periods from {show(lp.times[last])} on are dropped",
        )
    )
    return keep, last, diags


def _leads_test(fit: Any, idx: list[int], func: str) -> Diagnostic:
    """Joint Wald test that the pre-treatment (lead) coefficients are zero."""
    if not idx:
        return Diagnostic("pre-trends", "warn", None, "no pre-treatment event times besides the reference: pre-trends cannot be tested")
    from scipy import stats

    w = wald_test(fit.coef, fit.cov, idx)
    p = float(stats.chi2.sf(w, len(idx)))
    status = "ok" if p >= 0.05 else "warn"
    return Diagnostic(
        "pre-trends",
        status,
        p,
        f"joint Wald test that the {len(idx)} pre-treatment cohort-by-event-time coefficients are zero: chi2 = {w:.3g}, p = {p:.3g}"
        + ("; no evidence against parallel pre-trends" if status == "ok" else "; pre-treatment differences suggest parallel trends fails"),
    )


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "unit": [None, "column"],
        "time": [None, "column"],
        "horizons": [None, vp.Interval("int", 0)],
        "pretrends": vp.Interval("int", 0),
        "conf_level": "conf_level",
        "covariates": [None, "columns"],
        "anticipation": vp.Interval("int", 0),
    }
)
def did_imputation(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    unit: str | None = None,
    time: str | None = None,
    horizons: int | None = None,
    pretrends: int = 3,
    conf_level: float = 0.95,
    covariates: str | Sequence[str] | None = None,
    anticipation: int = 0,
) -> EffectResult:
    """Imputation estimator of Borusyak, Jaravel and Spiess (2024) for staggered adoption, with conservative SEs.

    Parameters
    ----------
    data : Dataset or DataFrame
        A long panel (balance not required), one row per unit and period.
    outcome, treatment, unit, time : str, optional
        Roles; ``treatment`` is an absorbing 0/1 indicator.
    horizons : int, optional
        Report event times 0..``horizons`` (default: every observed one); the overall ATT uses the same treated
        observations.
    pretrends : int
        Number of pre-treatment event times (-1, -2, ...; before the anticipation window) tested jointly in the
        untreated observations (BJS's Test 1); 0 for none.
    conf_level : float
    covariates : str or sequence of str, optional
        Time-varying covariates entering the imputation model linearly, fitted with the unit and period effects
        on the untreated observations (BJS section 4.1); a covariate the fixed effects absorb is refused.
    anticipation : int
        Periods before adoption in which units may already react: those observations are left out of the
        imputation model and their imputed effects are reported as ``"e=-1"``, ... (not in the overall ATT).

    Returns
    -------
    EffectResult
        ``estimate``: the ATT, the mean of the imputed effects :math:`\\hat\\tau_{it} = y_{it} - \\hat\\alpha_i -
        \\hat\\lambda_t` over treated observations, with the conservative standard error (normal interval).
        ``terms``: the same by event time (``"e=0"``, ...). Diagnostics: ``"pre-trends"``, ``"always treated"``,
        ``"unimputable"`` (treated observations in periods without untreated ones, left out).
        ``details["covariate_coefficients"]``: the covariates' coefficients in the imputation model.

    Notes
    -----
    Unit and period effects are fitted by least squares on the untreated observations only, so no treated
    observation serves as a comparison. Each estimate is linear in the outcomes, :math:`\\hat\\tau_w = \\sum v_{it}
    y_{it}`; the variance is :math:`\\sum_i (\\sum_t v_{it} \\tilde\\varepsilon_{it})^2` (clustered by unit), where
    :math:`\\tilde\\varepsilon` are the first-stage residuals for untreated observations and, for treated ones,
    the imputed effect minus its cohort-by-event-time mean (BJS Theorem 3, without the leave-out correction):
    conservative when effects vary within those cells. Point estimates are checked against Gardner's two-stage
    estimator in ``pyfixest`` (``did2s``), which coincides with the imputation estimator without covariates.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.designs.did_imputation(ci.load_dataset("castle"))
    >>> round(r.estimate, 3)
    0.067
    """
    conf_level = check_conf_level(conf_level)
    ds = dataset(data, outcome=outcome, treatment=treatment, unit=unit, time=time, covariates=covariates)
    lp = _drop_anticipating(_long_panel(ds, "did_imputation", tuple(ds.covariates)), anticipation)
    diags = list(lp.diagnostics)
    treated = (lp.cohort < lp.n_times) & (lp.period >= lp.cohort - anticipation)  # out of the imputation model (treated or anticipating)
    event = np.where(lp.cohort < lp.n_times, lp.period - lp.cohort, -(10**9))
    untreated_periods = np.unique(lp.period[~treated])
    usable = treated & np.isin(lp.period, untreated_periods)
    if horizons is not None:
        usable &= event <= horizons
    if (treated & ~np.isin(lp.period, untreated_periods)).any():
        k = int((treated & ~np.isin(lp.period, untreated_periods)).sum())
        diags.append(
            Diagnostic(
                "unimputable",
                "warn",
                float(k),
                f"{k} treated observation(s) in periods without untreated units cannot be imputed and are left out",
            )
        )
    post = usable & (event >= 0)
    if not post.any():
        raise DataError("did_imputation has no treated observation whose untreated outcome can be imputed")
    events = np.unique(event[usable])
    weights = np.column_stack([post / post.sum()] + [(usable & (event == e)) / (usable & (event == e)).sum() for e in events])
    est, se, delta = _imputation_fit(lp, treated, usable, event + anticipation, weights, list(ds.covariates))
    terms = terms_frame([f"e={e}" for e in events], est[1:], se[1:], None, conf_level).drop(columns="df")
    stat, p, lo, hi = t_inference(float(est[0]), float(se[0]), None, conf_level)
    if pretrends:
        diags.append(_imputation_pretrend(lp, treated, event + anticipation, pretrends))
    diags += _single_unit_cohorts(
        lp,
        "each of its imputed effects is its own cohort-by-event-time mean, so the conservative variance gets no residual from it and the standard errors are too small",
    )
    emit(diags, "did_imputation")
    result = Result(
        method="Imputation estimator (Borusyak, Jaravel and Spiess): unit and period effects fitted on untreated observations, "
        "conservative standard errors clustered by unit",
        estimand=f"average effect of {ds.treatment} on {ds.outcome} over treated observations",
        estimate=float(est[0]),
        std_error=float(se[0]),
        ci_low=lo,
        ci_high=hi,
        conf_level=conf_level,
        statistic=stat,
        statistic_name="z",
        pvalue=p,
        alternative="two-sided",
        null_value=0.0,
        n=int(lp.y.size),
        diagnostics=tuple(diags),
        details={
            "n_treated_obs": int(post.sum()),
            "n_untreated_obs": int((~treated).sum()),
            "anticipation": anticipation,
            **(
                {"covariate_coefficients": pd.DataFrame({"covariate": list(ds.covariates), "coefficient": delta})}
                if delta is not None
                else {}
            ),
        },
        terms=terms,
        label="ATT",
        provenance=Provenance.current(data_fingerprint=ds.fingerprint()),
    )
    options = {"horizons": horizons, "pretrends": pretrends, "conf_level": conf_level, "anticipation": anticipation}
    return as_effect(
        result, effect="ATT", func=did_imputation, ds=ds, design="did", options=options, group=str(ds.unit), rerun_options={"pretrends": 0}
    )


def _drop_anticipating(lp: _Long, anticipation: int) -> _Long:
    """Units adopting within ``anticipation`` periods of the start have no observation clean of anticipation: dropped,
    with a diagnostic (as units treated from the first period)."""
    gone = lp.cohort <= anticipation
    if not anticipation or not gone.any():
        return lp
    keep = ~gone
    names = [show(u) for u in lp.units[np.unique(lp.unit[gone])][:5]]
    k = int(np.unique(lp.unit[gone]).size)
    diag = Diagnostic(
        "anticipation",
        "warn",
        float(k),
        f"{k} unit(s) adopting within {anticipation} period(s) of the first one ({', '.join(names)}{', ...' if k > 5 else ''}) "
        "have no observation before the anticipation window and were dropped",
    )
    if not keep.any():
        raise DataError(f"with anticipation={anticipation} no unit has an observation before its anticipation window; lower `anticipation`")
    x = lp.x[keep] if lp.x is not None else None
    return _Long(lp.y[keep], lp.unit[keep], lp.period[keep], lp.cohort[keep], lp.times, lp.units, [*lp.diagnostics, diag], x)


class _UntreatedFE:
    """Least squares of unit plus period effects on the untreated observations, solved through the period block.

    The normal equations have a diagonal unit block, so eliminating the units leaves a (periods - 1) square
    system (the Schur complement): fast for many units and exact.
    """

    def __init__(self, unit: np.ndarray, period: np.ndarray, n_units: int, n_times: int) -> None:
        self.n_units, self.n_times = n_units, n_times
        self.count_u = np.bincount(unit, minlength=n_units).astype(float)
        cross = np.zeros((n_units, n_times))
        np.add.at(cross, (unit, period), 1.0)
        self.cross = cross[:, 1:]
        count_t = cross.sum(axis=0)[1:]
        if (self.count_u == 0).any():
            raise DataError(
                f"the unit effects are not identified: unit code(s) {np.flatnonzero(self.count_u == 0)[:5].tolist()} have no untreated "
                "observation; drop those units"
            )
        if (count_t == 0).any():
            raise DataError(
                f"the period effects are not identified: period code(s) {(np.flatnonzero(count_t == 0) + 1)[:5].tolist()} have no "
                "untreated observation"
            )
        self.schur = np.diag(count_t) - self.cross.T @ (self.cross / self.count_u[:, None])
        if self.schur.size and np.linalg.cond(self.schur) > 1e12:
            raise DataError(
                "the unit and period effects are not identified from the untreated observations (units and periods not connected)"
            )

    def sums(self, unit: np.ndarray, period: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Z'values split into the unit block and the period block (periods after the first)."""
        bu = np.zeros((self.n_units, values.shape[1]))
        np.add.at(bu, unit, values)
        bt = np.zeros((self.n_times, values.shape[1]))
        np.add.at(bt, period, values)
        return bu, bt[1:]

    def solve(self, bu: np.ndarray, bt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unit and period coefficients (first period 0) solving the normal equations with right-hand side (bu, bt)."""
        rhs = bt - self.cross.T @ (bu / self.count_u[:, None])
        theta_t = np.linalg.solve(self.schur, rhs) if self.schur.size else rhs
        theta_u = (bu - self.cross @ theta_t) / self.count_u[:, None]
        return theta_u, np.vstack([np.zeros((1, bu.shape[1])), theta_t])


def _imputation_fit(
    lp: _Long, treated: np.ndarray, usable: np.ndarray, shifted: np.ndarray, weights: np.ndarray, cov_names: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Estimates (columns of ``weights`` over the observations left out of the imputation model), their conservative
    standard errors and the covariate coefficients. ``shifted`` is the event time plus the anticipation window."""
    unit = np.unique(lp.unit, return_inverse=True)[1]  # dense codes: dropped units leave gaps in lp.unit
    n_units = int(unit.max()) + 1
    u0, t0 = unit[~treated], lp.period[~treated]
    fe = _UntreatedFE(u0, t0, n_units, lp.n_times)
    y0 = lp.y[~treated]
    x = lp.x
    delta = None
    if x is not None:
        x0 = x[~treated]
        xu, xt = fe.solve(*fe.sums(u0, t0, x0))
        x_res = x0 - xu[u0] - xt[t0]  # covariates net of the unit and period effects (Frisch-Waugh)
        gram = x_res.T @ x_res
        _check_covariates(gram, x0, cov_names)
        delta = np.linalg.solve(gram, x_res.T @ y0)
        y0 = y0 - x0 @ delta
    au, at = fe.solve(*fe.sums(u0, t0, y0[:, None]))
    tau = lp.y - au[unit, 0] - at[lp.period, 0] - (x @ delta if x is not None else 0.0)
    w1 = weights[treated]
    est = w1.T @ tau[treated]
    v = np.zeros_like(weights)
    v[treated] = w1
    bu, bt = fe.sums(unit[treated], lp.period[treated], w1)
    gu, gt = fe.solve(bu, bt)
    h = gu[u0] + gt[t0]
    if x is not None:
        gx = np.linalg.solve(gram, x[treated].T @ w1 - x0.T @ h)
        h = h + x_res @ gx
    v[~treated] = -h
    resid = np.where(treated, 0.0, tau)
    cells = lp.cohort * (lp.n_times * 2 + 2) + np.clip(shifted, 0, None)
    for c in np.unique(cells[usable]):
        m = usable & (cells == c)
        resid[m] = tau[m] - tau[m].mean()
    scores = np.zeros((n_units, weights.shape[1]))
    np.add.at(scores, unit, v * resid[:, None])
    return est, np.sqrt((scores**2).sum(axis=0)), delta


def _check_covariates(gram: np.ndarray, x0: np.ndarray, names: list[str]) -> None:
    """Refuse covariates the unit and period effects absorb (or that are collinear among themselves)."""
    scale = np.maximum((x0**2).sum(axis=0), 1e-300)
    absorbed = [n for n, g, s0 in zip(names, np.diag(gram), scale, strict=True) if g <= 1e-10 * s0]
    if absorbed:
        raise DataError(
            f"covariate(s) {absorbed} do not vary within units and periods among the untreated observations: the unit and "
            "period effects absorb them. Drop them from `covariates` (time-invariant unit traits are already in the unit effects)"
        )
    if np.linalg.cond(gram / np.sqrt(np.outer(np.diag(gram), np.diag(gram)))) > 1e10:
        raise DataError(f"covariates {names} are collinear after removing the unit and period effects; drop the redundant ones")


def _imputation_pretrend(lp: _Long, treated: np.ndarray, event: np.ndarray, pretrends: int) -> Diagnostic:
    """BJS Test 1: unit and period effects plus indicators of the last ``pretrends`` pre-treatment event times, fitted on
    the untreated observations; joint Wald test (cluster-robust by unit) that the indicators are zero."""
    keep = ~treated
    leads = [e for e in range(-pretrends, 0) if ((event == e) & keep).any()]
    if not leads:
        return Diagnostic("pre-trends", "warn", None, "no pre-treatment observations of treated cohorts to test pre-trends with")
    x = np.column_stack([(event[keep] == e).astype(float) for e in leads])
    names = [f"e={e}" for e in leads]
    if lp.x is not None:
        x = np.column_stack([x, lp.x[keep]])
        names += [f"covariate {j}" for j in range(lp.x.shape[1])]
    fit = _fe_ols(lp.y[keep], x, lp.unit[keep], lp.period[keep], names)
    return _leads_test(fit, list(range(len(leads))), "did_imputation")
