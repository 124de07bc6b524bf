"""Timing of causalinfer.stats.glmm against lme4::glmer (nAGQ = 1) on the simulated reference data.

Run from the repository root:  PYTHONPATH=. python benchmarks/bench_glmm.py [--repeats 3]

glmer's times are measured in R by tests/reference/mixed_terms.R (mean of five fits with glmer's default control)
and read from tests/reference/mixed_terms.json, so the same data and formulas are timed on both sides. statsmodels'
BinomialBayesMixedGLM fits a variational Bayes approximation, not the Laplace likelihood, and is not comparable.
The largest relative difference of the fixed effects from glmer's (tight-tolerance) reference fit is printed too.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

REFERENCE = Path(__file__).resolve().parent.parent / "tests" / "reference"


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    import causalinfer as ci

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ref = json.loads((REFERENCE / "mixed_terms.json").read_text(encoding="utf-8"))
    data = pd.read_csv(REFERENCE / "mixed_terms_data.csv", dtype={"a": str})
    df = data[data["set"] == "binary"].rename(columns={"a": "g"})[["yb", "ys", "yc", "x", "g"]].reset_index(drop=True)
    print(f"generalised linear mixed models, Laplace approximation, n={len(df)}, 40 groups")
    for case in ref["glmm"]:
        secs, r = best_of(lambda case=case: ci.stats.glmm(case["formula"], data=df, family=case["family"]), args.repeats)
        diff = float(np.max(np.abs(r.terms["estimate"].to_numpy() / np.asarray(case["estimate"]) - 1)))
        print(
            f"  {case['name']:<20} {case['formula']:<18}: causalinfer {1000 * secs:8.1f} ms  glmer {1000 * case['glmer_seconds']:8.1f} ms"
            f"  ratio {secs / case['glmer_seconds']:5.2f}  max rel fixed-effect diff {diff:.1e}"
        )


if __name__ == "__main__":
    main()
