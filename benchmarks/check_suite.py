"""Time a full model-check suite on 1,000,000 labelled rows x 20 features and print the time per check.

    python benchmarks/check_suite.py [--rows 1000000] [--features 20]

Training and test tables both have ``--rows`` rows (18 numeric features, 2 categorical, a binary label); the
model is a logistic regression. Every check of the suite runs once on a shared context, so predictions, the
training profile and the conformed model input are computed once and timed on their own lines.
No peer library is run side by side: the tools that offer such suites (Deepchecks, Evidently) decide on point
estimates, so their timings would not measure the same work.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def make(rows: int, features: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    k = features - 2
    X = pd.DataFrame(rng.normal(size=(rows, k)), columns=[f"x{i}" for i in range(k)])
    X["region"] = pd.Categorical(rng.choice(["north", "south", "east", "west"], rows))
    X["plan"] = rng.choice(["basic", "plus", "pro"], rows)
    lin = X["x0"] - 0.5 * X["x1"] + 0.3 * X["x2"] + 0.2 * (X["plan"] == "pro")
    X["y"] = (lin + rng.logistic(size=rows) > 0).astype(int)
    return X


SUITE = [
    {"check": "schema"},
    {"check": "missing_values"},
    {"check": "out_of_range"},
    {"check": "duplicates", "data": "test"},
    {"check": "constant_columns"},
    {"check": "label_leakage"},
    {"check": "train_test_overlap"},
    {"check": "unseen_categories"},
    {"check": "drift"},
    {"check": "performance", "metric": "auc", "at_least": 0.75},
    {"check": "performance", "metric": "accuracy", "at_least": 0.65},
    {"check": "performance", "metric": "brier", "at_most": 0.22},
    {"check": "performance", "metric": "log_loss", "at_most": 0.65},
    {"check": "calibration_slope", "within": [0.9, 1.1]},
    {"check": "segments", "column": "region", "metric": "accuracy", "max_gap": 0.02},
    {"check": "fairness", "column": "plan", "measure": "tpr", "max_gap": 0.2},
    {"check": "fairness", "column": "plan", "measure": "demographic_parity", "max_gap": 0.3},
]


def main() -> None:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from causalinfer.predict._check import finalise
    from causalinfer.predict._check_context import CheckContext
    from causalinfer.predict._check_suite import CHECKS, _tables_for, load_suite
    from causalinfer.predict._contract import InputSchema

    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=20)
    a = ap.parse_args()
    t0 = time.perf_counter()
    train, test = make(a.rows, a.features, 0), make(a.rows, a.features, 1)
    feats = [c for c in train.columns if c != "y"]
    pre = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["region", "plan"]), remainder="passthrough")
    model = make_pipeline(pre, LogisticRegression(max_iter=200)).fit(train[feats].iloc[:200_000], train["y"].iloc[:200_000])
    print(f"data and model: {time.perf_counter() - t0:.1f} s ({a.rows:,} rows x {a.features} features, train and test each)")

    specs, _ = load_suite(SUITE)
    start = time.perf_counter()
    ctx = CheckContext(
        tables={"train": train, "test": test, "production": None}, model=model, schema=InputSchema.from_frame(train[feats]), label="y"
    )
    timings = []
    for what, work in (
        ("model input (conform)", lambda: ctx.model_input("test", "bench")),
        ("predictions", lambda: ctx.predictions("test", "bench")),
    ):
        t = time.perf_counter()
        work()
        timings.append((what, time.perf_counter() - t, ""))
    results = []
    for spec in specs:
        for table in _tables_for(spec, ctx, True):
            t = time.perf_counter()
            results.append(CHECKS[spec["check"]][0](ctx, spec, table))
            timings.append((results[-1].label, time.perf_counter() - t, ""))
    t = time.perf_counter()
    report = finalise(results, ctx.alpha, "holm", "benchmark")
    timings.append(("family adjustment", time.perf_counter() - t, ""))
    total = time.perf_counter() - start
    status = dict(zip(report.labels, (r.status for r in report), strict=True))
    for what, secs, _ in timings:
        print(f"  {what:<40} {secs:7.2f} s  {status.get(what, '')}")
    print(f"full suite: {len(report)} checks in {total:.1f} s (target < 60 s); suite {report.status}")


if __name__ == "__main__":
    main()
