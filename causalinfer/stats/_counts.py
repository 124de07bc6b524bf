"""Turning the ways users pass binary and count data into checked counts.

A proportion can be given as a count of successes with a number of trials, as an array of 0/1 (or
True/False) outcomes, or as a column of ``data``. Two proportions can be given as two counts with two trial
numbers, a 2 x 2 table (rows are the groups, columns are success and failure), two binary arrays, or a binary
column split by a ``group`` column (long form). Contingency tables are checked for non-negative integer counts.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_array, check_column, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ._inputs import _frame_of, align_by_index, group_levels


@dataclass(frozen=True)
class OneCount:
    """Successes ``x`` out of ``n`` trials, with a label for the success event."""

    x: int
    n: int
    label: str
    fingerprint: str | None = None


@dataclass(frozen=True)
class TwoCounts:
    """Successes and trials in two groups, with the group names."""

    x1: int
    n1: int
    x2: int
    n2: int
    names: tuple[str, str]
    response: str | None = None
    fingerprint: str | None = None

    @property
    def table(self) -> np.ndarray:
        """The 2 x 2 table: rows are the groups, columns are success and failure."""
        return np.array([[self.x1, self.n1 - self.x1], [self.x2, self.n2 - self.x2]], dtype=float)


def check_count(value: Any, name: str, *, minimum: int = 0) -> int:
    """A whole number >= ``minimum`` (floats that are whole numbers are accepted)."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise ArgumentTypeError(f"`{name}` must be a whole number (a count); got {show(value)}")
    v = float(value)
    if not math.isfinite(v):
        raise DataError(f"`{name}` must be a finite count; got {show(value)}")
    if v != round(v):
        raise DataError(f"`{name}` must be a whole number (a count); got {show(value)}")
    if v < minimum:
        what = "non-negative" if minimum == 0 else f">= {minimum}"
        raise DataError(f"`{name}` must be a {what} count; got {show(value)}")
    return round(v)


def check_counts_vector(values: Any, name: str, *, min_size: int = 1) -> np.ndarray:
    """A 1-D array of non-negative whole-number counts."""
    arr = check_array(values, name, min_size=min_size)
    _check_whole(arr, name)
    return arr


