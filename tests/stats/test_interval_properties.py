"""Property tests: intervals stay in range, contain the estimate, nest by level, and p-values are probabilities."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st
from property_settings import examples

import causalinfer as ci

S = ci.stats
counts = st.integers(min_value=1, max_value=300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))
levels = st.sampled_from([0.8, 0.9, 0.95, 0.99])


@examples(60)
@given(counts, levels, st.sampled_from(["wilson", "agresti-coull", "clopper-pearson", "jeffreys", "wald"]))
def test_proportion_interval_in_unit_range(xn, level, method):
    x, n = xn
    r = S.proportion(x, n, method=method, conf_level=level)
    assert 0.0 <= r.ci_low <= r.estimate <= r.ci_high <= 1.0
    wider = S.proportion(x, n, method=method, conf_level=min(0.999, level + 0.005))
    assert wider.ci_low <= r.ci_low + 1e-12
    assert r.ci_high <= wider.ci_high + 1e-12


@examples(60)
@given(counts, counts, levels, st.sampled_from(["newcombe", "wald", "agresti-caffo", "score"]))
def test_difference_interval_in_range(a, b, level, method):
    r = S.diff_proportions((a[0], b[0]), n=(a[1], b[1]), method=method, conf_level=level)
    assert -1.0 <= r.ci_low <= r.ci_high <= 1.0
    if method in ("newcombe", "wald", "score"):
        assert r.ci_low <= r.estimate + 1e-12
        assert r.estimate <= r.ci_high + 1e-12


@examples(40)
@given(st.lists(st.integers(0, 12), min_size=4, max_size=4), st.sampled_from(["two-sided", "less", "greater"]))
def test_fisher_two_by_two(cells, alternative):
    table = [[cells[0], cells[1]], [cells[2], cells[3]]]
    if min(cells[0] + cells[1], cells[2] + cells[3], cells[0] + cells[2], cells[1] + cells[3]) == 0:
        return
    r = S.fisher_test(table, alternative=alternative)
    assert 0.0 <= r.pvalue <= 1.0
    assert r.ci_low <= r.estimate <= r.ci_high
    b = S.binom_test(cells[0], cells[0] + cells[1] or 1, alternative=alternative) if cells[0] + cells[1] else None
    assert b is None or 0.0 <= b.pvalue <= 1.0


@examples(40)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=40), st.floats(0.05, 0.95))
def test_quantile_interval_brackets_estimate(values, q):
    r = S.quantile_ci(values, q)
    assert r.ci_low <= r.estimate <= r.ci_high
    cover = r.details["achieved_coverage"]
    if math.isfinite(r.ci_low) and math.isfinite(r.ci_high):
        assert cover >= 0.95 - 1e-12
