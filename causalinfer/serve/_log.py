"""The score log: every answered request and its outputs, written exactly once to SQLite, PostgreSQL or Parquet parts.

Requests are handed to a bounded queue and written by one background thread in batches (one transaction per
batch, so many requests share a commit; under light load a batch of queued requests waits up to ``linger``
seconds (0.1 s by default) for more to share it, and a durable request is written at once). A request is *queued* when its response leaves before the commit and
*committed* when the response waited for it (``?durable=true``, or a host started with ``durable=True``); the
response header ``X-Log-Status`` says which. Rows are keyed by ``(request_id, row)`` and inserted with "on conflict
do nothing", so a request retried under the same id is still logged once. A full queue makes requests wait
(back-pressure) and, past ``wait_timeout`` seconds, answers 503 without logging. ``close()`` flushes the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import show
from ..exceptions import SourceError
from ._errors import RequestError

__all__ = ["LOG_COLUMNS", "LogEntry", "RequestLog", "open_destination", "output_rows"]

#: Columns of the score log (one row per scored record).
LOG_COLUMNS = ("request_id", "row", "received_at", "model_name", "model_version", "input", "output")
_STOP = object()
logger = logging.getLogger("causalinfer.serve")


@dataclass
class LogEntry:
    request_id: str
    received_at: str
    model_name: str
    model_version: str
    records: list[dict[str, Any]]
    outputs: dict[str, Any]
    classes: tuple[Any, ...] | None
    future: Any = None
    loop: Any = None


def _plain(x: Any) -> Any:
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    return x.item() if isinstance(x, np.generic) else x


def output_rows(outputs: dict[str, Any], classes: tuple[Any, ...] | None) -> list[dict[str, Any]]:
    """One JSON-ready dict per row: ``prediction``, and ``proba`` (by class), ``interval``, ``set`` where given."""
    pred = outputs["prediction"].tolist()
    rows: list[dict[str, Any]] = [{"prediction": _plain(p)} for p in pred]
    names = [str(c) for c in classes] if classes is not None else []
    if "proba" in outputs:
        for r, p in zip(rows, outputs["proba"].tolist(), strict=True):
            r["proba"] = {c: _plain(v) for c, v in zip(names, p, strict=True)}
    if "lower" in outputs:
        for r, lo, hi in zip(rows, outputs["lower"].tolist(), outputs["upper"].tolist(), strict=True):
            r["interval"] = [_plain(lo), _plain(hi)]
    if "set" in outputs:
        for r, s in zip(rows, outputs["set"].tolist(), strict=True):
            r["set"] = [c for c, inside in zip(classes or (), s, strict=True) if inside]
    return rows


def _rows(entries: list[LogEntry]) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        outs = output_rows(e.outputs, e.classes)
        for i, (rec, o) in enumerate(zip(e.records, outs, strict=True)):
            out.append(
                {
                    "request_id": e.request_id, "row": i, "received_at": e.received_at, "model_name": e.model_name,
                    "model_version": e.model_version, "input": json.dumps(rec, default=str), "output": json.dumps(o, default=str),
                }
            )  # fmt: skip
    return out


# ---------------------------------------------------------------------- destinations
class _SQLWriter:
    def __init__(self, url: str, table: str) -> None:
        import sqlalchemy as sa

        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        try:
            self.engine = sa.create_engine(url, connect_args={"timeout": 30} if url.startswith("sqlite") else {})
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise SourceError(f"cannot open the log database {show(url)}: {exc}") from exc
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.description = f"SQL table {table!r} at {self.engine.url.render_as_string(hide_password=True)}"
        meta = sa.MetaData()
        self.table = sa.Table(
            table, meta,
            sa.Column("request_id", sa.String(128), primary_key=True), sa.Column("row", sa.Integer, primary_key=True),
            sa.Column("received_at", sa.String(40), nullable=False), sa.Column("model_name", sa.String(255), nullable=False),
            sa.Column("model_version", sa.String(64), nullable=False), sa.Column("input", sa.Text, nullable=False),
            sa.Column("output", sa.Text, nullable=False),
        )  # fmt: skip
        self.meta = meta

    def prepare(self) -> None:
        import sqlalchemy as sa

        try:
            with self.engine.begin() as conn:
                self.meta.create_all(conn)
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"the score log {self.description} cannot be written: {_first_line(exc)}") from exc

    def write(self, rows: list[dict[str, Any]]) -> None:
        from sqlalchemy import insert
        from sqlalchemy.dialects import postgresql, sqlite

        # other databases: a plain insert (the primary key still refuses a duplicate)
        make: Any = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(self.dialect, insert)
        stmt = make(self.table)
        if hasattr(stmt, "on_conflict_do_nothing"):
            stmt = stmt.on_conflict_do_nothing(index_elements=["request_id", "row"])
        with self.engine.begin() as conn:
            conn.execute(stmt, rows)

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; a commit is durable once fsynced
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__


class _ParquetWriter:
    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.description = f"Parquet folder {str(self.folder)!r}"
        self.seq = 0

    def prepare(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            probe = self.folder / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise SourceError(f"the score log {self.description} cannot be written: {exc.strerror or exc}") from exc

    def write(self, rows: list[dict[str, Any]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({c: [r[c] for r in rows] for c in LOG_COLUMNS})
        self.seq += 1
        name = f"part-{time.time_ns()}-{os.getpid()}-{self.seq:06d}.parquet"
        tmp = self.folder / f".{name}.tmp"
        try:
            with open(tmp, "wb") as fh:
                pq.write_table(table, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.folder / name)
        finally:
            if tmp.exists():
                tmp.unlink(missing_ok=True)
        try:
            fd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:  # the part is in place; syncing the folder entry is best effort on this filesystem
            pass

    def close(self) -> None:
        pass


def open_destination(spec: str | os.PathLike[str], *, table: str = "scores") -> Any:
    """A log writer for ``spec``: a SQLAlchemy URL, a ``.db``/``.sqlite`` file, or a folder of Parquet parts."""
    text = os.fspath(spec)
    if "://" in text:
        return _SQLWriter(text, table)
    if text.endswith((".db", ".sqlite", ".sqlite3")):
        return _SQLWriter(f"sqlite:///{Path(text)}", table)
    if text.startswith("parquet:"):
        text = text[len("parquet:") :]
    return _ParquetWriter(text)


# ---------------------------------------------------------------------- the queue and its writer thread
class RequestLog:
    """Writes :class:`LogEntry` objects to a destination from a background thread, in batches."""

    def __init__(
        self,
        writer: Any,
        *,
        capacity: int = 10_000,
        batch_rows: int = 5_000,
        wait_timeout: float = 5.0,
        retries: int = 3,
        linger: float = 0.1,
    ) -> None:
        self.writer = writer
        self.linger = linger
        self.capacity = capacity
        self.batch_rows = batch_rows
        self.wait_timeout = wait_timeout
        self.retries = retries
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=capacity)
        self.committed = 0
        self.failed = 0
        self.batches = 0
        self._thread: threading.Thread | None = None

    @property
    def description(self) -> str:
        return str(self.writer.description)

    def start(self) -> None:
        self.writer.prepare()
        self._thread = threading.Thread(target=self._run, name="causalinfer-score-log", daemon=True)
        self._thread.start()

    async def submit(self, entry: LogEntry, *, durable: bool) -> str:
        """Queue ``entry``; with ``durable`` wait for its commit. Returns ``"committed"`` or ``"queued"``."""
        if durable:
            entry.loop = asyncio.get_running_loop()
            entry.future = entry.loop.create_future()
        deadline = time.monotonic() + self.wait_timeout
        while True:
            try:
                self.queue.put_nowait(entry)
                break
            except queue.Full:
                if time.monotonic() > deadline:
                    raise RequestError(503, "the score log is falling behind; retry shortly", headers={"Retry-After": "1"}) from None
                await asyncio.sleep(0.005)
        if not durable:
            return "queued"
        await entry.future
        return "committed"

    def close(self, timeout: float = 60.0) -> None:
        """Write everything queued, then stop the thread (idempotent)."""
        if self._thread is None:
            return
        self.queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None
        self.writer.close()

    @property
    def pending(self) -> int:
        return self.queue.qsize()

    def _run(self) -> None:
        stop = False
        while not stop:
            batch = [self.queue.get()]
            n = 0 if batch[0] is _STOP else len(batch[0].records)
            # Under light load every request would get a transaction of its own, whose cost (in the interpreter,
            # holding the GIL) lands on the requests being answered. So a batch of queued-only requests waits up
            # to ``linger`` seconds for company; a durable request (its client is waiting) or a stop ends the wait.
            until = time.monotonic() + self.linger
            urgent = batch[0] is _STOP or batch[0].future is not None
            while n < self.batch_rows:
                left = 0.0 if urgent else until - time.monotonic()
                try:
                    nxt = self.queue.get(timeout=left) if left > 0 else self.queue.get_nowait()
                except queue.Empty:
                    break
                batch.append(nxt)
                n += 0 if nxt is _STOP else len(nxt.records)
                urgent = urgent or nxt is _STOP or nxt.future is not None
            stop = any(e is _STOP for e in batch)
            entries = [e for e in batch if e is not _STOP]
            if entries:
                self._write(entries)

    def _write(self, entries: list[LogEntry]) -> None:
        error: BaseException | None = None
        try:
            rows = _rows(entries)
        except Exception as exc:  # an output that cannot be encoded: nothing of this batch is written
            rows, error = [], exc
        for attempt in range(self.retries if rows else 0):
            try:
                self.writer.write(rows)
                error = None
                break
            except Exception as exc:  # the destination failed; retry (rows are keyed, so a retry cannot duplicate)
                error = exc
                time.sleep(0.05 * 4**attempt)
        if error is None:
            self.committed += len(entries)
            self.batches += 1
        else:
            self.failed += len(entries)
            logger.error("score log: %d request(s) could not be written to %s: %s", len(entries), self.description, _first_line(error))
        for e in entries:
            if e.future is not None:
                _settle(e, error)


def _settle(entry: LogEntry, error: BaseException | None) -> None:
    def done() -> None:
        if entry.future.done():
            return
        if error is None:
            entry.future.set_result(None)
        else:
            entry.future.set_exception(RequestError(503, f"the request was answered but could not be logged: {_first_line(error)}"))

    with contextlib.suppress(RuntimeError):  # a closed event loop (shutdown): nobody is waiting any more
        entry.loop.call_soon_threadsafe(done)
