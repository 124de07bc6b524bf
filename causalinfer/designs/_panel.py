"""Panel bookkeeping for difference-in-differences: unit/time codes, balance, treatment timing."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataError, RoleError


@dataclass(frozen=True)
class Panel:
    """Integer codes for units and periods of a long panel, plus the sorted period values."""

    unit_codes: np.ndarray
    time_codes: np.ndarray
    units: np.ndarray
    times: np.ndarray
    balanced: bool

    @property
    def n_units(self) -> int:
        return int(self.units.size)

    @property
    def n_times(self) -> int:
        return int(self.times.size)


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds, so messages print 3, not np.int64(3)."""
    return value.item() if isinstance(value, np.generic) else value


def has_order(values: pd.Series) -> bool:
    """Whether the values carry their own order: numbers, booleans, dates, durations or an ordered Categorical."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return bool(dtype.ordered)
    return bool(
        pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype)
    )


def sorted_labels(values: pd.Series) -> list[object]:
    """Distinct labels sorted as text, for messages only (never used as an order)."""
    return sorted(pd.unique(values.dropna()).tolist(), key=str)


def unordered_time_error(values: pd.Series, time_name: str, extra: str = "") -> RoleError:
    """The error for period labels that are not numbers or dates: their order has to be stated."""
    labs = sorted_labels(values)
    shown = ", ".join(repr(v) for v in labs[:6]) + (", ..." if len(labs) > 6 else "")
    return RoleError(
        f"time {time_name!r} has labels that are not numbers or dates ({shown}), so the order of the periods cannot be read "
        f"from them (sorting text would put them in alphabetical order); {extra}code the periods as numbers or dates, or "
        f"as an ordered Categorical: pd.Categorical(data[{time_name!r}], categories=[<first>, ..., <last>], ordered=True)"
    )


def period_codes(time: pd.Series, time_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of the periods in their stated order, and the period labels in that order."""
    if not has_order(time):
        raise unordered_time_error(time, time_name)
    if isinstance(time.dtype, pd.CategoricalDtype):
        cat = time.cat.remove_unused_categories()
        return cat.cat.codes.to_numpy().astype(np.int64), np.asarray(list(cat.cat.categories))
    codes, times = pd.factorize(time.to_numpy(), sort=True)
    return codes.astype(np.int64), np.asarray(times)


def make_panel(unit: np.ndarray, time: pd.Series, unit_name: str, time_name: str) -> Panel:
    """Codes for a long panel; refuses repeated (unit, time) rows and periods without a stated order."""
    ucodes, units = pd.factorize(unit, sort=True)
    tcodes, times = period_codes(time, time_name)
    key = ucodes.astype(np.int64) * len(times) + tcodes
    if np.unique(key).size != key.size:
        dup = pd.Series(key).duplicated()
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(
            f"unit {unit_name!r} = {_plain(unit[i])!r} appears more than once in period {time_name!r} = {_plain(time.iloc[i])!r}; a panel needs "
            "one row per unit and period (aggregate or deduplicate first)"
        )
    balanced = key.size == len(units) * len(times)
    return Panel(ucodes.astype(np.int64), tcodes.astype(np.int64), np.asarray(units), np.asarray(times), balanced)


def first_treated(d: np.ndarray, panel: Panel, treatment: str) -> np.ndarray:
    """Per unit, the code of the first period with ``d`` = 1 (``n_times`` for never treated).

    Refuses a treatment that is not 0/1 or that switches off again (designs assume absorbing treatment).
    """
    if not np.isin(d, (0.0, 1.0)).all():
        raise RoleError(
            f"treatment {treatment!r} must be 0/1 (1 from the first treated period on); it has values {np.unique(d)[:6].tolist()}"
        )
    order = np.lexsort((panel.time_codes, panel.unit_codes))
    u, t, dd = panel.unit_codes[order], panel.time_codes[order], d[order]
    first = np.full(panel.n_units, panel.n_times, dtype=np.int64)
    treated_rows = dd == 1
    np.minimum.at(first, u[treated_rows], t[treated_rows])
    off_after_on = treated_rows.copy()
    off_after_on[:] = (dd == 0) & (t > first[u])
    if off_after_on.any():
        i = int(np.flatnonzero(off_after_on)[0])
        raise RoleError(
            f"treatment {treatment!r} switches off again for unit {_plain(panel.units[u[i]])!r} (0 in period {_plain(panel.times[t[i]])!r} after being 1); "
            "this design assumes that once treated, a unit stays treated"
        )
    return first
