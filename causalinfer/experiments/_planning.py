"""Planning an experiment: units per arm, minimum detectable effect and duration, with CUPED's variance reduction."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .. import _validation as vp
from .._validation import check_alternative, check_choice, check_probability, check_real, show
from ..exceptions import ArgumentError
from ..results import TableResult

__all__ = ["plan"]

# Units per arm beyond any experiment: a plan that needs more is refused (and the counts stay exact integers).
MAX_UNITS = 1e15

PLAN_COLUMNS: tuple[str, ...] = (
    "n_per_arm",
    "total_units",
    "mde_absolute",
    "mde_relative",
    "power",
    "alpha",
    "sd",
    "variance_reduction",
    "days",
)


def _positive(value: Any, name: str) -> float:
    x = check_real(value, name)
    if x <= 0:
        raise ArgumentError(f"`{name}` must be positive; got {show(value)}")
    return x


@vp.validate_params(
    {
        "baseline": vp.Interval("real"),
        "kind": vp.Options(("mean", "proportion", "ratio")),
        "sd": [None, vp.Interval("real", 0.0, closed="neither")],
        "mde": [None, vp.Interval("real")],
        "n_per_arm": [None, vp.Interval("real", 0.0, closed="neither")],
        "relative": "boolean",
        "alpha": vp.Interval("real", 0.0, 1.0, closed="neither"),
        "power": vp.Interval("real", 0.0, 1.0, closed="neither"),
        "alternative": "alternative",
        "variance_reduction": vp.Interval("real", 0.0, 1.0, closed="left"),
        "treatments": vp.Interval("int", 1, 1000),
        "daily_units": [None, vp.Interval("real", 0.0, closed="neither")],
    }
)
def plan(
    *,
    baseline: float,
    kind: str = "mean",
    sd: float | None = None,
    mde: float | None = None,
    n_per_arm: float | None = None,
    relative: bool = True,
    alpha: float = 0.05,
    power: float = 0.8,
    alternative: str = "two-sided",
    variance_reduction: float = 0.0,
    treatments: int = 1,
    daily_units: float | None = None,
) -> TableResult:
    """Units per arm for a minimum detectable effect, or the effect detectable with a given number of units.

    Parameters
    ----------
    baseline : float
        Control mean (or proportion, or ratio) the relative effect refers to.
    kind : {"mean", "proportion", "ratio"}
        For a proportion the per-unit standard deviation is ``sqrt(p (1 - p))`` and ``sd`` is not needed.
    sd : float, optional
        Per-unit standard deviation of the metric; for a ratio metric the delta-method one (the square root of
        ``details["arms"]["variance"]`` in a pilot analysis).
    mde, n_per_arm : float
        Give exactly one: the minimum detectable effect (relative to ``baseline`` when ``relative``, else
        absolute) to solve for units per arm, or units per arm to solve for the detectable effect.
    alpha, power : float
        Type I error and power.
    alternative : {"two-sided", "less", "greater"}
    variance_reduction : float
        Expected share of variance removed by CUPED / regression adjustment (the squared correlation with the
        pre-period covariate; ``analyze`` reports the achieved one); in [0, 1).
    treatments : int
        Number of treatment arms besides the control (for the total and the duration).
    daily_units : float, optional
        Units entering the experiment per day, all arms together; gives the duration in days.

    Returns
    -------
    TableResult
        One row with :data:`PLAN_COLUMNS`.

    Notes
    -----
    With equal arms, per-unit variance ``sigma^2 (1 - R^2)`` and ``z`` quantiles of the normal distribution, the
    absolute detectable effect is ``delta = (z_{1 - alpha / s} + z_{power}) sigma sqrt(2 (1 - R^2) / n)`` (``s`` sides),
    i.e. ``n = 2 (z_{1 - alpha / s} + z_{power})^2 sigma^2 (1 - R^2) / delta^2`` rounded up; the opposite tail is
    ignored, as R's ``power.t.test`` does by default. This is the large-sample version of the Welch test that
    :func:`analyze` runs; a seeded simulation checks that the planned size reaches the planned power.

    Examples
    --------
    >>> from causalinfer import experiments
    >>> p = experiments.plan(baseline=0.10, kind="proportion", mde=0.05)
    >>> int(p.table["n_per_arm"].iloc[0])
    56512
    """
    from ..stats._normal import z_crit, z_upper

    kind = check_choice(kind, "kind", ("mean", "proportion", "ratio"))
    mu = check_real(baseline, "baseline")
    alpha = check_probability(alpha, "alpha", open_interval=True)
    power = check_probability(power, "power", open_interval=True)
    alternative = check_alternative(alternative)
    r2 = check_probability(variance_reduction, "variance_reduction")
    if r2 >= 1:
        raise ArgumentError(f"`variance_reduction` must be below 1; got {show(variance_reduction)}")
    if not isinstance(relative, bool):
        raise ArgumentError(f"`relative` must be True or False; got {show(relative)}")
    treatments = int(treatments)  # the declaration has checked it (numpy integers and 2.0 included)
    if kind == "proportion":
        if not 0 < mu < 1:
            raise ArgumentError(f"`baseline` of a proportion must be in (0, 1); got {show(baseline)}")
        if sd is not None:
            raise ArgumentError("`sd` is implied by `baseline` for a proportion (sqrt(p (1 - p))); drop `sd`")
        sigma = math.sqrt(mu * (1 - mu))
    else:
        if sd is None:
            raise ArgumentError(f"`sd` (per-unit standard deviation) is needed for a {kind} metric")
        sigma = _positive(sd, "sd")
    if relative and mu == 0:
        raise ArgumentError("`baseline` is 0, so a relative effect is undefined; pass relative=False")
    if (mde is None) == (n_per_arm is None):
        raise ArgumentError("give exactly one of `mde` (to solve for units per arm) and `n_per_arm` (to solve for the effect)")
    sides = 2 if alternative == "two-sided" else 1
    z = z_upper(alpha / sides) + z_crit(power, "greater")
    # sigma sqrt(1 - R^2), not its square: a standard deviation near the float limit must not overflow.
    sd_unit = sigma * math.sqrt(1 - r2)
    scale = abs(mu) if relative else 1.0
    if mde is not None:
        effect = _positive(abs(check_real(mde, "mde")), "mde")
        delta = effect * scale
        if not math.isfinite(delta):
            raise ArgumentError(f"`mde` {show(mde)} times `baseline` {show(baseline)} overflows; give the effect on a smaller scale")
        ratio = z * (sd_unit / delta)  # may be inf; squared only once known to be small enough
        if not ratio <= math.sqrt(MAX_UNITS / 2):
            raise ArgumentError(
                f"`mde` {show(mde)} is too small against the per-unit standard deviation {sigma:g}: it needs more than "
                f"{MAX_UNITS:.0e} units per arm; give a larger effect"
            )
        n = max(math.ceil(2 * ratio**2), 1)
    else:
        n_arm = _positive(n_per_arm, "n_per_arm")
        if n_arm > MAX_UNITS:
            raise ArgumentError(f"`n_per_arm` must be at most {MAX_UNITS:.0e} units; got {show(n_per_arm)}")
        n = math.ceil(n_arm)
        delta = sd_unit * (z * math.sqrt(2 / n))
        if not math.isfinite(delta):
            raise ArgumentError(f"the detectable effect overflows with `sd` {show(sigma)}; give the metric on a smaller scale")
    total = n * (treatments + 1)
    days = None if daily_units is None else math.ceil(total / _positive(daily_units, "daily_units"))
    row = {
        "n_per_arm": n,
        "total_units": total,
        "mde_absolute": delta,
        "mde_relative": delta / abs(mu) if mu != 0 else math.nan,
        "power": power,
        "alpha": alpha,
        "sd": sigma,
        "variance_reduction": r2,
        "days": days,
    }
    table = pd.DataFrame([row], columns=list(PLAN_COLUMNS))
    table["days"] = table["days"].astype("Int64")
    solved = "units per arm" if mde is not None else "minimum detectable effect"
    return TableResult(
        method=f"Experiment plan ({kind} metric, normal approximation to the Welch test, {alternative})",
        estimand=f"{solved} at alpha {alpha:g} and power {power:g}"
        + (f", with {100 * r2:.0f}% variance reduction from covariates" if r2 else ""),
        table=table,
        details={"solved_for": solved},
    )
