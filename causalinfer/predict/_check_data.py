"""Data checks of a suite: schema, missing and out-of-range values, duplicates, constant columns, label leakage,
train/test overlap, unseen categories and drift."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ._check import CheckResult, Gate, Rule, census_result, combine_worst, gate_result, power_and_n, proportion_gate
from ._check_context import CheckContext
from ._errors import SchemaError

__all__ = ["DATA_CHECKS"]


def _share(k: int, n: int) -> float:
    return k / n if n else 0.0


def check_schema(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """Columns and dtypes of a table against the model's input contract (the sidecar schema)."""
    frame = ctx.frame(name, "schema")
    schema = ctx.training_schema()
    rule = "every model input column present with its training dtype"
    if schema is None:
        return census_result(
            label=f"schema ({name})",
            check="schema",
            data=name,
            rule=rule,
            ok=False,
            estimate=None,
            n=len(frame),
            message="no input contract to check against: save the model with save_model (sidecar schema) or pass the training data",
            method="Input contract check",
        )
    try:
        report = _conform_report(ctx, schema, name, frame)
    except SchemaError as exc:
        return census_result(
            label=f"schema ({name})",
            check="schema",
            data=name,
            rule=rule,
            ok=False,
            estimate=None,
            n=len(frame),
            message=str(exc),
            method="Input contract check",
        )
    notes = []
    if report.cast:
        notes.append(f"cast without loss: {report.cast}")
    if report.dropped:
        notes.append(f"columns not used by the model: {list(report.dropped)[:8]}")
    return census_result(
        label=f"schema ({name})",
        check="schema",
        data=name,
        rule=rule,
        ok=True,
        estimate=float(len(schema.names)),
        n=len(frame),
        message="; ".join(notes) or "all input columns present with their training dtypes",
        method="Input contract check",
    )


def _conform_report(ctx: CheckContext, schema: Any, name: str, frame: pd.DataFrame) -> Any:
    """The contract's report on a table; shared with scoring when the schema is the model's own."""
    if schema is ctx.schema and ctx.schema is not None:
        try:
            ctx.model_input(name, "schema")
        except DataError as exc:
            if isinstance(exc.__cause__, SchemaError):
                raise exc.__cause__ from None
            raise
        return ctx._cache[("report", name)]
    return schema.conform(frame, where=f"the {name} data")[1]


def _proportion_parts(counts: dict[str, tuple[int, int, float]], alpha: float) -> list[Gate]:
    parts = []
    for col, (k, n, limit) in counts.items():
        if n:
            g = proportion_gate(k, n, Rule("at_most", high=limit), alpha, label=col)
            g.power, g.n_needed = power_and_n(g.estimate, g.std_error, n, Rule("at_most", high=limit), alpha)
            parts.append(g)
    return parts


def _parts_result(
    ctx: CheckContext, parts: list[Gate], *, label: str, check: str, data: str, rule: Rule, method: str, what: str
) -> CheckResult:
    worst, p_pass, p_fail = combine_worst(parts)
    g = Gate(
        worst.estimate, worst.ci_low, worst.ci_high, p_pass, p_fail, worst.std_error, worst.n, worst.label, worst.power, worst.n_needed
    )
    msg = f"worst {what}: {worst.label!r} ({len(parts)} checked; passes only if every one passes, alarms Bonferroni-adjusted within the check)"
    return gate_result(g, label=label, check=check, data=data, rule=rule, alpha=ctx.alpha, method=method, message=msg, worst=worst.label)


