"""Turning the ways users pass samples (arrays, or a DataFrame with column names) into checked arrays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_array, check_column, show
from ..data import Dataset
from ..exceptions import ArgumentError, ArgumentTypeError, DataError


@dataclass(frozen=True)
class Samples:
    """Checked samples with display names, and the fingerprint of the data they came from (if any)."""

    arrays: tuple[np.ndarray, ...]
    names: tuple[str, ...]
    response: str | None = None
    fingerprint: str | None = None


def plain(value: Any) -> Any:
    """A NumPy scalar as the Python number it holds (so messages print ``0``, not ``np.int64(0)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _labels(index: pd.Index, limit: int = 3) -> str:
    vals = [plain(v) for v in list(index[:limit])]
    return show(vals) + (" ..." if len(index) > limit else "")


def align_by_index(**named: Any) -> dict[str, Any]:
    """Put inputs that must be paired row by row into one order, by their index labels.

    Arguments that carry an index (pandas Series or DataFrame) are aligned on it: when their label sets are the
    same, every one of them is reordered to the order of the first indexed argument. Plain arrays and lists have
    no labels, so they pair by position with that order (that is their only meaning). Inputs whose labels cannot
    be matched one to one (different label sets, or duplicate labels in an order that differs) are refused with a
    :class:`~causalinfer.exceptions.DataError` naming both arguments, never paired by position.

    Returns a dict with the same keys, in the same order, holding the (possibly reordered) values.
    """
    indexed = [(k, v) for k, v in named.items() if isinstance(v, (pd.Series, pd.DataFrame))]
    if len(indexed) < 2:
        return dict(named)
    first_name, first_value = indexed[0]
    ref = first_value.index
    out = dict(named)
    for name, value in indexed[1:]:
        idx = value.index
        if idx.equals(ref):
            continue  # same labels in the same order: pairing by position is pairing by label
        for nm, ix in ((first_name, ref), (name, idx)):
            if not ix.is_unique:
                dup = ix[ix.duplicated()].unique()
                raise DataError(
                    f"`{nm}` has duplicate index labels ({_labels(dup)}), so its rows cannot be matched to those of "
                    f"`{first_name if nm == name else name}` by label; give it a unique index, or pass plain arrays "
                    "(.to_numpy()) if the rows are already in matching order"
                )
        if len(idx) != len(ref) or ref.get_indexer(idx).min(initial=0) < 0:
            only_a = ref.difference(idx)
            only_b = idx.difference(ref)
            parts = []
            if len(only_a):
                parts.append(f"{len(only_a)} label(s) of `{first_name}` are not in `{name}` ({_labels(only_a)})")
            if len(only_b):
                parts.append(f"{len(only_b)} label(s) of `{name}` are not in `{first_name}` ({_labels(only_b)})")
            raise DataError(
                f"`{first_name}` and `{name}` must be paired row by row, but their index labels differ: "
                + "; ".join(parts)
                + f". Select the common rows (e.g. {name}.loc[common]) or pass plain arrays (.to_numpy()) if the rows "
                "are already in matching order"
            )
        out[name] = value.reindex(ref)
    return out


def _frame_of(data: Any) -> tuple[pd.DataFrame, str | None]:
    if isinstance(data, Dataset):
        return data.frame, data.fingerprint(roles=False)
    if isinstance(data, pd.DataFrame):
        return data, None
    raise ArgumentTypeError(f"`data` must be a pandas DataFrame or a causalinfer Dataset; got {type(data).__name__}")


def _column(frame: pd.DataFrame, name: Any, arg: str) -> pd.Series:
    check_column(frame, name, arg)
    return frame[name]


def group_levels(
    frame: pd.DataFrame, group: Any, levels: Sequence[Any] | None, *, exactly: int | None = None, at_least: int = 2
) -> tuple[pd.Series, list[Any]]:
    """The ``group`` column of ``frame`` and the order of its levels, checked.

    Levels sort as R orders factor levels unless ``levels`` gives them. ``exactly`` (e.g. 2 for a two-sample test)
    or ``at_least`` bounds how many levels there must be; errors name the column and the levels present.
    """
    g = _column(frame, group, "group")
    if g.isna().any():
        raise DataError(f"`group` column {group!r} has {int(g.isna().sum())} missing value(s); drop those rows first")
    found = [plain(v) for v in pd.unique(g)]
    if levels is None:
        try:
            order = sorted(found)
        except TypeError:
            order = found
        if exactly is not None and len(order) != exactly:
            raise DataError(
                f"`group` column {group!r} must have exactly {exactly} levels; it has {len(order)}: {show(order)}. "
                f"Pass levels=(...) to choose {exactly} of them"
            )
    else:
        order = list(levels)
        if exactly is not None and len(order) != exactly:
            raise ArgumentError(f"`levels` must name exactly {exactly} groups; got {show(levels)}")
        missing = [lv for lv in order if lv not in found]
        if missing:
            raise ArgumentError(f"`levels` {show(missing)} not found in `group` column {group!r} (levels present: {show(found)})")
    if len(order) < at_least:
        raise DataError(f"`group` column {group!r} must have at least {at_least} levels; it has {len(order)}: {show(order)}")
    return g, order


def one_sample(x: Any, *, data: Any = None, name: str = "x", min_size: int = 1) -> Samples:
    """One numeric sample: an array, or a column name of ``data``."""
    fp = None
    label = name
    if data is not None:
        frame, fp = _frame_of(data)
        label = str(x)
        x = _column(frame, x, name)
    elif isinstance(x, str):
        raise ArgumentTypeError(f"`{name}` is the column name {x!r} but no `data` was given; pass data=your_dataframe")
    arr = check_array(x, name, min_size=min_size)
    return Samples((arr,), (label,), fingerprint=fp)


def two_samples(
    x: Any,
    y: Any = None,
    *,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    paired: bool = False,
    min_size: int = 1,
    names: tuple[str, str] = ("x", "y"),
) -> Samples:
    """Two numeric samples, from two arrays, two columns of ``data``, or a response column split by ``group``.

    With ``group``, the first sample is the group that sorts first (as R orders factor levels) unless
    ``levels`` gives the order; ``group`` must have exactly two levels (after ``levels`` selects them).
    """
    fp = None
    if group is not None:
        if data is None:
            raise ArgumentError("`group` names a column, so `data` must be given too")
        if y is not None:
            raise ArgumentError("give either `y` or `group`, not both")
        if paired:
            raise ArgumentError("a paired test needs two columns (x and y), not a `group` column; pass paired data in wide form")
        frame, fp = _frame_of(data)
        values = _column(frame, x, "x")
        g, order = group_levels(frame, group, levels, exactly=2)
        a = check_array(values[g == order[0]], f"x[{group}={order[0]!r}]", min_size=min_size)
        b = check_array(values[g == order[1]], f"x[{group}={order[1]!r}]", min_size=min_size)
        return Samples((a, b), (f"{group}={order[0]}", f"{group}={order[1]}"), response=str(x), fingerprint=fp)
    if y is None:
        raise ArgumentError("a two-sample test needs `y` (a second sample) or `group` (a column splitting `x` into two groups)")
    label = names
    if data is not None:
        frame, fp = _frame_of(data)
        label = (str(x), str(y))
        x = _column(frame, x, names[0])
        y = _column(frame, y, names[1])
    elif isinstance(x, str) or isinstance(y, str):
        raise ArgumentTypeError("`x` and `y` are column names but no `data` was given; pass data=your_dataframe")
    if paired:
        aligned = align_by_index(**{names[0]: x, names[1]: y})
        x, y = aligned[names[0]], aligned[names[1]]
        a = check_array(x, names[0], allow_nan=True, min_size=min_size)
        b = check_array(y, names[1], allow_nan=True, min_size=min_size)
        if a.shape != b.shape:
            raise DataError(f"paired samples must have the same length; `{names[0]}` has {a.size} values and `{names[1]}` has {b.size}")
        for arr, nm in ((a, names[0]), (b, names[1])):
            bad = int(np.isnan(arr).sum())
            if bad:
                raise DataError(f"`{nm}` contains {bad} missing value(s) (NaN); drop incomplete pairs first")
            if np.isinf(arr).any():
                raise DataError(f"`{nm}` contains infinite values; remove or recode them first")
    else:
        a = check_array(x, names[0], min_size=min_size)
        b = check_array(y, names[1], min_size=min_size)
    return Samples((a, b), label, fingerprint=fp)
