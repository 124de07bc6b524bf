"""Side-by-side timing: causalinfer.stats regression and p-value adjustment vs statsmodels.

Run from the repository root:  python benchmarks/bench_stats_regression.py
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd


def best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    from statsmodels.stats.multitest import multipletests

    import causalinfer as ci

    rng = np.random.default_rng(0)
    n, k = 20_000, 10
    X = rng.normal(size=(n, k))
    y = X @ rng.normal(size=k) + rng.normal(size=n) * (1 + np.abs(X[:, 0]))
    cl = rng.integers(0, 200, size=n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(k)]).assign(y=y, cl=cl)
    formula = "y ~ " + " + ".join(f"x{j}" for j in range(k))
    Xc = sm.add_constant(X)

    rows = []
    for cov, sm_kw in (("HC3", {"cov_type": "HC3"}), ("cluster", {"cov_type": "cluster", "cov_kwds": {"groups": cl}})):
        ours = best_of(lambda cov=cov: ci.stats.ols(X, y, cov_type=cov, **({"cluster": cl} if cov == "cluster" else {})))
        theirs = best_of(lambda sm_kw=sm_kw: sm.OLS(y, Xc).fit(**sm_kw))
        rows.append((f"OLS arrays n={n} k={k} {cov}", ours, theirs))
    ours = best_of(lambda: ci.stats.ols(formula, data=df, cov_type="HC1"))
    theirs = best_of(lambda: smf.ols(formula, data=df).fit(cov_type="HC1"))
    rows.append((f"OLS formula n={n} k={k} HC1", ours, theirs))
    yb = (rng.uniform(size=n) < 1 / (1 + np.exp(-X[:, 0]))).astype(float)
    ours = best_of(lambda: ci.stats.logit(X, yb, cov_type="HC0"))
    theirs = best_of(lambda: sm.GLM(yb, Xc, family=sm.families.Binomial()).fit(cov_type="HC0"))
    rows.append((f"logit arrays n={n} k={k} HC0", ours, theirs))
    p = rng.uniform(size=200_000) ** 3
    for method, sm_method in (("holm", "holm"), ("BH", "fdr_bh"), ("hommel", "hommel")):
        m = p if method != "hommel" else p[:2000]
        ours = best_of(lambda m=m, method=method: ci.stats.adjust_pvalues(m, method=method))
        theirs = best_of(lambda m=m, sm_method=sm_method: multipletests(m, method=sm_method))
        rows.append((f"adjust_pvalues {method} m={m.size}", ours, theirs))
    print(f"{'task':45s} {'causalinfer (s)':>16s} {'statsmodels (s)':>16s}")
    for name, a, b in rows:
        print(f"{name:45s} {a:16.4f} {b:16.4f}")
    print("(causalinfer results include diagnostics: collinearity/VIF, residual normality, Breusch-Pagan)")


if __name__ == "__main__":
    main()
