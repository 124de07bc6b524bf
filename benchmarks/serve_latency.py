"""Latency and throughput of ``causalinfer serve`` against a bare starlette endpoint calling ``model.predict``.

Both servers run as separate uvicorn processes (one worker each) and serve the same saved scikit-learn pipeline
(wrapped in a split-conformal regressor). ``causalinfer serve`` runs with everything on: the score log (SQLite,
batched in the background), conformal intervals, the input contract and live drift against the training
profile; it is measured with micro-batching automatic and off. Both servers get OMP_NUM_THREADS=1. The load generator is httpx (async): C clients
each send single-row requests back to back for a fixed time.

    PYTHONPATH=. .venv/bin/python benchmarks/serve_latency.py [--seconds 8] [--clients 1 16 64]
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
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
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


async def load(url: str, rows: list[dict], clients: int, seconds: float) -> tuple[np.ndarray, float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as c:
        for i in range(min(clients, 8)):  # warm up
            await c.post("/predict", json=[rows[i]])
        stop = time.perf_counter() + seconds

        async def client(k: int) -> None:
            i = k
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                r = await c.post("/predict", json=[rows[i % len(rows)]])
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    raise RuntimeError(r.text)
                i += clients

        t0 = time.perf_counter()
        await asyncio.gather(*(client(k) for k in range(clients)))
        wall = time.perf_counter() - t0
    return np.array(latencies), len(latencies) / wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8.0)
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
                str(d / "profile.json"), "--log", f"sqlite:///{db}", "--batching", batching, "--trust", TRUST], port  # fmt: skip

    bare_port = free_port()
    servers = {
        "bare starlette + model.predict": ([sys.executable, str(d / "bare.py"), str(d / "model.skops"), str(bare_port), TRUST], bare_port),
        "causalinfer serve (batching auto)": ours("auto"),
        "causalinfer serve (batching off)": ours("off"),
    }
    results: dict[tuple[str, int], tuple[float, float, float]] = {}
    for name, (cmd, port) in servers.items():
        proc = start(cmd, port)
        try:
            for c in args.clients:
                lat, tput = asyncio.run(load(f"http://127.0.0.1:{port}", rows, c, args.seconds))
                results[name, c] = (float(np.percentile(lat, 50)) * 1e3, float(np.percentile(lat, 99)) * 1e3, tput)
                print(
                    f"{name:<36} {c:>3} clients  p50 {results[name, c][0]:8.2f} ms  p99 {results[name, c][1]:8.2f} ms  {tput:8.1f} req/s",
                    flush=True,
                )
        finally:
            proc.terminate()
            proc.wait(30)
    print("\nratios against the bare endpoint (p50 ours/bare, p99 ours/bare, throughput ours/bare):")
    bare = "bare starlette + model.predict"
    for name in list(servers)[1:]:
        for c in args.clients:
            o, b = results[name, c], results[bare, c]
            print(f"{name:<36} {c:>3} clients  p50 x{o[0] / b[0]:.2f}  p99 x{o[1] / b[1]:.2f}  throughput x{o[2] / b[2]:.2f}")


if __name__ == "__main__":
    main()
