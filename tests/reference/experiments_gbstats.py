"""Reference values for causalinfer.experiments from GrowthBook's stats engine (gbstats, frequentist).

Writes experiments_gbstats_data.csv (seeded experiments, one row per user) and experiments_gbstats.json (lifts of
means, proportions, ratio metrics, quantiles and CUPED-adjusted means, always-valid sequential results, and the SRM
p-value). The per-variant sums that gbstats needs are computed here with math.fsum over the CSV values as read back,
independently of causalinfer; the quantile bands with numpy's default (linear) sample quantile.

Run in an environment with gbstats and pandas installed:  python experiments_gbstats.py
"""

import json
import math
import platform
from pathlib import Path

import numpy as np
import pandas as pd
from gbstats.frequentist.tests import FrequentistConfig, SequentialConfig, SequentialTwoSidedTTest, TwoSidedTTest
from gbstats.models.statistics import (
    ProportionStatistic,
    QuantileStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
    compute_theta,
)
from gbstats.utils import check_srm

HERE = Path(__file__).parent


def make_data():
    frames = []
    for seed, sizes in ((1, (400, 380, 420)), (2, (250, 275, 240)), (3, (1000, 960, 1010))):
        rng = np.random.default_rng(seed)
        variant = np.repeat(["control", "b", "c"], sizes)
        n = variant.size
        effect = np.select([variant == "b", variant == "c"], [1.05, 0.97], 1.0)
        pre = rng.gamma(2.0, 10.0, n)
        revenue = effect * (0.6 * pre + rng.gamma(2.0, 6.0, n))
        converted = (rng.uniform(size=n) < 0.1 * effect).astype(int)
        sessions = rng.poisson(3.0, n)
        clicks = rng.binomial(sessions * 4, 0.2 * np.minimum(effect, 1.2))
        pre_conv = (rng.uniform(size=n) < 0.3 + 0.4 * converted).astype(int)
        frames.append(
            pd.DataFrame(
                {
                    "dataset": seed,
                    "variant": variant,
                    "revenue": revenue,
                    "pre_revenue": pre,
                    "converted": converted,
                    "pre_converted": pre_conv,
                    "clicks": clicks,
                    "sessions": sessions,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def fsum(values):
    return math.fsum(float(v) for v in values)


def mean_stat(x):
    return SampleMeanStatistic(n=len(x), sum=fsum(x), sum_squares=fsum(v * v for v in x))


def prop_stat(x):
    return ProportionStatistic(n=len(x), sum=fsum(x))


def quantile_stat(x, nu):
    """gbstats' quantile statistic from the sample quantiles at nu and at nu -/+ 1.96 sqrt(nu (1 - nu) / n)."""
    from scipy.stats import norm

    n = len(x)
    half = norm.ppf(0.975) * math.sqrt(nu * (1 - nu) / n)
    q, lo, hi = np.quantile(np.asarray(x, dtype=float), [nu, max(0.0, nu - half), min(1.0, nu + half)])
    return QuantileStatistic(n=n, n_star=n, nu=nu, quantile_hat=float(q), quantile_lower=float(lo), quantile_upper=float(hi))


def ratio_stat(m, d):
    return RatioStatistic(
        n=len(m), m_statistic=mean_stat(m), d_statistic=mean_stat(d), m_d_sum_of_products=fsum(a * b for a, b in zip(m, d, strict=True))
    )


def cuped_pair(ya, xa, yb, xb, post):
    def stat(y, x):
        return RegressionAdjustedStatistic(
            n=len(y),
            post_statistic=post(y),
            pre_statistic=mean_stat(x),
            post_pre_sum_of_products=fsum(a * b for a, b in zip(y, x, strict=True)),
            theta=0,
        )

    a, b = stat(ya, xa), stat(yb, xb)
    theta = compute_theta(a, b)
    a.theta = theta
    b.theta = theta
    return a, b, theta


def compare(a, b, tuning=None):
    out = {}
    for kind in ("absolute", "relative"):
        if tuning is None:
            test = TwoSidedTTest(a, b, FrequentistConfig(difference_type=kind, alpha=0.05))
        else:
            test = SequentialTwoSidedTTest(a, b, SequentialConfig(difference_type=kind, alpha=0.05, sequential_tuning_parameter=tuning))
        res = test.compute_result()
        out[kind] = {
            "estimate": res.expected,
            "ci_low": res.ci[0],
            "ci_high": res.ci[1],
            "pvalue": res.p_value,
            "std_error": math.sqrt(test.variance),
            "df": test.dof,
        }
    return out


def main():
    data = make_data()
    data.to_csv(HERE / "experiments_gbstats_data.csv", index=False, float_format="%.17g")
    data = pd.read_csv(HERE / "experiments_gbstats_data.csv")
    cases = []
    for ds, part in data.groupby("dataset"):
        arms = {v: g for v, g in part.groupby("variant")}
        counts = [len(arms[v]) for v in ("control", "b", "c")]
        cases.append({"dataset": int(ds), "what": "srm", "pvalue": float(check_srm(counts, [1 / 3] * 3))})
        a = arms["control"]
        for v in ("b", "c"):
            b = arms[v]
            col = lambda g, c: g[c].tolist()  # noqa: E731
            base = {"dataset": int(ds), "variant": v}
            cases.append({**base, "what": "mean", **compare(mean_stat(col(a, "revenue")), mean_stat(col(b, "revenue")))})
            cases.append({**base, "what": "proportion", **compare(prop_stat(col(a, "converted")), prop_stat(col(b, "converted")))})
            cases.append(
                {
                    **base,
                    "what": "ratio",
                    **compare(ratio_stat(col(a, "clicks"), col(a, "sessions")), ratio_stat(col(b, "clicks"), col(b, "sessions"))),
                }
            )
            for nu in (0.5, 0.9):
                cases.append(
                    {
                        **base,
                        "what": f"quantile_{int(100 * nu)}",
                        **compare(quantile_stat(col(a, "revenue"), nu), quantile_stat(col(b, "revenue"), nu)),
                    }
                )
            for tuning in (5000, 300):
                seq = {**base, "what": "sequential_mean", "tuning": tuning}
                cases.append({**seq, **compare(mean_stat(col(a, "revenue")), mean_stat(col(b, "revenue")), tuning)})
                seq = {**base, "what": "sequential_ratio", "tuning": tuning}
                cases.append(
                    {
                        **seq,
                        **compare(
                            ratio_stat(col(a, "clicks"), col(a, "sessions")), ratio_stat(col(b, "clicks"), col(b, "sessions")), tuning
                        ),
                    }
                )
            sa, sb, theta = cuped_pair(col(a, "revenue"), col(a, "pre_revenue"), col(b, "revenue"), col(b, "pre_revenue"), mean_stat)
            cases.append({**base, "what": "cuped_mean", "theta": theta, **compare(sa, sb)})
            sa, sb, theta = cuped_pair(
                col(a, "converted"), col(a, "pre_converted"), col(b, "converted"), col(b, "pre_converted"), prop_stat
            )
            cases.append({**base, "what": "cuped_proportion", "theta": theta, **compare(sa, sb)})
    from importlib.metadata import version

    out = {"gbstats": version("gbstats"), "python": platform.python_version(), "cases": cases}
    (HERE / "experiments_gbstats.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
