"""Latency and throughput of ``causalinfer serve`` against a bare starlette endpoint calling ``model.predict``.

The three servers run at the same time as separate uvicorn processes (one worker each) and serve the same saved
scikit-learn pipeline (wrapped in a split-conformal regressor): the bare endpoint, and ``causalinfer serve`` with
everything on (the score log in SQLite, written in the background; conformal intervals; the input contract; live
drift against the training profile) with micro-batching automatic and off. Every server gets OMP_NUM_THREADS=1
and the same keep-alive timeout. The load generator is httpx (async): C clients each send single-row requests
back to back. On a shared machine the load changes from second to second, so the servers take turns in short
slices (``--rounds`` per concurrency, the order rotating), and each round's ratios are computed from slices run
seconds apart; the spread of those ratios is printed with the pooled figures.

    PYTHONPATH=. .venv/bin/python benchmarks/serve_latency.py [--seconds 4] [--rounds 3] [--clients 1 16 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from causalinfer.predict import Profile, SplitConformalRegressor, save_model

THREADS = "1"
TRUST = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
#: Seconds a server keeps an idle connection open (``causalinfer serve``'s default; given to the bare server too).
KEEP_ALIVE = 75
#: Seconds the load generator keeps an idle connection for reuse: well below the servers' keep-alive, so a
#: pooled connection is never reused at the moment the server closes it (see benchmarks/README.md).
CLIENT_EXPIRY = 2.0

BARE = textwrap.dedent(
    """
    import sys
    import pandas as pd
    import uvicorn
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    from causalinfer.predict import load_model

    model = load_model(sys.argv[1], trusted=[sys.argv[3]])

    async def predict(request):
        X = pd.DataFrame(await request.json())
        pred = await run_in_threadpool(model.predict, X)
        return JSONResponse({"predictions": pred.tolist()})

    async def ready(request):
        return JSONResponse({"ready": True})

    app = Starlette(routes=[Route("/predict", predict, methods=["POST"]), Route("/v2/health/ready", ready)])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False,
                timeout_keep_alive=int(sys.argv[4]))
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], port: int) -> subprocess.Popen:
    # one OpenMP thread per server: on a shared machine spinning OpenMP barriers swamp a one-row prediction
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "OMP_NUM_THREADS": THREADS}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v2/health/ready", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"server did not start: {cmd}")


async def load(url: str, rows: list[dict], clients: int, seconds: float) -> tuple[list[float], int, float, list[str]]:
    """Latencies, requests answered, wall time and transport errors of C clients sending back to back."""
    latencies: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=CLIENT_EXPIRY)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as c:
        for i in range(min(clients, 8)):  # warm up
            await c.post("/predict", json=[rows[i]])
        stop = time.perf_counter() + seconds

        async def client(k: int) -> None:
            i = k
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                try:
                    r = await c.post("/predict", json=[rows[i % len(rows)]])
                except httpx.TransportError as exc:  # counted and shown, never hidden
                    errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise RuntimeError(r.text)
                i += clients

        t0 = time.perf_counter()
        await asyncio.gather(*(client(k) for k in range(clients)))
        wall = time.perf_counter() - t0
    return latencies, len(latencies), wall, errors


def summary(lat: list[float], n: int, wall: float) -> tuple[float, float, float]:
    a = np.array(lat)
    return float(np.percentile(a, 50)) * 1e3, float(np.percentile(a, 99)) * 1e3, n / wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=4.0, help="length of one slice (one server, one concurrency)")
    ap.add_argument("--rounds", type=int, default=3, help="slices per server and concurrency, taken in turns")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 16, 64])
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n, p = 5000, 8
    X = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"x{j}" for j in range(p)])
    y = X["x0"] * 2 - X["x1"] + np.sin(X["x2"]) + rng.normal(size=n)
    model = SplitConformalRegressor(make_pipeline(StandardScaler(), HistGradientBoostingRegressor(max_iter=100)), alpha=0.1, random_state=0)
    model.fit(X, y)
    d = Path(tempfile.mkdtemp(prefix="serve-bench-"))
    save_model(model, d / "model.skops", training_data=X)
    (d / "profile.json").write_text(Profile.build(X).to_json())
    (d / "bare.py").write_text(BARE)
    rows = X.sample(2000, random_state=1).to_dict("records")

    def ours(batching: str) -> tuple[list[str], int]:
        port = free_port()
        db = d / f"scores-{batching}.db"
        return [sys.executable, "-m", "causalinfer", "serve", str(d / "model.skops"), "--port", str(port), "--profile",
                str(d / "profile.json"), "--log", f"sqlite:///{db}", "--batching", batching, "--trust", TRUST,
                "--keep-alive", str(KEEP_ALIVE)], port  # fmt: skip

    bare = "bare starlette + model.predict"
    bare_port = free_port()
    servers = {
        bare: ([sys.executable, str(d / "bare.py"), str(d / "model.skops"), str(bare_port), TRUST, str(KEEP_ALIVE)], bare_port),
        "causalinfer serve (batching auto)": ours("auto"),
        "causalinfer serve (batching off)": ours("off"),
    }
    names = list(servers)
    procs = [start(cmd, port) for cmd, port in servers.values()]
    pooled: dict[tuple[str, int], tuple[list[float], int, float, int]] = {}
    rounds: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    try:
        for c in args.clients:
            for r in range(args.rounds):
                for name in names[r % len(names) :] + names[: r % len(names)]:
                    lat, count, wall, errors = asyncio.run(load(f"http://127.0.0.1:{servers[name][1]}", rows, c, args.seconds))
                    old = pooled.get((name, c), ([], 0, 0.0, 0))
                    pooled[name, c] = (old[0] + lat, old[1] + count, old[2] + wall, old[3] + len(errors))
                    rounds.setdefault((name, c), []).append(summary(lat, count, wall))
                    for e in sorted(set(errors)):
                        print(f"  transport error ({name}, {c} clients): {e}", flush=True)
            for name in names:
                lat, count, wall, nerr = pooled[name, c]
                p50, p99, tput = summary(lat, count, wall)
                print(f"{name:<36} {c:>3} clients  p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  {tput:8.1f} req/s  errors {nerr}", flush=True)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)
    print(f"\nratios against the bare endpoint, pooled over {args.rounds} rounds [lowest to highest single round]:")
    for name in names[1:]:
        for c in args.clients:
            o, b = summary(*pooled[name, c][:3]), summary(*pooled[bare, c][:3])
            per = [[mine[k] / theirs[k] for mine, theirs in zip(rounds[name, c], rounds[bare, c], strict=True)] for k in range(3)]
            span = [f"[{min(v):.2f}-{max(v):.2f}]" for v in per]
            print(
                f"{name:<36} {c:>3} clients  p50 x{o[0] / b[0]:.2f} {span[0]}  p99 x{o[1] / b[1]:.2f} {span[1]}  "
                f"throughput x{o[2] / b[2]:.2f} {span[2]}"
            )


if __name__ == "__main__":
    main()
