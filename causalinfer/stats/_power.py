"""Power and sample-size calculations, as R's ``power.t.test``, ``power.prop.test`` and ``power.anova.test``.

Each function takes all but one of the design quantities and solves for the missing one (``None``). The
equations are R's, solved with Brent's method to near machine precision (R's ``uniroot`` stops at a tolerance
of about 1e-4, so R's printed answers differ from these in the 5th digit; the reference values in
``tests/reference/power.R`` are R's own equations solved with ``tol = 1e-12``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from .. import _validation as vp
from .._validation import check_choice, show
from ..exceptions import ArgumentError, ArgumentTypeError, ConvergenceError
from ..results import Provenance, Result

__all__ = ["power_anova", "power_prop_test", "power_ttest"]

_SIDES = ("two-sided", "one-sided")
_TTEST_TYPES = ("two-sample", "one-sample", "paired")


# ---------------------------------------------------------------------------------------------- helpers
def _opt_real(value: Any, name: str, *, low: float | None = None, high: float | None = None, open_low: bool = True) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"`{name}` must be a number or None (to solve for it); got {show(value)}")
    x = float(value)
    if not math.isfinite(x):
        raise ArgumentError(f"`{name}` must be finite; got {show(value)}")
    if low is not None and (x <= low if open_low else x < low):
        raise ArgumentError(f"`{name}` must be {'>' if open_low else '>='} {low:g}; got {show(value)}")
    if high is not None and x >= high:
        raise ArgumentError(f"`{name}` must be < {high:g}; got {show(value)}")
    return x


def _prob(value: Any, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"`{name}` must be a probability in (0, 1) or None (to solve for it); got {show(value)}")
    x = float(value)
    if not 0.0 < x < 1.0:
        raise ArgumentError(f"`{name}` must be a probability strictly between 0 and 1; got {show(value)}")
    return x


def _exactly_one_missing(values: dict[str, Any]) -> str:
    missing = [k for k, v in values.items() if v is None]
    if len(missing) != 1:
        names = ", ".join(f"`{k}`" for k in values)
        got = "none" if not missing else ", ".join(f"`{k}`" for k in missing)
        raise ArgumentError(f"exactly one of {names} must be None (the quantity to solve for); got None for {got}")
    return missing[0]


def _solve(f: Callable[[float], float], lo: float, hi: float, extend: str, what: str) -> float:
    """Root of ``f`` in [lo, hi], extending the interval as R's ``uniroot(extendInt=)`` does."""
    from scipy import optimize

    def delta(u: float) -> float:
        return 0.01 * max(1e-4, abs(u))

    flo, fhi = f(lo), f(hi)
    step_lo, step_hi = delta(lo), delta(hi)
    for _ in range(1000):
        if math.isfinite(flo) and math.isfinite(fhi) and flo * fhi <= 0:
            break
        if extend == "no":
            break
        if extend == "upX":  # f increasing: need f(lo) <= 0 <= f(hi)
            if fhi < 0:
                hi += step_hi
                step_hi *= 2
                fhi = f(hi)
            if flo > 0:
                lo -= step_lo
                step_lo *= 2
                flo = f(lo)
        elif extend == "downX":  # f decreasing
            if fhi > 0:
                hi += step_hi
                step_hi *= 2
                fhi = f(hi)
            if flo < 0:
                lo -= step_lo
                step_lo *= 2
                flo = f(lo)
        else:  # "yes": widen both ends
            lo -= step_lo
            hi += step_hi
            step_lo *= 2
            step_hi *= 2
            flo, fhi = f(lo), f(hi)
    if not (math.isfinite(flo) and math.isfinite(fhi) and flo * fhi <= 0):
        raise ArgumentError(f"no value of `{what}` achieves the requested design; check that the other quantities are attainable")
    if flo == 0:
        return lo
    if fhi == 0:
        return hi
    try:
        return float(optimize.brentq(f, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=500))
    except (RuntimeError, ValueError) as exc:  # pragma: no cover - brentq with a valid bracket converges
        raise ConvergenceError(f"solving for `{what}` did not converge: {exc}") from None


