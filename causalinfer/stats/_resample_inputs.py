"""Samples and statistics for the resampling engine: checked arrays, named statistics and callables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_array, check_column, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ._inputs import _frame_of, align_by_index, group_levels


def _mean(x: np.ndarray, axis: int = -1) -> Any:
    return np.mean(x, axis=axis)


def _median(x: np.ndarray, axis: int = -1) -> Any:
    return np.median(x, axis=axis)


def _mean_diff(x: np.ndarray, y: np.ndarray, axis: int = -1) -> Any:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def _median_diff(x: np.ndarray, y: np.ndarray, axis: int = -1) -> Any:
    return np.median(x, axis=axis) - np.median(y, axis=axis)


@dataclass(frozen=True)
class Statistic:
    """A statistic of ``k`` samples: a vectorised function (axis=-1), and, for named ones, its fast path."""

    name: str | None  # "mean", "median", "mean_diff", "median_diff", or None for a user callable
    func: Callable[..., Any]
    n_samples: int | None  # None: any number
    label: str  # for the estimand, e.g. "mean" or "difference in means"


NAMED: dict[str, Statistic] = {
    "mean": Statistic("mean", _mean, 1, "mean"),
    "median": Statistic("median", _median, 1, "median"),
    "mean_diff": Statistic("mean_diff", _mean_diff, 2, "difference in means"),
    "median_diff": Statistic("median_diff", _median_diff, 2, "difference in medians"),
}


def resolve_statistic(statistic: Any) -> Statistic:
    if isinstance(statistic, str):
        if statistic not in NAMED:
            from .._validation import check_choice

            check_choice(statistic, "statistic", tuple(NAMED))
        return NAMED[statistic]
    if callable(statistic):
        name = getattr(statistic, "__name__", "statistic")
        return Statistic(None, statistic, None, f"{name}" if name != "<lambda>" else "statistic")
    raise ArgumentTypeError(f"`statistic` must be a name ({', '.join(map(repr, NAMED))}) or a vectorised callable; got {show(statistic)}")


@dataclass(frozen=True)
class SampleSet:
    arrays: tuple[np.ndarray, ...]
    names: tuple[str, ...]  # display names
    args: tuple[str, ...]  # argument names for error messages
    response: str | None
    fingerprint: str | None


def _arg_names(k: int) -> tuple[str, ...]:
    if k <= 2:
        return ("x", "y")[:k]
    return tuple(f"samples[{i}]" for i in range(k))


def collect_samples(
    samples: Sequence[Any], *, data: Any, group: str | None, levels: Sequence[Any] | None, paired: bool, min_size: int, what: str
) -> SampleSet:
    """Checked float arrays from positional samples (arrays or column names of ``data``) or one column split by ``group``."""
    if len(samples) == 0:
        raise ArgumentError(f"{what} needs at least one sample: pass arrays (or column names with data=)")
    fp = None
    response = None
    if group is not None:
        if data is None:
            raise ArgumentError("`group` names a column, so `data` must be given too")
        if len(samples) != 1:
            raise ArgumentError(f"with `group`, pass exactly one sample (the response column); got {len(samples)}")
        if paired:
            raise ArgumentError("a paired design needs the samples as separate columns (wide form), not a `group` column")
        frame, fp = _frame_of(data)
        check_column(frame, samples[0], "x")
        g, order = group_levels(frame, group, levels, at_least=2)
        values = frame[samples[0]]
        arrays = tuple(check_array(values[g == lv], f"x[{group}={lv!r}]", min_size=0) for lv in order)
        names = tuple(f"{group}={lv}" for lv in order)
        args = tuple(f"x[{group}={lv!r}]" for lv in order)
        response = str(samples[0])
    else:
        args = _arg_names(len(samples))
        if data is not None:
            frame, fp = _frame_of(data)
            cols = [frame[check_column(frame, s, a)] for s, a in zip(samples, args, strict=True)]
            names = tuple(str(s) for s in samples)
            arrays = tuple(check_array(c, a, min_size=0) for c, a in zip(cols, args, strict=True))
        else:
            for s, a in zip(samples, args, strict=True):
                if isinstance(s, str):
                    raise ArgumentTypeError(f"`{a}` is the column name {s!r} but no `data` was given; pass data=your_dataframe")
            if paired and len(samples) == 2:
                aligned = align_by_index(**dict(zip(args, samples, strict=True)))
                samples = tuple(aligned[a] for a in args)
            arrays = tuple(check_array(s, a, min_size=0) for s, a in zip(samples, args, strict=True))
            names = args
    for arr, a in zip(arrays, args, strict=True):
        if arr.size < min_size:
            raise DataError(f"`{a}` has {arr.size} observation(s); {what} needs at least {min_size} per sample")
    if paired:
        if len(arrays) != 2:
            raise ArgumentError(f"`paired` = True needs exactly two samples of equal length; got {len(arrays)} sample(s)")
        if arrays[0].size != arrays[1].size:
            raise DataError(
                f"paired samples must have the same length; `{args[0]}` has {arrays[0].size} values and `{args[1]}` has {arrays[1].size}"
            )
    return SampleSet(arrays, names, args, response, fp)


def check_statistic_output(stat: Statistic, arrays: tuple[np.ndarray, ...]) -> float:
    """Evaluate the statistic on the data (a finite scalar) and on a batch of two (shape (2,)): else a clear error."""
    if stat.n_samples is not None and stat.n_samples != len(arrays):
        raise ArgumentError(
            f"`statistic` = {stat.name!r} takes {stat.n_samples} sample(s) but {len(arrays)} were given"
            + ("; use 'mean_diff' or 'median_diff' for two samples" if len(arrays) == 2 else "")
        )
    try:
        value = np.asarray(stat.func(*arrays, axis=-1))
        batch = np.asarray(stat.func(*(np.stack([a, a]) for a in arrays), axis=-1))
    except Exception as exc:
        raise ArgumentError(
            f"`statistic` raised {type(exc).__name__}: {exc}. It must accept the samples and a keyword axis "
            "(computing along axis=-1), like np.mean"
        ) from exc
    if value.shape != ():
        raise ArgumentError(f"`statistic` must return one number per resample (a scalar for 1-D samples); it returned shape {value.shape}")
    if batch.shape != (2,):
        raise ArgumentError(
            f"`statistic` must be vectorised: for samples of shape (m, n) and axis=-1 it must return shape (m,); it returned {batch.shape} for m = 2"
        )
    if not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
        raise ArgumentError(f"`statistic` must return real numbers; it returned dtype {value.dtype}")
    v = float(value)
    if not np.isfinite(v):
        raise DataError(f"`statistic` is {v} on the data; it must be finite on the observed samples")
    return v
