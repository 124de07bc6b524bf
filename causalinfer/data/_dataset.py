"""Dataset: an immutable table plus the roles its columns play."""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._frames import is_foreign_frame, to_pandas
from .._validation import check_choice, check_column, check_frame, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError, RoleError

__all__ = ["ROLE_NAMES", "Dataset", "as_dataset"]

#: Roles that name a single column.
SINGLE_ROLES: tuple[str, ...] = ("outcome", "treatment", "unit", "time", "cluster", "weights", "running")
#: Roles that name several columns.
MULTI_ROLES: tuple[str, ...] = ("covariates", "instruments")
#: Every role keyword a Dataset accepts (``cutoff``, ``graph`` and ``name`` are not columns).
ROLE_NAMES: tuple[str, ...] = (
    "outcome",
    "treatment",
    "covariates",
    "instruments",
    "unit",
    "time",
    "cluster",
    "weights",
    "running",
    "cutoff",
    "graph",
    "name",
    "missing",
    "treated_level",
)
_COLUMN_ROLE_ORDER = ("outcome", "treatment", "covariates", "instruments", "unit", "time", "cluster", "weights", "running")
_MISSING_POLICIES = ("refuse", "drop")


def _as_names(value: Any, role: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        names = tuple(value)
        for v in names:
            if not isinstance(v, str):
                raise ArgumentTypeError(f"`{role}` must be a column name or a list of column names; got {show(value)}")
        dupes = sorted({v for v in names if names.count(v) > 1})
        if dupes:
            raise RoleError(f"`{role}` lists column(s) {dupes} more than once; list each column once")
        return names
    raise ArgumentTypeError(f"`{role}` must be a column name or a list of column names; got {show(value)}")


def _is_numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype))


def _check_graph(graph: Any) -> Any:
    if graph is None or isinstance(graph, str):
        return graph
    if hasattr(graph, "edges") and hasattr(graph, "nodes"):
        return graph
    if isinstance(graph, Iterable) and not isinstance(graph, (bytes, Mapping)):
        edges = []
        for e in graph:
            if not (isinstance(e, Sequence) and not isinstance(e, str) and len(e) == 2 and all(isinstance(v, str) for v in e)):
                raise ArgumentTypeError(f"`graph` as an edge list must hold (cause, effect) pairs of column names; got the item {show(e)}")
            edges.append((e[0], e[1]))
        return tuple(edges)
    raise ArgumentTypeError(
        f"`graph` must be a DOT or GML string, a networkx DiGraph or a list of (cause, effect) pairs; got {show(graph)}"
    )


def check_not_datetime(series: pd.Series, role: str, column: str) -> None:
    """Refuse a date, time or duration column where numbers are needed, saying how to encode it."""
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or isinstance(dtype, pd.PeriodDtype):
        raise RoleError(
            f"{role} {column!r} holds dates (dtype {dtype}), not numbers; encode it first, e.g. as days since the first date "
            f"(data[{column!r}] - data[{column!r}].min()).dt.days, or as the year or month (data[{column!r}].dt.year), "
            "as a number or as categories"
        )
    if pd.api.types.is_timedelta64_dtype(dtype):
        raise RoleError(
            f"{role} {column!r} holds durations (dtype {dtype}), not numbers; encode it first, e.g. in days: "
            f"data[{column!r}].dt.total_seconds() / 86400"
        )


def _json_default(value: Any) -> Any:
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        return list(value)
    return value.item() if isinstance(value, np.generic) else str(value)


def _sorted_levels(series: pd.Series) -> list[Any]:
    """Distinct non-missing values, sorted (by text when they cannot be compared), never in row order."""
    levels = list(pd.unique(series.dropna()))
    try:
        return sorted(levels)
    except TypeError:
        return sorted(levels, key=lambda v: (type(v).__name__, str(v)))


def _number_range(series: pd.Series) -> tuple[Any, Any] | None:
    """(min, max) of a plain numeric column without missing values, by two reductions; None when not applicable.

    Used instead of counting distinct values: a column is constant exactly when min == max. None (the caller
    then counts levels) for text, categorical, nullable or date columns, an empty column or one holding NaN.
    """
    v = _plain_numbers(series)
    if v is None or v.size == 0:
        return None
    low, high = v.min(), v.max()
    if v.dtype.kind == "f" and (math.isnan(low) or math.isnan(high)):
        return None
    return low, high


