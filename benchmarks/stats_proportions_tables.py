"""Side-by-side timings: causalinfer.stats estimates and table tests versus scipy / statsmodels.

Run:  python benchmarks/stats_proportions_tables.py
Prints, per task, the median time per call of each library and the largest relative difference in the
numbers both report (the causalinfer values are the R-validated ones).
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import causalinfer as ci


def timed(fn, repeat=7, number=50):
    fn()
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - t0) / number)
    return statistics.median(runs)


def rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def main() -> None:
    from scipy import stats
    from statsmodels.stats.proportion import proportion_confint

    rng = np.random.default_rng(0)
    x = rng.normal(size=500)
    y = 0.3 * x + rng.normal(size=500)
    table = np.array([[25, 40], [33, 12]])
    rows = []

    ours = ci.stats.proportion(57, 123)
    theirs = proportion_confint(57, 123, method="wilson")
    rows.append(
        (
            "Wilson interval",
            timed(lambda: ci.stats.proportion(57, 123)),
            timed(lambda: proportion_confint(57, 123, method="wilson")),
            "statsmodels",
            rel(ours.ci, theirs),
        )
    )

    ours = ci.stats.fisher_test(table)
    theirs_p = stats.fisher_exact(table).pvalue
    theirs_or = stats.contingency.odds_ratio(table.astype(int)).confidence_interval(0.95)
    rows.append(
        (
            "Fisher 2x2 (p, cond. OR CI)",
            timed(lambda: ci.stats.fisher_test(table)),
            timed(lambda: (stats.fisher_exact(table), stats.contingency.odds_ratio(table.astype(int)).confidence_interval(0.95))),
            "scipy",
            max(rel(ours.pvalue, theirs_p), rel(ours.ci, (theirs_or.low, theirs_or.high))),
        )
    )

    big = np.array([[20, 15, 30], [25, 10, 40], [5, 12, 18]])
    ours = ci.stats.chisq_test(big)
    theirs = stats.chi2_contingency(big)
    rows.append(
        (
            "chi-squared 3x3",
            timed(lambda: ci.stats.chisq_test(big)),
            timed(lambda: stats.chi2_contingency(big)),
            "scipy",
            rel((ours.statistic, ours.pvalue), (theirs.statistic, theirs.pvalue)),
        )
    )

    ours = ci.stats.correlation(x, y, method="spearman")
    theirs = stats.spearmanr(x, y)
    rows.append(
        (
            "Spearman n=500",
            timed(lambda: ci.stats.correlation(x, y, method="spearman")),
            timed(lambda: stats.spearmanr(x, y)),
            "scipy",
            rel(ours.estimate, theirs.statistic),
        )
    )

    ours = ci.stats.correlation(x, y, method="kendall")
    theirs = stats.kendalltau(x, y)
    rows.append(
        (
            "Kendall n=500",
            timed(lambda: ci.stats.correlation(x, y, method="kendall")),
            timed(lambda: stats.kendalltau(x, y)),
            "scipy",
            rel((ours.estimate, ours.pvalue), (theirs.statistic, theirs.pvalue)),
        )
    )

    ours = ci.stats.binom_test(682, 925, p=0.75)
    theirs = stats.binomtest(682, 925, p=0.75)
    rows.append(
        (
            "exact binomial test",
            timed(lambda: ci.stats.binom_test(682, 925, p=0.75)),
            timed(lambda: stats.binomtest(682, 925, p=0.75).proportion_ci()),
            "scipy",
            rel(ours.pvalue, theirs.pvalue),
        )
    )

    print(f"{'task':30s} {'causalinfer':>13s} {'peer':>13s}  {'peer lib':12s} {'max rel diff':>12s}")
    for task, t_ours, t_peer, lib, diff in rows:
        print(f"{task:30s} {t_ours * 1e3:10.3f} ms {t_peer * 1e3:10.3f} ms  {lib:12s} {diff:12.2e}")


if __name__ == "__main__":
    main()
