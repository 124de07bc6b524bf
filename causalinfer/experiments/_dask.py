"""Experiments on a dask DataFrame: per-variant summaries computed where each partition lives, merged as a tree.

Each partition is summarised on its worker into a :class:`Summaries` (counts, sums and cross-products per variant,
centred on the partition's own means) together with the counts the checks need (missing and infinite values per
column, proportion values other than 0 and 1, missing variant labels). Only those small objects travel: pairs of
them are merged (:meth:`Summaries.merge` re-centres one on the other's shift, which is exact algebra), level by
level, and the single result comes back. The numbers equal the in-memory analysis of the same rows to rounding
(about 1e-12 relative), whatever the partitioning, empty partitions and partitions missing a variant included.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._optional import import_optional
from .._validation import check_column
from ..exceptions import ArgumentError, DataError
from ._inputs import _check_numeric, _levels, _unit_variables
from ._metrics import Metric
from ._summary import Summaries

__all__: list[str] = []


def is_dask_frame(data: Any) -> bool:
    """Whether ``data`` is a dask DataFrame (checked by type, so dask is imported only when one is passed)."""
    mod = type(data).__module__.split(".")[0]
    return mod in ("dask", "dask_expr") and hasattr(data, "to_delayed") and hasattr(data, "npartitions")


def _plan(
    meta: pd.DataFrame, variant: str, metric_list: list[Metric]
) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """Variables and products to summarise, the (column, argument) pairs to check and the proportion columns."""
    value_cols: list[str] = []
    cov_cols: list[str] = []
    checked: list[tuple[str, str]] = []
    props: list[tuple[str, str]] = []
    check_column(meta, variant, "variant")
    for m in metric_list:
        if m.kind == "quantile":
            raise ArgumentError(
                f"quantile metric {m.name!r} needs the rows in one order, which a dask DataFrame spreads over partitions; "
                "analyse it on a pandas frame of that column (or through DuckDB on the Parquet files)"
            )
        for i, c in enumerate(m.columns):
            arg = "metrics" if m.kind != "ratio" else ("numerator", "denominator")[i]
            _check_numeric(meta, c, arg)  # existence and dtype on the empty frame of the column types
            checked.append((c, arg))
            if m.kind == "proportion":
                props.append((m.name, c))
            if c not in value_cols:
                value_cols.append(c)
        for c in m.covariates:
            _check_numeric(meta, c, "covariates")
            checked.append((c, "covariates"))
            if c not in cov_cols:
                cov_cols.append(c)
    variables, products = _unit_variables(metric_list, value_cols, cov_cols, None)
    return variables, products, list(dict.fromkeys(checked)), props


def _partition(
    part: pd.DataFrame,
    variant: str,
    variables: list[str],
    products: list[tuple[str, str]],
    checked: list[tuple[str, str]],
    props: list[tuple[str, str]],
) -> tuple[dict[str, int], Summaries | None]:
    """Summaries of one partition and its check counts; no summaries when a check fails (the counts say why)."""
    counts: dict[str, int] = {"variant": int(part[variant].isna().sum())}
    for c, _ in checked:
        x = part[c].to_numpy(dtype=float, na_value=np.nan)
        counts["bad:" + c] = int(np.count_nonzero(~np.isfinite(x)))
    for _, c in props:
        x = part[c].to_numpy(dtype=float, na_value=np.nan)
        counts["off:" + c] = int(np.count_nonzero((x != 0) & (x != 1) & np.isfinite(x)))
    if len(part) == 0 or any(counts.values()):
        return counts, None
    return counts, Summaries.from_frame(part, variant=variant, variables=variables, products=products, levels=None)


def _combine(
    a: tuple[dict[str, int], Summaries | None], b: tuple[dict[str, int], Summaries | None]
) -> tuple[dict[str, int], Summaries | None]:
    counts = {k: a[0].get(k, 0) + b[0].get(k, 0) for k in {*a[0], *b[0]}}
    if a[1] is None or b[1] is None:
        return counts, a[1] if b[1] is None else b[1]
    return counts, a[1].merge(b[1])


def dask_summaries(
    ddf: Any, variant: str, control: Any, variants: Any, metric_list: list[Metric], unit: str | None, strata: str | None
) -> tuple[Summaries, list[Any]]:
    """The :class:`Summaries` of an analysis of a dask DataFrame, and the ordered variant levels."""
    dask = import_optional("dask", extra="dask", purpose="analysing a dask DataFrame")
    if unit is not None:
        raise ArgumentError(
            "`unit` with a dask DataFrame is not supported (summing rows per unit would move them between workers); "
            "aggregate to one row per unit first (ddf.groupby(unit).sum()) or analyse the Parquet files through DuckDB"
        )
    if strata is not None:
        raise ArgumentError("`strata` with a dask DataFrame is not supported; analyse the Parquet files through DuckDB or a pandas frame")
    meta = ddf._meta
    if not meta.columns.is_unique:
        dupes = sorted({str(c) for c in meta.columns[meta.columns.duplicated()]})
        raise DataError(f"`data` has duplicate column names {dupes}; rename them so each column is unique")
    variables, products, checked, props = _plan(meta, variant, metric_list)
    needed = list(dict.fromkeys([variant, *variables]))
    parts = [dask.delayed(_partition)(p, variant, variables, products, checked, props) for p in ddf[needed].to_delayed()]
    while len(parts) > 1:  # a tree: log2(partitions) rounds of pairwise merges, each on small objects
        parts = [dask.delayed(_combine)(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    (counts, s) = dask.compute(parts[0])[0]
    if counts.get("variant"):
        raise DataError(f"`variant` column {variant!r} has {counts['variant']} missing value(s); drop those rows first")
    for c, arg in checked:
        if counts.get("bad:" + c):
            raise DataError(
                f"`{arg}` column {c!r} has {counts['bad:' + c]} missing or infinite value(s); drop or impute them before the analysis"
            )
    for name, c in props:
        if counts.get("off:" + c):
            raise DataError(
                f"proportion metric {name!r}: column {c!r} has {counts['off:' + c]} value(s) other than 0 and 1; "
                "use experiments.mean for a non-binary metric"
            )
    if s is None:
        raise DataError("`data` has no rows")
    found = list(s.variants)
    levels = _levels(found, variant, control, variants)
    order = [s.index(lv) for lv in levels]
    return Summaries(tuple(levels), s.variables, s.n[order], s.sums[order], s.products[order], s.shift), levels
