"""Where scores go: a DataFrame, a CSV file, a Parquet directory (one part per chunk) or a SQL table.

Each sink commits one chunk at a time and remembers which chunks are committed (a manifest file beside a
file destination; two bookkeeping tables inside a database, updated in the same transaction as the rows).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .._validation import show
from ..exceptions import ArgumentTypeError, SourceError
from ._errors import JobConflictError
from ._manifest import Manifest, job_id, os_error, remove_quietly

__all__ = ["SQLDestination", "Sink", "as_sink"]

JOBS_TABLE = "causalinfer_scoring_jobs"
CHUNKS_TABLE = "causalinfer_scoring_chunks"


@dataclass(frozen=True)
class SQLDestination:
    """A SQL table that receives scores, one transaction per chunk.

    Parameters
    ----------
    connection : str, engine
        A SQLAlchemy URL (``"sqlite:///scores.db"``, ``"postgresql+psycopg://user@host/db"``), a SQLite file path
        (created if absent), or an engine.
    table : str
        The table to create and fill. Job bookkeeping lives in the tables ``causalinfer_scoring_jobs`` and
        ``causalinfer_scoring_chunks`` of the same database.
    """

    connection: Any
    table: str

    def __post_init__(self) -> None:
        if not isinstance(self.table, str) or not self.table:
            raise ArgumentTypeError(f"`table` must be a non-empty table name; got {show(self.table)}")


class Sink:
    """Committed-chunk bookkeeping plus writing; subclasses implement the storage."""

    description = ""
    resumable = True

    def __init__(self) -> None:
        self.done: dict[int, dict[str, Any]] = {}
        self.complete = False
        self.previous_totals: dict[str, Any] = {}
        self.previous_job: dict[str, Any] | None = None

    def record_job(self, job: dict[str, Any]) -> None:
        """Store the job's description anew (same identity, newer input fingerprint)."""
        return None

    def verify(self) -> None:
        """Check that the output of every committed chunk is still there; raise JobConflictError if not."""
        return None

    def lost(self, what: str) -> JobConflictError:
        return JobConflictError(
            f"the destination {self.description} has lost output that an earlier run of this job committed: {what}. "
            "Its scores cannot be trusted to hold every input row exactly once; pass resume=False to score the input afresh"
        )

    def open(self, job: dict[str, Any], *, resume: bool, overwrite: bool) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def commit(self, index: int, frame: pd.DataFrame, info: dict[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError

    def finish(self, totals: dict[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        return None

    def result_frame(self) -> pd.DataFrame | None:
        return None

    @staticmethod
    def conflict(where: str, other: dict[str, Any] | None, job: dict[str, Any] | None = None) -> JobConflictError:
        if other is None:
            return JobConflictError(
                f"the destination {where} already holds data that no scoring job recorded; choose another destination "
                "or pass overwrite=True to replace it"
            )
        labels = {"model_hash": "model", "source": "source", "chunk_size": "chunk size", "outputs": "outputs", "key": "key",
                  "columns": "model columns", "positional": "column order"}  # fmt: skip
        changed = [
            f"{label} {_short(other.get(k))} then, {_short(job.get(k))} now"
            for k, label in labels.items()
            if job is not None and other.get(k) != job.get(k)
        ]
        what = "; ".join(changed) if changed else "it was written by an older version of the job format"
        return JobConflictError(
            f"the destination {where} holds the output of another scoring job ({what}); choose another destination "
            "or pass overwrite=True to replace it"
        )


def _short(value: Any) -> str:
    text = str(value)
    return repr(text[:16] + "...") if len(text) > 19 else repr(value)


class FrameSink(Sink):
    description = "DataFrame"
    resumable = False

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[pd.DataFrame] = []

    def open(self, job: dict[str, Any], *, resume: bool, overwrite: bool) -> None:
        self.parts = []

    def commit(self, index: int, frame: pd.DataFrame, info: dict[str, Any]) -> None:
        self.parts.append(frame)
        self.done[index] = info

    def finish(self, totals: dict[str, Any]) -> None:
        self.complete = True

    def result_frame(self) -> pd.DataFrame | None:
        if not self.parts:
            return None
        return pd.concat(self.parts, ignore_index=True)


class _FileSink(Sink):
    manifest: Manifest

    def has_foreign_content(self) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def clear(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def prepare_resume(self) -> None:
        return None

    def open(self, job: dict[str, Any], *, resume: bool, overwrite: bool) -> None:
        jid = job_id(job)
        state = self.manifest.read() if not overwrite else None
        if state is None:
            if self.has_foreign_content() and not overwrite:
                raise self.conflict(self.description, None)
            self.clear()
            self.manifest.start(job, jid)
            return
        if state["job_id"] != jid:
            raise self.conflict(self.description, state.get("job"), job)
        if not resume:
            self.clear()
            self.manifest.start(job, jid)
            return
        self.manifest.resume(state)
        self.done = self.manifest.done
        self.complete = state.get("status") == "complete"
        self.previous_totals = dict(state.get("totals", {}))
        self.previous_job = dict(state.get("job") or {})
        self.verify()
        if not self.complete:
            self.prepare_resume()

    def record_job(self, job: dict[str, Any]) -> None:
        self.manifest.record_job(job)

    def finish(self, totals: dict[str, Any]) -> None:
        self.manifest.finish(totals)
        self.complete = True


class ParquetSink(_FileSink):
    """A directory with ``part-000000.parquet``, ... (one file per chunk) and ``_manifest.json``."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.description = f"Parquet directory {str(path)!r}"
        self.manifest = Manifest(path / "_manifest.json")

    def _ensure_dir(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, f"the directory {str(self.path)!r}", 0) from exc

    def has_foreign_content(self) -> bool:
        if self.path.exists() and not self.path.is_dir():
            raise SourceError(f"`destination` {str(self.path)!r} is a file; a Parquet destination is a directory (one part per chunk)")
        try:
            return self.path.is_dir() and any(self.path.iterdir())
        except OSError as exc:
            raise SourceError(f"cannot list the destination directory {str(self.path)!r}: {exc.strerror or exc}") from exc

    def clear(self) -> None:
        try:
            if self.path.is_dir():
                for f in self.path.iterdir():
                    if f.is_dir():
                        shutil.rmtree(f)
                    else:
                        f.unlink()
        except OSError as exc:
            raise SourceError(f"cannot clear the destination directory {str(self.path)!r}: {exc.strerror or exc}") from exc
        self._ensure_dir()

    def part(self, index: int) -> Path:
        return self.path / f"part-{index:06d}.parquet"

    def verify(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        for index, info in sorted(self.done.items()):
            part = self.part(index)
            if not part.is_file():
                raise self.lost(f"{part.name} (chunk {index}, {info.get('rows')} row(s)) is missing")
            try:
                rows = pq.read_metadata(part).num_rows
            except (OSError, pa.ArrowException) as exc:
                raise self.lost(f"{part.name} (chunk {index}) cannot be read ({type(exc).__name__}: {exc})") from exc
            if rows != int(info.get("rows", rows)):
                raise self.lost(f"{part.name} (chunk {index}) holds {rows} row(s), but {info.get('rows')} were committed")
            size = info.get("bytes")
            if size is not None and part.stat().st_size != int(size):
                raise self.lost(f"{part.name} (chunk {index}) is {part.stat().st_size} bytes, but {size} were committed")

    def commit(self, index: int, frame: pd.DataFrame, info: dict[str, Any]) -> None:
        target = self.part(index)
        tmp = self.path / f".{target.name}.tmp"
        try:
            write_part(frame, tmp, target)
        except OSError as exc:
            remove_quietly(tmp)
            raise os_error(exc, f"chunk {index} to {str(target)!r}", len(self.done)) from exc
        except (ValueError, TypeError) as exc:  # pyarrow cannot store a column (ArrowException is a ValueError)
            remove_quietly(tmp)
            raise SourceError(
                f"chunk {index} cannot be written as Parquet ({type(exc).__name__}: {exc}); {len(self.done)} chunk(s) are "
                "committed and kept. Choose outputs Parquet can store, or a CSV/SQL destination"
            ) from exc
        info = {**info, "bytes": target.stat().st_size}
        self.manifest.commit(index, info)
        self.done[index] = info


class CSVSink(_FileSink):
    """One CSV file, appended chunk by chunk; ``<file>.manifest.json`` records the byte offset after each chunk."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.description = f"CSV file {str(path)!r}"
        self.manifest = Manifest(path.with_name(path.name + ".manifest.json"))
        self.offset = 0

    def has_foreign_content(self) -> bool:
        try:
            return self.path.exists() and self.path.stat().st_size > 0
        except OSError as exc:
            raise SourceError(f"cannot check the destination CSV file {str(self.path)!r}: {exc.strerror or exc}") from exc

    def clear(self) -> None:
        try:
            if not self.path.parent.exists():
                raise SourceError(f"the folder {str(self.path.parent)!r} of `destination` does not exist; create it first")
            with open(self.path, "wb"):
                pass
        except OSError as exc:
            raise os_error(exc, f"the CSV file {str(self.path)!r}", 0) from exc
        self.offset = 0

    def verify(self) -> None:
        end = max((int(c.get("offset", 0)) for c in self.done.values()), default=0)
        size = self.path.stat().st_size if self.path.is_file() else None
        if size is None and self.done:
            raise self.lost("the CSV file is missing")
        if size is not None and size < end:
            raise self.lost(f"the CSV file is {size} bytes, but {end} bytes were committed (it was truncated)")
        if not self.done:
            return
        start = 0
        for index, info in sorted(self.done.items()):
            stop = int(info.get("offset", start))
            data = self._read_range(start, stop)
            if "sha256" in info and hashlib.sha256(data).hexdigest() != info["sha256"]:
                raise self.lost(f"the bytes of chunk {index} (offsets {start} to {stop}) were changed")
            rows = data.count(b"\n") - (1 if start == 0 else 0)
            if "rows" in info and b'"' not in data and rows != int(info["rows"]):
                raise self.lost(f"chunk {index} holds {rows} line(s), but {info['rows']} row(s) were committed")
            start = stop

    def _read_range(self, start: int, stop: int) -> bytes:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(start)
                return fh.read(stop - start)
        except OSError as exc:
            raise SourceError(f"could not read back the CSV file {str(self.path)!r}: {exc.strerror or exc}") from exc

    def prepare_resume(self) -> None:
        self.offset = max((int(c.get("offset", 0)) for c in self.done.values()), default=0)
        try:
            with open(self.path, "r+b" if self.path.exists() else "wb") as fh:
                fh.truncate(self.offset)
        except OSError as exc:
            raise os_error(exc, f"the CSV file {str(self.path)!r}", len(self.done)) from exc

    def commit(self, index: int, frame: pd.DataFrame, info: dict[str, Any]) -> None:
        data = frame.to_csv(index=False, header=self.offset == 0, lineterminator="\n").encode("utf-8")
        try:
            append_bytes(self.path, self.offset, data)
        except OSError as exc:
            raise os_error(exc, f"chunk {index} to {str(self.path)!r}", len(self.done)) from exc
        info = {**info, "offset": self.offset + len(data), "sha256": hashlib.sha256(data).hexdigest()}
        self.manifest.commit(index, info)
        self.offset += len(data)
        self.done[index] = info


def write_part(frame: pd.DataFrame, tmp: Path, target: Path) -> None:
    """Write ``frame`` as Parquet to ``tmp``, make it durable, then rename it to ``target`` (atomic on POSIX)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    with open(tmp, "wb") as fh:
        pq.write_table(table, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def append_bytes(path: Path, offset: int, data: bytes) -> None:
    """Write ``data`` at ``offset`` of ``path`` (dropping anything after it) and make it durable."""
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.truncate()
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


class SQLSink(Sink):
    """A SQL table; rows and the chunk's bookkeeping row are written in one transaction."""

    def __init__(self, spec: SQLDestination) -> None:
        super().__init__()
        import sqlalchemy as sa

        self.spec = spec
        conn = spec.connection
        if isinstance(conn, (str, os.PathLike)) and "://" not in str(conn):
            conn = f"sqlite:///{Path(conn)}"
        try:
            self.owns_engine = not isinstance(conn, sa.engine.Engine)
            self.engine = conn if not self.owns_engine else sa.create_engine(conn)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise SourceError(f"cannot open the destination database {show(conn)}: {exc}") from exc
        self.table = spec.table
        url = self.engine.url.render_as_string(hide_password=True)
        self.description = f"SQL table {spec.table!r} at {url}"
        meta = sa.MetaData()
        self.jobs = sa.Table(
            JOBS_TABLE,
            meta,
            sa.Column("destination", sa.String(255), primary_key=True),
            sa.Column("job_id", sa.String(64), nullable=False),
            sa.Column("job", sa.Text, nullable=False),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("totals", sa.Text),
        )
        self.chunks_t = sa.Table(
            CHUNKS_TABLE,
            meta,
            sa.Column("destination", sa.String(255), primary_key=True),
            sa.Column("chunk", sa.Integer, primary_key=True),
            sa.Column("info", sa.Text, nullable=False),
        )
        self.meta = meta

    def _db_error(self, exc: Exception, doing: str) -> SourceError:
        return SourceError(
            f"the destination database failed while {doing}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}. "
            f"{len(self.done)} chunk(s) are committed and kept; when the database is back, run the same job again to resume"
        )

    def _table_exists(self, conn: Any) -> bool:
        import sqlalchemy as sa

        return bool(sa.inspect(conn).has_table(self.table))

    def _reset(self, conn: Any, job: dict[str, Any], jid: str) -> None:
        import sqlalchemy as sa

        if self._table_exists(conn):
            sa.Table(self.table, sa.MetaData()).drop(conn)
        conn.execute(self.chunks_t.delete().where(self.chunks_t.c.destination == self.table))
        conn.execute(self.jobs.delete().where(self.jobs.c.destination == self.table))
        conn.execute(
            self.jobs.insert().values(
                destination=self.table, job_id=jid, job=json.dumps(job, sort_keys=True, default=str), status="running"
            )
        )

    def open(self, job: dict[str, Any], *, resume: bool, overwrite: bool) -> None:
        import sqlalchemy as sa

        jid = job_id(job)
        try:
            with self.engine.begin() as conn:
                self.meta.create_all(conn, checkfirst=True)
                row = conn.execute(sa.select(self.jobs).where(self.jobs.c.destination == self.table)).mappings().first()
                if overwrite or row is None:
                    if row is None and not overwrite and self._table_exists(conn):
                        raise self.conflict(self.description, None)
                    self._reset(conn, job, jid)
                    return
                if row["job_id"] != jid:
                    raise self.conflict(self.description, json.loads(row["job"]), job)
                if not resume:
                    self._reset(conn, job, jid)
                    return
                chunks = conn.execute(sa.select(self.chunks_t).where(self.chunks_t.c.destination == self.table)).mappings().all()
                self.done = {int(r["chunk"]): json.loads(r["info"]) for r in chunks}
                self.complete = row["status"] == "complete"
                self.previous_totals = json.loads(row["totals"]) if row["totals"] else {}
                self.previous_job = json.loads(row["job"])
                self._verify(conn)
        except sa.exc.SQLAlchemyError as exc:
            raise self._db_error(exc, "preparing the job") from exc

    def _verify(self, conn: Any) -> None:
        """The table must hold exactly the rows of the committed chunks (they were written in one transaction each)."""
        import sqlalchemy as sa

        committed = sum(int(info.get("rows", 0)) for info in self.done.values())
        if not self.done:
            return
        if not self._table_exists(conn):
            raise self.lost(f"the table is gone ({committed} row(s) in {len(self.done)} chunk(s) were committed)")
        held = int(conn.execute(sa.select(sa.func.count()).select_from(sa.table(self.table))).scalar_one())
        if held != committed:
            raise self.lost(f"the table holds {held} row(s), but {len(self.done)} committed chunk(s) hold {committed}")

    def record_job(self, job: dict[str, Any]) -> None:
        import sqlalchemy as sa

        try:
            with self.engine.begin() as conn:
                conn.execute(
                    self.jobs.update().where(self.jobs.c.destination == self.table).values(job=json.dumps(job, sort_keys=True, default=str))
                )
        except sa.exc.SQLAlchemyError as exc:
            raise self._db_error(exc, "recording the job") from exc

    def commit(self, index: int, frame: pd.DataFrame, info: dict[str, Any]) -> None:
        import sqlalchemy as sa

        try:
            with self.engine.begin() as conn:
                frame.to_sql(self.table, conn, if_exists="append", index=False)
                conn.execute(self.chunks_t.insert().values(destination=self.table, chunk=index, info=json.dumps(info, default=str)))
        except sa.exc.SQLAlchemyError as exc:
            raise self._db_error(exc, f"writing chunk {index}") from exc
        self.done[index] = info

    def finish(self, totals: dict[str, Any]) -> None:
        import sqlalchemy as sa

        try:
            with self.engine.begin() as conn:
                conn.execute(
                    self.jobs.update()
                    .where(self.jobs.c.destination == self.table)
                    .values(status="complete", totals=json.dumps(totals, default=str))
                )
        except sa.exc.SQLAlchemyError as exc:
            raise self._db_error(exc, "marking the job complete") from exc
        self.complete = True

    def close(self) -> None:
        if self.owns_engine:
            self.engine.dispose()


def as_sink(destination: Any) -> Sink:
    """Turn what the user passed as ``destination`` into a :class:`Sink`."""
    if destination is None or (isinstance(destination, str) and destination == "dataframe"):
        return FrameSink()
    if isinstance(destination, Sink):
        return destination
    if isinstance(destination, SQLDestination):
        return SQLSink(destination)
    if isinstance(destination, (str, os.PathLike)):
        p = Path(destination)
        if p.suffix == ".csv":
            return CSVSink(p)
        if p.suffix in ("", ".parquet") or p.is_dir():
            return ParquetSink(p)
        raise SourceError(f"`destination` {str(p)!r} has an unknown format; use a .csv file, a Parquet directory or SQLDestination(...)")
    raise ArgumentTypeError(
        f"`destination` must be None (a DataFrame), a .csv path, a Parquet directory path or SQLDestination(...); got {show(destination)}"
    )
