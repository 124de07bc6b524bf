"""Input checks shared by every public entry point.

Each helper either returns the cleaned value or raises a :class:`~causalinfer.exceptions.CausalInferError`
subclass whose message names the argument, echoes the value it got and says what is expected.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import math
import numbers
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import ArgumentError, ArgumentTypeError, DataError, RoleError

ALTERNATIVES = ("two-sided", "less", "greater")


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` with numpy scalars turned into Python ones (inside short lists, tuples and dicts too)."""
    if isinstance(value, (np.number, np.bool_)):
        return value.item()
    if depth < 2 and isinstance(value, (list, tuple)) and len(value) <= 20:
        items = [_plain(v, depth + 1) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if depth < 2 and isinstance(value, dict) and len(value) <= 20:
        return {_plain(k, depth + 1): _plain(v, depth + 1) for k, v in value.items()}
    return value


def show(value: Any, limit: int = 60) -> str:
    """A short, safe ``repr`` of ``value`` for error messages.

    Numpy scalars print as the plain numbers they hold, so a message says ``got 0`` rather than
    ``got np.int64(0)``:

    >>> show(np.int64(0)), show(np.float64(0.5)), show([np.int64(1), 2.0])
    ('0', '0.5', '[1, 2.0]')
    """
    if isinstance(value, np.ndarray):
        text = f"array of shape {value.shape} and dtype {value.dtype}"
    elif isinstance(value, (pd.DataFrame, pd.Series)):
        text = f"{type(value).__name__} of shape {value.shape}"
    else:
        try:
            text = repr(_plain(value))
        except Exception:  # a broken __repr__ must not hide the real error
            text = f"<{type(value).__name__} object>"
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


# ---------------------------------------------------------------------------------------------------------------------
# Declared parameters
#
# Each public function states once, in a decorator above its ``def``, what every parameter may hold:
#
#     @validate_params({
#         "x": [Column(), ArrayLike()],
#         "alternative": ALTERNATIVE,
#         "conf_level": "conf_level",
#         "random_state": "random_state",
#     })
#     def f(x, *, alternative="two-sided", conf_level=0.95, random_state=None): ...
#
# A declaration maps each parameter name to a constraint or a list of constraints (the value must satisfy at least
# one). Strings and None are shorthands, see ``_SHORTHANDS``. The checks run before the body; they refuse values of
# the wrong kind or outside their range, and leave cross-parameter and data checks to the body.
# tests/test_declared_params.py checks that every public function is declared, parameter by parameter.
# ---------------------------------------------------------------------------------------------------------------------


class Constraint:
    """One kind of value a parameter may take.

    Subclasses define ``ok(value) -> bool`` (fast; called on every call), ``describe()`` (the kind in words, as in
    "an integer >= 1"), and may override ``kind_ok(value)`` (is the value of the right kind, so that a failure is a
    bad value rather than a wrong type) and ``value_message(value, name)`` (the message for a value of the right
    kind that is out of range).
    """

    __slots__ = ()
    #: True when ``ok`` depends only on the type of the value, so that its answer can be cached per type.
    by_type = False

    def ok(self, value: Any) -> bool:
        raise NotImplementedError

    def kind_ok(self, value: Any) -> bool:
        return False

    def predicate(self) -> Callable[[Any], bool]:
        """The test ``ok`` as a function tuned for the commonest values (what the decorator calls)."""
        return self.ok

    def describe(self) -> str:
        raise NotImplementedError

    def value_message(self, value: Any, name: str) -> str:
        return f"`{name}` must be {self.describe()}; got {show(value)}"

    def type_message(self, value: Any, name: str) -> str | None:
        """The message for a value of the wrong kind, when this is the only constraint besides None (or None)."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"


class _NoneConstraint(Constraint):
    __slots__ = ()
    by_type = True

    def ok(self, value: Any) -> bool:
        return value is None

    def describe(self) -> str:
        return "None"


NONE = _NoneConstraint()


class NoCheck(Constraint):
    """Any value: the parameter is checked elsewhere, and ``reason`` says where."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        if not isinstance(reason, str) or not reason.strip():
            raise TypeError("NoCheck needs a reason saying where the parameter is checked")
        self.reason = reason

    def ok(self, value: Any) -> bool:
        return True

    def kind_ok(self, value: Any) -> bool:
        return True

    def describe(self) -> str:
        return f"anything ({self.reason})"


class Options(Constraint):
    """One of a set of strings; unknown strings get a close-match hint.

    With ``ignore_case`` the match ignores upper and lower case (``"bca"`` and ``"BCa"`` both pass).
    """

    __slots__ = ("_set", "choices", "ignore_case")

    def __init__(self, choices: Iterable[str], *, ignore_case: bool = False) -> None:
        self.choices = tuple(choices)
        self.ignore_case = ignore_case
        self._set = frozenset(c.lower() for c in self.choices) if ignore_case else frozenset(self.choices)

    def ok(self, value: Any) -> bool:
        if type(value) is not str and not isinstance(value, str):
            return False
        return (value.lower() if self.ignore_case else value) in self._set

    def kind_ok(self, value: Any) -> bool:
        return isinstance(value, str)

    def predicate(self) -> Callable[[Any], bool]:
        choices, slow = self._set, self.ok
        if self.ignore_case:

            def ok_any_case(value: Any) -> bool:
                return value.lower() in choices if type(value) is str else slow(value)

            return ok_any_case

        def ok(value: Any) -> bool:
            return value in choices if type(value) is str else slow(value)

        return ok

    def describe(self) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def value_message(self, value: Any, name: str) -> str:
        pool = {c.lower(): c for c in self.choices} if self.ignore_case else {c: c for c in self.choices}
        close = difflib.get_close_matches(value.lower() if self.ignore_case else value, list(pool), n=1)
        hint = f"; did you mean {pool[close[0]]!r}?" if close else ""
        return f"`{name}` must be {self.describe()}; got {show(value)}{hint}"


_CLOSED = ("both", "left", "right", "neither")


class Interval(Constraint):
    """An integer (``kind="int"``) or real number (``kind="real"``) between optional bounds.

    ``closed`` says which ends belong to the interval: "both", "left", "right" or "neither". Booleans are refused.
    Integers also accept floats with an integral value (``10.0``), as :func:`check_int` does. Real numbers must be
    finite unless ``finite=False``; NaN is always refused.
    """

    __slots__ = ("_hi", "_hi_open", "_int", "_lo", "_lo_open", "closed", "finite", "kind", "left", "right", "what")

    def __init__(
        self,
        kind: str,
        left: float | None = None,
        right: float | None = None,
        *,
        closed: str = "both",
        finite: bool = True,
        what: str | None = None,
    ) -> None:
        if kind not in ("int", "real"):
            raise ValueError("Interval kind must be 'int' or 'real'")
        if closed not in _CLOSED:
            raise ValueError(f"Interval closed must be one of {_CLOSED}")
        self.kind, self.left, self.right, self.closed, self.finite = kind, left, right, closed, finite
        self.what = what
        self._int = kind == "int"
        self._lo = -math.inf if left is None else left
        self._hi = math.inf if right is None else right
        self._lo_open = left is not None and closed in ("right", "neither")
        self._hi_open = right is not None and closed in ("left", "neither")

    def kind_ok(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)):
            return False
        if self._int:
            if isinstance(value, numbers.Integral):
                return True
            return isinstance(value, numbers.Real) and value == value and float(value).is_integer()
        return isinstance(value, numbers.Real)

    def ok(self, value: Any) -> bool:
        t = type(value)
        if t is float:
            if self._int and not value.is_integer():  # also refuses NaN and infinities
                return False
            v = value
        elif t is int:
            if self._int:
                v = value
            else:
                try:
                    v = float(value)
                except OverflowError:  # an integer too large for a float
                    return False
        else:
            if not self.kind_ok(value):
                return False
            try:
                v = value if self._int and isinstance(value, numbers.Integral) else float(value)
            except OverflowError:  # an integer too large for a float
                return False
        if v != v:  # NaN
            return False
        if self.finite and (v == math.inf or v == -math.inf):
            return False
        lo, hi = self._lo, self._hi
        if v < lo or (v == lo and self._lo_open):
            return False
        return not (v > hi or (v == hi and self._hi_open))

    def predicate(self) -> Callable[[Any], bool]:
        slow, is_int, finite = self.ok, self._int, self.finite
        lo, hi, lo_open, hi_open = self._lo, self._hi, self._lo_open, self._hi_open
        # An unbounded end refuses the infinity beyond it when the number must be finite.
        if self.left is None:
            lo_open = finite
        if self.right is None:
            hi_open = finite
        big = 1.7976931348623157e308

        def ok(value: Any) -> bool:
            t = type(value)
            if t is float:
                if is_int and not value.is_integer():
                    return False
            elif t is int:
                if not is_int and not -big <= value <= big:
                    return False
            else:
                return slow(value)
            # NaN fails every comparison.
            return (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi)

        return ok

    def value_message(self, value: Any, name: str) -> str:
        # An integer out of range hears of the bound it crossed, as check_int says it.
        if self._int and self.what is None and self.left is not None and self.right is not None:
            v = float(value)
            if v == v:
                side = self.left if v <= self.left else self.right
                lo_in, hi_in = self.closed in ("both", "left"), self.closed in ("both", "right")
                if side == self.left and v <= self.left:
                    bound = f">= {self.left:g}" if lo_in else f"> {self.left:g}"
                else:
                    bound = f"<= {self.right:g}" if hi_in else f"< {self.right:g}"
                return f"`{name}` must be an integer {bound}; got {show(value)}"
        return super().value_message(value, name)

    def describe(self) -> str:
        if self.what is not None:
            return self.what
        what = "an integer" if self.kind == "int" else ("a finite number" if self.finite else "a number")
        left, right = self.left, self.right
        lo_in = self.closed in ("both", "left")
        hi_in = self.closed in ("both", "right")
        if left is not None and right is not None:
            return f"{what} in {'[' if lo_in else '('}{left:g}, {right:g}{']' if hi_in else ')'}"
        if left is not None:
            return f"{what} {'>=' if lo_in else '>'} {left:g}"
        if right is not None:
            return f"{what} {'<=' if hi_in else '<'} {right:g}"
        return what


