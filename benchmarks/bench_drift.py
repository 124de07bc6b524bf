"""Drift check of 1,000,000 current rows x 20 features against a stored profile, beside scipy's ks_2samp per feature.

Run from the repository root::

    python benchmarks/bench_drift.py [--rows 1000000] [--features 20] [--repeats 3]

Both sides compare the same data: the profile's stored reference sample (20,000 values per feature) against all
current rows. causalinfer computes KS (statistic and p-value), PSI, Jensen-Shannon and normalised Wasserstein for
every feature in one pass over the rows; scipy computes the KS test only.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from scipy import stats

from causalinfer.predict import Profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--reference-rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    cols = [f"f{i:02d}" for i in range(args.features)]
    ref = pd.DataFrame(rng.normal(size=(args.reference_rows, args.features)), columns=cols)
    cur = pd.DataFrame(rng.normal(0.02, 1.0, size=(args.rows, args.features)), columns=cols)

    t0 = time.perf_counter()
    profile = Profile.build(ref)
    stored = Profile.from_json(profile.to_json())  # as it would be read back beside a model
    build_s = time.perf_counter() - t0

    ours, theirs = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        result = stored.check(cur)
        ours.append(time.perf_counter() - t0)

        t0 = time.perf_counter()
        ks = []
        for c in cols:
            f = stored[c]
            ks.append(stats.ks_2samp(np.repeat(f.values, f.value_counts), cur[c].to_numpy(), method="asymp"))
        theirs.append(time.perf_counter() - t0)

    table = result.table.set_index("feature")
    max_diff = max(abs(table.loc[c, "statistic"] - k.statistic) for c, k in zip(cols, ks, strict=True))
    a, b = min(ours), min(theirs)
    print(f"current data: {args.rows:,} rows x {args.features} features; reference profile from {args.reference_rows:,} rows")
    print(f"profile build + JSON round trip                   {build_s:8.3f} s")
    print(f"causalinfer Profile.check (KS, PSI, JS, W1)       {a:8.3f} s  (best of {args.repeats})")
    print(f"scipy.stats.ks_2samp per feature (KS only)        {b:8.3f} s  (best of {args.repeats})")
    print(f"ratio causalinfer / scipy = {a / b:.2f}; max |KS statistic difference| = {max_diff:.2e}")
    print(f"columns flagged: {len(result.alerts)} of {args.features}")


if __name__ == "__main__":
    main()
