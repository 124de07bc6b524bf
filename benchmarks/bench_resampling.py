"""BCa bootstrap and permutation test of a difference in means: scipy.stats vs causalinfer, side by side.

Usage::

    python benchmarks/bench_resampling.py            # n = 20,000 and 100,000 per sample, 9,999 resamples
    python benchmarks/bench_resampling.py --quick    # n = 20,000 only

For each size it times scipy.stats.bootstrap(method='BCa') and scipy.stats.permutation_test against
causalinfer.stats.bootstrap / permutation_test on the same data, prints the ratio, and checks that the
answers agree within Monte Carlo error. scipy is given a ``batch`` size: its default computes all
resamples at once, which needs tens of GiB at these sizes. causalinfer runs with default arguments.

Compile time is reported separately: "cold, empty cache" is a fresh process that compiles the numba
kernels; "cold, cached" is a fresh process loading them from the on-disk cache; the timed runs are warm.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import causalinfer as ci  # noqa: E402

B = 9999


def mean_diff(x, y, axis=-1):
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def cold_start() -> tuple[float, float]:
    """Seconds for a fresh process to import and run both functions once on small data: empty cache, then cached."""
    code = (
        "import time; t=time.perf_counter(); import numpy as np, causalinfer as ci; "
        "x=np.arange(50.0); y=x[::-1]+1; "
        "ci.stats.bootstrap(x, y, statistic='mean_diff', n_resamples=99, random_state=1); "
        "ci.stats.permutation_test(x, y, n_resamples=99, random_state=1); print(time.perf_counter()-t)"
    )
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = []
    with tempfile.TemporaryDirectory() as cache:
        env["NUMBA_CACHE_DIR"] = cache
        for _ in range(2):
            res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
            out.append(float(res.stdout.strip().splitlines()[-1]))
    return out[0], out[1]


def bench(n: int, scipy_batch: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.lognormal(0.0, 1.0, n)
    y = rng.lognormal(0.0, 1.0, n) + 0.02 * math.sqrt(20_000 / n)  # a small shift: a p-value that is not 1/(B+1)
    print(f"\n== n = {n:,} per sample, {B:,} resamples (scipy batch = {scipy_batch}) ==")

    # ---- BCa bootstrap
    ours, t_ours = timed(lambda: ci.stats.bootstrap(x, y, statistic="mean_diff", method="BCa", n_resamples=B, random_state=1))
    ref, t_ref = timed(
        lambda: stats.bootstrap(
            (x, y), mean_diff, method="BCa", n_resamples=B, vectorized=True, batch=scipy_batch, random_state=np.random.default_rng(2)
        )
    )
    mc = ours.details["monte_carlo"].set_index("quantity")["mc_std_error"]
    z_lo = (ours.ci_low - ref.confidence_interval.low) / (float(mc["ci_low"]) * math.sqrt(2))
    z_hi = (ours.ci_high - ref.confidence_interval.high) / (float(mc["ci_high"]) * math.sqrt(2))
    print(f"BCa bootstrap     scipy {t_ref:8.2f} s   causalinfer {t_ours:6.2f} s   ratio {t_ref / t_ours:6.1f}x")
    print(f"  scipy CI        [{ref.confidence_interval.low:.6f}, {ref.confidence_interval.high:.6f}]")
    print(f"  causalinfer CI  [{ours.ci_low:.6f}, {ours.ci_high:.6f}]  (MC SE {float(mc['ci_low']):.1e}, {float(mc['ci_high']):.1e})")
    print(
        f"  difference in combined MC SEs: low {z_lo:+.2f}, high {z_hi:+.2f}  -> {'agree' if max(abs(z_lo), abs(z_hi)) < 4 else 'DISAGREE'}"
    )

    # ---- permutation test
    pours, t_pours = timed(lambda: ci.stats.permutation_test(x, y, statistic="mean_diff", n_resamples=B, random_state=1))
    pref, t_pref = timed(
        lambda: stats.permutation_test(
            (x, y), mean_diff, n_resamples=B, vectorized=True, batch=scipy_batch, random_state=np.random.default_rng(2)
        )
    )
    se = math.sqrt(2) * float(pours.details["monte_carlo"]["mc_std_error"].iloc[0])
    zp = (pours.pvalue - pref.pvalue) / se if se > 0 else 0.0
    print(f"permutation test  scipy {t_pref:8.2f} s   causalinfer {t_pours:6.2f} s   ratio {t_pref / t_pours:6.1f}x")
    print(
        f"  p-value scipy {pref.pvalue:.4f}, causalinfer {pours.pvalue:.4f} (MC SE {se / math.sqrt(2):.4f}); "
        f"difference {zp:+.2f} combined MC SEs -> {'agree' if abs(zp) < 4 else 'DISAGREE'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 20,000 only")
    args = parser.parse_args()
    import numba

    print(
        f"numpy {np.__version__}, scipy {stats.__name__ and __import__('scipy').__version__}, numba {numba.__version__}, "
        f"threads {numba.get_num_threads()}, causalinfer {ci.__version__}"
    )
    cold_empty, cold_cached = cold_start()
    print(
        f"cold start (import + first bootstrap + first permutation test, fresh process): "
        f"empty cache {cold_empty:.1f} s (numba compiles the kernels), cached {cold_cached:.1f} s"
    )
    # warm up in this process (not timed): the timings below exclude compilation
    w = np.arange(50.0)
    ci.stats.bootstrap(w, w[::-1] + 1, statistic="mean_diff", n_resamples=99, random_state=1)
    ci.stats.permutation_test(w, w[::-1] + 1, n_resamples=99, random_state=1)
    sizes = [20_000] if args.quick else [20_000, 100_000]
    for n in sizes:
        bench(n, scipy_batch=100)


if __name__ == "__main__":
    main()