class Boolean(Constraint):
    """True or False (numpy booleans too; 0 and 1 are refused)."""

    __slots__ = ()
    by_type = True

    def ok(self, value: Any) -> bool:
        return value is True or value is False or isinstance(value, np.bool_)

    def describe(self) -> str:
        return "True or False"


class RandomStateConstraint(Constraint):
    """None, a non-negative integer seed, or a numpy Generator or RandomState (-1 and bools refused).

    Seeds go up to 2**64: the resampling engine records the 63-bit seed it drew from a Generator in the result's
    provenance, and that recorded seed must be accepted to repeat the run.
    """

    __slots__ = ()

    def kind_ok(self, value: Any) -> bool:
        return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))

    def ok(self, value: Any) -> bool:
        if value is None:
            return True
        t = type(value)
        if t is int:
            return 0 <= value < 18446744073709551616
        if isinstance(value, (np.random.Generator, np.random.RandomState)):
            return True
        return self.kind_ok(value) and 0 <= value < 18446744073709551616

    def describe(self) -> str:
        return "None, a non-negative integer seed or a numpy Generator"

    def value_message(self, value: Any, name: str) -> str:
        return f"`{name}` must be a non-negative integer seed below 2**64 (or None, or a numpy Generator); got {show(value)}"


def _is_str_sequence(value: Any) -> bool:
    if isinstance(value, (list, tuple, pd.Index)) or (isinstance(value, np.ndarray) and value.ndim == 1):
        return all(isinstance(v, str) for v in value)
    return False


