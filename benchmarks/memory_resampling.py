"""Peak memory of the resampling engine at n = 1,000,000 per sample, default arguments.

Usage::

    python benchmarks/memory_resampling.py           # the two default calls (target: peak RSS < 1 GiB)
    python benchmarks/memory_resampling.py --general # also a callable statistic (general, batched path)

Each call runs in a fresh process; the script prints that process's peak resident set size (which includes
the Python interpreter, numpy, scipy, numba and the 16 MB of data) next to the baseline before the call.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CHILD = """
import resource, time
import numpy as np
import causalinfer as ci
ci.stats.bootstrap(np.arange(50.0), np.arange(50.0)[::-1] + 1, statistic="mean_diff", n_resamples=99, random_state=1)
ci.stats.permutation_test(np.arange(50.0), np.arange(50.0)[::-1] + 1, n_resamples=99, random_state=1)
rng = np.random.default_rng(1)
n = 1_000_000
x = rng.lognormal(0.0, 1.0, n)
y = rng.lognormal(0.0, 1.0, n) + 0.002
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
r = {call}
elapsed = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{{base:.0f}} {{peak:.0f}} {{elapsed:.1f}} {{r.ci_low if r.ci_low is not None else r.pvalue!r}} {{r.ci_high!r}}")
"""

CALLS = {
    "bootstrap(x, y, statistic='mean_diff')  [BCa, 9,999 resamples]": "ci.stats.bootstrap(x, y, statistic='mean_diff')",
    "permutation_test(x, y)                 [mean_diff, 9,999 permutations]": "ci.stats.permutation_test(x, y)",
}
GENERAL = {
    "bootstrap(x, y, statistic=<callable>, method='percentile', n_resamples=999)": (
        "ci.stats.bootstrap(x, y, statistic=lambda a, b, axis=-1: a.mean(axis) - b.mean(axis), method='percentile', n_resamples=999)"
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--general", action="store_true", help="also measure a callable statistic (batched general path)")
    parser.add_argument("--only", choices=("bootstrap", "permutation"), help="measure one of the two default calls")
    args = parser.parse_args()
    calls = {k: v for k, v in CALLS.items() if args.only is None or k.startswith(args.only)}
    if args.general:
        calls.update(GENERAL)
    env = dict(os.environ, PYTHONPATH=ROOT)
    print("n = 1,000,000 per sample; peak RSS of a fresh process (MiB); limit 1024 MiB")
    for label, call in calls.items():
        out = subprocess.run([sys.executable, "-c", CHILD.format(call=call)], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{label}: FAILED\n{out.stderr[-2000:]}")
            continue
        base, peak, elapsed, lo, hi = out.stdout.split()[-5:]
        verdict = "under 1 GiB" if float(peak) < 1024 else "OVER 1 GiB"
        print(f"{label}\n    before call {base} MiB, peak {peak} MiB ({verdict}), {elapsed} s; result {lo} {hi}")


if __name__ == "__main__":
    main()
