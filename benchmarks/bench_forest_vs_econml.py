"""Causal forest with per-unit intervals: causalinfer.designs.CausalForest vs EconML 0.17 CausalForestDML.

Same simulated data for both (p standard-normal covariates, logistic propensity in x0, effect
tau(x) = 1{x1 > 0} + 0.5 x2, outcome x0 + x3 + T tau(x) + N(0, 1)), same nuisance models (linear regression and
logistic regression, 2-fold cross-fitting), same forest settings: n_trees trees, subsamples of 45% of the units,
honest halves, at least 5 units per leaf, every covariate tried at each split, half-sample groups of 2 trees for
the intervals (EconML: subforest_size=2, inference=True), two threads each. Timed: fit plus effect and 95%
interval on a fresh test set. Reported: seconds, RMSE of the CATE against the truth on the test set, share of
test units whose interval covers their true effect, and the ratio of times.

EconML runs in its own interpreter (``--peer-python``, a virtual environment with econml==0.17.*); the data go
to it through a temporary .npz file.

Run:  python benchmarks/cate_forest_econml.py --n 100000 --p 20 --trees 2000 --peer-python PATH/TO/python
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_data(n: int, p: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    t = (rng.random(n) < 1 / (1 + np.exp(-0.5 * x[:, 0]))).astype(float)
    tau = (x[:, 1] > 0) + 0.5 * x[:, 2]
    y = x[:, 0] + x[:, 3] + t * tau + rng.normal(size=n)
    return {"x": x, "t": t, "y": y, "tau": tau}


def cpu_seconds() -> float:
    """Processor time of this process and its waited-for children, all threads, user + system."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def summary(est: np.ndarray, lo: np.ndarray, hi: np.ndarray, tau: np.ndarray) -> dict[str, float]:
    return {"rmse": float(np.sqrt(np.mean((est - tau) ** 2))), "coverage": float(np.mean((lo <= tau) & (tau <= hi)))}


def run_ours(train: dict, test: dict, trees: int) -> dict[str, float]:
    import pandas as pd
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalinfer.designs import CausalForest

    cols = [f"x{j}" for j in range(train["x"].shape[1])]
    X, Xt = pd.DataFrame(train["x"], columns=cols), pd.DataFrame(test["x"], columns=cols)
    small = CausalForest(8, outcome_model=LinearRegression(), propensity_model=LogisticRegression(), n_folds=2)
    small.fit(X.head(500), train["y"][:500], train["t"][:500]).effect_frame(Xt.head(10))  # compile (cached) first
    t0, c0 = time.perf_counter(), cpu_seconds()
    m = CausalForest(
        trees, outcome_model=LinearRegression(), propensity_model=LogisticRegression(max_iter=1000), n_folds=2,
        sample_fraction=0.45, min_samples_leaf=5, mtry=X.shape[1], n_jobs=2, oob=False, random_state=0,
    ).fit(X, train["y"], train["t"])  # fmt: skip
    fr = m.effect_frame(Xt)
    seconds, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    return {
        "seconds": seconds,
        "cpu": cpu,
        **summary(fr["effect"].to_numpy(), fr["ci_low"].to_numpy(), fr["ci_high"].to_numpy(), test["tau"]),
    }


def run_econml(path: str, trees: int) -> dict[str, float]:
    from econml.dml import CausalForestDML
    from sklearn.linear_model import LinearRegression, LogisticRegression

    d = np.load(path)
    t0, c0 = time.perf_counter(), cpu_seconds()
    m = CausalForestDML(
        model_y=LinearRegression(), model_t=LogisticRegression(max_iter=1000), discrete_treatment=True, cv=2,
        n_estimators=trees, max_samples=0.45, min_samples_leaf=5, max_features=1.0, honest=True, inference=True,
        subforest_size=2, n_jobs=2, random_state=0,
    ).fit(d["y"], d["t"], X=d["x"])  # fmt: skip
    est = m.effect(d["x_test"])
    lo, hi = m.effect_interval(d["x_test"], alpha=0.05)
    seconds, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    return {"seconds": seconds, "cpu": cpu, **summary(est, lo, hi, d["tau_test"])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--p", type=int, default=20)
    ap.add_argument("--trees", type=int, default=2000)
    ap.add_argument("--n-test", type=int, default=10_000)
    ap.add_argument("--peer-python", default=None, help="interpreter of an environment with econml==0.17.*")
    ap.add_argument("--skip-ours", action="store_true", help="run only the EconML side")
    ap.add_argument("--econml-worker", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.econml_worker:
        print(json.dumps(run_econml(a.econml_worker, a.trees)))
        return
    train, test = make_data(a.n, a.p, 1), make_data(a.n_test, a.p, 2)
    print(f"causal forest, n = {a.n}, p = {a.p}, {a.trees} trees, test set {a.n_test} rows", flush=True)
    ours = None if a.skip_ours else run_ours(train, test, a.trees)
    if ours:
        print(
            f"  causalinfer CausalForest   {ours['seconds']:9.1f} s ({ours['cpu']:8.1f} s CPU)   RMSE {ours['rmse']:.4f}   coverage {ours['coverage']:.3f}",
            flush=True,
        )
    if not a.peer_python:
        print("  (no --peer-python: EconML not run)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "data.npz")
        np.savez(path, x=train["x"], t=train["t"], y=train["y"], x_test=test["x"], tau_test=test["tau"])
        out = subprocess.run(
            [a.peer_python, __file__, "--econml-worker", path, "--trees", str(a.trees)], capture_output=True, text=True, check=True
        )
    peer = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"  EconML CausalForestDML     {peer['seconds']:9.1f} s ({peer['cpu']:8.1f} s CPU)   RMSE {peer['rmse']:.4f}   coverage {peer['coverage']:.3f}"
    )
    if ours:
        ratio_cpu = ours["cpu"] / peer["cpu"]
        print(
            f"  ratio causalinfer / EconML time = {ours['seconds'] / peer['seconds']:.3f} (CPU {ratio_cpu:.3f}); RMSE ratio = {ours['rmse'] / peer['rmse']:.3f}"
        )


if __name__ == "__main__":
    sys.exit(main())
