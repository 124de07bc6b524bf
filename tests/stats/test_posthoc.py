"""Games-Howell and Dunn post hoc comparisons against hand computations in R (tests/reference/repeated.R)."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._testing import check_result, check_unchanged
from causalinfer.exceptions import ArgumentError, DataError


def _long(groups):
    return pd.DataFrame({"g": np.repeat(list(groups), [len(v) for v in groups.values()]), "y": np.concatenate(list(groups.values()))})


@pytest.mark.parametrize("index", [0, 1])
def test_games_howell_against_r(reference, index):
    ref = reference("repeated")
    case = ref["games_howell"][index]
    r = ci.stats.games_howell(ref["groups"], conf_level=case["conf_level"])
    t = r.terms
    assert t["term"].tolist() == case["term"]
    np.testing.assert_allclose(t["estimate"], case["estimate"], rtol=1e-12)
    np.testing.assert_allclose(t["std_error"], case["se"], rtol=1e-12)
    np.testing.assert_allclose(t["statistic"], case["t"], rtol=1e-12)
    np.testing.assert_allclose(t["df"], case["df"], rtol=1e-12)
    np.testing.assert_allclose(t["pvalue"], case["p"], rtol=1e-9)  # R's ptukey integrates to about 1e-10
    # R's qtukey stops at ~1e-4 relative accuracy; the precise quantile (uniroot on ptukey) agrees to 1e-9
    np.testing.assert_allclose(t["ci_low"], case["low_precise"], rtol=1e-9)
    np.testing.assert_allclose(t["ci_high"], case["high_precise"], rtol=1e-9)
    np.testing.assert_allclose(t["ci_low"], case["low"], rtol=1e-6)
    check_result(r)


def test_games_howell_long_form(reference):
    groups = reference("repeated")["groups"]
    df = _long(groups)
    r = check_unchanged(df, lambda d: ci.stats.games_howell("y", data=d, group="g"))
    pd.testing.assert_frame_equal(r.terms, ci.stats.games_howell(groups).terms)
    with pytest.raises(DataError, match="zero variance"):
        ci.stats.games_howell([1.0, 1.0, 1.0], [2.0, 3.0, 4.0])


@pytest.mark.parametrize(("adjust", "key"), [("holm", "p_holm"), ("bonferroni", "p_bonferroni"), ("BH", "p_BH"), ("none", "p")])
def test_dunn_against_r(reference, adjust, key):
    ref = reference("repeated")
    d = ref["dunn"]
    r = ci.stats.dunn(ref["groups"], adjust=adjust)
    np.testing.assert_allclose(r.terms["estimate"], d["diff"], rtol=1e-12)
    np.testing.assert_allclose(r.terms["statistic"], d["z"], rtol=1e-12)
    np.testing.assert_allclose(r.terms["pvalue"], d[key], rtol=1e-10)
    np.testing.assert_allclose(r.details["pvalues_unadjusted"], d["p"], rtol=1e-10)
    assert adjust in r.method
    check_result(r)


def test_dunn_bad_input(reference):
    with pytest.raises(ArgumentError, match="did you mean 'holm'"):
        ci.stats.dunn(reference("repeated")["groups"], adjust="hom")
    with pytest.raises(DataError, match="all values are equal"):
        ci.stats.dunn([1.0, 1.0], [1.0, 1.0])


def test_docstring_examples_run():
    from causalinfer.stats import _posthoc

    result = doctest.testmod(_posthoc, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
