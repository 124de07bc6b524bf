"""Data frames beyond pandas: polars, Arrow and any frame of the dataframe interchange protocol.

Every public function declared with :func:`causalinfer._validation.validate_params` converts a foreign frame given
for a ``"data"`` or ``"frame"`` parameter to pandas here, once, at the front door, so the code behind it sees one
kind of table and gives identical results whatever the caller held. The conversion goes through narwhals (the
compatibility layer scikit-learn also uses) rather than by hand:

- polars ``DataFrame`` -> pandas through Arrow; a polars ``LazyFrame`` is collected first (the query runs once);
- pyarrow ``Table`` / ``RecordBatch`` -> pandas (``to_pandas``, which copies no more than pandas itself would);
- any other object exposing ``__arrow_c_stream__`` (the Arrow PyCapsule interface) is read
  as an Arrow table (DuckDB relations and dask frames are left alone: the functions that take them compute
  in their engine); an object with only ``__dataframe__`` goes through pandas' interchange reader.

Types carry over: a polars ``Enum`` becomes an *ordered* pandas Categorical in the Enum's order (so its labels
order themselves, as an ordered Categorical does), a polars ``Categorical`` an unordered one (labels then need an
explicit order, as with pandas), nulls become NaN/NaT/None as pandas represents them.

:func:`from_pandas` goes the other way for results (``to_frame(backend="polars")``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .exceptions import ArgumentError, ArgumentTypeError, DependencyError

#: Top-level modules whose frames are converted (checked by name: nothing is imported to recognise them).
_FOREIGN_MODULES = frozenset({"polars", "pyarrow", "narwhals", "modin", "cudf", "ibis", "pyspark"})
#: Tables that stay where they are: the functions that accept them compute inside their engine.
_ENGINE_MODULES = frozenset({"dask", "duckdb"})
#: Frame backends :func:`from_pandas` can produce.
BACKENDS = ("pandas", "polars", "pyarrow")


def is_foreign_frame(value: Any) -> bool:
    """Whether ``value`` is a table that is not a pandas DataFrame but can be read as one.

    Series-like objects (a polars Series, an Arrow array) are not frames: array arguments read them directly.
    """
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return False
    kind = type(value)
    root = kind.__module__.partition(".")[0]
    if root in _ENGINE_MODULES:  # dask partitions and DuckDB relations are computed in place, never copied whole
        return False
    if root in _FOREIGN_MODULES:
        name = kind.__name__
        return name in ("DataFrame", "LazyFrame", "Table", "RecordBatch") or hasattr(value, "__arrow_c_stream__")
    return hasattr(value, "__arrow_c_stream__") or hasattr(value, "__dataframe__")


def to_pandas(value: Any, name: str = "data") -> pd.DataFrame:
    """``value`` as a pandas DataFrame (``value`` itself when it already is one).

    Raises
    ------
    ArgumentTypeError
        When ``value`` is a Series-like object or an object that is not a table at all.
    DependencyError
        When narwhals, needed for the conversion, is missing.
    """
    if isinstance(value, pd.DataFrame):
        return value
    root = type(value).__module__.partition(".")[0]
    if root == "pyarrow" and type(value).__name__ in ("Table", "RecordBatch"):
        return value.to_pandas()
    if root in ("polars", "narwhals") or (root == "ibis"):
        return _via_narwhals(value, name)
    if hasattr(value, "__arrow_c_stream__"):
        import pyarrow as pa

        try:
            return pa.table(value).to_pandas()
        except (TypeError, ValueError, pa.ArrowException) as exc:
            raise ArgumentTypeError(f"`{name}` could not be read as an Arrow table ({exc}); pass a pandas or polars DataFrame") from exc
    if hasattr(value, "__dataframe__"):
        try:
            return pd.api.interchange.from_dataframe(value)
        except (TypeError, ValueError, NotImplementedError, RuntimeError) as exc:
            raise ArgumentTypeError(
                f"`{name}` could not be read through the dataframe interchange protocol ({exc}); pass a pandas or polars DataFrame"
            ) from exc
    raise ArgumentTypeError(f"`{name}` must be a data frame (pandas, polars or Arrow); got {type(value).__name__}")


def _via_narwhals(value: Any, name: str) -> pd.DataFrame:
    try:
        import narwhals as nw
    except ImportError as exc:  # pragma: no cover - narwhals comes with scikit-learn
        raise DependencyError("reading polars frames needs narwhals: pip install narwhals") from exc
    try:
        frame = nw.from_native(value, pass_through=False, allow_series=True)
    except TypeError as exc:
        raise ArgumentTypeError(f"`{name}` must be a data frame (pandas, polars or Arrow); got {type(value).__name__}") from exc
    if isinstance(frame, nw.Series):
        raise ArgumentTypeError(f"`{name}` must be a data frame, not a Series; wrap it in a frame (e.g. series.to_frame())")
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    return frame.to_pandas()


def from_pandas(frame: pd.DataFrame, backend: str = "pandas") -> Any:
    """``frame`` in the requested ``backend``: ``"pandas"`` (itself), ``"polars"`` or ``"pyarrow"``.

    polars and Arrow tables have no index, so a pandas index other than the default ``0, 1, 2, ...`` becomes
    leading column(s) (named after the index, or ``index`` when unnamed) rather than being dropped.
    """
    if backend == "pandas":
        return frame
    if backend not in BACKENDS:
        raise ArgumentError(f"`backend` must be one of {', '.join(map(repr, BACKENDS))}; got {backend!r}")
    default = isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1
    plain = frame if default else frame.reset_index()
    if backend == "pyarrow":
        import pyarrow as pa

        return pa.Table.from_pandas(plain, preserve_index=False)
    try:
        import polars as pl
    except ImportError as exc:
        raise DependencyError("`backend='polars'` needs polars: pip install 'causalinfer[polars]'") from exc
    return pl.from_pandas(plain)