class Column(Constraint):
    """A column name (a string)."""

    __slots__ = ()
    by_type = True

    def ok(self, value: Any) -> bool:
        return isinstance(value, str)

    def describe(self) -> str:
        return "a column name (a string)"


class Columns(Constraint):
    """One column name or a sequence of column names (a list or tuple of strings; may be empty)."""

    __slots__ = ()

    def ok(self, value: Any) -> bool:
        return isinstance(value, str) or _is_str_sequence(value)

    def describe(self) -> str:
        return "a column name or a list of column names"


class ArrayLike(Constraint):
    """Array-like values: a list, tuple, numpy array, pandas Series/Index/DataFrame or any object numpy can read.

    Strings, bytes, dicts, sets and scalars are refused (a string is a column name, not data).
    """

    __slots__ = ()
    by_type = True

    def ok(self, value: Any) -> bool:
        if isinstance(value, (np.ndarray, pd.Series, pd.DataFrame, list, tuple, pd.Index, range)):
            return True
        if value is None or isinstance(value, (str, bytes, dict, set, frozenset, numbers.Number)):
            return False
        return hasattr(value, "__array__") or hasattr(value, "__len__")

    def describe(self) -> str:
        return "array-like (a list, numpy array or pandas Series)"


class Scalar(Constraint):
    """A single number (bools refused), finite or not; used where a value may be a count or an array."""

    __slots__ = ()
    by_type = True

    def ok(self, value: Any) -> bool:
        return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))

    def describe(self) -> str:
        return "a number"


