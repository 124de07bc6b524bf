"""The ASGI app of the live host (starlette): Open Inference Protocol routes, ``/predict``, metrics and drift."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import math
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import import_optional
from .._validation import show
from ..exceptions import ArgumentError, ArgumentTypeError, CausalInferError
from ._batch import MicroBatcher
from ._errors import RequestError
from ._log import LogEntry, RequestLog, open_destination, output_rows
from ._model import ServedModel
from ._monitor import DriftWindow, Metrics
from ._openapi import openapi
from ._records import decode_tensors, frame_from_records, parse_json, records_from_body

__all__ = ["Host", "create_app"]

logger = logging.getLogger("causalinfer.serve")
access_logger = logging.getLogger("causalinfer.serve.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_TRUE = ("1", "true", "yes", "on")


def _profile(profile: Any, served: ServedModel) -> Any:
    from ..predict import Profile

    if profile is None:
        return None
    if isinstance(profile, (str, os.PathLike)):
        p = Path(profile)
        if not p.is_file():
            raise ArgumentError(f"`profile` file {str(p)!r} does not exist; build one with Profile.build(train).to_json()")
        profile = Profile.from_json(p.read_text(encoding="utf-8"))
    if not isinstance(profile, Profile):
        raise ArgumentTypeError(f"`profile` must be a Profile or the path of its JSON; got {show(profile)}")
    extra = [c for c in profile.columns if c not in served.schema.names]
    if extra:
        raise ArgumentError(
            f"`profile` holds column(s) {extra} that the model does not take (its inputs are {list(served.schema.names)}); "
            "build the profile from the model's training features"
        )
    return profile


class Host:
    """The state behind the app: the served model (swapped whole on reload), the score log, metrics and drift."""

    def __init__(self, model_path: Any, *, profile: Any, log: Any, name: str | None, trusted: Sequence[str], durable: bool,
                 max_batch_rows: int, max_body_bytes: int, token: str | None, batching: str, drift_window: int,
                 reload_interval: float | None, log_table: str, log_queue: int) -> None:  # fmt: skip
        if not isinstance(model_path, (str, os.PathLike)):
            raise ArgumentTypeError(f"`model_path` must be the path of a model saved with save_model; got {show(model_path)}")
        if batching not in ("auto", "on", "off"):
            raise ArgumentError(f"`batching` must be 'auto', 'on' or 'off'; got {show(batching)}")
        for label, value in (("max_batch_rows", max_batch_rows), ("max_body_bytes", max_body_bytes), ("drift_window", drift_window),
                             ("log_queue", log_queue)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ArgumentError(f"`{label}` must be a positive integer; got {show(value)}")
        if reload_interval is not None and (
            isinstance(reload_interval, bool) or not isinstance(reload_interval, (int, float)) or not reload_interval > 0
        ):
            raise ArgumentError(f"`reload_interval` must be a positive number of seconds or None; got {show(reload_interval)}")
        if token is not None and (not isinstance(token, str) or not token):
            raise ArgumentError(f"`token` must be a non-empty string or None; got {show(token)}")
        self.model_path = Path(model_path)
        self.trusted = tuple(trusted)
        self.batching = batching
        self.name = name
        self.metrics = Metrics()
        self.current = self._load()
        self.profile = _profile(profile, self.current[0])
        self.drift = None if self.profile is None else DriftWindow(self.profile, size=drift_window)
        if log is None or isinstance(log, RequestLog):
            self.log = log
        else:
            writer = open_destination(log, table=log_table)
            writer.prepare()
            self.log = RequestLog(writer, capacity=log_queue)
        self.durable = bool(durable)
        self.max_rows = int(max_batch_rows)
        self.max_body = int(max_body_bytes)
        self.token = token
        self.reload_interval = reload_interval
        self.stamp = self._stamp()
        self.metrics.set_model(self.current[0])

    # ------------------------------------------------------------------ model
    def _load(self) -> tuple[ServedModel, MicroBatcher | None]:
        served = ServedModel.load(self.model_path, name=self.name, trusted=self.trusted, batching=self.batching)
        batcher = MicroBatcher(served.predict, max_rows=10_000, on_call=self.metrics.model_calls.inc) if served.batchable else None
        return served, batcher

    def _stamp(self) -> tuple[float, float]:
        side = self.model_path.with_name(self.model_path.name + ".json")
        try:
            return (self.model_path.stat().st_mtime, side.stat().st_mtime)
        except OSError:
            return (0.0, 0.0)

    def reload(self) -> tuple[bool, str]:
        """Load the model file again; the old model keeps serving when the new file fails its checks."""
        old = self.current[0]
        self.stamp = self._stamp()
        try:
            new = self._load()
            if self.profile is not None:
                _profile(self.profile, new[0])
        except CausalInferError as exc:
            self.metrics.reloads.labels("refused").inc()
            msg = " ".join(str(exc).split())
            logger.error("model reload refused, still serving version %s: %s", old.version, msg)
            return False, f"reload refused, still serving version {old.version}: {msg}"
        self.current = new
        self.metrics.set_model(new[0])
        self.metrics.reloads.labels("loaded").inc()
        logger.info("model reloaded: version %s -> %s", old.version, new[0].version)
        return True, f"now serving version {new[0].version} (was {old.version})"

    async def watch(self) -> None:
        while self.reload_interval:
            await asyncio.sleep(self.reload_interval)
            if self._stamp() != self.stamp:
                await asyncio.to_thread(self.reload)

    # ------------------------------------------------------------------ requests
    def check_auth(self, request: Any) -> None:
        if self.token is None:
            return
        got = request.headers.get("authorization", "")
        if not (got.startswith("Bearer ") and hmac.compare_digest(got[7:].encode(), self.token.encode())):
            raise RequestError(
                401, "missing or wrong bearer token; send 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"}
            )

    def served_for(self, name: str, version: str | None = None) -> ServedModel:
        served = self.current[0]
        if name != served.name:
            raise RequestError(404, f"unknown model {name[:80]!r}; this server serves {served.name!r}")
        if version is not None and version != served.version:
            raise RequestError(404, f"unknown version {version[:80]!r} of model {name!r}; the version served is {served.version!r}")
        return served

    async def body(self, request: Any) -> Any:
        size = request.headers.get("content-length")
        if size is not None and size.isdigit() and int(size) > self.max_body:
            raise RequestError(
                413, f"the request body has {int(size)} bytes, more than this server takes ({self.max_body}); send smaller batches"
            )
        chunks, n = [], 0
        async for chunk in request.stream():
            n += len(chunk)
            if n > self.max_body:
                raise RequestError(413, f"the request body is larger than this server takes ({self.max_body} bytes); send smaller batches")
            chunks.append(chunk)
        return parse_json(b"".join(chunks))

    async def score(self, records: list[dict[str, Any]], rid: str, durable: bool) -> tuple[ServedModel, dict[str, Any], str]:
        served, batcher = self.current
        frame = frame_from_records(records, served.schema)
        if batcher is not None:
            outputs = await batcher.submit(frame)
        else:
            self.metrics.model_calls.inc()
            outputs = await asyncio.to_thread(served.predict, frame)
        self.metrics.rows.inc(len(frame))
        if self.drift is not None:
            self.drift.add(frame)
        status = "off"
        if self.log is not None:
            entry = LogEntry(rid, datetime.now(UTC).isoformat(), served.name, served.version, records, outputs, served.classes)
            status = await self.log.submit(entry, durable=durable or self.durable)
        return served, outputs, status


# ---------------------------------------------------------------------- responses
def _finite(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, list):
        return [_finite(v) for v in x]
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    return x


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    from starlette.responses import Response

    try:
        body = json.dumps(content, allow_nan=False, separators=(",", ":"))
    except ValueError:
        body = json.dumps(_finite(content), allow_nan=False, separators=(",", ":"))
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _request_id(request: Any) -> str:
    rid = request.headers.get("x-request-id")
    if rid is None:
        return uuid.uuid4().hex
    if not _REQUEST_ID.match(rid):
        raise RequestError(400, "the X-Request-Id header must be 1 to 128 letters, digits or . _ : -")
    return str(rid)


def _durable(request: Any) -> bool:
    value = request.query_params.get("durable")
    if value is None:
        return False
    if value.lower() not in (*_TRUE, "0", "false", "no", "off"):
        raise RequestError(400, f"query parameter durable must be true or false; got {value[:20]!r}")
    return value.lower() in _TRUE


def _predict_body(served: ServedModel, outputs: dict[str, Any], rid: str, status: str) -> dict[str, Any]:
    out: dict[str, Any] = {"model_name": served.name, "model_version": served.version, "request_id": rid}
    out["predictions"] = outputs["prediction"].tolist()
    rows = output_rows(outputs, served.classes) if ("proba" in outputs or "set" in outputs) else None
    if "proba" in outputs and rows is not None:
        out["probabilities"] = [r["proba"] for r in rows]
    if "lower" in outputs:
        out["intervals"] = np.column_stack([outputs["lower"], outputs["upper"]]).tolist()
        out["alpha"] = served.alpha
    if "set" in outputs and rows is not None:
        out["sets"] = [r["set"] for r in rows]
        out["alpha"] = served.alpha
    out["logged"] = status
    return out


def _tensors(served: ServedModel, outputs: dict[str, Any], wanted: Any) -> list[dict[str, Any]]:
    meta = {o["name"]: o for o in served.metadata()["outputs"]}
    arrays = {"predict": outputs["prediction"], "predict_proba": outputs.get("proba"), "prediction_set": outputs.get("set")}
    arrays.update({"lower": outputs.get("lower"), "upper": outputs.get("upper")})
    names = list(meta)
    if wanted is not None:
        if not isinstance(wanted, list) or not all(isinstance(w, dict) and isinstance(w.get("name"), str) for w in wanted):
            raise RequestError(400, "'outputs' must be a list of objects with a 'name'")
        names = [w["name"] for w in wanted]
        unknown = [n for n in names if n not in meta]
        if unknown:
            raise RequestError(422, f"unknown output {unknown[0]!r}; this model gives {list(meta)}")
    out = []
    for n in names:
        arr = np.asarray(arrays[n])
        out.append({"name": n, "datatype": meta[n]["datatype"], "shape": list(arr.shape), "data": arr.reshape(-1).tolist()})
    return out


# ---------------------------------------------------------------------- routes
Handler = Callable[[Any, str], Awaitable[Any]]


def _route(host: Host, label: str, fn: Handler, *, open_: bool = False) -> Callable[[Any], Awaitable[Any]]:
    async def handler(request: Any) -> Any:
        t0 = time.perf_counter()
        rid = uuid.uuid4().hex
        try:
            rid = _request_id(request)
            if not open_:
                host.check_auth(request)
            response = await fn(request, rid)
        except RequestError as exc:
            response = _json({"error": str(exc), "request_id": rid}, exc.status, exc.headers)
        except Exception as exc:  # a fault of the server, never of the client's input: logged with its traceback
            logger.exception("internal error answering %s (request %s)", request.url.path, rid)
            response = _json({"error": f"internal server error ({type(exc).__name__}); see the server log", "request_id": rid}, 500)
        response.headers["X-Request-Id"] = rid
        seconds = time.perf_counter() - t0
        status = response.status_code
        host.metrics.requests.labels(label, str(status)).inc()
        host.metrics.latency.labels(label).observe(seconds)
        if status >= 400:
            host.metrics.errors.labels(label, str(status)).inc()
        if access_logger.isEnabledFor(logging.INFO):
            access_logger.info(json.dumps({
                "time": datetime.now(UTC).isoformat(), "request_id": rid, "method": request.method, "path": request.url.path,
                "status": status, "ms": round(seconds * 1000, 3), "log": response.headers.get("x-log-status"),
                "client": request.client.host if request.client else None,
            }))  # fmt: skip
        return response

    return handler


def _handlers(host: Host) -> dict[str, Handler]:
    from starlette.responses import HTMLResponse, Response

    async def live(request: Any, rid: str) -> Any:
        return _json({"live": True})

    async def ready(request: Any, rid: str) -> Any:
        return _json({"ready": True})

    async def server_meta(request: Any, rid: str) -> Any:
        from .._version import __version__

        return _json({"name": "causalinfer", "version": __version__, "extensions": ["model_repository", "drift"]})

    async def model_meta(request: Any, rid: str) -> Any:
        p = request.path_params
        return _json(host.served_for(p["name"], p.get("version")).metadata())

    async def model_ready(request: Any, rid: str) -> Any:
        p = request.path_params
        return _json({"name": host.served_for(p["name"], p.get("version")).name, "ready": True})

    async def infer(request: Any, rid: str) -> Any:
        p = request.path_params
        served = host.served_for(p["name"], p.get("version"))
        doc = await host.body(request)
        records, body_id = decode_tensors(doc, served.schema, host.max_rows)
        if body_id is not None and "x-request-id" not in request.headers:
            if not _REQUEST_ID.match(body_id):
                raise RequestError(400, "the request 'id' must be 1 to 128 letters, digits or . _ : -")
            rid = body_id
        tensors_wanted = doc.get("outputs")
        served, outputs, status = await host.score(records, rid, _durable(request))
        body = {"model_name": served.name, "model_version": served.version, "id": rid, "parameters": {"log_status": status},
                "outputs": _tensors(served, outputs, tensors_wanted)}  # fmt: skip
        return _json(body, headers={"X-Log-Status": status, "X-Request-Id": rid})

    async def predict(request: Any, rid: str) -> Any:
        records = records_from_body(await host.body(request), host.max_rows)
        served, outputs, status = await host.score(records, rid, _durable(request))
        return _json(_predict_body(served, outputs, rid, status), headers={"X-Log-Status": status})

    async def drift(request: Any, rid: str) -> Any:
        host.served_for(request.path_params["name"])
        if host.drift is None:
            raise RequestError(404, "no drift report: start the server with a training profile (--profile profile.json)")
        res = await asyncio.to_thread(host.drift.result)
        if res is None:
            raise RequestError(409, "no rows served yet; the drift report needs at least one scored row")
        if request.query_params.get("format") == "html" or "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(res._repr_html_())
        return Response(res.to_json(), media_type="application/json")

    async def load(request: Any, rid: str) -> Any:
        host.served_for(request.path_params["name"])
        ok, message = await asyncio.to_thread(host.reload)
        if not ok:
            raise RequestError(422, message)
        return _json({"name": host.current[0].name, "version": host.current[0].version, "message": message})

    async def metrics(request: Any, rid: str) -> Any:
        body, ctype = await asyncio.to_thread(host.metrics.render, host.log, host.drift)
        return Response(body, media_type=ctype.split(";")[0])

    async def spec(request: Any, rid: str) -> Any:
        return _json(openapi(host.current[0], max_rows=host.max_rows))

    return {"live": live, "ready": ready, "server": server_meta, "model": model_meta, "model_ready": model_ready, "infer": infer,
            "predict": predict, "drift": drift, "load": load, "metrics": metrics, "openapi": spec}  # fmt: skip


def create_app(
    model_path: str | os.PathLike[str],
    profile: Any = None,
    log: Any = None,
    *,
    name: str | None = None,
    trusted: Sequence[str] = (),
    durable: bool = False,
    max_batch_rows: int = 10_000,
    max_body_bytes: int = 16 * 2**20,
    token: str | None = None,
    batching: str = "auto",
    drift_window: int = 5_000,
    reload_interval: float | None = None,
    log_table: str = "scores",
    log_queue: int = 10_000,
) -> Any:
    """An ASGI app (starlette) serving the model saved at ``model_path``.

    Parameters
    ----------
    model_path : str or path-like
        A model saved with :func:`~causalinfer.predict.save_model`; loaded with
        :func:`~causalinfer.predict.load_model` (content hash and type checks), refused here when they fail.
    profile : Profile or path, optional
        The training :class:`~causalinfer.predict.Profile` (or its JSON file): drift of the last ``drift_window``
        served rows is exported at ``/metrics`` and reported at ``/v2/models/{name}/drift``.
    log : str or path, optional
        Where every request and its outputs are logged: a SQLAlchemy URL (``sqlite:///scores.db``,
        ``postgresql://...``), a ``.db`` file, or a folder of Parquet parts. None: no log.
    name : str, optional
        The model's name in the routes (default: the file name without its suffix).
    trusted : sequence of str
        Type names to trust when loading the model file (see ``load_model``).
    durable : bool, default False
        Answer every request only after its log commit (otherwise only requests with ``?durable=true``).
    max_batch_rows, max_body_bytes : int
        Larger batches or bodies are refused with 413.
    token : str, optional
        Bearer token required on every route except the health checks.
    batching : {"auto", "on", "off"}
        Micro-batching of concurrent requests into one model call. ``"auto"`` batches only a model whose
        predictions on many rows equal those on one row at a time, bit for bit (checked on synthetic rows).
    reload_interval : float, optional
        Seconds between checks of the model file; a changed file is loaded after its checks (the old model keeps
        serving when they fail). ``POST /v2/repository/models/{name}/load`` reloads on demand.
    """
    import_optional("starlette", extra="serve", purpose="serving models over HTTP")
    from starlette.applications import Starlette
    from starlette.routing import Route

    host = Host(model_path, profile=profile, log=log, name=name, trusted=trusted, durable=durable, max_batch_rows=max_batch_rows,
                max_body_bytes=max_body_bytes, token=token, batching=batching, drift_window=drift_window,
                reload_interval=reload_interval, log_table=log_table, log_queue=log_queue)  # fmt: skip
    h = _handlers(host)
    r = lambda path, key, methods=("GET",), open_=False: Route(path, _route(host, key, h[key], open_=open_), methods=list(methods))  # noqa: E731
    routes = [
        r("/v2/health/live", "live", open_=True), r("/v2/health/ready", "ready", open_=True), r("/v2", "server"),
        r("/v2/models/{name}", "model"), r("/v2/models/{name}/versions/{version}", "model"),
        r("/v2/models/{name}/ready", "model_ready"), r("/v2/models/{name}/versions/{version}/ready", "model_ready"),
        r("/v2/models/{name}/infer", "infer", ("POST",)), r("/v2/models/{name}/versions/{version}/infer", "infer", ("POST",)),
        r("/v2/models/{name}/drift", "drift"), r("/v2/repository/models/{name}/load", "load", ("POST",)),
        r("/predict", "predict", ("POST",)), r("/metrics", "metrics"), r("/openapi.json", "openapi"),
    ]  # fmt: skip

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        if host.log is not None:
            await asyncio.to_thread(host.log.start)
        watcher = asyncio.get_running_loop().create_task(host.watch()) if reload_interval else None
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
            if host.log is not None:
                await asyncio.to_thread(host.log.close)
            host.metrics.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.host = host
    return app
