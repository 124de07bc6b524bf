"""IPW with a 95% CI plus three refutations (100 simulations each): causalinfer vs DoWhy 0.14, side by side.

Synthetic data: 10 standard-normal confounders, a logistic treatment model, a linear outcome with a true
effect of 2. The same work in both libraries:

* DoWhy: CausalModel -> identify_effect -> estimate_effect("backdoor.propensity_score_weighting", ips_weight,
  confidence_intervals=True) -> placebo_treatment_refuter (permute), random_common_cause and
  data_subset_refuter, num_simulations=100. DoWhy fits the propensity once and reuses it in the refuters.
* causalinfer: causal.ipw (Hajek, clip=0.05, influence-function CI) -> refute(["placebo", "random_common_cause",
  "subset"], n_simulations=100); every simulation refits the propensity model (Newton steps warm-started
  from the original fit), two worker threads.

Both use an unpenalised logistic propensity model (DoWhy through scikit-learn's Newton solver) and clip the
propensity into [0.05, 0.95] (DoWhy's default), so the point estimates agree to rounding.
Run:  python benchmarks/bench_causal.py [n ...]
"""

from __future__ import annotations

import logging
import sys
import time
import warnings

import numpy as np
import pandas as pd


def make_data(n: int, p: int = 10, seed: int = 20261128) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    gamma = rng.uniform(-0.4, 0.4, p)
    a = rng.binomial(1, 1.0 / (1.0 + np.exp(-(X @ gamma))))
    y = 2.0 * a + X @ rng.uniform(-1, 1, p) + rng.normal(size=n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["t"] = a.astype(bool)
    df["y"] = y
    return df


def run_dowhy(df: pd.DataFrame) -> dict:
    from dowhy import CausalModel  # imported before the clock starts
    from sklearn.linear_model import LogisticRegression

    data = df.copy()  # DoWhy adds columns to the frame it is given
    covs = [c for c in df.columns if c.startswith("x")]
    t0 = time.perf_counter()
    model = CausalModel(data=data, treatment="t", outcome="y", common_causes=covs)
    ident = model.identify_effect(proceed_when_unidentifiable=True)
    est = model.estimate_effect(
        ident,
        method_name="backdoor.propensity_score_weighting",
        method_params={
            "weighting_scheme": "ips_weight",
            "propensity_score_model": LogisticRegression(C=np.inf, solver="newton-cholesky", tol=1e-12, max_iter=100),
        },
        confidence_intervals=True,
    )
    ci = est.get_confidence_intervals()
    t_est = time.perf_counter() - t0
    out = {"estimate": float(est.value), "ci": (float(ci[0]), float(ci[1])), "t_estimate": t_est, "refutations": {}}
    for name, kw in (("placebo_treatment_refuter", {"placebo_type": "permute"}), ("random_common_cause", {}), ("data_subset_refuter", {})):
        t1 = time.perf_counter()
        r = model.refute_estimate(ident, est, method_name=name, num_simulations=100, random_seed=1, **kw)
        out["refutations"][name] = (float(r.new_effect), float(r.refutation_result["p_value"]), time.perf_counter() - t1)
    out["total"] = time.perf_counter() - t0
    return out


def run_causalinfer(df: pd.DataFrame) -> dict:
    import causalinfer as ci
    import causalinfer.causal

    covs = [c for c in df.columns if c.startswith("x")]
    data = df.assign(t=df["t"].astype(int))
    t0 = time.perf_counter()
    r = ci.causal.ipw(data, outcome="y", treatment="t", covariates=covs, clip=0.05)
    t_est = time.perf_counter() - t0
    refs = r.refute(["placebo", "random_common_cause", "subset"], n_simulations=100, random_state=1, n_jobs=2, progress=False)
    total = time.perf_counter() - t0
    return {
        "estimate": r.estimate,
        "ci": (r.ci_low, r.ci_high),
        "t_estimate": t_est,
        "refutations": {x.refuter: (x.estimate, x.pvalue, x.passed) for x in refs},
        "total": total,
    }


def main(sizes: list[int]) -> None:
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    import dowhy

    import causalinfer

    print(f"causalinfer {causalinfer.__version__}, dowhy {dowhy.__version__}, numpy {np.__version__}")
    for n in sizes:
        df = make_data(n)
        ours = run_causalinfer(df)
        theirs = run_dowhy(df)
        print(f"\nn = {n:,}, 10 confounders, true effect 2")
        print(
            f"  causalinfer  IPW {ours['estimate']:.6f}  95% CI ({ours['ci'][0]:.4f}, {ours['ci'][1]:.4f}) [influence function]  "
            f"estimate {ours['t_estimate']:.2f} s, total {ours['total']:.2f} s"
        )
        for k, (m, p, ok) in ours["refutations"].items():
            print(f"      {k:<22} mean {m:+.4f}  p = {p:.3f}  {'passed' if ok else 'FAILED'}")
        print(
            f"  DoWhy        IPW {theirs['estimate']:.6f}  95% CI ({theirs['ci'][0]:.4f}, {theirs['ci'][1]:.4f}) [bootstrap]  "
            f"estimate {theirs['t_estimate']:.2f} s, total {theirs['total']:.2f} s"
        )
        for k, (m, p, t) in theirs["refutations"].items():
            print(f"      {k:<27} new effect {m:+.4f}  p = {p:.3f}  ({t:.2f} s)")
        print(f"  |difference in point estimates| = {abs(ours['estimate'] - theirs['estimate']):.2e}")
        print(f"  speed-up (DoWhy total / causalinfer total) = {theirs['total'] / ours['total']:.1f}x")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [20_000, 100_000])
