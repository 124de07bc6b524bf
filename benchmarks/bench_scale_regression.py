"""OLS with cluster-robust errors and a logit on a Parquet file larger than it is comfortable to load, side by side.

Runs each task in its own process so its peak resident memory (``ru_maxrss``) is its own:

* ``engine-ols`` / ``engine-logit``: ``stats.ols(..., cov_type="cluster")`` and ``stats.logit`` on a
  :class:`causalinfer.data.ParquetSource` (sums computed inside DuckDB, nothing loaded);
* ``sm-sample-ols`` / ``sm-sample-logit``: statsmodels on a 10% sample of the rows, loaded with pandas;
* ``sm-full-ols``: statsmodels on the whole file (pandas ``read_parquet`` and a dense model matrix); with
  ``--cap-gib`` the process's address space is capped first to show what happens on a machine with that much memory;
* ``dask-ols`` / ``memory-ols``: a dask ``LocalCluster`` with 2 workers against the in-memory path on the same rows.

Usage::

    python benchmarks/bench_scale_regression.py --rows 10000000 --dir DIR [--tasks all] [--cap-gib 2]

The data (10 covariates, one far from zero, 10,000 clusters, a continuous and a 0/1 outcome) are written once to
``DIR/rows-<n>.parquet`` in row groups of 1,000,000; delete ``DIR`` afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

K = 10
FORMULA = "y ~ " + " + ".join(f"x{j}" for j in range(K))
LOGIT = "b ~ " + " + ".join(f"x{j}" for j in range(K))


def generate(path: str, rows: int, seed: int = 1) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    beta = np.linspace(-0.5, 0.5, K)
    effects = rng.normal(scale=0.5, size=10_000)
    writer = None
    done = 0
    while done < rows:
        m = min(1_000_000, rows - done)
        X = rng.normal(size=(m, K))
        X[:, 0] += 50.0  # a covariate far from zero
        cl = rng.integers(0, 10_000, m)
        lin = (X - np.r_[50.0, np.zeros(K - 1)]) @ beta
        cols = {f"x{j}": X[:, j] for j in range(K)}
        cols["cl"] = cl
        cols["y"] = 1.0 + lin + effects[cl] + rng.normal(size=m)
        cols["b"] = (rng.uniform(size=m) < 1.0 / (1.0 + np.exp(-lin))).astype(np.int64)
        table = pa.table(cols)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=1_000_000)
        done += m
    assert writer is not None
    writer.close()


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kilobytes on Linux


def task(name: str, path: str, cap_gib: float | None) -> dict:
    import pandas as pd

    import causalinfer as ci

    if cap_gib:
        limit = int(cap_gib * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    t0 = time.perf_counter()
    out: dict = {"task": name}
    if name == "engine-ols":
        r = ci.stats.ols(FORMULA, data=ci.data.ParquetSource(path), cov_type="cluster", cluster="cl")
        out["coef"] = r.coef.tolist()
        out["se"] = r.terms["std_error"].tolist()
    elif name == "engine-logit":
        r = ci.stats.logit(LOGIT, data=ci.data.ParquetSource(path))
        out["coef"] = r.coef.tolist()
        out["se"] = r.terms["std_error"].tolist()
        out["iterations"] = r.fit["iterations"]
    elif name.startswith("sm-"):
        import statsmodels.api as sm

        if name.startswith("sm-sample"):
            import duckdb

            frame = duckdb.sql(f"SELECT * FROM read_parquet('{path}') USING SAMPLE 10 PERCENT (bernoulli, 7)").df()
        else:
            frame = pd.read_parquet(path)
        out["rows"] = len(frame)
        X = sm.add_constant(frame[[f"x{j}" for j in range(K)]].to_numpy())
        if name.endswith("ols"):
            fit = sm.OLS(frame["y"].to_numpy(), X).fit(cov_type="cluster", cov_kwds={"groups": frame["cl"].to_numpy()})
        else:
            fit = sm.Logit(frame["b"].to_numpy(), X).fit(disp=0)
        out["coef"] = fit.params.tolist()
        out["se"] = fit.bse.tolist()
    elif name in ("dask-ols", "memory-ols"):
        if name == "memory-ols":
            frame = pd.read_parquet(path)
            t0 = time.perf_counter()  # the fit alone; loading is timed apart
            r = ci.stats.ols(FORMULA, data=frame, cov_type="cluster", cluster="cl")
        else:
            import dask.dataframe as dd
            import distributed

            with (
                distributed.LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
                distributed.Client(cluster),
            ):
                ddf = dd.read_parquet(path)
                t0 = time.perf_counter()
                r = ci.stats.ols(FORMULA, data=ddf, cov_type="cluster", cluster="cl")
        out["coef"] = r.coef.tolist()
        out["se"] = r.terms["std_error"].tolist()
    out["seconds"] = time.perf_counter() - t0
    out["peak_gib"] = _peak_gib()
    return out


def run(name: str, path: str, cap_gib: float | None) -> dict:
    cmd = [sys.executable, __file__, "--task", name, "--file", path] + (["--cap-gib", str(cap_gib)] if cap_gib else [])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"task": name, "failed": tail[:300], "returncode": done.returncode}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "causalinfer-bench-scale"))
    ap.add_argument("--tasks", default="engine-ols,engine-logit,sm-sample-ols,sm-sample-logit,sm-full-ols,dask-ols,memory-ols")
    ap.add_argument("--cap-gib", type=float, default=None, help="address-space cap for sm-full-ols")
    ap.add_argument("--task", help=argparse.SUPPRESS)
    ap.add_argument("--file", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.task:
        print(json.dumps(task(args.task, args.file, args.cap_gib)))
        return
    os.makedirs(args.dir, exist_ok=True)
    path = os.path.join(args.dir, f"rows-{args.rows}.parquet")
    if not os.path.exists(path):
        t = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t:.0f} s ({os.path.getsize(path) / 2**30:.2f} GiB)", flush=True)
    results = {}
    for name in args.tasks.split(","):
        results[name] = run(name, path, args.cap_gib if name == "sm-full-ols" else None)
        r = results[name]
        if "failed" in r:
            print(f"{name:16s} FAILED: {r['failed']}", flush=True)
        else:
            print(
                f"{name:16s} {r['seconds']:8.1f} s   peak {r['peak_gib']:.2f} GiB" + (f"   rows {r['rows']:,}" if "rows" in r else ""),
                flush=True,
            )
    _compare(results)


def _compare(results: dict) -> None:
    def diff(a: str, b: str, key: str) -> str:
        if a not in results or b not in results or "failed" in results[a] or "failed" in results[b]:
            return "n/a"
        x, y = np.array(results[a][key]), np.array(results[b][key])
        return f"{float(np.max(np.abs(x - y) / np.abs(y))):.1e}"

    for a, b in (
        ("engine-ols", "sm-sample-ols"),
        ("engine-logit", "sm-sample-logit"),
        ("engine-ols", "sm-full-ols"),
        ("dask-ols", "memory-ols"),
    ):
        print(f"{a} vs {b}: max relative difference, coefficients {diff(a, b, 'coef')}, std errors {diff(a, b, 'se')}")
    for a, b in (("engine-ols", "sm-sample-ols"), ("engine-logit", "sm-sample-logit"), ("dask-ols", "memory-ols")):
        if a in results and b in results and "seconds" in results[a] and "seconds" in results[b]:
            print(f"time ratio {a} / {b}: {results[a]['seconds'] / results[b]['seconds']:.2f}")


if __name__ == "__main__":
    main()
