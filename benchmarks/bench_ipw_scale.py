"""IPW on a Parquet folder inside DuckDB against the in-memory estimator on the same rows: time, peak memory, agreement.

Usage: python benchmarks/bench_ipw_scale.py [rows] [folder]
Writes ``rows`` rows (10 numeric covariates and one categorical) as 8 Parquet files into ``folder`` (a temporary
folder by default, removed at the end), then runs each side in its own process and prints wall time, peak resident
memory and the relative difference of the estimate and its standard error.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

COVS = [f"x{j}" for j in range(10)] + ["g"]


def write(rows: int, folder: str) -> None:
    rng = np.random.default_rng(0)
    per = -(-rows // 8)
    for i in range(8):
        n = min(per, rows - i * per)
        X = rng.normal(size=(n, 10))
        g = rng.choice(["a", "b", "c", "d"], n)
        lin = X @ np.linspace(0.3, -0.3, 10) + 0.4 * (g == "b")
        t = (rng.uniform(size=n) < 1 / (1 + np.exp(-lin))).astype(np.int64)
        y = 1 + 2 * t + lin + rng.normal(size=n)
        df = pd.DataFrame(X, columns=COVS[:10]).assign(g=g, t=t, y=y)
        df.to_parquet(os.path.join(folder, f"part-{i}.parquet"), index=False)


def child(mode: str, folder: str) -> None:
    import causalinfer as ci

    t0 = time.perf_counter()
    data = ci.data.ParquetSource(folder) if mode == "engine" else pd.read_parquet(folder)
    r = ci.causal.ipw(data, outcome="y", treatment="t", covariates=COVS)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB on Linux
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "estimate": r.estimate, "std_error": r.std_error}))


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    folder = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="ipw-scale-")
    os.makedirs(folder, exist_ok=True)
    try:
        write(rows, folder)
        out = {}
        for mode in ("engine", "memory"):
            done = subprocess.run([sys.executable, __file__, "--child", mode, folder], capture_output=True, text=True, check=True)
            out[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        e, m = out["engine"], out["memory"]
        print(f"rows {rows:,}, 11 covariates (one with 4 levels), ATE with influence-function SE and diagnostics")
        print(f"DuckDB on Parquet: {e['seconds']:.2f} s, peak {e['peak_mib']:.0f} MiB")
        print(f"in memory (pandas): {m['seconds']:.2f} s including read_parquet, peak {m['peak_mib']:.0f} MiB")
        print(f"time ratio engine/memory {e['seconds'] / m['seconds']:.2f}; memory ratio {e['peak_mib'] / m['peak_mib']:.2f}")
        print(
            f"relative difference: estimate {abs(e['estimate'] / m['estimate'] - 1):.2g}, SE {abs(e['std_error'] / m['std_error'] - 1):.2g}"
        )
    finally:
        if len(sys.argv) <= 2:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
