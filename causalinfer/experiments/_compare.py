"""One comparison of a treatment with the control on one metric, assembled into a Result."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .._validation import show
from ..exceptions import ArgumentError, DataError
from ..results import Diagnostic, EffectSize, Result
from . import _core
from ._inputs import ROWS
from ._metrics import Metric
from ._summary import Summaries


def _arms(s: Summaries, m: Metric, rows: tuple[int, int], unit: str | None) -> tuple[_core.Arm, _core.Arm, _core.Adjustment | None]:
    if m.kind == "quantile":
        raise ArgumentError(f"quantile metric {m.name!r} needs the rows of the data, not only per-variant summaries")
    if m.kind == "ratio":
        num, den = m.columns
        return _core.ratio_arm(s, rows[0], num, den), _core.ratio_arm(s, rows[1], num, den), None
    y = m.columns[0]
    if unit is not None:  # rows finer than units: the per-unit mean is a ratio of per-unit sums to row counts
        return _core.ratio_arm(s, rows[0], y, ROWS), _core.ratio_arm(s, rows[1], y, ROWS), None
    if m.covariates:
        return _core.adjusted_arms(s, rows, y, m.covariates, proportion=m.kind == "proportion")
    prop = m.kind == "proportion"
    return _core.mean_arm(s, rows[0], y, proportion=prop), _core.mean_arm(s, rows[1], y, proportion=prop), None


def _describe(m: Metric, scale: str, interval: str, adj: _core.Adjustment | None, unit: str | None) -> str:
    what = f"{m.level:g} quantile" if m.kind == "quantile" else m.kind
    parts = [f"Welch t-test of the {scale} lift in the {what}"]
    if scale == "relative":
        parts.append("Fieller interval" if interval == "fieller" else "delta method")
    if m.kind == "quantile":
        parts.append("standard error from the order-statistic band")
    if m.kind == "ratio" or unit is not None:
        parts.append(f"delta-method variance per {'unit ' + repr(unit) if unit else 'randomised unit'}")
    if adj is not None:
        k = len(adj.theta)
        parts.append("CUPED (1 pre-period covariate)" if k == 1 else f"regression adjustment ({k} covariates)")
    if m.role == "guardrail":
        parts.append(f"non-inferiority, margin {m.margin:g}")
    return "; ".join(parts)


def _compare(
    s: Summaries,
    m: Metric,
    control: Any,
    treatment: Any,
    *,
    unit: str | None,
    scale: str,
    interval: str,
    conf_level: float,
    alternative: str,
    srm: Diagnostic,
    sequential: str | None = None,
    tuning: float = 5000.0,
    boundary: tuple[int, float, float] | None = None,
    fixed_arms: dict[tuple[str, Any], tuple[_core.Arm, _core.Arm, str]] | None = None,
) -> Result:
    rows = (s.index(control), s.index(treatment))
    note = ""
    if fixed_arms is not None and (m.name, treatment) in fixed_arms:
        a, b, note = fixed_arms[(m.name, treatment)]
        adj = None
    else:
        a, b, adj = _arms(s, m, rows, unit)
    diagnostics = [srm]
    if a.unadjusted_mean == 0 or not math.isfinite(a.unadjusted_mean):
        raise DataError(
            f"metric {m.name!r}: the control mean is {show(a.unadjusted_mean)}, so the relative lift is undefined; "
            "use lift='absolute' or check the metric"
        )
    if a.n < 2 or b.n < 2:
        raise DataError(f"metric {m.name!r}: each variant needs at least 2 units; got {int(a.n)} and {int(b.n)}")
    if a.var <= 0 and b.var <= 0:
        diagnostics.append(
            Diagnostic(
                "zero variance",
                "fail",
                0.0,
                f"metric {m.name!r} does not vary within either arm, so its standard error is 0 and no test is possible "
                "(R's t.test refuses such data); check that the metric is recorded",
            )
        )
    # the scale tested for this metric, and its null and direction
    sided, null = alternative, 0.0
    if m.role == "guardrail":
        margin = float(m.margin or 0.0)
        sided = "greater" if m.higher_is_better else "less"
        null = -margin if m.higher_is_better else margin
    lifts = {}
    for sc in ("absolute", "relative"):
        tested = sc == scale
        kw = dict(relative=sc == "relative", conf_level=conf_level, alternative=sided if tested else alternative)
        kw["null_value"] = null if tested else 0.0
        if sequential == "mixture":
            lifts[sc] = _core.mixture_sequential(a, b, tuning=tuning, **kw)  # type: ignore[arg-type]
        else:
            lifts[sc] = _core.lift(a, b, **kw)  # type: ignore[arg-type]
            if boundary is not None:  # repeated confidence interval at this look
                r, c = lifts[sc], boundary[1]
                lo = r.estimate - c * r.std_error if kw["alternative"] != "less" else -math.inf
                hi = r.estimate + c * r.std_error if kw["alternative"] != "greater" else math.inf
                lifts[sc] = _core.Lift(r.estimate, r.std_error, r.df, r.statistic, r.pvalue, lo, hi)
    if interval == "fieller":
        lo, hi, bounded = _core.fieller_relative(a, b, conf_level=conf_level, alternative=sided if scale == "relative" else alternative)
        r = lifts["relative"]
        lifts["relative"] = _core.Lift(r.estimate, r.std_error, r.df, r.statistic, r.pvalue, lo, hi)
        diagnostics.append(
            Diagnostic(
                "Fieller interval",
                "ok" if bounded else "warn",
                None,
                "bounded"
                if bounded
                else "the control mean is not distinguishable from zero at this level, so Fieller's set for the relative lift is unbounded",
            )
        )
    if adj is not None:
        diagnostics.append(
            Diagnostic(
                "variance reduction",
                "ok",
                adj.variance_reduction,
                f"covariate adjustment with {', '.join(m.covariates)} (theta = {', '.join(f'{t:.4g}' for t in adj.theta)}) "
                f"reduced the variance of the difference by {100 * adj.variance_reduction:.1f}%",
            )
        )
    if m.kind == "ratio":
        den = m.columns[1]
        diagnostics.append(
            Diagnostic("ratio denominator", "ok", None, f"the delta method uses every randomised unit, including those with {den} = 0")
        )
    main = lifts[scale]
    names = {"control": control, "treatment": treatment}
    arms = pd.DataFrame(
        {
            "variant": [str(names["control"]), str(names["treatment"])],
            "n": [a.n, b.n],
            "mean": [a.mean, b.mean],
            "unadjusted_mean": [a.unadjusted_mean, b.unadjusted_mean],
            "variance": [a.var, b.var],
        }
    )
    lift_table = pd.DataFrame(
        {
            "scale": list(lifts),
            "estimate": [v.estimate for v in lifts.values()],
            "std_error": [v.std_error for v in lifts.values()],
            "ci_low": [v.ci_low for v in lifts.values()],
            "ci_high": [v.ci_high for v in lifts.values()],
            "statistic": [v.statistic for v in lifts.values()],
            "df": [v.df for v in lifts.values()],
            "pvalue": [v.pvalue for v in lifts.values()],
        }
    )
    sizes = tuple(
        EffectSize(
            f"{sc} lift",
            v.estimate,
            v.ci_low,
            v.ci_high,
            conf_level,
            "Fieller" if sc == "relative" and interval == "fieller" else "Welch t",
        )
        for sc, v in lifts.items()
    )
    what = "difference" if scale == "absolute" else "relative difference (treatment / control - 1)"
    estimand = f"{what} in the {m.kind} of {m.name}, {treatment} vs {control}"
    if m.role == "guardrail":
        estimand += f"; non-inferiority of the {m.role} with margin {m.margin:g} ({'higher' if m.higher_is_better else 'lower'} is better)"
    details: dict[str, Any] = {
        "metric": m.name,
        "kind": m.kind,
        "role": m.role,
        "variant": str(treatment),
        "control": str(control),
        "arms": arms,
        "lifts": lift_table,
    }
    if boundary is not None:
        k, c, p_k = boundary
        z = lifts[scale].statistic
        crossed = abs(z) >= c if sided == "two-sided" else (z >= c if sided == "greater" else z <= -c)
        details["sequential"] = {
            "method": "group-sequential",
            "look": k,
            "critical_z": c,
            "nominal_threshold": p_k,
            "crossed": bool(crossed),
        }
        diagnostics.append(
            Diagnostic(
                "group-sequential boundary",
                "ok",
                float(z),
                f"look {k}: |statistic| {abs(z):.4g} {'>=' if crossed else '<'} critical value {c:.4g}; "
                + ("the boundary is crossed, the test rejects at this look" if crossed else "not crossed; continue to the next look"),
            )
        )
    if sequential == "mixture":
        details["sequential"] = {"method": "mixture SPRT confidence sequence", "tuning": tuning, "look_n": int(a.n + b.n)}
    if adj is not None:
        details["theta"] = list(adj.theta)
        details["variance_reduction"] = adj.variance_reduction
    method = _describe(m, scale, interval, adj, unit) + (f"; {note}" if note else "")
    if boundary is not None:
        method += f"; group-sequential look {boundary[0]}, repeated confidence interval with critical value {boundary[1]:.4g}"
    if sequential == "mixture":
        method = method.replace("Welch t-test", "Always-valid test (mixture SPRT confidence sequence, tuning " + f"{tuning:g})", 1)
        method += f"; look at {int(a.n + b.n)} units"
    return Result(
        method=method,
        estimand=estimand,
        estimate=main.estimate,
        std_error=main.std_error,
        ci_low=main.ci_low,
        ci_high=main.ci_high,
        conf_level=conf_level,
        statistic=main.statistic,
        statistic_name="z" if sequential else "t",
        df=None if sequential else main.df,
        pvalue=main.pvalue,
        alternative=sided,
        null_value=null,
        n=int(a.n + b.n),
        effect_sizes=sizes,
        diagnostics=tuple(diagnostics),
        details=details,
        label=f"{m.name}: {treatment}",
    )
