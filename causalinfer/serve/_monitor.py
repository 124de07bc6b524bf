"""Prometheus metrics of the host and live drift on a rolling window of served rows against the training profile."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import pandas as pd

from .._optional import import_optional

__all__ = ["DriftWindow", "Metrics"]

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class DriftWindow:
    """The last ``size`` served rows (raw request values), checked against a :class:`~causalinfer.predict.Profile`.

    Requests only append to a deque; the drift check runs when asked (a ``/metrics`` scrape or a drift report),
    and its result is cached until more rows arrive.
    """

    def __init__(self, profile: Any, size: int = 5_000, **options: Any) -> None:
        self.profile = profile
        self.size = int(size)
        self.options = options
        self.frames: deque[pd.DataFrame] = deque()
        self.rows = 0
        self.seen = 0
        self._lock = threading.Lock()
        self._cached: tuple[int, Any] | None = None

    def add(self, frame: pd.DataFrame) -> None:
        with self._lock:
            self.frames.append(frame)
            self.rows += len(frame)
            self.seen += len(frame)
            while self.frames and self.rows - len(self.frames[0]) >= self.size:
                self.rows -= len(self.frames.popleft())

    def result(self) -> Any:
        """The :class:`~causalinfer.predict.DriftResult` of the window (None before the first row)."""
        with self._lock:
            if self.rows == 0:
                return None
            if self._cached is not None and self._cached[0] == self.seen:
                return self._cached[1]
            frame = pd.concat(list(self.frames), ignore_index=True).tail(self.size)
            seen = self.seen
        cols = [c for c in self.profile.columns if c in frame.columns]
        res = self.profile.check(frame[cols], **self.options)
        with self._lock:
            self._cached = (seen, res)
        return res


class Metrics:
    """The host's Prometheus metrics in a registry of its own (several apps can live in one process)."""

    def __init__(self) -> None:
        pc = import_optional("prometheus_client", extra="serve", purpose="the /metrics endpoint")
        self.pc = pc
        self.registry = reg = pc.CollectorRegistry()
        # several worker processes (``--workers``): prometheus_client's multiprocess mode keeps every value in files
        # of a shared folder; counters and histograms are summed over the workers, and gauges (model, log queue,
        # drift window) are reported per worker with a ``pid`` label
        self.shared = pc.values.ValueClass is not pc.values.MutexValue
        gauge_mode = {"multiprocess_mode": "liveall"} if self.shared else {}
        self._model_labels: tuple[str, ...] | None = None
        self.requests = pc.Counter("causalinfer_requests", "HTTP requests answered", ["endpoint", "status"], registry=reg)
        self.latency = pc.Histogram(
            "causalinfer_request_seconds", "Time to answer a request", ["endpoint"], buckets=_LATENCY_BUCKETS, registry=reg
        )
        self.errors = pc.Counter(
            "causalinfer_request_errors", "Requests answered with an error, by reason", ["endpoint", "status"], registry=reg
        )
        self.rows = pc.Counter("causalinfer_predicted_rows", "Rows scored", registry=reg)
        self.model_calls = pc.Counter(
            "causalinfer_model_calls", "Calls of the model (fewer than requests when micro-batching)", registry=reg
        )
        self.model_info = pc.Gauge(
            "causalinfer_model_info", "The model being served (value 1)", ["name", "version", "estimator"], registry=reg, **gauge_mode
        )
        self.reloads = pc.Counter("causalinfer_model_reloads", "Model reloads, by outcome", ["outcome"], registry=reg)
        self.log_queue = pc.Gauge(
            "causalinfer_log_queue_requests", "Requests answered but not yet written to the score log", registry=reg, **gauge_mode
        )
        self.log_committed = pc.Gauge(
            "causalinfer_log_committed_requests", "Requests written to the score log by this process", registry=reg, **gauge_mode
        )
        self.log_failed = pc.Gauge("causalinfer_log_failed_requests", "Requests the score log could not write", registry=reg, **gauge_mode)
        self.drift_effect = pc.Gauge(
            "causalinfer_drift_effect",
            "Drift effect size of a feature on the rolling window",
            ["feature", "metric"],
            registry=reg,
            **gauge_mode,
        )
        self.drift_alert = pc.Gauge(
            "causalinfer_drift_alert",
            "1 when a feature is flagged as drifted on the rolling window",
            ["feature"],
            registry=reg,
            **gauge_mode,
        )
        self.drift_rows = pc.Gauge("causalinfer_drift_window_rows", "Rows in the rolling drift window", registry=reg, **gauge_mode)

    def set_model(self, served: Any) -> None:
        if self._model_labels is not None:  # in the shared files a label set stays once written: mark it 0
            self.model_info.labels(*self._model_labels).set(0)
        if not self.shared:
            self.model_info.clear()
        self._model_labels = (served.name, served.version, str(served.info.get("estimator", "")))
        self.model_info.labels(*self._model_labels).set(1)

    def close(self) -> None:
        """At the end of a worker process: its gauges leave the shared folder (its counts stay in the sums)."""
        if self.shared:
            import os

            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(os.getpid())

    def render(self, log: Any, drift: DriftWindow | None) -> tuple[bytes, str]:
        if log is not None:
            self.log_queue.set(log.pending)
            self.log_committed.set(log.committed)
            self.log_failed.set(log.failed)
        if drift is not None:
            self._drift(drift)
        if self.shared:
            from prometheus_client import multiprocess

            registry = self.pc.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return self.pc.generate_latest(registry), self.pc.CONTENT_TYPE_LATEST
        return self.pc.generate_latest(self.registry), self.pc.CONTENT_TYPE_LATEST

    def _drift(self, drift: DriftWindow) -> None:
        res = drift.result()
        self.drift_rows.set(drift.rows)
        if res is None:
            return
        metric = str(res.details.get("metric", "effect"))
        for row in res.table.itertuples(index=False):
            effect = float(row.effect) if row.effect == row.effect else float("nan")
            self.drift_effect.labels(str(row.feature), metric).set(effect)
            self.drift_alert.labels(str(row.feature)).set(1.0 if bool(row.alert) else 0.0)