def _pct(x: float) -> str:
    return f"{100 * x:.4g}%"


# ---------------------------------------------------------------------------------------------- t test
def _t_power(n: float, delta: float, sd: float, sig_level: float, tsample: int, tside: int, strict: bool) -> float:
    from scipy import stats

    nu = max(1e-7, n - 1) * tsample
    ncp = math.sqrt(n / tsample) * delta / sd
    qu = float(stats.t.isf(sig_level / tside, nu))
    p = _nct_sf(qu, nu, ncp)
    if strict and tside == 2:
        p += 1.0 - _nct_sf(-qu, nu, ncp)
    return p


def _nct_sf(q: float, nu: float, ncp: float) -> float:
    """P(T > q) for a noncentral t; where scipy's algorithm breaks down (huge df and ncp, far from any root of
    interest) the normal approximation of Abramowitz & Stegun 26.7.10 is used."""
    from scipy import stats

    p = float(stats.nct.sf(q, nu, ncp))
    if math.isfinite(p):
        return p
    z = (q * (1 - 1 / (4 * nu)) - ncp) / math.sqrt(1 + q * q / (2 * nu))
    return float(stats.norm.sf(z))


@vp.validate_params(
    {
        "n": [None, vp.Interval("real", 0, closed="neither")],
        "delta": [None, vp.Interval("real")],
        "sd": [None, vp.Interval("real", 0, closed="neither")],
        "sig_level": [None, vp.OPEN_PROBABILITY],
        "power": [None, vp.OPEN_PROBABILITY],
        "type": vp.Options(_TTEST_TYPES),
        "alternative": vp.Options(_SIDES),
        "strict": "boolean",
    }
)
def power_ttest(
    *,
    n: float | None = None,
    delta: float | None = None,
    sd: float | None = 1.0,
    sig_level: float | None = 0.05,
    power: float | None = None,
    type: str = "two-sample",
    alternative: str = "two-sided",
    strict: bool = False,
) -> Result:
    """Power of a t-test, or the n, difference, sd or level needed for a given power (R's ``power.t.test``).

    Exactly one of ``n``, ``delta``, ``sd``, ``sig_level`` and ``power`` must be None; it is solved for.

    Parameters
    ----------
    n : float, optional
        Observations per group (two-sample), observations (one-sample) or pairs (paired).
    delta : float, optional
        True difference in means (mean of the differences for paired data).
    sd : float, optional
        Standard deviation (of the differences for paired data). Default 1.
    sig_level : float, optional
        Significance level (type I error rate). Default 0.05.
    power : float, optional
        Power (1 - type II error rate).
    type : {"two-sample", "one-sample", "paired"}
    alternative : {"two-sided", "one-sided"}
    strict : bool
        Two-sided only: include the probability of rejecting in the wrong direction (R's ``strict = TRUE``).
        Default False, as R.

    Returns
    -------
    Result
        ``estimate`` is the solved quantity; ``estimand`` says what it is in words; ``details`` holds every
        parameter (``n, delta, sd, sig_level, power, type, alternative, strict``), ``solved_for`` and, when
        solving for n, ``n_rounded_up`` (the whole number of observations to plan for).

    Notes
    -----
    With :math:`\\nu = (n - 1) k` (:math:`k = 2` for two samples, else 1), non-centrality
    :math:`\\lambda = \\sqrt{n/k}\\,\\delta/\\sigma` and :math:`q = t_{1-\\alpha/s,\\nu}` (:math:`s` sides), power is
    :math:`P(T_{\\nu,\\lambda} > q)` (plus :math:`P(T_{\\nu,\\lambda} < -q)` when ``strict``). The unknown is found by
    Brent's method on R's equation and interval (with R's interval extension); validated against R's
    ``power.t.test(..., tol = 1e-12)`` at rtol 1e-8 (``tests/reference/power.R``).

    Examples
    --------
    >>> from causalinfer.stats import power_ttest
    >>> r = power_ttest(delta=0.5, power=0.8)
    >>> round(r.estimate, 4), r.details["n_rounded_up"]
    (63.7658, 64)
    >>> round(power_ttest(n=20, delta=1.0).estimate, 4)
    0.869
    """
    type_ = check_choice(type, "type", _TTEST_TYPES)
    alternative = check_choice(alternative, "alternative", _SIDES)
    if not isinstance(strict, bool):
        raise ArgumentTypeError(f"`strict` must be True or False; got {show(strict)}")
    vals: dict[str, Any] = {
        "n": _opt_real(n, "n", low=1.0),
        "delta": _opt_real(delta, "delta"),
        "sd": _opt_real(sd, "sd", low=0.0),
        "sig_level": _prob(sig_level, "sig_level"),
        "power": _prob(power, "power"),
    }
    target = _exactly_one_missing(vals)
    tsample = 2 if type_ == "two-sample" else 1
    tside = 2 if alternative == "two-sided" else 1
    if tside == 2 and vals["delta"] is not None:
        vals["delta"] = abs(vals["delta"])

    def pw(**over: float) -> float:
        v = {**vals, **over}
        return _t_power(v["n"], v["delta"], v["sd"], v["sig_level"], tsample, tside, strict)

    if target == "power":
        vals["power"] = pw()
    elif target == "n":
        vals["n"] = _solve(lambda x: pw(n=x) - vals["power"], 2.0, 1e7, "upX", "n")
    elif target == "sd":
        d = vals["delta"]
        if d == 0:
            raise ArgumentError("cannot solve for `sd` when `delta` is 0")
        vals["sd"] = _solve(lambda x: pw(sd=x) - vals["power"], d * 1e-7, d * 1e7, "downX", "sd")
    elif target == "delta":
        s = vals["sd"]
        vals["delta"] = _solve(lambda x: pw(delta=x) - vals["power"], s * 1e-7, s * 1e7, "upX", "delta")
    else:
        vals["sig_level"] = _solve(lambda x: pw(sig_level=x) - vals["power"], 1e-10, 1 - 1e-10, "yes", "sig_level")

    kind = {"one-sample": "One-sample", "two-sample": "Two-sample", "paired": "Paired"}[type_]
    method = f"{kind} t test power calculation ({alternative}{', strict' if strict and tside == 2 else ''})"
    test = f"a {alternative} {_pct(vals['sig_level'])}-level {type_} t-test"
    unit = {"two-sample": "per group", "one-sample": "", "paired": "(pairs)"}[type_]
    effect = (
        f"a {'mean difference' if type_ != 'one-sample' else 'difference from the null mean'} of {vals['delta']:.4g} (sd {vals['sd']:.4g})"
    )
    estimand = {
        "n": f"sample size {unit} needed for {_pct(vals['power'])} power to detect {effect} by {test}".replace("  ", " "),
        "power": f"power of {test} to detect {effect}, with n = {vals['n']:.4g} {unit}".rstrip(),
        "delta": f"smallest difference detectable with {_pct(vals['power'])} power by {test} with n = {vals['n']:.4g} {unit} and sd {vals['sd']:.4g}",
        "sd": f"largest standard deviation at which {test} with n = {vals['n']:.4g} {unit} has {_pct(vals['power'])} power to detect a difference of {vals['delta']:.4g}",
        "sig_level": f"significance level at which a {alternative} {type_} t-test with n = {vals['n']:.4g} {unit} has {_pct(vals['power'])} power to detect {effect}",
    }[target]
    note = {
        "two-sample": "n is the number in *each* group",
        "paired": "n is the number of *pairs*, sd is the standard deviation of the *differences* within pairs",
        "one-sample": None,
    }[type_]
    details: dict[str, Any] = {**vals, "type": type_, "alternative": alternative, "strict": strict, "solved_for": target, "note": note}
    if target == "n":
        details["n_rounded_up"] = math.ceil(vals["n"] - 1e-9)
    return Result(method=method, estimand=estimand, estimate=vals[target], details=details, provenance=Provenance.current())