def _two_numbers(series: pd.Series, level: Any) -> bool:
    """True when a plain numeric column holds exactly two values and ``level`` is one of them (no distinct count)."""
    bounds = _number_range(series)
    if bounds is None or bounds[0] == bounds[1]:
        return False
    low, high = bounds
    if not (_same_level(low, level) or _same_level(high, level)):
        return False
    v = series.to_numpy()
    return not bool(((v != low) & (v != high)).any())


def _check_treated_level(frame: pd.DataFrame, treatment: str | None, level: Any) -> None:
    if treatment is None:
        raise RoleError(f"`treated_level` ({show(level)}) is given without `treatment`; name the treatment column it applies to")
    if _two_numbers(frame[treatment], level):
        return  # the usual case, checked by min/max; otherwise the levels are listed (and named in the messages)
    levels = _sorted_levels(frame[treatment])
    shown = ", ".join(show(v) for v in levels[:6]) + (", ..." if len(levels) > 6 else "")
    if not any(_same_level(v, level) for v in levels):
        raise RoleError(f"`treated_level` {show(level)} is not a level of treatment {treatment!r}; its levels are {shown}")
    if len(levels) != 2:
        raise RoleError(
            f"`treated_level` needs a treatment with two levels; {treatment!r} has {len(levels)} ({shown}). "
            "Compare two levels on a subset of rows"
        )


def _same_level(value: Any, level: Any) -> bool:
    try:
        return bool(value == level)
    except (TypeError, ValueError):
        return False


def _role_columns(source: pd.DataFrame, roles: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, tuple[str, ...]], dict[str, str]]:
    """Single- and multi-column roles, checked to name existing columns, and each used column's (first) role."""
    single = {r: roles.get(r) for r in SINGLE_ROLES}
    multi = {r: _as_names(roles.get(r, ()), r) for r in MULTI_ROLES}
    for role, col in single.items():
        if col is not None:
            check_column(source, col, role)
    for role, names in multi.items():
        for col in names:
            check_column(source, col, role)

    # one column, one role (a cluster may be the panel unit)
    seen: dict[str, str] = {}
    for role in _COLUMN_ROLE_ORDER:
        role_cols: tuple[str, ...] = multi[role] if role in multi else ((str(single[role]),) if single[role] is not None else ())
        for col in role_cols:
            if col in seen and not ({seen[col], role} == {"unit", "cluster"}):
                raise RoleError(
                    f"column {col!r} is given two roles, `{seen[col]}` and `{role}`; a column can play only one role "
                    "(remove it from one of them)"
                )
            seen.setdefault(col, role)
    return single, multi, seen


def _plain_numbers(series: pd.Series) -> np.ndarray | None:
    """The values of a column with a plain numpy numeric or boolean dtype (no copy), else None."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        return series.to_numpy()
    return None


def _all_finite(values: np.ndarray) -> bool:
    """True when no value is NaN or infinite: one pass (a finite sum proves it; an overflowing sum falls back to a check)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isfinite(float(values.sum())):
            return True
    return bool(np.isfinite(values).all())


def _hash_column(h: Any, series: pd.Series) -> None:
    """Feed the values of one column to the hash ``h``: plain numbers by their bytes, anything else through pandas.

    A column with a numpy numeric or boolean dtype is hashed as its contiguous little-endian bytes, once, with
    the two bit patterns that stand for one value made equal first (``-0.0`` is hashed as ``0.0``, every NaN as
    numpy's NaN), so equal data gives equal hashes on every platform. Other columns (text, categorical,
    nullable, dates) are hashed value by value with ``pandas.util.hash_pandas_object``.
    """
    values = _plain_numbers(series)
    if values is None:
        h.update(pd.util.hash_pandas_object(series, index=False).to_numpy().tobytes())
        return
    if values.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            finite = math.isfinite(float(values.sum()))  # no NaN: one reduction, no temporary
        if not finite:
            nan = np.isnan(values)
            if nan.any():
                values = np.where(nan, values.dtype.type(np.nan), values)
        zero = values == 0
        if zero.any():
            values = np.where(zero, values.dtype.type(0), values)
    values = np.ascontiguousarray(values.astype(values.dtype.newbyteorder("<"), copy=False))
    h.update(values.view(np.uint8))


