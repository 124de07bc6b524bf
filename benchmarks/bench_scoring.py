"""Scoring-job speed and memory, side by side with the hand-written way, in one run.

Task: a Parquet file of N rows x 20 numeric + 1 categorical column -> scikit-learn pipeline (one-hot + scaling +
logistic regression) -> class probabilities -> Parquet.

* hand-written: ``pd.read_parquet`` of the whole file, ``predict_proba``, one ``to_parquet``;
* scoring job: ``causalinfer.predict.score(model_file, path, out_dir, outputs="proba")`` at the default chunk size
  (input contract checked per chunk, manifest, one fsynced part per chunk, resumable).

Both write the same columns (row number and one probability per class). Times are the best of ``--repeats``
runs, alternating the two. Peak memory is measured in fresh subprocesses (``VmHWM``) on N and 2N rows.

Run:  python benchmarks/bench_scoring.py            (N = 2,000,000; needs ~3 GB of free disk and RAM)
      python benchmarks/bench_scoring.py --rows 200000 --repeats 1   (quick look)
      python benchmarks/bench_scoring.py --fingerprint 1024   (input fingerprint of a 1 GiB file: the full-file
      SHA-256 a job computes before it starts, beside BLAKE2b and a plain read of the same file)
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
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

N_NUMERIC = 20
LEVELS = [f"level_{i}" for i in range(8)]


def make_parquet(path: Path, n_rows: int, seed: int = 0, block: int = 250_000) -> None:
    """Write the benchmark table block by block (memory stays small while generating)."""
    rng = np.random.default_rng(seed)
    writer = None
    cat_type = pa.dictionary(pa.int8(), pa.string())
    try:
        for start in range(0, n_rows, block):
            n = min(block, n_rows - start)
            cols = {f"x{i}": rng.normal(size=n) for i in range(N_NUMERIC)}
            codes = rng.integers(0, len(LEVELS), size=n).astype("int8")
            table = pa.table(cols)
            table = table.append_column("group", pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(LEVELS)).cast(cat_type))
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def train_model(path: Path, model_path: Path) -> None:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from causalinfer.predict import save_model

    train = pq.ParquetFile(path).read_row_group(0).to_pandas().iloc[:50_000]
    y = (
        train["x0"] + 0.5 * train["x1"] - 0.3 * (train["group"] == "level_3") + np.random.default_rng(1).normal(size=len(train)) > 0
    ).astype(int)
    pre = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["group"]), remainder=StandardScaler())
    model = make_pipeline(pre, LogisticRegression(max_iter=500)).fit(train, y)
    save_model(model, model_path, training_data=train, overwrite=True)


def hand_written(model, src: Path, dest: Path) -> None:
    frame = pd.read_parquet(src)
    proba = model.predict_proba(frame)
    out = pd.DataFrame({"row": np.arange(len(frame), dtype="int64")})
    for j, c in enumerate(model.classes_):
        out[f"proba_{c}"] = proba[:, j]
    out.to_parquet(dest, index=False)


def scoring_job(model_path: Path, src: Path, dest: Path) -> object:
    from causalinfer.predict import score

    return score(model_path, src, dest, outputs="proba", progress=False, overwrite=True)


def child(mode: str, model_path: str, src: str, dest: str) -> None:
    """Run one job in this (fresh) process and print its peak RSS in MiB."""
    if mode == "job":
        scoring_job(Path(model_path), Path(src), Path(dest))
    else:
        from causalinfer.predict import load_model

        hand_written(load_model(model_path), Path(src), Path(dest))
    print(json.dumps({"peak_rss_mib": peak_rss_mib()}))


def peak_rss_mib() -> float:
    """This process's peak resident set size. VmHWM where available: ru_maxrss survives exec and would report
    the benchmark parent's size for a child started from it."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss(mode: str, model_path: Path, src: Path, dest: Path) -> float:
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(model_path), str(src), str(dest)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mib"])