class DataLike(Constraint):
    """A pandas DataFrame or a causalinfer Dataset (roles and contents are checked by ``as_dataset``)."""

    __slots__ = ()
    by_type = True

    def ok(self, value: Any) -> bool:
        if isinstance(value, pd.DataFrame):
            return True
        # No import of causalinfer.data here (it sits above this module): a Dataset can only exist once its
        # module is loaded, so looking it up among the loaded modules is enough.
        data = sys.modules.get("causalinfer.data._dataset")
        return data is not None and isinstance(value, data.Dataset)

    def describe(self) -> str:
        return "a causalinfer Dataset or a pandas DataFrame"

    def type_message(self, value: Any, name: str) -> str:
        return f"`{name}` must be {self.describe()}; got {type(value).__name__} {show(value)}"


class Frame(Constraint):
    """A pandas DataFrame."""

    __slots__ = ()
    by_type = True

    def ok(self, value: Any) -> bool:
        return isinstance(value, pd.DataFrame)

    def describe(self) -> str:
        return "a pandas DataFrame"


class String(Constraint):
    """Any string (a label, a title, a formula); ``what`` describes it in messages."""

    __slots__ = ("what",)
    by_type = True

    def __init__(self, what: str = "a string") -> None:
        self.what = what

    def ok(self, value: Any) -> bool:
        return isinstance(value, str)

    def describe(self) -> str:
        return self.what


class PathLike(Constraint):
    """A file-system path: a string or an ``os.PathLike`` (empty strings refused); ``what`` names it in messages."""

    __slots__ = ("what",)

    def __init__(self, what: str = "a path (a non-empty string or pathlib.Path)") -> None:
        self.what = what

    def ok(self, value: Any) -> bool:
        return (isinstance(value, str) and value != "") or isinstance(value, os.PathLike)

    def kind_ok(self, value: Any) -> bool:
        return isinstance(value, str)

    def describe(self) -> str:
        return self.what


class IsCallable(Constraint):
    """A callable (a function, or an object with ``__call__``)."""

    __slots__ = ()
    by_type = True

    def ok(self, value: Any) -> bool:
        return callable(value)

    def describe(self) -> str:
        return "a callable"


