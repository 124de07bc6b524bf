"""Multiple-testing adjustment against R's p.adjust (tests/reference/multiple.R -> multiple.json)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from property_settings import examples

import causalinfer as ci
from causalinfer._testing import check_result
from causalinfer.stats import adjust_pvalues, test_family

METHODS = ("bonferroni", "holm", "hochberg", "hommel", "BH", "BY")


def _arr(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_against_r(reference):
    ref = reference("multiple")
    assert len(ref["cases"]) >= 40
    checked = 0
    for case in ref["cases"]:
        p = _arr(case["p"])
        for method in METHODS:
            want = _arr(case["adjusted"][method])
            got = adjust_pvalues(p, method=method)
            assert got.shape == p.shape
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-12, atol=0)
            checked += 1
    assert checked >= 240


def test_aliases_and_none():
    p = [0.01, 0.02, 0.5]
    np.testing.assert_array_equal(adjust_pvalues(p, method="fdr_bh"), adjust_pvalues(p, method="BH"))
    np.testing.assert_array_equal(adjust_pvalues(p, method="fdr"), adjust_pvalues(p, method="BH"))
    np.testing.assert_array_equal(adjust_pvalues(p, method="none"), p)


def test_series_in_series_out():
    import pandas as pd

    s = pd.Series([0.01, 0.2, np.nan], index=["a", "b", "c"], name="p")
    out = adjust_pvalues(s, method="BH")
    assert isinstance(out, pd.Series)
    assert list(out.index) == ["a", "b", "c"]
    assert out.name == "p"
    np.testing.assert_array_equal(out.to_numpy(), adjust_pvalues(s.to_numpy(), method="BH"))


def test_input_not_mutated():
    p = np.array([0.04, 0.01, np.nan])
    before = p.copy()
    adjust_pvalues(p, method="hommel")
    np.testing.assert_array_equal(p, before)


@examples(60)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.sampled_from(METHODS))
def test_properties(ps, method):
    p = np.array(ps)
    adj = adjust_pvalues(p, method=method)
    assert np.all(adj >= p - 1e-15)
    assert np.all(adj <= 1.0)
    # order preserving: a smaller p never gets a larger adjusted p
    o = np.argsort(p, kind="stable")
    assert np.all(np.diff(adj[o]) >= -1e-15)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(pvalues=[0.1, 1.2]), ci.ArgumentError, "`pvalues` must lie in"),
        (dict(pvalues=[-0.1, 0.2]), ci.ArgumentError, "`pvalues`"),
        (dict(pvalues=["a", "b"]), ci.ArgumentTypeError, "`pvalues`"),
        (dict(pvalues=[0.1, 0.2], method="sidak"), ci.ArgumentError, "`method`"),
        (dict(pvalues=[0.1, np.inf]), ci.DataError, "`pvalues`"),
    ],
)
def test_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        adjust_pvalues(**kwargs)


def _family_inputs():
    rng = np.random.default_rng(3)
    a, b, c = rng.normal(0, 1, 25), rng.normal(0.7, 1, 25), rng.normal(0.2, 1, 25)
    return a, b, c


def test_family_from_results_callables_and_set():
    a, b, c = _family_inputs()
    r1, r2, r3 = ci.stats.ttest(a, b), ci.stats.ttest(a, c), ci.stats.ttest(b, c)
    fam = test_family([r1, r2, r3], method="BH", labels=["a-b", "a-c", "b-c"])
    check_result(fam)
    assert fam.adjust_method == "BH"
    np.testing.assert_allclose(fam.pvalues_adjusted, adjust_pvalues([r1.pvalue, r2.pvalue, r3.pvalue], method="BH"), rtol=0)
    lazy = test_family([lambda: ci.stats.ttest(a, b), lambda: ci.stats.ttest(a, c), lambda: ci.stats.ttest(b, c)], method="fdr_bh")
    np.testing.assert_array_equal(lazy.pvalues_adjusted, fam.pvalues_adjusted)
    again = test_family(fam, method="bonferroni")
    assert again.labels == fam.labels
    assert again.adjust_method == "bonferroni"
    mapped = test_family({"x": r1, "y": r2})
    assert mapped.labels == ("x", "y")
    frame = fam.to_frame()
    assert list(frame["pvalue_adjusted"]) == list(fam.pvalues_adjusted)


def test_family_bad_input():
    with pytest.raises(ci.ArgumentTypeError, match="results\\[1\\]"):
        test_family([ci.stats.ttest([1.0, 2.0, 4.0]), 0.3])
    with pytest.raises(ci.ArgumentError, match="at least one"):
        test_family([])
    with pytest.raises(ci.ArgumentError, match="`method`"):
        test_family([ci.stats.ttest([1.0, 2.0, 4.0])], method="tukey")