# ---------------------------------------------------------------------------------------------- proportions
def _prop_power(n: float, p1: float, p2: float, sig_level: float, tside: int, strict: bool) -> float:
    from scipy import stats

    qu = float(stats.norm.isf(sig_level / tside))
    if strict and tside == 2:
        d = abs(p1 - p2)
        v1, v2 = p1 * (1 - p1), p2 * (1 - p2)
        pbar = (p1 + p2) / 2
        vbar = pbar * (1 - pbar)
        s = math.sqrt(v1 + v2)
        return float(
            stats.norm.cdf((math.sqrt(n) * d - qu * math.sqrt(2 * vbar)) / s)
            + stats.norm.sf((math.sqrt(n) * d + qu * math.sqrt(2 * vbar)) / s)
        )
    return float(
        stats.norm.cdf(
            (math.sqrt(n) * abs(p1 - p2) - qu * math.sqrt((p1 + p2) * (1 - (p1 + p2) / 2))) / math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
        )
    )


@vp.validate_params(
    {
        "n": [None, vp.Interval("real", 0, closed="neither")],
        "p1": [None, vp.OPEN_PROBABILITY],
        "p2": [None, vp.OPEN_PROBABILITY],
        "sig_level": [None, vp.OPEN_PROBABILITY],
        "power": [None, vp.OPEN_PROBABILITY],
        "alternative": vp.Options(_SIDES),
        "strict": "boolean",
    }
)
def power_prop_test(
    *,
    n: float | None = None,
    p1: float | None = None,
    p2: float | None = None,
    sig_level: float | None = 0.05,
    power: float | None = None,
    alternative: str = "two-sided",
    strict: bool = False,
) -> Result:
    """Power of the two-sample test of proportions, or the n, proportion or level for a given power (R's ``power.prop.test``).

    Exactly one of ``n``, ``p1``, ``p2``, ``sig_level`` and ``power`` must be None.

    Parameters
    ----------
    n : float, optional
        Observations per group.
    p1, p2 : float, optional
        Proportions in the two groups.
    sig_level, power : float, optional
    alternative : {"two-sided", "one-sided"}
    strict : bool
        Two-sided only: count rejections in the wrong direction too (R's ``strict = TRUE``).

    Returns
    -------
    Result
        ``estimate`` is the solved quantity; ``details`` holds all parameters, ``solved_for`` and, for n,
        ``n_rounded_up``.

    Notes
    -----
    Normal approximation: power :math:`= \\Phi\\big((\\sqrt n |p_1-p_2| - z_{1-\\alpha/s}\\sqrt{(p_1+p_2)(1-\\bar p)})
    / \\sqrt{p_1q_1 + p_2q_2}\\big)`. Validated against R's ``power.prop.test(..., tol = 1e-12)`` at rtol 1e-8.

    Examples
    --------
    >>> from causalinfer.stats import power_prop_test
    >>> r = power_prop_test(p1=0.5, p2=0.75, power=0.9)
    >>> round(r.estimate, 3), r.details["n_rounded_up"]
    (76.707, 77)
    """
    alternative = check_choice(alternative, "alternative", _SIDES)
    if not isinstance(strict, bool):
        raise ArgumentTypeError(f"`strict` must be True or False; got {show(strict)}")
    vals: dict[str, Any] = {
        "n": _opt_real(n, "n", low=0.0),
        "p1": _prob(p1, "p1"),
        "p2": _prob(p2, "p2"),
        "sig_level": _prob(sig_level, "sig_level"),
        "power": _prob(power, "power"),
    }
    target = _exactly_one_missing(vals)
    tside = 2 if alternative == "two-sided" else 1

    def pw(**over: float) -> float:
        v = {**vals, **over}
        return _prop_power(v["n"], v["p1"], v["p2"], v["sig_level"], tside, strict)

    if target == "power":
        vals["power"] = pw()
    elif target == "n":
        vals["n"] = _solve(lambda x: pw(n=x) - vals["power"], 1.0, 1e7, "upX", "n")
    elif target == "p1":
        vals["p1"] = _solve(lambda x: pw(p1=x) - vals["power"], 0.0, vals["p2"], "yes", "p1")
    elif target == "p2":
        vals["p2"] = _solve(lambda x: pw(p2=x) - vals["power"], vals["p1"], 1.0, "yes", "p2")
    else:
        vals["sig_level"] = _solve(lambda x: pw(sig_level=x) - vals["power"], 1e-10, 1 - 1e-10, "upX", "sig_level")
    for key in ("p1", "p2", "sig_level"):
        v = vals[key]
        if v is not None and not 0.0 <= v <= 1.0:
            raise ArgumentError(f"no `{key}` in [0, 1] achieves the requested power (the solution is {v:.6g}); relax the other quantities")
    test = f"a {alternative} {_pct(vals['sig_level'])}-level two-sample test of proportions"
    effect = f"proportions {vals['p1']:.4g} vs {vals['p2']:.4g}"
    estimand = {
        "n": f"sample size per group needed for {_pct(vals['power'])} power to detect {effect} by {test}",
        "power": f"power of {test} with n = {vals['n']:.4g} per group to detect {effect}",
        "p1": f"proportion p1 (below p2 = {vals['p2']:.4g}) detectable with {_pct(vals['power'])} power by {test} with n = {vals['n']:.4g} per group",
        "p2": f"proportion p2 (above p1 = {vals['p1']:.4g}) detectable with {_pct(vals['power'])} power by {test} with n = {vals['n']:.4g} per group",
        "sig_level": f"significance level at which a {alternative} test of proportions with n = {vals['n']:.4g} per group has {_pct(vals['power'])} power to detect {effect}",
    }[target]
    details: dict[str, Any] = {
        **vals,
        "alternative": alternative,
        "strict": strict,
        "solved_for": target,
        "note": "n is the number in *each* group",
    }
    if target == "n":
        details["n_rounded_up"] = math.ceil(vals["n"] - 1e-9)
    method = f"Two-sample comparison of proportions power calculation ({alternative}{', strict' if strict and tside == 2 else ''})"
    return Result(method=method, estimand=estimand, estimate=vals[target], details=details, provenance=Provenance.current())


