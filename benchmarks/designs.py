"""Design estimators against statsmodels, side by side in one run: two-way fixed effects with clustered errors
and 2SLS with robust errors. Prints median times, the ratio, and the largest difference in the numbers.

Usage: python benchmarks/designs.py [--repeats N] [--units N] [--periods N] [--n-iv N]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def timed(func: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--units", type=int, default=300)
    parser.add_argument("--periods", type=int, default=10)
    parser.add_argument("--n-iv", type=int, default=100_000)
    args = parser.parse_args()

    import statsmodels.formula.api as smf
    from statsmodels.sandbox.regression.gmm import IV2SLS

    import causalinfer as ci

    rng = np.random.default_rng(0)
    u = np.repeat(np.arange(args.units), args.periods)
    t = np.tile(np.arange(args.periods), args.units)
    first = rng.integers(2, args.periods + 3, args.units)[u]
    d = (t >= first).astype(float)
    y = rng.normal(size=args.units)[u] + 0.1 * t + d + rng.normal(size=u.size)
    panel = pd.DataFrame({"u": u, "t": t, "d": d, "y": y})

    def ours_twfe() -> tuple[float, float]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = ci.designs.twfe(panel, outcome="y", treatment="d", unit="u", time="t")
        return r.estimate, r.std_error

    def sm_twfe() -> tuple[float, float]:
        fit = smf.ols("y ~ d + C(u) + C(t)", data=panel).fit(cov_type="cluster", cov_kwds={"groups": panel["u"]})
        return float(fit.params["d"]), float(fit.bse["d"])

    n = args.n_iv
    z = rng.normal(size=(n, 2))
    w = rng.normal(size=(n, 3))
    v = rng.normal(size=n)
    dd = z @ [0.5, 0.3] + w @ [0.2, 0.1, 0.0] + v
    yy = 1 + 0.7 * dd + w @ [0.3, -0.2, 0.1] + v + rng.normal(size=n) * (1 + np.abs(w[:, 0]))
    cross = pd.DataFrame({"y": yy, "d": dd, "z1": z[:, 0], "z2": z[:, 1], "w1": w[:, 0], "w2": w[:, 1], "w3": w[:, 2]})

    def ours_iv() -> tuple[float, float]:
        r = ci.designs.iv_2sls(cross, outcome="y", treatment="d", instruments=["z1", "z2"], covariates=["w1", "w2", "w3"], cov_type="HC1")
        return r.estimate, r.std_error

    def sm_iv() -> tuple[float, float]:
        exog = np.column_stack([np.ones(n), dd, w])
        inst = np.column_stack([np.ones(n), z, w])
        fit = IV2SLS(yy, exog, inst).fit()
        # statsmodels' IV2SLS offers no robust covariance: build HC1 from its pieces so the numbers compare
        xhat = inst @ np.linalg.lstsq(inst, exog, rcond=None)[0]
        u_ = yy - exog @ fit.params
        bread = np.linalg.inv(xhat.T @ xhat)
        meat = (xhat * u_[:, None] ** 2).T @ xhat
        cov = bread @ meat @ bread * n / (n - exog.shape[1])
        return float(fit.params[1]), float(np.sqrt(cov[1, 1]))

    for label, ours, theirs, what in (
        (
            f"TWFE, {args.units} units x {args.periods} periods, CR1 by unit",
            ours_twfe,
            sm_twfe,
            "statsmodels OLS with C(unit) + C(time) dummies",
        ),
        (f"2SLS, n = {n}, 2 instruments, 3 controls, HC1", ours_iv, sm_iv, "statsmodels IV2SLS (+ HC1 by hand)"),
    ):
        t_ours, r_ours = timed(ours, args.repeats)
        t_theirs, r_theirs = timed(theirs, args.repeats)
        diff = max(abs(a - b) / abs(b) for a, b in zip(r_ours, r_theirs, strict=True))
        print(label)
        print(f"  {'causalinfer.designs':<50} median {1000 * t_ours:9.1f} ms")
        print(f"  {what:<50} median {1000 * t_theirs:9.1f} ms")
        print(f"  ratio causalinfer / other = {t_ours / t_theirs:.3f}; largest relative difference in (estimate, se) = {diff:.2e}")


if __name__ == "__main__":
    main()
