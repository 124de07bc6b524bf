"""Bootstrap intervals against R's boot.ci (tests/reference/boot.R -> boot.json), plus engine properties."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from property_settings import examples
from scipy import stats

import causalinfer as ci
from causalinfer._testing import check_nested_intervals, check_result, check_unchanged

B_OURS = 100_000
METHOD = {"perc": "percentile", "basic": "basic", "bca": "BCa", "stud": "studentized", "norm": "normal"}


def _trim_mean(x, axis=-1):
    return stats.trim_mean(x, 0.1, axis=axis)


def _call(case, method, n_resamples=B_OURS, seed=11):
    x = np.asarray(case["x"], float)
    y = np.asarray(case["y"], float) if case["y"] is not None else None
    kw = dict(method=method, conf_level=case["conf_level"], n_resamples=n_resamples, random_state=seed)
    kind = case["kind"]
    if kind == "mean":
        return ci.stats.bootstrap(x, statistic="mean", **kw)
    if kind == "median":
        return ci.stats.bootstrap(x, statistic="median", **kw)
    if kind == "trim_mean_0.1":
        return ci.stats.bootstrap(x, statistic=_trim_mean, **kw)
    if kind == "mean_diff":
        return ci.stats.bootstrap(x, y, statistic="mean_diff", **kw)
    if kind == "paired_mean_diff":
        return ci.stats.bootstrap(x, y, statistic="mean_diff", paired=True, **kw)
    raise AssertionError(kind)


def _cases(reference):
    ref = reference("boot")
    return ref, [(c, t) for c in ref["cases"] for t in c["expected"]]


def test_against_r_boot_ci(reference):
    """Every endpoint within 4 combined Monte Carlo standard errors of R's (R and ours: 1e5 resamples).

    Our endpoint's MC SE comes from the result (``details["monte_carlo"]``); R's, with B_R resamples, is
    that SE times sqrt(B_OURS / B_R); the two estimates are independent, so the SE of their difference is
    se * sqrt(1 + B_OURS / B_R).
    """
    ref, cases = _cases(reference)
    assert len(cases) >= 30
    b_r = ref["R"]
    worst = 0.0
    for case, rtype in cases:
        r = _call(case, METHOD[rtype])
        assert r.estimate == pytest.approx(case["t0"], rel=1e-12), case["name"]
        if rtype == "bca":
            assert r.details["acceleration"] == pytest.approx(case["acceleration"], rel=1e-9, abs=1e-15), case["name"]
        mc = r.details["monte_carlo"].set_index("quantity")["mc_std_error"]
        want = case["expected"][rtype]
        for end, got, exp in (("ci_low", r.ci_low, want[0]), ("ci_high", r.ci_high, want[1])):
            se = float(mc[end]) * math.sqrt(1 + B_OURS / b_r)
            assert se > 0 or got == exp, (case["name"], rtype, end)
            z = abs(got - exp) / se if se > 0 else 0.0
            worst = max(worst, z)
            assert z < 4, (case["name"], rtype, end, got, exp, se)
    # the Monte Carlo SEs are neither wildly optimistic (caught above) nor uselessly loose
    assert worst > 0.5


def test_fast_path_equals_general_path():
    rng = np.random.default_rng(3)
    x, y = rng.gamma(2, 1, 60), rng.gamma(2, 1.3, 45)
    fast = ci.stats.bootstrap(x, y, statistic="mean_diff", method="BCa", n_resamples=3000, random_state=5)
    general = ci.stats.bootstrap(
        x, y, statistic=lambda a, b, axis=-1: a.mean(axis) - b.mean(axis), method="BCa", n_resamples=3000, random_state=5
    )
    assert fast.details["fast_path"]
    assert not general.details["fast_path"]
    np.testing.assert_allclose(fast.distribution, general.distribution, rtol=0, atol=1e-12)
    assert fast.ci_low == pytest.approx(general.ci_low, abs=1e-12)
    assert fast.details["acceleration"] == pytest.approx(general.details["acceleration"], rel=1e-10)
    # paired: joint resampling of rows, fast (differences) and general paths agree
    y2 = x + rng.normal(0, 0.5, 60)
    pf = ci.stats.bootstrap(x, y2, statistic="mean_diff", paired=True, n_resamples=2000, random_state=2)
    pg = ci.stats.bootstrap(
        x, y2, statistic=lambda a, b, axis=-1: a.mean(axis) - b.mean(axis), paired=True, n_resamples=2000, random_state=2
    )
    np.testing.assert_allclose(pf.distribution, pg.distribution, atol=1e-12)
    assert pf.ci_high == pytest.approx(pg.ci_high, abs=1e-12)


def test_median_kernel_matches_numpy_median():
    rng = np.random.default_rng(8)
    x = np.round(rng.normal(size=30), 1)  # ties
    r = ci.stats.bootstrap(x, statistic="median", method="percentile", n_resamples=500, random_state=1)
    # the kernel resamples the sorted sample; the same draws through numpy give the same medians
    idx = next(ci.stats.bootstrap_indices(30, n_resamples=500, random_state=1))[1]
    np.testing.assert_array_equal(r.distribution, np.median(np.sort(x)[idx], axis=1))
    # BCa for the median uses an O(n) jackknife; it equals the brute-force one
    rb = ci.stats.bootstrap(x, statistic="median", n_resamples=500, random_state=1)
    rg = ci.stats.bootstrap(x, statistic=lambda a, axis=-1: np.median(a, axis=axis), n_resamples=500, random_state=1)
    assert rb.details["acceleration"] == pytest.approx(rg.details["acceleration"], rel=1e-12, abs=1e-15)


def test_reproducible_whatever_threads_batches_and_progress():
    rng = np.random.default_rng(4)
    x = rng.normal(size=200)
    base = ci.stats.bootstrap(x, n_resamples=1000, random_state=9, n_jobs=1)
    for kw in (dict(n_jobs=2), dict(progress=True), dict(n_jobs=-1)):
        other = ci.stats.bootstrap(x, n_resamples=1000, random_state=9, **kw)
        np.testing.assert_array_equal(base.distribution, other.distribution)
    g1 = ci.stats.bootstrap(x, statistic=np.mean, n_resamples=1000, random_state=9, memory_budget=2**20, n_jobs=1)
    g2 = ci.stats.bootstrap(x, statistic=np.mean, n_resamples=1000, random_state=9, n_jobs=2)
    np.testing.assert_array_equal(g1.distribution, g2.distribution)
    assert base.details["seed"] == 9
    assert base.provenance.random_state == 9
    # a Generator gives a fresh seed, recorded so the run can be repeated
    r = ci.stats.bootstrap(x, n_resamples=500, random_state=np.random.default_rng(1))
    again = ci.stats.bootstrap(x, n_resamples=500, random_state=r.details["seed"])
    np.testing.assert_array_equal(r.distribution, again.distribution)


def test_result_contract_and_plot():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(5)
    df = pd.DataFrame({"y": rng.exponential(size=80), "g": np.repeat(["a", "b"], 40)})
    r = check_unchanged(df, lambda d: ci.stats.bootstrap("y", data=d, group="g", statistic="mean_diff", n_resamples=999, random_state=1))
    assert r.estimand == "difference in means of y: g=a minus g=b"
    check_result(r)
    assert isinstance(r, ci.stats.BootstrapResult)
    assert set(r.details["monte_carlo"]["quantity"]) == {"ci_low", "ci_high"}
    assert r.details["n_resamples"] == 999
    ax = r.plot()
    assert len(ax.patches) > 5
    plt.close("all")
    for m in ("percentile", "basic", "BCa", "studentized", "normal"):
        check_nested_intervals(ci.stats.bootstrap, df.y.to_numpy(), method=m, n_resamples=999, random_state=3)
    one = ci.stats.bootstrap(df.y.to_numpy(), statistic="median", method="percentile", n_resamples=999, random_state=1)
    check_result(one)


def test_one_sided_intervals():
    x = np.random.default_rng(6).normal(size=50)
    two = ci.stats.bootstrap(x, method="percentile", conf_level=0.90, n_resamples=2000, random_state=1)
    less = ci.stats.bootstrap(x, method="percentile", conf_level=0.95, alternative="less", n_resamples=2000, random_state=1)
    greater = ci.stats.bootstrap(x, method="percentile", conf_level=0.95, alternative="greater", n_resamples=2000, random_state=1)
    assert less.ci_low == -math.inf
    assert less.ci_high == pytest.approx(two.ci_high)
    assert greater.ci_high == math.inf
    assert greater.ci_low == pytest.approx(two.ci_low)
    check_result(less)


def test_multi_sample_callable_and_std_error():
    rng = np.random.default_rng(7)
    a, b, c = rng.normal(0, 1, 30), rng.normal(1, 1, 35), rng.normal(2, 1, 40)

    def spread(x, y, z, axis=-1):
        return z.mean(axis) - x.mean(axis)

    r = ci.stats.bootstrap(a, b, c, statistic=spread, n_resamples=2000, random_state=1)
    assert r.estimate == pytest.approx(c.mean() - a.mean())
    assert r.ci_low < r.estimate < r.ci_high
    assert r.estimand.startswith("spread of samples[0], samples[1], samples[2]")

    def se(x, axis=-1):
        return x.std(axis=axis, ddof=1) / np.sqrt(x.shape[-1])

    stud = ci.stats.bootstrap(a, statistic=np.mean, method="studentized", std_error=se, n_resamples=2000, random_state=1)
    builtin = ci.stats.bootstrap(a, statistic="mean", method="studentized", n_resamples=2000, random_state=1)
    assert stud.ci_low == pytest.approx(builtin.ci_low, abs=1e-10)
    assert stud.ci_high == pytest.approx(builtin.ci_high, abs=1e-10)


def test_discrete_distribution_and_mc_warnings():
    r = ci.stats.bootstrap([1.0, 2.0, 2.0, 3.0, 5.0], statistic="median", method="percentile", n_resamples=200, random_state=1)
    assert r.diagnostic("bootstrap distribution").status == "warn"
    few = ci.stats.bootstrap(np.random.default_rng(1).normal(size=50), method="percentile", n_resamples=100, random_state=1)
    assert few.diagnostic("Monte Carlo error").status == "warn"
    many = ci.stats.bootstrap(np.random.default_rng(1).normal(size=50), method="percentile", n_resamples=20_000, random_state=1)
    assert many.diagnostic("Monte Carlo error").status == "ok"


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        (([],), {}, ci.DataError, "`x` has 0 observation"),
        (([1.0],), {}, ci.DataError, "`x` has 1 observation"),
        (([1.0, 2.0], [3.0]), dict(statistic="mean_diff"), ci.DataError, "`y` has 1 observation"),
        (([1.0, np.nan, 3.0],), {}, ci.DataError, "missing value"),
        (([1.0, 2.0, 3.0],), dict(n_resamples=0), ci.ArgumentError, "n_resamples"),
        (([1.0, 2.0, 3.0],), dict(n_resamples=2.5), ci.ArgumentTypeError, "n_resamples"),
        (([1.0, 2.0, 3.0],), dict(method="bca2"), ci.ArgumentError, "`method`.*did you mean 'bca'"),
        (([1.0, 2.0, 3.0],), dict(statistic="avg"), ci.ArgumentError, "`statistic`"),
        (
            ([1.0, 2.0, 3.0],),
            dict(statistic=lambda x, axis=-1: np.array([1.0, 2.0])),
            ci.ArgumentError,
            "`statistic` must return one number",
        ),
        (([1.0, 2.0, 3.0],), dict(statistic=lambda x, axis=-1: float(np.mean(x))), ci.ArgumentError, "`statistic` must be vectorised"),
        (([1.0, 2.0, 3.0],), dict(statistic=lambda x: x.mean()), ci.ArgumentError, "`statistic` raised TypeError"),
        (([1.0, 2.0, 3.0],), dict(statistic="mean_diff"), ci.ArgumentError, "takes 2 sample"),
        (([1.0, 2.0, 3.0],), dict(statistic="median", method="studentized"), ci.ArgumentError, "std_error"),
        (([1.0, 2.0, 3.0], [1.0, 2.0]), dict(statistic="mean_diff", paired=True), ci.DataError, "same length"),
        (([1.0, 2.0, 3.0],), dict(conf_level=95), ci.ArgumentError, "conf_level"),
        (([1.0, 2.0, 3.0],), dict(random_state=-1), ci.ArgumentError, "random_state"),
        (([1.0, 2.0, 3.0],), dict(n_jobs=0), ci.ArgumentError, "n_jobs"),
        (([1.0, 2.0, 3.0],), dict(memory_budget=100), ci.ArgumentError, "memory_budget"),
        (([1.0, 2.0, 3.0],), dict(n_resamples=10**9), ci.ArgumentError, "n_resamples.*memory_budget"),
        (([2.0, 2.0, 2.0],), {}, ci.DataError, "same value"),
        (("y",), {}, ci.ArgumentTypeError, "no `data`"),
    ],
)
def test_bad_input(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ci.stats.bootstrap(*args, **kwargs)


def test_bca_outside_distribution_is_an_error():
    from causalinfer.stats._bootstrap import _interval

    with pytest.raises(ci.DataError, match=r"outside the bootstrap distribution.*percentile"):
        _interval("bca", 10.0, np.arange(5.0), 0.025, 0.975)


def test_statistic_nan_in_resamples_is_an_error():
    def fragile(x, axis=-1):
        out = np.mean(x, axis=axis)
        return np.where(out > 2.4, np.nan, out)

    with pytest.raises(ci.DataError, match="not finite"):
        ci.stats.bootstrap([1.0, 2.0, 3.0, 1.5], statistic=fragile, n_resamples=1000, random_state=1)


def test_bootstrap_indices_and_resample_apply():
    strata = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])
    batches = list(ci.stats.bootstrap_indices(10, n_resamples=7, random_state=3, strata=strata, batch=3))
    assert [b0 for b0, _ in batches] == [0, 3, 6]
    idx = np.concatenate([i for _, i in batches])
    assert idx.shape == (7, 10)
    np.testing.assert_array_equal(np.sort(strata[idx], axis=1), np.tile(np.sort(strata), (7, 1)))
    whole = next(ci.stats.bootstrap_indices(10, n_resamples=7, random_state=3, strata=strata))[1]
    np.testing.assert_array_equal(whole, idx)
    x = np.arange(10.0) ** 2
    out1 = ci.stats.resample_apply(lambda i: x[i].mean(), 10, n_resamples=50, random_state=4, n_jobs=1)
    out2 = ci.stats.resample_apply(lambda i: x[i].mean(), 10, n_resamples=50, random_state=4, n_jobs=2)
    np.testing.assert_array_equal(out1, out2)
    r = ci.stats.bootstrap(x, statistic=np.mean, method="percentile", n_resamples=50, random_state=4)
    np.testing.assert_allclose(out1, r.distribution, atol=1e-12)
    with pytest.raises(ci.ArgumentError, match="same shape"):
        ci.stats.resample_apply(lambda i: np.arange(int(i[0] % 2) + 1), 10, n_resamples=20, random_state=1)


# ------------------------------------------------------------------------------------------- coverage
def _coverage(method, dist, n_sim=500):
    rng = np.random.default_rng(20261128)
    truth = 1.0
    hits = 0
    for k in range(n_sim):
        x = rng.normal(1.0, 2.0, 40) if dist == "normal" else rng.exponential(1.0, 80)
        r = ci.stats.bootstrap(x, method=method, n_resamples=999, random_state=k)
        hits += r.ci_low <= truth <= r.ci_high
    return hits / n_sim


@pytest.mark.slow
@pytest.mark.parametrize("method", ["percentile", "basic", "BCa", "studentized", "normal"])
@pytest.mark.parametrize("dist", ["normal", "skewed"])
def test_coverage_near_nominal(method, dist):
    """95% intervals for a mean, 500 seeded data sets (normal n = 40; exponential n = 80): coverage within
    3 binomial SEs of 95%. For the skewed case a further 2.5 points below nominal are allowed: bootstrap
    intervals for the mean of exponential data undercover at this n (about 92-93% for percentile, basic,
    normal and BCa; the studentized interval is closest to nominal), which is the method's error, not the code's."""
    cover = _coverage(method, dist)
    se = math.sqrt(0.95 * 0.05 / 500)
    slack = 0.025 if dist == "skewed" else 0.0
    assert 0.95 - 3 * se - slack <= cover <= 0.95 + 3 * se, cover


@examples(25)
@given(
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=3, max_size=60).filter(lambda v: len(set(v)) > 2),
    st.sampled_from(["percentile", "basic", "BCa", "studentized", "normal"]),
    st.integers(0, 2**31),
)
def test_intervals_ordered_and_nested(values, method, seed):
    x = np.asarray(values)
    try:
        r95 = ci.stats.bootstrap(x, method=method, n_resamples=300, random_state=seed)
        r90 = ci.stats.bootstrap(x, method=method, n_resamples=300, random_state=seed, conf_level=0.9)
    except ci.DataError:  # a degenerate resampling distribution (tiny samples) is refused, never returned as NaN
        return
    assert r95.ci_low <= r90.ci_low <= r90.ci_high <= r95.ci_high
    assert np.isfinite([r95.ci_low, r95.ci_high, r95.std_error]).all()
