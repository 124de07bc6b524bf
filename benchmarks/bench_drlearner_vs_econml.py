"""DR-learner with a linear final stage: causalinfer.designs.DRLearner vs EconML 0.17 LinearDRLearner.

Same simulated data sets for both (p = 5 standard-normal covariates, logistic propensity in x0, linear effect
tau(x) = 0.2 + x1 + 0.5 x2, outcome x0 + x3 + T tau(x) + N(0, 1)), 2-fold cross-fitting, logistic regression for
the propensity, propensities clipped (ours to [0.01, 0.99], EconML min_propensity=0.01), linear final stage on an
intercept and every covariate with HC1 standard errors. One difference: our outcome model is fitted per arm
(LinearRegression on each arm), EconML's ``model_regression`` is one model of Y on (X, T); with a linear
regression EconML's mu1 - mu0 is a constant, ours is linear in X. Reported per side: RMSE of the CATE against the
truth on fresh units, share of fresh units whose 95% interval covers their true effect, seconds (all
replications). EconML runs in its own interpreter (``--peer-python``); the data go to it through an .npz file.

Run:  python benchmarks/bench_drlearner_vs_econml.py --reps 50 --n 2000 --peer-python PATH/TO/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np


def make(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    t = (rng.random(n) < 1 / (1 + np.exp(-0.5 * x[:, 0]))).astype(float)
    tau = 0.2 + x[:, 1] + 0.5 * x[:, 2]
    y = x[:, 0] + x[:, 3] + t * tau + rng.normal(size=n)
    return {"x": x, "t": t, "y": y, "tau": tau}


def score(est: np.ndarray, lo: np.ndarray, hi: np.ndarray, tau: np.ndarray) -> tuple[float, np.ndarray]:
    return float(np.mean((est - tau) ** 2)), (lo <= tau) & (tau <= hi)


def ours(d: dict[str, np.ndarray]) -> dict[str, float]:
    import pandas as pd
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from causalinfer.designs import DRLearner

    cols = [f"x{j}" for j in range(5)]
    mse, hits = [], []
    t0 = time.perf_counter()
    for r in range(d["x"].shape[0]):
        m = DRLearner(LinearRegression(), LogisticRegression(), final_model="linear", n_folds=2, random_state=r)
        m.fit(pd.DataFrame(d["x"][r], columns=cols), d["y"][r], d["t"][r])
        fr = m.effect_frame(pd.DataFrame(d["x_new"][r], columns=cols))
        e, h = score(fr["effect"].to_numpy(), fr["ci_low"].to_numpy(), fr["ci_high"].to_numpy(), d["tau_new"][r])
        mse.append(e)
        hits.append(h)
    return {"seconds": time.perf_counter() - t0, "rmse": float(np.sqrt(np.mean(mse))), "coverage": float(np.mean(hits))}


def econml(path: str) -> dict[str, float]:
    from econml.dr import LinearDRLearner
    from sklearn.linear_model import LinearRegression, LogisticRegression

    d = dict(np.load(path))
    mse, hits = [], []
    t0 = time.perf_counter()
    for r in range(d["x"].shape[0]):
        m = LinearDRLearner(
            model_propensity=LogisticRegression(), model_regression=LinearRegression(), cv=2, min_propensity=0.01, random_state=r
        ).fit(d["y"][r], d["t"][r], X=d["x"][r])
        est = m.effect(d["x_new"][r])
        lo, hi = m.effect_interval(d["x_new"][r], alpha=0.05)
        e, h = score(est, lo, hi, d["tau_new"][r])
        mse.append(e)
        hits.append(h)
    return {"seconds": time.perf_counter() - t0, "rmse": float(np.sqrt(np.mean(mse))), "coverage": float(np.mean(hits))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--peer-python", default=None)
    ap.add_argument("--econml-worker", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.econml_worker:
        print(json.dumps(econml(a.econml_worker)))
        return
    train = [make(a.n, 100 + r) for r in range(a.reps)]
    new = [make(a.n, 900 + r) for r in range(a.reps)]
    d = {k: np.stack([s[k] for s in train]) for k in ("x", "t", "y")}
    d["x_new"], d["tau_new"] = np.stack([s["x"] for s in new]), np.stack([s["tau"] for s in new])
    print(f"DR-learner, linear final stage: {a.reps} data sets of n = {a.n}, CATE on {a.n} fresh units each")
    me = ours(d)
    print(f"  causalinfer DRLearner    {me['seconds']:7.1f} s   RMSE {me['rmse']:.4f}   coverage {me['coverage']:.3f}", flush=True)
    if not a.peer_python:
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "d.npz")
        np.savez(path, **d)
        out = subprocess.run([a.peer_python, __file__, "--econml-worker", path], capture_output=True, text=True, check=True)
    peer = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  EconML LinearDRLearner   {peer['seconds']:7.1f} s   RMSE {peer['rmse']:.4f}   coverage {peer['coverage']:.3f}")
    print(f"  ratio causalinfer / EconML: time {me['seconds'] / peer['seconds']:.3f}, RMSE {me['rmse'] / peer['rmse']:.3f}")


if __name__ == "__main__":
    main()
