"""In-engine summaries: the per-variant sufficient statistics computed inside DuckDB or a SQL database.

:func:`analyze` accepts a :class:`ParquetSource` (a Parquet file, a folder of them or a glob; scanned by DuckDB),
a :class:`SQLTable` (a table reached through SQLAlchemy, or a table of a DuckDB connection) or a DuckDB relation.
Two aggregate queries run inside the engine and only one row per variant comes back:

1. the means of the used columns over the first 10,000 rows (a cheap query): the shifts;
2. one scan, grouped by variant, of the :func:`sql_aggregates` list (counts, sums and cross-products of the
   columns minus their shifts, so the variances stay accurate when a metric's mean is large compared with its
   spread), together with the counts the checks need: missing values per column, values of proportion metrics
   other than 0 and 1, missing variant labels.

With ``unit`` the rows are first summed per randomised unit inside the engine (a ``GROUP BY unit`` subquery), and
units that appear in more than one variant (or with a missing unit) are refused, as with a frame. With ``strata``
one more query returns counts, sums and squares per variant and stratum for post-stratification. Quantile metrics
take one more query per column that returns six order statistics per variant (:func:`engine_quantile_arms`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import show, suggest_column
from ..data._engine import ParquetSource, SQLTable  # the source layer lives in data, shared with stats
from ..data._engine import Runner as _Runner
from ..data._engine import is_source as is_source
from ..data._engine import quote as _q
from ..data._engine import runner as _runner
from ..exceptions import ArgumentError, ArgumentTypeError, DataError, RoleError
from ._inputs import ROWS, _levels, _poststratified, _unit_variables
from ._metrics import Metric
from ._summary import Summaries, sql_aggregates

__all__ = ["ParquetSource", "SQLTable"]

_VARIANT = "variant__"  # alias of the variant column inside the engine queries
_SAMPLE = 10_000  # rows read for the shifts (a Parquet scan stops after the first pages)


# ---------------------------------------------------------------------------------------------- queries
def _check_columns(runner: _Runner, wanted: list[tuple[str, str]]) -> None:
    """Every (column, argument) must exist; metric and covariate columns must be numeric."""
    cols = runner.columns()
    for col, arg in wanted:
        if '"' in col:
            raise ArgumentError(f"`{arg}` column name {col!r} contains a double quote; rename the column")
        if col not in cols:
            listed = ", ".join(list(cols)[:12]) + (", ..." if len(cols) > 12 else "")
            raise RoleError(f"`{arg}` names column {col!r}, which is not in {runner.label}{suggest_column(col, cols)} (columns: {listed})")
        if arg not in ("variant", "unit", "strata") and not cols[col]:
            raise DataError(f"`{arg}` column {col!r} of {runner.label} must be numeric")


def engine_summaries(
    data: Any, variant: str, control: Any, variants: Sequence[Any] | None, metric_list: list[Metric], unit: str | None
) -> tuple[Summaries, list[Any]]:
    """The :class:`Summaries` of an analysis computed inside the engine, and the ordered variant levels."""
    if not isinstance(variant, str):
        raise ArgumentTypeError(f"`variant` must be a column name (a string); got {show(variant)}")
    if unit is not None and not isinstance(unit, str):
        raise ArgumentTypeError(f"`unit` must be a column name (a string); got {show(unit)}")
    value_cols: list[str] = []
    cov_cols: list[str] = []
    wanted: list[tuple[str, str]] = [(variant, "variant")] + ([(unit, "unit")] if unit else [])
    proportions: list[str] = []
    for m in metric_list:
        if m.kind == "quantile":  # its order statistics come from engine_quantile_arms
            if unit is not None:
                raise ArgumentError(
                    f"quantile metric {m.name!r} with `unit` (rows finer than units) is not supported; drop `unit` or the metric"
                )
            wanted.append((m.columns[0], "metrics"))
            continue
        for i, c in enumerate(m.columns):
            wanted.append((c, "metrics" if m.kind != "ratio" else ("numerator", "denominator")[i]))
            if c not in value_cols:
                value_cols.append(c)
            if m.kind == "proportion" and c not in proportions:
                proportions.append(c)
        for c in m.covariates:
            wanted.append((c, "covariates"))
            if c not in cov_cols:
                cov_cols.append(c)
    if unit is not None and cov_cols:
        raise ArgumentError("`covariates` with `unit` (rows finer than units) are not supported yet; aggregate to one row per unit first")
    row_cols = [*value_cols, *[c for c in cov_cols if c not in value_cols]]
    clash = [c for c in (*row_cols, variant) if c in (_VARIANT, ROWS)]
    if clash:
        raise ArgumentError(f"column name(s) {clash} are reserved by the engine queries; rename them")
    variables, products = _unit_variables(metric_list, value_cols, cov_cols, unit)

    with _runner(data) as runner:
        _check_columns(runner, wanted)
        bools = runner.booleans()

        def num(c: str) -> str:
            inner = f"CAST({_q(c)} AS INTEGER)" if c in bools else _q(c)
            return f"CAST({inner} AS DOUBLE PRECISION)"

        shift = _shifts(runner, num, variant, unit, value_cols, row_cols)
        if unit is None:  # 0/1 values: unshifted sums are exact counts, and each square equals the value itself
            shift.update({c: 0.0 for c in proportions})
        rows = runner.run(_main_query(num, variant, unit, value_cols, row_cols, proportions, variables, products, shift))
    return _assemble(rows, runner.label, variant, control, variants, unit, metric_list, row_cols, proportions, variables, products, shift)


def _shifts(runner: _Runner, num: Any, variant: str, unit: str | None, value_cols: list[str], row_cols: list[str]) -> dict[str, float]:
    """Rough means of the variables from the first rows (a cheap query): the constants the sums are taken around.

    Any constant gives the same summaries; one near the mean keeps the centred moments accurate, and a sample of
    up to 10,000 rows is near enough (the error grows with the squared distance from the mean in standard
    deviations, so even a poor sample costs a few digits out of sixteen).
    """
    head = f"SELECT * FROM {{src}} LIMIT {_SAMPLE}"
    if not row_cols:  # only quantile metrics: nothing to shift
        return {}
    if unit is None:
        aggs = ", ".join(f"AVG({num(c)})" for c in row_cols)
        sql = f"SELECT {aggs} FROM ({head}) AS head__"
        names = row_cols
    else:
        per_unit = ", ".join(f"SUM({num(c)}) AS {_q(c)}" for c in value_cols)
        aggs = ", ".join(f"AVG({_q(c)})" for c in [*value_cols, ROWS])
        sql = f"SELECT {aggs} FROM (SELECT {per_unit}, COUNT(*) AS {_q(ROWS)} FROM ({head}) AS head__ GROUP BY {_q(unit)}) AS units__"
        names = [*value_cols, ROWS]
    got = runner.run(sql)
    values = got[0] if got else [None] * len(names)
    return {c: float(v) if v is not None and np.isfinite(float(v)) else 0.0 for c, v in zip(names, values, strict=True)}


def _main_query(
    num: Any,
    variant: str,
    unit: str | None,
    value_cols: list[str],
    row_cols: list[str],
    proportions: list[str],
    variables: list[str],
    products: list[tuple[str, str]],
    shift: dict[str, float],
) -> str:
    """One scan: per variant the counts, shifted sums and cross-products, and the counts the checks need."""
    checks: list[str] = []
    if unit is None:
        cols = [f"{num(c)} - {shift[c]!r} AS {_q(c)}" for c in row_cols]
        cols += [f"CASE WHEN {num(c)} <> 0 AND {num(c)} <> 1 THEN 1 ELSE 0 END AS off{i}__" for i, c in enumerate(proportions)]
        inner = f"SELECT {', '.join([f'{_q(variant)} AS {_q(_VARIANT)}', *cols])} FROM {{src}}"
        checks += [f"COUNT(*) - COUNT({_q(c)})" for c in row_cols]
        checks += [f"SUM(off{i}__)" for i in range(len(proportions))]
    else:
        cols = [f"SUM({num(c)}) - {shift[c]!r} AS {_q(c)}" for c in value_cols]
        cols += [f"COUNT(*) - COUNT({_q(c)}) AS null{i}__" for i, c in enumerate(value_cols)]
        cols += [f"SUM(CASE WHEN {num(c)} <> 0 AND {num(c)} <> 1 THEN 1 ELSE 0 END) AS off{i}__" for i, c in enumerate(proportions)]
        inner = (
            f"SELECT MIN({_q(variant)}) AS {_q(_VARIANT)}, COUNT(DISTINCT {_q(variant)}) AS nvar__, "
            f"SUM(CASE WHEN {_q(variant)} IS NULL THEN 1 ELSE 0 END) AS nullvar__, "
            f"CASE WHEN {_q(unit)} IS NULL THEN COUNT(*) ELSE 0 END AS nullunit__, "
            f"{', '.join(cols)}, COUNT(*) - {shift[ROWS]!r} AS {_q(ROWS)} FROM {{src}} GROUP BY {_q(unit)}"
        )
        checks += [f"SUM(null{i}__)" for i in range(len(value_cols))]
        checks += [f"SUM(off{i}__)" for i in range(len(proportions))]
        checks += ["SUM(CASE WHEN nvar__ > 1 THEN 1 ELSE 0 END)", "SUM(nullvar__)", "SUM(nullunit__)"]
    expr = _aggregates(variables, products, proportions if unit is None else [])  # the columns are shifted already
    select = ", ".join(f"{e} AS a{i}" for i, e in enumerate([*expr.values(), *checks]))
    return f"SELECT {_q(_VARIANT)}, {select} FROM ({inner}) AS units__ GROUP BY {_q(_VARIANT)}"


def _assemble(
    rows: list[tuple[Any, ...]],
    label: str,
    variant: str,
    control: Any,
    variants: Sequence[Any] | None,
    unit: str | None,
    metric_list: list[Metric],
    row_cols: list[str],
    proportions: list[str],
    variables: list[str],
    products: list[tuple[str, str]],
    shift: dict[str, float],
) -> tuple[Summaries, list[Any]]:
    """Check the counts that came back with the summaries, then build the :class:`Summaries`."""
    if not rows:
        raise DataError(f"{label} has no rows")
    derived = proportions if unit is None else []
    names = list(_aggregates(variables, products, derived))
    k = len(names)
    checks = np.array([[float(x) if x is not None else 0.0 for x in r[1 + k :]] for r in rows]).sum(axis=0)
    nulls = [r for r in rows if r[0] is None]
    if unit is None and nulls:
        raise DataError(f"`variant` column {variant!r} has {int(nulls[0][1])} missing value(s); drop those rows first")
    null_cols = _null_checked(row_cols, unit, variables)
    for c, bad in zip(null_cols, checks[: len(null_cols)], strict=True):
        if bad:
            raise DataError(f"column {c!r} has {int(bad)} missing value(s); drop or impute them before the analysis")
    for c, bad in zip(proportions, checks[len(null_cols) : len(null_cols) + len(proportions)], strict=True):
        if bad:
            name = next(m.name for m in metric_list if m.kind == "proportion" and m.columns[0] == c)
            raise DataError(
                f"proportion metric {name!r}: column {c!r} has {int(bad)} value(s) other than 0 and 1; use experiments.mean for a non-binary metric"
            )
    if unit is not None:
        mixed, null_variant, null_unit = (int(x) for x in checks[-3:])
        if null_variant:
            raise DataError(f"`variant` column {variant!r} has {null_variant} missing value(s); drop those rows first")
        if null_unit:
            raise DataError(f"`unit` column {unit!r} has {null_unit} missing value(s); drop those rows first")
        if mixed:
            raise DataError(
                f"{mixed} unit(s) of `unit` column {unit!r} appear in more than one variant; each randomisation unit must "
                "belong to exactly one variant (remove the contaminated units or check the assignment)"
            )
    found = [r[0] for r in rows]
    with contextlib.suppress(TypeError):  # a stable order for messages; the analysis order comes from _levels
        found = sorted(found)
    levels = _levels(found, variant, control, variants)
    by_level = {r[0]: r[1 : 1 + k] for r in rows}
    table = pd.DataFrame([[lv, *[float(x) for x in by_level[lv]]] for lv in levels], columns=["variant", *names])
    for c in derived:  # checked to hold only 0 and 1 above, so x * x = x and the unshifted sums agree exactly
        table[f"sum({c}*{c})"] = table[f"sum({c})"]
    for v in variables:
        if not np.all(np.isfinite(table[f"sum({v})"])) or not np.all(np.isfinite(table[f"sum({v}*{v})"])):
            raise DataError(f"column {v!r} has infinite values (or sums beyond floating point); drop them before the analysis")
    return Summaries.from_table(table, shift={v: shift[v] for v in variables}), levels


def _aggregates(variables: list[str], products: list[tuple[str, str]], derived: Sequence[str] = ()) -> dict[str, str]:
    """The summary aggregates, or the count alone when only quantile metrics are analysed.

    The squares of the ``derived`` columns (proportions, summed unshifted) are left out: for values 0 and 1 the
    sum of squares is the sum, which the query returns anyway.
    """
    if not variables:
        return {"n": "COUNT(*)"}
    out = sql_aggregates(variables, products)
    for c in derived:
        out.pop(f"sum({c}*{c})", None)
    return out


def _null_checked(row_cols: list[str], unit: str | None, variables: list[str]) -> list[str]:
    """Columns whose missing values are counted: the row columns, or the summed columns with ``unit``."""
    return row_cols if unit is None else [v for v in variables if v != ROWS]


def engine_strata_arms(data: Any, variant: str, levels: list[Any], metric_list: list[Metric], strata: str) -> dict[Any, Any]:
    """Post-stratified arms from one ``GROUP BY variant, strata`` query (counts, sums and squares per cell)."""
    if not isinstance(strata, str):
        raise ArgumentTypeError(f"`strata` must be a column name (a string); got {show(strata)}")
    targets = [m for m in metric_list if m.kind in ("mean", "proportion") and not m.covariates]
    cols = sorted({m.columns[0] for m in targets})
    with _runner(data) as runner:
        _check_columns(runner, [(strata, "strata"), *[(c, "metrics") for c in cols]])
        if not targets:
            return {}
        bools = runner.booleans()

        def num(c: str) -> str:
            inner = f"CAST({_q(c)} AS INTEGER)" if c in bools else _q(c)
            return f"CAST({inner} AS DOUBLE PRECISION)"

        shift = _shifts(runner, num, variant, None, cols, cols)
        shifted = ", ".join(f"{num(c)} - {shift[c]!r} AS {_q(c)}" for c in cols)
        aggs = ", ".join(f"SUM({_q(c)}), SUM({_q(c)} * {_q(c)})" for c in cols)
        rows = runner.run(
            f"SELECT {_q(_VARIANT)}, stratum__, COUNT(*), {aggs} FROM (SELECT {_q(variant)} AS {_q(_VARIANT)}, "
            f"{_q(strata)} AS stratum__, {shifted} FROM {{src}}) AS cells__ GROUP BY {_q(_VARIANT)}, stratum__"
        )
    null = sum(int(r[2]) for r in rows if r[1] is None)
    if null:
        raise DataError(f"`strata` column {strata!r} has {null} missing value(s); drop those rows first")
    slabels = list({r[1] for r in rows})
    try:
        slabels = sorted(slabels)
    except TypeError:
        raise DataError(f"`strata` column {strata!r} mixes labels that cannot be sorted ({show(slabels)}); use one type") from None
    H, p = len(slabels), len(cols)
    n = np.zeros(len(levels) * H)
    sums = np.zeros((len(levels) * H, p))
    prods = np.full((len(levels) * H, p, p), np.nan)
    prods[:, range(p), range(p)] = 0.0
    vindex = {lv: i for i, lv in enumerate(levels)}
    sindex = {lab: h for h, lab in enumerate(slabels)}
    for r in rows:
        cell = vindex[r[0]] * H + sindex[r[1]]
        n[cell] = float(r[2])
        for j in range(p):
            sums[cell, j] = float(r[3 + 2 * j])
            prods[cell, j, j] = float(r[4 + 2 * j])
    cells = Summaries(tuple(range(len(levels) * H)), tuple(cols), n, sums, prods, np.array([shift[c] for c in cols]))
    return _poststratified(cells, slabels, levels, targets, strata)


# ---------------------------------------------------------------------------------------------- quantiles
def engine_quantile_arms(data: Any, variant: str, levels: list[Any], metric_list: list[Metric]) -> dict[tuple[str, Any], Any]:
    """Quantile arms computed inside the engine from a few order statistics per variant.

    The in-memory quantile metric (:func:`._core.quantile_arm`) estimates the quantile ``q`` by numpy's linear
    interpolation and its standard error from the distribution-free order-statistic band: the number of values
    below the true quantile is Binomial(n, q), so the sample quantiles at levels ``q -/+ z sqrt(q (1 - q) / n)``
    bracket the true quantile with probability close to 95% whatever the distribution, and half their distance over
    ``z`` is a standard error (as GrowthBook's quantile metrics; coverage is checked by seeded simulations). That
    estimator needs only the values at six ranks per arm: the two order statistics on either side of each of the
    three levels. The engine finds them exactly with ``ROW_NUMBER() OVER (PARTITION BY variant ORDER BY value)``,
    keeping only the rows at the wanted ranks, so only a few rows per variant come back and the result equals the
    in-memory one to the last bit.

    A Poisson bootstrap (each row weighted by a Poisson(1) draw per replicate) is the other way to get a quantile's
    interval in one pass; it is not used because it would estimate a different (resampling) standard error than the
    in-memory analysis, needs hundreds of weighted quantiles per arm, and still sorts the values once per replicate,
    whereas the band is exact, reproducible and costs one sort per column.

    Two more checks match the frame: a count query refuses missing values, and the smallest and largest values
    (ranks 0 and ``n - 1``, fetched with the others) refuse infinite and NaN values, which sort last.
    """
    targets = [m for m in metric_list if m.kind == "quantile"]
    if not targets:
        return {}
    wanted = {
        c: sorted({float(m.level or 0.5) for m in targets if m.columns[0] == c}) for c in dict.fromkeys(m.columns[0] for m in targets)
    }
    arms = quantile_arms_by_level(data, variant, levels, wanted)
    out: dict[tuple[str, Any], Any] = {}
    for m in targets:
        key = (m.columns[0], float(m.level or 0.5))
        for lv in levels[1:]:
            out[(m.name, lv)] = (arms[(levels[0], *key)], arms[(lv, *key)], "")
    return out


def quantile_arms_by_level(data: Any, variant: str, levels: list[Any], wanted: dict[str, list[float]]) -> dict[tuple[Any, str, float], Any]:
    """The quantile arm of every variant in ``levels``, column and quantile level in ``wanted`` (column -> levels)."""
    from . import _core

    cols = list(wanted)
    out: dict[tuple[Any, str, float], Any] = {}
    with _runner(data) as runner:
        bools = runner.booleans()

        def num(c: str) -> str:
            inner = f"CAST({_q(c)} AS INTEGER)" if c in bools else _q(c)
            return f"CAST({inner} AS DOUBLE PRECISION)"

        counts = runner.run(
            f"SELECT {_q(variant)}, COUNT(*), {', '.join(f'COUNT({_q(c)})' for c in cols)} FROM {{src}} GROUP BY {_q(variant)}"
        )
        n_rows = {r[0]: int(r[1]) for r in counts}
        n_valid = {(r[0], c): int(r[2 + j]) for r in counts for j, c in enumerate(cols)}
        for c in cols:
            missing = sum(n_rows[lv] - n_valid[(lv, c)] for lv in n_rows)
            if missing:
                raise DataError(
                    f"`metrics` column {c!r} has {missing} missing or infinite value(s); drop or impute them before the analysis"
                )
            ranks: set[int] = set()
            for lv in levels:
                n = n_valid[(lv, c)]
                for q in wanted[c]:
                    ranks.update(r for lo, hi, _ in _core.order_positions(n, _core.quantile_levels(n, q)) for r in (lo, hi))
                ranks.update((0, n - 1))
            listed = ", ".join(str(r) for r in sorted(ranks))
            rows = runner.run(
                f"SELECT {_q(_VARIANT)}, rank__, value__ FROM (SELECT {_q(variant)} AS {_q(_VARIANT)}, {num(c)} AS value__, "
                f"ROW_NUMBER() OVER (PARTITION BY {_q(variant)} ORDER BY {num(c)}) - 1 AS rank__ FROM {{src}} "
                f"WHERE {_q(c)} IS NOT NULL) AS ranked__ WHERE rank__ IN ({listed})"
            )
            found = {(r[0], int(r[1])): float(r[2]) for r in rows}
            bad = sum(not np.isfinite(found[(lv, r)]) for lv in levels for r in (0, n_valid[(lv, c)] - 1))
            if bad:
                raise DataError(
                    f"`metrics` column {c!r} has missing or infinite value(s) (NaN or +/-inf among its smallest or "
                    "largest values); drop or impute them before the analysis"
                )
            for lv in levels:
                for q in wanted[c]:
                    out[(lv, c, q)] = _core.quantile_arm_from(n_valid[(lv, c)], q, lambda r, lv=lv, found=found: found[(lv, r)])
    return out