def fingerprint_speed(mib: int, repeats: int) -> None:
    """Time the full-file input fingerprint against a plain read and SHA-256 of the same file."""
    import hashlib

    from causalinfer.predict._sources import file_digest

    work = Path(tempfile.mkdtemp(prefix="bench-fingerprint-"))
    try:
        path = work / "input.csv"
        block = np.random.default_rng(0).integers(48, 58, size=8 << 20, dtype=np.uint8).tobytes()
        with open(path, "wb") as fh:
            for _ in range(mib // 8):
                fh.write(block)
        size = path.stat().st_size

        def plain() -> None:
            with open(path, "rb") as fh:
                while fh.read(8 << 20):
                    pass

        def blake2b() -> None:
            h = hashlib.blake2b()
            with open(path, "rb") as fh:
                while b := fh.read(8 << 20):
                    h.update(b)

        print(f"file: {size / 2**30:.2f} GiB (page cache warm after the first pass); best of {repeats}")
        for label, fn in (
            ("plain read, 8 MiB blocks", plain),
            ("hashlib.blake2b", blake2b),
            ("file_digest (SHA-256)", lambda: file_digest(path)),
        ):
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            print(f"  {label:<28} {min(times):6.2f} s  {size / 2**20 / min(times):7.0f} MiB/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--fingerprint", type=int, metavar="MIB", help="time the input fingerprint of a file of this many MiB")
    args = ap.parse_args()
    if args.fingerprint:
        fingerprint_speed(args.fingerprint, args.repeats)
        return
    if args.child:
        child(*args.child)
        return

    import sklearn

    from causalinfer import __version__
    from causalinfer.predict import load_model

    work = Path(tempfile.mkdtemp(prefix="bench-scoring-"))
    try:
        src, src2 = work / "input.parquet", work / "input2x.parquet"
        t0 = time.perf_counter()
        make_parquet(src, args.rows)
        make_parquet(src2, 2 * args.rows, seed=1)
        model_path = work / "model.skops"
        train_model(src, model_path)
        print(f"causalinfer {__version__}, scikit-learn {sklearn.__version__}, pandas {pd.__version__}, pyarrow {pa.__version__}")
        print(f"input: {args.rows:,} rows x {N_NUMERIC} numeric + 1 categorical column ({src.stat().st_size / 2**20:.0f} MiB Parquet); "
              f"setup {time.perf_counter() - t0:.1f} s; CPUs available: {len(os.sched_getaffinity(0))}")  # fmt: skip
        model = load_model(model_path)

        hand, job = [], []
        result = None
        for _ in range(args.repeats):
            dest = work / "hand.parquet"
            t = time.perf_counter()
            hand_written(model, src, dest)
            hand.append(time.perf_counter() - t)
            dest.unlink()
            t = time.perf_counter()
            result = scoring_job(model_path, src, work / "job")
            job.append(time.perf_counter() - t)
        check_hand = work / "check.parquet"
        hand_written(model, src, check_hand)
        a = pd.read_parquet(check_hand)
        b = pd.read_parquet(work / "job").sort_values("row").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, rtol=0, atol=0)

        print()
        print(f"time (best of {args.repeats})            seconds   ratio")
        print(f"  hand-written read+proba+write  {min(hand):7.2f}    1.00")
        print(f"  scoring job (default chunks)   {min(job):7.2f}    {min(job) / min(hand):.2f}")
        assert result is not None
        d = result.details  # type: ignore[attr-defined]
        print(
            f"  job stages: read-wait {d['seconds_read']:.2f} s, validate {d['seconds_validate']:.2f} s, predict {d['seconds_predict']:.2f} s, "
            f"write {d['seconds_write']:.2f} s; {d['chunks']} chunks of {d['chunk_size']:,} rows; {d['rows_per_second']:,.0f} rows/s"
        )
        print("  outputs identical: yes")

        print()
        print("peak RSS (fresh process)      N rows    2N rows   change")
        for mode, label in (("job", "scoring job"), ("hand", "hand-written")):
            r1 = peak_rss(mode, model_path, src, work / f"{mode}-1" if mode == "job" else work / f"{mode}-1.parquet")
            r2 = peak_rss(mode, model_path, src2, work / f"{mode}-2" if mode == "job" else work / f"{mode}-2.parquet")
            print(f"  {label:<24} {r1:7.0f} MiB {r2:7.0f} MiB  {100 * (r2 - r1) / r1:+6.1f}%")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
