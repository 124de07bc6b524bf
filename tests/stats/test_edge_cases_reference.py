"""Edge cases checked against R (tests/reference/edge_cases.R -> edge_cases.json).

Degenerate Fisher tables, Kendall's test at n = 2 and with a tiny exact tail, a t-test whose effect-size interval
cannot be found, power calculations below n = 2 and at tiny significance levels, and Wilcoxon with tied data.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from reference_data import load_reference

import causalinfer as ci
from causalinfer.exceptions import DataError

REF = load_reference("edge_cases")
ALT = {"two.sided": "two-sided", "less": "less", "greater": "greater"}


def _num(v: object) -> float:
    return {"Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}.get(v, v)  # type: ignore[arg-type, return-value]


@pytest.mark.parametrize(
    "case", REF["fisher"], ids=[f"{np.asarray(c['table']).astype(int).tolist()}-{c['alternative']}" for c in REF["fisher"]]
)
def test_fisher_degenerate_2x2(case: dict) -> None:
    r = ci.stats.fisher_test(np.asarray(case["table"], dtype=float), alternative=ALT[case["alternative"]])
    assert r.pvalue == case["pvalue"]
    assert r.estimate == _num(case["estimate"])
    assert (r.ci_low, r.ci_high) == (_num(case["ci_low"]), _num(case["ci_high"]))


@pytest.mark.parametrize("case", REF["fisher_rxc"], ids=["zeros", "zero-column", "zero-row"])
def test_fisher_degenerate_rxc(case: dict) -> None:
    table = np.asarray(case["table"], dtype=float)
    if "error" in case:
        with pytest.raises(DataError, match="every cell"):
            ci.stats.fisher_test(table)
    else:
        assert ci.stats.fisher_test(table).pvalue == case["pvalue"]


def test_kendall_two_points_large_sample() -> None:
    ref = REF["kendall_two"]
    r = ci.stats.correlation([1, 2], [2, 1], method="kendall", exact=False)
    assert r.estimate == ref["estimate"]
    assert ref["statistic"] == "NaN" and ref["pvalue"] == "NaN"
    assert r.statistic is None and r.pvalue is None
    assert any(d.name == "large-sample test" and d.status == "warn" and "NaN" in d.message for d in r.diagnostics)


def _kendall_upper_tail_exact(n: int, t: int) -> float:
    """P(T >= t) from the integer Mahonian numbers: an exact value, independent of both implementations."""
    counts = [1]
    for m in range(2, n + 1):
        prefix = [0]
        for c in counts:
            prefix.append(prefix[-1] + c)
        size = len(counts) + m - 1
        counts = [prefix[min(k, len(counts) - 1) + 1] - prefix[max(0, k - m + 1)] for k in range(size)]
    return float(Fraction(sum(counts[t:]), math.factorial(n)))


def test_kendall_exact_tiny_tail() -> None:
    """R's two-sided value (8.9e-14) is 1 - cdf and has lost its digits; R's own lower tail is summed directly.

    The upper tail here is checked against R's directly summed lower tail of the mirrored data and against exact
    integer arithmetic; both give 5.374e-16, so the two-sided p-value is 1.0748e-15, not R's 8.9e-14.
    """
    ref = REF["kendall_exact"]
    x, y = np.asarray(ref["x"]), np.asarray(ref["y"])
    r = ci.stats.correlation(x, y, method="kendall", exact=True)
    assert r.estimate == pytest.approx(ref["estimate"], rel=1e-12)
    assert r.statistic == ref["statistic"]
    exact = _kendall_upper_tail_exact(x.size, int(ref["statistic"]))
    assert r.pvalue == pytest.approx(2 * exact, rel=1e-9)
    assert r.pvalue == pytest.approx(2 * ref["pvalue_less_negated"], rel=1e-9)
    greater = ci.stats.correlation(x, y, method="kendall", exact=True, alternative="greater")
    assert greater.pvalue == pytest.approx(ref["pvalue_less_negated"], rel=1e-9)
    assert ref["pvalue"] > 10 * r.pvalue  # R's 1 - cdf value is off by two orders of magnitude


def test_ttest_effect_size_interval_failure_does_not_sink_the_test() -> None:
    ref = REF["ttest_near_constant"]
    r = ci.stats.ttest(ref["x"])
    assert r.statistic == pytest.approx(ref["statistic"], rel=1e-9)
    assert r.pvalue == pytest.approx(ref["pvalue"], rel=1e-9)
    assert (r.ci_low, r.ci_high) == pytest.approx((ref["ci_low"], ref["ci_high"]), rel=1e-12)
    d = r.effect_sizes[0]
    assert d.name == "Cohen's d" and d.ci_low is None and d.estimate == pytest.approx(r.statistic / math.sqrt(3))
    assert any(x.name == "effect size interval" and x.status == "warn" for x in r.diagnostics)


POWER = REF["power"]


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"delta": 1, "sd": 1, "sig_level": 0.2, "power": 0.2}, "n_small"),
        ({"n": 0.74, "delta": 1}, "power_n074"),
        ({"n": 1, "delta": 1}, "power_n1"),
        ({"n": 1.5, "delta": 1}, "power_n15"),
        ({"n": 1.5, "delta": 1, "type": "one-sample"}, "power_n15_one"),
        ({"n": 50, "delta": 2, "power": 0.9, "sig_level": None}, "sig_tiny"),
        ({"n": 20, "delta": 2, "power": 0.9, "sig_level": None}, "sig_small"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_power_ttest_small_n_and_tiny_levels(kwargs: dict, key: str) -> None:
    r = ci.stats.power_ttest(**kwargs)
    assert r.estimate == pytest.approx(POWER[key], rel=1e-8, abs=1e-300)


def test_power_prop_test_solution_below_p1() -> None:
    r = ci.stats.power_prop_test(n=100, p1=0.99, power=0.9)
    assert r.estimate == pytest.approx(POWER["prop_p2"], rel=1e-8)


@pytest.mark.parametrize("case", REF["wilcoxon_tied"], ids=["all-ones", "tied-signs", "all-zero"])
def test_wilcoxon_all_tied(case: dict) -> None:
    if case["pvalue"] == "NaN":
        with pytest.raises(DataError, match="zero"):
            ci.stats.wilcoxon(case["x"])
        return
    r = ci.stats.wilcoxon(case["x"])
    assert r.statistic == case["statistic"]
    assert r.pvalue == pytest.approx(case["pvalue"], rel=1e-12)
    if r.ci_low is None:
        assert any(d.name == "interval" and d.status == "warn" for d in r.diagnostics)


def test_mann_whitney_constant_samples() -> None:
    ref = REF["mann_whitney_constant"]
    r = ci.stats.mann_whitney(ref["x"], ref["y"])
    assert r.statistic == ref["statistic"]
    assert r.pvalue == pytest.approx(ref["pvalue"], rel=1e-12)
    assert r.ci_low is None and any(d.name == "interval" and d.status == "warn" for d in r.diagnostics)
