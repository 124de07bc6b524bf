"""Cost of conformal intervals when scoring in chunks: plain model.predict vs predict + interval.

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/bench_conformal.py [--rows 1000000] [--chunk 100000] [--repeats 7]
    OMP_NUM_THREADS=1 python benchmarks/bench_conformal.py --job [--rows 1000000] [--chunk 100000] [--repeats 3]

With ``--job`` it times whole scoring jobs instead: ``causalinfer.predict.score`` of a Parquet file into a Parquet
directory with a saved split-conformal model, ``outputs=("prediction",)`` against ``("prediction", "interval")``
(read, input contract, predict, fsynced write, manifest), alternating the two and reporting the best times.

For each model, the same chunks are scored three ways: ``model.predict`` (plain), the fitted split-conformal
predictor's ``predict_with_interval`` (arrays: prediction, lower, upper), and ``predict_frame`` (the same as a
DataFrame ready to append as output columns). The overhead is relative to plain prediction; the three are timed
in alternation and the best times reported, so load from other processes affects them alike. Set
OMP_NUM_THREADS=1 for stable figures on a shared machine (the gradient-boosting predict is multithreaded).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression

from causalinfer.predict import SplitConformalRegressor


def timed(fn, chunks):
    t0 = time.perf_counter()
    for c in chunks:
        fn(c)
    return time.perf_counter() - t0


def compare(fns, chunks, repeats):
    """Best time of each function, measured in alternation so background load hits all of them alike."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            times[i].append(timed(fn, chunks))
    return [float(np.min(t)) for t in times]


TRUSTED = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)


def job_benchmark(rows: int, chunk: int, repeats: int) -> None:
    """Whole scoring jobs (Parquet -> Parquet) with and without interval outputs."""
    import shutil
    import tempfile
    from pathlib import Path

    import pandas as pd

    from causalinfer.predict import save_model, score

    rng = np.random.default_rng(0)
    p = 10
    cols = [f"x{i}" for i in range(p)]
    X = pd.DataFrame(rng.normal(size=(20_000, p)), columns=cols)
    y = X["x0"] - 2 * X["x1"] + np.sin(X["x2"]) + rng.normal(size=20_000)
    work = Path(tempfile.mkdtemp(prefix="bench-conformal-"))
    try:
        src = work / "in.parquet"
        pd.DataFrame(rng.normal(size=(rows, p)), columns=cols).to_parquet(src, row_group_size=chunk)
        models = {
            "LinearRegression": LinearRegression(),
            "HistGradientBoostingRegressor": HistGradientBoostingRegressor(max_iter=100, random_state=0),
        }
        print(f"scoring jobs: {rows:,} rows x {p} features, Parquet -> Parquet, chunks of {chunk:,}; best of {repeats} alternating runs")
        print(f"{'model':34s} {'prediction':>11s} {'+interval':>10s} {'overhead':>9s}")
        for name, model in models.items():
            path = work / f"{name}.skops"
            save_model(SplitConformalRegressor(model, alpha=0.1, random_state=0).fit(X, y), path, training_data=X)
            variants = {"plain": ("prediction",), "interval": ("prediction", "interval")}
            best = {k: float("inf") for k in variants}
            stages: dict[str, dict[str, float]] = {}
            for _ in range(repeats):
                for k, outputs in variants.items():
                    dest = work / f"out-{k}"
                    t0 = time.perf_counter()
                    res = score(
                        path, src, dest, chunk_size=chunk, outputs=outputs, resume=False, overwrite=True, progress=False, trusted=TRUSTED
                    )
                    took = time.perf_counter() - t0
                    if took < best[k]:
                        best[k] = took
                        stages[k] = res.timings
            print(f"{name:34s} {best['plain']:10.3f}s {best['interval']:9.3f}s {100 * (best['interval'] / best['plain'] - 1):+8.1f}%")
            for k in variants:
                t = stages[k]
                print(f"    {k:9s} stages: validate {t['validate']:.3f} s, predict {t['predict']:.3f} s, write {t['write']:.3f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=None, help="default 7 (3 with --job)")
    parser.add_argument("--job", action="store_true", help="time whole scoring jobs with and without interval outputs")
    args = parser.parse_args()
    if args.job:
        job_benchmark(args.rows, args.chunk, args.repeats or 3)
        return
    args.repeats = args.repeats or 7

    rng = np.random.default_rng(0)
    p = 10
    X = rng.normal(size=(20_000, p))
    y = X[:, 0] - 2 * X[:, 1] + np.sin(X[:, 2]) + rng.normal(size=20_000)
    Xs = rng.normal(size=(args.rows, p))
    chunks = [Xs[i : i + args.chunk] for i in range(0, args.rows, args.chunk)]
    models = {
        "LinearRegression": LinearRegression(),
        "HistGradientBoostingRegressor": HistGradientBoostingRegressor(max_iter=100, random_state=0),
        "RandomForestRegressor(30 trees)": RandomForestRegressor(n_estimators=30, max_depth=10, n_jobs=1, random_state=0),
    }
    print(f"{args.rows:,} rows x {p} features in chunks of {args.chunk:,}; best of {args.repeats} alternating runs")
    print(f"{'model':34s} {'predict':>9s} {'+interval':>10s} {'overhead':>9s} {'+frame':>9s} {'overhead':>9s}")
    for name, model in models.items():
        cp = SplitConformalRegressor(model, alpha=0.1, random_state=0).fit(X, y)
        fitted = cp.estimator_
        t_plain, t_iv, t_frame = compare([fitted.predict, cp.predict_with_interval, cp.predict_frame], chunks, args.repeats)
        print(
            f"{name:34s} {t_plain:8.3f}s {t_iv:9.3f}s {100 * (t_iv / t_plain - 1):+8.1f}% {t_frame:8.3f}s {100 * (t_frame / t_plain - 1):+8.1f}%"
        )


if __name__ == "__main__":
    main()