# ---------------------------------------------------------------------------------------------- ANOVA
def _anova_power(groups: float, n: float, between_var: float, within_var: float, sig_level: float) -> float:
    from scipy import stats

    lam = (groups - 1) * n * (between_var / within_var)
    df1, df2 = groups - 1, (n - 1) * groups
    q = float(stats.f.isf(sig_level, df1, df2))
    return float(stats.ncf.sf(q, df1, df2, lam))


@vp.validate_params(
    {
        "groups": [None, vp.Interval("real", 2)],
        "n": [None, vp.Interval("real", 2)],
        "between_var": [None, vp.Interval("real", 0, closed="neither")],
        "within_var": [None, vp.Interval("real", 0, closed="neither")],
        "sig_level": [None, vp.OPEN_PROBABILITY],
        "power": [None, vp.OPEN_PROBABILITY],
    }
)
def power_anova(
    *,
    groups: float | None = None,
    n: float | None = None,
    between_var: float | None = None,
    within_var: float | None = None,
    sig_level: float | None = 0.05,
    power: float | None = None,
) -> Result:
    """Power of the balanced one-way ANOVA F test, or the design quantity for a given power (R's ``power.anova.test``).

    Exactly one of ``groups``, ``n``, ``between_var``, ``within_var``, ``sig_level`` and ``power`` must be None.

    Parameters
    ----------
    groups : float, optional
        Number of groups (at least 2).
    n : float, optional
        Observations per group (at least 2).
    between_var : float, optional
        Variance of the group means (R's ``between.var``: ``var(means)``, with denominator groups - 1).
    within_var : float, optional
        Error variance within groups.
    sig_level, power : float, optional

    Returns
    -------
    Result
        ``estimate`` is the solved quantity; ``details`` holds all parameters and ``solved_for``.

    Notes
    -----
    Non-centrality :math:`\\lambda = (g-1)\\,n\\,\\sigma_b^2/\\sigma_w^2`; power :math:`P(F_{g-1,(n-1)g,\\lambda} > F_{1-\\alpha})`.
    R solves on fixed intervals (groups in [2, 100], n in [2, 1e5], variances within a factor 1e7 of each
    other) without extending them; so does this function. Validated against R's equation solved with
    ``uniroot(tol = 1e-12)`` at rtol 1e-8 (``tests/reference/power.R``).

    Examples
    --------
    >>> from causalinfer.stats import power_anova
    >>> r = power_anova(groups=4, between_var=1, within_var=3, power=0.80)
    >>> round(r.estimate, 3)
    11.926
    """
    vals: dict[str, Any] = {
        "groups": _opt_real(groups, "groups", low=2.0, open_low=False),
        "n": _opt_real(n, "n", low=2.0, open_low=False),
        "between_var": _opt_real(between_var, "between_var", low=0.0),
        "within_var": _opt_real(within_var, "within_var", low=0.0),
        "sig_level": _prob(sig_level, "sig_level"),
        "power": _prob(power, "power"),
    }
    target = _exactly_one_missing(vals)

    def pw(**over: float) -> float:
        v = {**vals, **over}
        return _anova_power(v["groups"], v["n"], v["between_var"], v["within_var"], v["sig_level"])

    if target == "power":
        vals["power"] = pw()
    elif target == "groups":
        vals["groups"] = _solve(lambda x: pw(groups=x) - vals["power"], 2.0, 100.0, "no", "groups")
    elif target == "n":
        vals["n"] = _solve(lambda x: pw(n=x) - vals["power"], 2.0, 1e5, "no", "n")
    elif target == "within_var":
        b = vals["between_var"]
        vals["within_var"] = _solve(lambda x: pw(within_var=x) - vals["power"], b * 1e-7, b * 1e7, "no", "within_var")
    elif target == "between_var":
        w = vals["within_var"]
        vals["between_var"] = _solve(lambda x: pw(between_var=x) - vals["power"], w * 1e-7, w * 1e7, "no", "between_var")
    else:
        vals["sig_level"] = _solve(lambda x: pw(sig_level=x) - vals["power"], 1e-10, 1 - 1e-10, "no", "sig_level")
    test = f"a {_pct(vals['sig_level'])}-level one-way ANOVA F test"
    design = (
        f"{vals['groups']:.4g} groups, between-group variance {vals['between_var']:.4g}, within-group variance {vals['within_var']:.4g}"
    )
    estimand = {
        "n": f"sample size per group needed for {_pct(vals['power'])} power with {test} ({design})",
        "power": f"power of {test} with n = {vals['n']:.4g} per group ({design})",
        "groups": f"number of groups for which {test} with n = {vals['n']:.4g} per group has {_pct(vals['power'])} power",
        "between_var": f"smallest between-group variance detectable with {_pct(vals['power'])} power by {test} with n = {vals['n']:.4g} per group",
        "within_var": f"largest within-group variance at which {test} with n = {vals['n']:.4g} per group has {_pct(vals['power'])} power",
        "sig_level": f"significance level at which a one-way ANOVA with n = {vals['n']:.4g} per group has {_pct(vals['power'])} power ({design})",
    }[target]
    details: dict[str, Any] = {**vals, "solved_for": target, "note": "n is the number in each group"}
    if target == "n":
        details["n_rounded_up"] = math.ceil(vals["n"] - 1e-9)
    return Result(
        method="Balanced one-way analysis of variance power calculation",
        estimand=estimand,
        estimate=vals[target],
        details=details,
        provenance=Provenance.current(),
    )
