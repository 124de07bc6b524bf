"""Two-way fixed effects with clustered errors: causalinfer.stats.ols against pyfixest.feols, side by side.

    PYTHONPATH=. .venv/bin/python benchmarks/fe_pyfixest.py --peer-python PATH/TO/venv-with-pyfixest/bin/python

pyfixest is not a project dependency: it runs in its own interpreter (``--peer-python``), on the same simulated
panel (same seed), ``y ~ x1 + x2 | unit + year`` clustered by unit. Each side fits once to compile its numba
kernels, then the best of ``--repeats`` timed fits is reported; the coefficients and standard errors are printed
for both so the comparison is of equal work.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

SIM = """
import numpy as np, pandas as pd
def panel(units, periods, seed):
    rng = np.random.default_rng(seed)
    unit = np.repeat(np.arange(units), periods)
    year = np.tile(np.arange(periods), units)
    a = rng.normal(size=units)[unit]
    g = rng.normal(size=periods)[year]
    x1 = rng.normal(size=unit.size) + a
    x2 = rng.normal(size=unit.size) + g
    y = 0.5 * x1 - 0.2 * x2 + a + g + rng.normal(size=units)[unit] * 0.5 + rng.normal(size=unit.size)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "unit": unit, "year": year})
"""

PEER = (
    SIM
    + """
import json, sys, time, warnings
import pyfixest as pf
units, periods, seed, repeats = map(int, sys.argv[1:5])
df = panel(units, periods, seed)
warnings.simplefilter("ignore")
pf.feols("y ~ x1 + x2 | unit + year", data=df, vcov={"CRV1": "unit"})
best = float("inf")
for _ in range(repeats):
    t = time.perf_counter()
    fit = pf.feols("y ~ x1 + x2 | unit + year", data=df, vcov={"CRV1": "unit"})
    best = min(best, time.perf_counter() - t)
print(json.dumps({"time": best, "coef": fit.coef().tolist(), "se": fit.se().tolist(), "version": pf.__version__}))
"""
)


def ours(units: int, periods: int, seed: int, repeats: int) -> dict:
    namespace: dict = {}
    exec(SIM, namespace)
    df = namespace["panel"](units, periods, seed)
    import causalinfer as ci

    def fit():
        return ci.stats.ols("y ~ x1 + x2 | unit + year", data=df, cov_type="cluster", cluster="unit", cluster_df="G-1")

    fit()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        r = fit()
        best = min(best, time.perf_counter() - t)
    frame = r.to_frame()
    return {"time": best, "coef": frame["estimate"].tolist(), "se": frame["std_error"].tolist()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--peer-python", required=True, help="an interpreter with pyfixest installed")
    ap.add_argument("--units", type=int, default=100_000)
    ap.add_argument("--periods", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    a = ours(args.units, args.periods, args.seed, args.repeats)
    cmd = [args.peer_python, "-c", PEER, str(args.units), str(args.periods), str(args.seed), str(args.repeats)]
    b = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    n = args.units * args.periods
    print(f"two-way FE, {args.units:,} units x {args.periods} periods = {n:,} rows, clustered by unit (best of {args.repeats})")
    print(f"  causalinfer.stats.ols   {a['time']:8.3f} s   coef {a['coef']}   se {a['se']}")
    print(f"  pyfixest {b['version']:<8} feols  {b['time']:8.3f} s   coef {b['coef']}   se {b['se']}")
    print(f"  ratio pyfixest / causalinfer = {b['time'] / a['time']:.2f}  (above 1: causalinfer is faster)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
