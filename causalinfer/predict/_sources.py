"""Where rows come from: DataFrames, CSV and Parquet files, SQL tables or queries, and iterables of DataFrames.

Every source yields chunks of exactly ``chunk_size`` rows (the last one may be shorter) in a fixed order, so
chunk ``i`` always holds the same rows and an interrupted job can resume where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .._optional import import_optional
from .._validation import show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError, SourceError
from ._models import frame_fingerprint

__all__ = ["SQLSource", "Source", "as_source"]


@dataclass(frozen=True)
class SQLSource:
    """Rows of a SQL table or query, read through SQLAlchemy with a streaming (server-side) cursor.

    Parameters
    ----------
    connection : str, engine or connection
        A SQLAlchemy URL (``"postgresql+psycopg://..."``, ``"sqlite:///file.db"``), a SQLite file path, or an engine.
    table : str, optional
        Table to read. Rows are ordered by ``order_by`` so that chunk boundaries are stable across runs.
    query : str, optional
        A SELECT statement (give it an ORDER BY for resumable jobs).
    order_by : str or sequence of str, optional
        Columns to order a table by; defaults to the scoring key.
    """

    connection: Any
    table: str | None = None
    query: str | None = None
    order_by: str | Sequence[str] | None = None

    def __post_init__(self) -> None:
        if (self.table is None) == (self.query is None):
            raise ArgumentError("SQLSource needs exactly one of `table` (a table name) or `query` (a SELECT statement)")
        if self.table is not None and not isinstance(self.table, str):
            raise ArgumentTypeError(f"`table` must be a table name; got {show(self.table)}")


class Source:
    """A chunked reader with a description, a fingerprint and the list of columns it offers."""

    description: str = ""

    def row_label(self, row: int) -> str:
        """Where row ``row`` (0-based, in source order) is, in the words of the source."""
        return f"row {row} of the source (0-based)"

    def identity(self) -> str:
        """What the source is, independent of its content (a path, a table): part of a job's identity."""
        return self.description

    def fingerprint(self) -> str | None:
        return None

    def chunks(self, chunk_size: int, columns: Sequence[str] | None) -> Iterator[pd.DataFrame]:  # pragma: no cover
        raise NotImplementedError


def _rechunk_frames(frames: Iterable[pd.DataFrame], chunk_size: int) -> Iterator[pd.DataFrame]:
    buf: list[pd.DataFrame] = []
    n = 0
    for f in frames:
        if not isinstance(f, pd.DataFrame):
            raise ArgumentTypeError(f"`source` yielded {show(f)}; an iterable source must yield pandas DataFrames")
        if len(f) == 0:
            continue
        buf.append(f)
        n += len(f)
        while n >= chunk_size:
            whole = pd.concat(buf, ignore_index=True) if len(buf) > 1 else buf[0].reset_index(drop=True)
            yield whole.iloc[:chunk_size].reset_index(drop=True)
            rest = whole.iloc[chunk_size:]
            buf = [rest] if len(rest) else []
            n = len(rest)
    if n:
        yield pd.concat(buf, ignore_index=True) if len(buf) > 1 else buf[0].reset_index(drop=True)


class FrameSource(Source):
    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.description = f"DataFrame ({len(frame)} rows)"

    def identity(self) -> str:
        return "DataFrame"

    def fingerprint(self) -> str | None:
        return "frame:" + frame_fingerprint(self.frame)

    def chunks(self, chunk_size: int, columns: Sequence[str] | None) -> Iterator[pd.DataFrame]:
        for start in range(0, len(self.frame), chunk_size):
            yield self.frame.iloc[start : start + chunk_size].reset_index(drop=True)


class IterableSource(Source):
    def __init__(self, frames: Iterable[pd.DataFrame]) -> None:
        self.frames = frames
        self.description = f"iterable of DataFrames ({type(frames).__name__})"

    def chunks(self, chunk_size: int, columns: Sequence[str] | None) -> Iterator[pd.DataFrame]:
        return _rechunk_frames(iter(self.frames), chunk_size)


