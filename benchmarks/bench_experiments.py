"""A/B analysis on 1,000,000 users in memory: causalinfer.experiments.analyze against gbstats given raw data.

gbstats works on per-variant summaries, so its side is timed end to end as a user would run it: a pandas
group-by computing counts, sums, sums of squares and cross-products, then gbstats' frequentist tests for each
metric (mean, proportion, ratio, CUPED-adjusted mean; absolute and relative lift) and its SRM check. Our side is
one ``analyze`` call on the same frame (SRM check, summaries, both lifts, rendering-ready results). gbstats is
not a dependency: its side runs in another interpreter given by ``--peer-python`` (a virtual environment with
gbstats and pandas), on the same data written to a temporary ``.npz`` file (loading is not timed on either side).

    PYTHONPATH=. python benchmarks/bench_experiments.py --peer-python PATH/TO/venv/bin/python --repeats 5
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
import json, sys, time
import numpy as np, pandas as pd
from gbstats.frequentist.tests import FrequentistConfig, TwoSidedTTest
from gbstats.models.statistics import (ProportionStatistic, RatioStatistic, RegressionAdjustedStatistic,
                                        SampleMeanStatistic, compute_theta)
from gbstats.utils import check_srm

arrays = np.load(sys.argv[1])
frame = pd.DataFrame({k: arrays[k] for k in arrays.files})
repeats = int(sys.argv[2])

def run(frame):
    f = frame.assign(rev2=frame.revenue ** 2, pre2=frame.pre ** 2, revpre=frame.revenue * frame.pre,
                     clicks2=frame.clicks ** 2, sessions2=frame.sessions ** 2, cs=frame.clicks * frame.sessions)
    g = f.groupby("variant").agg(n=("revenue", "size"), rev=("revenue", "sum"), rev2=("rev2", "sum"), pre=("pre", "sum"),
                                 pre2=("pre2", "sum"), revpre=("revpre", "sum"), conv=("converted", "sum"),
                                 clicks=("clicks", "sum"), clicks2=("clicks2", "sum"), sessions=("sessions", "sum"),
                                 sessions2=("sessions2", "sum"), cs=("cs", "sum"))
    srm = check_srm([int(g.n[0]), int(g.n[1])], [0.5, 0.5])
    def mean(v, s, s2): return SampleMeanStatistic(n=int(g.n[v]), sum=float(g[s][v]), sum_squares=float(g[s2][v]))
    out = {"srm": srm}
    for kind in ("absolute", "relative"):
        cfg = FrequentistConfig(difference_type=kind)
        out["mean_" + kind] = TwoSidedTTest(mean(0, "rev", "rev2"), mean(1, "rev", "rev2"), cfg).compute_result().ci
        out["proportion_" + kind] = TwoSidedTTest(ProportionStatistic(n=int(g.n[0]), sum=float(g.conv[0])),
                                                  ProportionStatistic(n=int(g.n[1]), sum=float(g.conv[1])), cfg).compute_result().ci
        ratio = [RatioStatistic(n=int(g.n[v]), m_statistic=mean(v, "clicks", "clicks2"), d_statistic=mean(v, "sessions", "sessions2"),
                                m_d_sum_of_products=float(g.cs[v])) for v in (0, 1)]
        out["ratio_" + kind] = TwoSidedTTest(ratio[0], ratio[1], cfg).compute_result().ci
        ra = [RegressionAdjustedStatistic(n=int(g.n[v]), post_statistic=mean(v, "rev", "rev2"), pre_statistic=mean(v, "pre", "pre2"),
                                          post_pre_sum_of_products=float(g.revpre[v]), theta=0) for v in (0, 1)]
        theta = compute_theta(ra[0], ra[1])
        for r in ra:
            r.theta = theta
        out["cuped_" + kind] = TwoSidedTTest(ra[0], ra[1], cfg).compute_result().ci
    return out

times = []
for _ in range(repeats):
    t0 = time.perf_counter()
    out = run(frame)
    times.append(time.perf_counter() - t0)
print(json.dumps({"times": times, "results": out}))
"""


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    variant = rng.integers(0, 2, n)
    pre = rng.gamma(2.0, 10.0, n)
    return pd.DataFrame(
        {
            "variant": variant,
            "revenue": 0.6 * pre + rng.gamma(2.0, 6.0, n) + 0.3 * variant,
            "pre": pre,
            "converted": (rng.uniform(size=n) < 0.1).astype(np.int64),
            "clicks": rng.poisson(6.0, n),
            "sessions": rng.poisson(3.0, n),
        }
    )


def ours(frame: pd.DataFrame) -> dict[str, list[float]]:
    from causalinfer import experiments as ex

    out: dict[str, list[float]] = {}
    res = ex.analyze(
        frame,
        control=0,
        metrics=[
            ex.mean("revenue", name="mean"),
            ex.proportion("converted", name="proportion"),
            ex.ratio("clicks", "sessions", name="ratio"),
            ex.mean("revenue", name="cuped", covariates="pre"),
        ],
    )
    for name in ("mean", "proportion", "ratio", "cuped"):
        for kind in ("absolute", "relative"):
            e = res[f"{name}: 1"].effect_size(f"{kind} lift")
            out[f"{name}_{kind}"] = [e.ci_low, e.ci_high]  # type: ignore[list-item]
    out["srm"] = res[0].pvalue  # type: ignore[assignment]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--peer-python", required=True, help="interpreter of an environment with gbstats and pandas")
    args = parser.parse_args()
    frame = make_frame(args.rows)
    ours(frame.head(1000))  # warm imports
    times, result = [], {}
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        result = ours(frame)
        times.append(time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "experiment.npz"
        np.savez(path, **{c: frame[c].to_numpy() for c in frame.columns})
        proc = subprocess.run([args.peer_python, "-c", PEER, str(path), str(args.repeats)], capture_output=True, text=True, check=True)
    peer = json.loads(proc.stdout)
    worst = 0.0
    for key, value in peer["results"].items():
        a, b = np.atleast_1d(result[key]), np.atleast_1d(value)
        worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))))
    ours_med, peer_med = statistics.median(times), statistics.median(peer["times"])
    print(f"A/B analysis, {args.rows} users, 2 arms, 4 metrics (mean, proportion, ratio, CUPED), both lifts, SRM")
    print(f"  causalinfer.experiments.analyze (one call)        median {1000 * ours_med:9.1f} ms  (min {1000 * min(times):.1f})")
    print(f"  pandas group-by summaries + gbstats tests          median {1000 * peer_med:9.1f} ms  (min {1000 * min(peer['times']):.1f})")
    print(f"  ratio causalinfer / gbstats = {ours_med / peer_med:.2f}; largest relative difference in CI limits and SRM p = {worst:.2e}")


if __name__ == "__main__":
    main()
