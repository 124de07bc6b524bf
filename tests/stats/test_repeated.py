"""Repeated-measures and mixed ANOVA, Friedman's test against R (tests/reference/repeated.R)."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from property_settings import examples

import causalinfer as ci
from causalinfer._testing import check_result, check_unchanged
from causalinfer.exceptions import ArgumentError, ArgumentTypeError, DataError, RoleError


def _design(reference, name):
    case = reference("repeated")["anova_rm"][name]
    return case, pd.DataFrame(case["data"])


@pytest.mark.parametrize("name", ["oneway", "twoway", "mixed", "mixed2"])
def test_anova_rm_against_aov_and_car(reference, name):
    case, df = _design(reference, name)
    r = check_unchanged(df, lambda d: ci.stats.anova_rm(d, dv="y", subject="id", within=case["within"], between=case["between"]))
    t = r.table.set_index("effect")
    for row in case["aov"]:
        got = t.loc[row["effect"]]
        assert (got.df1, got.df2) == (row["df1"], row["df2"])
        assert got.sum_sq == pytest.approx(row["ss"], rel=1e-10)
        assert got.error_sum_sq == pytest.approx(row["ss_error"], rel=1e-10)
        assert got["F"] == pytest.approx(row["F"], rel=1e-10)
        assert got.pvalue == pytest.approx(row["p"], rel=1e-9)
    car = case["car"]
    effects = np.atleast_1d(car["corrections"]["effect"])
    for key, col in (("gg", "eps_gg"), ("p_gg", "pvalue_gg"), ("hf", "eps_hf"), ("p_hf", "pvalue_hf")):
        np.testing.assert_allclose(t.loc[effects, col], np.atleast_1d(car["corrections"][key]), rtol=1e-9)
    np.testing.assert_allclose(t.loc[effects, "mauchly_w"], np.atleast_1d(car["mauchly"]["W"]), rtol=1e-9)
    np.testing.assert_allclose(t.loc[effects, "mauchly_pvalue"], np.atleast_1d(car["mauchly"]["p"]), rtol=1e-9)
    # car's multivariate-model sums of squares agree with aov's strata
    uni = pd.DataFrame(car["univariate"]).set_index("effect").drop("(Intercept)")
    np.testing.assert_allclose(t.loc[uni.index, "sum_sq"], uni["ss"], rtol=1e-10)
    check_result(r)


def test_one_way_headline_uses_greenhouse_geisser_when_mauchly_rejects(reference):
    _case, df = _design(reference, "oneway")
    r = ci.stats.anova_rm(df, dv="y", subject="id", within="cond")
    row = r.table.iloc[0]
    assert row.mauchly_pvalue < 0.05
    assert "Greenhouse-Geisser" in r.method
    assert r.pvalue == pytest.approx(row.pvalue_gg)
    assert r.df == pytest.approx((row.eps_gg * 3, row.eps_gg * 33))
    assert r.diagnostics[0].status == "warn"
    plain = ci.stats.anova_rm(df, dv="y", subject="id", within="cond", correction="none")
    assert plain.pvalue == pytest.approx(row.pvalue) and plain.df == (3.0, 33.0)
    assert ci.stats.anova_rm(df, dv="y", subject="id", within="cond", correction="hf").pvalue == pytest.approx(row.pvalue_hf)


def test_generalized_eta_squared_by_hand(reference):
    _case, df = _design(reference, "mixed")
    t = ci.stats.anova_rm(df, dv="y", subject="id", within="time", between="group").table.set_index("effect")
    errors = t.loc["group", "error_sum_sq"] + t.loc["time", "error_sum_sq"]
    for eff in ("group", "time", "group:time"):
        assert t.loc[eff, "ges"] == pytest.approx(t.loc[eff, "sum_sq"] / (t.loc[eff, "sum_sq"] + errors), rel=1e-12)


def test_row_order_does_not_matter(reference):
    _case, df = _design(reference, "twoway")
    a = ci.stats.anova_rm(df, dv="y", subject="id", within=["A", "B"]).table
    b = ci.stats.anova_rm(df.sample(frac=1, random_state=1), dv="y", subject="id", within=["A", "B"]).table
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)


def test_anova_rm_bad_input(reference):
    _case, df = _design(reference, "mixed")
    with pytest.raises(DataError, match="lack some of the 3 within cells"):
        ci.stats.anova_rm(df.iloc[1:], dv="y", subject="id", within="time")
    with pytest.raises(DataError, match="exactly one value per cell"):
        ci.stats.anova_rm(pd.concat([df, df.iloc[:1]]), dv="y", subject="id", within="time")
    with pytest.raises(DataError, match="changes within subject"):
        ci.stats.anova_rm(df.assign(group=np.where(df.time == "t1", "ctl", df.group)), dv="y", subject="id", within="time", between="group")
    with pytest.raises(DataError, match="missing values"):
        ci.stats.anova_rm(df.assign(y=df.y.where(df.index != 3)), dv="y", subject="id", within="time")
    with pytest.raises(RoleError, match="did you mean 'time'"):
        ci.stats.anova_rm(df, dv="y", subject="id", within="tme")
    with pytest.raises(ArgumentError, match="correction"):
        ci.stats.anova_rm(df, dv="y", subject="id", within="time", correction="GG")
    with pytest.raises(ArgumentTypeError, match="between"):
        ci.stats.anova_rm(df, dv="y", subject="id", within="time", between=["group"])
    with pytest.raises(ArgumentError, match="different columns"):
        ci.stats.anova_rm(df, dv="y", subject="id", within="id")


def test_friedman_against_r(reference):
    for case in reference("repeated")["friedman"]:
        Y = np.asarray(case["y"], dtype=float)
        r = ci.stats.friedman(Y)
        assert r.method == case["method"]
        assert r.statistic == pytest.approx(case["statistic"], rel=1e-12)
        assert r.df == case["df"]
        assert r.pvalue == pytest.approx(case["p"], rel=1e-10)
        n, k = Y.shape
        long = pd.DataFrame({"b": np.repeat(np.arange(n), k), "t": np.tile([f"t{j}" for j in range(k)], n), "v": Y.ravel()})
        r2 = check_unchanged(long, lambda d: ci.stats.friedman(d, dv="v", subject="b", within="t"))
        assert r2.statistic == pytest.approx(r.statistic, rel=1e-12)
        assert r.effect_size("kendall_w").estimate == pytest.approx(r.statistic / (n * (k - 1)))
        check_result(r2)
    with pytest.raises(ArgumentError, match="all of `dv`"):
        ci.stats.friedman(long, dv="v")


def test_docstring_examples_run():
    from causalinfer.stats import _repeated

    result = doctest.testmod(_repeated, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


@examples(20)
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.01, 100.0))
def test_within_effects_ignore_subject_offsets(seed, scale):
    """Adding any constant per subject leaves every within-subject test unchanged; rescaling y leaves every F unchanged."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame([(f"s{i}", c, rng.normal()) for i in range(6) for c in ("a", "b", "c")], columns=["id", "w", "y"])
    offsets = dict(zip(df["id"].unique(), rng.normal(scale=10, size=6), strict=True))
    base = ci.stats.anova_rm(df, dv="y", subject="id", within="w").table
    moved = ci.stats.anova_rm(df.assign(y=scale * (df.y + df.id.map(offsets))), dv="y", subject="id", within="w").table
    np.testing.assert_allclose(moved["F"], base["F"], rtol=1e-8)
    np.testing.assert_allclose(moved["eps_gg"], base["eps_gg"], rtol=1e-8)


