"""Experiments on a dask DataFrame: per-variant summaries computed where each partition lives, merged as a tree.

Each partition is summarised on its worker into a :class:`Summaries` (counts, sums and cross-products per variant,
centred on the partition's own means) together with the counts the checks need (missing and infinite values per
column, proportion values other than 0 and 1, missing variant, unit and stratum labels). Only those small objects
travel: pairs of them are merged (:meth:`Summaries.merge` re-centres one on the other's shift, which is exact
algebra), level by level, and the single result comes back. The numbers equal the in-memory analysis of the same
rows to rounding (about 1e-12 relative), whatever the partitioning, empty partitions and partitions missing a
variant included.

The designs that need more than per-variant sums:

- ``unit`` (rows finer than the randomised unit): the rows are summed per unit by dask's own ``groupby().agg``,
  which sums each partition's rows per unit and then adds those partial sums by unit (a tree reduction), so a unit
  whose rows sit in several partitions is summed whole. A unit seen in two variants is detected from the smallest
  and largest 64-bit hash of its variant labels. The unit-level rows are then summarised as above.
- ``strata``: each partition is summarised per (variant, stratum) cell, and the cells are merged by label in the
  same tree, giving the counts, sums and squares of every cell, from which the post-stratified arms follow.
- quantile metrics: the interval needs six order statistics per variant (:func:`._core.quantile_arm_from`). They
  are found exactly in two passes without moving the rows: the first pass keeps, per partition and variant, the
  sorted values at about 1,024 evenly spaced ranks, which bound how many values lie below any threshold and so give
  each wanted rank a bracket that surely holds it; the second pass counts the values below each bracket and returns
  only those inside it. The values are those ``np.sort`` gives, so the quantiles and intervals equal the in-memory
  ones to the last bit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._optional import import_optional
from .._validation import check_column, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from . import _core
from ._inputs import ROWS, _check_numeric, _levels, _poststratified, _unit_variables
from ._metrics import Metric
from ._summary import Summaries

__all__: list[str] = []

_HASH_MIN, _HASH_MAX = "variant_hash_min__", "variant_hash_max__"


def is_dask_frame(data: Any) -> bool:
    """Whether ``data`` is a dask DataFrame (checked by type, so dask is imported only when one is passed)."""
    mod = type(data).__module__.split(".")[0]
    return mod in ("dask", "dask_expr") and hasattr(data, "to_delayed") and hasattr(data, "npartitions")


class _Plan:
    """What the analysis reads: the summarised variables and products, the checked columns, the special metrics."""

    def __init__(self, meta: pd.DataFrame, variant: str, metric_list: list[Metric], unit: str | None, strata: str | None) -> None:
        check_column(meta, variant, "variant")
        for arg, col in (("unit", unit), ("strata", strata)):
            if col is not None:
                if not isinstance(col, str):
                    raise ArgumentTypeError(f"`{arg}` must be a column name (a string); got {show(col)}")
                check_column(meta, col, arg)
        value_cols: list[str] = []
        cov_cols: list[str] = []
        checked: list[tuple[str, str]] = []
        self.props: list[tuple[str, str]] = []
        for m in metric_list:
            for i, c in enumerate(m.columns):
                arg = "metrics" if m.kind != "ratio" else ("numerator", "denominator")[i]
                _check_numeric(meta, c, arg)  # existence and dtype on the empty frame of the column types
                checked.append((c, arg))
                if m.kind == "proportion":
                    self.props.append((m.name, c))
                if m.kind == "quantile":
                    if unit is not None:
                        raise ArgumentError(
                            f"quantile metric {m.name!r} with `unit` (rows finer than units) is not supported; drop `unit` or the metric"
                        )
                    continue
                if c not in value_cols:
                    value_cols.append(c)
            for c in m.covariates:
                _check_numeric(meta, c, "covariates")
                checked.append((c, "covariates"))
                if c not in cov_cols:
                    cov_cols.append(c)
        if unit is not None and cov_cols:
            raise ArgumentError(
                "`covariates` with `unit` (rows finer than units) are not supported yet; aggregate to one row per unit first"
            )
        clash = [c for c in (variant, *value_cols, *cov_cols, unit) if c in (ROWS, _HASH_MIN, _HASH_MAX)]
        if clash:
            raise ArgumentError(f"column name(s) {clash} are reserved by the dask analysis; rename them")
        self.variant, self.unit, self.strata = variant, unit, strata
        self.value_cols = value_cols
        self.checked = list(dict.fromkeys(checked))
        self.variables, self.products = _unit_variables(metric_list, value_cols, cov_cols, unit)
        self.targets = [m for m in metric_list if m.kind in ("mean", "proportion") and not m.covariates] if strata else []
        self.cell_cols = sorted({m.columns[0] for m in self.targets})
        self.quantiles = [m for m in metric_list if m.kind == "quantile"]

    def row_columns(self) -> list[str]:
        extra = [self.unit, self.strata]
        return list(dict.fromkeys([self.variant, *[c for c, _ in self.checked], *[c for c in extra if c is not None]]))


# ---------------------------------------------------------------------------------------------- per partition
def _row_checks(part: pd.DataFrame, plan: _Plan) -> dict[str, int]:
    """The counts the checks need, from one partition's rows."""
    counts: dict[str, int] = {"variant": int(part[plan.variant].isna().sum())}
    for c, _ in plan.checked:
        x = part[c].to_numpy(dtype=float, na_value=np.nan)
        counts["bad:" + c] = int(np.count_nonzero(~np.isfinite(x)))
    for _, c in plan.props:
        x = part[c].to_numpy(dtype=float, na_value=np.nan)
        counts["off:" + c] = int(np.count_nonzero((x != 0) & (x != 1) & np.isfinite(x)))
    for arg in ("unit", "strata"):
        col = getattr(plan, arg)
        if col is not None:
            counts[arg] = int(part[col].isna().sum())
    return counts