class CSVSource(Source):
    """A CSV file read in chunks; key columns are read as written (text, or exact integers), never as floats."""

    def __init__(self, path: Path, key: Sequence[str] = ()) -> None:
        self.path = path
        self.key = tuple(key)
        self.description = f"CSV file {path.name!r}"
        self._key_kinds: dict[str, str] = {}

    def row_label(self, row: int) -> str:
        return f"line {row + 2} of the CSV file (data row {row + 1})"

    def identity(self) -> str:
        return "csv:" + str(self.path.resolve())

    def fingerprint(self) -> str | None:
        try:
            return "csv:" + file_digest(self.path)
        except OSError as exc:
            raise SourceError(f"could not read CSV file {str(self.path)!r}: {exc.strerror or exc}") from exc

    def chunks(self, chunk_size: int, columns: Sequence[str] | None) -> Iterator[pd.DataFrame]:
        offset = 0
        for chunk in self._parsed(chunk_size):
            for k in self.key:
                if k in chunk.columns:
                    chunk[k] = self._key_values(k, chunk[k], offset)
            offset += len(chunk)
            yield chunk

    def _parsed(self, chunk_size: int) -> Iterator[pd.DataFrame]:
        try:
            reader = pd.read_csv(self.path, chunksize=chunk_size, dtype=dict.fromkeys(self.key, str))
            with reader:
                for chunk in reader:
                    yield chunk.reset_index(drop=True)
        except pd.errors.EmptyDataError:
            return
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise SourceError(f"could not read CSV file {str(self.path)!r}: {type(exc).__name__}: {exc}") from exc
        except OSError as exc:
            raise SourceError(f"could not read CSV file {str(self.path)!r}: {exc.strerror or exc}") from exc

    def _key_values(self, name: str, text: pd.Series, offset: int) -> pd.Series:
        """Key text as exact integers when the column's first chunk held only integer text, else as text."""
        missing = text.isna().to_numpy()
        if missing.any():
            row = offset + int(missing.argmax())
            raise DataError(
                f"`key` column {name!r} is empty at {self.row_label(row)}; every row needs a key to be scored exactly "
                "once. Fill in the key or drop the row"
            )
        ints = exact_integers(text)
        kind = self._key_kinds.setdefault(name, "int" if ints is not None else "str")
        if kind == "str":
            return text.astype(object)
        if ints is None:
            bad = next(i for i, v in enumerate(text) if exact_integers(pd.Series([v])) is None)
            raise DataError(
                f"`key` column {name!r} held whole numbers in the first chunk but {text.iloc[bad]!r} at "
                f"{self.row_label(offset + bad)}; keys must be all whole numbers or all text. Quote the keys as text "
                "consistently, or score a DataFrame read with dtype=str for this column"
            )
        return ints


_INTEGER_TEXT = r"-?(?:0|[1-9][0-9]*)"


def exact_integers(text: pd.Series) -> pd.Series | None:
    """``text`` as int64 when every value is an integer written exactly (no sign +, no leading zeros, in range)."""
    s = text.astype(str)
    if not s.str.fullmatch(_INTEGER_TEXT).all() or (s.str.len() > 20).any():
        return None
    values = [int(v) for v in s]
    if values and (min(values) < -(2**63) or max(values) > 2**63 - 1):
        return None
    return pd.Series(values, index=text.index, dtype="int64")


def file_digest(path: Path, block: int = 8 << 20) -> str:
    """SHA-256 over every byte of ``path``, read in 8 MiB blocks, so that any edit changes it.

    SHA-256 rather than BLAKE2b: with the SHA extensions of current x86 and ARM CPUs it is the faster of the two
    (benchmarks/README.md has the figures), and both run well above the speed at which a CSV file is parsed.
    """
    h = hashlib.sha256()
    h.update(str(path.stat().st_size).encode())
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


