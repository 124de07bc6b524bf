"""Size and power of the heterogeneity tests of ``designs.heterogeneity_test``, by seeded simulation.

Data: n units, 5 standard normal covariates, treatment with propensity ``1 / (1 + exp(-0.5 x0))``, outcome
``x0 + x2 + t * tau(x) + N(0, 1)``. Under the null the effect is constant (``tau = 0.5``); under the alternative
``tau = 0.5 + h * x1``. Each replication runs ``heterogeneity_test`` with its default CATE model (a DR-learner
with a linear final stage) and linear-regression outcome models (the default random forest makes a replication
about ten times slower; ``--forest-nuisance`` uses it), 5 folds, and records whether each test rejects at 5%:

- BLP slope (two-sided; the fold-by-fold median combination),
- GATES top minus bottom group (two-sided),
- grf's calibration test, differential coefficient (one-sided, as grf),
- RATE: AUTOC and Qini (two-sided, bootstrap SE).

The Monte Carlo standard error of a rejection rate p over R replications is sqrt(p (1 - p) / R); a test whose
size exceeds 0.05 by more than three of them is oversized.

``--scores`` runs the same tests on the array layer instead, where the mechanism is plain: AIPW scores with the
true nuisances, and as proxy a linear regression of the scores on the 5 covariates fitted on the other folds
(what the DR-learner's final stage does). It prints each test pooled over the folds (as the tests were computed
before; BLP with HC1 on the pooled within-fold centred proxy) beside the fold-by-fold median combination.

Run:  python benchmarks/bench_heterogeneity_size.py --n 600 --reps 300 --power-reps 100
      python benchmarks/bench_heterogeneity_size.py --scores --n 600 --reps 400 --power-reps 100
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

COVS = [f"x{j}" for j in range(5)]
TESTS = {
    "blp_slope": "BLP slope",
    "gates_top_minus_bottom": "GATES top - bottom",
    "calibration_differential": "calibration (differential)",
    "autoc": "RATE AUTOC",
    "qini": "RATE Qini",
}


def simulate(n: int, seed: int, hetero: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 5)), columns=COVS)
    t = (rng.random(n) < 1 / (1 + np.exp(-0.5 * X["x0"]))).astype(int)
    y = X["x0"] + X["x2"] + t * (0.5 + hetero * X["x1"]) + rng.normal(size=n)
    return X.assign(y=y, t=t)


def rejections(n: int, seed: int, hetero: float, forest: bool, n_boot: int, alpha: float = 0.05) -> dict[str, bool]:
    from sklearn.linear_model import LinearRegression

    from causalinfer.designs import heterogeneity_test

    om = None if forest else LinearRegression()
    r = heterogeneity_test(
        simulate(n, seed, hetero), outcome="y", treatment="t", covariates=COVS, outcome_model=om, n_boot=n_boot, random_state=seed
    )
    p = r.terms.set_index("term")["pvalue"]
    return {k: bool(p[k] < alpha) for k in TESTS}


def rates(n: int, reps: int, hetero: float, forest: bool, n_boot: int, seed0: int) -> pd.DataFrame:
    rows = [rejections(n, seed0 + s, hetero, forest, n_boot) for s in range(reps)]
    return pd.DataFrame(rows)


def score_tests(n: int, seed: int, hetero: float, n_boot: int, k: int = 5) -> dict[str, bool]:
    """Pooled and fold-by-fold rejections at 5% on AIPW scores with known nuisances and a cross-fitted linear proxy."""
    from causalinfer.designs._heterogeneity import blp, blp_by_fold, calibration, fold_ranks, gates, heterogeneity_by_fold, rate

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    t = (rng.random(n) < 0.5).astype(float)
    tau = 0.5 + hetero * x[:, 1]
    y = x[:, 0] + t * tau + rng.normal(size=n)
    phi = tau + t * (y - x[:, 0] - tau) / 0.5 - (1 - t) * (y - x[:, 0]) / 0.5
    folds = np.arange(n) % k
    design = np.column_stack([np.ones(n), x])
    s = np.empty(n)
    for f in range(k):
        s[folds == f] = design[folds == f] @ np.linalg.lstsq(design[folds != f], phi[folds != f], rcond=None)[0]
    y_res, w_res = y - x[:, 0] - 0.5 * tau, t - 0.5
    b, bv = blp(phi, s, folds)
    g, gv, _ = gates(phi, s, 5, folds)
    c, cv = calibration(y_res, w_res, s, folds)
    r = rate(phi, fold_ranks(s, folds), n_boot, rng)
    z = {
        "blp_slope": b[1] / np.sqrt(bv[1, 1]),
        "gates_top_minus_bottom": (g[-1] - g[0]) / np.sqrt(gv[-1, -1] + gv[0, 0] - 2 * gv[0, -1]),
        "autoc": r["autoc"] / r["se"][0],
        "qini": r["qini"] / r["se"][1],
    }
    out = {f"pooled {key}": bool(abs(v) > 1.959964) for key, v in z.items()}
    out["pooled calibration_differential"] = bool(c[1] / np.sqrt(cv[1, 1]) > 1.644854)
    fold = heterogeneity_by_fold(phi, s, y_res, w_res, folds, 5, n_boot, rng, 0.95)
    fold["blp_slope"] = blp_by_fold(phi, s, folds, 0.95)
    out.update({f"by fold {key}": bool(v["pvalue"] < 0.05) for key, v in fold.items()})
    return out


def main_scores(a: argparse.Namespace) -> None:
    null = pd.DataFrame([score_tests(a.n, s, 0.0, a.n_boot) for s in range(a.reps)])
    alt = pd.DataFrame([score_tests(a.n, 100_000 + s, a.hetero, a.n_boot) for s in range(a.power_reps)])
    print(f"array layer: AIPW scores with true nuisances, cross-fitted linear proxy, n = {a.n}, 5 folds")
    print(f"size: {a.reps} replications with a constant effect; power: {a.power_reps} with tau = 0.5 + {a.hetero} x1")
    print(f"{'test':<28} {'pooled size':>12} {'power':>7} {'by fold size':>13} {'power':>7}")
    for key, label in TESTS.items():
        cells = [f"{null[f'{how} {key}'].mean():.3f}" for how in ("pooled", "by fold")]
        powers = [f"{alt[f'{how} {key}'].mean():.3f}" for how in ("pooled", "by fold")]
        print(f"{label:<28} {cells[0]:>12} {powers[0]:>7} {cells[1]:>13} {powers[1]:>7}")
    print(f"MC SE of a size near 0.05: {np.sqrt(0.05 * 0.95 / a.reps):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--reps", type=int, default=300, help="replications under the null (constant effect)")
    ap.add_argument("--power-reps", type=int, default=100, help="replications under the alternative")
    ap.add_argument("--hetero", type=float, default=0.5, help="slope h of the effect on x1 under the alternative")
    ap.add_argument("--n-boot", type=int, default=100, help="bootstrap resamples for the RATE SEs")
    ap.add_argument("--forest-nuisance", action="store_true", help="default random-forest outcome models (slow)")
    ap.add_argument("--scores", action="store_true", help="the array layer, pooled beside fold by fold (fast)")
    a = ap.parse_args()
    if a.scores:
        main_scores(a)
        return
    t0 = time.perf_counter()
    null = rates(a.n, a.reps, 0.0, a.forest_nuisance, a.n_boot, 0)
    t_null = time.perf_counter() - t0
    alt = rates(a.n, a.power_reps, a.hetero, a.forest_nuisance, a.n_boot, 100_000) if a.power_reps else None
    nuis = "random forest" if a.forest_nuisance else "linear regression"
    print(f"heterogeneity tests at 5%: n = {a.n}, 5 folds, DR-learner (linear final stage), {nuis} outcome models")
    print(f"size: {a.reps} replications with a constant effect; power: {a.power_reps} with tau = 0.5 + {a.hetero} x1")
    print(f"{'test':<28} {'size':>7} {'MC SE':>7} {'size - 0.05 in SEs':>19} {'power':>7} {'MC SE':>7}")
    for key, label in TESTS.items():
        p = null[key].mean()
        se = np.sqrt(max(p * (1 - p), 0.05 * 0.95) / a.reps)
        line = f"{label:<28} {p:7.3f} {se:7.3f} {(p - 0.05) / se:19.1f}"
        if alt is not None:
            q = alt[key].mean()
            line += f" {q:7.3f} {np.sqrt(q * (1 - q) / a.power_reps):7.3f}"
        print(line)
    print(f"({time.perf_counter() - t0:.0f} s; {t_null / a.reps:.2f} s per replication)")


if __name__ == "__main__":
    main()
