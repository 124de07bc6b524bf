"""A/B analysis of a large Parquet file: inside DuckDB (``experiments.ParquetSource``) against pandas reading the file.

The data: N rows (user, variant, 10 metric columns, one pre-period covariate) written to one Parquet file in row
groups of 1,000,000 rows. The analysis, the same on both sides: SRM check, six mean metrics with CUPED on the
covariate, two proportions and one ratio metric (clicks per session), both lifts, two treatments against the
control. The engine side is ``experiments.analyze(experiments.ParquetSource(path), ...)``: DuckDB scans the file
twice (checks and column means, then the shifted sums and cross-products) and returns one row per variant. The
pandas side is ``pandas.read_parquet`` of the used columns followed by ``experiments.analyze`` on the frame, and
a second pandas side computes the very aggregates of the DuckDB query by hand (shifted columns, the needed products,
``groupby("variant").sum()``) and analyses those summaries. Each
side runs in a fresh process, so the peak resident memory (``getrusage``) is that side's alone; the memory before
the call (interpreter, numpy, pandas, duckdb imported) is printed as well.

    PYTHONPATH=. python benchmarks/bench_experiments_engine.py --rows 10000000
    PYTHONPATH=. python benchmarks/bench_experiments_engine.py --rows 100000000 --skip-pandas

Both sides get the same thread budget (``--threads``, default 2): DuckDB runs one thread per core (the number is
printed), Arrow's decoding pools and BLAS on the pandas side are set to ``--threads``. Wall times are printed with
the CPU times (user + system, all threads), which a machine shared with other jobs disturbs much less.

``--dir`` chooses where the Parquet file is written (a temporary folder by default; removed afterwards unless
``--keep``); an existing file of the right size there is reused.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHUNK = 1_000_000
MEANS = [f"m{i}" for i in range(6)]
PROPORTIONS = ["conv1", "conv2"]


def _cpu_seconds() -> float:
    """User plus system CPU time of this process: steadier than wall time on a machine shared with other jobs."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux


def write_data(path: Path, rows: int, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    labels = pa.array(["control", "b", "c"])
    writer = None
    try:
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            user = np.arange(start, start + n, dtype=np.int64)
            code = rng.integers(0, 3, n).astype(np.int8)
            pre = rng.gamma(2.0, 10.0, n)
            cols = {"user": user, "variant": pa.DictionaryArray.from_arrays(pa.array(code), labels)}
            for i, m in enumerate(MEANS):
                cols[m] = 0.5 * pre + rng.gamma(2.0, 5.0 + i, n) + 0.2 * (code == 1)
            for i, m in enumerate(PROPORTIONS):
                cols[m] = (rng.uniform(size=n) < 0.1 + 0.05 * i + 0.005 * (code == 2)).astype(np.int8)
            sessions = rng.integers(1, 8, n).astype(np.int32)
            cols["clicks"] = rng.binomial(sessions, 0.3).astype(np.int32)
            cols["sessions"] = sessions
            cols["pre"] = pre
            table = pa.table(cols)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=CHUNK)
    finally:
        if writer is not None:
            writer.close()


def _metrics():
    from causalinfer import experiments as ex

    return (
        [ex.mean(m, covariates="pre") for m in MEANS]
        + [ex.proportion(m) for m in PROPORTIONS]
        + [ex.ratio("clicks", "sessions", name="clicks per session")]
    )


def run_side(side: str, path: str) -> dict:
    """One side in this (fresh) process: time, peak memory and the numbers for the comparison."""
    import pandas as pd
    import pyarrow as pa

    from causalinfer import experiments as ex

    threads = int(os.environ.get("BENCH_THREADS", "2"))
    pa.set_cpu_count(threads)  # pandas.read_parquet decodes with Arrow's thread pools
    pa.set_io_thread_count(threads)
    if side == "duckdb":
        import duckdb  # (imported before the baseline, as pandas is)

        # ParquetSource opens its own connection, which runs one thread per core; say how many that is
        engine_threads = int(duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0])
    else:
        engine_threads = pa.cpu_count()
    # a warm-up analysis of a small frame, so that lazy imports and first-call costs (the same on both sides) are
    # not timed
    rng = np.random.default_rng(1)
    small = pd.DataFrame({c: rng.integers(0, 2, 300) for c in [*MEANS, *PROPORTIONS, "clicks", "pre"]})
    small["sessions"] = 1 + small["clicks"]
    small["variant"] = np.repeat(["control", "b", "c"], 100)
    ex.analyze(small, metrics=_metrics())
    before = _rss_mib()
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    if side == "duckdb":
        res = ex.analyze(ex.ParquetSource(path), metrics=_metrics())
    elif side == "read-only":  # the floor: decoding the used columns into a frame, no analysis at all
        frame = pd.read_parquet(path, columns=["variant", *MEANS, *PROPORTIONS, "clicks", "sessions", "pre"])
        seconds = time.perf_counter() - t0
        return {
            "seconds": seconds,
            "cpu": _cpu_seconds() - cpu0,
            "before_mib": before,
            "peak_mib": _rss_mib(),
            "rows": len(frame),
            "threads": engine_threads,
        }
    elif side == "pandas-groupby":
        res = ex.analyze(_pandas_summaries(path), metrics=_metrics())
    else:
        cols = ["variant", *MEANS, *PROPORTIONS, "clicks", "sessions", "pre"]
        frame = pd.read_parquet(path, columns=cols)
        res = ex.analyze(frame, metrics=_metrics())
    seconds = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu0
    numbers = [[r.estimate, r.std_error] for r in list(res)[1:]]
    return {
        "seconds": seconds,
        "cpu": cpu,
        "before_mib": before,
        "peak_mib": _rss_mib(),
        "numbers": numbers,
        "srm_p": next(iter(res)).pvalue,
        "threads": engine_threads,
    }


