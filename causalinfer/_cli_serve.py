"""The ``causalinfer serve`` subcommand: run the live host (an ASGI app) under uvicorn.

Every check runs before the server starts: the model file (hash and type checks), the profile against the
model's columns, the log destination (created and written once), and the port. A failure is one line on stderr
and exit code 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

__all__ = ["register"]

CONFIG_ENV = "CAUSALINFER_SERVE_CONFIG"
TOKEN_ENV = "CAUSALINFER_SERVE_TOKEN"
METRICS_ENV = "PROMETHEUS_MULTIPROC_DIR"

_EPILOG = (
    "log destinations:\n"
    "  sqlite:///scores.db        SQLite (the default: scores.db in the current folder)\n"
    "  postgresql://user@host/db  PostgreSQL (needs the 'postgres' extra)\n"
    "  scores/                    a folder of Parquet parts\n"
    "\n"
    "examples:\n"
    "  causalinfer serve model.skops\n"
    "  causalinfer serve model.skops --profile train_profile.json --log sqlite:///scores.db --port 8080\n"
    "  CAUSALINFER_SERVE_TOKEN=secret causalinfer serve model.skops --workers 4 --host 0.0.0.0\n"
    "\n"
    "Requests: POST /predict (a JSON list of records), POST /v2/models/NAME/infer (Open Inference Protocol);\n"
    "add ?durable=true to answer only after the request is committed to the log. GET /metrics, /openapi.json,\n"
    "/v2/models/NAME/drift. SIGTERM finishes the requests in flight and flushes the log.\n\n"
    "exit codes:\n  0    stopped normally\n  1    a check failed before the server started (one line on stderr)\n  2    bad usage\n"
)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "model_path": args.model, "profile": args.profile, "log": None if args.no_log else args.log, "name": args.name,
        "trusted": list(args.trust), "durable": args.durable, "max_batch_rows": args.max_batch_rows,
        "max_body_bytes": args.max_body_bytes, "token": args.token or os.environ.get(TOKEN_ENV) or None,
        "batching": args.batching, "drift_window": args.drift_window, "reload_interval": args.reload_interval,
        "log_table": args.log_table,
    }  # fmt: skip


def app_from_environment() -> Any:
    """The app of a worker process: the options the command checked, passed on in an environment variable."""
    from .serve import create_app

    options = json.loads(os.environ[CONFIG_ENV])
    return create_app(options.pop("model_path"), **options)


@contextlib.contextmanager
def _shared_metrics() -> Iterator[None]:
    """Worker processes keep their metrics in files of one folder, so any worker's /metrics sums them all.

    This is prometheus_client's multiprocess mode: the folder is named in an environment variable that the
    workers inherit and read when they import prometheus_client. An operator's own folder is used as it is.
    """
    if os.environ.get(METRICS_ENV):
        yield
        return
    folder = tempfile.mkdtemp(prefix="causalinfer-metrics-")
    os.environ[METRICS_ENV] = folder
    try:
        yield
    finally:
        os.environ.pop(METRICS_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)


def _check_port(host: str, port: int) -> None:
    from .exceptions import SourceError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except socket.gaierror as exc:
            raise SourceError(
                f"cannot listen on {host}:{port}: unknown host address ({exc.strerror or exc}); use --host 127.0.0.1 or 0.0.0.0"
            ) from exc
        except OSError as exc:
            raise SourceError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc} (is another server using the port? pick one with --port)"
            ) from exc


def _cmd_serve(args: argparse.Namespace) -> int:
    from ._optional import import_optional
    from .serve import create_app

    uvicorn = import_optional("uvicorn", extra="serve", purpose="running the model server")
    from .exceptions import ArgumentError

    if not 0 < args.port < 65536:
        raise ArgumentError(f"--port must be between 1 and 65535; got {args.port}")
    if args.workers < 1:
        raise ArgumentError(f"--workers must be at least 1; got {args.workers}")
    if args.keep_alive < 1:
        raise ArgumentError(f"--keep-alive must be at least 1 second; got {args.keep_alive}")
    options = _options(args)
    _check_port(args.host, args.port)
    app = create_app(options.pop("model_path"), **options)  # every check of model, profile and log runs here
    host = app.state.host
    served = host.current[0]
    if args.access_log:
        served_logger = logging.getLogger("causalinfer.serve")  # the access log propagates to it
        served_logger.addHandler(logging.StreamHandler(sys.stderr))
        served_logger.setLevel(logging.INFO)
    where = "off" if host.log is None else host.log.description
    print(
        f"causalinfer: serving model {served.name!r} version {served.version} on http://{args.host}:{args.port} "
        f"(log: {where}; micro-batching: {'on' if served.batchable else 'off'}; workers: {args.workers})",
        file=sys.stderr,
        flush=True,
    )
    common = {"host": args.host, "port": args.port, "access_log": False, "log_level": "warning", "timeout_graceful_shutdown": 30,
              "timeout_keep_alive": args.keep_alive}  # fmt: skip
    if args.workers > 1:
        os.environ[CONFIG_ENV] = json.dumps({**_options(args), "model_path": os.fspath(args.model)})
        del app
        with _shared_metrics():
            # the supervisor stops its workers on SIGTERM (each one finishes its requests and flushes its log) and returns
            uvicorn.run("causalinfer._cli_serve:app_from_environment", factory=True, workers=args.workers, **common)
        return 0
    server = uvicorn.Server(uvicorn.Config(app, **common))
    # uvicorn answers SIGTERM with a graceful shutdown (requests in flight answered, the score log flushed) and then
    # raises the signal again for the handler it found installed. With the default handler that kills the process
    # (exit -15) after a clean stop; this one asks the server to stop (a SIGTERM before uvicorn takes over the
    # signals still stops it through the same shutdown) and the command exits 0.
    previous = signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    try:
        server.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not server.started:
        print(f"causalinfer: error: the server on {args.host}:{args.port} did not start", file=sys.stderr)
        return 1
    return 0


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand to ``subparsers``."""
    sv = subparsers.add_parser(
        "serve",
        help="serve a saved model over HTTP (Open Inference Protocol and /predict), logging every score",
        description="Serve the model saved in MODEL (by causalinfer.predict.save_model) over HTTP. Every request and its "
        "outputs are logged exactly once; drift against a training profile is exported at /metrics.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sv.add_argument("model", metavar="MODEL", help="a model file saved with save_model (.skops, with its .json sidecar)")
    sv.add_argument("--profile", metavar="JSON", help="training profile (Profile.to_json) for live drift")
    sv.add_argument("--log", default="sqlite:///scores.db", metavar="DEST", help="where to log scores (default sqlite:///scores.db)")
    sv.add_argument("--no-log", action="store_true", help="do not log scores")
    sv.add_argument("--log-table", default="scores", metavar="NAME", help="table of the score log (default scores)")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sv.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    sv.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes (default 1)")
    sv.add_argument("--token", help=f"bearer token required on every route but the health checks (or set {TOKEN_ENV})")
    sv.add_argument("--name", help="the model's name in the routes (default: the file name without suffix)")
    sv.add_argument("--trust", nargs="+", default=[], metavar="NAME", help="type names to trust when loading the model file")
    sv.add_argument("--durable", action="store_true", help="answer every request only after its log commit")
    sv.add_argument("--max-batch-rows", type=int, default=10_000, metavar="N", help="largest batch taken (default 10000)")
    sv.add_argument("--max-body-bytes", type=int, default=16 * 2**20, metavar="N", help="largest request body (default 16 MiB)")
    sv.add_argument(
        "--batching", choices=("auto", "on", "off"), default="auto", help="micro-batching of concurrent requests (default auto)"
    )
    sv.add_argument("--drift-window", type=int, default=5_000, metavar="N", help="rows in the rolling drift window (default 5000)")
    sv.add_argument("--reload-interval", type=float, metavar="S", help="check the model file every S seconds and reload it when it changes")
    sv.add_argument(
        "--keep-alive", type=int, default=75, metavar="S",
        help="seconds an idle client connection is kept open (default 75: longer than the idle timeout of clients and "
        "gateways, so none reuses a connection the server is closing)",
    )  # fmt: skip
    sv.add_argument("--access-log", action="store_true", help="write one JSON line per request to stderr")
    sv.set_defaults(func=_cmd_serve)
