"""The score log without a server: destinations, exactly once under retries, back-pressure, flush on close."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pandas as pd
import pytest

from causalinfer.exceptions import SourceError
from causalinfer.serve import LOG_COLUMNS, RequestError
from causalinfer.serve._log import LogEntry, RequestLog, open_destination


def entry(rid: str, n: int = 2) -> LogEntry:
    recs = [{"x": float(i)} for i in range(n)]
    outs = {"prediction": np.arange(n, dtype=float), "proba": np.full((n, 2), 0.5)}
    return LogEntry(rid, "2026-01-01T00:00:00+00:00", "m", "v1", recs, outs, ("no", "yes"))


def run_log(log: RequestLog, entries: list[LogEntry], durable: bool) -> list[str]:
    async def go() -> list[str]:
        return list(await asyncio.gather(*(log.submit(e, durable=durable) for e in entries)))

    log.start()
    try:
        return asyncio.run(go())
    finally:
        log.close()


def test_sqlite_log_is_exactly_once_under_retries(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    status = run_log(RequestLog(open_destination(url)), [entry("a"), entry("b", 3), entry("a")], durable=True)
    assert status == ["committed"] * 3
    import sqlalchemy as sa

    got = pd.read_sql("SELECT * FROM scores ORDER BY request_id, row", sa.create_engine(url))
    assert tuple(got.columns) == LOG_COLUMNS
    assert got[["request_id", "row"]].values.tolist() == [["a", 0], ["a", 1], ["b", 0], ["b", 1], ["b", 2]]
    assert got["output"].iloc[0] == '{"prediction": 0.0, "proba": {"no": 0.5, "yes": 0.5}}'


def test_parquet_parts_hold_every_queued_request_after_close(tmp_path):
    folder = tmp_path / "scores"
    status = run_log(RequestLog(open_destination(folder)), [entry(f"r{i}") for i in range(50)], durable=False)
    assert set(status) == {"queued"}
    parts = sorted(folder.glob("part-*.parquet"))
    assert parts and not list(folder.glob(".*tmp"))
    got = pd.concat([pd.read_parquet(p) for p in parts])
    assert len(got) == 100 and got["request_id"].nunique() == 50


def test_unwritable_destination_is_refused_before_serving(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SourceError, match="cannot be written"):
        open_destination(f"sqlite:///{blocker}/x.db").prepare()
    with pytest.raises(SourceError, match="cannot be written"):
        open_destination(blocker / "parts").prepare()


class SlowWriter:
    description = "a slow test writer"

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.rows: list[dict] = []

    def prepare(self) -> None:
        pass

    def write(self, rows: list[dict]) -> None:
        self.gate.wait(10)
        self.rows += rows

    def close(self) -> None:
        pass


def test_a_full_queue_pushes_back_then_answers_503():
    writer = SlowWriter()
    log = RequestLog(writer, capacity=2, wait_timeout=0.2, linger=0)  # no wait for company: a is written alone

    async def go():
        first = await log.submit(entry("a"), durable=False)  # taken by the writer thread, which then blocks
        await asyncio.sleep(0.05)
        await log.submit(entry("b"), durable=False)
        await log.submit(entry("c"), durable=False)  # the queue now holds b and c
        with pytest.raises(RequestError) as exc:
            await log.submit(entry("d"), durable=False)
        return first, exc.value

    log.start()
    try:
        first, err = asyncio.run(go())
    finally:
        writer.gate.set()
        log.close()
    assert first == "queued" and err.status == 503 and err.headers == {"Retry-After": "1"}
    assert sorted({r["request_id"] for r in writer.rows}) == ["a", "b", "c"]


class BatchWriter(SlowWriter):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def write(self, rows: list[dict]) -> None:
        self.batches.append(sorted({r["request_id"] for r in rows}))


def test_queued_requests_share_a_commit_and_a_durable_one_ends_the_wait():
    # one request at a time must not mean one transaction per request: queued requests wait for company
    # (here up to 30 s), and a durable request, whose client waits for the commit, is written at once
    writer = BatchWriter()
    log = RequestLog(writer, linger=30.0)

    async def go():
        first = await log.submit(entry("a"), durable=False)
        await asyncio.sleep(0.05)  # the writer has taken a and waits for more
        second = await log.submit(entry("b"), durable=False)
        third = await asyncio.wait_for(log.submit(entry("c"), durable=True), 20)
        return first, second, third

    log.start()
    try:
        assert asyncio.run(go()) == ("queued", "queued", "committed")
    finally:
        log.close()
    assert writer.batches == [["a", "b", "c"]]


def test_a_failing_destination_fails_durable_requests_with_503():
    class Broken(SlowWriter):
        def write(self, rows: list[dict]) -> None:
            raise OSError("disk full")

    log = RequestLog(Broken(), retries=2)
    with pytest.raises(RequestError, match="answered but could not be logged: disk full"):
        run_log(log, [entry("a")], durable=True)
    assert log.failed == 1


def test_postgres_log_is_exactly_once(postgres):
    import sqlalchemy as sa

    url = postgres.url.replace("postgresql+psycopg://", "postgresql://")  # the form a user types
    status = run_log(RequestLog(open_destination(url, table="served")), [entry("p", 3), entry("q"), entry("p", 3)], durable=True)
    assert status == ["committed"] * 3
    got = pd.read_sql("SELECT request_id, row FROM served ORDER BY request_id, row", sa.create_engine(postgres.url))
    assert got.values.tolist() == [["p", 0], ["p", 1], ["p", 2], ["q", 0], ["q", 1]]
