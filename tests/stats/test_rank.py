"""Rank tests against R (tests/reference/rank.R -> rank.json) and scipy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged
from causalinfer.stats._rankdist import psignrank, pwilcox, qsignrank, qwilcox, wilcox_counts


def _num(v):
    return float(v.replace("Inf", "inf")) if isinstance(v, str) else v


def _run(fn, case):
    y = case.get("y")
    return fn(np.asarray(case["x"], dtype=float), None if y is None else np.asarray(y, dtype=float), **(case["args"] or {}))


@pytest.mark.parametrize(("fn", "key"), [(ci.stats.mann_whitney, "mann_whitney"), (ci.stats.wilcoxon, "wilcoxon")])
def test_wilcox_against_r(reference, fn, key):
    cases = reference("rank")[key]
    assert len(cases) >= 10
    methods = set()
    for case in cases:
        r = _run(fn, case)
        e = case["expected"]
        name = case["name"]
        assert r.method == e["method"], name
        methods.add(r.method)
        assert r.statistic == e["statistic"], name
        assert r.pvalue == pytest.approx(e["pvalue"], rel=1e-10), name
        assert r.estimate == pytest.approx(e["estimate"], rel=1e-10, abs=1e-12), name
        for got, want in ((r.ci_low, _num(e["ci"][0])), (r.ci_high, _num(e["ci"][1]))):
            if math.isinf(want):
                assert got == want, name
            else:
                assert got == pytest.approx(want, rel=1e-10, abs=1e-12), name
        assert r.conf_level == pytest.approx(e["conf_level"], rel=1e-12), name
        rb = r.effect_size("rank_biserial")
        assert rb.estimate == pytest.approx(e["rank_biserial"], rel=1e-12, abs=1e-15), name
        assert [rb.ci_low, rb.ci_high] == pytest.approx(e["rank_biserial_ci"], rel=1e-12, abs=1e-15), name
        check_result(r)
    assert any("exact" in m for m in methods)
    assert any("continuity" in m for m in methods)


def test_kruskal_against_r(reference):
    for case in reference("rank")["kruskal"]:
        r = ci.stats.kruskal_wallis(*[np.asarray(g, dtype=float) for g in case["groups"]])
        e = case["expected"]
        assert r.statistic == pytest.approx(e["statistic"], rel=1e-12)
        assert r.df == e["df"]
        assert r.pvalue == pytest.approx(e["pvalue"], rel=1e-10)
        assert r.effect_size("epsilon_squared").estimate == pytest.approx(e["epsilon_squared"], rel=1e-12)
        assert r.method == "Kruskal-Wallis rank sum test"
        check_result(r)


def test_brunner_munzel_against_r_and_scipy(reference):
    for case in reference("rank")["brunner_munzel"]:
        x, y = np.asarray(case["x"], dtype=float), np.asarray(case["y"], dtype=float)
        r = ci.stats.brunner_munzel(x, y, **(case["args"] or {}))
        e = case["expected"]
        for f in ("estimate", "std_error", "statistic", "df", "pvalue"):
            assert getattr(r, f) == pytest.approx(e[f], rel=1e-10), (case["name"], f)
        assert [r.ci_low, r.ci_high] == pytest.approx(e["ci"], rel=1e-10)
        alt = (case["args"] or {}).get("alternative", "two-sided")
        # scipy reports -W but its alternatives mean the same direction as ours ("greater": x tends to be larger)
        sp = stats.brunnermunzel(x, y, alternative=alt)
        assert r.statistic == pytest.approx(-sp.statistic, rel=1e-12)
        assert r.pvalue == pytest.approx(sp.pvalue, rel=1e-10)
        check_result(r)


def test_exact_distributions_against_scipy_and_symmetry():
    # pwilcox is the Mann-Whitney U distribution; compare with scipy's exact mannwhitneyu on no-tie data
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=7), rng.normal(size=11)
    u = stats.mannwhitneyu(x, y, method="exact", alternative="less")
    assert pwilcox(u.statistic, 7, 11) == pytest.approx(u.pvalue, rel=1e-12)
    counts = wilcox_counts(7, 11)
    assert sum(counts) == math.comb(18, 7)
    assert counts == counts[::-1]
    assert pwilcox(-1, 3, 4) == 0.0
    assert pwilcox(12, 3, 4) == 1.0
    assert qwilcox(0.5, 5, 5) == 12
    assert qsignrank(0.5, 10) == 27
    assert psignrank(27, 10) + psignrank(27, 10, lower=False) == pytest.approx(1.0)


def test_long_form_and_paired_columns():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"y": np.round(rng.normal(size=40), 2), "g": np.repeat(["t", "c"], 20), "pre": rng.normal(size=40)})
    r = check_unchanged(df, lambda d: ci.stats.mann_whitney("y", data=d, group="g"))
    r2 = ci.stats.mann_whitney(df.y[df.g == "c"].to_numpy(), df.y[df.g == "t"].to_numpy())
    assert r.statistic == r2.statistic
    assert r.estimate == pytest.approx(r2.estimate)
    p = check_unchanged(df, lambda d: ci.stats.wilcoxon("y", "pre", data=d))
    assert p.statistic == ci.stats.wilcoxon(df.y.to_numpy(), df.pre.to_numpy()).statistic
    k = check_unchanged(df, lambda d: ci.stats.kruskal_wallis("y", data=d, group="g"))
    assert k.pvalue == pytest.approx(stats.kruskal(df.y[df.g == "c"], df.y[df.g == "t"]).pvalue, rel=1e-12)
    b = check_unchanged(df, lambda d: ci.stats.brunner_munzel("y", data=d, group="g"))
    check_result(b)
    check_nested_intervals(ci.stats.mann_whitney, df.y[:20].to_numpy(), df.y[20:].to_numpy())
    check_nested_intervals(ci.stats.mann_whitney, df.y[:20].to_numpy() + 0.001 * np.arange(20), df.pre[20:].to_numpy())
    check_nested_intervals(ci.stats.wilcoxon, df.y.to_numpy())
    check_nested_intervals(ci.stats.wilcoxon, rng.normal(size=15))
    check_nested_intervals(ci.stats.brunner_munzel, df.y[:20].to_numpy(), df.y[20:].to_numpy())


def test_tie_and_zero_diagnostics():
    r = ci.stats.mann_whitney([1.0, 2.0, 2.0, 3.0], [2.0, 4.0, 5.0], exact=True)
    assert "continuity" in r.method
    assert r.diagnostic("ties").status == "warn"
    w = ci.stats.wilcoxon([0.0, 1.2, -0.5, 2.3, 1.1, 0.7])
    assert w.details["n_zero"] == 1
    assert w.diagnostic("zeros").status == "ok"
    k = ci.stats.kruskal_wallis([1.0, 2.0], [3.0, 4.0], [5.0, 5.0])
    assert k.diagnostic("group size").status == "warn"
    assert k.diagnostic("ties").value == 2


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "exc", "match"),
    [
        (ci.stats.mann_whitney, ([1.0, 2.0],), {}, ci.ArgumentError, "`y`"),
        (ci.stats.mann_whitney, ([1.0, 2.0], []), {}, ci.DataError, "at least 1"),
        (ci.stats.mann_whitney, ([1.0, 1.0], [1.0]), {}, ci.DataError, "all values are identical"),
        (ci.stats.mann_whitney, ([1.0, 1.0, 1.0], [1.0, 1.0]), {}, ci.DataError, "all values are identical"),
        (ci.stats.mann_whitney, ([1.0, np.nan], [1.0, 2.0]), {}, ci.DataError, "missing value"),
        (ci.stats.mann_whitney, ([1.0, 2.0], [1.0, 3.0]), {"alternative": "two.sided"}, ci.ArgumentError, "alternative"),
        (ci.stats.mann_whitney, ([1.0, 2.0], [1.0, 3.0]), {"conf_level": 95}, ci.ArgumentError, "conf_level"),
        (ci.stats.mann_whitney, ([1.0, 2.0], [1.0, 3.0]), {"exact": "yes"}, ci.ArgumentTypeError, "exact"),
        (ci.stats.mann_whitney, ([1.0, 2.0], [1.0, 3.0]), {"mu": np.inf}, ci.ArgumentError, "mu"),
        (ci.stats.mann_whitney, (np.arange(300.0), np.arange(200.0) + 0.5), {"exact": True}, ci.ArgumentError, "exact=False"),
        (ci.stats.wilcoxon, (np.arange(1.0, 600.0),), {"exact": True}, ci.ArgumentError, "exact=False"),
        (ci.stats.wilcoxon, ([],), {}, ci.DataError, "at least 1"),
        (ci.stats.wilcoxon, ([0.0, 0.0],), {}, ci.DataError, "all differences"),
        (ci.stats.wilcoxon, ([0.0, 0.0, 0.0],), {}, ci.DataError, "are zero"),
        (ci.stats.wilcoxon, ([1.0, 2.0], [1.0]), {}, ci.DataError, "same length"),
        (ci.stats.wilcoxon, ([1.0, np.inf],), {}, ci.DataError, "infinite"),
        (ci.stats.wilcoxon, ([1.0, 2.0],), {"conf_level": 0.0}, ci.ArgumentError, "conf_level"),
        (ci.stats.kruskal_wallis, ([1.0, 2.0],), {}, ci.DataError, "at least 2 samples"),
        (ci.stats.kruskal_wallis, ([1.0, 1.0], [1.0]), {}, ci.DataError, "all values are equal"),
        (ci.stats.kruskal_wallis, ([1.0], []), {}, ci.DataError, "at least 1"),
        (ci.stats.brunner_munzel, ([1.0], [2.0, 3.0]), {}, ci.DataError, "at least 2"),
        (ci.stats.brunner_munzel, ([1.0, 2.0], [3.0, 4.0]), {}, ci.DataError, "do not overlap"),
        (ci.stats.brunner_munzel, ([1.0, 2.0], [1.5, 4.0]), {"alternative": "bigger"}, ci.ArgumentError, "alternative"),
    ],
)
def test_bad_input(fn, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fn(*args, **kwargs)


@pytest.mark.slow
def test_hodges_lehmann_coverage():
    """Exact and asymptotic HL intervals cover the true shift at (at least) the nominal rate."""
    rng = np.random.default_rng(20261128)
    n_exact, n_asym, shift = 400, 150, 0.7
    hits_exact = hits_asym = 0
    for i in range(n_exact):
        x = rng.standard_t(3, 15) + shift
        y = rng.standard_t(3, 12)
        r = ci.stats.mann_whitney(x, y)
        hits_exact += r.ci_low <= shift <= r.ci_high
        if i < n_asym:
            ra = ci.stats.mann_whitney(rng.standard_t(3, 60) + shift, rng.standard_t(3, 55))
            hits_asym += ra.ci_low <= shift <= ra.ci_high
    assert hits_exact / n_exact > 0.95 - 3 * np.sqrt(0.95 * 0.05 / n_exact)  # exact intervals are conservative
    assert abs(hits_asym / n_asym - 0.95) < 3 * np.sqrt(0.95 * 0.05 / n_asym) + 0.01


@pytest.mark.slow
def test_pseudomedian_coverage():
    rng = np.random.default_rng(99)
    n_sim, hits = 500, 0
    for _ in range(n_sim):
        r = ci.stats.wilcoxon(rng.logistic(0.3, 1, 20))
        hits += r.ci_low <= 0.3 <= r.ci_high
    assert hits / n_sim > 0.95 - 3 * np.sqrt(0.95 * 0.05 / n_sim)
