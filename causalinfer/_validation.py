"""Input checks shared by every public entry point.

Each helper either returns the cleaned value or raises a :class:`~causalinfer.exceptions.CausalInferError`
subclass whose message names the argument, echoes the value it got and says what is expected.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import ArgumentError, ArgumentTypeError, DataError, RoleError

ALTERNATIVES = ("two-sided", "less", "greater")


def show(value: Any, limit: int = 60) -> str:
    """A short, safe ``repr`` of ``value`` for error messages."""
    if isinstance(value, np.ndarray):
        text = f"array of shape {value.shape} and dtype {value.dtype}"
    elif isinstance(value, (pd.DataFrame, pd.Series)):
        text = f"{type(value).__name__} of shape {value.shape}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """``value`` must be one of ``choices`` (strings, matched exactly)."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        hint = ""
        if isinstance(value, str):
            close = difflib.get_close_matches(value, list(choices), n=1)
            if close:
                hint = f"; did you mean {close[0]!r}?"
        raise ArgumentError(f"`{name}` must be one of {options}; got {show(value)}{hint}")
    return value


def check_alternative(value: Any, name: str = "alternative") -> str:
    """``value`` must be 'two-sided', 'less' or 'greater'."""
    return check_choice(value, name, ALTERNATIVES)


def check_conf_level(value: Any, name: str = "conf_level") -> float:
    """A confidence level strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"`{name}` must be a number strictly between 0 and 1, such as 0.95; got {show(value)}")
    level = float(value)
    if not (0.0 < level < 1.0):
        raise ArgumentError(f"`{name}` must be strictly between 0 and 1 (for example 0.95); got {show(value)}")
    return level


def check_probability(value: Any, name: str, *, open_interval: bool = False) -> float:
    """A probability in [0, 1] (or (0, 1) when ``open_interval``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"`{name}` must be a probability (a number in [0, 1]); got {show(value)}")
    p = float(value)
    ok = 0.0 < p < 1.0 if open_interval else 0.0 <= p <= 1.0
    if not ok:
        bounds = "(0, 1)" if open_interval else "[0, 1]"
        raise ArgumentError(f"`{name}` must be a probability in {bounds}; got {show(value)}")
    return p


def check_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (bools refused) within optional bounds."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(float(value))
        else:
            raise ArgumentTypeError(f"`{name}` must be an integer; got {show(value)}")
    out = int(value)
    if minimum is not None and out < minimum:
        raise ArgumentError(f"`{name}` must be an integer >= {minimum}; got {show(value)}")
    if maximum is not None and out > maximum:
        raise ArgumentError(f"`{name}` must be an integer <= {maximum}; got {show(value)}")
    return out


def check_real(value: Any, name: str, *, finite: bool = True) -> float:
    """A real number (bools refused), finite unless ``finite=False``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"`{name}` must be a number; got {show(value)}")
    out = float(value)
    if finite and not np.isfinite(out):
        raise ArgumentError(f"`{name}` must be a finite number; got {show(value)}")
    return out


def check_random_state(random_state: Any, name: str = "random_state") -> np.random.Generator:
    """A numpy Generator from None, an int seed, a SeedSequence or a Generator."""
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(random_state, bool):
            raise ArgumentTypeError(f"`{name}` must be None, an integer seed or a numpy Generator; got {show(random_state)}")
        if isinstance(random_state, numbers.Integral) and int(random_state) < 0:
            raise ArgumentError(f"`{name}` must be a non-negative integer seed; got {show(random_state)}")
        seed: Any = random_state
        return np.random.default_rng(seed)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise ArgumentTypeError(f"`{name}` must be None, an integer seed or a numpy Generator; got {show(random_state)}")


def check_array(
    values: Any,
    name: str,
    *,
    min_size: int = 1,
    allow_nan: bool = False,
    allow_inf: bool = False,
    ndim: int = 1,
) -> np.ndarray:
    """A numeric numpy array (float64) of the given dimension, checked for size and non-finite values.

    Booleans are accepted and converted to 0/1. Strings, objects and dates are refused.
    """
    if isinstance(values, (str, bytes)) or values is None:
        raise ArgumentTypeError(f"`{name}` must be array-like of numbers; got {show(values)}")
    if isinstance(values, pd.DataFrame) and ndim == 1:
        if values.shape[1] != 1:
            raise ArgumentTypeError(f"`{name}` must be one-dimensional; got a DataFrame with {values.shape[1]} columns")
        values = values.iloc[:, 0]
    try:
        if isinstance(values, (pd.Series, pd.Index)):
            if not (pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype)):
                raise ArgumentTypeError(f"`{name}` must be numeric; got a {type(values).__name__} of dtype {values.dtype}")
            arr = values.to_numpy(dtype=float, na_value=np.nan)
        else:
            raw = np.asarray(values)
            if raw.dtype.kind not in "biuf":
                if raw.dtype.kind == "O":
                    try:
                        raw = raw.astype(float)
                    except (TypeError, ValueError):
                        raise ArgumentTypeError(f"`{name}` must contain only numbers; got {show(values)}") from None
                else:
                    raise ArgumentTypeError(f"`{name}` must be numeric; got values of dtype {raw.dtype}")
            arr = raw.astype(float)
    except ArgumentTypeError:
        raise
    except (TypeError, ValueError) as exc:
        raise ArgumentTypeError(f"`{name}` must be array-like of numbers; got {show(values)} ({exc})") from None
    if ndim == 1 and arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != ndim:
        raise ArgumentTypeError(f"`{name}` must be {ndim}-dimensional; got an array of shape {arr.shape}")
    if arr.shape[0] < min_size:
        what = "observation" if min_size == 1 else "observations"
        raise DataError(f"`{name}` needs at least {min_size} {what}; got {arr.shape[0]}")
    if not allow_nan:
        n_nan = int(np.isnan(arr).sum())
        if n_nan:
            raise DataError(f"`{name}` contains {n_nan} missing value(s) (NaN); remove them first, e.g. with dropna()")
    if not allow_inf:
        n_inf = int(np.isinf(arr).sum())
        if n_inf:
            raise DataError(f"`{name}` contains {n_inf} infinite value(s); remove or recode them first")
    return arr


def check_frame(frame: Any, name: str = "data") -> pd.DataFrame:
    """``frame`` must be a pandas DataFrame with unique column names and at least one row."""
    if not isinstance(frame, pd.DataFrame):
        raise ArgumentTypeError(f"`{name}` must be a pandas DataFrame; got {type(frame).__name__}")
    if not frame.columns.is_unique:
        dupes = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise DataError(f"`{name}` has duplicate column names {dupes}; rename them so each column is unique")
    if len(frame) == 0:
        raise DataError(f"`{name}` has no rows")
    return frame


def suggest_column(name: str, columns: Iterable[Any]) -> str:
    """A ' did you mean ...?' hint for a misspelt column name, or an empty string."""
    cols = [str(c) for c in columns]
    close = difflib.get_close_matches(str(name), cols, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def check_column(frame: pd.DataFrame, column: Any, role: str) -> Any:
    """``column`` must name a column of ``frame``; the error names the role and suggests a close match."""
    if not isinstance(column, str):
        raise ArgumentTypeError(f"`{role}` must be a column name (a string); got {show(column)}")
    if column not in frame.columns:
        raise RoleError(
            f"`{role}` names column {column!r}, which is not in the data{suggest_column(column, frame.columns)} "
            f"(columns: {', '.join(map(str, list(frame.columns)[:12]))}{', ...' if frame.shape[1] > 12 else ''})"
        )
    return column