def check_table(values: Any, name: str = "x", *, shape: tuple[int, int] | None = None) -> np.ndarray:
    """A 2-D contingency table of non-negative whole-number counts (at least 2 x 2, or exactly ``shape``)."""
    if isinstance(values, pd.DataFrame):
        values = values.to_numpy()
    arr = check_array(values, name, ndim=2)
    if shape is not None and arr.shape != shape:
        raise DataError(f"`{name}` must be a {shape[0]} x {shape[1]} table; got shape {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        raise DataError(f"`{name}` must be a table with at least 2 rows and 2 columns; got shape {arr.shape}")
    _check_whole(arr, name)
    return arr


def _check_whole(arr: np.ndarray, name: str) -> None:
    if (arr < 0).any():
        raise DataError(
            f"`{name}` must hold non-negative counts; got {int((arr < 0).sum())} negative value(s), e.g. {arr[arr < 0].flat[0]:g}"
        )
    frac = np.abs(arr - np.round(arr)) > 1e-7
    if frac.any():
        raise DataError(f"`{name}` must hold whole-number counts; got a non-integer value {arr[frac].flat[0]:g}")


def binary_array(values: Any, name: str, success: Any = None) -> np.ndarray:
    """A boolean array of outcomes: 0/1 or True/False values, or ``values == success``."""
    if success is not None:
        if isinstance(values, (pd.Series, pd.Index)):
            missing = int(np.asarray(values.isna()).sum())
            if missing:
                raise DataError(f"`{name}` contains {missing} missing value(s); drop them first")
            out = (values == success).to_numpy(dtype=bool)
        else:
            raw = np.asarray(values)
            if raw.ndim != 1:
                raise ArgumentTypeError(f"`{name}` must be one-dimensional; got shape {raw.shape}")
            if raw.dtype.kind == "f" and np.isnan(raw).any():
                raise DataError(f"`{name}` contains {int(np.isnan(raw).sum())} missing value(s) (NaN); drop them first")
            out = raw == success
        if out.size == 0:
            raise DataError(f"`{name}` needs at least 1 observation; got 0")
        return np.asarray(out, dtype=bool)
    arr = check_array(values, name)
    bad = ~np.isin(arr, (0.0, 1.0))
    if bad.any():
        raise DataError(
            f"`{name}` must hold binary outcomes (0/1 or True/False); got the value {arr[bad][0]:g}. "
            "Pass success=<value> to say which value counts as a success"
        )
    return arr.astype(bool)


def one_count(x: Any, n: Any = None, *, data: Any = None, success: Any = None) -> OneCount:
    """Successes and trials from a count and ``n``, a binary array, or a column of ``data``."""
    if data is not None:
        if n is not None:
            raise ArgumentError("give either `n` (with a count `x`) or `data` (with a column name `x`), not both")
        frame, fp = _frame_of(data)
        check_column(frame, x, "x")
        b = binary_array(frame[x], "x", success)
        return OneCount(int(b.sum()), int(b.size), f"{x}" + (f" == {success!r}" if success is not None else ""), fp)
    if n is not None:
        k = check_count(x, "x")
        nn = check_count(n, "n", minimum=1)
        if k > nn:
            raise DataError(f"`x` (successes) must not exceed `n` (trials); got x = {k} and n = {nn}")
        return OneCount(k, nn, "x")
    if isinstance(x, str):
        raise ArgumentTypeError(f"`x` is the column name {x!r} but no `data` was given; pass data=your_dataframe")
    if np.ndim(x) == 0:
        raise ArgumentError(f"`x` is a single count ({show(x)}), so `n` (the number of trials) must be given too")
    b = binary_array(x, "x", success)
    return OneCount(int(b.sum()), int(b.size), "x")


def two_counts(
    x: Any,
    y: Any = None,
    *,
    n: Any = None,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    success: Any = None,
) -> TwoCounts:
    """Successes and trials in two groups (see the module docstring for the accepted forms)."""
    if group is not None:
        if data is None:
            raise ArgumentError("`group` names a column, so `data` must be given too")
        if y is not None or n is not None:
            raise ArgumentError("with `group`, give the outcome column as `x` only (no `y` or `n`)")
        frame, fp = _frame_of(data)
        check_column(frame, x, "x")
        g, order = group_levels(frame, group, levels, exactly=2)
        b1 = binary_array(frame[x][g == order[0]], f"x[{group}={order[0]!r}]", success)
        b2 = binary_array(frame[x][g == order[1]], f"x[{group}={order[1]!r}]", success)
        return TwoCounts(
            int(b1.sum()), int(b1.size), int(b2.sum()), int(b2.size), (f"{group}={order[0]}", f"{group}={order[1]}"), str(x), fp
        )
    if n is not None:
        if y is not None or data is not None:
            raise ArgumentError("with `n` (trials), give the successes as `x` = (x1, x2) only (no `y` or `data`)")
        xs = check_counts_vector(x, "x")
        ns = check_counts_vector(n, "n")
        if xs.size != 2 or ns.size != 2:
            raise DataError(
                f"`x` and `n` must each hold two counts (one per group); got {xs.size} and {ns.size}. "
                "For two samples of 0/1 outcomes pass the second one as `y`"
            )
        if (ns < 1).any():
            raise DataError(f"`n` (trials) must be positive in both groups; got {show(ns.tolist())}")
        if (xs > ns).any():
            raise DataError(f"`x` (successes) must not exceed `n` (trials); got x = {show(xs.tolist())} and n = {show(ns.tolist())}")
        return TwoCounts(int(xs[0]), int(ns[0]), int(xs[1]), int(ns[1]), ("group 1", "group 2"))
    if y is None and data is None and not isinstance(x, str) and np.ndim(x) == 2:
        t = check_table(x, "x", shape=(2, 2))
        rows = t.sum(axis=1)
        if (rows < 1).any():
            raise DataError("each row (group) of the 2 x 2 table `x` needs at least one observation")
        return TwoCounts(int(t[0, 0]), int(rows[0]), int(t[1, 0]), int(rows[1]), ("row 1", "row 2"))
    if y is None:
        raise ArgumentError(
            "two proportions need `x` = (x1, x2) with `n` = (n1, n2), a 2 x 2 table, two binary samples `x` and `y`, "
            "or a binary column `x` with `group` and `data`"
        )
    fp = None
    names = ("x", "y")
    if data is not None:
        frame, fp = _frame_of(data)
        check_column(frame, x, "x")
        check_column(frame, y, "y")
        names = (str(x), str(y))
        x, y = frame[x], frame[y]
    elif isinstance(x, str) or isinstance(y, str):
        raise ArgumentTypeError("`x` and `y` are column names but no `data` was given; pass data=your_dataframe")
    b1 = binary_array(x, "x", success)
    b2 = binary_array(y, "y", success)
    return TwoCounts(int(b1.sum()), int(b1.size), int(b2.sum()), int(b2.size), names, None, fp)


def paired_table(x: Any, y: Any = None, *, data: Any = None, success: Any = None) -> tuple[np.ndarray, str | None]:
    """A 2 x 2 table of paired binary outcomes (rows: x success/failure, columns: y success/failure)."""
    if y is None:
        if isinstance(x, str):
            raise ArgumentError("a paired table needs two columns: pass `x` and `y` with `data`")
        return check_table(x, "x", shape=(2, 2)), None
    fp = None
    if data is not None:
        frame, fp = _frame_of(data)
        check_column(frame, x, "x")
        check_column(frame, y, "y")
        x, y = frame[x], frame[y]
    elif isinstance(x, str) or isinstance(y, str):
        raise ArgumentTypeError("`x` and `y` are column names but no `data` was given; pass data=your_dataframe")
    else:
        aligned = align_by_index(x=x, y=y)
        x, y = aligned["x"], aligned["y"]
    a = binary_array(x, "x", success)
    b = binary_array(y, "y", success)
    if a.size != b.size:
        raise DataError(f"paired outcomes must have the same length; `x` has {a.size} values and `y` has {b.size}")
    t = np.array([[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]], dtype=float)
    return t, fp


def crosstab(x: Any, y: Any, *, data: Any = None) -> tuple[np.ndarray, list[Any], list[Any], str | None]:
    """Cross-tabulate two categorical variables (arrays or columns of ``data``) into a count table."""
    fp = None
    if data is not None:
        frame, fp = _frame_of(data)
        check_column(frame, x, "x")
        check_column(frame, y, "y")
        sx, sy = frame[x], frame[y]
    else:
        if isinstance(x, str) or isinstance(y, str):
            raise ArgumentTypeError("`x` and `y` are column names but no `data` was given; pass data=your_dataframe")
        aligned = align_by_index(x=x, y=y)
        x, y = aligned["x"], aligned["y"]
        sx = pd.Series(x.to_numpy()) if isinstance(x, pd.Series) else pd.Series(np.asarray(x))
        sy = pd.Series(y.to_numpy()) if isinstance(y, pd.Series) else pd.Series(np.asarray(y))
        if sx.ndim != 1 or sy.ndim != 1:
            raise ArgumentTypeError("`x` and `y` must be one-dimensional")
    if len(sx) != len(sy):
        raise DataError(f"`x` and `y` must have the same length; got {len(sx)} and {len(sy)}")
    if len(sx) == 0:
        raise DataError("`x` and `y` need at least one observation; got 0")
    for s, nm in ((sx, "x"), (sy, "y")):
        if s.isna().any():
            raise DataError(f"`{nm}` contains {int(s.isna().sum())} missing value(s); drop them first")
    tab = pd.crosstab(sx.reset_index(drop=True), sy.reset_index(drop=True))
    if tab.shape[0] < 2 or tab.shape[1] < 2:
        raise DataError(f"`x` and `y` must each take at least two distinct values; the cross-table has shape {tab.shape}")
    return tab.to_numpy(dtype=float), list(tab.index), list(tab.columns), fp
