"""Several samples for k-group tests: arrays, several columns of a table, or one column split by a group column."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_array, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ._inputs import Samples, _column, _frame_of, group_levels
from ._stable import check_squares, mean_sd


def k_samples(
    samples: Sequence[Any],
    *,
    data: Any = None,
    group: str | None = None,
    levels: Sequence[Any] | None = None,
    min_groups: int = 2,
    min_size: int = 1,
) -> Samples:
    """Checked samples from ``f(a, b, c)``, ``f({"a": a, "b": b})``, ``f("a", "b", data=df)`` or ``f("y", data=df, group="g")``.

    In long form the groups are ordered as R orders factor levels (sorted) unless ``levels`` gives the order.
    """
    fp = None
    if group is not None:
        if data is None:
            raise ArgumentError("`group` names a column, so `data` must be given too")
        if len(samples) != 1:
            raise ArgumentError(f"with `group`, pass exactly one response column name; got {len(samples)} samples")
        frame, fp = _frame_of(data)
        response = samples[0]
        values = _column(frame, response, "x")
        g, order = group_levels(frame, group, levels, at_least=min_groups)
        arrays = tuple(check_array(values[g == lv], f"x[{group}={lv!r}]", min_size=min_size) for lv in order)
        return Samples(arrays, tuple(f"{lv}" for lv in order), response=str(response), fingerprint=fp)
    if levels is not None:
        raise ArgumentError("`levels` only applies with `group` (long-form data)")
    if len(samples) == 1 and isinstance(samples[0], Mapping) and data is None:
        named = dict(samples[0])
        arrays = tuple(check_array(v, f"samples[{k!r}]", min_size=min_size) for k, v in named.items())
        if len(arrays) < min_groups:
            raise DataError(f"need at least {min_groups} samples (groups); got {len(arrays)}")
        return Samples(arrays, tuple(str(k) for k in named))
    if len(samples) == 1 and isinstance(samples[0], (list, tuple)) and samples[0] and not np.isscalar(samples[0][0]):
        samples = tuple(samples[0])
    if data is None:
        for i, s in enumerate(samples):
            if isinstance(s, str):
                raise ArgumentTypeError(f"sample {i} is the column name {s!r} but no `data` was given; pass data=your_dataframe")
    if len(samples) < min_groups:
        raise DataError(f"need at least {min_groups} samples (groups); got {len(samples)}. Pass several arrays, or data= with group=")
    if data is not None:
        frame, fp = _frame_of(data)
        names: list[str] = []
        cols = []
        for i, s in enumerate(samples):
            if not isinstance(s, str):
                raise ArgumentTypeError(f"with `data`, samples must be column names; sample {i} is {show(s)}")
            names.append(s)
            cols.append(_column(frame, s, f"samples[{i}]"))
        arrays = tuple(check_array(c, f"samples[{i}] ({names[i]!r})", min_size=min_size) for i, c in enumerate(cols))
        return Samples(arrays, tuple(names), fingerprint=fp)
    arrays = tuple(check_array(s, f"samples[{i}]", min_size=min_size) for i, s in enumerate(samples))
    return Samples(arrays, tuple(str(i + 1) for i in range(len(arrays))))


def shifted_moments(arrays: Sequence[np.ndarray]) -> tuple[float, list[float], list[float], list[float]]:
    """Shift, group means of shifted data, within-group sums of squares and variances, computed accurately.

    All data are shifted by one central value first (exact for data sharing many leading digits), means use
    ``math.fsum`` and sums of squares the corrected two-pass formula, so large constant offsets cost no accuracy.
    """
    allx = np.concatenate(arrays)
    c = float(np.median(allx))
    check_squares([allx - c], ["samples"], "sums of squares (and the F statistic built from them)")
    means, ss, var = [], [], []
    for a in arrays:
        y = a - c
        m = math.fsum(y) / y.size
        d = y - m
        s = math.fsum(d * d) - math.fsum(d) ** 2 / y.size
        s = max(s, 0.0)
        means.append(m)
        ss.append(s)
        var.append(s / (y.size - 1) if y.size > 1 else math.nan)
    return c, means, ss, var


def group_table(samples: Samples) -> pd.DataFrame:
    """n, mean, sd and median per group."""
    rows = [
        {
            "group": name,
            "n": int(a.size),
            "mean": mean_sd(a)[0],
            "sd": mean_sd(a)[1],
            "median": float(np.median(a)),
        }
        for name, a in zip(samples.names, samples.arrays, strict=True)
    ]
    return pd.DataFrame(rows, columns=["group", "n", "mean", "sd", "median"])
