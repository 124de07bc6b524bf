"""Proportions and tables: input forms, bad input, contract checks, bundled-data result and coverage simulations."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged

S = ci.stats


# ------------------------------------------------------------------ bundled data, cross-checked with R
def test_lalonde_zero_earnings_by_treatment():
    ref = json.loads((Path(__file__).parents[1] / "reference" / "lalonde_proportions.json").read_text(encoding="utf-8"))
    ds = ci.load_dataset("lalonde")
    kw = dict(data=ds, group="treat", levels=(1, 0), success=0)
    d = S.diff_proportions("re78", **kw)
    assert d.details["groups"]["successes"].tolist() == ref["successes"]
    assert d.details["groups"]["trials"].tolist() == ref["trials"]
    for f in ("estimate", "ci_low", "ci_high"):
        assert getattr(d, f) == pytest.approx(ref["newcombe"][f], rel=1e-12)
    for key, correct in (("prop_test", True), ("prop_test_uncorrected", False)):
        t = S.prop_test("re78", correct=correct, **kw)
        for f in ("statistic", "pvalue", "ci_low", "ci_high"):
            assert getattr(t, f) == pytest.approx(ref[key][f], rel=1e-12)
    frame = ds.frame.assign(zero78=ds.frame["re78"] == 0)
    c = S.chisq_test("treat", "zero78", data=frame)
    assert c.statistic == pytest.approx(ref["chisq"]["statistic"], rel=1e-12)
    assert c.pvalue == pytest.approx(ref["chisq"]["pvalue"], rel=1e-12)
    f = S.fisher_test("treat", "zero78", data=frame)
    assert f.pvalue == pytest.approx(ref["fisher"]["pvalue"], rel=1e-10)
    # R's fisher.test estimate is computed with uniroot's default tolerance; reordering both rows and columns
    # (0 before 1, False before True) leaves the odds ratio unchanged
    assert f.estimate == pytest.approx(ref["fisher"]["estimate"], rel=1e-4)
    check_result(d)
    check_result(c)


# ------------------------------------------------------------------ input forms agree
def test_input_forms_agree():
    rng = np.random.default_rng(4)
    a = rng.random(40) < 0.6
    b = rng.random(55) < 0.35
    counts = S.diff_proportions((a.sum(), b.sum()), n=(a.size, b.size))
    arrays = S.diff_proportions(a, b)
    table = S.diff_proportions([[a.sum(), a.size - a.sum()], [b.sum(), b.size - b.sum()]])
    df = pd.DataFrame({"y": np.r_[a, b].astype(int), "g": ["t"] * a.size + ["c"] * b.size})
    long = check_unchanged(df, lambda d: S.diff_proportions("y", data=d, group="g", levels=("t", "c")))
    for r in (arrays, table, long):
        assert r.estimate == counts.estimate
        assert r.ci == counts.ci
    labelled = pd.DataFrame({"outcome": np.where(a, "yes", "no")})
    p1 = check_unchanged(labelled, lambda d: S.proportion("outcome", data=d, success="yes"))
    p2 = S.proportion(int(a.sum()), a.size)
    assert p1.estimate == p2.estimate
    assert p1.ci == p2.ci
    assert S.proportion(a).ci == p2.ci


def test_paired_table_from_columns():
    rng = np.random.default_rng(8)
    before = rng.random(120) < 0.4
    after = np.where(rng.random(120) < 0.8, before, ~before) | (rng.random(120) < 0.1)
    df = pd.DataFrame({"before": before, "after": after})
    r = check_unchanged(df, lambda d: S.mcnemar_test("before", "after", data=d))
    t = np.array([[np.sum(before & after), np.sum(before & ~after)], [np.sum(~before & after), np.sum(~before & ~after)]])
    assert r.statistic == S.mcnemar_test(t).statistic
    check_result(r)


def test_chisq_two_columns_and_goodness_of_fit_from_column():
    df = pd.DataFrame({"a": list("xxyyzzxyzx" * 6), "b": list("ppqpqqpqpp" * 6)})
    r = check_unchanged(df, lambda d: S.chisq_test("a", "b", data=d))
    assert r.df == 2
    assert r.n == 60
    g = check_unchanged(df, lambda d: S.chisq_test("a", data=d))
    counts = df["a"].value_counts().sort_index().to_numpy()
    assert g.statistic == pytest.approx(S.chisq_test(counts).statistic)
    check_result(r)
    check_result(g)


def test_contract_and_nested_intervals():
    for method in ("wilson", "agresti-coull", "clopper-pearson", "jeffreys", "wald"):
        check_nested_intervals(S.proportion, 7, 31, method=method)
        check_result(S.proportion(7, 31, method=method))
    for method in ("newcombe", "wald", "agresti-caffo", "score"):
        check_nested_intervals(S.diff_proportions, (14, 9), n=(30, 33), method=method)
        check_result(S.diff_proportions((14, 9), n=(30, 33), method=method))
    check_nested_intervals(S.ratio_proportions, (14, 9), n=(30, 33))
    check_nested_intervals(S.odds_ratio, (14, 9), n=(30, 33))
    check_nested_intervals(S.odds_ratio, (14, 9), n=(30, 33), method="conditional")
    check_nested_intervals(S.prop_test, 14, 30)
    check_nested_intervals(S.prop_test, (14, 9), (30, 33))
    check_nested_intervals(S.binom_test, 14, 30)
    check_nested_intervals(S.fisher_test, [[14, 16], [9, 24]])
    for r in (
        S.fisher_test([[14, 16], [9, 24]]),
        S.fisher_test([[3, 1, 2], [1, 3, 4]]),
        S.g_test([[14, 16], [9, 24]]),
        S.mcnemar_test([[10, 4], [9, 12]]),
    ):
        check_result(r)


def test_diagnostics_and_effect_sizes():
    r = S.chisq_test([[3, 1], [1, 3]])
    assert r.diagnostic("expected counts").status == "warn"
    assert "fisher_test" in r.diagnostic("expected counts").message
    names = [e.name for e in r.effect_sizes]
    assert names == ["Cramer's V", "odds ratio", "risk ratio"]
    big = S.chisq_test([[30, 10, 12], [12, 25, 30]])
    assert [e.name for e in big.effect_sizes] == ["Cramer's V"]
    assert big.diagnostic("expected counts").status == "ok"
    p = S.prop_test((20, 8), n=(40, 41))
    assert {e.name for e in p.effect_sizes} == {"odds ratio", "risk ratio"}
    assert S.proportion(1, 30, method="wald").diagnostic("small counts").status == "warn"


def test_degenerate_but_valid():
    # zero successes: Wilson and Clopper-Pearson intervals start at 0, as R's
    r = S.proportion(0, 20)
    assert r.estimate == 0
    assert r.ci_low == 0
    assert r.ci_high > 0
    assert S.binom_test(0, 20).ci_low == 0.0
    assert S.proportion(20, 20, method="clopper-pearson").ci_high == 1.0
    # conditional odds ratio at a boundary: 0 with an exact upper limit
    o = S.odds_ratio([[0, 10], [6, 4]], method="conditional")
    assert o.estimate == 0.0
    assert o.ci_low == 0.0
    assert math.isfinite(o.ci_high)
    assert S.odds_ratio([[10, 0], [6, 4]], method="conditional").estimate == math.inf
    # r x c with a single table
    assert S.fisher_test([[2, 0, 0], [0, 2, 0]]).pvalue <= 1.0


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "exc", "match"),
    [
        ("proportion", (5,), {}, ci.ArgumentError, "`n`"),
        ("proportion", (12, 10), {}, ci.DataError, "must not exceed"),
        ("proportion", (-1, 10), {}, ci.DataError, "non-negative"),
        ("proportion", (2.5, 10), {}, ci.DataError, "whole number"),
        ("proportion", (3, 0), {}, ci.DataError, "`n`"),
        ("proportion", ([],), {}, ci.DataError, "at least 1"),
        ("proportion", ([0, 1, 2],), {}, ci.DataError, "binary"),
        ("proportion", ([0, 1, np.nan],), {}, ci.DataError, "missing"),
        ("proportion", (3, 10), {"method": "exact"}, ci.ArgumentError, "`method`"),
        ("proportion", (3, 10), {"conf_level": 95}, ci.ArgumentError, "`conf_level`"),
        ("proportion", (3, 10), {"alternative": "both"}, ci.ArgumentError, "`alternative`"),
        ("proportion", (np.inf, 10), {}, ci.DataError, "finite"),
        ("diff_proportions", ((3, 4),), {"n": (10, 3)}, ci.DataError, "must not exceed"),
        ("diff_proportions", ((3, 4, 5),), {"n": (10, 10, 10)}, ci.DataError, "two counts"),
        ("diff_proportions", ([[1, -2], [3, 4]],), {}, ci.DataError, "non-negative"),
        ("diff_proportions", ((3,),), {}, ci.ArgumentError, "two proportions need"),
        ("diff_proportions", ((3, 4),), {"n": (10, 10), "method": "newcombe11"}, ci.ArgumentError, "`method`"),
        ("ratio_proportions", ((0, 4),), {"n": (10, 10)}, ci.DataError, "no successes"),
        ("odds_ratio", ([[0, 4], [3, 5]],), {}, ci.DataError, "method='conditional'"),
        ("prop_test", (3, 10), {"p": 1.2}, ci.ArgumentError, "`p`"),
        ("prop_test", (3, 10), {"p": 0.0}, ci.ArgumentError, "`p`"),
        ("prop_test", ((3, 4), (10, 10)), {"p": 0.5}, ci.ArgumentError, "`p`"),
        ("prop_test", ((0, 0), (10, 10)), {}, ci.DataError, "undefined"),
        ("prop_test", (3, 10), {"correct": "yes"}, ci.ArgumentTypeError, "`correct`"),
        ("binom_test", (3, 10), {"p": -0.1}, ci.ArgumentError, "`p`"),
        ("binom_test", (11, 10), {}, ci.DataError, "must not exceed"),
        ("mcnemar_test", ([[5, 0], [0, 7]],), {}, ci.DataError, "discordant"),
        ("mcnemar_test", ([1, 0, 1], [1, 1]), {}, ci.DataError, "same length"),
        ("chisq_test", ([[1, 2], [3, -4]],), {}, ci.DataError, "non-negative"),
        ("chisq_test", ([[1, 2], [0, 0]],), {}, ci.DataError, "no observations"),
        ("chisq_test", ([10, 20, 30],), {"p": [0.5, 0.5]}, ci.ArgumentError, "one probability per category"),
        ("chisq_test", ([10, 20, 30],), {"p": [0.5, 0.3, 0.3]}, ci.ArgumentError, "sum to 1"),
        ("chisq_test", ([10, 20, 30],), {"p": [1.5, -0.3, -0.2]}, ci.ArgumentError, "non-negative"),
        ("chisq_test", ([[1, 2], [3, 4]],), {"conf_level": 0}, ci.ArgumentError, "`conf_level`"),
        ("chisq_test", ([1.5, 2],), {}, ci.DataError, "whole-number"),
        ("g_test", ([[1, 2], [3, np.nan]],), {}, ci.DataError, "missing"),
        ("fisher_test", ([[1, 2, 3], [3, 4, 5]],), {"alternative": "less"}, ci.ArgumentError, "`alternative`"),
        ("fisher_test", ([[1, 2], [3, 4]],), {"odds_ratio": -1.0}, ci.ArgumentError, "`odds_ratio`"),
        ("fisher_test", ([1, 2, 3],), {}, ci.DataError, "at least 2 rows"),
        ("fisher_test", ([[30, 25, 20, 25], [20, 30, 25, 20], [25, 20, 30, 25]],), {"max_tables": 1000}, ci.DataError, "chisq_test"),
    ],
)
def test_bad_input(fn, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        getattr(S, fn)(*args, **kwargs)


def test_column_name_without_data():
    with pytest.raises(ci.ArgumentTypeError, match="no `data`"):
        S.proportion("y")
    with pytest.raises(ci.RoleError, match="did you mean 'treat'"):
        S.diff_proportions("re78", data=ci.load_dataset("lalonde").frame, group="treet", success=0)


def test_fisher_rxc_matches_brute_force_hypergeometric():
    from itertools import product

    from scipy.stats import multivariate_hypergeom

    t = np.array([[2, 1, 0], [0, 2, 3]])
    rows, cols = t.sum(axis=1), t.sum(axis=0)

    def prob(tab):
        # P(table | margins) = prod over rows of multivariate hypergeometric draws
        p, left = 1.0, cols.copy()
        for r in tab[:-1]:
            p *= multivariate_hypergeom.pmf(r, left, int(r.sum()))
            left = left - r
        return p

    p_obs = prob(t)
    total = 0.0
    for first in product(*(range(c + 1) for c in cols)):
        first = np.array(first)
        if first.sum() != rows[0]:
            continue
        tab = np.vstack([first, cols - first])
        pr = prob(tab)
        if pr <= p_obs * (1 + 1e-7):
            total += pr
    assert S.fisher_test(t).pvalue == pytest.approx(total, rel=1e-12)


# ------------------------------------------------------------------ coverage simulations (binomial check)
def _coverage(fn, p_true, n, n_sim, rng, **kw):
    xs = rng.binomial(n, p_true, size=n_sim)
    hits = 0
    for x in xs:
        r = fn(int(x), n, **kw)
        hits += r.ci_low <= p_true <= r.ci_high
    return hits / n_sim


@pytest.mark.slow
@pytest.mark.parametrize("method", ["wilson", "clopper-pearson", "agresti-coull"])
def test_coverage_one_proportion(method):
    rng = np.random.default_rng(20261128)
    n_sim = 2000
    cover = _coverage(S.proportion, 0.3, 40, n_sim, rng, method=method)
    se = math.sqrt(0.95 * 0.05 / n_sim)
    # close to nominal; Clopper-Pearson is conservative by design (coverage >= 95%)
    assert cover > 0.95 - 3 * se - 0.01, cover
    if method == "clopper-pearson":
        assert cover < 0.995
    else:
        assert cover < 0.95 + 3 * se + 0.02, cover


@pytest.mark.slow
def test_coverage_newcombe():
    rng = np.random.default_rng(42)
    n_sim, n1, n2, p1, p2 = 2000, 35, 50, 0.4, 0.2
    x1 = rng.binomial(n1, p1, n_sim)
    x2 = rng.binomial(n2, p2, n_sim)
    hits = 0
    for a, b in zip(x1, x2, strict=True):
        r = S.diff_proportions((int(a), int(b)), n=(n1, n2))
        hits += r.ci_low <= p1 - p2 <= r.ci_high
    cover = hits / n_sim
    se = math.sqrt(0.95 * 0.05 / n_sim)
    assert abs(cover - 0.95) < 3 * se + 0.01, cover
