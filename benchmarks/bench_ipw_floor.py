"""Time per stage of one effect estimate on a large in-memory table, against the floor of its propensity fit.

The floor is a bare scikit-learn ``LogisticRegression(solver="newton-cholesky", C=np.inf)`` fit (no penalty:
``penalty=None`` in releases before 1.8, where that spelling is not yet deprecated) of the propensity alone on the same covariate array (what any IPW estimate has to do at least), timed in the same
process. The estimate is the public call, ``causal.ipw(frame, outcome=..., treatment=..., covariates=...)``
(the Dataset is built from the DataFrame, as a user would call it), with its default diagnostics; each stage is
timed by wrapping the internal function that does it, so the stages add up to the whole call:

* dataset: building and validating the Dataset (copy of the frame, role checks, missing values)
* fingerprint: the data hash recorded in the provenance
* design: the covariate design (numeric arrays, dummies, squares) and the rank check
* propensity: the logistic propensity fit
* estimate: weights, point estimate and influence function (the estimator's core minus the propensity fit)
* outcome models: least-squares fits (regression adjustment, AIPW)
* diagnostics: overlap table and checks, propensity histogram, balance table and check
* assembly: the rest (result object, refitter, weight summaries)

Run:  python benchmarks/bench_ipw_floor.py [--rows 1000000] [--cols 10] [--repeats 3] [--methods ipw,aipw,regression]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def make_data(n: int, p: int, seed: int = 20261129) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    gamma = rng.uniform(-0.4, 0.4, p)
    a = rng.binomial(1, 1.0 / (1.0 + np.exp(-(X @ gamma))))
    y = 2.0 * a + X @ rng.uniform(-1, 1, p) + rng.normal(size=n)
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(p)])
    df["t"] = a
    df["y"] = y
    return df


class Stages:
    """Accumulates wall time per stage; nested wrapped calls are charged to the innermost stage only."""

    def __init__(self) -> None:
        self.times: dict[str, float] = defaultdict(float)
        self._stack: list[list[float]] = []

    def wrap(self, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._stack.append([time.perf_counter(), 0.0])
            try:
                return fn(*args, **kwargs)
            finally:
                start, inner = self._stack.pop()
                spent = time.perf_counter() - start
                self.times[stage] += spent - inner
                if self._stack:
                    self._stack[-1][1] += spent

        return timed


def instrument(stages: Stages) -> Callable[[], None]:
    """Wrap the internal functions of one estimate; returns a function that undoes it."""
    from causalinfer.causal import _core, _design, _estimators
    from causalinfer.data import _dataset

    patches = [
        (_design, "as_dataset", "dataset"),
        (_dataset.Dataset, "fingerprint", "fingerprint"),
        (_estimators, "prepare", "design"),
        (_estimators, "check_rank", "design"),
        (_estimators, "check_covariate_rank", "design"),
        (_estimators, "check_rank_by_blocks", "design"),
        (_core, "propensity", "propensity"),
        (_core, "fit_logit", "propensity"),
        (_core, "fit_ols", "outcome models"),
        (_core, "ipw", "estimate"),
        (_core, "regression", "estimate"),
        (_core, "aipw", "estimate"),
        (_estimators, "split_groups", "diagnostics"),
        (_estimators, "overlap_diagnostics", "diagnostics"),
        (_estimators, "overlap_table", "diagnostics"),
        (_estimators, "propensity_histogram", "diagnostics"),
        (_estimators, "balance_table", "diagnostics"),
        (_estimators, "balance_diagnostic", "diagnostics"),
    ]
    saved = []
    for owner, name, stage in patches:
        if not hasattr(owner, name):  # a stage function of another version of the package
            continue
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        saved.append((owner, name, original))
        setattr(owner, name, stages.wrap(stage, original))
    cores = dict(_core.CORES)  # the dispatch table holds the functions themselves
    for key in ("ipw", "regression", "aipw"):
        _core.CORES[key] = getattr(_core, key)

    def undo() -> None:
        for owner, name, original in saved:
            setattr(owner, name, original)
        _core.CORES.update(cores)

    return undo


def sklearn_floor(df: pd.DataFrame, covs: list[str]) -> float:
    from sklearn.linear_model import LogisticRegression

    Z = df[covs].to_numpy(dtype=float)
    a = df["t"].to_numpy()
    t0 = time.perf_counter()
    LogisticRegression(solver="newton-cholesky", C=np.inf).fit(Z, a)
    return time.perf_counter() - t0


def one_estimate(method: str, df: pd.DataFrame, covs: list[str]) -> tuple[float, dict[str, float], float]:
    import causalinfer as ci

    fn = {"ipw": ci.causal.ipw, "aipw": ci.causal.aipw, "regression": ci.causal.regression_adjustment}[method]
    stages = Stages()
    undo = instrument(stages)
    try:
        t0 = time.perf_counter()
        res = fn(df, outcome="y", treatment="t", covariates=covs)
        total = time.perf_counter() - t0
    finally:
        undo()
    times = dict(stages.times)
    times["assembly"] = total - sum(times.values())
    return total, times, float(res.estimate)


ORDER = ("dataset", "fingerprint", "design", "propensity", "outcome models", "estimate", "diagnostics", "assembly")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--methods", default="ipw")
    args = ap.parse_args()
    import sklearn

    import causalinfer as ci

    df = make_data(args.rows, args.cols)
    covs = [f"x{j}" for j in range(args.cols)]
    print(
        f"{args.rows:,} rows x {args.cols} covariates; causalinfer {ci.__version__}, scikit-learn {sklearn.__version__}; "
        f"median of {args.repeats} runs (floor and estimate alternate)"
    )
    # warm up imports and caches on a small copy, outside the clock
    small = df.iloc[:2000]
    sklearn_floor(small, covs)
    for method in args.methods.split(","):
        one_estimate(method, small, covs)
    for method in args.methods.split(","):
        floors, totals, per_stage = [], [], defaultdict(list)
        estimate = float("nan")
        for _ in range(args.repeats):
            floors.append(sklearn_floor(df, covs))
            total, times, estimate = one_estimate(method, df, covs)
            totals.append(total)
            for k in ORDER:
                per_stage[k].append(times.get(k, 0.0))
        floor = statistics.median(floors)
        total = statistics.median(totals)
        print(f"\n{method} (estimate {estimate:.6f})")
        print(f"  {'stage':<16}{'seconds':>9}{'x floor':>9}")
        for k in ORDER:
            t = statistics.median(per_stage[k])
            if t >= 0.0005 or k in ("dataset", "propensity", "diagnostics"):
                print(f"  {k:<16}{t:>9.3f}{t / floor:>9.2f}")
        print(f"  {'total':<16}{total:>9.3f}{total / floor:>9.2f}")
        print(f"  {'sklearn floor':<16}{floor:>9.3f}{1.0:>9.2f}")


if __name__ == "__main__":
    main()