def _apply_missing_policy(source: pd.DataFrame, used: list[str], missing: str, seen: Mapping[str, str]) -> tuple[pd.DataFrame, int]:
    """The rows in use under the missing-value policy and the count dropped; infinite values are refused.

    One pass per column in the usual case: a float column whose values are all finite has neither missing nor
    infinite values; other columns count their missing values.
    """
    frame = source
    n_dropped = 0
    finite: set[str] = set()  # float columns seen to hold only finite values
    for col in used:
        v = _plain_numbers(source[col])
        if v is not None and v.dtype.kind == "f" and _all_finite(v):
            finite.add(col)
    bad = {col: k for col in used if col not in finite and (k := int(source[col].isna().sum())) > 0}
    if bad:
        if missing == "refuse":
            listing = ", ".join(f"{c!r} ({k} of {len(source)} rows)" for c, k in bad.items())
            raise DataError(
                f"missing values in columns with a role: {listing}; drop or impute them first, or build the Dataset "
                "with Dataset(frame, <roles>, missing='drop') and pass it as `data` to analyse complete rows only"
            )
        keep = ~source[used].isna().any(axis=1)
        n_dropped = int((~keep).sum())
        frame = source.loc[keep]
        if len(frame) == 0:
            raise DataError(f"no complete rows remain after dropping missing values in {list(bad)}")
    for col in used:
        s = frame[col]
        if col not in finite and pd.api.types.is_float_dtype(s.dtype):
            n_inf = int(np.isinf(s.to_numpy(dtype=float, na_value=np.nan)).sum())
            if n_inf:
                raise DataError(f"column {col!r} ({seen[col]}) has {n_inf} infinite value(s); recode or drop them first")
    return frame, n_dropped


def _check_role_values(
    frame: pd.DataFrame, single: Mapping[str, Any], multi: Mapping[str, tuple[str, ...]], cutoff: float | None, treated_level: Any
) -> None:
    """Each role's values make sense: numeric outcome, two-level treatment, non-constant covariates, valid weights, cutoff."""
    running = single["running"]
    outcome = single["outcome"]
    if outcome is not None and not _is_numeric(frame[outcome]):
        raise RoleError(
            f"outcome {outcome!r} must be numeric or boolean; it has dtype {frame[outcome].dtype}. "
            "Encode it as numbers first (e.g. 0/1 for a binary outcome)"
        )
    treatment = single["treatment"]
    if treatment is not None:
        bounds = _number_range(frame[treatment])
        levels = bounds if bounds is not None and bounds[0] != bounds[1] else frame[treatment].dropna().unique()
        if len(levels) < 2:
            only = show(levels[0]) if len(levels) else "none"
            raise RoleError(
                f"treatment {treatment!r} has only one level ({only}) in {len(frame)} rows; "
                "an effect needs both treated and untreated units"
            )
    if treated_level is not None:
        _check_treated_level(frame, treatment, treated_level)
    for role in ("covariates", "instruments"):
        for col in multi[role]:
            bounds = _number_range(frame[col])
            if (bounds[0] == bounds[1]) if bounds is not None else frame[col].nunique(dropna=True) < 2:
                value = frame[col].iloc[0]
                raise RoleError(
                    f"{role[:-1]} {col!r} is constant (every value is {show(value)}); it carries no information, so remove it from `{role}`"
                )
    w = single["weights"]
    if w is not None:
        if not _is_numeric(frame[w]):
            raise RoleError(f"weights {w!r} must be numeric; it has dtype {frame[w].dtype}")
        wv = frame[w].to_numpy(dtype=float)
        if (wv < 0).any():
            raise RoleError(f"weights {w!r} has {int((wv < 0).sum())} negative value(s); weights must be >= 0")
        if not (wv > 0).any():
            raise RoleError(f"weights {w!r} are all zero; at least one weight must be positive")
    if running is not None and cutoff is not None:  # a running variable without a cutoff was refused before
        if not _is_numeric(frame[running]):
            raise RoleError(f"running variable {running!r} must be numeric; it has dtype {frame[running].dtype}")
        rv = frame[running].to_numpy(dtype=float)
        below, above = int((rv < cutoff).sum()), int((rv >= cutoff).sum())
        if below == 0 or above == 0:
            raise RoleError(
                f"cutoff {cutoff:g} leaves no observations on one side of running variable {running!r} "
                f"(range {rv.min():g} to {rv.max():g}; {below} below, {above} at or above); choose a cutoff inside the range"
            )


