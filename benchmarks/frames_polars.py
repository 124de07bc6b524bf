"""What a polars (or Arrow) input adds to a call, against the same data as pandas, side by side.

Target: a polars input adds at most 10% to a call on the same data given as pandas. The conversion happens once at
the front door (narwhals -> Arrow -> pandas), so its share falls as the work per row grows; the cases below are
chosen to be cheap per row, where the share is largest.

Run:  python benchmarks/frames_polars.py [n_rows]
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa

import causalinfer as ci


def best_of(fn: Callable[[], Any], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(n: int) -> None:
    rng = np.random.default_rng(20261129)
    p = 10
    X = rng.normal(size=(n, p))
    t = rng.binomial(1, 1 / (1 + np.exp(-X[:, 0] * 0.5)))
    y = 2 * t + X @ rng.uniform(-1, 1, p) + rng.normal(size=n)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)]).assign(t=t, y=y, g=rng.integers(0, 2, n))
    kinds = {"pandas": frame, "polars": pl.from_pandas(frame), "arrow": pa.Table.from_pandas(frame, preserve_index=False)}
    cov = [f"x{j}" for j in range(p)]
    calls = {
        "stats.ttest": lambda d: ci.stats.ttest("y", data=d, group="g", levels=(1, 0)),
        "stats.ols (HC1)": lambda d: ci.stats.ols("y ~ t + " + " + ".join(cov), data=d, cov_type="HC1"),
        "causal.ipw": lambda d: ci.causal.ipw(d, outcome="y", treatment="t", covariates=cov),
    }
    print(f"{n:,} rows x {frame.shape[1]} columns; best of 5")
    print(f"{'call':<18}{'pandas':>10}{'polars':>10}{'arrow':>10}{'polars/pandas':>15}{'arrow/pandas':>14}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for label, call in calls.items():
            secs = {k: best_of(lambda call=call, d=d: call(d)) for k, d in kinds.items()}
            print(
                f"{label:<18}{secs['pandas']:>9.3f}s{secs['polars']:>9.3f}s{secs['arrow']:>9.3f}s"
                f"{secs['polars'] / secs['pandas']:>15.3f}{secs['arrow'] / secs['pandas']:>14.3f}"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