class InstanceOf(Constraint):
    """An instance of a class, given as the class or as ``"package.module:Name"`` (imported on first use)."""

    __slots__ = ("_cls", "target")
    by_type = True

    def __init__(self, target: type | str) -> None:
        self.target = target
        self._cls: type | None = target if isinstance(target, type) else None

    def _resolve(self) -> type:
        if self._cls is None:
            import importlib

            module, _, attr = str(self.target).partition(":")
            self._cls = getattr(importlib.import_module(module), attr)
        return self._cls

    def ok(self, value: Any) -> bool:
        return isinstance(value, self._resolve())

    def describe(self) -> str:
        name = self._cls.__name__ if self._cls is not None else str(self.target).rpartition(":")[2]
        return f"a {name}"


class AnyOf(Constraint):
    """Any of several constraints, described as one kind (``what``) in messages.

    For a parameter whose accepted kinds read better as one phrase than as a list, such as a scoring source
    ("a DataFrame, a CSV/Parquet path, ... or an iterable of DataFrames").
    """

    __slots__ = ("_oks", "constraints", "what")

    def __init__(self, *constraints: Any, what: str) -> None:
        self.constraints = tuple(c for item in constraints for c in _normalize(item))
        self.what = what
        self._oks = tuple(c.predicate() for c in self.constraints)

    def ok(self, value: Any) -> bool:
        return any(ok(value) for ok in self._oks)

    def kind_ok(self, value: Any) -> bool:
        return any(c.kind_ok(value) for c in self.constraints)

    def value_message(self, value: Any, name: str) -> str:
        for c in self.constraints:
            if c.kind_ok(value):
                return c.value_message(value, name)
        return super().value_message(value, name)

    def describe(self) -> str:
        return self.what


class HasMethods(Constraint):
    """An object with the given methods, such as a scikit-learn estimator with ``fit`` and ``predict``."""

    __slots__ = ("methods", "what")
    by_type = True

    def __init__(self, *methods: str, what: str | None = None) -> None:
        self.methods = methods
        self.what = what

    def ok(self, value: Any) -> bool:
        return all(callable(getattr(value, m, None)) for m in self.methods)

    def describe(self) -> str:
        if self.what:
            return self.what
        return "an object with " + " and ".join(f"`{m}()`" for m in self.methods) + " methods"


class SequenceOf(Constraint):
    """A list, tuple or 1-d array whose every element satisfies ``element`` (optionally of a given length)."""

    __slots__ = ("_check", "element", "length", "min_length")

    def __init__(self, element: Any, *, length: int | None = None, min_length: int = 0) -> None:
        self.element = _normalize(element)
        self.length = length
        self.min_length = min_length
        oks = tuple(c.ok for c in self.element)
        self._check = oks[0] if len(oks) == 1 else (lambda v: any(ok(v) for ok in oks))

    def kind_ok(self, value: Any) -> bool:
        return isinstance(value, (list, tuple, pd.Series, pd.Index)) or (isinstance(value, np.ndarray) and value.ndim == 1)

    def ok(self, value: Any) -> bool:
        if not self.kind_ok(value):
            return False
        n = len(value)
        if (self.length is not None and n != self.length) or n < self.min_length:
            return False
        check = self._check
        return all(check(v) for v in value)

    def describe(self) -> str:
        size = f"{self.length} " if self.length is not None else ""
        inner = " or ".join(c.describe() for c in self.element)
        return f"a sequence of {size}values, each {inner}"

    def value_message(self, value: Any, name: str) -> str:
        n = len(value)
        if self.length is not None and n != self.length:
            return f"`{name}` must hold exactly {self.length} values; got {n}: {show(value)}"
        if n < self.min_length:
            return f"`{name}` must hold at least {self.min_length} value(s); got {n}"
        check = self._check
        bad = next(i for i, v in enumerate(value) if not check(v))
        item = value.iloc[bad] if isinstance(value, pd.Series) else value[bad]
        where = f" (item {bad} of {show(value)})"
        for c in self.element:
            if c.kind_ok(item):
                return c.value_message(item, name) + where
        inner = " or ".join(c.describe() for c in self.element)
        return f"`{name}` must hold values that are each {inner}; got {show(item)}{where}"


