"""From a long panel to the matrices of a synthetic control: periods in order, the treated unit, donors, predictors.

Shared by :func:`synthetic_control` and :func:`synthdid`. Every refusal names the argument and says the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import show, suggest_column
from ..data import Dataset
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ._common import numeric
from ._panel import period_codes


@dataclass(frozen=True)
class Wide:
    """A balanced panel in wide form: ``Y[i, t]`` for units in ``units`` (treated first) and periods ``times``."""

    Y: np.ndarray  # (n_units, n_times)
    units: list[Any]
    times: list[Any]
    n_pre: int  # periods before treatment_time
    treated: list[Any]  # the treated unit(s), first rows of Y
    keep: np.ndarray  # which rows of the Dataset's frame are used
    rows: np.ndarray  # their row in Y
    codes: np.ndarray  # their column in Y
    time_codes: dict[Any, int]

    @property
    def donors(self) -> list[Any]:
        return self.units[len(self.treated) :]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _shown_list(values: Sequence[Any], limit: int = 8) -> str:
    shown = ", ".join(show(v) for v in values[:limit])
    return shown + (f", ... ({len(values)} in all)" if len(values) > limit else "")


def _find_units(wanted: Sequence[Any], units: list[Any], name: str) -> list[Any]:
    lookup = {_plain(u): u for u in units}
    out = []
    for value in wanted:
        key = _plain(value)
        if key not in lookup:
            hint = suggest_column(str(key), [str(u) for u in units])
            raise ArgumentError(
                f"`{name}` = {show(value)} is not a unit of the panel{hint}; its units include {_shown_list(units)}. "
                f"Pass a label of the unit column"
            )
        out.append(lookup[key])
    if len(set(map(_plain, out))) != len(out):
        raise ArgumentError(f"`{name}` lists a unit more than once: {show(list(wanted))}; list each unit once")
    return out


def prepare(
    ds: Dataset,
    treated_unit: Any,
    treatment_time: Any,
    donors: Sequence[Any] | None,
    *,
    min_pre: int,
    func: str,
) -> Wide:
    """The outcome as a balanced (units x periods) matrix, treated unit(s) first, then the donors in label order."""
    unit_name, time_name, y_name = str(ds.unit), str(ds.time), str(ds.outcome)
    frame = ds.frame
    tcodes, times = period_codes(frame[time_name], time_name)
    times_list = [_plain(t) for t in times]
    all_units = [_plain(u) for u in pd.unique(frame[unit_name])]
    try:
        all_units = sorted(all_units)
    except TypeError:
        all_units = sorted(all_units, key=str)
    treated_list = treated_unit if isinstance(treated_unit, (list, tuple)) else [treated_unit]
    if not treated_list:
        raise ArgumentError(f"`treated_unit` must name at least one unit; got {show(treated_unit)}")
    treated = _find_units(treated_list, all_units, "treated_unit")
    if donors is None:
        pool = [u for u in all_units if u not in treated]
    else:
        if isinstance(donors, (str, bytes)) or not isinstance(donors, Sequence):
            raise ArgumentTypeError(f"`donors` must be a list of unit labels; got {show(donors)}")
        pool = _find_units(list(donors), all_units, "donors")
        clash = [u for u in pool if u in treated]
        if clash:
            raise ArgumentError(f"`donors` includes the treated unit {show(clash[0])}; a donor must be untreated, so drop it from `donors`")
    if not pool:
        raise ArgumentError(f"`donors` is empty: {func} needs at least one untreated unit to build the synthetic control from")
    key = _plain(treatment_time)
    if key not in times_list:
        later = [t for t in times_list if _less(key, t)]
        raise ArgumentError(
            f"`treatment_time` = {show(treatment_time)} is not a period of {time_name!r} (periods {show(times_list[0])} to "
            f"{show(times_list[-1])}); pass the first treated period" + (f", e.g. {show(later[0])}" if later else "")
        )
    n_pre = times_list.index(key)
    if n_pre < min_pre:
        raise ArgumentError(
            f"`treatment_time` = {show(treatment_time)} leaves {n_pre} period(s) before treatment; {func} needs at least {min_pre} "
            f"pre-treatment periods to fit the synthetic control. Pass a later `treatment_time` or add earlier periods"
        )
    keep = frame[unit_name].map(_plain).isin(set(treated) | set(pool)).to_numpy()
    used = frame.loc[keep]
    codes = tcodes[keep]
    units = treated + pool
    index = {u: i for i, u in enumerate(units)}
    rows = used[unit_name].map(_plain).map(index).to_numpy()
    Y = np.full((len(units), len(times_list)), np.nan)
    y = numeric(ds, y_name, "outcome")[keep]
    seen = np.zeros_like(Y, dtype=int)
    np.add.at(seen, (rows, codes), 1)
    if (seen > 1).any():
        i, t = np.argwhere(seen > 1)[0]
        raise DataError(
            f"unit {show(units[i])} appears more than once in period {show(times_list[t])}; a panel needs one row per unit and "
            "period (aggregate or deduplicate first)"
        )
    Y[rows, codes] = y
    missing = (seen == 0).sum(axis=1)
    if missing.any():
        bad = [units[i] for i in np.flatnonzero(missing)]
        raise DataError(
            f"unbalanced panel: {len(bad)} unit(s) lack some of the {len(times_list)} periods: {_shown_list(bad)}; {func} needs "
            f"every unit observed in every period. Drop them from `donors` (donors=[...]) or fill the missing periods"
        )
    return Wide(Y, units, times_list, n_pre, treated, keep, rows, codes, {t: i for i, t in enumerate(times_list)})


def _less(a: Any, b: Any) -> bool:
    try:
        return bool(a < b)
    except TypeError:
        return False


def period_selection(value: Any, wide: Wide, name: str, *, pre_only: bool) -> np.ndarray:
    """Column indices of the periods named in ``value`` (None: all pre-treatment periods)."""
    if value is None:
        return np.arange(wide.n_pre)
    items = list(value) if isinstance(value, (list, tuple, np.ndarray, pd.Index, range)) else [value]
    if not items:
        raise ArgumentError(f"`{name}` is empty; name at least one period, or leave it None for every pre-treatment period")
    out = []
    for t in items:
        key = _plain(t)
        if key not in wide.time_codes:
            raise ArgumentError(
                f"`{name}` names period {show(t)}, which is not in the panel (periods {show(wide.times[0])} to {show(wide.times[-1])})"
            )
        out.append(wide.time_codes[key])
    idx = np.array(sorted(set(out)))
    if pre_only and idx.max() >= wide.n_pre:
        bad = wide.times[int(idx.max())]
        raise ArgumentError(
            f"`{name}` includes period {show(bad)}, which is not before `treatment_time` = {show(wide.times[wide.n_pre])}; "
            "predictors and the fitted outcome must come from the pre-treatment periods only"
        )
    return idx


def predictor_matrix(ds: Dataset, wide: Wide, predictors: Any, predictor_periods: Any) -> tuple[np.ndarray, list[str]]:
    """(k, n_units) predictor values: each predictor's mean over its periods, and the predictor labels.

    ``predictors`` items are column names (mean over ``predictor_periods``) or ``(column, periods)`` pairs.
    """
    if predictors is None:
        return np.empty((0, len(wide.units))), []
    items = [predictors] if isinstance(predictors, str) else list(predictors)
    base = period_selection(predictor_periods, wide, "predictor_periods", pre_only=True)
    rows, names = [], []
    n_units = len(wide.units)
    for item in items:
        if isinstance(item, str):
            column, idx, label = item, base, item
        elif isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str):
            column = item[0]
            idx = period_selection(item[1], wide, "predictors", pre_only=True)
            periods = [wide.times[i] for i in idx]
            label = (
                f"{column} ({', '.join(str(p) for p in periods)})"
                if len(periods) <= 4
                else f"{column} ({periods[0]}-{periods[-1]}, {len(periods)} periods)"
            )
        else:
            raise ArgumentTypeError(
                f"each item of `predictors` must be a column name or a (column, periods) pair such as ('income', [1990, 1991]); "
                f"got {show(item)}"
            )
        if column not in ds.frame.columns:
            raise ArgumentError(f"`predictors` names column {column!r}, which is not in the data{suggest_column(column, ds.frame.columns)}")
        values = numeric(ds, column, "predictor")
        mat = np.full((n_units, len(wide.times)), np.nan)
        mat[wide.rows, wide.codes] = values[wide.keep]
        sub = mat[:, idx]
        if np.isnan(sub).any():
            bad = [wide.units[i] for i in np.flatnonzero(np.isnan(sub).any(axis=1))]
            raise DataError(
                f"predictor {column!r} is missing for {_shown_list(bad)} in the periods it is averaged over; fill it or drop those units"
            )
        rows.append(sub.mean(axis=1))
        names.append(label)
    if len(set(names)) != len(names):
        raise ArgumentError(f"`predictors` lists the same predictor twice: {show(names)}; list each once")
    return np.vstack(rows), names
