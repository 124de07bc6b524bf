"""``analyze``: the pandas-facing layer that checks inputs, builds the summaries and assembles the results."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_alternative, check_choice, check_column, check_conf_level, check_int, check_probability, check_real, show
from ..data import Dataset
from ..exceptions import ArgumentError, ArgumentTypeError, AssumptionWarning, DataError
from ..results import Diagnostic, EffectSize, Provenance, Result, ResultSet, TableResult
from . import _core
from ._metrics import Metric, _names
from ._metrics import mean as _mean_metric
from ._summary import Summaries

__all__ = ["analyze", "srm_test"]

_ROWS = "rows_per_unit__"
_ADJUST_FAMILIES = ("primary", "secondary", "guardrail")


@dataclass(frozen=True)
class _Design:
    frame: pd.DataFrame
    variant: str
    control: Any
    levels: list[Any]
    fingerprint: str | None


# ---------------------------------------------------------------------------------------------- inputs
def _frame_of(data: Any) -> tuple[pd.DataFrame, str | None]:
    if isinstance(data, Dataset):
        return data.frame, data.fingerprint(roles=False)
    if isinstance(data, pd.DataFrame):
        if not data.columns.is_unique:
            dupes = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
            raise DataError(f"`data` has duplicate column names {dupes}; rename them so each column is unique")
        if len(data) == 0:
            raise DataError("`data` has no rows")
        return data, None
    raise ArgumentTypeError(f"`data` must be a causalinfer Dataset or a pandas DataFrame; got {type(data).__name__}")


def _fingerprint(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    h = hashlib.sha256(f"rows={len(frame)}".encode())
    for col in sorted(set(columns)):
        s = frame[col]
        h.update(b"\x00col\x00" + str(col).encode() + b"\x00" + str(s.dtype).encode())
        h.update(pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _found_levels(frame: pd.DataFrame, variant: str) -> list[Any]:
    check_column(frame, variant, "variant")
    col = frame[variant]
    if col.isna().any():
        raise DataError(f"`variant` column {variant!r} has {int(col.isna().sum())} missing value(s); drop those rows first")
    return list(pd.unique(col))


def _levels(found: list[Any], variant: str, control: Any, variants: Sequence[Any] | None) -> list[Any]:
    if len(found) < 2:
        raise DataError(
            f"`variant` column {variant!r} has only one level {show(found)}; an experiment needs a control and at least one treatment"
        )
    if control not in found:
        raise ArgumentError(
            f"`control` {show(control)} is not a level of `variant` column {variant!r} (levels: {show(found)}); "
            "pass control= the label of the control group"
        )
    treatments = [lv for lv in found if lv != control]
    if variants is not None:
        order = list(variants)
        unknown = [lv for lv in order if lv not in treatments]
        missing = [lv for lv in treatments if lv not in order]
        if unknown or missing or len(set(order)) != len(order):
            raise ArgumentError(
                f"`variants` must list each treatment level once (treatments present: {show(treatments)}); got {show(variants)}"
            )
        treatments = order
    else:
        try:
            treatments = sorted(treatments)
        except TypeError:
            raise ArgumentError(
                f"the treatment levels {show(treatments)} cannot be sorted; pass variants=[...] to give their order"
            ) from None
    return [control, *treatments]


def _metric_list(metrics: Any, covariates: Any) -> list[Metric]:
    if isinstance(metrics, (str, Metric)):
        metrics = [metrics]
    if not isinstance(metrics, Sequence) or not metrics:
        raise ArgumentTypeError(f"`metrics` must be a non-empty list of column names or Metric objects; got {show(metrics)}")
    if covariates is not None and not isinstance(covariates, (str, Sequence, Mapping)):
        raise ArgumentTypeError(
            f"`covariates` must be a column name, a list of them, or a mapping metric -> columns; got {show(covariates)}"
        )
    out: list[Metric] = []
    for m in metrics:
        if isinstance(m, str):
            m = _mean_metric(m)
        if not isinstance(m, Metric):
            raise ArgumentTypeError(
                f"`metrics` items must be column names or Metric objects (experiments.mean/proportion/ratio/quantile); got {show(m)}"
            )
        if covariates is not None and not m.covariates and m.kind in ("mean", "proportion"):
            extra = covariates.get(m.name) if isinstance(covariates, Mapping) else covariates
            if extra is not None:
                m = dataclasses.replace(m, covariates=_names(extra, "covariates"))
        out.append(m)
    names = [m.name for m in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ArgumentError(f"`metrics` names {dupes} more than once; give each metric a distinct name (name=...)")
    if isinstance(covariates, Mapping):
        unknown = [k for k in covariates if k not in names]
        if unknown:
            raise ArgumentError(f"`covariates` names metric(s) {unknown} that are not in `metrics` ({names})")
    return out


def _check_numeric(frame: pd.DataFrame, col: str, arg: str) -> None:
    check_column(frame, col, arg)
    s = frame[col]
    if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
        raise DataError(f"`{arg}` column {col!r} must be numeric; it has dtype {s.dtype}")
    bad = int(s.isna().sum())  # infinite values are caught, with the column named, when the summaries are built
    if bad:
        raise DataError(f"`{arg}` column {col!r} has {bad} missing value(s); drop or impute them before the analysis")


def _allocation(allocation: Any, levels: list[Any]) -> np.ndarray:
    if allocation is None:
        return np.ones(len(levels))
    if not isinstance(allocation, Mapping):
        raise ArgumentTypeError(
            f"`allocation` must be a mapping variant -> planned share, e.g. {{'control': 0.5, 'b': 0.5}}; got {show(allocation)}"
        )
    missing = [lv for lv in levels if lv not in allocation]
    unknown = [k for k in allocation if k not in levels]
    if missing or unknown:
        raise ArgumentError(
            f"`allocation` must give a share for each variant {show(levels)} and nothing else; got {show(dict(allocation))}"
        )
    w = np.array([float(allocation[lv]) for lv in levels])
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ArgumentError(f"`allocation` shares must be positive numbers; got {show(dict(allocation))}")
    return w


def _unit_frame(frame: pd.DataFrame, variant: str, unit: str, sums: list[str], averages: list[str]) -> pd.DataFrame:
    """Rows aggregated to randomisation units: metric columns summed, covariates averaged, rows counted."""
    check_column(frame, unit, "unit")
    if frame[unit].isna().any():
        raise DataError(f"`unit` column {unit!r} has {int(frame[unit].isna().sum())} missing value(s); drop those rows first")
    g = frame.groupby(unit, sort=False, observed=True)
    per_unit_variants = g[variant].nunique()
    mixed = int((per_unit_variants > 1).sum())
    if mixed:
        raise DataError(
            f"{mixed} unit(s) of `unit` column {unit!r} appear in more than one variant; each randomisation unit must "
            "belong to exactly one variant (remove the contaminated units or check the assignment)"
        )
    out = g[sums].sum() if sums else pd.DataFrame(index=g.size().index)
    for c in averages:
        out[c] = g[c].mean()
    out[_ROWS] = g.size()
    out[variant] = g[variant].first()
    return out.reset_index(drop=True)


def _summaries(
    frame: pd.DataFrame, variant: str, levels: list[Any], metric_list: list[Metric], unit: str | None, fp: str | None
) -> tuple[Summaries, str]:
    """Check the columns the metrics use and summarise them per variant (per unit first when ``unit`` is set)."""
    value_cols: list[str] = []
    cov_cols: list[str] = []
    for m in metric_list:
        for i, c in enumerate(m.columns):
            _check_numeric(frame, c, "metrics" if m.kind != "ratio" else ("numerator", "denominator")[i])
            if m.kind == "proportion":
                vals = frame[c].to_numpy(dtype=float)
                off = int(np.count_nonzero((vals != 0) & (vals != 1)))
                if off:
                    raise DataError(
                        f"proportion metric {m.name!r}: column {c!r} has {off} value(s) other than 0 and 1; "
                        "use experiments.mean for a non-binary metric"
                    )
            if m.kind == "quantile":
                if unit is not None:
                    raise ArgumentError(
                        f"quantile metric {m.name!r} with `unit` (rows finer than units) is not supported; drop `unit` or the metric"
                    )
                continue
            if c not in value_cols:
                value_cols.append(c)
        for c in m.covariates:
            _check_numeric(frame, c, "covariates")
            if c not in cov_cols:
                cov_cols.append(c)
    if unit is not None and cov_cols:
        raise ArgumentError("`covariates` with `unit` (rows finer than units) are not supported yet; aggregate to one row per unit first")
    if unit is not None:
        units = _unit_frame(frame, variant, unit, value_cols, [])
        variables = [*value_cols, _ROWS]
    else:
        units = frame
        variables = [*value_cols, *[c for c in cov_cols if c not in value_cols]]
    products: set[tuple[str, str]] = set()
    for m in metric_list:
        if m.kind == "quantile":
            continue
        cols = list(m.columns) + list(m.covariates) + ([_ROWS] if unit is not None and m.kind != "ratio" else [])
        products.update((u, v) for u in cols for v in cols)
    s = Summaries.from_frame(units, variant=variant, variables=variables, products=sorted(products), levels=levels)
    return s, fp or summary_fingerprint(s, unit)


def _boundary_at(design: TableResult, look: Any) -> tuple[int, float, float]:
    table = design.table
    if not {"look", "critical_z", "nominal_pvalue"} <= set(table.columns):
        raise ArgumentTypeError("`sequential` must be 'mixture' or a design from experiments.group_sequential(...)")
    if look is None:
        raise ArgumentError(f"`look` must say which of the design's {len(table)} looks this analysis is (look=1, 2, ...)")
    k = check_int(look, "look", minimum=1, maximum=len(table))
    row = table.iloc[k - 1]
    return k, float(row["critical_z"]), float(row["nominal_pvalue"])


def _quantile_arms(frame: pd.DataFrame, variant: str, levels: list[Any], metric_list: list[Metric]) -> dict[tuple[str, Any], _core.Arm]:
    out: dict[tuple[str, Any], _core.Arm] = {}
    labels = frame[variant].to_numpy()
    for m in metric_list:
        if m.kind != "quantile":
            continue
        values = frame[m.columns[0]].to_numpy(dtype=float)
        for lv in levels:
            out[(m.name, lv)] = _core.quantile_arm(values[labels == lv], float(m.level or 0.5))
    return out


def summary_fingerprint(s: Summaries, unit: str | None) -> str:
    """SHA-256 of the sufficient statistics the analysis used (variants, variables, counts, sums, products).

    Hashing the summaries instead of every row costs nothing at any scale and is what an engine-side analysis can
    reproduce; it identifies the analysed data up to row order, which the analysis does not depend on.
    """
    h = hashlib.sha256(f"summaries;unit={unit}".encode())
    h.update(repr([str(v) for v in s.variants]).encode() + repr(list(s.variables)).encode())
    for arr in (s.n, s.sums + s.n[:, None] * s.shift, s.shift, s.products):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------- SRM
def _srm_result(s: Summaries, levels: list[Any], weights: np.ndarray, threshold: float, unit_word: str) -> tuple[Result, Diagnostic]:
    counts = np.array([s.n[s.index(lv)] for lv in levels])
    x2, df, p = _core.srm_chisq(counts, weights)
    share = weights / weights.sum()
    failed = p < threshold
    planned = ", ".join(f"{lv}: {sh:.4g}" for lv, sh in zip(levels, share, strict=True))
    if failed:
        message = (
            f"sample ratio mismatch: the {unit_word} counts {show([int(c) for c in counts])} are unlikely under the planned split "
            f"({planned}); p = {p:.3g} < {threshold:g}. Assignment or logging is broken, so every comparison may be biased; "
            "find the cause before reading the lifts (pass allocation= if the planned split was not equal)"
        )
    else:
        message = f"{unit_word} counts agree with the planned split ({planned}); p = {p:.3g} >= {threshold:g}"
    diag = Diagnostic("sample ratio mismatch", "fail" if failed else "ok", float(p), message)
    table = pd.DataFrame(
        {
            "variant": [str(lv) for lv in levels],
            "observed": counts,
            "expected": share * counts.sum(),
            "planned_share": share,
        }
    )
    result = Result(
        method="Sample ratio mismatch: Pearson chi-square test of the observed split against the planned one",
        estimand=f"whether {unit_word}s were assigned in the planned proportions ({planned})",
        statistic=x2,
        statistic_name="X-squared",
        df=df,
        pvalue=p,
        n=int(counts.sum()),
        diagnostics=(diag,),
        details={"counts": table, "threshold": threshold},
        label="sample ratio mismatch",
    )
    return result, diag


def srm_test(
    data: Any, *, variant: str = "variant", allocation: Mapping[Any, float] | None = None, unit: str | None = None, threshold: float = 0.001
) -> Result:
    """Sample-ratio-mismatch check: a chi-square test of the units per variant against the planned split.

    Parameters
    ----------
    data : DataFrame or Dataset
    variant : str
        Column with the variant of each row.
    allocation : mapping, optional
        Planned share (or weight) of each variant; equal shares by default.
    unit : str, optional
        Randomisation unit column when rows are finer than units (sessions of users): units are counted.
    threshold : float
        The check fails when the p-value is below it (default 0.001, as is usual for SRM alarms).

    Returns
    -------
    Result
        ``statistic`` (X-squared), ``df``, ``pvalue``, a ``"sample ratio mismatch"`` diagnostic (ok / fail) and the
        observed and expected counts in ``details["counts"]``. Same as R's ``chisq.test(counts, p = shares)``.
    """
    frame, fp = _frame_of(data)
    threshold = check_probability(threshold, "threshold", open_interval=True)
    check_column(frame, variant, "variant")
    found = list(pd.unique(frame[variant].dropna()))
    if len(found) < 2:
        raise DataError(f"`variant` column {variant!r} has only one level {show(found)}; nothing to compare")
    levels = list(allocation) if isinstance(allocation, Mapping) else sorted(found, key=str)
    weights = _allocation(allocation, levels)
    missing = [lv for lv in found if lv not in levels]
    if missing:
        raise ArgumentError(f"`allocation` has no share for variant(s) {show(missing)} present in column {variant!r}")
    units = _unit_frame(frame, variant, unit, [], []) if unit is not None else frame
    s = Summaries.from_frame(units, variant=variant, variables=[], levels=levels)
    result, diag = _srm_result(s, levels, weights, threshold, "unit" if unit else "row")
    if diag.status == "fail":
        warnings.warn(diag.message, AssumptionWarning, stacklevel=2)
    prov = Provenance.current(data_fingerprint=fp or _fingerprint(frame, [variant] + ([unit] if unit else [])))
    return result.replace(provenance=prov)


# ---------------------------------------------------------------------------------------------- one comparison
def _arms(s: Summaries, m: Metric, rows: tuple[int, int], unit: str | None) -> tuple[_core.Arm, _core.Arm, _core.Adjustment | None]:
    if m.kind == "quantile":
        raise ArgumentError(f"quantile metric {m.name!r} needs the rows of the data, not only per-variant summaries")
    if m.kind == "ratio":
        num, den = m.columns
        return _core.ratio_arm(s, rows[0], num, den), _core.ratio_arm(s, rows[1], num, den), None
    y = m.columns[0]
    if unit is not None:  # rows finer than units: the per-unit mean is a ratio of per-unit sums to row counts
        return _core.ratio_arm(s, rows[0], y, _ROWS), _core.ratio_arm(s, rows[1], y, _ROWS), None
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
    quantile_arms: dict[tuple[str, Any], _core.Arm] | None = None,
) -> Result:
    rows = (s.index(control), s.index(treatment))
    if m.kind == "quantile" and quantile_arms is not None:
        a, b, adj = quantile_arms[(m.name, control)], quantile_arms[(m.name, treatment)], None
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
    estimand = f"{what} in {m.kind} of {m.name}: {treatment} vs {control}"
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
    method = _describe(m, scale, interval, adj, unit)
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


# ---------------------------------------------------------------------------------------------- public entry point
def analyze(
    data: Any,
    *,
    variant: str = "variant",
    control: Any = "control",
    metrics: Any,
    variants: Sequence[Any] | None = None,
    unit: str | None = None,
    covariates: str | Sequence[str] | Mapping[str, Any] | None = None,
    allocation: Mapping[Any, float] | None = None,
    lift: str = "relative",
    relative_interval: str = "delta",
    conf_level: float = 0.95,
    alternative: str = "two-sided",
    adjust: str = "holm",
    srm_threshold: float = 0.001,
    sequential: str | TableResult | None = None,
    sequential_tuning: float = 5000.0,
    look: int | None = None,
) -> ResultSet:
    """Analyse an online controlled experiment: every metric in every treatment against the control.

    Parameters
    ----------
    data : DataFrame, Dataset or Summaries
        One row per randomised unit, or finer rows (sessions) with the unit named by ``unit``; or the per-variant
        :class:`Summaries` of unit-level columns (for instance aggregated inside a database), which give the same
        numbers.
    variant : str
        Column holding each row's variant.
    control : label
        The control variant's label in ``variant``; it is never guessed.
    metrics : list
        Column names (the mean of the column per unit) or :func:`mean`, :func:`proportion` and :func:`ratio`
        specifications, each with its role (primary, secondary, guardrail with a non-inferiority margin).
    variants : sequence, optional
        Order of the treatment levels in the results (default: sorted).
    unit : str, optional
        Randomisation unit when rows are finer than units: rows are summed per unit, a mean metric becomes the
        ratio of its per-unit sum to the per-unit row count, and every variance is computed over units (so it is
        cluster-robust for the rows). Each unit must belong to one variant.
    covariates : str, list or mapping, optional
        Pre-period covariate(s) for CUPED (one) or regression adjustment (several), applied to every mean and
        proportion metric without its own, or per metric name with a mapping.
    allocation : mapping, optional
        Planned share of each variant for the sample-ratio check (equal shares by default).
    lift : {"relative", "absolute"}
        Scale of the reported estimate; the other scale is in each result's ``effect_sizes`` and
        ``details["lifts"]`` with its own interval and p-value.
    relative_interval : {"delta", "fieller"}
        Interval of the relative lift: delta method (default) or Fieller's (not with covariate adjustment).
    conf_level : float
    alternative : {"two-sided", "less", "greater"}
        For primary and secondary metrics; guardrails are one-sided non-inferiority tests.
    adjust : str
        Multiplicity adjustment (``stats.adjust_pvalues`` methods, e.g. "holm", "BH", "none") applied within each
        role: the primary results form one family, the secondary another, the guardrails a third.
    srm_threshold : float
        The sample-ratio check fails below this p-value (default 0.001).
    sequential : {None, "mixture"}
        ``"mixture"`` replaces the fixed-sample t inference by always-valid inference (a normal-mixture SPRT
        confidence sequence and its p-value, as GrowthBook's sequential engine): the results may be looked at after
        every new unit without inflating the false-positive rate. Each result says so and records the look.
        A design from :func:`group_sequential` instead makes this the analysis at planned look ``look``: each
        interval is the repeated confidence interval ``estimate -/+ c_look * se`` and the result records whether the
        statistic crossed the boundary ``c_look`` (the p-value shown is the nominal one; compare it with the
        look's ``nominal_pvalue``).
    sequential_tuning : float
        Number of units around which the confidence sequence is tightest (default 5000, as GrowthBook).
    look : int, optional
        Which look of a group-sequential design this analysis is (1-based); required with such a design.

    Returns
    -------
    ResultSet
        First the sample-ratio-mismatch check, then one result per metric and treatment labelled
        ``"metric: variant"``. When the check fails, every result carries a failing ``"sample ratio mismatch"``
        diagnostic, the title says so and an :class:`~causalinfer.AssumptionWarning` is issued.

    Notes
    -----
    Each arm's mean has variance ``var / n`` with the sample variance per unit (``p (1 - p)`` for a proportion;
    the delta-method variance of ``sum(num) / sum(den)`` for a ratio). The absolute lift ``b - a`` has variance
    ``var_a / n_a + var_b / n_b`` and Welch-Satterthwaite degrees of freedom; the relative lift ``(b - a) / a`` has
    the delta-method variance ``var_b / (a^2 n_b) + var_a b^2 / (a^4 n_a)``; intervals and p-values use the t
    distribution with the Welch degrees of freedom. With covariates, ``theta`` regresses the metric on them over
    the control and the treatment pooled (Deng et al. 2013), the adjusted difference is the raw one minus
    ``theta'`` times the difference of covariate means, and the relative lift divides it by the control's
    unadjusted mean. These are GrowthBook's frequentist definitions; the values are checked against gbstats 0.8
    to 1e-9 relative, and the plain Welch test against R's ``t.test``.

    References
    ----------
    Deng, Xu, Kohavi & Walker (2013) Improving the sensitivity of online controlled experiments by utilizing
    pre-experiment data. WSDM. Kohavi, Tang & Xu (2020) Trustworthy Online Controlled Experiments, ch. 21 (SRM).
    Fieller (1954) JRSS-B 16:175-185.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from causalinfer import experiments
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"variant": rng.choice(["control", "b"], 2000), "revenue": rng.gamma(2.0, 5.0, 2000)})
    >>> res = experiments.analyze(df, control="control", metrics=["revenue"])
    >>> res.labels
    ('sample ratio mismatch', 'revenue: b')
    """
    metric_list = _metric_list(metrics, covariates)
    scale = check_choice(lift, "lift", ("relative", "absolute"))
    interval = check_choice(relative_interval, "relative_interval", ("delta", "fieller"))
    conf_level = check_conf_level(conf_level)
    alternative = check_alternative(alternative)
    srm_threshold = check_probability(srm_threshold, "srm_threshold", open_interval=True)
    from ..stats import adjust_pvalues
    from ..stats._multiple import _method_name

    adjust_name = _method_name(adjust)
    boundary: tuple[int, float, float] | None = None
    if isinstance(sequential, TableResult):
        boundary = _boundary_at(sequential, look)
        sequential = "group"
    elif look is not None:
        raise ArgumentError("`look` goes with a group-sequential design: pass sequential=experiments.group_sequential(...)")
    if sequential is not None:
        if sequential != "group":
            check_choice(sequential, "sequential", ("mixture",))
        if interval == "fieller":
            raise ArgumentError("`relative_interval` 'fieller' is a fixed-sample interval; use 'delta' with `sequential`")
    tuning = check_real(sequential_tuning, "sequential_tuning")
    if tuning <= 0:
        raise ArgumentError(f"`sequential_tuning` must be a positive number of units; got {show(sequential_tuning)}")
    if interval == "fieller" and any(m.covariates for m in metric_list):
        raise ArgumentError("`relative_interval` 'fieller' is not available with covariate adjustment; use 'delta' or drop `covariates`")
    if isinstance(data, Summaries):
        if unit is not None:
            raise ArgumentError("`unit` applies to rows of a frame; summaries are already per randomised unit, so drop `unit`")
        levels = _levels(list(data.variants), "variant", control, variants)
        s = data
        for m in metric_list:
            for c in (*m.columns, *m.covariates):
                if c not in s.variables:
                    raise ArgumentError(
                        f"metric {m.name!r} needs variable {c!r}, which the summaries lack (variables: {list(s.variables)})"
                    )
        fp = summary_fingerprint(s, None)
        qarms = None
    else:
        frame, fp = _frame_of(data)
        if not isinstance(variant, str):
            raise ArgumentTypeError(f"`variant` must be a column name (a string); got {show(variant)}")
        levels = _levels(_found_levels(frame, variant), variant, control, variants)
        s, fp = _summaries(frame, variant, levels, metric_list, unit, fp)
        qarms = _quantile_arms(frame, variant, levels, metric_list)
    for m in metric_list:
        if m.kind == "ratio":
            den = m.columns[1]
            j = s.variables.index(den)
            totals = s.sums[:, j] + s.n * s.shift[j]
            roundoff = 1e-9 * (np.abs(s.sums[:, j]) + s.n * abs(s.shift[j]))
            totals = np.where(np.abs(totals) <= roundoff, 0.0, totals)  # a centred sum of zeros is zero up to rounding
            for lv, t in zip(s.variants, totals, strict=True):
                if not t > 0:
                    raise DataError(
                        f"ratio metric {m.name!r}: the denominator {den!r} sums to {show(float(t))} in variant {show(lv)}; "
                        "it must be positive in every variant"
                    )
    weights = _allocation(allocation, levels)
    srm_result, srm = _srm_result(s, levels, weights, srm_threshold, "unit")
    results: list[Result] = [srm_result]
    for m in metric_list:
        for treatment in levels[1:]:
            results.append(
                _compare(
                    s,
                    m,
                    control,
                    treatment,
                    unit=unit,
                    scale=scale,
                    interval=interval,
                    conf_level=conf_level,
                    alternative=alternative,
                    srm=srm,
                    sequential=sequential,
                    tuning=tuning,
                    boundary=boundary,
                    quantile_arms=qarms,
                )
            )
    prov = Provenance.current(data_fingerprint=fp)
    results = [r.replace(provenance=prov) for r in results]
    padj = np.full(len(results), np.nan)
    roles = [None] + [r.details["role"] for r in results[1:]]
    for family in _ADJUST_FAMILIES:
        idx = [i for i, role in enumerate(roles) if role == family]
        if idx:
            padj[idx] = adjust_pvalues(np.array([results[i].pvalue for i in idx]), method=adjust_name)
    title = f"Experiment: {len(levels) - 1} treatment(s) vs control {control!r}, {len(metric_list)} metric(s)"
    if srm.status == "fail":
        title = "SAMPLE RATIO MISMATCH - " + title
        warnings.warn(srm.message, AssumptionWarning, stacklevel=2)
    return ResultSet(
        results,
        labels=[r.label or r.method for r in results],
        title=title,
        pvalues_adjusted=padj,
        adjust_method=f"{adjust_name} within role",
    )
