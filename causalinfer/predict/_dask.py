"""Scoring beyond one machine: the partitions of a dask DataFrame scored in parallel, the model shipped once."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._optional import import_optional
from .._validation import show
from ..exceptions import ArgumentError, ArgumentTypeError, CausalInferError, DataError
from ._contract import ChunkReport, InputSchema
from ._errors import JobConflictError, SchemaError
from ._job import Accumulator, build_result, check_input_unchanged, job_spec, model_failure, predict_frame
from ._sinks import FrameSink, ParquetSink, as_sink, write_part

__all__ = ["score_dask"]


class _Described:
    def __init__(self, description: str, identity: str, fingerprint: str) -> None:
        self.description = description
        self._identity = identity
        self._fp = fingerprint

    def identity(self) -> str:
        return self._identity

    def fingerprint(self) -> str:
        return self._fp


def _score_partition(
    part: pd.DataFrame, est: Any, schema: dict[str, Any], outputs: tuple[str, ...], keys: tuple[str, ...], offset: int, index: int
) -> tuple[pd.DataFrame, ChunkReport, dict[str, float]]:
    t0 = time.perf_counter()
    part = part.reset_index(drop=True)
    missing = [k for k in keys if k not in part.columns]
    if missing:
        raise SchemaError(f"`key` column(s) {missing} are not in partition {index} of the source")
    contract = InputSchema.from_dict(schema)
    X, rep = contract.conform(part, where=f"partition {index} of the source")
    ident = part[list(keys)] if keys else pd.DataFrame({"row": np.arange(offset, offset + len(part), dtype="int64")})
    t1 = time.perf_counter()
    try:
        frame = predict_frame(est, contract.model_input(X), outputs, ident)
    except CausalInferError:
        raise
    except (ValueError, TypeError) as exc:
        raise model_failure(exc, X, f"partition {index} of the source", lambda i: f"row {i} of partition {index} (0-based)") from exc
    return frame, rep, {"validate": t1 - t0, "predict": time.perf_counter() - t1}


def _score_and_write(
    part: pd.DataFrame,
    est: Any,
    schema: dict[str, Any],
    outputs: tuple[str, ...],
    keys: tuple[str, ...],
    offset: int,
    index: int,
    target: str,
) -> tuple[int, int, ChunkReport, dict[str, float]]:
    frame, rep, secs = _score_partition(part, est, schema, outputs, keys, offset, index)
    t0 = time.perf_counter()
    path = Path(target)
    write_part(frame, path.with_name(f".{path.name}.tmp"), path)
    return index, len(frame), rep, {**secs, "write": time.perf_counter() - t0}


def _as_dask_frame(source: Any, columns: Sequence[str]) -> tuple[Any, str, str, str]:
    dd = import_optional("dask.dataframe", extra="dask", purpose="engine='dask'")
    from dask.base import tokenize

    if isinstance(source, (str, os.PathLike)):
        from ._sources import ParquetSource

        p = Path(source)
        if not p.exists():
            raise DataError(f"`source` {str(p)!r} does not exist; pass a Parquet file or directory, or a dask DataFrame")
        src = ParquetSource(p)
        cols = [c for c in columns if c in set(src.column_names)]
        return dd.read_parquet(str(p), columns=cols), src.description, src.identity(), src.fingerprint() or ""
    if isinstance(source, dd.DataFrame):
        return source, f"dask DataFrame ({source.npartitions} partitions)", "dask DataFrame", "dask:" + tokenize(source)
    raise ArgumentTypeError(f"with engine='dask', `source` must be a dask DataFrame or a Parquet file/directory; got {show(source)}")


def score_dask(
    est: Any,
    sch: InputSchema,
    digest: str,
    source: Any,
    destination: Any,
    *,
    chunk_size: int,
    keys: tuple[str, ...],
    outputs: tuple[str, ...],
    resume: bool,
    overwrite: bool,
    client: Any,
) -> Any:
    """Score every partition of a dask DataFrame (one partition = one chunk) into a DataFrame or Parquet directory."""
    t_start = time.perf_counter()
    ddf, description, identity, fingerprint = _as_dask_frame(source, list(dict.fromkeys([*keys, *sch.names])))
    sink = as_sink(destination)
    if not isinstance(sink, (FrameSink, ParquetSink)):
        raise ArgumentError(f"with engine='dask', `destination` must be None (a DataFrame) or a Parquet directory; got {show(destination)}")
    client = _current_client(client)
    src = _Described(description, identity, fingerprint)
    job = job_spec(digest, src, "partition", outputs, keys, sch)
    acc = Accumulator(sch)
    timing = {"read": 0.0, "validate": 0.0, "predict": 0.0, "write": 0.0}
    input_note = _open(sink, job, resume, overwrite)
    try:
        if sink.complete:
            return build_result(
                est, src, sink, job, acc, timing, time.perf_counter() - t_start, digest, "already complete",  # type: ignore[arg-type]
                rows_read=0, rows_written=0, rows_skipped=int(sink.previous_totals.get("rows", 0)),
                chunks_written=0, chunks_skipped=len(sink.done), engine="dask",
            )  # fmt: skip
        plan = _Plan(ddf, est, sch, outputs, keys, client)
        skipped_chunks = len(sink.done)
        skipped_rows = sum(int(info["rows"]) for info in sink.done.values())
        results = plan.into_parquet(sink) if isinstance(sink, ParquetSink) else plan.into_frame(sink)
        rows = _tally(results, acc, timing)
        if rows + skipped_rows == 0:
            raise DataError(f"`source` ({description}) has no rows; there is nothing to score")
        sink.finish({"rows": rows + skipped_rows, "chunks": len(results) + skipped_chunks})
    finally:
        sink.close()
    return build_result(
        est, src, sink, job, acc, timing, time.perf_counter() - t_start, digest, "complete",  # type: ignore[arg-type]
        rows_read=rows + skipped_rows, rows_written=rows, rows_skipped=skipped_rows,
        chunks_written=len(results), chunks_skipped=skipped_chunks, engine="dask", input_note=input_note,
    )  # fmt: skip


def _current_client(client: Any) -> Any:
    """The client given, else the current distributed client, else None (dask's threaded scheduler)."""
    if client is not None:
        return client
    try:
        from distributed import get_client

        return get_client()
    except (ImportError, ValueError):
        return None


def _open(sink: Any, job: dict[str, Any], resume: bool, overwrite: bool) -> str | None:
    """Open the destination; refuse to resume over a changed input (committed partitions are not re-read)."""
    sink.open(job, resume=resume, overwrite=overwrite) if sink.resumable else sink.open(job, resume=False, overwrite=True)
    input_note = check_input_unchanged(sink, job)
    if input_note is not None and sink.done:
        sink.close()
        raise JobConflictError(
            "the input changed since the last run of this job, and the dask engine does not re-read committed partitions "
            "to check them against it; pass resume=False to score the input afresh"
        )
    return input_note


def _tally(results: list[tuple[int, int, ChunkReport, dict[str, float]]], acc: Accumulator, timing: dict[str, float]) -> int:
    """Add the partitions' contract reports and stage times; the number of rows they scored."""
    rows = 0
    for _, n, rep, secs in results:
        rows += n
        acc.add(rep)
        for k, v in secs.items():
            timing[k] += v
    return rows


class _Plan:
    """The delayed tasks of one run: the model shipped once, row offsets for a job without key."""

    def __init__(self, ddf: Any, est: Any, sch: InputSchema, outputs: tuple[str, ...], keys: tuple[str, ...], client: Any) -> None:
        import dask

        self.parts = ddf.to_delayed()
        self.offsets = [0] * len(self.parts)
        if not keys:
            lengths = ddf.map_partitions(len).compute(**({} if client is None else {"scheduler": client}))
            self.offsets = np.concatenate([[0], np.cumsum(np.asarray(lengths, dtype="int64"))[:-1]]).tolist()
        self.model_ref: Any = client.scatter(est, broadcast=True) if client is not None else dask.delayed(est, pure=True)
        self.schema = sch.to_dict()
        self.outputs, self.keys, self.client = outputs, keys, client

    def into_parquet(self, sink: ParquetSink) -> list[Any]:
        """Workers write their parts; each is committed to the manifest as it completes."""
        import dask

        todo = [i for i in range(len(self.parts)) if i not in sink.done]
        tasks = [
            dask.delayed(_score_and_write, pure=False)(
                self.parts[i], self.model_ref, self.schema, self.outputs, self.keys, self.offsets[i], i, str(sink.part(i))
            )
            for i in todo
        ]
        if self.client is not None:
            from distributed import as_completed

            done = (fut.result() for fut in as_completed(self.client.compute(tasks)))
        else:
            done = iter(dask.compute(*tasks, scheduler="threads"))
        results = []
        for res in done:
            sink.manifest.commit(res[0], {"rows": res[1]})
            sink.done[res[0]] = {"rows": res[1]}
            results.append(res)
        return results

    def into_frame(self, sink: Any) -> list[Any]:
        """Partitions scored in parallel and gathered in order into one DataFrame."""
        import dask

        tasks = [
            dask.delayed(_score_partition, pure=True)(
                self.parts[i], self.model_ref, self.schema, self.outputs, self.keys, self.offsets[i], i
            )
            for i in range(len(self.parts))
        ]
        outs = dask.compute(*tasks, scheduler=self.client if self.client is not None else "threads")
        results = []
        for i, (frame, rep, secs) in enumerate(outs):
            sink.commit(i, frame, {"rows": len(frame)})
            results.append((i, len(frame), rep, secs))
        return results
