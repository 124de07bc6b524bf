"""What every scoring engine shares: the model call on one chunk, the input-contract tally and the job's result.

The local engine (``_score``) and the dask engine (``_dask``) both build on this module and never on each
other, so neither imports the other back.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..exceptions import ArgumentTypeError, DataError
from ..results import Diagnostic, Provenance, Result
from ._common import model_input_error
from ._contract import ChunkReport
from ._errors import JobConflictError, SchemaError
from ._keys import KeyCheck
from ._manifest import job_id

if TYPE_CHECKING:
    from ._sinks import Sink
    from ._sources import Source

__all__ = [
    "Accumulator",
    "DriftFeed",
    "KeyCheck",
    "ScoringResult",
    "build_result",
    "check_input_unchanged",
    "chunk_fingerprint",
    "job_spec",
    "model_failure",
    "predict_frame",
]


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


def job_spec(digest: str, src: Any, chunk_size: Any, outs: Sequence[str], keys: Sequence[str], sch: Any) -> dict[str, Any]:
    """What defines a scoring job (model, source identity, options) plus the input's content fingerprint.

    The job's identity (:func:`~._manifest.job_id`) leaves the fingerprint out: the same job run again on an
    edited input is still the same job, and its committed chunks are checked against the new input instead.
    """
    return {
        "model_hash": digest,
        "source": src.identity(),
        "input_fingerprint": src.fingerprint(),
        "chunk_size": chunk_size,
        "outputs": list(outs),
        "key": list(keys),
        "columns": list(sch.names),
        "positional": bool(sch.positional),
    }


def check_input_unchanged(sink: Any, job: dict[str, Any]) -> str | None:
    """Compare the input with the one an earlier run of the same job saw.

    A finished job whose input changed is refused (its scores are of the old input). An unfinished one goes on:
    each committed chunk is compared with the new input as it is read, so only an edit in rows not yet committed
    passes, and the returned note says so.
    """
    before = (getattr(sink, "previous_job", None) or {}).get("input_fingerprint")
    now = job.get("input_fingerprint")
    if before is None or now is None or before == now:
        return None
    if sink.complete:
        raise JobConflictError(
            f"the input changed since this job completed (fingerprint {str(before)[:20]}... then, {str(now)[:20]}... now): "
            f"the scores in {sink.description} are of the old input. Pass resume=False to score the new input afresh"
        )
    sink.record_job(job)
    return (
        f"the input changed since the last run ({len(sink.done)} chunk(s) were committed then); each committed chunk is "
        "checked against the new input before it is kept, so the change lies in rows that were not yet scored"
    )


def model_failure(exc: Exception, X: pd.DataFrame, where: str, row_label: Any) -> DataError | ArgumentTypeError:
    """A DataError for a model that failed on a chunk, naming the first column and row it could not take."""
    return model_input_error(exc, X, f"scoring {where}", row_label)


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


def column_order_diagnostic(schema: Any) -> Diagnostic:
    """How the model's input columns were matched: by name, or by a stated and recorded position."""
    names = list(schema.names)
    if schema.positional:
        return Diagnostic(
            "column order",
            "ok",
            float(len(names)),
            f"the model was fitted without column names and reads its inputs by position; columns were fed in the stated order {names}",
        )
    return Diagnostic("column order", "ok", float(len(names)), f"columns matched by name: {names}")


class Accumulator:
    """Sums the chunk reports of the input contract over a job (``schema``: the contract, for its column order)."""

    def __init__(self, schema: Any = None) -> None:
        self.schema = schema
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
        out = [] if self.schema is None else [column_order_diagnostic(self.schema)]
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


class DriftFeed:
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


