"""Scoring jobs: source -> input contract -> model -> destination, chunk by chunk, resumable and exactly once."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice, show
from ..exceptions import ArgumentError, ArgumentTypeError, CausalInferError, DataError
from ._common import check_count
from ._contract import InputSchema, bind_schema
from ._errors import JobConflictError, SchemaError
from ._job import (
    Accumulator,
    DriftFeed,
    KeyCheck,
    ScoringResult,
    build_result,
    check_input_unchanged,
    chunk_fingerprint,
    job_spec,
    model_failure,
    predict_frame,
)
from ._models import load_model, model_hash
from ._sinks import Sink, as_sink
from ._sources import Source, as_source, prefetch

__all__ = ["OUTPUTS", "ScoringResult", "score"]

#: Outputs a scoring job can write.
OUTPUTS = ("prediction", "proba", "interval", "set")
DEFAULT_CHUNK_SIZE = 100_000


def _as_outputs(outputs: Any) -> tuple[str, ...]:
    if isinstance(outputs, str):
        outputs = (outputs,)
    if not isinstance(outputs, Sequence) or not outputs:
        raise ArgumentTypeError(f"`outputs` must be a non-empty sequence drawn from {OUTPUTS}; got {show(outputs)}")
    out = tuple(check_choice(o, "outputs", OUTPUTS) for o in outputs)
    if len(set(out)) != len(out):
        raise ArgumentError(f"`outputs` lists an output twice; got {show(outputs)}")
    return out


def _as_key(key: Any) -> tuple[str, ...]:
    if key is None:
        return ()
    if isinstance(key, str):
        return (key,)
    if isinstance(key, Sequence) and all(isinstance(k, str) for k in key) and key:
        return tuple(key)
    raise ArgumentTypeError(f"`key` must be a column name or a list of column names (or None for row numbers); got {show(key)}")


def resolve_model(model: Any, schema: Any, trusted: Sequence[str], feature_order: Any = None) -> tuple[Any, InputSchema, str]:
    """The estimator, its input contract and its content hash, from a model file or an in-memory estimator.

    Columns are matched by name; for a model fitted without names the order must have been stated
    (``feature_order`` here or when the model was saved), see :func:`bind_schema`.
    """
    what = "`schema`"
    if isinstance(model, (str, os.PathLike)):
        est, info = load_model(model, trusted=trusted, with_info=True)
        digest = info.sha256
        sch = info.schema
        what = "the saved model's schema"
    elif hasattr(model, "predict"):
        est = model
        digest = model_hash(model)
        sch = None
    else:
        raise ArgumentTypeError(f"`model` must be a fitted estimator with a predict method or a saved model path; got {show(model)}")
    if schema is not None:
        what = "`schema`"
        if isinstance(schema, InputSchema):
            sch = schema
        elif isinstance(schema, pd.DataFrame):
            sch = InputSchema.from_frame(schema)
        else:
            raise ArgumentTypeError(f"`schema` must be an InputSchema or a DataFrame of training features; got {show(schema)}")
    return est, bind_schema(est, sch, feature_order, what=what), digest


def _check_outputs_for_model(est: Any, outputs: tuple[str, ...]) -> None:
    if "proba" in outputs and (not hasattr(est, "predict_proba") or getattr(est, "classes_", None) is None):
        raise ArgumentError(
            f"`outputs` asks for 'proba', but the model ({type(est).__name__}) has no predict_proba; use outputs=('prediction',)"
        )
    if "interval" in outputs and not (hasattr(est, "predict_interval") and hasattr(est, "predict_frame")):
        raise ArgumentError(
            f"`outputs` asks for 'interval', but the model ({type(est).__name__}) gives no prediction intervals; wrap the regressor "
            "in a conformal predictor first, e.g. SplitConformalRegressor(model).fit(X, y), or drop 'interval'"
        )
    if "set" in outputs and not (hasattr(est, "predict_set") and hasattr(est, "predict_frame")):
        raise ArgumentError(
            f"`outputs` asks for 'set', but the model ({type(est).__name__}) gives no prediction sets; wrap the classifier "
            "in SplitConformalClassifier(model).fit(X, y) first, or drop 'set'"
        )


def _progress(enabled: bool, desc: str) -> Any:
    from .._progress import progress_bar, wanted

    if not enabled or not wanted(None):
        return None
    return progress_bar(desc=desc, unit="rows", progress=True)


def _peek(it: Iterator[pd.DataFrame]) -> tuple[pd.DataFrame | None, Iterator[pd.DataFrame]]:
    first = next(it, None)
    if first is None:
        return None, it

    def chained() -> Iterator[pd.DataFrame]:
        yield first
        yield from it

    return first, chained()


@vp.validate_params(
    {
        "model": [vp.HasMethods("predict", what="a fitted estimator with a predict method"), "path"],
        "source": vp.AnyOf(
            "frame",
            "path",
            vp.InstanceOf("causalinfer.predict._sources:SQLSource"),
            vp.HasMethods("__iter__"),
            what="a DataFrame, a CSV/Parquet path, a Parquet directory, SQLSource(...) or an iterable of DataFrames",
        ),
        "destination": vp.AnyOf(
            None,
            "path",
            vp.InstanceOf("causalinfer.predict._sinks:SQLDestination"),
            what="None (a DataFrame), a .csv path, a Parquet directory path or SQLDestination(...)",
        ),
        "chunk_size": vp.Interval("int", 1),
        "key": [None, "columns"],
        "outputs": [vp.Options(OUTPUTS), vp.SequenceOf(vp.Options(OUTPUTS), min_length=1)],
        "resume": "boolean",
        "overwrite": "boolean",
        "progress": "boolean",
        "engine": vp.Options(("local", "dask")),
        "schema": [None, "frame", vp.InstanceOf("causalinfer.predict._contract:InputSchema")],
        "feature_order": [None, "columns"],
        "trusted": vp.SequenceOf("string"),
        "n_threads": [None, vp.Interval("int", 1)],
        "client": vp.NoCheck("a dask.distributed Client, used only with engine='dask'; dask is imported on first use"),
        "monitor": [
            None,
            vp.AnyOf(
                vp.InstanceOf("causalinfer.predict._profile:Profile"),
                vp.InstanceOf("causalinfer.predict._drift:DriftMonitor"),
                what="a Profile or a DriftMonitor",
            ),
        ],
    }
)
def score(
    model: Any,
    source: Any,
    destination: Any = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    key: str | Sequence[str] | None = None,
    outputs: str | Sequence[str] = ("prediction",),
    resume: bool = True,
    overwrite: bool = False,
    progress: bool = True,
    engine: str = "local",
    schema: Any = None,
    trusted: Sequence[str] = (),
    n_threads: int | None = None,
    client: Any = None,
    monitor: Any = None,
    feature_order: Sequence[str] | None = None,
) -> ScoringResult:
    """Score data with a trained model, chunk by chunk, from a source into a destination, exactly once.

    Parameters
    ----------
    model : estimator or path
        A fitted scikit-learn-compatible estimator or pipeline, or the path of a model saved with
        :func:`save_model` (loaded with its hash and type checks; its sidecar supplies the input schema).
    source : DataFrame, path, SQLSource or iterable of DataFrames
        A DataFrame; a ``.csv`` file; a ``.parquet`` file or a directory of Parquet files (read in record batches);
        :class:`SQLSource` (a table or query, streamed); or any iterable yielding DataFrames. With
        ``engine="dask"``: a dask DataFrame or a Parquet file/directory.
    destination : None, path or SQLDestination, default None
        ``None``: the scores are returned in ``result.output``. A path ending in ``.csv``: one CSV file. Any other
        path: a Parquet directory with one part per chunk. :class:`SQLDestination`: a table, one transaction per chunk.
    chunk_size : int, default 100_000
        Rows per chunk; peak memory grows with it, not with the size of the source.
    key : str or list of str, optional
        Column(s) identifying a row, copied to the output. Without a key the output has a ``row`` column with
        the row's position in the source (0-based). Keys must be present and unique. A key that repeats one of
        the last half million or so rows is refused before its chunk is written; older keys are kept in temporary
        files (16 bytes per row, under ``TMPDIR``, removed when the job ends) so that memory does not grow with
        the input, and a repeat among them is found once the input has been read: the job then raises
        :class:`DataError` naming both rows and is not marked complete.
    outputs : {"prediction", "proba", "interval", "set"} or a sequence of them, default ("prediction",)
        ``"prediction"`` writes column ``prediction``; ``"proba"`` writes ``proba_<class>`` for each class.
        For a fitted conformal predictor (:class:`SplitConformalRegressor`, :class:`ConformalizedQuantileRegressor`,
        :class:`JackknifePlusRegressor`): ``"interval"`` writes ``lower`` and ``upper`` at the predictor's level
        ``1 - alpha``. For a :class:`SplitConformalClassifier`: ``"set"`` writes ``set_size`` and one boolean column
        ``in_set_<class>`` per class (True when the class is in the row's prediction set), a form every
        destination stores (SQLite keeps 0/1). One model call per chunk produces all of them.
    resume : bool, default True
        Continue an interrupted job after its last committed chunk; a finished job is not run again. ``False``
        starts the same job afresh. A job is identified by the model's hash, the source's identity (its path, or
        its database, table/query and order; any DataFrame counts as one source) and the options (chunk size,
        outputs, key, columns); the destination holds its record. The input's content is verified, not part of
        the identity: file sources are hashed over every byte, each committed chunk is compared with the input
        as it is read again, and the committed output is checked (every Parquet part present with its row count
        and size, every CSV chunk with its SHA-256, a SQL table holding exactly the committed rows). So a job
        whose bad input row was fixed resumes (with an ``input changed`` warning); a finished job whose input
        changed, or whose output lost rows, raises :class:`JobConflictError` saying so. A SQL source has no
        content fingerprint: a finished job over a changed table is not noticed.
    overwrite : bool, default False
        Replace a destination that holds another job's output (or data of unknown origin).
    progress : bool, default True
        Show a progress bar when the session is interactive.
    engine : {"local", "dask"}, default "local"
        ``"dask"`` scores the partitions of a dask DataFrame in parallel (see Notes).
    schema : InputSchema or DataFrame, optional
        The input contract for an in-memory model (training features or their schema); defaults to the names in
        ``feature_names_in_``. Columns are matched by name: the schema must hold exactly the model's columns.
    trusted : sequence of str, default ()
        Type names to trust when loading ``model`` from a file.
    n_threads : int, optional
        Cap for BLAS/OpenMP thread pools while scoring (threadpoolctl); default: the CPUs available.
    client : distributed.Client, optional
        The dask client for ``engine="dask"``; default: the current client, else dask's threaded scheduler.
    monitor : Profile or DriftMonitor, optional
        Check drift while scoring: every chunk scored in this run updates the monitor with the profile's columns
        (read from the source) and, for a profile column of role ``"prediction"``, the ``prediction`` output
        (which ``outputs`` must then include). A :class:`Profile` gets a fresh :class:`DriftMonitor`; a monitor you
        pass is updated in place. On resume, chunks committed by an earlier run are not re-scored, so the monitor
        sees only the rows scored in this run (``details['drift_scope']`` says so); for a check of the whole
        input run ``Profile.check`` on it, or score it afresh with ``resume=False``. Local engine only.
    feature_order : list of str, optional
        Only for a model fitted on an array (no ``feature_names_in_``), which reads its columns by position: the
        names of its input columns in the order it was fitted on (checked against ``n_features_in_``). Without it
        such a model is refused unless its saved sidecar records the order (``save_model(..., feature_order=...)``);
        the order of a ``schema`` DataFrame is never taken as the training order. The result's ``column order``
        diagnostic states which contract was used.

    Returns
    -------
    ScoringResult
        ``n`` is the number of rows in the destination for this job. ``details``: ``rows_read``, ``rows_written``
        (this run), ``rows_skipped`` (already committed by an earlier run), ``chunks``, ``chunks_written``,
        ``chunks_skipped``, ``seconds_read`` (time spent waiting for input; reading overlaps scoring),
        ``seconds_validate``, ``seconds_predict``, ``seconds_write``, ``seconds_total``, ``rows_per_second``,
        ``status`` ("complete" or "already complete"), ``job_id``, ``model_hash``, ``input_fingerprint``, the tables
        ``rows`` (the counts above) and ``timings`` and, when some categorical values were not seen in training, ``unseen_categories``. ``output``: the scores when ``destination`` is None.
        With ``monitor``: ``drift`` (a DriftResult), ``details['drift_scope']``, ``details['drift_rows']``,
        ``details['drift_timeline']`` and a ``drift`` diagnostic (``warn`` naming flagged columns). With conformal
        outputs: ``details['conformal']`` (predictor, level, calibration size).

    Raises
    ------
    SchemaError
        A chunk lacks model columns (named in the message) or needs an unsafe cast.
    DataError
        The source has no rows.
    JobConflictError
        The destination holds another job's output, or the input changed under a resumed job.
    SourceError
        Reading or writing failed (database gone, disk full, permission denied); committed chunks are kept and a
        re-run resumes after them.
    ModelError
        The model file is not a model, or its content hash does not match its metadata.

    Notes
    -----
    Chunk ``i`` holds rows ``i*chunk_size`` to ``(i+1)*chunk_size - 1`` of the source. A chunk counts as done only
    once it is durable: its Parquet part was renamed into place, its CSV bytes were fsynced, or its SQL
    transaction (rows plus bookkeeping row) committed; the manifest then records it. A re-run skips done
    chunks after checking that their input fingerprint is unchanged, so every input row is written exactly once
    even if a run is killed at any instant. Reading the next chunk overlaps scoring the current one (one chunk
    ahead, so memory stays within about three chunks), and BLAS/OpenMP pools are capped at ``n_threads`` so the
    reader and the model do not oversubscribe the cores.

    With ``engine="dask"`` each partition of the dask DataFrame is one chunk, scored where it lives with
    ``map``-style tasks; the model is sent once to every worker (``Client.scatter(..., broadcast=True)``, or a
    single graph node without a distributed client). A Parquet destination gets one part per partition and the
    same manifest, so an interrupted dask job also resumes; other destinations need the local engine.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from causalinfer.predict import score
    >>> rng = np.random.default_rng(1)
    >>> X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    >>> m = LogisticRegression().fit(X, X["a"] + X["b"] > 0)
    >>> res = score(m, X, chunk_size=64, outputs=["prediction", "proba"], progress=False)
    >>> res.rows_written, res.chunks, list(res.output.columns)
    (200, 4, ['row', 'prediction', 'proba_False', 'proba_True'])

    Conformal intervals as output columns, with a drift check of the scored rows against the training profile:

    >>> from sklearn.linear_model import LinearRegression
    >>> from causalinfer.predict import Profile, SplitConformalRegressor
    >>> y = X["a"] - X["b"] + rng.normal(size=200)
    >>> cp = SplitConformalRegressor(LinearRegression(), alpha=0.1, random_state=0).fit(X, y)
    >>> prof = Profile.build(X)
    >>> new = pd.DataFrame({"a": rng.normal(2, 1, size=300), "b": rng.normal(size=300)})
    >>> res = score(cp, new, chunk_size=100, outputs=["prediction", "interval"], monitor=prof, progress=False)
    >>> list(res.output.columns), res.drift.alerts
    (['row', 'prediction', 'lower', 'upper'], ('a',))
    >>> [d.status for d in res.diagnostics if d.name == "drift"]
    ['warn']
    """
    chunk_size = check_count(chunk_size, "chunk_size", minimum=1)
    outs = _as_outputs(outputs)
    keys = _as_key(key)
    engine = check_choice(engine, "engine", ("local", "dask"))
    for flag, name in ((resume, "resume"), (overwrite, "overwrite"), (progress, "progress")):
        if not isinstance(flag, bool):
            raise ArgumentTypeError(f"`{name}` must be True or False; got {show(flag)}")
    if n_threads is None:
        n_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    n_threads = check_count(n_threads, "n_threads", minimum=1)
    est, sch, digest = resolve_model(model, schema, trusted, feature_order)
    _check_outputs_for_model(est, outs)
    mon = _as_monitor(monitor, outs)
    if engine == "dask":
        if mon is not None:
            raise ArgumentError("`monitor` works with engine='local' only; run Profile.check on the scored data instead")
        from ._dask import score_dask

        return score_dask(
            est,
            sch,
            digest,
            source,
            destination,
            chunk_size=chunk_size,
            keys=keys,
            outputs=outs,
            resume=resume,
            overwrite=overwrite,
            client=client,
        )
    return _score_local(est, sch, digest, source, destination, chunk_size, keys, outs, resume, overwrite, progress, n_threads, mon)


def _as_monitor(monitor: Any, outs: tuple[str, ...]) -> Any:
    if monitor is None:
        return None
    from ._drift import DriftMonitor
    from ._profile import Profile

    if isinstance(monitor, Profile):
        monitor = DriftMonitor(monitor)
    if not isinstance(monitor, DriftMonitor):
        raise ArgumentTypeError(f"`monitor` must be a Profile or a DriftMonitor (or None); got {show(monitor)}")
    preds = [f.name for f in monitor.profile if f.role == "prediction"]
    if preds and "prediction" not in outs:
        raise ArgumentError(
            f"`monitor` profiles the prediction (column {preds[0]!r}) but `outputs` has no 'prediction'; add 'prediction' to `outputs`"
        )
    return monitor


def _score_local(
    est: Any,
    sch: InputSchema,
    digest: str,
    source: Any,
    destination: Any,
    chunk_size: int,
    keys: tuple[str, ...],
    outs: tuple[str, ...],
    resume: bool,
    overwrite: bool,
    progress: bool,
    n_threads: int,
    monitor: Any = None,
) -> ScoringResult:
    from threadpoolctl import threadpool_limits

    job = _LocalJob(est, sch, digest, as_source(source, keys), as_sink(destination), chunk_size, keys, outs, monitor)
    try:
        first, chunks = job.first_chunk()
        status = job.open(first, resume=resume, overwrite=overwrite)
        if status == "complete":
            with threadpool_limits(limits=n_threads):
                job.run(chunks, _progress(progress, "scoring"))
    finally:
        job.key_check.close()
        job.sink.close()
    return job.result(status)


class _LocalJob:
    """One run of a scoring job on this machine: open the destination, then read, check, score and commit each chunk."""

    def __init__(
        self,
        est: Any,
        sch: InputSchema,
        digest: str,
        src: Source,
        sink: Sink,
        chunk_size: int,
        keys: tuple[str, ...],
        outs: tuple[str, ...],
        monitor: Any,
    ) -> None:
        self.t_start = time.perf_counter()
        self.est, self.sch, self.digest, self.src, self.sink = est, sch, digest, src, sink
        self.keys, self.outs = keys, outs
        self.needed = list(dict.fromkeys([*keys, *sch.names]))
        self.feed = DriftFeed(monitor) if monitor is not None else None
        self.read_cols = list(dict.fromkeys([*self.needed, *(self.feed.features if self.feed else ())]))
        self.job = job_spec(digest, src, chunk_size, outs, keys, sch)
        self.acc = Accumulator(sch)
        self.key_check = KeyCheck(keys, src.row_label)
        available = getattr(src, "column_names", None)
        if available is not None:
            self.acc.dropped.update(c for c in available if c not in set(self.read_cols))
        self.timing = {"read": 0.0, "validate": 0.0, "predict": 0.0, "write": 0.0}
        self.counts: dict[str, Any] = {"rows_read": 0, "rows_written": 0, "rows_skipped": 0, "chunks_written": 0, "chunks_skipped": 0}
        self.offset = 0
        self.input_note: str | None = None

    def first_chunk(self) -> tuple[pd.DataFrame, Iterator[pd.DataFrame]]:
        t0 = time.perf_counter()
        first, chunks = _peek(self.src.chunks(self.job["chunk_size"], self.read_cols))
        self.timing["read"] += time.perf_counter() - t0
        if first is None:
            raise DataError(f"`source` ({self.src.description}) has no rows; there is nothing to score")
        if self.feed is not None:
            self.feed.check_columns(first)
        return first, chunks

    def open(self, first: pd.DataFrame, *, resume: bool, overwrite: bool) -> str:
        """Open the destination; "already complete" when an earlier run finished this job on the same input."""
        sink = self.sink
        sink.open(self.job, resume=resume, overwrite=overwrite) if sink.resumable else sink.open(self.job, resume=False, overwrite=True)
        self.input_note = check_input_unchanged(sink, self.job)
        if sink.complete:
            self.counts["rows_skipped"] = int(sink.previous_totals.get("rows", 0))
            self.counts["chunks_skipped"] = len(sink.done)
            return "already complete"
        return "complete"

    def run(self, chunks: Iterator[pd.DataFrame], bar: Any) -> None:
        for index, (chunk, waited) in enumerate(prefetch(chunks)):
            self.timing["read"] += waited
            n = len(chunk)
            self.counts["rows_read"] += n
            if index in self.sink.done:
                self._skip(index, chunk)
            else:
                self._score(index, chunk)
            self.offset += n
            if bar is not None:
                bar.update(n)
        if bar is not None:
            bar.close()
        self.key_check.finish()
        c = self.counts
        self.sink.finish({"rows": c["rows_read"], "chunks": c["chunks_written"] + c["chunks_skipped"]})

    def _skip(self, index: int, chunk: pd.DataFrame) -> None:
        """A chunk committed by an earlier run: check it is the same input, and count it."""
        t0 = time.perf_counter()
        self.key_check.add(chunk, self.offset)
        if self.sink.done[index].get("fingerprint") != chunk_fingerprint(chunk, self.needed):
            raise JobConflictError(
                f"the input changed since the last run of this job: chunk {index} of the source differs ({len(chunk)} row(s) "
                f"from {self.src.row_label(self.offset)}) from the chunk that run "
                "committed, so resuming would mix scores of the old and the new input. Pass resume=False to score the "
                "input afresh"
            )
        self.counts["rows_skipped"] += len(chunk)
        self.counts["chunks_skipped"] += 1
        self.timing["validate"] += time.perf_counter() - t0

    def _score(self, index: int, chunk: pd.DataFrame) -> None:
        t0 = time.perf_counter()
        missing_keys = [k for k in self.keys if k not in chunk.columns]
        if missing_keys:
            raise SchemaError(
                f"`key` column(s) {missing_keys} are not in chunk {index} of the source (columns: {list(chunk.columns)[:12]})"
            )
        self.key_check.add(chunk, self.offset)
        fp = chunk_fingerprint(chunk, self.needed)
        X, rep = self.sch.conform(chunk, where=f"chunk {index} of the source", row_label=lambda i: self.src.row_label(self.offset + i))
        self.acc.add(rep)
        n = len(chunk)
        ident = chunk[list(self.keys)] if self.keys else pd.DataFrame({"row": np.arange(self.offset, self.offset + n, dtype="int64")})
        t1 = time.perf_counter()
        self.timing["validate"] += t1 - t0
        try:
            frame = predict_frame(self.est, self.sch.model_input(X), self.outs, ident)
        except CausalInferError:
            raise
        except (ValueError, TypeError) as exc:
            raise model_failure(exc, X, f"chunk {index} of the source", lambda i: self.src.row_label(self.offset + i)) from exc
        t2 = time.perf_counter()
        self.timing["predict"] += t2 - t1
        self.sink.commit(index, frame, {"rows": n, "fingerprint": fp})
        self.timing["write"] += time.perf_counter() - t2
        if self.feed is not None:
            self.feed.add(index, chunk, frame)
        self.counts["rows_written"] += n
        self.counts["chunks_written"] += 1

    def result(self, status: str) -> ScoringResult:
        return build_result(
            self.est, self.src, self.sink, self.job, self.acc, self.timing, time.perf_counter() - self.t_start, self.digest, status,
            **self.counts, feed=self.feed, input_note=self.input_note,
        )  # fmt: skip
