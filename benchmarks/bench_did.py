"""callaway_santanna against csdid (Python port of R's did) on one simulated staggered panel with covariates.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_did.py --peer-python /path/to/venv-with-csdid/bin/python

Both compute ATT(g,t) by the doubly robust estimator with never-treated controls, analytic standard errors and the
dynamic aggregation; csdid runs in its own interpreter (it is not a dependency), timed inside that interpreter.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

PEER = """
import sys, time, warnings
import pandas as pd
from csdid.att_gt import ATTgt
warnings.simplefilter("ignore")
df = pd.read_csv(sys.argv[1])
t0 = time.perf_counter()
fit = ATTgt(yname="y", gname="g", idname="id", tname="time", data=df, control_group="nevertreated",
            xformla="~ x1 + x2", cband=False).fit(est_method="dr", bstrap=False)
fit.aggte(typec="dynamic", bstrap=False, cband=False)
print(time.perf_counter() - t0)
"""


def simulate(n_units: int, n_times: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n_units), rng.binomial(1, 0.4, n_units).astype(float)
    g = np.where(rng.uniform(size=n_units) < 1 / (1 + np.exp(-0.5 * x1)), rng.choice(np.arange(3, n_times + 1), n_units), 0)
    unit = np.repeat(np.arange(n_units), n_times)
    time_ = np.tile(np.arange(1, n_times + 1), n_units)
    gu = g[unit]
    d = (gu > 0) & (time_ >= gu)
    y = rng.normal(size=n_units)[unit] + 0.3 * time_ * x1[unit] + d * 1.0 + rng.normal(size=unit.size)
    return pd.DataFrame({"id": unit, "time": time_, "g": gu, "d": d.astype(int), "y": y, "x1": x1[unit], "x2": x2[unit]})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peer-python", required=True)
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--periods", type=int, default=8)
    args = parser.parse_args()
    import causalinfer as ci

    df = simulate(args.units, args.periods)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ci.designs.callaway_santanna(df.head(args.periods * 50), outcome="y", treatment="d", unit="id", time="time", n_boot=0)
        t0 = time.perf_counter()
        ci.designs.callaway_santanna(
            df, outcome="y", treatment="d", unit="id", time="time", covariates=["x1", "x2"], aggregate="dynamic", n_boot=0
        )
        ours = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "panel.csv"
        df.to_csv(path, index=False)
        peer = float(
            subprocess.run([args.peer_python, "-c", PEER, str(path)], capture_output=True, text=True, check=True).stdout.split()[-1]
        )
    print(f"{args.units} units x {args.periods} periods, DR with 2 covariates, dynamic aggregation")
    print(f"  causalinfer callaway_santanna  {ours:8.2f} s")
    print(f"  csdid ATTgt + aggte            {peer:8.2f} s")
    print(f"  ratio csdid / causalinfer = {peer / ours:.1f}")


if __name__ == "__main__":
    main()
