"""Sensitivity to unmeasured confounding: E-values, Cinelli-Hazlett robustness values, simulated confounders."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_probability, check_real, show
from ..exceptions import ArgumentError, ArgumentTypeError
from ..results import Diagnostic, EffectSize, Provenance, Result
from ._effect import EffectResult


def _e_value_rr(rr: float) -> float:
    """E-value of a risk ratio: ``RR + sqrt(RR (RR - 1))`` after flipping ratios below 1."""
    if rr <= 0 or not math.isfinite(rr):
        raise ArgumentError(f"a risk ratio must be positive and finite; got {rr!r}")
    r = rr if rr >= 1 else 1.0 / rr
    return r + math.sqrt(r * (r - 1.0))


def e_value_from_rr(rr: float, ci: tuple[float, float] | None = None) -> tuple[float, float | None]:
    """E-values of a risk ratio and of its confidence limit closest to 1 (1 when the interval contains 1)."""
    point = _e_value_rr(rr)
    if ci is None:
        return point, None
    lo, hi = ci
    if lo <= 1.0 <= hi:
        return point, 1.0
    return point, _e_value_rr(lo if rr >= 1 else hi)


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.results:Result"),
        "outcome_sd": [None, vp.Interval("real", 0, closed="neither")],
    }
)
def e_value(result: EffectResult, *, outcome_sd: float | None = None) -> Result:
    r"""E-value (VanderWeele and Ding 2017): how strong unmeasured confounding would have to be to explain the effect away.

    The E-value is the minimum strength of association, on the risk-ratio scale, that an unmeasured
    confounder would need with both the treatment and the outcome (beyond the measured covariates) to move
    the estimate (or its confidence limit) to no effect.

    Parameters
    ----------
    result : EffectResult
        A causal estimate. For a 0/1 outcome the risk ratio is the ratio of the two standardised means in
        ``details["potential_outcomes"]`` (ATE estimators); for a continuous outcome the mean difference is
        first turned into a standardised difference :math:`d` = estimate / SD and then into an approximate
        risk ratio :math:`\exp(0.91 d)`.
    outcome_sd : float, optional
        SD used for :math:`d`; default the pooled within-group SD of the outcome.

    Returns
    -------
    Result
        ``estimate``: the E-value of the point estimate; ``effect_sizes``: the risk ratio used, the E-value of
        the confidence limit closest to the null (1 when the interval includes no effect) and, for continuous
        outcomes, :math:`d`.

    Notes
    -----
    :math:`E = RR + \sqrt{RR(RR - 1)}` for :math:`RR \ge 1` (use :math:`1/RR` below 1). Checked against the
    worked examples of VanderWeele and Ding (2017), Annals of Internal Medicine 167, 268-274.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.causal.ipw(ci.load_dataset("lalonde"))
    >>> round(r.sensitivity("e_value").estimate, 2)
    1.82
    """
    if not isinstance(result, EffectResult):
        raise ArgumentTypeError(f"`result` must be an EffectResult; got {show(result)}")
    ctx = getattr(result, "_context", None)
    if ctx is None:
        raise ArgumentError("this EffectResult does not carry its data (rebuilt from JSON); estimate the effect again")
    y, a = ctx.cd.y, ctx.cd.a
    assert result.estimate is not None
    assert result.ci_low is not None
    assert result.ci_high is not None
    binary = bool(np.all((y == 0) | (y == 1)))
    sizes = []
    if binary:
        po = result.details.get("potential_outcomes")
        if po is None or result.effect != "ATE":
            raise ArgumentError(
                "the E-value of a 0/1 outcome needs the standardised risks of an ATE estimate (ipw, regression or aipw with estimand='ATE')"
            )
        mu1, mu0 = float(po["mean"].iloc[0]), float(po["mean"].iloc[1])
        if mu1 <= 0 or mu0 <= 0:
            raise ArgumentError(f"the standardised risks ({mu1:.4g}, {mu0:.4g}) must be positive to form a risk ratio")
        rr = mu1 / mu0
        point, _ = e_value_from_rr(rr)
        ci_e = None
        how = f"risk ratio {rr:.4g} = {mu1:.4g} / {mu0:.4g} (standardised risks)"
        note = Diagnostic(
            "confidence limit",
            "warn",
            None,
            "the E-value of the confidence limit needs an interval for the risk ratio, which this estimate does not provide",
        )
    else:
        if outcome_sd is None:
            y1, y0 = y[a == 1], y[a == 0]
            sd = math.sqrt(((y1.size - 1) * y1.var(ddof=1) + (y0.size - 1) * y0.var(ddof=1)) / (y.size - 2))
        else:
            sd = check_real(outcome_sd, "outcome_sd")
            if sd <= 0:
                raise ArgumentError(f"`outcome_sd` must be positive; got {show(outcome_sd)}")
        d = result.estimate / sd
        rr = math.exp(0.91 * d)
        lo, hi = math.exp(0.91 * result.ci_low / sd), math.exp(0.91 * result.ci_high / sd)
        point, ci_e = e_value_from_rr(rr, (lo, hi))
        sizes.append(
            EffectSize(
                "standardised difference d", d, result.ci_low / sd, result.ci_high / sd, result.conf_level, f"estimate / SD ({sd:.4g})"
            )
        )
        how = f"approximate risk ratio exp(0.91 d) = {rr:.4g} from the standardised difference d = {d:.4g}"
        note = Diagnostic(
            "confidence limit",
            "ok" if ci_e and ci_e > 1 else "warn",
            ci_e,
            f"E-value of the confidence limit closest to no effect: {ci_e:.3g}"
            + ("" if ci_e and ci_e > 1 else " (the interval already includes no effect)"),
        )
    sizes.insert(0, EffectSize("risk ratio", rr, method="approximate" if not binary else "standardised risks"))
    if ci_e is not None:
        sizes.append(EffectSize("E-value (confidence limit)", ci_e))
    msg = (
        f"{how}. An unmeasured confounder associated with both treatment and outcome by a risk ratio of {point:.3g} each, "
        "beyond the measured covariates, could explain the point estimate away; weaker confounding could not"
    )
    return Result(
        method="Sensitivity analysis: E-value (VanderWeele and Ding 2017)",
        estimand=f"minimum confounder strength (risk-ratio scale) that would explain away the {result.effect} of {result.treatment} on {result.outcome}",
        estimate=point,
        n=result.n,
        effect_sizes=tuple(sizes),
        diagnostics=(Diagnostic("interpretation", "ok", point, msg), note),
        label="E-value",
        provenance=Provenance.current(data_fingerprint=ctx.cd.fingerprint),
    )


def robustness_values(t: float, dof: float, *, q: float = 1.0, alpha: float = 0.05) -> tuple[float, float, float]:
    """Partial R^2 of the treatment with the outcome, RV_q and RV_{q,alpha} (Cinelli and Hazlett 2020, eqs. 17-19)."""
    from scipy import stats

    f = q * abs(t) / math.sqrt(dof)
    rv = 0.5 * (math.sqrt(f**4 + 4 * f**2) - f**2)
    f_crit = abs(float(stats.t.ppf(alpha / 2, dof - 1))) / math.sqrt(dof - 1)
    fa = f - f_crit
    rva = 0.0 if fa < 0 else 0.5 * (math.sqrt(fa**4 + 4 * fa**2) - fa**2)
    return t * t / (t * t + dof), rv, rva


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.results:Result"),
        "q": vp.Interval("real", 0, closed="neither"),
        "alpha": vp.OPEN_PROBABILITY,
    }
)
def robustness_value(result: EffectResult, *, q: float = 1.0, alpha: float = 0.05) -> Result:
    r"""Robustness value (Cinelli and Hazlett 2020) of the treatment coefficient in a linear outcome regression.

    Fits the outcome on the treatment and the covariate design by least squares (no interactions) and asks
    how much residual variance an unmeasured confounder would have to explain, in both the treatment and the
    outcome, to reduce the effect by ``100 q`` percent.

    Parameters
    ----------
    result : EffectResult
        Supplies the data and the covariate design.
    q : float
        Fraction of the effect to explain away (1: all of it).
    alpha : float
        Significance level for :math:`RV_{q,\alpha}` (confounding that would make the estimate insignificant).

    Returns
    -------
    Result
        ``estimate``: :math:`RV_q`; ``effect_sizes``: :math:`RV_q`, :math:`RV_{q,\alpha}` and the partial
        :math:`R^2` of the treatment with the outcome; ``details["regression"]``: the coefficient, classical
        standard error, t and degrees of freedom.

    Notes
    -----
    With :math:`f_q = q|t|/\sqrt{df}`, :math:`RV_q = \tfrac12(\sqrt{f_q^4 + 4f_q^2} - f_q^2)`; for
    :math:`RV_{q,\alpha}` replace :math:`f_q` by :math:`f_q - |t^*_{\alpha/2, df-1}|/\sqrt{df-1}` (0 when
    negative). Checked against the Darfur example of Cinelli and Hazlett (2020), JRSS-B 82, 39-67
    (t = 4.18, df = 783: RV = 13.9%, RV_alpha = 7.6%, partial R2 = 2.2%).

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.causal.regression_adjustment(ci.load_dataset("lalonde"))
    >>> rv = r.sensitivity("robustness_value")
    >>> 0 < rv.estimate < 1
    True
    """
    if not isinstance(result, EffectResult):
        raise ArgumentTypeError(f"`result` must be an EffectResult; got {show(result)}")
    ctx = getattr(result, "_context", None)
    if ctx is None:
        raise ArgumentError("this EffectResult does not carry its data (rebuilt from JSON); estimate the effect again")
    q = check_real(q, "q")
    if q <= 0:
        raise ArgumentError(f"`q` must be positive (1 = explain away the whole effect); got {show(q)}")
    alpha = check_probability(alpha, "alpha", open_interval=True)
    from ._models import fit_ols

    cd = ctx.cd
    X = np.column_stack([np.ones(cd.n), cd.a, cd.Z])
    ols = fit_ols(X, cd.y)
    dof = cd.n - X.shape[1]
    sigma2 = float(ols.resid @ ols.resid) / dof
    se = math.sqrt(sigma2 * ols.bread[1, 1] / cd.n)
    coef = float(ols.coef[1])
    t = coef / se
    r2, rv, rva = robustness_values(t, dof, q=q, alpha=alpha)
    pct = f"{100 * q:g}%"
    msg = (
        f"an unmeasured confounder explaining {100 * rv:.1f}% of the residual variance of both {cd.treatment} and {cd.outcome} "
        f"would reduce the regression estimate by {pct}; one explaining {100 * rva:.1f}% would make it insignificant at alpha = {alpha:g}"
    )
    return Result(
        method="Sensitivity analysis: robustness value (Cinelli and Hazlett 2020), linear outcome regression",
        estimand=f"share of residual variance of treatment and outcome an unmeasured confounder must explain to remove {pct} of the effect",
        estimate=rv,
        n=cd.n,
        effect_sizes=(
            EffectSize("robustness value RV_q", rv, method=f"q = {q:g}"),
            EffectSize("robustness value RV_q,alpha", rva, method=f"q = {q:g}, alpha = {alpha:g}"),
            EffectSize("partial R2 of treatment with outcome", r2),
        ),
        diagnostics=(Diagnostic("interpretation", "ok", rv, msg),),
        details={"regression": pd.DataFrame({"coefficient": [coef], "std_error": [se], "t": [t], "df": [float(dof)]})},
        label="robustness value",
        provenance=Provenance.current(data_fingerprint=cd.fingerprint),
    )


@vp.validate_params(
    {
        "result": vp.InstanceOf("causalinfer.results:Result"),
        "treatment_strength": [
            vp.Interval("real", 0, 1, closed="left"),
            vp.SequenceOf(vp.Interval("real", 0, 1, closed="left"), min_length=1),
        ],
        "outcome_strength": [
            vp.Interval("real", 0, 1, closed="left"),
            vp.SequenceOf(vp.Interval("real", 0, 1, closed="left"), min_length=1),
        ],
        "n_simulations": vp.Interval("int", 1),
        "random_state": "random_state",
    }
)
def unobserved_confounder(
    result: EffectResult,
    *,
    treatment_strength: Sequence[float] = (0.05, 0.1, 0.2, 0.3),
    outcome_strength: Sequence[float] = (0.05, 0.1, 0.2, 0.3),
    n_simulations: int = 10,
    random_state: Any = None,
) -> Result:
    r"""Simulated unobserved confounder: how would the estimate move if we could adjust for a confounder of given strength?

    For each pair of strengths :math:`(\rho_A, \rho_Y)` a confounder :math:`U` is simulated whose correlation
    with the treatment residual (given the covariates) is about :math:`\rho_A` and with the outcome residual
    (given treatment and covariates) about :math:`\rho_Y`; the estimator, with every nuisance model, is refitted
    with :math:`U` added to the adjustment set. The shift of the estimate shows what omitting such a
    confounder would cost.

    Parameters
    ----------
    result : EffectResult
        An estimate computed in this session.
    treatment_strength, outcome_strength : sequence of float
        Partial correlations of :math:`U` with the treatment and with the outcome; each in [0, 1) and the
        squares of a pair summing to less than 1.
    n_simulations : int
        Simulated confounders per pair (their estimates are averaged).
    random_state : int or Generator, optional

    Returns
    -------
    Result
        ``estimate``: the original estimate; ``details["grid"]``: one row per pair with the mean adjusted
        estimate, its shift and the shift in standard errors; a diagnostic names the weakest confounder that
        would move the estimate to no effect or make it insignificant, if any on the grid.

    Notes
    -----
    With :math:`r_A` and :math:`r_Y` the standardised residuals of linear regressions of the treatment on
    the covariates and of the outcome on treatment and covariates (orthogonal by construction),
    :math:`U = \rho_A r_A + \rho_Y r_Y + \sqrt{1 - \rho_A^2 - \rho_Y^2}\,\varepsilon`.

    Examples
    --------
    >>> import causalinfer as ci
    >>> r = ci.causal.ipw(ci.load_dataset("lalonde"))
    >>> s = ci.causal.unobserved_confounder(r, treatment_strength=[0.1], outcome_strength=[0.1], random_state=1)
    >>> s.details["grid"].shape[0]
    1
    """
    from .._validation import check_int, check_random_state
    from ._models import fit_ols
    from ._refute import covariate_refitter

    if not isinstance(result, EffectResult):
        raise ArgumentTypeError(f"`result` must be an EffectResult; got {show(result)}")
    ctx = getattr(result, "_context", None)
    if ctx is None:
        raise ArgumentError("this EffectResult does not carry its data (rebuilt from JSON); estimate the effect again")
    grid = []
    for name, values in (("treatment_strength", treatment_strength), ("outcome_strength", outcome_strength)):
        vals = [check_real(v, name) for v in (values if isinstance(values, Sequence) else [values])]
        if not vals or any(not (0 <= v < 1) for v in vals):
            raise ArgumentError(f"`{name}` must be a non-empty list of correlations in [0, 1); got {show(values)}")
        grid.append(vals)
    for ra in grid[0]:
        for ry in grid[1]:
            if ra * ra + ry * ry >= 1:
                raise ArgumentError(f"strengths ({ra:g}, {ry:g}) are impossible: their squares must sum to less than 1")
    n_simulations = check_int(n_simulations, "n_simulations", minimum=1)
    rng = check_random_state(random_state)
    cd = ctx.cd
    n = cd.n
    X = np.column_stack([np.ones(n), cd.Z])
    ra_res = fit_ols(X, cd.a).resid
    ry_res = fit_ols(np.column_stack([X, cd.a]), cd.y).resid
    ra_std = (ra_res - ra_res.mean()) / ra_res.std()
    ry_std = (ry_res - ry_res.mean()) / ry_res.std()
    refit = covariate_refitter(ctx)
    assert result.estimate is not None
    assert result.std_error is not None
    est0, se0 = result.estimate, result.std_error
    rows = []
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        for ra in grid[0]:
            for ry in grid[1]:
                ests = [
                    refit(ra * ra_std + ry * ry_std + math.sqrt(1 - ra * ra - ry * ry) * rng.standard_normal(n), "U")
                    for _ in range(n_simulations)
                ]
                m = float(np.mean(ests))
                rows.append(
                    {"treatment_strength": ra, "outcome_strength": ry, "estimate": m, "shift": m - est0, "shift_in_se": (m - est0) / se0}
                )
    table = pd.DataFrame(rows)
    z = 1.959963984540054
    flips = table[np.sign(table["estimate"]) != np.sign(est0)]
    insig = table[table["estimate"].abs() < z * se0]
    if len(flips):
        w = flips.assign(s=flips["treatment_strength"] + flips["outcome_strength"]).sort_values("s").iloc[0]
        diag = Diagnostic(
            "sensitivity",
            "warn",
            float(w["s"]),
            f"a confounder with correlations {w['treatment_strength']:g} (treatment) and {w['outcome_strength']:g} (outcome) would reverse the sign of the estimate",
        )
    elif len(insig):
        w = insig.assign(s=insig["treatment_strength"] + insig["outcome_strength"]).sort_values("s").iloc[0]
        diag = Diagnostic(
            "sensitivity",
            "warn",
            float(w["s"]),
            f"a confounder with correlations {w['treatment_strength']:g} (treatment) and {w['outcome_strength']:g} (outcome) would make the estimate insignificant at the 5% level",
        )
    else:
        diag = Diagnostic("sensitivity", "ok", None, "no simulated confounder on the grid moves the estimate to insignificance")
    return Result(
        method=f"Sensitivity analysis: simulated unobserved confounder ({n_simulations} draws per strength pair, estimator refitted)",
        estimand=f"the {result.effect} of {result.treatment} on {result.outcome} after adjusting also for a simulated confounder",
        estimate=est0,
        n=n,
        diagnostics=(diag,),
        details={"grid": table},
        label="unobserved confounder",
        provenance=Provenance.current(random_state=random_state, data_fingerprint=cd.fingerprint),
    )
