"""Processor time per request of ``causalinfer serve``'s app against a bare starlette endpoint, in one process.

Latency on a shared machine mostly measures the queue for a CPU; the processor time a request costs does not.
Both apps (the bare endpoint: ``model.predict(pd.DataFrame(records))``; ours with the SQLite score log written in
the background, conformal intervals, the input contract and live drift) are called in turns through httpx's
ASGI transport (no sockets, no HTTP parser: what is left is the apps' own work and the client's, the same for
both), one single-row request after the other. The figure is the process time of all threads (the score log's
writer included) per request; ``--no-log`` leaves the log out.

    PYTHONPATH=. .venv/bin/python benchmarks/serve_cpu.py [--requests 300] [--rounds 3] [--no-log]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import httpx
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse
from starlette.routing import Route

from causalinfer.predict import Profile, SplitConformalRegressor, load_model, save_model
from causalinfer.serve import create_app

TRUST = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"


async def cpu_per_request(app: object, rows: list[dict], n: int) -> float:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c:
        t0 = time.process_time()
        for i in range(n):
            r = await c.post("/predict", json=[rows[i % len(rows)]])
            if r.status_code != 200:
                raise RuntimeError(r.text)
        await asyncio.sleep(0.3)  # let the score log's writer finish what these requests queued
        return (time.process_time() - t0) / n * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-log", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(5000, 8)), columns=[f"x{j}" for j in range(8)])
    y = X["x0"] * 2 - X["x1"] + np.sin(X["x2"]) + rng.normal(size=5000)
    model = SplitConformalRegressor(make_pipeline(StandardScaler(), HistGradientBoostingRegressor(max_iter=100)), alpha=0.1, random_state=0)
    model.fit(X, y)
    d = Path(tempfile.mkdtemp(prefix="serve-cpu-"))
    save_model(model, d / "model.skops", training_data=X)
    (d / "profile.json").write_text(Profile.build(X).to_json())
    rows = X.sample(500, random_state=1).to_dict("records")
    served = load_model(d / "model.skops", trusted=[TRUST])

    async def predict(request: object) -> JSONResponse:
        frame = pd.DataFrame(await request.json())  # type: ignore[attr-defined]
        pred = await run_in_threadpool(served.predict, frame)
        return JSONResponse({"predictions": pred.tolist()})

    bare = Starlette(routes=[Route("/predict", predict, methods=["POST"])])
    ours = create_app(d / "model.skops", d / "profile.json", None if args.no_log else f"sqlite:///{d / 'scores.db'}", trusted=[TRUST])
    log = ours.state.host.log

    async def run() -> None:
        if log is not None:
            log.start()
        await cpu_per_request(bare, rows, 20)  # warm up
        await cpu_per_request(ours, rows, 20)
        ratios = []
        for _ in range(args.rounds):
            b = await cpu_per_request(bare, rows, args.requests)
            o = await cpu_per_request(ours, rows, args.requests)
            ratios.append(o / b)
            print(f"bare {b:7.3f} ms   causalinfer serve {o:7.3f} ms   ratio x{o / b:.2f}", flush=True)
        print(f"processor time per request, ours / bare: median x{np.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]")
        if log is not None:
            log.close()

    asyncio.run(run())


if __name__ == "__main__":
    main()
