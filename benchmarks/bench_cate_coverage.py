"""Per-unit interval coverage of CATE models by decile of the true effect (seeded simulation with a known CATE).

Causal forest: effect tau(x) = 1{x1 > 0} + 0.5 x2, propensity logistic in x0, outcome x0 + x3 + T tau(x) + N(0, 1),
p = 5 covariates; intervals of the training units (out of bag) and of fresh units. DR-learner with a linear
final stage: tau(x) = 0.2 + x1 (in the span of the final stage, so the projection is the CATE), same design.
Nuisance models: linear and logistic regression (2-fold cross-fitting). Coverage is the share of units whose 95%
interval holds their true effect, pooled over replications, by decile of the true effect.

Run:  python benchmarks/bench_cate_coverage.py --reps-forest 10 --reps-dr 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalinfer.designs import CausalForest, DRLearner


def simulate(n: int, seed: int, linear: bool) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 5)), columns=[f"x{j}" for j in range(5)])
    t = (rng.random(n) < 1 / (1 + np.exp(-0.5 * X["x0"].to_numpy()))).astype(int)
    tau = 0.2 + X["x1"].to_numpy() if linear else (X["x1"].to_numpy() > 0) + 0.5 * X["x2"].to_numpy()
    y = X["x0"].to_numpy() + X["x3"].to_numpy() + t * tau + rng.normal(size=n)
    return X, y, t, tau


def by_decile(hits: list[np.ndarray], taus: list[np.ndarray]) -> pd.Series:
    h, tau = np.concatenate(hits), np.concatenate(taus)
    out = pd.Series(h).groupby(pd.qcut(tau, 10, labels=False)).mean()
    out["all"] = h.mean()
    return out


def covered(iv: np.ndarray, tau: np.ndarray) -> np.ndarray:
    return (iv[:, 0] <= tau) & (tau <= iv[:, 1])


def run(model_factory, reps: int, n: int, linear: bool) -> pd.DataFrame:
    hin, tin, hout, tout = [], [], [], []
    for r in range(reps):
        X, y, t, tau = simulate(n, 1000 + r, linear)
        Xn, _, _, taun = simulate(n, 5000 + r, linear)
        m = model_factory(r).fit(X, y, t)
        # the forest's training units out of bag (grf's predict() without newdata); the DR-learner's by its projection
        hin.append(covered(m.effect_interval() if hasattr(m, "oob_effect_") else m.effect_interval(X), tau))
        tin.append(tau)
        hout.append(covered(m.effect_interval(Xn), taun))
        tout.append(taun)
    return pd.DataFrame({"training units": by_decile(hin, tin), "new units": by_decile(hout, tout)})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps-forest", type=int, default=10)
    ap.add_argument("--reps-dr", type=int, default=200)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--trees", type=int, default=1000)
    a = ap.parse_args()
    t0 = time.perf_counter()
    forest = run(
        lambda r: CausalForest(a.trees, outcome_model=LinearRegression(), propensity_model=LogisticRegression(), n_folds=2, random_state=r),
        a.reps_forest,
        a.n,
        linear=False,
    )
    dr = run(
        lambda r: DRLearner(LinearRegression(), LogisticRegression(), final_model="linear", n_folds=2, random_state=r),
        a.reps_dr,
        a.n,
        linear=True,
    )
    table = pd.concat({"CausalForest": forest, "DRLearner (linear)": dr}, axis=1)
    table.index.name = "decile of true effect"
    print(f"95% interval coverage by decile of the true effect; n = {a.n}, forest {a.reps_forest} x {a.trees} trees, DR {a.reps_dr} reps")
    print(table.round(3).to_string())
    print(f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
