"""Cost of conformal intervals when scoring in chunks: plain model.predict vs predict + interval.

Run from the repository root::

    OMP_NUM_THREADS=1 python benchmarks/bench_conformal.py [--rows 1000000] [--chunk 100000] [--repeats 7]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

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