ALTERNATIVE = Options(ALTERNATIVES)
CONF_LEVEL = Interval("real", 0.0, 1.0, closed="neither")
PROBABILITY = Interval("real", 0.0, 1.0, closed="both")
OPEN_PROBABILITY = Interval("real", 0.0, 1.0, closed="neither")
RANDOM_STATE = RandomStateConstraint()
# Every covariance name used in causalinfer and its common spellings; each function's body narrows it to the ones it
# implements (a cluster covariance without `cluster=`, HAC in designs, ...).
# One vocabulary of covariance names for every module: canonical names and the aliases other packages use
# (stats.normalize_cov_type maps them; each function then narrows to the types it supports).
COV_ALIASES: dict[str, str] = {
    "nonrobust": "nonrobust",
    "classical": "nonrobust",
    "iid": "nonrobust",
    "const": "nonrobust",
    "homoskedastic": "nonrobust",
    "hc0": "HC0",
    "hc1": "HC1",
    "robust": "HC1",
    "hc2": "HC2",
    "hc3": "HC3",
    "cluster": "cluster",
    "clustered": "cluster",
    "cr1": "cluster",
    "hac": "HAC",
    "neweywest": "HAC",
    "nw": "HAC",
}


def cov_type_key(value: str) -> str:
    """The lookup key of a covariance name: lower case without '-', '_' or spaces ("Newey-West" -> "neweywest")."""
    return value.strip().lower().replace("-", "").replace("_", "").replace(" ", "")


class _CovTypeOptions(Options):
    """A covariance name or one of its aliases, in any case and spelling of separators."""

    __slots__ = ()

    def ok(self, value: Any) -> bool:
        return isinstance(value, str) and cov_type_key(value) in COV_ALIASES

    def predicate(self) -> Callable[[Any], bool]:
        return self.ok


COV_TYPE = _CovTypeOptions(
    ("nonrobust", "classical", "iid", "robust", "HC0", "HC1", "HC2", "HC3", "cluster", "clustered", "CR1", "HAC", "Newey-West"),
    ignore_case=True,
)


class _ConfLevel(Interval):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("real", 0.0, 1.0, closed="neither")

    def describe(self) -> str:
        return "strictly between 0 and 1 (for example 0.95)"


_SHORTHANDS: dict[str, Any] = {
    "alternative": lambda: ALTERNATIVE,
    "formula": lambda: String("a formula such as 'y ~ x1 + x2'"),
    "mapping": lambda: InstanceOf(Mapping),
    "sample": lambda: (Column(), ArrayLike()),
    "array-like": ArrayLike,
    "boolean": Boolean,
    "callable": IsCallable,
    "column": Column,
    "columns": Columns,
    "conf_level": _ConfLevel,
    "cov_type": lambda: COV_TYPE,
    "data": DataLike,
    "frame": Frame,
    "path": PathLike,
    "probability": lambda: PROBABILITY,
    "random_state": lambda: RANDOM_STATE,
    "string": String,
}


def _normalize(spec: Any) -> tuple[Constraint, ...]:
    """A tuple of constraints from a declaration entry (a constraint, a shorthand, None, or a list of them)."""
    items = spec if isinstance(spec, list) else [spec]
    if not items:
        raise TypeError("a parameter declaration needs at least one constraint")
    out: list[Constraint] = []
    for item in items:
        if item is None:
            out.append(NONE)
        elif isinstance(item, Constraint):
            out.append(item)
        elif isinstance(item, str) and item in _SHORTHANDS:
            made = _SHORTHANDS[item]()
            out.extend(made if isinstance(made, tuple) else (made,))
        else:
            raise TypeError(f"unknown parameter constraint {item!r}; use a Constraint or one of {sorted(_SHORTHANDS)}")
    # None first: it is the commonest default and the cheapest test.
    out.sort(key=lambda c: c is not NONE)
    return tuple(out)


