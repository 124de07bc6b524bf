"""Side-by-side timing: causalinfer.stats.negative_binomial vs statsmodels' NegativeBinomial (NB2, alpha by ML).

Run from the repository root:  python benchmarks/bench_negbin.py [n]
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    import statsmodels.api as sm

    import causalinfer as ci

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = np.random.default_rng(0)
    k = 5
    X = rng.normal(size=(n, k))
    mu = np.exp(0.3 + X @ np.array([0.2, -0.1, 0.3, 0.0, 0.1]))
    y = rng.negative_binomial(1.5, 1.5 / (1.5 + mu)).astype(float)
    Xc = sm.add_constant(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # warm-up fits on 2,000 rows (imports and first-call costs), then one timed fit each
        ci.stats.negative_binomial(X[:2000], y[:2000])
        sm.NegativeBinomial(y[:2000], Xc[:2000], loglike_method="nb2").fit(disp=0, maxiter=200)
        ours, r = timed(lambda: ci.stats.negative_binomial(X, y))
        theirs, s = timed(lambda: sm.NegativeBinomial(y, Xc, loglike_method="nb2").fit(disp=0, maxiter=200))
    agree = float(np.max(np.abs(r.coef.to_numpy() - np.asarray(s.params[:-1]))))
    print(f"negative binomial NB2 n={n} k={k}: causalinfer {ours:.2f} s, statsmodels {theirs:.2f} s, ratio {ours / theirs:.2f}")
    print(f"theta {r.fit['theta']:.6f} vs 1/alpha {1 / float(s.params[-1]):.6f}; max |coef difference| {agree:.2e}")


if __name__ == "__main__":
    main()
