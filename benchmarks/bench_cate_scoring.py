"""Scoring CATEs with their intervals through a scoring job: rows per second and peak memory at 10^6 and 10^7 rows.

A CATE model (``--model dr``: DRLearner with a linear final stage; ``--model forest``: CausalForest) is fitted on
20,000 simulated units with 5 covariates and pickled. A Parquet file of N new units (5 covariates and an id) is
written in row groups of 100,000 rows (the default chunk size). Each N is then scored in a fresh process by
``causalinfer.predict.score(model, parquet, out_dir, key="id", outputs=["prediction", "interval"])`` at the
default chunk size (input fingerprinted, checked per chunk, one Parquet part per chunk); the child reports the
seconds of the job and its peak resident memory (VmHWM, which includes the interpreter and the imports). Memory
flat in N means the 10^7 run peaks at about the same size as the 10^6 run.

Run:  python benchmarks/bench_cate_scoring.py --rows 1000000 10000000 --workdir DIR   (DIR is deleted at the end)
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

COLS = [f"x{j}" for j in range(5)]


def fit_model(kind: str, path: Path) -> None:
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalinfer.designs import CausalForest, DRLearner

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(20_000, 5)), columns=COLS)
    t = (rng.random(20_000) < 1 / (1 + np.exp(-0.5 * X["x0"]))).astype(int)
    y = X["x0"] + X["x3"] + t * (0.2 + X["x1"]) + rng.normal(size=20_000)
    if kind == "dr":
        m = DRLearner(LinearRegression(), LogisticRegression(), final_model="linear", n_folds=2)
    else:
        m = CausalForest(100, outcome_model=LinearRegression(), propensity_model=LogisticRegression(), n_folds=2, oob=False)
    with open(path, "wb") as fh:
        pickle.dump(m.fit(X, y, t), fh)


def write_parquet(path: Path, rows: int, batch: int = 100_000) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(1)
    writer = None
    for start in range(0, rows, batch):
        k = min(batch, rows - start)
        tab = pa.table({"id": np.arange(start, start + k), **{c: rng.normal(size=k) for c in COLS}})
        writer = writer or pq.ParquetWriter(path, tab.schema)
        writer.write_table(tab)
    assert writer is not None
    writer.close()


def child(model_path: str, src: str, dest: str) -> None:
    from causalinfer.predict import score

    with open(model_path, "rb") as fh:
        model = pickle.load(fh)
    t0 = time.perf_counter()
    res = score(model, src, dest, key="id", outputs=["prediction", "interval"], progress=False)
    seconds = time.perf_counter() - t0
    with open("/proc/self/status", encoding="ascii") as fh:
        peak = next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmHWM:"))
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mib": peak,
                "rows": res.rows_written,
                "chunks": int(res.details["chunks"]),
                "predict_s": float(res.details["seconds_predict"]),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--model", choices=["dr", "forest"], default="dr")
    ap.add_argument("--workdir", required=False, default=None)
    ap.add_argument("--child", nargs=3, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    import tempfile

    work = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp())
    work.mkdir(parents=True, exist_ok=True)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        model_path = work / "model.pkl"
        fit_model(a.model, model_path)
        print(f"scoring CATEs with 95% intervals ({a.model}), default chunk size, Parquet in and out")
        for n in a.rows:
            src, dest = work / f"in_{n}.parquet", work / f"out_{n}"
            write_parquet(src, n)
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(model_path), str(src), str(dest)], capture_output=True, text=True, env=env
            )
            if out.returncode != 0:
                print(out.stderr[-2000:])
                raise SystemExit(1)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"  {n:>12,} rows  {r['chunks']:>4} chunks  {r['seconds']:8.1f} s  {n / r['seconds']:12,.0f} rows/s  peak {r['peak_mib']:7.0f} MiB  (model {r['predict_s']:.1f} s)",
                flush=True,
            )
            src.unlink()
            shutil.rmtree(dest, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
