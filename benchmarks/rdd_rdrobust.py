"""rdd (robust bias-corrected, data-driven bandwidth) against the rdrobust Python package on the same data.

rdrobust is not a project dependency: give the interpreter of an environment that has it (and, for its fast
nearest-neighbour loop, numba) with --peer-python; it runs there on the same arrays, saved to a temporary .npz.
Both sides are timed around the estimation call only (rdrobust's numba code is compiled on a small warm-up sample
first). Prints the median times, the ratio and the largest relative difference in the numbers.

Usage: python benchmarks/rdd_rdrobust.py --peer-python PATH [--n 1000000] [--repeats 3] [--vce nn]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

PEER = r"""
import json, statistics, sys, time, warnings
import numpy as np
from rdrobust import rdrobust
arr = np.load(sys.argv[1]); repeats = int(sys.argv[2]); vce = sys.argv[3]
x, y = arr["x"], arr["y"]
warnings.simplefilter("ignore")
rdrobust(y[:2000], x[:2000], c=0.0, vce=vce)  # compile numba code outside the timing
times = []
for _ in range(repeats):
    t = time.perf_counter(); r = rdrobust(y, x, c=0.0, vce=vce); times.append(time.perf_counter() - t)
print(json.dumps({"time": statistics.median(times), "tau_cl": float(r.coef.iloc[0, 0]), "se_rb": float(r.se.iloc[2, 0]),
                  "h": float(r.bws.iloc[0, 0]), "b": float(r.bws.iloc[1, 0]), "ci_rb": [float(v) for v in r.ci.iloc[2]]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--peer-python", required=True, help="python of an environment with rdrobust installed")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vce", default="nn", choices=["nn", "hc0", "hc1", "hc2", "hc3"])
    args = parser.parse_args()

    import causalinfer as ci

    rng = np.random.default_rng(2026)
    x = rng.uniform(-1, 1, args.n)
    y = 0.5 + 0.9 * x - 1.2 * x**2 + 0.8 * x**3 + 1.0 * (x >= 0) + rng.normal(scale=0.4, size=args.n)
    df = pd.DataFrame({"x": x, "y": y})

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rd.npz"
        np.savez(path, x=x, y=y)
        out = subprocess.run(
            [args.peer_python, "-c", PEER, str(path), str(args.repeats), args.vce], check=True, capture_output=True, text=True
        ).stdout
        peer = json.loads(out.strip().splitlines()[-1])

    ci.designs.rdd(df.iloc[:2000], outcome="y", running="x", cutoff=0.0, density=False, vce=args.vce)  # warm imports
    times, r = [], None
    for _ in range(args.repeats):
        t = time.perf_counter()
        r = ci.designs.rdd(df, outcome="y", running="x", cutoff=0.0, density=False, vce=args.vce, n_bins=20)
        times.append(time.perf_counter() - t)
    ours = statistics.median(times)
    mine = {"tau_cl": r.estimate, "se_rb": r.std_error, "h": r.details["bandwidth"], "b": r.details["bias_bandwidth"]}
    diff = max(abs(mine[k] - peer[k]) / abs(peer[k]) for k in mine)
    print(f"robust RD estimate (mserd bandwidth, triangular kernel, vce={args.vce}) on n = {args.n:,} observations")
    print(f"  causalinfer.designs.rdd  {ours:8.2f} s   (median of {args.repeats})")
    print(f"  rdrobust (Python)        {peer['time']:8.2f} s")
    print(f"  ratio rdrobust / causalinfer = {peer['time'] / ours:.2f}  (>1: causalinfer faster)")
    print(f"  largest relative difference in estimate, robust se, h, b: {diff:.1e}")


if __name__ == "__main__":
    main()
