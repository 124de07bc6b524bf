"""Permutation tests against full enumeration, plus engine properties."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import causalinfer as ci
from causalinfer._testing import check_result


def _enumerate_independent(x, y, stat):
    """p-values (less, greater) and the null distribution by listing every split of the pooled sample."""
    z = np.concatenate([x, y])
    n1 = x.size
    null = []
    for combo in itertools.combinations(range(z.size), n1):
        mask = np.zeros(z.size, bool)
        mask[list(combo)] = True
        null.append(stat(z[mask], z[~mask]))
    return np.array(null)


def _enumerate_paired(x, y, stat):
    null = []
    for signs in itertools.product([False, True], repeat=x.size):
        s = np.array(signs)
        null.append(stat(np.where(s, y, x), np.where(s, x, y)))
    return np.array(null)


def _pvalues(null, obs):
    tol = 1e-9 * max(1.0, abs(obs))
    pg = np.mean(null >= obs - tol)
    pl = np.mean(null <= obs + tol)
    return {"greater": pg, "less": pl, "two-sided": min(1.0, 2 * min(pg, pl))}


def _mean_diff(a, b):
    return a.mean() - b.mean()


def _median_diff(a, b):
    return np.median(a) - np.median(b)


CASES = [
    (np.array([3.1, 4.5, 2.2, 5.9, 4.4, 3.3]), np.array([1.2, 2.8, 2.2, 0.7, 3.5])),
    (np.array([1.0, 2.0, 2.0, 3.0, 7.0, 2.0, 5.0]), np.array([2.0, 2.0, 1.0, 4.0])),  # ties
    (np.array([10.5, 11.2, 9.8, 12.4]), np.array([8.1, 9.9, 10.0, 7.5, 9.1, 8.8, 10.2, 9.4])),  # n1 < n2
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_exact_independent_against_enumeration(case, alternative):
    x, y = CASES[case]
    for name, fn in (("mean_diff", _mean_diff), ("median_diff", _median_diff)):
        want = _pvalues(_enumerate_independent(x, y, fn), fn(x, y))[alternative]
        r = ci.stats.permutation_test(x, y, statistic=name, alternative=alternative, random_state=1)
        assert r.details["exact"]
        assert r.details["n_resamples"] == math.comb(x.size + y.size, x.size)
        assert r.pvalue == pytest.approx(want, rel=1e-12), (name, alternative)
        assert r.details["monte_carlo"]["mc_std_error"].iloc[0] == 0.0


@pytest.mark.parametrize("alternative", ["two-sided", "less", "greater"])
def test_exact_paired_against_enumeration(alternative):
    rng = np.random.default_rng(11)
    x = np.round(rng.normal(5, 1, 10), 1)
    y = np.round(x + rng.normal(0.4, 0.8, 10), 1)
    for name, fn in (("mean_diff", _mean_diff), ("median_diff", _median_diff)):
        want = _pvalues(_enumerate_paired(x, y, fn), fn(x, y))[alternative]
        r = ci.stats.permutation_test(x, y, statistic=name, paired=True, alternative=alternative, random_state=1)
        assert r.details["exact"]
        assert r.details["n_resamples"] == 2**10
        assert r.pvalue == pytest.approx(want, rel=1e-12), (name, alternative)
    # one sample: sign-flip test of the differences, same as the paired test of means
    one = ci.stats.permutation_test(x - y, statistic="mean", alternative=alternative)
    assert one.pvalue == pytest.approx(_pvalues(_enumerate_paired(x, y, _mean_diff), _mean_diff(x, y))[alternative], rel=1e-12)


def test_randomized_within_monte_carlo_error_of_exact():
    """With fewer permutations than arrangements the p-value is random: within 4 MC SEs of the exact one."""
    x = np.array([3.1, 4.5, 2.2, 5.9, 4.4, 3.3, 4.0, 2.5, 3.9])
    y = np.array([1.2, 2.8, 2.2, 0.7, 3.5, 2.9, 3.0, 1.9])
    exact = ci.stats.permutation_test(x, y, n_resamples=30_000)
    assert exact.details["exact"]
    for name, kw in (("mean_diff", {}), ("callable", {"statistic": lambda a, b, axis=-1: a.mean(axis) - b.mean(axis)})):
        r = ci.stats.permutation_test(x, y, n_resamples=20_000, random_state=4, **kw)
        assert not r.details["exact"]
        se = math.sqrt(exact.pvalue * (1 - exact.pvalue) / 20_000) * 2
        assert abs(r.pvalue - exact.pvalue) < 4 * se + 1 / 20_001, name
    xp = np.array([0.5, -0.2, 1.1, 0.8, 0.3, -0.4, 0.9, 1.3, 0.2, 0.6, -0.1, 0.7, 1.0, 0.4])
    exact_p = ci.stats.permutation_test(xp, statistic="mean", n_resamples=2**14)
    rand_p = ci.stats.permutation_test(xp, statistic="mean", n_resamples=8000, random_state=2)
    assert exact_p.details["exact"]
    assert not rand_p.details["exact"]
    se = 2 * math.sqrt(exact_p.pvalue / 2 * (1 - exact_p.pvalue / 2) / 8000)
    assert abs(rand_p.pvalue - exact_p.pvalue) < 4 * se + 2 / 8001


def test_fast_and_general_paths_draw_the_same_permutations():
    rng = np.random.default_rng(6)
    for n1, n2 in ((40, 55), (55, 40), (33, 33)):
        x, y = rng.normal(0.3, 1, n1), rng.normal(0, 1, n2)
        fast = ci.stats.permutation_test(x, y, n_resamples=1000, random_state=8)
        general = ci.stats.permutation_test(
            x, y, statistic=lambda a, b, axis=-1: a.mean(axis) - b.mean(axis), n_resamples=1000, random_state=8
        )
        np.testing.assert_allclose(fast.null_distribution, general.null_distribution, atol=1e-12)
        assert fast.pvalue == general.pvalue
    d = rng.normal(0.2, 1, 80)
    fast = ci.stats.permutation_test(d, d * 0, paired=True, n_resamples=500, random_state=3)
    general = ci.stats.permutation_test(
        d, d * 0, paired=True, statistic=lambda a, b, axis=-1: a.mean(axis) - b.mean(axis), n_resamples=500, random_state=3
    )
    np.testing.assert_allclose(fast.null_distribution, general.null_distribution, atol=1e-12)


def test_reproducible_whatever_threads_and_progress():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=300), rng.normal(size=200)
    base = ci.stats.permutation_test(x, y, n_resamples=3000, random_state=5, n_jobs=1)
    for kw in (dict(n_jobs=2), dict(progress=True)):
        other = ci.stats.permutation_test(x, y, n_resamples=3000, random_state=5, **kw)
        np.testing.assert_array_equal(base.null_distribution, other.null_distribution)
    g1 = ci.stats.permutation_test(x, y, statistic="median_diff", n_resamples=700, random_state=5, memory_budget=2**20)
    g2 = ci.stats.permutation_test(x, y, statistic="median_diff", n_resamples=700, random_state=5)
    np.testing.assert_array_equal(g1.null_distribution, g2.null_distribution)
    assert base.provenance.random_state == 5


def test_null_distribution_is_uniform_over_subsets():
    """The partial shuffle picks every subset with equal probability: counts of each 2-subset of 5 items."""
    from causalinfer.stats import _kernels as K

    order = np.empty((20_000, 5), dtype=np.int64)
    K.perm_indices(5, 2, 123, 0, order)
    keys = np.sort(order[:, :2], axis=1) @ np.array([5, 1])
    counts = np.bincount(keys, minlength=25)[[a * 5 + b for a, b in itertools.combinations(range(5), 2)]]
    expected = 20_000 / 10
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 27.9  # 99.9% point of chi-square with 9 df


def test_result_contract_and_plot():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(9)
    r = ci.stats.permutation_test(rng.exponential(size=40), rng.exponential(size=50), n_resamples=999, random_state=1)
    check_result(r)
    assert isinstance(r, ci.stats.PermutationResult)
    assert r.statistic_name == "mean difference"
    assert r.method.startswith("Permutation test (independent samples")
    ax = r.plot()
    assert len(ax.patches) > 5
    plt.close("all")
    check_result(ci.stats.permutation_test([1.0, 2.0, 4.0], [3.0, 5.0, 6.0]))


def test_three_samples_callable():
    rng = np.random.default_rng(10)
    a, b, c = rng.normal(0, 1, 20), rng.normal(0.5, 1, 25), rng.normal(1, 1, 30)

    def f_stat(*s, axis=-1):
        means = [x.mean(axis=axis) for x in s]
        grand = sum(m * x.shape[-1] for m, x in zip(means, s, strict=False)) / sum(x.shape[-1] for x in s)
        return sum(x.shape[-1] * (m - grand) ** 2 for m, x in zip(means, s, strict=False))

    r = ci.stats.permutation_test(a, b, c, statistic=f_stat, alternative="greater", n_resamples=2000, random_state=1)
    assert not r.details["exact"]
    assert 0 < r.pvalue < 0.05


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        (([], [1.0, 2.0]), {}, ci.DataError, "`x` has 0 observation"),
        (([1.0], [1.0, 2.0]), {}, ci.DataError, "`x` has 1 observation"),
        (([1.0, np.nan], [1.0, 2.0]), {}, ci.DataError, "missing value"),
        (([1.0, 2.0], [1.0, 2.0]), dict(n_resamples=0), ci.ArgumentError, "n_resamples"),
        (([1.0, 2.0], [1.0, 2.0]), dict(alternative="two.sided"), ci.ArgumentError, "alternative"),
        (([1.0, 2.0], [1.0, 2.0]), dict(statistic="mean_dif"), ci.ArgumentError, "did you mean 'mean_diff'"),
        (([1.0, 2.0], [1.0, 2.0]), dict(statistic=lambda a, b, axis=-1: np.zeros(3)), ci.ArgumentError, "one number"),
        (([1.0, 2.0, 3.0],), dict(statistic="median_diff"), ci.ArgumentError, "needs two samples"),
        (([1.0, 2.0, 3.0], [1.0, 2.0]), dict(paired=True), ci.DataError, "same length"),
        (([1.0, 2.0], [1.0, 2.0], [3.0, 4.0]), dict(paired=True), ci.ArgumentError, "exactly two samples"),
    ],
)
def test_bad_input(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ci.stats.permutation_test(*args, **kwargs)


def test_memory_budget_smaller_than_a_block_gives_the_same_permutations():
    """With samples so large that fewer than 64 permutations fit the budget, blocks are walked in pieces."""
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=4000), rng.normal(size=3000)
    kw = dict(statistic="median_diff", n_resamples=150, random_state=3)
    small = ci.stats.permutation_test(x, y, memory_budget=2**20, **kw)  # 1 MiB: 3 permutations per batch
    large = ci.stats.permutation_test(x, y, **kw)
    np.testing.assert_array_equal(small.null_distribution, large.null_distribution)


def test_examples_run():
    import doctest
    import importlib

    for name in ("_bootstrap", "_permutation"):
        module = importlib.import_module(f"causalinfer.stats.{name}")
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0
        assert result.failed == 0