def _pandas_summaries(path: str):
    """The hand-written pandas route: read the columns, shift them, add the needed products, ``groupby().sum()``.

    Exactly the aggregates the DuckDB query computes (30 sums and the count per variant, around the means of the
    first 10,000 rows), so both sides do the same arithmetic; the summaries then go to ``analyze``.
    """
    import pandas as pd

    from causalinfer import experiments as ex
    from causalinfer.experiments._inputs import _unit_variables

    variables = [*MEANS, *PROPORTIONS, "clicks", "sessions", "pre"]
    _, products = _unit_variables(_metrics(), variables[:-1], ["pre"], None)
    names = list(ex.sql_aggregates(variables, products))
    frame = pd.read_parquet(path, columns=["variant", *variables])
    shift = frame[variables].iloc[:10_000].mean()
    work = pd.DataFrame({f"sum({v})": frame[v].astype(float) - shift[v] for v in variables})
    for name in names:
        if "*" in name:
            u, v = name[4:-1].split("*")
            work[name] = work[f"sum({u})"] * work[f"sum({v})"]
    work["variant"] = frame["variant"]
    del frame
    grouped = work.groupby("variant", observed=True)
    table = grouped.sum().assign(n=grouped.size()).reset_index()
    table["variant"] = table["variant"].astype(str)
    return ex.Summaries.from_table(table[["variant", *names]], shift=shift.to_dict())


def _child(side: str, path: Path, threads: int) -> dict:
    env = dict(os.environ)
    # the same thread budget for both sides: Arrow's pools (above), and BLAS for the pandas route's products
    env.update(BENCH_THREADS=str(threads), OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    done = subprocess.run(
        [sys.executable, __file__, "--side", side, "--file", str(path)], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{side} side failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--dir", type=Path, default=None, help="folder for the Parquet file (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the Parquet file")
    ap.add_argument("--threads", type=int, default=2, help="threads for Arrow and BLAS on the pandas side (DuckDB: one per core)")
    ap.add_argument("--skip-pandas", action="store_true", help="only the DuckDB side (when the frame would not fit in memory)")
    ap.add_argument("--side", choices=["duckdb", "pandas", "pandas-groupby", "read-only"], help=argparse.SUPPRESS)
    ap.add_argument("--file", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.side:
        print(json.dumps(run_side(args.side, args.file)))
        return

    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench-experiments-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"experiment_{args.rows}.parquet"
    try:
        if not path.exists():
            t0 = time.perf_counter()
            write_data(path, args.rows)
            print(f"wrote {args.rows:,} rows to Parquet ({path.stat().st_size / 2**30:.2f} GiB) in {time.perf_counter() - t0:.1f} s")
        print(f"A/B analysis of {args.rows:,} rows: 3 arms, 6 CUPED means, 2 proportions, 1 ratio, both lifts, SRM")
        duck = _child("duckdb", path, args.threads)
        print(
            f"  DuckDB in-engine (ParquetSource)         {duck['seconds']:8.1f} s ({duck['cpu']:.1f} s CPU)   peak RSS {duck['peak_mib']:8.0f} MiB"
            f"  (before the call {duck['before_mib']:.0f} MiB; {duck['threads']} DuckDB threads)"
        )
        if args.skip_pandas:
            return
        floor = _child("read-only", path, args.threads)
        print(
            f"  (pandas.read_parquet alone, no analysis   {floor['seconds']:8.1f} s ({floor['cpu']:.1f} s CPU)   peak RSS {floor['peak_mib']:8.0f} MiB:"
            f" the decoding both sides do; {floor['threads']} Arrow threads)"
        )
        a = np.array(duck["numbers"], float)
        for side, label in (
            ("pandas", "pandas.read_parquet + analyze(frame)   "),
            ("pandas-groupby", "pandas.read_parquet + groupby().sum()  "),
        ):
            pand = _child(side, path, args.threads)
            print(
                f"  {label}   {pand['seconds']:8.1f} s ({pand['cpu']:.1f} s CPU)   peak RSS {pand['peak_mib']:8.0f} MiB"
                f"  (before the call {pand['before_mib']:.0f} MiB)"
            )
            b = np.array(pand["numbers"], float)
            rel = float(np.max(np.abs(a - b) / np.abs(b)))
            print(
                f"    ratio {side} / DuckDB: time {pand['seconds'] / duck['seconds']:.1f}x (CPU {pand['cpu'] / duck['cpu']:.1f}x), peak memory "
                f"{pand['peak_mib'] / duck['peak_mib']:.1f}x (above the baseline: "
                f"{(pand['peak_mib'] - pand['before_mib']) / max(duck['peak_mib'] - duck['before_mib'], 1):.1f}x); "
                f"largest relative difference in estimates and standard errors {rel:.1e}"
            )
    finally:
        if not args.keep:
            if args.dir is None:
                shutil.rmtree(folder, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
