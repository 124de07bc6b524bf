"""Difference-in-differences: the 2x2 comparison, two-way fixed effects, event studies."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_conf_level, check_int
from ..exceptions import ArgumentError, DataError, RoleError
from ..results import Diagnostic, Provenance, Result
from ._common import check_cov_type, cov_label, dataset, emit, labels, matrix, need, numeric, t_inference, terms_frame
from ._effect import as_effect
from ._linalg import demean, ols, wald_test
from ._panel import Panel, first_treated, make_panel

if TYPE_CHECKING:
    from ..causal._effect import EffectResult

__all__ = ["did_2x2", "event_study", "twfe"]


def _balance_diagnostic(panel: Panel) -> Diagnostic:
    if panel.balanced:
        return Diagnostic("panel balance", "ok", 1.0, f"balanced: {panel.n_units} units x {panel.n_times} periods")
    share = panel.unit_codes.size / (panel.n_units * panel.n_times)
    return Diagnostic(
        "panel balance",
        "warn",
        share,
        f"unbalanced: {panel.unit_codes.size} of {panel.n_units * panel.n_times} unit-periods observed; if units drop out "
        "for reasons related to the outcome the comparison is biased",
    )


def _timing_diagnostic(first: np.ndarray, panel: Panel) -> Diagnostic:
    cohorts = np.unique(first[first < panel.n_times])
    never = int((first == panel.n_times).sum())
    always = int((first == 0).sum())
    if cohorts.size > 1 or (cohorts.size == 1 and always and never == 0):
        return Diagnostic(
            "staggered adoption",
            "warn",
            float(cohorts.size),
            f"treatment starts in {cohorts.size} different periods: with effects that differ across cohorts or grow over "
            "time the two-way fixed-effects coefficient is a weighted average with possibly negative weights; compare "
            "with callaway_santanna",
        )
    return Diagnostic("staggered adoption", "ok", float(cohorts.size), "treatment starts in a single period")


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "time": [None, "column"],
        "unit": [None, "column"],
        "covariates": [None, "columns"],
        "cluster": [None, "column"],
        "cov_type": [None, "cov_type"],
        "conf_level": "conf_level",
    }
)
def did_2x2(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    time: str | None = None,
    unit: str | None = None,
    covariates: str | Sequence[str] | None = None,
    cluster: str | None = None,
    cov_type: str | None = None,
    conf_level: float = 0.95,
) -> EffectResult:
    """Two-group, two-period difference-in-differences by regression on group, period and their interaction.

    Parameters
    ----------
    data : Dataset or DataFrame
        Panel or repeated cross-sections, one row per observation.
    outcome : str, optional
    treatment : str, optional
        0/1 indicator of the treated *group* (constant within a unit).
    time : str, optional
        Period with exactly two values; the larger is the post-treatment period.
    unit : str, optional
        Unit identifier; when given, the group indicator must not vary within a unit, and standard errors are
        clustered by unit unless another ``cluster`` is given.
    covariates : str or sequence of str, optional
        Controls added linearly.
    cluster : str, optional
    cov_type : {"classical", "HC0", "HC1", "cluster"}, optional
        Default: cluster-robust when a cluster (or unit) is known, else HC1.
    conf_level : float

    Returns
    -------
    EffectResult
        ``estimate`` is the interaction coefficient, :math:`(\\bar y_{11} - \\bar y_{10}) - (\\bar y_{01} - \\bar y_{00})`
        without covariates, with ``std_error``, t-based ``ci_low``/``ci_high`` and ``pvalue`` on n - k df;
        ``terms`` has all coefficients; ``details["cells"]`` the four cell means and counts.

    Notes
    -----
    Fits :math:`y = \\alpha + \\gamma G + \\lambda P + \\tau G P + X'\\beta + e` by least squares.
    Validated against R's ``lm`` with ``sandwich::vcovHC`` / ``vcovCL`` (``tests/reference/did.R``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import causalinfer as ci
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"id": np.repeat(np.arange(200), 2), "post": np.tile([0, 1], 200)})
    >>> df["treated"] = (df["id"] < 100).astype(int)
    >>> df["y"] = 1 + 0.5 * df["treated"] + 0.3 * df["post"] + 2.0 * df["treated"] * df["post"] + rng.normal(size=400)
    >>> r = ci.designs.did_2x2(df, outcome="y", treatment="treated", time="post", unit="id")
    >>> round(r.estimate, 1)
    2.1
    """
    conf_level = check_conf_level(conf_level)
    ds = dataset(data, outcome=outcome, treatment=treatment, time=time, unit=unit, covariates=covariates, cluster=cluster)
    y_name, g_name, t_name = need(ds, "outcome", "did_2x2"), need(ds, "treatment", "did_2x2"), need(ds, "time", "did_2x2")
    cl_name = ds.cluster or ds.unit
    cov_type = check_cov_type(cov_type, cl_name)
    y = numeric(ds, y_name, "outcome")
    grp = numeric(ds, g_name, "treatment")
    if not np.isin(grp, (0.0, 1.0)).all():
        raise RoleError(f"treatment {g_name!r} must be a 0/1 indicator of the treated group; it has values {np.unique(grp)[:6].tolist()}")
    tv = labels(ds, t_name)
    periods = pd.unique(tv)
    if len(periods) != 2:
        raise RoleError(
            f"time {t_name!r} must have exactly two periods for a 2x2 comparison; it has {len(periods)}; use twfe or event_study for more"
        )
    post = (tv == max(periods)).astype(float)
    if ds.unit is not None:
        varies = pd.Series(grp).groupby(pd.factorize(labels(ds, ds.unit))[0]).nunique()
        if (varies > 1).any():
            raise RoleError(
                f"treatment {g_name!r} varies within unit {ds.unit!r} for {int((varies > 1).sum())} unit(s); the 2x2 design needs a "
                "fixed treated group: pass the group indicator, not the treated-and-post indicator"
            )
    w = matrix(ds, ds.covariates, "covariate")
    x = np.column_stack([np.ones_like(y), grp, post, grp * post, w])
    names = ["(Intercept)", g_name, f"post ({t_name} = {max(periods)})", f"{g_name} x post", *ds.covariates]
    cells = []
    for gv in (0.0, 1.0):
        for pv in (0.0, 1.0):
            m = (grp == gv) & (post == pv)
            if not m.any():
                raise DataError(f"the {'treated' if gv else 'control'} group has no observations in the {'post' if pv else 'pre'} period")
            cells.append({"group": int(gv), "post": int(pv), "n": int(m.sum()), "mean": float(y[m].mean())})
    cl = labels(ds, cl_name) if cov_type == "cluster" and cl_name else None
    fit = ols(y, x, cov_type=cov_type, cluster=cl, names=names)
    df = float(fit.df_resid)
    terms = terms_frame(names, fit.coef, fit.std_error, df, conf_level)
    est, se = float(fit.coef[3]), float(fit.std_error[3])
    stat, p, lo, hi = t_inference(est, se, df, conf_level)
    smallest = min(c["n"] for c in cells)
    diags = [
        Diagnostic(
            "cell sizes",
            "ok" if smallest >= 10 else "warn",
            float(smallest),
            f"smallest group x period cell has {smallest} observations" + ("" if smallest >= 10 else "; estimates are fragile"),
        )
    ]
    emit(diags, "did_2x2")
    details: dict[str, Any] = {"cells": pd.DataFrame(cells), "cov_type": cov_type}
    if fit.n_clusters is not None:
        details["n_clusters"] = fit.n_clusters
    result = Result(
        method=f"Difference-in-differences (2x2 regression), {cov_label(cov_type)}",
        estimand=f"average effect of treatment on the treated group ({g_name}) on {y_name} in the post period",
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
        n=fit.n,
        diagnostics=tuple(diags),
        details=details,
        terms=terms,
        label=f"{g_name} x post",
        provenance=Provenance.current(data_fingerprint=ds.fingerprint()),
    )
    return as_effect(
        result,
        effect="ATT",
        func=did_2x2,
        ds=ds,
        design="did",
        options={"cov_type": cov_type, "conf_level": conf_level},
        group=cl_name,
        adjusts=True,
    )


def _fe_fit(
    y: np.ndarray, x: np.ndarray, panel: Panel, weights: np.ndarray | None, cov_type: str, cluster: np.ndarray | None, names: list[str]
) -> Any:
    """Least squares with unit and period fixed effects: unit effects absorbed by demeaning, periods as dummies."""
    dummies = np.zeros((y.size, panel.n_times - 1))
    rows = panel.time_codes > 0
    dummies[np.flatnonzero(rows), panel.time_codes[rows] - 1] = 1.0
    full = np.column_stack([x, dummies])
    yt = demean(y, panel.unit_codes, weights)
    xt = demean(full, panel.unit_codes, weights)
    keep = np.ones(full.shape[1], dtype=bool)
    # period dummies that are constant within every unit (a single-period unit) carry nothing after demeaning
    k_total = full.shape[1] + panel.n_units
    all_names = names + [f"period {t!r}" for t in panel.times[1:]]
    return ols(yt, xt[:, keep], weights=weights, cov_type=cov_type, cluster=cluster, names=all_names, k_total=k_total)


def _panel_inputs(ds: Any, func: str) -> tuple[np.ndarray, np.ndarray, Panel]:
    y = numeric(ds, need(ds, "outcome", func), "outcome")
    d = numeric(ds, need(ds, "treatment", func), "treatment")
    panel = make_panel(labels(ds, need(ds, "unit", func)), labels(ds, need(ds, "time", func)), ds.unit, ds.time)
    return y, d, panel


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "unit": [None, "column"],
        "time": [None, "column"],
        "covariates": [None, "columns"],
        "cluster": [None, "column"],
        "weights": [None, "column"],
        "cov_type": [None, "cov_type"],
        "conf_level": "conf_level",
    }
)
def twfe(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    unit: str | None = None,
    time: str | None = None,
    covariates: str | Sequence[str] | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    cov_type: str | None = None,
    conf_level: float = 0.95,
) -> EffectResult:
    """Two-way fixed-effects regression of the outcome on a treatment indicator, unit and period effects.

    Parameters
    ----------
    data : Dataset or DataFrame
        A long panel: one row per unit and period.
    outcome, treatment : str, optional
        The treatment is the unit-period indicator (1 in treated periods) or a continuous dose.
    unit, time : str, optional
        Panel identifiers; ``unit`` is also the default cluster.
    covariates : str or sequence of str, optional
        Time-varying controls.
    cluster : str, optional
        Cluster identifier (default: ``unit``).
    weights : str, optional
        Observation weights (e.g. population).
    cov_type : {"classical", "HC0", "HC1", "cluster"}, optional
        Default ``"cluster"`` (CR1 by unit, as ``sandwich::vcovCL``).
    conf_level : float

    Returns
    -------
    EffectResult
        ``estimate`` is the treatment coefficient with ``std_error``, t-based CI and ``pvalue`` on n - k df (k
        counts every unit and period effect, as ``lm`` does); ``terms`` has the treatment and covariate
        coefficients. Diagnostics: ``"panel balance"`` and ``"staggered adoption"`` (with a 0/1 treatment that
        starts at different times the coefficient can be biased under heterogeneous effects: use
        :func:`callaway_santanna`).

    Notes
    -----
    :math:`y_{it} = \\alpha_i + \\lambda_t + \\tau D_{it} + X_{it}'\\beta + e_{it}`; unit effects are removed by
    (weighted) within-unit demeaning, which gives exactly the dummy-variable coefficients and residuals, also for
    unbalanced panels. Validated against R's ``lm(y ~ d + factor(unit) + factor(time))`` with
    ``sandwich::vcovCL`` (``tests/reference/did.R``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.designs.twfe(ci.load_dataset("castle"), weights="popwt")
    >>> round(r.estimate, 4)
    0.0755
    """
    conf_level = check_conf_level(conf_level)
    ds = dataset(data, outcome=outcome, treatment=treatment, unit=unit, time=time, covariates=covariates, cluster=cluster, weights=weights)
    y, d, panel = _panel_inputs(ds, "twfe")
    cl_name = ds.cluster or ds.unit
    cov_type = check_cov_type(cov_type, cl_name)
    w = matrix(ds, ds.covariates, "covariate")
    wt = numeric(ds, ds.weights, "weights") if ds.weights else None
    cl = labels(ds, cl_name) if cov_type == "cluster" and cl_name else None
    names = [str(ds.treatment), *ds.covariates]
    fit = _fe_fit(y, np.column_stack([d, w]), panel, wt, cov_type, cl, names)
    df = float(fit.df_resid)
    terms = terms_frame(names, fit.coef[: len(names)], fit.std_error[: len(names)], df, conf_level)
    est, se = float(fit.coef[0]), float(fit.std_error[0])
    stat, p, lo, hi = t_inference(est, se, df, conf_level)
    diags = [_balance_diagnostic(panel)]
    if np.isin(d, (0.0, 1.0)).all():
        try:
            diags.append(_timing_diagnostic(first_treated(d, panel, str(ds.treatment)), panel))
        except RoleError:
            diags.append(
                Diagnostic(
                    "staggered adoption", "warn", None, "treatment switches on and off; the coefficient averages over both directions"
                )
            )
    emit(diags, "twfe")
    details: dict[str, Any] = {"cov_type": cov_type, "n_units": panel.n_units, "n_periods": panel.n_times}
    if fit.n_clusters is not None:
        details["n_clusters"] = fit.n_clusters
    result = Result(
        method=f"Two-way fixed effects regression, {cov_label(cov_type)}" + (f" by {cl_name}" if cov_type == "cluster" else ""),
        estimand=f"coefficient of {ds.treatment} on {ds.outcome} with {ds.unit} and {ds.time} fixed effects",
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
        n=fit.n,
        diagnostics=tuple(diags),
        details=details,
        terms=terms,
        label=str(ds.treatment),
        provenance=Provenance.current(data_fingerprint=ds.fingerprint()),
    )
    binary = bool(np.isin(d, (0.0, 1.0)).all())
    return as_effect(
        result,
        effect="ATT (two-way fixed effects)" if binary else "effect per unit of treatment (two-way fixed effects)",
        func=twfe,
        ds=ds,
        design="did",
        options={"cov_type": cov_type, "conf_level": conf_level},
        group=cl_name,
        adjusts=True,
    )


@vp.validate_params(
    {
        "data": "data",
        "outcome": [None, "column"],
        "treatment": [None, "column"],
        "unit": [None, "column"],
        "time": [None, "column"],
        "covariates": [None, "columns"],
        "cluster": [None, "column"],
        "weights": [None, "column"],
        "window": [None, vp.SequenceOf(vp.Interval("int"), length=2)],
        "reference": vp.Interval("int"),
        "cov_type": [None, "cov_type"],
        "conf_level": "conf_level",
    }
)
def event_study(
    data: Any,
    *,
    outcome: str | None = None,
    treatment: str | None = None,
    unit: str | None = None,
    time: str | None = None,
    covariates: str | Sequence[str] | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    window: tuple[int, int] | None = None,
    reference: int = -1,
    cov_type: str | None = None,
    conf_level: float = 0.95,
) -> Result:
    """Event-study (dynamic two-way fixed effects) coefficients by time relative to treatment, with a pre-trend test.

    Parameters
    ----------
    data : Dataset or DataFrame
        A long panel with a numeric ``time`` and an absorbing 0/1 ``treatment`` (1 from the first treated period on).
    outcome, treatment, unit, time, covariates, cluster, weights : str, optional
        As in :func:`twfe`.
    window : (int, int), optional
        Lowest and highest event time given its own coefficient; event times outside are binned into the end
        points. Default: every observed event time (needs never-treated units).
    reference : int
        Event time whose coefficient is normalised to zero (default -1, the last period before treatment).
    cov_type : {"classical", "HC0", "HC1", "cluster"}, optional
        Default cluster-robust by unit.
    conf_level : float

    Returns
    -------
    Result
        ``terms`` has one row per event time ``e`` (``"e=-3"``, ..., ``"e=0"``, ...); ``estimate`` is the average
        of the post-treatment coefficients (e >= 0) with its standard error; ``details["event_time"]`` has
        event time, coefficient, CI and number of treated units per event time (the reference row is zero);
        ``details["pretrend"]`` the joint Wald test that all pre-treatment coefficients are zero. Diagnostic
        ``"pre-trends"`` warns when that test rejects at 5%. Draw it with :func:`plot_event_study`.

    Notes
    -----
    :math:`y_{it} = \\alpha_i + \\lambda_t + \\sum_{e \\ne r} \\beta_e 1[t - G_i = e] + X_{it}'\\beta + u_{it}` with
    :math:`G_i` the first treated period; never-treated units have every indicator zero. The pre-trend test
    is the Wald statistic :math:`W = \\hat\\beta_{pre}' V^{-1} \\hat\\beta_{pre}` referred to :math:`\\chi^2_q`.
    Validated against R's ``lm`` with ``sandwich::vcovCL`` (``tests/reference/did.R``). Under staggered adoption
    with heterogeneous effects the coefficients mix cohorts (Sun and Abraham 2021); compare with
    :func:`callaway_santanna` (``aggregate="dynamic"``).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.designs.event_study(ci.load_dataset("castle"), window=(-5, 4))
    >>> r.terms["term"].tolist()[:3]
    ['e=-5', 'e=-4', 'e=-3']
    """
    conf_level = check_conf_level(conf_level)
    reference = check_int(reference, "reference")
    ds = dataset(data, outcome=outcome, treatment=treatment, unit=unit, time=time, covariates=covariates, cluster=cluster, weights=weights)
    y, d, panel = _panel_inputs(ds, "event_study")
    if not pd.api.types.is_numeric_dtype(ds.frame[ds.time].dtype):
        raise RoleError(
            f"time {ds.time!r} must be numeric (e.g. a year) to count periods relative to treatment; it has dtype {ds.frame[ds.time].dtype}"
        )
    first = first_treated(d, panel, str(ds.treatment))
    treated_units = first < panel.n_times
    if not treated_units.any():
        raise RoleError(f"no unit is ever treated ({ds.treatment!r} is always 0)")
    tval = panel.times.astype(float)
    g_time = np.where(treated_units, tval[np.minimum(first, panel.n_times - 1)], np.nan)
    event = tval[panel.time_codes] - g_time[panel.unit_codes]
    treated_row = treated_units[panel.unit_codes]
    observed = np.unique(event[treated_row]).astype(int)
    if window is None:
        lo_e, hi_e = int(observed.min()), int(observed.max())
        if treated_units.all():
            raise DataError(
                "every unit is eventually treated, so without never-treated units the full set of event-time coefficients is not "
                "identified; pass a `window` (end points are binned) or add never-treated units"
            )
    else:
        if not (isinstance(window, Sequence) and len(window) == 2):
            raise ArgumentError(f"`window` must be a pair (lowest, highest) of event times, such as (-4, 3); got {window!r}")
        lo_e, hi_e = check_int(window[0], "window[0]"), check_int(window[1], "window[1]")
        if not (lo_e <= reference <= hi_e and lo_e <= 0 <= hi_e):
            raise ArgumentError(f"`window` {window!r} must contain the reference period {reference} and event time 0")
    if not lo_e <= reference <= hi_e:
        raise ArgumentError(f"`reference` ({reference}) must lie inside the event-time window [{lo_e}, {hi_e}]")
    binned = np.clip(event, lo_e, hi_e)
    event_times = [e for e in range(lo_e, hi_e + 1) if e != reference]
    cols = []
    kept = []
    for e in event_times:
        col = (treated_row & (binned == e)).astype(float)
        if col.any():
            cols.append(col)
            kept.append(e)
    x = np.column_stack([*cols, matrix(ds, ds.covariates, "covariate")])
    names = [f"e={e}" for e in kept] + list(ds.covariates)
    cl_name = ds.cluster or ds.unit
    cov_type = check_cov_type(cov_type, cl_name)
    wt = numeric(ds, ds.weights, "weights") if ds.weights else None
    cl = labels(ds, cl_name) if cov_type == "cluster" and cl_name else None
    fit = _fe_fit(y, x, panel, wt, cov_type, cl, names)
    df = float(fit.df_resid)
    m = len(kept)
    terms = terms_frame(names[:m], fit.coef[:m], fit.std_error[:m], df, conf_level)
    post_idx = [i for i, e in enumerate(kept) if e >= 0]
    pre_idx = [i for i, e in enumerate(kept) if e < 0]
    a = np.zeros(fit.coef.size)
    a[post_idx] = 1.0 / len(post_idx)
    est = float(a @ fit.coef)
    se = float(np.sqrt(a @ fit.cov @ a))
    stat, p, lo, hi = t_inference(est, se, df, conf_level)
    from scipy import stats

    diags = [_balance_diagnostic(panel)]
    pretrend: dict[str, Any] = {"statistic": math.nan, "df": 0, "pvalue": math.nan}
    if pre_idx:
        wstat = wald_test(fit.coef, fit.cov, pre_idx)
        pp = float(stats.chi2.sf(wstat, len(pre_idx)))
        pretrend = {"statistic": wstat, "df": len(pre_idx), "pvalue": pp}
        status = "ok" if pp >= 0.05 else "warn"
        msg = f"joint Wald test of {len(pre_idx)} pre-treatment coefficients: chi2 = {wstat:.3g}, p = {pp:.3g}"
        msg += (
            "; no evidence of diverging pre-trends (which does not prove parallel trends)"
            if status == "ok"
            else "; outcomes already diverged before treatment, so parallel trends is doubtful"
        )
        diags.append(Diagnostic("pre-trends", status, pp, msg))
    else:
        diags.append(
            Diagnostic("pre-trends", "warn", None, "no pre-treatment event times besides the reference: pre-trends cannot be tested")
        )
    emit(diags, "event_study")
    n_treated = [int(np.unique(panel.unit_codes[treated_row & (binned == e)]).size) for e in kept]
    et = terms.assign(event_time=kept, n_treated_units=n_treated)
    ref_row = pd.DataFrame(
        [
            {
                "term": f"e={reference}",
                "estimate": 0.0,
                "std_error": 0.0,
                "ci_low": 0.0,
                "ci_high": 0.0,
                "statistic": math.nan,
                "df": df,
                "pvalue": math.nan,
                "event_time": reference,
                "n_treated_units": 0,
            }
        ]
    )
    et = pd.concat([et, ref_row], ignore_index=True).sort_values("event_time").reset_index(drop=True)
    details: dict[str, Any] = {
        "event_time": et,
        "pretrend": pd.DataFrame([pretrend]),
        "cov_type": cov_type,
        "reference": reference,
        "window": [lo_e, hi_e],
    }
    if fit.n_clusters is not None:
        details["n_clusters"] = fit.n_clusters
    return Result(
        method=f"Event study (two-way fixed effects with event-time indicators), {cov_label(cov_type)}",
        estimand=f"average of the post-treatment event-time coefficients of {ds.treatment} on {ds.outcome} (reference e = {reference})",
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
        n=fit.n,
        diagnostics=tuple(diags),
        details=details,
        terms=terms,
        label="average post-treatment effect",
        provenance=Provenance.current(data_fingerprint=ds.fingerprint()),
    )