def check_missing(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """Share of missing values per input column at most the training share plus ``tolerance``."""
    frame = ctx.frame(name, "missing_values")
    tol = float(spec.get("tolerance", 0.01))
    train = ctx.tables.get("train")
    cols = ctx.present_features(frame)
    miss = frame[cols].isna().sum()
    base = train[cols].isna().mean() if train is not None and name != "train" else pd.Series(0.0, index=cols)
    counts = {c: (int(miss[c]), len(frame), min(1.0, float(base.get(c, 0.0)) + tol)) for c in cols}
    rule = Rule("at_most", high=tol, what="missing share above the training share")
    parts = _proportion_parts(counts, ctx.alpha)
    res = _parts_result(
        ctx,
        parts,
        label=f"missing values ({name})",
        check="missing_values",
        data=name,
        rule=rule,
        method="Missing share per column (exact binomial bounds and tests)",
        what="column",
    )
    worst = res.details.get("worst")
    limit = counts[worst][2] if worst in counts else tol
    return res.replace(
        rule=f"missing share of every input column at most its training share + {tol:g} (worst {worst!r}: limit {limit:.4g})"
    )


def check_out_of_range(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """Share of values outside the training range [min, max], per numeric input column, at most ``tolerance``."""
    frame = ctx.frame(name, "out_of_range")
    train = ctx.frame("train", "out_of_range")
    tol = float(spec.get("tolerance", 0.01))
    counts = {}
    for c in ctx.present_features(frame):
        if c in train.columns and pd.api.types.is_numeric_dtype(train[c]) and pd.api.types.is_numeric_dtype(frame[c]):
            lo, hi = train[c].min(), train[c].max()
            v = frame[c].to_numpy(dtype=float, na_value=np.nan)
            counts[c] = (int(((v < lo) | (v > hi)).sum()), int((~np.isnan(v)).sum()), tol)
    rule = Rule("at_most", high=tol, what="share outside the training range")
    if not counts:
        return census_result(
            label=f"out of range ({name})",
            check="out_of_range",
            data=name,
            rule=rule.words(),
            ok=True,
            estimate=0.0,
            n=len(frame),
            message="no numeric input columns",
            method="Out-of-range share",
        )
    parts = _proportion_parts(counts, ctx.alpha)
    return _parts_result(
        ctx,
        parts,
        label=f"out of range ({name})",
        check="out_of_range",
        data=name,
        rule=rule,
        method="Share of values outside the training [min, max] per column (exact binomial bounds)",
        what="column",
    )


def check_duplicates(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """Duplicate rows (share at most ``max_share``) and duplicate keys (none) in one table."""
    frame = ctx.frame(name, "duplicates")
    key = spec.get("key")
    if key:
        keys = [key] if isinstance(key, str) else list(key)
        lacking = [k for k in keys if k not in frame.columns]
        if lacking:
            raise DataError(f"check 'duplicates': key column(s) {lacking} are not in the {name} data (columns: {list(frame.columns)[:12]})")
        dup = int(frame.duplicated(subset=keys).sum())
        return census_result(
            label=f"duplicate keys ({name})",
            check="duplicates",
            data=name,
            rule=f"key {keys} unique",
            ok=dup == 0,
            estimate=float(dup),
            n=len(frame),
            message=f"{dup} row(s) repeat a key value",
            method="Duplicate keys",
        )
    limit = float(spec.get("max_share", 0.01))
    dup = _duplicate_rows(ctx, name)
    share = _share(dup, len(frame))
    return census_result(
        label=f"duplicate rows ({name})",
        check="duplicates",
        data=name,
        rule=f"share of duplicate rows at most {limit:g}",
        ok=share <= limit,
        estimate=share,
        n=len(frame),
        message=f"{dup} of {len(frame)} rows repeat an earlier row",
        method="Duplicate rows",
    )


def _duplicate_rows(ctx: CheckContext, name: str) -> int:
    """Rows equal to an earlier row: candidates by 64-bit row hash, confirmed by comparing the values."""
    frame = ctx.frame(name, "duplicates")
    h = ctx.row_hashes(name, [str(c) for c in frame.columns])
    cand = pd.Series(h).duplicated(keep=False).to_numpy()
    return int(frame.iloc[np.flatnonzero(cand)].duplicated().sum()) if cand.any() else 0


def _is_constant(s: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        return bool(np.isnan(v).all() or np.nanmin(v) == np.nanmax(v))
    return s.nunique(dropna=True) <= 1


def check_constant(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """No input column takes a single value (or only missing values) in the table."""
    frame = ctx.frame(name, "constant_columns")
    cols = ctx.present_features(frame)
    const = [c for c in cols if _is_constant(frame[c])]
    return census_result(
        label=f"constant columns ({name})",
        check="constant_columns",
        data=name,
        rule="no constant input column",
        ok=not const,
        estimate=float(len(const)),
        n=len(frame),
        message=f"constant: {const[:10]}" if const else f"all {len(cols)} input columns vary",
        method="Constant columns",
    )


def check_overlap(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """Share of rows of a table whose input values also appear as a training row, at most ``max_share``."""
    frame = ctx.frame(name, "train_test_overlap")
    train = ctx.frame("train", "train_test_overlap")
    cols = [c for c in ctx.present_features(frame) if c in train.columns]
    limit = float(spec.get("max_share", 0.0))
    h_train = ctx.row_hashes("train", cols)
    h_cur = ctx.row_hashes(name, cols)
    k = int(np.isin(h_cur, h_train).sum())
    share = _share(k, len(frame))
    return census_result(
        label=f"train overlap ({name})",
        check="train_test_overlap",
        data=name,
        rule=f"share of rows also in the training data at most {limit:g}",
        ok=share <= limit,
        estimate=share,
        n=len(frame),
        message=f"{k} of {len(frame)} rows repeat a training row (input columns {len(cols)})",
        method="Row overlap with the training data (row hashes)",
    )


def check_unseen(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """Share of rows holding a category never seen in training (per categorical column), at most ``max_share``."""
    frame = ctx.frame(name, "unseen_categories")
    schema = ctx.training_schema()
    limit = float(spec.get("max_share", 0.0))
    found: dict[str, int] = {}
    for spec_c in () if schema is None else schema.columns:
        if spec_c.categories is None or spec_c.name not in frame.columns:
            continue
        s = frame[spec_c.name]
        known = pd.Index([str(c) for c in spec_c.categories])
        vals = s.dropna().astype(str)
        k = int((~vals.isin(known)).sum())
        if k:
            found[spec_c.name] = k
    worst = max(found.values(), default=0)
    share = _share(worst, len(frame))
    msg = f"unseen values in {found}" if found else "every category was seen in training"
    return census_result(
        label=f"unseen categories ({name})",
        check="unseen_categories",
        data=name,
        rule=f"share of rows with an unseen category at most {limit:g} in every column",
        ok=share <= limit,
        estimate=share,
        n=len(frame),
        message=msg,
        method="Categories never seen in training",
    )


def check_drift(ctx: CheckContext, spec: dict[str, Any], name: str) -> CheckResult:
    """Drift of a table against the training profile with the drift monitor's effect-size rule."""
    from ._drift import _DEFAULT_THRESHOLDS, _psi_null_q99

    frame = ctx.frame(name, "drift")
    metric = str(spec.get("metric", "psi"))
    thr = float(spec.get("threshold", _DEFAULT_THRESHOLDS.get(metric, 0.2)))
    prof = ctx.profile()
    res = prof.check(frame, metric=metric, threshold=thr)
    t = res.table
    eff = t["effect"].to_numpy(dtype=float)
    worst = str(t["feature"].iloc[int(np.nanargmax(eff))]) if np.isfinite(eff).any() else ""
    rule = f"{metric} at most {thr:g} in every column"
    base = dict(method=res.method, estimand=rule, n=res.n, label=f"drift ({name})", check="drift", rule=rule, data=name, census=True)
    est = float(np.nanmax(eff)) if np.isfinite(eff).any() else math.nan
    noisy = [d for d in res.diagnostics if d.name.startswith("sample size")]
    if res.drifted:
        status, msg = "fail", f"drifted: {list(res.alerts)[:8]} (largest {metric} {est:.3g} in {worst!r})"
    elif noisy and metric == "psi":
        n_ref = min(f.n_observed for f in prof)
        need = next((m for m in (2**k for k in range(4, 40)) if _psi_null_q99(prof.n_bins, n_ref, m) <= thr), None)
        status, msg = "inconclusive", f"too few rows: {noisy[0].message}"
        base["n_needed"] = need
    else:
        status, msg = "pass", f"no column drifted (largest {metric} {est:.3g} in {worst!r})"
    from ..results import Diagnostic

    diag = Diagnostic(f"drift ({name})", {"pass": "ok", "fail": "fail", "inconclusive": "warn"}[status], est, msg)
    return CheckResult(estimate=est, status=status, diagnostics=(diag,), details={"table": t, "worst": worst}, **base)


#: check name -> (function, tables it runs on by default)
DATA_CHECKS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "schema": (check_schema, ("test", "production")),
    "missing_values": (check_missing, ("test", "production")),
    "out_of_range": (check_out_of_range, ("test", "production")),
    "duplicates": (check_duplicates, ("train", "test")),
    "constant_columns": (check_constant, ("train",)),
    "train_test_overlap": (check_overlap, ("test",)),
    "unseen_categories": (check_unseen, ("test", "production")),
    "drift": (check_drift, ("test", "production")),
}
