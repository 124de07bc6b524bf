"""Side-by-side timing: causalinfer.stats.quantreg vs statsmodels QuantReg, and causalinfer.stats.lmm vs MixedLM.

Run from the repository root:  PYTHONPATH=. python benchmarks/bench_quantreg.py [--repeats 3]

statsmodels' QuantReg solves the problem approximately by iteratively reweighted least squares; ours solves the
linear programme exactly (HiGHS dual simplex) and moves to the optimal vertex, as quantreg's Barrodale-Roberts
does. The largest difference in the coefficients is printed with each line.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    import causalinfer as ci

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print("quantile regression, tau = 0.5 and 0.9, kernel sandwich standard errors")
    for n, k in ((1_000, 3), (10_000, 5), (50_000, 5)):
        X = rng.normal(size=(n, k))
        y = X @ rng.normal(size=k) + (1 + np.abs(X[:, 0])) * rng.standard_t(4, size=n)
        Xc = sm.add_constant(X)
        for tau in (0.5, 0.9):
            ours = best_of(lambda tau=tau, X=X, y=y: ci.stats.quantreg(X, y, tau=tau, se="ker"), args.repeats)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = best_of(lambda tau=tau, y=y, Xc=Xc: sm.QuantReg(y, Xc).fit(q=tau, max_iter=5000), args.repeats)
                sm_coef = sm.QuantReg(y, Xc).fit(q=tau, max_iter=5000).params
            ci_coef = ci.stats.quantreg(X, y, tau=tau, se="ker").terms["estimate"].to_numpy()
            diff = float(np.max(np.abs(ci_coef - sm_coef)))
            print(
                f"  n={n:>6} k={k} tau={tau}: causalinfer {1e3 * ours:8.1f} ms  statsmodels {1e3 * theirs:8.1f} ms  "
                f"ratio {ours / theirs:5.2f}  max |coef diff| {diff:.1e}"
            )
    print("linear mixed model, random intercept and slope, REML")
    for n, G in ((10_000, 200), (100_000, 1_000)):
        g = rng.integers(0, G, size=n)
        x = rng.normal(size=n)
        b = rng.normal(size=(G, 2)) * [1.0, 0.5]
        df = pd.DataFrame({"g": g, "x": x, "y": 1 + 0.5 * x + b[g, 0] + b[g, 1] * x + rng.normal(size=n)})
        ours = best_of(lambda df=df: ci.stats.lmm("y ~ x", data=df, groups="g", re_formula="x"), args.repeats)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = best_of(lambda df=df: smf.mixedlm("y ~ x", df, groups=df["g"], re_formula="~x").fit(reml=True), args.repeats)
            sm_fe = smf.mixedlm("y ~ x", df, groups=df["g"], re_formula="~x").fit(reml=True).fe_params.to_numpy()
        ci_fe = ci.stats.lmm("y ~ x", data=df, groups="g", re_formula="x").terms["estimate"].to_numpy()
        diff = float(np.max(np.abs(ci_fe - sm_fe)))
        print(
            f"  n={n:>6} groups={G}: causalinfer {1e3 * ours:8.1f} ms  statsmodels MixedLM {1e3 * theirs:8.1f} ms  "
            f"ratio {ours / theirs:5.2f}  max |fixed-effect diff| {diff:.1e}"
        )


if __name__ == "__main__":
    main()
