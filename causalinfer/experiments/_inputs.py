"""Checking the inputs of an analysis and turning a frame into per-variant summaries."""

from __future__ import annotations

import dataclasses
import hashlib
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_column, check_int, show
from ..data import Dataset
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import TableResult
from . import _core
from ._metrics import Metric, _names
from ._metrics import mean as _mean_metric
from ._summary import Summaries

ROWS = "rows_per_unit__"


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
    # Quantile metrics read the rows directly, so infinite values are refused here too, not only in the summaries.
    bad = int((~np.isfinite(s.to_numpy(dtype=float, na_value=np.nan))).sum())
    if bad:
        raise DataError(f"`{arg}` column {col!r} has {bad} missing or infinite value(s); drop or impute them before the analysis")


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
    shares = [allocation[lv] for lv in levels]
    if any(isinstance(s, (bool, np.bool_)) or not isinstance(s, numbers.Real) for s in shares):
        raise ArgumentTypeError(f"`allocation` shares must be numbers; got {show(dict(allocation))}")
    w = np.array(shares, dtype=float)
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
    out[ROWS] = g.size()
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
    variables, products = _unit_variables(metric_list, value_cols, cov_cols, unit)
    units = _unit_frame(frame, variant, unit, value_cols, []) if unit is not None else frame
    s = Summaries.from_frame(units, variant=variant, variables=variables, products=products, levels=levels)
    return s, fp or summary_fingerprint(s, unit)


def _unit_variables(
    metric_list: list[Metric], value_cols: list[str], cov_cols: list[str], unit: str | None
) -> tuple[list[str], list[tuple[str, str]]]:
    """Variables to summarise per randomised unit and the cross-products the metrics need."""
    if unit is not None:
        variables = [*value_cols, ROWS]
    else:
        variables = [*value_cols, *[c for c in cov_cols if c not in value_cols]]
    products: set[tuple[str, str]] = set()
    for m in metric_list:
        if m.kind == "quantile":
            continue
        cols = list(m.columns) + list(m.covariates) + ([ROWS] if unit is not None and m.kind != "ratio" else [])
        products.update((u, v) for u in cols for v in cols)
    return variables, sorted(products)


def _boundary_at(design: TableResult, look: Any) -> tuple[int, float, float]:
    table = design.table
    if not {"look", "critical_z", "nominal_pvalue"} <= set(table.columns):
        raise ArgumentTypeError("`sequential` must be 'mixture' or a design from experiments.group_sequential(...)")
    if look is None:
        raise ArgumentError(f"`look` must say which of the design's {len(table)} looks this analysis is (look=1, 2, ...)")
    k = check_int(look, "look", minimum=1, maximum=len(table))
    row = table.iloc[k - 1]
    return k, float(row["critical_z"]), float(row["nominal_pvalue"])


def _fixed_arms(
    frame: pd.DataFrame, variant: str, levels: list[Any], metric_list: list[Metric], strata: str | None
) -> dict[tuple[str, Any], tuple[_core.Arm, _core.Arm, str]]:
    """Arms that need more than per-variant summaries: quantiles (the rows) and post-stratified means (per cell)."""
    out: dict[tuple[str, Any], tuple[_core.Arm, _core.Arm, str]] = {}
    labels = frame[variant].to_numpy()
    control, treatments = levels[0], levels[1:]
    for m in metric_list:
        if m.kind != "quantile":
            continue
        values = frame[m.columns[0]].to_numpy(dtype=float)
        q = float(m.level or 0.5)
        base = _core.quantile_arm(values[labels == control], q)
        for lv in treatments:
            out[(m.name, lv)] = (base, _core.quantile_arm(values[labels == lv], q), "")
    if strata is None:
        return out
    check_column(frame, strata, "strata")
    if frame[strata].isna().any():
        raise DataError(f"`strata` column {strata!r} has {int(frame[strata].isna().sum())} missing value(s); drop those rows first")
    vcodes = pd.Categorical(frame[variant], categories=levels).codes
    scodes, slabels = pd.factorize(frame[strata], sort=True)
    H = len(slabels)
    targets = [m for m in metric_list if m.kind in ("mean", "proportion") and not m.covariates]
    if not targets:
        return out
    cells = pd.DataFrame({"cell": vcodes.astype(np.int64) * H + scodes, **{m.columns[0]: frame[m.columns[0]] for m in targets}})
    s = Summaries.from_frame(
        cells, variant="cell", variables=sorted({m.columns[0] for m in targets}), products=[], levels=range(len(levels) * H)
    )
    out.update(_poststratified(s, list(slabels), levels, targets, strata))
    return out


def _poststratified(
    s: Summaries, slabels: list[Any], levels: list[Any], targets: list[Metric], strata: str
) -> dict[tuple[str, Any], tuple[_core.Arm, _core.Arm, str]]:
    """Post-stratified arms from summaries of the cells ``variant_index * H + stratum_index`` (one row per cell)."""
    out: dict[tuple[str, Any], tuple[_core.Arm, _core.Arm, str]] = {}
    H = len(slabels)
    for lv_index, lv in enumerate(levels[1:], start=1):
        rows = ([h for h in range(H)], [lv_index * H + h for h in range(H)])
        for k, arm_rows in enumerate(rows):
            empty = [slabels[h] for h, r in enumerate(arm_rows) if s.n[r] < 2]
            if empty:
                raise DataError(
                    f"`strata` {strata!r}: stratum(s) {show(list(empty))} have fewer than 2 units in variant "
                    f"{show(levels[0] if k == 0 else lv)}; merge small strata before post-stratifying"
                )
        for m in targets:
            a, b, _ = _core.poststratified_arms(s, rows, m.columns[0], proportion=m.kind == "proportion")
            out[(m.name, lv)] = (a, b, f"post-stratified on {strata!r} ({H} strata)")
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