class ParquetSource(Source):
    """A Parquet file or a directory of Parquet files, read in record batches (memory bounded by the chunk)."""

    def __init__(self, path: Path) -> None:
        import_optional("pyarrow", purpose="reading Parquet files")
        import pyarrow.dataset as pads

        self.path = path
        try:
            self.dataset = pads.dataset(str(path), format="parquet")
        except (OSError, ValueError, TypeError) as exc:  # pyarrow's ArrowInvalid is a ValueError, ArrowIOError an OSError
            raise SourceError(f"could not open Parquet data {str(path)!r}: {_which_file(path, exc)}") from exc
        self.description = f"Parquet {'directory' if path.is_dir() else 'file'} {path.name!r}"

    @property
    def column_names(self) -> list[str]:
        return list(self.dataset.schema.names)

    def identity(self) -> str:
        return "parquet:" + str(self.path.resolve())

    def fingerprint(self) -> str | None:
        """SHA-256 of every byte of every file (name and content), so that any edit is caught."""
        try:
            parts = sorted([Path(frag.path).name, file_digest(Path(frag.path))] for frag in self.dataset.get_fragments())
        except OSError as exc:
            raise SourceError(f"could not read Parquet data {str(self.path)!r}: {exc.strerror or exc}") from exc
        blob = json.dumps([str(self.dataset.schema), parts]).encode()
        return "parquet:" + hashlib.sha256(blob).hexdigest()

    def _batches(self, chunk_size: int, columns: list[str] | None) -> Iterator[Any]:
        # One file at a time, one row group at a time. pre_buffer=False matters: by default the reader pre-buffers
        # the column chunks of the row groups still to come, so memory would grow with the file.
        import pyarrow.parquet as pq

        for path in sorted(frag.path for frag in self.dataset.get_fragments()):
            pf = pq.ParquetFile(path, pre_buffer=False)
            try:
                yield from pf.iter_batches(batch_size=chunk_size, columns=columns, use_threads=True)
            finally:
                pf.close()

    def chunks(self, chunk_size: int, columns: Sequence[str] | None) -> Iterator[pd.DataFrame]:
        import pyarrow as pa

        cols = None if columns is None else [c for c in columns if c in set(self.column_names)]
        try:
            batches = self._batches(chunk_size, cols)
            buf: list[Any] = []
            n = 0
            for b in batches:
                if b.num_rows == 0:
                    continue
                buf.append(b)
                n += b.num_rows
                while n >= chunk_size:
                    table = pa.Table.from_batches(buf)
                    yield table.slice(0, chunk_size).to_pandas()
                    rest = table.slice(chunk_size)
                    buf = rest.to_batches() if rest.num_rows else []
                    n = rest.num_rows
            if n:
                yield pa.Table.from_batches(buf).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise SourceError(f"could not read Parquet data {str(self.path)!r}: {_which_file(self.path, exc)}") from exc


def _which_file(path: Path, exc: Exception) -> str:
    """The reason a Parquet source failed, naming the first file in a folder that is not a readable Parquet file."""
    import pyarrow.parquet as pq

    reason = f"{type(exc).__name__}: {exc}"
    if not path.is_dir():
        return reason
    for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))):
        try:
            pq.read_metadata(f)
        except (OSError, ValueError) as bad:
            return (
                f"the file {str(f.relative_to(path))!r} in the folder is not a readable Parquet file ({type(bad).__name__}: {bad}); "
                "a Parquet source folder must hold Parquet files only: move that file out"
            )
    return reason


def _safe_url(engine: Any) -> str:
    try:
        return engine.url.render_as_string(hide_password=True)
    except AttributeError:
        return str(engine)