def test_dataset_input(reference):
    _case, df = _design(reference, "oneway")
    r = ci.stats.anova_rm(ci.Dataset(df, outcome="y"), dv="y", subject="id", within="cond")
    assert r.provenance.data_fingerprint is not None
    assert r.statistic == pytest.approx(ci.stats.anova_rm(df, dv="y", subject="id", within="cond").statistic, rel=1e-14)


@pytest.mark.parametrize(
    "data",
    [
        [["a", "b"], ["c", "d"]],
        [[1.0, 2.0], [3.0]],
        pd.DataFrame({"a": ["x", "y"], "b": ["z", "w"]}),
    ],
    ids=["strings", "ragged-rows", "text-columns"],
)
def test_friedman_wide_data_that_is_not_numbers_is_refused_naming_data(data):
    with pytest.raises(ArgumentTypeError, match="`data`"):
        ci.stats.friedman(data)


def test_friedman_accepts_a_wide_dataset():
    wide = pd.DataFrame({"a": [1.0, 2.0, 1.0, 1.0], "b": [2.0, 3.0, 3.0, 2.0], "c": [3.0, 1.0, 2.0, 3.0]})
    assert ci.stats.friedman(ci.data.Dataset(wide)).statistic == pytest.approx(ci.stats.friedman(wide).statistic, rel=1e-12)


def test_anova_rm_without_error_variation_is_refused():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"s": np.repeat(range(6), 3), "c": np.tile(list("abc"), 6), "g": np.repeat(list("ab"), 9)})
    with pytest.raises(DataError, match="`dv` column 'y' is constant"):
        ci.stats.anova_rm(df.assign(y=1.0), dv="y", subject="s", within="c")
    exact = df.assign(y=np.repeat(rng.normal(size=6), 3) + np.tile([0.0, 1.0, 3.0], 6))
    with pytest.raises(DataError, match="error term of 'c' is zero"):
        ci.stats.anova_rm(exact, dv="y", subject="s", within="c", between="g")