def _raise(constraints: tuple[Constraint, ...], value: Any, name: str) -> None:
    """Raise the error for ``value`` failing every constraint of parameter ``name``."""
    for c in constraints:
        if c.kind_ok(value):
            message = c.value_message(value, name)
            raise ArgumentError(message if NONE not in constraints else message.replace("; got", " or None; got", 1))
    others = [c for c in constraints if c is not NONE]
    if len(others) == 1:
        custom = others[0].type_message(value, name)
        if custom is not None:
            raise ArgumentTypeError(custom)
    # None is named last: "`caliper` must be positive or None".
    parts = [c.describe() for c in others] + (["None"] if NONE in constraints else [])
    expected = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]
    got = show(value)
    if not isinstance(value, (str, numbers.Number, type(None))):
        got = f"{got} (a {type(value).__name__})" if not got.startswith(type(value).__name__) else got
    raise ArgumentTypeError(f"`{name}` must be {expected}; got {got}")


def _compile(constraints: tuple[Constraint, ...]) -> Callable[[Any, str], None]:
    """One function checking a value against ``constraints``, with the answer of type-level ones cached per type."""
    typed = tuple(c for c in constraints if c.by_type)
    valued = tuple(c.predicate() for c in constraints if not c.by_type)
    cache: dict[type, bool] = {}

    if not typed and len(valued) == 1:
        ok = valued[0]

        def check_one(value: Any, name: str) -> None:
            if not ok(value):
                _raise(constraints, value, name)

        return check_one

    def check(value: Any, name: str) -> None:
        hit = cache.get(type(value))
        if hit is None:
            hit = any(c.ok(value) for c in typed)
            if len(cache) < 512:
                cache[type(value)] = hit
        if hit:
            return
        for ok in valued:
            if ok(value):
                return
        _raise(constraints, value, name)

    return check


class Declaration:
    """What :func:`validate_params` recorded about a function: its declared constraints and what does not match."""

    __slots__ = ("constraints", "function", "signature", "undeclared", "unknown")

    def __init__(self, function: Callable[..., Any], constraints: dict[str, tuple[Constraint, ...]]) -> None:
        self.function = function
        self.signature = inspect.signature(function)
        self.constraints = constraints
        names = [n for n in self.signature.parameters if n not in ("self", "cls")]
        self.undeclared = tuple(n for n in names if n not in constraints)
        self.unknown = tuple(n for n in constraints if n not in self.signature.parameters)