class Dataset:
    """An immutable table with the roles its columns play in an analysis.

    The Dataset keeps its own copy of the data: the caller's DataFrame is never changed, and changing it
    afterwards does not change the Dataset. Roles are validated once, here, with messages that name the
    column and the problem.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data. Column names must be unique.
    outcome, treatment : str, optional
        The outcome (numeric or boolean) and the treatment (at least two levels).
    covariates, instruments : str or sequence of str
        Covariates (adjustment set) and instruments; none may be constant.
    unit, time, cluster : str, optional
        Panel unit, time period and cluster identifiers (``cluster`` may equal ``unit``).
    weights : str, optional
        Non-negative observation weights.
    running : str, optional
        Running variable of a regression-discontinuity design; needs ``cutoff``.
    cutoff : float, optional
        Threshold of the running variable; must lie strictly inside its observed range.
    graph : str, networkx.DiGraph or sequence of (str, str), optional
        A causal graph: DOT or GML text, a networkx DiGraph, or a list of (cause, effect) edges.
    name : str, optional
        A label used in displays and reports.
    missing : {"refuse", "drop"}
        Missing-value policy for the columns that have a role. ``"refuse"`` (default) raises a
        :class:`~causalinfer.exceptions.DataError` listing the NaN count per column; ``"drop"`` keeps only
        complete rows and records how many were dropped in :attr:`n_dropped`.
    treated_level : optional
        The level of ``treatment`` that means "treated" (for example ``"yes"`` or ``"treatment"``). Needed
        when the treatment column holds text or categories: the treated level is never guessed from row
        order or from sorting. Numeric 0/1 and boolean treatments need no level; with another two-valued
        numeric coding (say 1/2) it says which value is treated. Every estimator reads the treatment through
        :meth:`treatment_values`, so it applies everywhere the Dataset is used.

    Examples
    --------
    >>> import pandas as pd
    >>> from causalinfer import Dataset
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.5, 4.0], "d": [0, 1, 0, 1], "x": [3, 1, 4, 1]})
    >>> ds = Dataset(df, outcome="y", treatment="d", covariates=["x"], name="toy")
    >>> ds
    Dataset(name='toy', rows=4, outcome='y', treatment='d', covariates=['x'])
    >>> ds.with_roles(covariates=[]).covariates
    ()
    """

    __slots__ = (
        "_cluster",
        "_covariates",
        "_cutoff",
        "_fingerprint",
        "_frame",
        "_frozen",
        "_graph",
        "_instruments",
        "_missing",
        "_n_dropped",
        "_name",
        "_outcome",
        "_running",
        "_source",
        "_time",
        "_treated_level",
        "_treatment",
        "_unit",
        "_weights",
    )
    _cluster: str | None
    _covariates: tuple[str, ...]
    _cutoff: float | None
    _fingerprint: str | None
    _frame: pd.DataFrame
    _frozen: bool
    _graph: Any
    _instruments: tuple[str, ...]
    _missing: str
    _n_dropped: int
    _name: str | None
    _outcome: str | None
    _running: str | None
    _source: pd.DataFrame
    _time: str | None
    _treated_level: Any
    _treatment: str | None
    _unit: str | None
    _weights: str | None

    def __init__(
        self,
        frame: pd.DataFrame,
        *,
        outcome: str | None = None,
        treatment: str | None = None,
        covariates: str | Sequence[str] = (),
        instruments: str | Sequence[str] = (),
        unit: str | None = None,
        time: str | None = None,
        cluster: str | None = None,
        weights: str | None = None,
        running: str | None = None,
        cutoff: float | None = None,
        graph: Any = None,
        name: str | None = None,
        missing: str = "refuse",
        treated_level: Any = None,
    ) -> None:
        if is_foreign_frame(frame):
            # A polars/Arrow table read as pandas is already a new frame (at most it shares Arrow's immutable buffers),
            # so no second copy is needed.
            source = check_frame(to_pandas(frame, "frame"), "frame")
        else:
            check_frame(frame, "frame")
            # An independent copy: later changes by the caller do not reach us, and ours never reach them.
            source = frame.copy(deep=True)
        self._init(
            source,
            dict(
                outcome=outcome,
                treatment=treatment,
                covariates=covariates,
                instruments=instruments,
                unit=unit,
                time=time,
                cluster=cluster,
                weights=weights,
                running=running,
                cutoff=cutoff,
                graph=graph,
                name=name,
                missing=missing,
                treated_level=treated_level,
            ),
        )

    @classmethod
    def _from_source(cls, source: pd.DataFrame, roles: Mapping[str, Any]) -> Dataset:
        obj = cls.__new__(cls)
        obj._init(source, roles)
        return obj

    def _init(self, source: pd.DataFrame, roles: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_frozen", False)
        name = roles.get("name")
        if name is not None and not isinstance(name, str):
            raise ArgumentTypeError(f"`name` must be a string; got {show(name)}")
        missing = check_choice(roles.get("missing", "refuse"), "missing", _MISSING_POLICIES)
        single, multi, seen = _role_columns(source, roles)

        cutoff = roles.get("cutoff")
        running = single["running"]
        if cutoff is not None:
            if isinstance(cutoff, bool) or not isinstance(cutoff, numbers.Real) or not math.isfinite(float(cutoff)):
                raise ArgumentTypeError(f"`cutoff` must be a finite number; got {show(cutoff)}")
            cutoff = float(cutoff)
            if running is None:
                raise RoleError(f"`cutoff` ({cutoff:g}) is given without `running`; name the running variable it applies to")
        elif running is not None:
            raise RoleError(f"`running` ({running!r}) needs a `cutoff`: the threshold at which treatment changes")
        graph = _check_graph(roles.get("graph"))

        used = list(dict.fromkeys(seen))
        frame, n_dropped = _apply_missing_policy(source, used, missing, seen)

        treated_level = roles.get("treated_level")
        _check_role_values(frame, single, multi, cutoff, treated_level)

        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "_frame", frame)
        object.__setattr__(self, "_n_dropped", n_dropped)
        object.__setattr__(self, "_missing", missing)
        object.__setattr__(self, "_name", name)
        for role in SINGLE_ROLES:
            object.__setattr__(self, f"_{role}", single[role])
        for role in MULTI_ROLES:
            object.__setattr__(self, f"_{role}", multi[role])
        object.__setattr__(self, "_treated_level", treated_level)
        object.__setattr__(self, "_cutoff", cutoff)
        object.__setattr__(self, "_graph", graph)
        object.__setattr__(self, "_fingerprint", None)
        object.__setattr__(self, "_frozen", True)

    # ------------------------------------------------------------------ immutability
    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"Dataset is immutable; use with_roles(...) to get a Dataset with other roles (cannot set {key!r})")

    def __delattr__(self, key: str) -> None:
        raise AttributeError("Dataset is immutable")

    # ------------------------------------------------------------------ roles
    @property
    def frame(self) -> pd.DataFrame:
        """The rows in use (after the missing-value policy), as a DataFrame you may change freely.

        It is a copy-on-write view of the Dataset's own data: changing it never changes the Dataset.
        """
        return self._frame.copy(deep=False)

    @property
    def outcome(self) -> str | None:
        return self._outcome

    @property
    def treatment(self) -> str | None:
        return self._treatment

    @property
    def treated_level(self) -> Any:
        """The level of the treatment column that means treated (None: the column is 0/1 or boolean)."""
        return self._treated_level

    def treatment_values(self) -> np.ndarray:
        """The treatment column as floats: 1.0/0.0 for the treated level and the other one, or the numbers as given.

        With ``treated_level`` set, rows equal to it are 1 and the rest 0. Without it, boolean columns become
        0/1 and numeric columns are returned as they are (a dose, or a 0/1 indicator that the estimator checks).
        A text or categorical treatment without ``treated_level`` is refused with the levels in sorted order:
        which one is treated must be stated, never guessed.
        """
        t = self._treatment
        if t is None:
            raise RoleError("no treatment given: pass treatment='column' (or a Dataset with a treatment role)")
        s = self._frame[t]
        if self._treated_level is not None:
            return (s == self._treated_level).to_numpy(dtype=float)
        if _is_numeric(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            return s.to_numpy(dtype=float)
        levels = _sorted_levels(s)
        shown = ", ".join(show(v) for v in levels[:6]) + (", ..." if len(levels) > 6 else "")
        raise RoleError(
            f"treatment {t!r} holds labels, not numbers ({len(levels)} levels: {shown}); say which level is the treated one "
            f"with treated_level=<level>, e.g. Dataset(frame, treatment={t!r}, treated_level=<one of {shown}>, ...) "
            "(estimators accept that Dataset as `data`), or recode the column as 0 (untreated) / 1 (treated)"
        )

    @property
    def covariates(self) -> tuple[str, ...]:
        return self._covariates

    @property
    def instruments(self) -> tuple[str, ...]:
        return self._instruments

    @property
    def unit(self) -> str | None:
        return self._unit

    @property
    def time(self) -> str | None:
        return self._time

    @property
    def cluster(self) -> str | None:
        return self._cluster

    @property
    def weights(self) -> str | None:
        return self._weights

    @property
    def running(self) -> str | None:
        return self._running

    @property
    def cutoff(self) -> float | None:
        return self._cutoff

    @property
    def graph(self) -> Any:
        return self._graph

    @property
    def name(self) -> str | None:
        return self._name

    @property
    def missing(self) -> str:
        return self._missing

    @property
    def n(self) -> int:
        """Number of rows in use."""
        return len(self._frame)

    @property
    def n_dropped(self) -> int:
        """Rows dropped by ``missing='drop'`` (0 under the default policy)."""
        return self._n_dropped

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._frame.columns)

    @property
    def roles(self) -> dict[str, Any]:
        """Every role as a dict, suitable for ``Dataset(frame, **roles)``."""
        return {
            "outcome": self.outcome,
            "treatment": self.treatment,
            "covariates": self.covariates,
            "instruments": self.instruments,
            "unit": self.unit,
            "time": self.time,
            "cluster": self.cluster,
            "weights": self.weights,
            "running": self.running,
            "cutoff": self.cutoff,
            "graph": self.graph,
            "name": self.name,
            "missing": self.missing,
            "treated_level": self.treated_level,
        }

    def role_of(self, column: str) -> str | None:
        """The role ``column`` plays, or None."""
        for role in _COLUMN_ROLE_ORDER:
            value = getattr(self, role)
            if value == column or (isinstance(value, tuple) and column in value):
                return role
        return None

    @property
    def used_columns(self) -> tuple[str, ...]:
        """Columns that have a role, in role order, each once."""
        out: list[str] = []
        for role in _COLUMN_ROLE_ORDER:
            value = getattr(self, role)
            for col in value if isinstance(value, tuple) else (value,) if value is not None else ():
                if col not in out:
                    out.append(col)
        return tuple(out)

    def with_roles(self, **changes: Any) -> Dataset:
        """A new Dataset over the same data with some roles changed (pass ``None`` or ``()`` to clear one).

        Validation runs again on the full original data, so a different missing-value outcome is possible.
        """
        unknown = sorted(set(changes) - set(ROLE_NAMES))
        if unknown:
            raise ArgumentError(f"unknown role(s) {unknown}; roles are {', '.join(ROLE_NAMES)}")
        roles = self.roles
        roles.update(changes)
        return Dataset._from_source(self._source, roles)

    def column(self, name: str) -> np.ndarray:
        """Values of numeric column ``name`` as a read-only float64 array."""
        check_column(self._frame, name, "column")
        s = self._frame[name]
        if not _is_numeric(s):
            raise DataError(f"column {name!r} is not numeric (dtype {s.dtype})")
        arr = s.to_numpy(dtype=float, na_value=np.nan)
        arr.flags.writeable = False
        return arr

    # ------------------------------------------------------------------ identity
    def fingerprint(self, *, roles: bool = True) -> str:
        """A stable SHA-256 hash of the data in use (column names, dtypes, values) and, by default, the roles.

        The hash does not depend on column order, nor on the DataFrame's index; it changes when any value,
        dtype, column name, row order or (with ``roles=True``) role changes. Numeric and boolean columns are
        hashed by their bytes (``0.0`` and ``-0.0`` alike, every NaN alike), other columns value by value.
        """
        if roles and self._fingerprint is not None:
            return self._fingerprint
        h = hashlib.sha256()
        frame = self._frame
        h.update(f"rows={len(frame)}".encode())
        for col in sorted(frame.columns, key=str):
            s = frame[col]
            dtype = s.dtype.name if isinstance(s.dtype, np.dtype) else str(s.dtype)  # no byte-order mark
            h.update(b"\x00col\x00" + str(col).encode() + b"\x00" + dtype.encode())
            _hash_column(h, s)
        if roles:
            spec = {k: v for k, v in self.roles.items() if k != "graph"}
            spec["graph"] = (
                self.graph if isinstance(self.graph, (str, tuple)) or self.graph is None else sorted(map(list, self.graph.edges))
            )
            h.update(json.dumps(spec, sort_keys=True, default=_json_default).encode())
        digest = h.hexdigest()
        if roles:
            object.__setattr__(self, "_fingerprint", digest)
        return digest

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Dataset):
            return NotImplemented
        return self.fingerprint() == other.fingerprint()

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def __len__(self) -> int:
        return self.n

    # ------------------------------------------------------------------ display
    def describe(self, *, all_columns: bool = False) -> Any:
        """Per-column summary (role, dtype, counts, mean, sd, min, median, max) as a :class:`TableResult`.

        The table has the fixed columns ``column, role, dtype, n, n_missing, n_unique, mean, std, min,
        median, max``; non-numeric columns have NaN in the numeric summaries. By default only columns with
        a role are listed (all columns when none has a role, or with ``all_columns=True``).
        """
        from ..results import Diagnostic, Provenance, TableResult

        cols = list(self.used_columns)
        if all_columns or not cols:
            cols += [c for c in self._frame.columns if c not in cols]
        rows = []
        for col in cols:
            s = self._frame[col]
            v = s.to_numpy(dtype=float, na_value=np.nan) if _is_numeric(s) else None
            rows.append(
                {
                    "column": str(col),
                    "role": self.role_of(col) or "",
                    "dtype": str(s.dtype),
                    "n": int(s.notna().sum()),
                    "n_missing": int(s.isna().sum()),
                    "n_unique": int(s.nunique(dropna=True)),
                    "mean": float(np.nanmean(v)) if v is not None and np.isfinite(v).any() else np.nan,
                    "std": float(np.nanstd(v, ddof=1)) if v is not None and np.isfinite(v).sum() > 1 else np.nan,
                    "min": float(np.nanmin(v)) if v is not None and np.isfinite(v).any() else np.nan,
                    "median": float(np.nanmedian(v)) if v is not None and np.isfinite(v).any() else np.nan,
                    "max": float(np.nanmax(v)) if v is not None and np.isfinite(v).any() else np.nan,
                }
            )
        table = pd.DataFrame(rows, columns=["column", "role", "dtype", "n", "n_missing", "n_unique", "mean", "std", "min", "median", "max"])
        sub = f"{self.n} rows, {self._frame.shape[1]} columns"
        if self.n_dropped:
            sub += f" ({self.n_dropped} rows with missing values dropped)"
        diags = []
        if self.treatment is not None:
            counts = self._frame[self.treatment].value_counts().sort_index()
            text = ", ".join(f"{k}: {v}" for k, v in counts.items())
            smallest = int(counts.min())
            status = "ok" if smallest >= 10 else "warn"
            msg = f"rows per treatment level: {text}" + ("" if status == "ok" else "; fewer than 10 in a group makes estimates fragile")
            diags.append(Diagnostic("treatment group sizes", status, float(smallest), msg))
        if self.n_dropped:
            diags.append(
                Diagnostic("missing values", "warn", float(self.n_dropped), f"{self.n_dropped} incomplete rows dropped (missing='drop')")
            )
        title = f"Dataset {self.name!r}" if self.name else "Dataset"
        return TableResult(
            method=title,
            estimand=sub,
            table=table,
            n=self.n,
            diagnostics=tuple(diags),
            provenance=Provenance.current(data_fingerprint=self.fingerprint()),
        )

    def __repr__(self) -> str:
        parts = [f"name={self.name!r}"] if self.name else []
        parts.append(f"rows={self.n}")
        for role, value in self.roles.items():
            if role in ("name", "missing", "treated_level") or value is None or value == ():
                continue
            if role == "graph":
                parts.append("graph=<given>")
            elif isinstance(value, tuple):
                parts.append(f"{role}={list(value)}")
            else:
                parts.append(f"{role}={value!r}")
        if self.treated_level is not None:
            parts.append(f"treated_level={show(self.treated_level)}")
        if self.missing != "refuse":
            parts.append(f"missing={self.missing!r}")
        return f"Dataset({', '.join(parts)})"

    def _repr_html_(self) -> str:
        return str(self.describe()._repr_html_())

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_csv(cls, path: str | Path, *, read_options: Mapping[str, Any] | None = None, **roles: Any) -> Dataset:
        """Read a CSV file (``pandas.read_csv`` with ``read_options``) into a Dataset with the given roles."""
        from ._io import read_csv

        roles.setdefault("name", Path(path).stem)
        return cls(read_csv(path, read_options), **roles)

    @classmethod
    def from_parquet(cls, path: str | Path, *, columns: Sequence[str] | None = None, **roles: Any) -> Dataset:
        """Read a Parquet file or directory into a Dataset with the given roles."""
        from ._io import read_parquet

        roles.setdefault("name", Path(path).stem)
        return cls(read_parquet(path, columns), **roles)

    @classmethod
    def from_sql(cls, source: Any, *, table: str | None = None, query: str | None = None, **roles: Any) -> Dataset:
        """Read a SQL table or query into a Dataset.

        Parameters
        ----------
        source : str, path or SQLAlchemy Engine/Connection
            A SQLAlchemy URL (``"postgresql+psycopg://user@host/db"``), a path to a SQLite file (the embedded
            default), or an open SQLAlchemy engine or connection.
        table, query : str
            Exactly one: a table name, or a SELECT statement.
        """
        from ._io import read_sql

        if table is not None:
            roles.setdefault("name", table)
        return cls(read_sql(source, table=table, query=query), **roles)


@vp.validate_params(
    {
        "data": "data",
        "roles": vp.NoCheck("role keywords, checked against the columns by Dataset"),
    }
)
def as_dataset(data: Any, **roles: Any) -> Dataset:
    """A Dataset from ``data`` (a Dataset or a DataFrame) plus role keywords.

    Every public function that takes a Dataset calls this, so ``f(dataset)`` and
    ``f(data=frame, outcome="y", ...)`` behave the same. Role keywords given as None are ignored; with a
    Dataset, the others replace its roles.
    """
    given = {k: v for k, v in roles.items() if v is not None}
    if isinstance(data, Dataset):
        return data.with_roles(**given) if given else data
    if isinstance(data, pd.DataFrame):
        check_frame(data, "data")  # the caller passed it as `data`: name it so
        return Dataset(data, **given)
    if is_foreign_frame(data):
        return Dataset(check_frame(to_pandas(data, "data"), "data"), **given)
    raise ArgumentTypeError(f"`data` must be a causalinfer Dataset or a data frame (pandas, polars, Arrow); got {type(data).__name__}")
