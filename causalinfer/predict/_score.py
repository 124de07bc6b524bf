"""Scoring jobs: source -> input contract -> model -> destination, chunk by chunk, resumable and exactly once."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import _validation as vp
from .._validation import check_choice, check_int, show
from ..exceptions import ArgumentError, ArgumentTypeError, DataError
from ..results import Diagnostic, Provenance, Result
from ._contract import ChunkReport, InputSchema
from ._errors import JobConflictError, SchemaError
from ._models import load_model, model_hash
from ._sinks import Sink, as_sink
from ._sources import Source, as_source, prefetch

__all__ = ["OUTPUTS", "ScoringResult", "score"]

#: Outputs a scoring job can write.
OUTPUTS = ("prediction", "proba", "interval", "set")
DEFAULT_CHUNK_SIZE = 100_000


@dataclass(frozen=True, kw_only=True, eq=False)
class ScoringResult(Result):
    """The account of a scoring job: rows read and written, chunks, throughput and where the time went.

    ``details`` holds the numbers (``rows_read``, ``rows_written``, ``rows_skipped``, ``chunks``,
    ``chunks_written``, ``chunks_skipped``, ``seconds_read``, ``seconds_validate``, ``seconds_predict``,
    ``seconds_write``, ``seconds_total``, ``rows_per_second``, ``job_id``, ``model_hash``, ``status``), the tables
    ``rows`` (those counts) and ``timings``, and ``unseen_categories`` when there are any. ``diagnostics`` report the input contract (dropped
    columns, casts, missing values, unseen categories) and the exactly-once accounting. When the destination
    is a DataFrame, ``output`` holds the scores.

    With ``monitor=``, ``drift`` holds the :class:`~causalinfer.predict.DriftResult` of the rows scored in this
    run (None when none were), ``details['drift_scope']`` says which rows those are, ``details['drift_timeline']``
    has one row per scored chunk and column (``chunk`` is the job's chunk number), and a ``drift`` diagnostic
    warns, naming the columns, when any column is flagged.
    """

    output: pd.DataFrame | None = field(default=None, repr=False)
    drift: Any = field(default=None, repr=False)

    @property
    def rows_read(self) -> int:
        return int(self.details["rows_read"])

    @property
    def rows_written(self) -> int:
        return int(self.details["rows_written"])

    @property
    def chunks(self) -> int:
        return int(self.details["chunks"])

    @property
    def throughput(self) -> float:
        """Rows scored per second of wall time (0 when nothing was scored)."""
        return float(self.details["rows_per_second"])

    @property
    def unseen_categories(self) -> pd.DataFrame:
        """Values of categorical columns not seen in training: columns ``column, value, count`` (empty if none)."""
        frame = self.details.get("unseen_categories")
        return frame.copy() if frame is not None else pd.DataFrame({"column": [], "value": [], "count": []}).astype({"count": "int64"})

    @property
    def timings(self) -> dict[str, float]:
        return {k: float(self.details[f"seconds_{k}"]) for k in ("read", "validate", "predict", "write", "total")}

    def __repr__(self) -> str:
        d = self.details
        return (
            f"ScoringResult(status={d['status']!r}, rows_read={d['rows_read']}, rows_written={d['rows_written']}, "
            f"chunks={d['chunks']}, seconds_total={d['seconds_total']:.3f})"
        )


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


def resolve_model(model: Any, schema: Any, trusted: Sequence[str]) -> tuple[Any, InputSchema, str]:
    """The estimator, its input schema and its content hash, from a model file or an in-memory estimator."""
    if isinstance(model, (str, os.PathLike)):
        est, info = load_model(model, trusted=trusted, with_info=True)
        digest = info.sha256
        sch = info.schema
    elif hasattr(model, "predict"):
        est = model
        digest = model_hash(model)
        sch = None
    else:
        raise ArgumentTypeError(f"`model` must be a fitted estimator with a predict method or a saved model path; got {show(model)}")
    if schema is not None:
        if isinstance(schema, InputSchema):
            sch = schema
        elif isinstance(schema, pd.DataFrame):
            sch = InputSchema.from_frame(schema)
        else:
            raise ArgumentTypeError(f"`schema` must be an InputSchema or a DataFrame of training features; got {show(schema)}")
    if sch is None:
        names = getattr(est, "feature_names_in_", None)
        if names is None:
            raise ArgumentError(
                "the model's input columns are unknown: it has no `feature_names_in_`; pass schema=<training feature DataFrame> "
                "or save the model with save_model(..., training_data=X)"
            )
        sch = InputSchema.from_names(names)
    return est, sch, digest


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


def chunk_fingerprint(chunk: pd.DataFrame, columns: Sequence[str]) -> str:
    cols = [c for c in columns if c in chunk.columns]
    h = hashlib.sha256(str(len(chunk)).encode())
    h.update(pd.util.hash_pandas_object(chunk[cols], index=False).to_numpy().tobytes())
    return h.hexdigest()[:32]


def predict_frame(est: Any, X: pd.DataFrame, outputs: tuple[str, ...], ident: pd.DataFrame) -> pd.DataFrame:
    """The output frame of one chunk: identifying columns, then predictions and class probabilities.

    Conformal outputs come from the predictor's own ``predict_frame`` (one model call per chunk): ``lower`` and
    ``upper`` for ``"interval"``; ``set_size`` and one boolean ``in_set_<class>`` column per class for ``"set"``.
    """
    out = {c: ident[c].to_numpy() for c in ident.columns}
    if "interval" in outputs and hasattr(est, "predict_with_interval"):
        pred, iv = est.predict_with_interval(X)  # arrays: no intermediate DataFrame per chunk
        if "prediction" in outputs:
            out["prediction"] = pred
        out["lower"] = iv[:, 0]
        out["upper"] = iv[:, 1]
        return pd.DataFrame(out)
    if "interval" in outputs or "set" in outputs:
        with_proba = "proba" in outputs
        cf = est.predict_frame(X, proba=True) if with_proba else est.predict_frame(X)
        for c in cf.columns:
            if c == "prediction" and "prediction" not in outputs:
                continue
            out[str(c)] = cf[c].to_numpy()
        return pd.DataFrame(out)
    proba = None
    if "proba" in outputs:
        proba = np.asarray(est.predict_proba(X))
    if "prediction" in outputs:
        out["prediction"] = np.asarray(est.predict(X))
    if proba is not None:
        for j, c in enumerate(est.classes_):
            out[f"proba_{c}"] = proba[:, j]
    return pd.DataFrame(out)


class _Accumulator:
    def __init__(self) -> None:
        self.dropped: set[str] = set()
        self.cast: dict[str, str] = {}
        self.missing: dict[str, int] = {}
        self.unseen: dict[tuple[str, Any], int] = {}

    def add(self, rep: ChunkReport) -> None:
        self.dropped.update(rep.dropped)
        self.cast.update(rep.cast)
        for k, v in rep.missing.items():
            self.missing[k] = self.missing.get(k, 0) + v
        for col, counts in rep.unseen.items():
            for val, n in counts.items():
                self.unseen[(col, val)] = self.unseen.get((col, val), 0) + n

    def diagnostics(self) -> list[Diagnostic]:
        out = []
        if self.dropped:
            out.append(
                Diagnostic("extra columns", "ok", float(len(self.dropped)), f"not used by the model and not scored: {sorted(self.dropped)}")
            )
        if self.cast:
            out.append(Diagnostic("safe casts", "ok", float(len(self.cast)), "; ".join(f"{k}: {v}" for k, v in sorted(self.cast.items()))))
        if self.missing:
            total = sum(self.missing.values())
            out.append(
                Diagnostic(
                    "missing values",
                    "warn",
                    float(total),
                    "missing values passed to the model as NaN: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.missing.items())),
                )
            )
        else:
            out.append(Diagnostic("missing values", "ok", 0.0, "no missing values in the model's input columns"))
        if self.unseen:
            total = sum(self.unseen.values())
            cols = sorted({c for c, _ in self.unseen})
            out.append(
                Diagnostic(
                    "unseen categories",
                    "warn",
                    float(total),
                    f"{total} value(s) in {cols} were not seen in training; check how the model encodes unknown levels "
                    "(details['unseen_categories'] lists them)",
                )
            )
        else:
            out.append(Diagnostic("unseen categories", "ok", 0.0, "every categorical value was seen in training"))
        return out

    def unseen_frame(self) -> pd.DataFrame:
        rows = [(c, str(v), n) for (c, v), n in sorted(self.unseen.items(), key=lambda kv: (kv[0][0], str(kv[0][1])))]
        return pd.DataFrame(rows, columns=["column", "value", "count"]).astype({"count": "int64"})


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
        the row's position in the source (0-based).
    outputs : {"prediction", "proba", "interval", "set"} or a sequence of them, default ("prediction",)
        ``"prediction"`` writes column ``prediction``; ``"proba"`` writes ``proba_<class>`` for each class.
        For a fitted conformal predictor (:class:`SplitConformalRegressor`, :class:`ConformalizedQuantileRegressor`,
        :class:`JackknifePlusRegressor`): ``"interval"`` writes ``lower`` and ``upper`` at the predictor's level
        ``1 - alpha``. For a :class:`SplitConformalClassifier`: ``"set"`` writes ``set_size`` and one boolean column
        ``in_set_<class>`` per class (True when the class is in the row's prediction set), a form every
        destination stores (SQLite keeps 0/1). One model call per chunk produces all of them.
    resume : bool, default True
        Continue an interrupted job (same model, input, chunk size and outputs) after its last committed chunk;
        a finished job is not run again. ``False`` starts the same job afresh.
    overwrite : bool, default False
        Replace a destination that holds another job's output (or data of unknown origin).
    progress : bool, default True
        Show a progress bar when the session is interactive.
    engine : {"local", "dask"}, default "local"
        ``"dask"`` scores the partitions of a dask DataFrame in parallel (see Notes).
    schema : InputSchema or DataFrame, optional
        The input contract for an in-memory model (training features or their schema); defaults to the names in
        ``feature_names_in_``.
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
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    outs = _as_outputs(outputs)
    keys = _as_key(key)
    engine = check_choice(engine, "engine", ("local", "dask"))
    for flag, name in ((resume, "resume"), (overwrite, "overwrite"), (progress, "progress")):
        if not isinstance(flag, bool):
            raise ArgumentTypeError(f"`{name}` must be True or False; got {show(flag)}")
    if n_threads is None:
        n_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    n_threads = check_int(n_threads, "n_threads", minimum=1)
    est, sch, digest = resolve_model(model, schema, trusted)
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


class _DriftFeed:
    """Feeds each scored chunk (profile columns from the source, predictions from the output) to a DriftMonitor."""

    def __init__(self, monitor: Any) -> None:
        self.monitor = monitor
        self.features = [f.name for f in monitor.profile if f.role != "prediction"]
        self.predictions = [f.name for f in monitor.profile if f.role == "prediction"]
        self.start = len(monitor.history)
        self.chunks: list[int] = []
        self.rows = 0
        self.seconds = 0.0

    def check_columns(self, chunk: pd.DataFrame) -> None:
        missing = [c for c in self.features if c not in chunk.columns]
        if missing:
            raise SchemaError(
                f"`monitor` profiles column(s) {missing} that the source does not have (columns: {list(chunk.columns)[:12]}); "
                "build the profile on columns the source holds"
            )

    def add(self, index: int, chunk: pd.DataFrame, frame: pd.DataFrame) -> None:
        t0 = time.perf_counter()
        current = chunk[self.features].copy() if self.features else pd.DataFrame(index=pd.RangeIndex(len(chunk)))
        for name in self.predictions:
            current[name] = frame["prediction"].to_numpy()
        self.monitor.update(current)
        self.chunks.append(index)
        self.rows += len(chunk)
        self.seconds += time.perf_counter() - t0

    def summary(self, rows_skipped: int, chunks_skipped: int) -> tuple[Any, dict[str, Any], Diagnostic]:
        details: dict[str, Any] = {"drift_rows": self.rows, "seconds_monitor": self.seconds}
        if self.rows == 0:
            details["drift_scope"] = "none: no chunk was scored in this run"
            return None, details, Diagnostic("drift", "ok", None, "not checked: no chunk was scored in this run")
        timeline = self.monitor.timeline()
        timeline = timeline[timeline["chunk"] >= self.start].copy()
        timeline["chunk"] = [self.chunks[i - self.start] for i in timeline["chunk"]]
        details["drift_timeline"] = timeline.reset_index(drop=True)
        scope = f"the {self.rows} row(s) in the {len(self.chunks)} chunk(s) scored in this run"
        if rows_skipped:
            scope += f"; {rows_skipped} row(s) in {chunks_skipped} chunk(s) committed by an earlier run are not included"
        details["drift_scope"] = scope
        result = self.monitor.result()
        flagged = result.alerts
        if flagged:
            diag = Diagnostic(
                "drift",
                "warn",
                float(len(flagged)),
                f"drift alert on {', '.join(flagged)} ({result.details['metric']} above {result.details['threshold']:g}) over {scope}; "
                "the scored data do not look like the reference (result.drift has the details)",
            )
        else:
            diag = Diagnostic("drift", "ok", 0.0, f"no column flagged over {scope}")
        return result, details, diag


def _conformal_details(est: Any) -> dict[str, Any] | None:
    if not (hasattr(est, "predict_frame") and (hasattr(est, "predict_interval") or hasattr(est, "predict_set"))):
        return None
    alpha = getattr(est, "alpha", None)
    n_cal = getattr(est, "n_calibration_", getattr(est, "n_train_", None))
    return {
        "predictor": type(est).__name__,
        "alpha": alpha,
        "level": None if alpha is None else 1 - float(alpha),
        "n_calibration": n_cal,
    }


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

    t_start = time.perf_counter()
    src: Source = as_source(source, keys)
    sink: Sink = as_sink(destination)
    needed = list(dict.fromkeys([*keys, *sch.names]))
    feed = _DriftFeed(monitor) if monitor is not None else None
    read_cols = list(dict.fromkeys([*needed, *(feed.features if feed else ())]))
    job = {
        "model_hash": digest,
        "input_fingerprint": src.fingerprint(),
        "chunk_size": chunk_size,
        "outputs": list(outs),
        "key": list(keys),
        "columns": list(sch.names),
    }
    acc = _Accumulator()
    available = getattr(src, "column_names", None)
    if available is not None:
        acc.dropped.update(c for c in available if c not in set(read_cols))
    timing = {"read": 0.0, "validate": 0.0, "predict": 0.0, "write": 0.0}
    rows_read = rows_written = rows_skipped = chunks_written = chunks_skipped = 0
    try:
        t0 = time.perf_counter()
        first, chunks = _peek(src.chunks(chunk_size, read_cols))
        timing["read"] += time.perf_counter() - t0
        if first is None:
            raise DataError(f"`source` ({src.description}) has no rows; there is nothing to score")
        if feed is not None:
            feed.check_columns(first)
        sink.open(job, resume=resume, overwrite=overwrite) if sink.resumable else sink.open(job, resume=False, overwrite=True)
        if sink.complete:
            return _result(
                est, src, sink, job, acc, timing, time.perf_counter() - t_start, digest, "already complete",
                rows_read=0, rows_written=0, rows_skipped=int(sink.previous_totals.get("rows", 0)),
                chunks_written=0, chunks_skipped=len(sink.done), feed=feed,
            )  # fmt: skip
        bar = _progress(progress, "scoring")
        offset = 0
        with threadpool_limits(limits=n_threads):
            for index, (chunk, waited) in enumerate(prefetch(chunks)):
                timing["read"] += waited
                n = len(chunk)
                rows_read += n
                t0 = time.perf_counter()
                fp = chunk_fingerprint(chunk, needed)
                if index in sink.done:
                    if sink.done[index].get("fingerprint") != fp:
                        raise JobConflictError(
                            f"chunk {index} of the source differs from the chunk committed by the earlier run of this job; the input "
                            "changed, so resuming would mix outputs. Pass resume=False to score it afresh"
                        )
                    rows_skipped += n
                    chunks_skipped += 1
                    offset += n
                    timing["validate"] += time.perf_counter() - t0
                    continue
                missing_keys = [k for k in keys if k not in chunk.columns]
                if missing_keys:
                    raise SchemaError(
                        f"`key` column(s) {missing_keys} are not in chunk {index} of the source (columns: {list(chunk.columns)[:12]})"
                    )
                X, rep = sch.conform(chunk, where=f"chunk {index} of the source")
                acc.add(rep)
                ident = chunk[list(keys)] if keys else pd.DataFrame({"row": np.arange(offset, offset + n, dtype="int64")})
                t1 = time.perf_counter()
                timing["validate"] += t1 - t0
                frame = predict_frame(est, X, outs, ident)
                t2 = time.perf_counter()
                timing["predict"] += t2 - t1
                sink.commit(index, frame, {"rows": n, "fingerprint": fp})
                timing["write"] += time.perf_counter() - t2
                if feed is not None:
                    feed.add(index, chunk, frame)
                rows_written += n
                chunks_written += 1
                offset += n
                if bar is not None:
                    bar.update(n)
        if bar is not None:
            bar.close()
        sink.finish({"rows": rows_read, "chunks": chunks_written + chunks_skipped})
    finally:
        sink.close()
    return _result(
        est, src, sink, job, acc, timing, time.perf_counter() - t_start, digest, "complete",
        rows_read=rows_read, rows_written=rows_written, rows_skipped=rows_skipped,
        chunks_written=chunks_written, chunks_skipped=chunks_skipped, feed=feed,
    )  # fmt: skip


def _result(
    est: Any,
    src: Source,
    sink: Sink,
    job: dict[str, Any],
    acc: _Accumulator,
    timing: dict[str, float],
    total: float,
    digest: str,
    status: str,
    *,
    rows_read: int,
    rows_written: int,
    rows_skipped: int,
    chunks_written: int,
    chunks_skipped: int,
    engine: str = "local",
    feed: _DriftFeed | None = None,
) -> ScoringResult:
    from ._manifest import job_id

    name = type(est.steps[-1][1]).__name__ if hasattr(est, "steps") else type(est).__name__
    stages = ["read", "validate", "predict", "write"]
    # Shares are of the wall time, or of the summed stage time when stages ran in parallel (dask workers).
    denom = max(total, sum(timing[s] for s in stages))
    timings = pd.DataFrame(
        {
            "stage": [*stages, "total"],
            "seconds": [timing[s] for s in stages] + [total],
            "share": [timing[s] / denom if denom > 0 else 0.0 for s in stages] + [total / denom if denom > 0 else 1.0],
        }
    )
    rows_done = rows_written + rows_skipped
    details: dict[str, Any] = {
        "status": status,
        "engine": engine,
        "source": src.description,
        "destination": sink.description,
        "rows_read": rows_read,
        "rows_written": rows_written,
        "rows_skipped": rows_skipped,
        "chunks": chunks_written + chunks_skipped,
        "chunks_written": chunks_written,
        "chunks_skipped": chunks_skipped,
        "chunk_size": job["chunk_size"],
        **{f"seconds_{s}": timing[s] for s in stages},
        "seconds_total": total,
        "rows_per_second": rows_written / total if total > 0 and rows_written else 0.0,
        "job_id": job_id(job),
        "model_hash": digest,
        "input_fingerprint": job["input_fingerprint"] or "",
    }
    details["rows"] = pd.DataFrame(
        {
            "quantity": ["rows read", "rows written", "rows skipped (committed earlier)", "chunks", "rows per second"],
            "value": [
                float(rows_read),
                float(rows_written),
                float(rows_skipped),
                float(chunks_written + chunks_skipped),
                details["rows_per_second"],
            ],
        }
    )
    details["timings"] = timings
    if acc.unseen:
        details["unseen_categories"] = acc.unseen_frame()
    conformal = _conformal_details(est) if ("interval" in job["outputs"] or "set" in job["outputs"]) else None
    if conformal is not None:
        details["conformal"] = conformal
    diags = acc.diagnostics() if status == "complete" else []
    if status == "complete":
        ok = rows_done == rows_read
        diags.append(
            Diagnostic(
                "exactly once",
                "ok" if ok else "fail",
                float(rows_done),
                f"{rows_written} row(s) written now + {rows_skipped} committed earlier = {rows_done} of {rows_read} input rows",
            )
        )
    else:
        diags.append(Diagnostic("already complete", "ok", float(rows_skipped), "this job finished earlier; nothing was read or written"))
    drift = None
    if feed is not None:
        drift, drift_details, drift_diag = feed.summary(rows_skipped, chunks_skipped)
        details.update(drift_details)
        if status != "complete":
            details["drift_scope"] = "none: the job was already complete, so no rows were read"
            drift_diag = Diagnostic("drift", "ok", None, "not checked: the job was already complete, so no rows were read")
        elif drift is not None and drift.drifted and conformal is not None:
            drift_diag = Diagnostic(
                drift_diag.name,
                drift_diag.status,
                drift_diag.value,
                drift_diag.message + f"; the conformal {'sets' if 'set' in job['outputs'] else 'intervals'} assume the scored rows "
                "are exchangeable with the calibration rows, so their coverage is not guaranteed here",
            )
        diags.append(drift_diag)
    return ScoringResult(
        method=f"Scoring job ({engine} engine, "
        + (f"{job['chunk_size']} rows per chunk)" if isinstance(job["chunk_size"], int) else "one chunk per partition)"),
        estimand=f"{', '.join(job['outputs'])} of {name} for {src.description} -> {sink.description}",
        n=rows_done,
        diagnostics=tuple(diags),
        details=details,
        output=sink.result_frame(),
        drift=drift,
        provenance=Provenance.current(data_fingerprint=job["input_fingerprint"]),
    )