def validate_params(spec: Mapping[str, Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the parameters of a public function; they are checked before its body runs.

    ``spec`` maps each parameter name (including ``*args`` and ``**kwargs`` names, whose items are checked one by
    one) to a constraint, a shorthand string (``"boolean"``, ``"conf_level"``, ``"random_state"``, ``"column"``,
    ``"columns"``, ``"array-like"``, ``"data"``, ...), ``None`` (the value None) or a list of these, any of which
    may match. A value that matches none raises :class:`~causalinfer.exceptions.ArgumentTypeError` (wrong kind) or
    :class:`~causalinfer.exceptions.ArgumentError` (right kind, bad value) naming the parameter, echoing the value
    and saying what is expected. Unknown keyword arguments raise ArgumentTypeError with a close-match hint.

    Only the arguments a caller passes are checked (defaults are checked once, by the test of declarations), so the
    cost is a dictionary look-up and a type test per argument. A parameter missing from ``spec`` is not checked; the
    test of declarations reports it, as it reports names in ``spec`` that the function does not have.

    >>> @validate_params({"n": Interval("int", 1), "method": Options(["a", "b"])})
    ... def f(n, *, method="a"):
    ...     return n
    >>> f(3)
    3
    >>> f(0)
    Traceback (most recent call last):
    ...
    causalinfer.exceptions.ArgumentError: `n` must be an integer >= 1; got 0
    >>> f(2, method="c")
    Traceback (most recent call last):
    ...
    causalinfer.exceptions.ArgumentError: `method` must be one of 'a', 'b'; got 'c'
    """
    normalized = {name: _normalize(entry) for name, entry in spec.items()}
    checks = {name: _compile(cons) for name, cons in normalized.items()}

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        declaration = Declaration(func, normalized)
        params = declaration.signature.parameters
        positional = [p.name for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        n_pos = len(positional)
        # For each count of positional arguments, the (index, name, check) of the declared ones among them.
        plans = [tuple((i, n, checks[n]) for i, n in enumerate(positional[:k]) if n in checks) for k in range(n_pos + 1)]
        var_pos = next((p.name for p in params.values() if p.kind == p.VAR_POSITIONAL), None)
        var_pos_check = checks.get(var_pos) if var_pos else None
        var_kw = next((p.name for p in params.values() if p.kind == p.VAR_KEYWORD), None)
        var_kw_check = checks.get(var_kw) if var_kw else None
        keyword_names = frozenset(p.name for p in params.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
        kw_checks = {n: c for n, c in checks.items() if n in keyword_names}
        fname = getattr(func, "__qualname__", getattr(func, "__name__", "function"))
        # Parameters that take a table: a polars/Arrow frame given there is read as pandas before any check.
        tables = frozenset(n for n, cons in normalized.items() if _takes_table(cons))
        table_positions = tuple((i, n) for i, n in enumerate(positional) if n in tables)

        def extra_positional(n_given: int) -> None:
            skip = 1 if positional and positional[0] in ("self", "cls") else 0
            raise ArgumentTypeError(
                f"{fname}() takes {n_pos - skip} positional argument(s) but {n_given - skip} were given; "
                "pass the options by keyword (name=value)"
            )

        def unknown_keyword(name: str) -> None:
            close = difflib.get_close_matches(name, sorted(keyword_names), n=1)
            hint = f"; did you mean `{close[0]}`?" if close else ""
            raise ArgumentTypeError(f"{fname}() got an unexpected keyword argument `{name}`{hint}")

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if tables:
                args, kwargs = _read_tables(args, kwargs, table_positions, tables)
            if args:
                n = len(args)
                if n > n_pos:
                    if var_pos is None:
                        extra_positional(n)
                    elif var_pos_check is not None:
                        for value in args[n_pos:]:
                            var_pos_check(value, var_pos)
                    n = n_pos
                for i, name, check in plans[n]:
                    check(args[i], name)
            if kwargs:
                for name, value in kwargs.items():
                    kw_check = kw_checks.get(name)
                    if kw_check is not None:
                        kw_check(value, name)
                    elif name not in keyword_names:
                        if var_kw is None:
                            unknown_keyword(name)
                        elif var_kw_check is not None:
                            var_kw_check(value, name)
            return func(*args, **kwargs)

        wrapper.__declaration__ = declaration  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _takes_table(constraints: tuple[Constraint, ...]) -> bool:
    """Whether a parameter accepts a pandas DataFrame (directly or among the kinds of an AnyOf)."""
    return any(isinstance(c, (DataLike, Frame)) or (isinstance(c, AnyOf) and _takes_table(c.constraints)) for c in constraints)


def _read_tables(
    args: tuple[Any, ...], kwargs: dict[str, Any], positions: tuple[tuple[int, str], ...], names: frozenset[str]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``args``/``kwargs`` with any polars/Arrow frame given for a table parameter read as a pandas DataFrame."""
    from ._frames import is_foreign_frame, to_pandas

    for i, name in positions:
        if i < len(args) and is_foreign_frame(args[i]):
            args = (*args[:i], to_pandas(args[i], name), *args[i + 1 :])
    for name in names.intersection(kwargs):
        if is_foreign_frame(kwargs[name]):
            kwargs[name] = to_pandas(kwargs[name], name)
    return args, kwargs


def declaration_of(func: Any) -> Declaration | None:
    """The :class:`Declaration` of a function decorated with :func:`validate_params`, or None."""
    return getattr(func, "__declaration__", None)