class SQLReader(Source):
    def __init__(self, spec: SQLSource, key: Sequence[str]) -> None:
        from ..data._io import sql_engine

        self.spec = spec
        self.engine = sql_engine(spec.connection)
        order = spec.order_by if spec.order_by is not None else (list(key) or None)
        if isinstance(order, str):
            order = [order]
        self.order = list(order) if order else []
        self.description = f"SQL {'table ' + repr(spec.table) if spec.table else 'query'} at {_safe_url(self.engine)}"

    def statement(self, columns: Sequence[str] | None) -> Any:
        import sqlalchemy as sa

        if self.spec.query is not None:
            return sa.text(self.spec.query)
        name = str(self.spec.table)
        if columns:
            stmt = sa.select(*sa.table(name, *[sa.column(c) for c in columns]).c)
        else:
            stmt = sa.select(sa.text("*")).select_from(sa.table(name))
        if self.order:
            stmt = stmt.order_by(*[sa.column(c) for c in self.order])
        return stmt

    def identity(self) -> str:
        blob = json.dumps([_safe_url(self.engine), self.spec.table, self.spec.query, self.order]).encode()
        return "sql:" + hashlib.sha256(blob).hexdigest()

    def fingerprint(self) -> str | None:
        return None  # a table's content cannot be fingerprinted without reading it; chunk fingerprints check it

    def chunks(self, chunk_size: int, columns: Sequence[str] | None) -> Iterator[pd.DataFrame]:
        import sqlalchemy as sa

        if self.spec.table is not None:
            try:
                names = sa.inspect(self.engine).get_table_names() + sa.inspect(self.engine).get_view_names()
                avail = {c["name"] for c in sa.inspect(self.engine).get_columns(self.spec.table)} if self.spec.table in names else set()
            except sa.exc.SQLAlchemyError as exc:
                raise SourceError(f"cannot reach the source database: {type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
            if self.spec.table not in names:
                raise SourceError(f"table {self.spec.table!r} is not in the source database (tables: {', '.join(sorted(names)) or 'none'})")
            columns = None if columns is None else [c for c in columns if c in avail]
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(stream_results=True, max_row_buffer=chunk_size)
                yield from pd.read_sql_query(self.statement(columns), conn, chunksize=chunk_size)
        except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
            raise SourceError(
                f"reading the source database failed: {type(exc).__name__}: {str(exc).splitlines()[0]}; "
                "chunks already written are kept, and a re-run resumes after them"
            ) from exc


def as_source(source: Any, key: Sequence[str] = ()) -> Source:
    """Turn what the user passed as ``source`` into a chunked :class:`Source`."""
    if isinstance(source, Source):
        return source
    if isinstance(source, pd.DataFrame):
        return FrameSource(source)
    if isinstance(source, SQLSource):
        return SQLReader(source, key)
    if isinstance(source, (str, os.PathLike)):
        p = Path(source)
        if not p.exists():
            raise SourceError(f"`source` {str(p)!r} does not exist; pass an existing CSV or Parquet file or directory")
        if p.is_dir() or p.suffix in (".parquet", ".pq"):
            return ParquetSource(p)
        if p.suffix in (".csv", ".txt", ".gz"):
            return CSVSource(p, key)
        raise ArgumentError(
            f"`source` {str(p)!r} has an unknown format; use a .csv or .parquet file, a Parquet directory, or SQLSource(...)"
        )
    if isinstance(source, pd.Series):
        raise ArgumentTypeError("`source` must be a table of features; got a Series (use series.to_frame())")
    if isinstance(source, Iterable) and not isinstance(source, (str, bytes, dict)):
        return IterableSource(source)
    raise ArgumentTypeError(
        f"`source` must be a DataFrame, a CSV/Parquet path, a Parquet directory, SQLSource(...) or an iterable of DataFrames; got {show(source)}"
    )


def prefetch(chunks: Iterator[pd.DataFrame], depth: int = 1) -> Iterator[tuple[pd.DataFrame, float]]:
    """Read the next chunk in a background thread while the current one is scored.

    Yields ``(chunk, seconds the consumer waited for it)``. Errors raised by the reader re-raise here.
    """
    import time

    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def work() -> None:
        try:
            for c in chunks:
                while not stop.is_set():
                    try:
                        q.put(("ok", c), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("ok", done))
        except BaseException as exc:
            q.put(("err", exc))

    t = threading.Thread(target=work, name="causalinfer-reader", daemon=True)
    t.start()
    try:
        while True:
            t0 = time.perf_counter()
            kind, item = q.get()
            waited = time.perf_counter() - t0
            if kind == "err":
                raise item
            if item is done:
                return
            yield item, waited
    finally:
        stop.set()
        while t.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                t.join(timeout=0.05)


def require_rows(n: int, source: Source) -> None:
    if n == 0:
        raise DataError(f"`source` ({source.description}) has no rows; there is nothing to score")