def _cells(part: pd.DataFrame, plan: _Plan) -> Summaries | None:
    """Counts, sums and squares of the post-stratified columns per (variant, stratum) cell of one partition."""
    vcodes, vlabels = pd.factorize(part[plan.variant])
    scodes, slabels = pd.factorize(part[plan.strata])
    H = len(slabels)
    cells = pd.DataFrame({"cell__": vcodes.astype(np.int64) * H + scodes, **{c: part[c].to_numpy() for c in plan.cell_cols}})
    s = Summaries.from_frame(cells, variant="cell__", variables=plan.cell_cols, products=[], levels=None)
    labels = tuple((vlabels[int(c) // H], slabels[int(c) % H]) for c in s.variants)
    return Summaries(labels, s.variables, s.n, s.sums, s.products, s.shift)


def _partition(part: pd.DataFrame, plan: _Plan) -> dict[str, Any]:
    """One partition's check counts and, when no check fails, its summaries (per variant, per cell)."""
    counts = _row_checks(part, plan)
    out: dict[str, Any] = {"counts": counts, "summaries": None, "cells": None, "samples": []}
    if len(part) == 0 or any(counts.values()):
        return out
    if plan.unit is None:
        out["summaries"] = Summaries.from_frame(part, variant=plan.variant, variables=plan.variables, products=plan.products, levels=None)
    if plan.cell_cols:
        out["cells"] = _cells(part, plan)
    if plan.quantiles:
        out["samples"] = [_local_samples(part, plan)]
    return out


def _unit_partition(part: pd.DataFrame, plan: _Plan) -> dict[str, Any]:
    """Summaries of one partition of the per-unit sums, and the number of units seen in more than one variant."""
    mixed = int(np.count_nonzero(part[_HASH_MIN].to_numpy() != part[_HASH_MAX].to_numpy()))
    out: dict[str, Any] = {"counts": {"mixed": mixed}, "summaries": None, "cells": None, "samples": []}
    if len(part) and not mixed:
        out["summaries"] = Summaries.from_frame(part, variant=plan.variant, variables=plan.variables, products=plan.products, levels=None)
    return out


def _merge(a: Summaries | None, b: Summaries | None) -> Summaries | None:
    return a if b is None else b if a is None else a.merge(b)


def _combine(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    counts = {k: a["counts"].get(k, 0) + b["counts"].get(k, 0) for k in {*a["counts"], *b["counts"]}}
    merged = {"summaries": _merge(a["summaries"], b["summaries"]), "cells": _merge(a["cells"], b["cells"])}
    return {"counts": counts, **merged, "samples": a["samples"] + b["samples"]}


def _tree(dask: Any, parts: list[Any]) -> Any:
    """Pairwise merges, level by level: log2(partitions) rounds, each on small objects."""
    while len(parts) > 1:
        parts = [dask.delayed(_combine)(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return parts[0]


def _variant_hash(s: pd.Series) -> pd.Series:
    return pd.Series(pd.util.hash_pandas_object(s, index=False).to_numpy(), index=s.index)


def _per_unit(ddf: Any, plan: _Plan) -> Any:
    """The rows summed per unit (dask's tree-reduced ``groupby().agg``): one row per unit, wherever its rows were."""
    unit = str(plan.unit)
    cols = [unit, plan.variant, *plan.value_cols]
    rows = ddf[cols].dropna(subset=[unit])  # missing units are counted by the row checks and refused
    rows = rows.assign(**{ROWS: 1}, **{_HASH_MIN: rows[plan.variant].map_partitions(_variant_hash, meta=(_HASH_MIN, "u8"))})
    rows = rows.assign(**{_HASH_MAX: rows[_HASH_MIN]})
    spec = {c: "sum" for c in [*plan.value_cols, ROWS]} | {plan.variant: "first", _HASH_MIN: "min", _HASH_MAX: "max"}
    return rows.groupby(unit).agg(spec, split_out=max(1, ddf.npartitions // 32))


# ---------------------------------------------------------------------------------------------- the analysis
def dask_analysis(
    ddf: Any, variant: str, control: Any, variants: Any, metric_list: list[Metric], unit: str | None, strata: str | None
) -> tuple[Summaries, list[Any], dict[tuple[str, Any], Any]]:
    """The :class:`Summaries` of an analysis of a dask DataFrame, the ordered variant levels and the special arms.

    The special arms (quantile metrics, post-stratified means) are keyed ``(metric name, treatment)`` as
    :func:`._inputs._fixed_arms` keys them.
    """
    dask = import_optional("dask", extra="dask", purpose="analysing a dask DataFrame")
    meta = ddf._meta
    if not meta.columns.is_unique:
        dupes = sorted({str(c) for c in meta.columns[meta.columns.duplicated()]})
        raise DataError(f"`data` has duplicate column names {dupes}; rename them so each column is unique")
    plan = _Plan(meta, variant, metric_list, unit, strata)
    rows = ddf[plan.row_columns()]
    row_tree = _tree(dask, [dask.delayed(_partition)(p, plan) for p in rows.to_delayed()])
    if unit is None:
        got = dask.compute(row_tree)[0]
    else:
        unit_tree = _tree(dask, [dask.delayed(_unit_partition)(p, plan) for p in _per_unit(ddf, plan).to_delayed()])
        got, by_unit = dask.compute(row_tree, unit_tree)
        got["counts"]["mixed"] = by_unit["counts"]["mixed"]
        got["summaries"] = by_unit["summaries"]
    _refuse(got["counts"], plan)
    s = got["summaries"]
    if s is None:
        raise DataError("`data` has no rows")
    levels = _levels(list(s.variants), variant, control, variants)
    order = [s.index(lv) for lv in levels]
    s = Summaries(tuple(levels), s.variables, s.n[order], s.sums[order], s.products[order], s.shift)
    arms: dict[tuple[str, Any], Any] = {}
    if plan.quantiles:
        arms.update(_quantile_arms(dask, ddf, plan, levels, got["samples"], s.n))
    if strata is not None and plan.targets:
        arms.update(_strata_arms(got["cells"], plan, levels))
    return s, levels, arms


def _refuse(counts: dict[str, int], plan: _Plan) -> None:
    """The refusals of the frame path, from the counts that came back."""
    if counts.get("variant"):
        raise DataError(f"`variant` column {plan.variant!r} has {counts['variant']} missing value(s); drop those rows first")
    for c, arg in plan.checked:
        if counts.get("bad:" + c):
            raise DataError(
                f"`{arg}` column {c!r} has {counts['bad:' + c]} missing or infinite value(s); drop or impute them before the analysis"
            )
    for name, c in plan.props:
        if counts.get("off:" + c):
            raise DataError(
                f"proportion metric {name!r}: column {c!r} has {counts['off:' + c]} value(s) other than 0 and 1; "
                "use experiments.mean for a non-binary metric"
            )
    for arg in ("unit", "strata"):
        if counts.get(arg):
            raise DataError(f"`{arg}` column {getattr(plan, arg)!r} has {counts[arg]} missing value(s); drop those rows first")
    if counts.get("mixed"):
        raise DataError(
            f"{counts['mixed']} unit(s) of `unit` column {plan.unit!r} appear in more than one variant; each randomisation unit "
            "must belong to exactly one variant (remove the contaminated units or check the assignment)"
        )


def _strata_arms(cells: Summaries | None, plan: _Plan, levels: list[Any]) -> dict[tuple[str, Any], Any]:
    """Post-stratified arms from the merged cell summaries, laid out as the frame path lays them out."""
    if cells is None:  # pragma: no cover - every row is in some cell once the checks have passed
        raise DataError("`data` has no rows")
    strata = str(plan.strata)
    slabels = list(dict.fromkeys(lab[1] for lab in cells.variants))
    try:
        slabels = sorted(slabels)
    except TypeError:
        raise DataError(f"`strata` column {strata!r} mixes labels that cannot be sorted ({show(slabels)}); use one type") from None
    H, p = len(slabels), len(cells.variables)
    n, sums = np.zeros(len(levels) * H), np.zeros((len(levels) * H, p))
    prods = np.full((len(levels) * H, p, p), np.nan)
    prods[:, range(p), range(p)] = 0.0
    vindex = {lv: i for i, lv in enumerate(levels)}
    sindex = {lab: h for h, lab in enumerate(slabels)}
    for i, (lv, lab) in enumerate(cells.variants):
        row = vindex[lv] * H + sindex[lab]
        n[row], sums[row], prods[row] = cells.n[i], cells.sums[i], cells.products[i]
    grid = Summaries(tuple(range(len(levels) * H)), cells.variables, n, sums, prods, cells.shift)
    return _poststratified(grid, slabels, levels, plan.targets, strata)


def _quantile_arms(dask: Any, ddf: Any, plan: _Plan, levels: list[Any], samples: list[Any], n: np.ndarray) -> dict[tuple[str, Any], Any]:
    """Quantile arms from the exact order statistics of each variant's values (see :func:`_order_statistics`)."""
    wanted: dict[str, list[float]] = {}
    for m in plan.quantiles:
        qs = wanted.setdefault(m.columns[0], [])
        if float(m.level or 0.5) not in qs:
            qs.append(float(m.level or 0.5))
    ranks: dict[tuple[str, Any], list[int]] = {}
    for c, qs in wanted.items():
        for lv, count in zip(levels, n, strict=True):
            positions = [_core.order_positions(int(count), _core.quantile_levels(int(count), q)) for q in qs]
            ranks[(c, lv)] = sorted({r for pos in positions for lo, hi, _ in pos for r in (lo, hi)})
    values = _order_statistics(dask, ddf, plan, samples, ranks)
    found = {
        (lv, c, q): _core.quantile_arm_from(int(count), q, lambda r, c=c, lv=lv: values[(c, lv, r)])
        for c, qs in wanted.items()
        for lv, count in zip(levels, n, strict=True)
        for q in qs
    }
    out: dict[tuple[str, Any], Any] = {}
    for m in plan.quantiles:
        key = (m.columns[0], float(m.level or 0.5))
        for lv in levels[1:]:
            out[(m.name, lv)] = (found[(levels[0], *key)], found[(lv, *key)], "")
    return out


_SAMPLES = 1024  # order statistics kept per partition, variant and column in the first pass


def _local_samples(part: pd.DataFrame, plan: _Plan) -> dict[tuple[str, Any], tuple[int, np.ndarray, np.ndarray]]:
    """Per column and variant of one partition: its size, and the sorted values at evenly spaced ranks (first and last included)."""
    out = {}
    labels = part[plan.variant].to_numpy()
    for c in dict.fromkeys(m.columns[0] for m in plan.quantiles):
        x = part[c].to_numpy(dtype=float)
        for lv in pd.unique(labels):
            a = np.sort(x[labels == lv])
            step = max(1, -(-a.size // _SAMPLES))
            pos = np.unique(np.r_[np.arange(0, a.size, step), a.size - 1])
            out[(c, lv)] = (a.size, pos, a[pos])
    return out


def _bracket(parts: list[tuple[int, np.ndarray, np.ndarray]], r: int) -> tuple[float, float]:
    """Values ``lo < hi`` with at most ``r`` values ``<= lo`` and more than ``r`` values ``<= hi``, for sure.

    For a threshold ``t`` and one partition whose sorted values are known at ranks ``pos``, the number of its values
    ``<= t`` is at least one more than the last known rank whose value is ``<= t`` and at most the first known rank
    whose value is ``> t``; summed over partitions these bound the global count, so the bracket is certain.
    """
    candidates = np.unique(np.concatenate([v for _, _, v in parts]))
    low = np.zeros(candidates.size, dtype=np.int64)
    high = np.zeros(candidates.size, dtype=np.int64)
    for size, pos, vals in parts:
        m = np.searchsorted(vals, candidates, side="right")
        low += np.where(m > 0, pos[np.maximum(m - 1, 0)] + 1, 0)
        high += np.where(m < pos.size, pos[np.minimum(m, pos.size - 1)], size)
    below = np.flatnonzero(high <= r)
    lo = float(candidates[below[-1]]) if below.size else -np.inf
    hi = float(candidates[np.flatnonzero(low >= r + 1)[0]])
    return lo, hi


def _windows(part: pd.DataFrame, variant: str, windows: dict[tuple[str, Any, int], tuple[float, float]]) -> dict[Any, Any]:
    """Per wanted rank, the number of the partition's values ``<= lo`` and its values in ``(lo, hi]``."""
    labels = part[variant].to_numpy()
    out: dict[Any, Any] = {}
    for (c, lv, r), (lo, hi) in windows.items():
        x = part[c].to_numpy(dtype=float)[labels == lv]
        out[(c, lv, r)] = (int(np.count_nonzero(x <= lo)), x[(x > lo) & (x <= hi)])
    return out


def _add_windows(a: dict[Any, Any], b: dict[Any, Any]) -> dict[Any, Any]:
    return {k: (a[k][0] + b[k][0], np.concatenate([a[k][1], b[k][1]])) for k in a}


def _order_statistics(
    dask: Any, ddf: Any, plan: _Plan, samples: list[Any], ranks: dict[tuple[str, Any], list[int]]
) -> dict[tuple[str, Any, int], float]:
    """The exact values at the wanted 0-based ranks of each (column, variant), in one more pass over the partitions.

    The first pass kept, per partition, variant and column, the sorted values at about 1,024 evenly spaced ranks.
    From them each wanted rank gets a bracket ``(lo, hi]`` that surely holds it (:func:`_bracket`); this pass
    counts each partition's values ``<= lo`` and returns those inside the bracket (about 1/512 of the variant's
    values at most), and the wanted value is the right one of the sorted bracket. Values equal those of
    ``np.sort`` over the whole column, so the quantiles are bit-equal to the in-memory ones.
    """
    windows: dict[tuple[str, Any, int], tuple[float, float]] = {}
    for (c, lv), rs in ranks.items():
        parts = [sample[(c, lv)] for sample in samples if (c, lv) in sample]
        for r in rs:
            windows[(c, lv, r)] = _bracket(parts, r)
    cols = list(dict.fromkeys([plan.variant, *[c for c, _ in ranks]]))
    tree = [dask.delayed(_windows)(p, plan.variant, windows) for p in ddf[cols].to_delayed()]
    while len(tree) > 1:
        tree = [dask.delayed(_add_windows)(tree[i], tree[i + 1]) if i + 1 < len(tree) else tree[i] for i in range(0, len(tree), 2)]
    got = dask.compute(tree[0])[0]
    return {key: float(np.sort(inside)[key[2] - below]) for key, (below, inside) in got.items()}
