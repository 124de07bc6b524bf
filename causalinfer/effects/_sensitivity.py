"""Sensitivity to unmeasured confounding that needs nothing but the estimate and the outcome: E-values.

The analyses that refit the estimator (robustness values of the outcome regression, simulated confounders,
Rosenbaum bounds) belong to the estimators that can do that refit; every analysis is reached through the
result's refitter, which also says when one does not apply.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .. import _validation as vp
from .._validation import check_real, show
from ..exceptions import ArgumentError
from ..results import Diagnostic, EffectSize, Provenance, Result
from ._refitter import refitter_of

if TYPE_CHECKING:
    from ._result import EffectResult


def _e_value_rr(rr: float) -> float:
    """E-value of a risk ratio: ``RR + sqrt(RR (RR - 1))`` after flipping ratios below 1."""
    if rr <= 0 or not math.isfinite(rr):
        raise ArgumentError(f"a risk ratio must be positive and finite; got {show(rr)}")
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


def robustness_values(t: float, dof: float, *, q: float = 1.0, alpha: float = 0.05) -> tuple[float, float, float]:
    """Partial R^2 of the treatment with the outcome, RV_q and RV_{q,alpha} (Cinelli and Hazlett 2020, eqs. 17-19)."""
    from ..stats._normal import t_upper

    f = q * abs(t) / math.sqrt(dof)
    rv = 0.5 * (math.sqrt(f**4 + 4 * f**2) - f**2)
    f_crit = t_upper(alpha / 2, dof - 1) / math.sqrt(dof - 1)
    fa = f - f_crit
    rva = 0.0 if fa < 0 else 0.5 * (math.sqrt(fa**4 + 4 * fa**2) - fa**2)
    return t * t / (t * t + dof), rv, rva


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
        risk ratio :math:`\exp(0.91 d)`. For a continuous treatment (:func:`causalinfer.designs.dose_response`,
        :func:`causalinfer.designs.partially_linear_dml`) the effect is per unit of treatment. Designs whose
        identification does not rest on measuring every confounder (instrumental variables,
        difference-in-differences, regression discontinuity) have no E-value: the error says how to probe them.
    outcome_sd : float, optional
        SD used for :math:`d`; default the pooled within-group SD of the outcome (the outcome's SD for a
        continuous treatment).

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
    return refitter_of(result).sensitivity(result, "e_value", outcome_sd=outcome_sd)


def outcome_e_value(
    result: EffectResult, y: np.ndarray, a: np.ndarray | None, *, outcome_sd: float | None, fingerprint: str | None
) -> Result:
    """The E-value of ``result`` given its outcome ``y`` and, for a 0/1 treatment, the treatment ``a``.

    ``outcome_sd=None`` standardises by the pooled within-group SD of ``y`` (``a`` is then required).
    """
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
            if a is None:
                raise ArgumentError("`outcome_sd` is needed to standardise the effect of a treatment that is not 0/1")
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
        provenance=Provenance.current(data_fingerprint=fingerprint),
    )