def _details(
    src: Any,
    sink: Any,
    job: dict[str, Any],
    digest: str,
    status: str,
    engine: str,
    counts: dict[str, int],
    timing: dict[str, float],
    total: float,
) -> dict[str, Any]:
    """The numbers of a run: identity, counts, seconds per stage, and the ``rows`` and ``timings`` tables."""
    stages = ["read", "validate", "predict", "write"]
    # Shares are of the wall time, or of the summed stage time when stages ran in parallel (dask workers).
    denom = max(total, sum(timing[s] for s in stages))
    rate = counts["rows_written"] / total if total > 0 and counts["rows_written"] else 0.0
    details: dict[str, Any] = {
        "status": status,
        "engine": engine,
        "source": src.description,
        "destination": sink.description,
        **counts,
        "chunk_size": job["chunk_size"],
        **{f"seconds_{s}": timing[s] for s in stages},
        "seconds_total": total,
        "rows_per_second": rate,
        "job_id": job_id(job),
        "model_hash": digest,
        "input_fingerprint": job["input_fingerprint"] or "",
    }
    details["rows"] = pd.DataFrame(
        {
            "quantity": ["rows read", "rows written", "rows skipped (committed earlier)", "chunks", "rows per second"],
            "value": [float(counts[k]) for k in ("rows_read", "rows_written", "rows_skipped", "chunks")] + [rate],
        }
    )
    details["timings"] = pd.DataFrame(
        {
            "stage": [*stages, "total"],
            "seconds": [timing[s] for s in stages] + [total],
            "share": [timing[s] / denom if denom > 0 else 0.0 for s in stages] + [total / denom if denom > 0 else 1.0],
        }
    )
    return details


def _accounting(acc: Accumulator, status: str, counts: dict[str, int]) -> list[Diagnostic]:
    """The input-contract diagnostics and the exactly-once check (or the note that the job was already complete)."""
    written, skipped, read = counts["rows_written"], counts["rows_skipped"], counts["rows_read"]
    if status != "complete":
        return [Diagnostic("already complete", "ok", float(skipped), "this job finished earlier; nothing was read or written")]
    done = written + skipped
    return [
        *acc.diagnostics(),
        Diagnostic(
            "exactly once",
            "ok" if done == read else "fail",
            float(done),
            f"{written} row(s) written now + {skipped} committed earlier = {done} of {read} input rows",
        ),
    ]


def _drift_part(
    feed: DriftFeed, details: dict[str, Any], status: str, counts: dict[str, int], conformal: Any, job: dict[str, Any]
) -> tuple[Any, Diagnostic]:
    """The drift result of the rows scored in this run, its details, and its diagnostic."""
    drift, drift_details, diag = feed.summary(counts["rows_skipped"], counts["chunks_skipped"])
    details.update(drift_details)
    if status != "complete":
        details["drift_scope"] = "none: the job was already complete, so no rows were read"
        return drift, Diagnostic("drift", "ok", None, "not checked: the job was already complete, so no rows were read")
    if drift is not None and drift.drifted and conformal is not None:
        kind = "sets" if "set" in job["outputs"] else "intervals"
        diag = Diagnostic(
            diag.name,
            diag.status,
            diag.value,
            diag.message + f"; the conformal {kind} assume the scored rows are exchangeable with the calibration rows, "
            "so their coverage is not guaranteed here",
        )
    return drift, diag


def build_result(
    est: Any,
    src: Source,
    sink: Sink,
    job: dict[str, Any],
    acc: Accumulator,
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
    feed: DriftFeed | None = None,
    input_note: str | None = None,
) -> ScoringResult:
    """The ScoringResult of a run: counts and timings in ``details``, contract, accounting and drift diagnostics."""
    name = type(est.steps[-1][1]).__name__ if hasattr(est, "steps") else type(est).__name__
    counts = {
        "rows_read": rows_read,
        "rows_written": rows_written,
        "rows_skipped": rows_skipped,
        "chunks": chunks_written + chunks_skipped,
        "chunks_written": chunks_written,
        "chunks_skipped": chunks_skipped,
    }
    details = _details(src, sink, job, digest, status, engine, counts, timing, total)
    if acc.unseen:
        details["unseen_categories"] = acc.unseen_frame()
    conformal = _conformal_details(est) if ("interval" in job["outputs"] or "set" in job["outputs"]) else None
    if conformal is not None:
        details["conformal"] = conformal
    diags = _accounting(acc, status, counts)
    if input_note is not None:
        diags.append(Diagnostic("input changed", "warn", None, input_note))
    drift = None
    if feed is not None:
        drift, drift_diag = _drift_part(feed, details, status, counts, conformal, job)
        diags.append(drift_diag)
    rows_done = rows_written + rows_skipped
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
