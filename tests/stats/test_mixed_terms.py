"""Linear mixed models with nested, crossed and several random-effect terms against lme4::lmer and lmerTest's
Satterthwaite df (tests/reference/mixed_terms.R, data simulated there and stored in mixed_terms_data.csv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference_data import REFERENCE

import causalinfer as ci
from causalinfer._testing import check_result, check_unchanged
from causalinfer.exceptions import ArgumentError, DataError, RoleError

_NAMES = {"nested": {"a": "school", "b": "class"}, "crossed": {"a": "subject", "b": "item"}, "binary": {"a": "g"}}


def simulated(which: str) -> pd.DataFrame:
    data = pd.read_csv(REFERENCE / "mixed_terms_data.csv", dtype={"a": str, "b": str})
    part = data[data["set"] == which].rename(columns=_NAMES[which]).drop(columns="set")
    return part.dropna(axis=1, how="all").reset_index(drop=True)


def _case(reference, name):
    return next(c for c in reference("mixed_terms")["cases"] if c["name"] == name)


@pytest.mark.parametrize("name", ["nested REML", "crossed slope REML", "singular REML", "uncorrelated ML"])
def test_lmm_terms_against_lmer(reference, name):
    case = _case(reference, name)
    df = simulated(case["set"])
    r = check_unchanged(df, lambda d: ci.stats.lmm(case["formula"], data=d, reml=case["reml"]))
    fit = r.details["fit"]
    assert fit["deviance"] == pytest.approx(case["deviance"], rel=1e-9)
    assert fit["deviance"] <= case["deviance"] + 1e-8  # at least as low as lme4's optimum
    for key in ("loglik", "aic", "bic"):
        assert fit[key] == pytest.approx(case[key], rel=1e-9)
    t = r.terms
    assert t["term"].tolist() == case["terms"]
    np.testing.assert_allclose(t["estimate"], case["estimate"], rtol=1e-5)
    np.testing.assert_allclose(t["std_error"], case["se"], rtol=1e-4)
    np.testing.assert_allclose(t["df"], case["df"], rtol=1e-3)
    assert fit["sigma"] == pytest.approx(case["sigma"], rel=1e-5)
    re = r.random_effects
    for grp, v1, v2, var in zip(case["vc_grp"], case["vc_var1"], case["vc_var2"], case["vc_var"], strict=True):
        if grp == "Residual":
            row = re[re["group"] == "Residual"]
        else:
            pair = re["corr_with"].isna() & (re["term"] == v1) if v2 is None else (re["term"] == v2) & (re["corr_with"] == v1)
            row = re[(re["group"] == grp) & pair]
        assert len(row) == 1
        assert row["variance"].iloc[0] == pytest.approx(var, rel=1e-3, abs=1e-6)
    singular = {d.name: d for d in r.diagnostics}["singular fit"]
    assert (singular.status == "warn") == case["singular"]
    if case["singular"]:  # the term at the boundary is named, with the simpler model
        assert "(1 | item)" in singular.message and "drop that term" in singular.message
    check_result(r)
    if name in ("nested REML", "crossed slope REML"):
        _check_predictions(reference, case, r, df)


def _check_predictions(reference, case, r, df):
    """Unseen levels take the population value of their term (lme4's allow.new.levels = TRUE)."""
    ref = reference("mixed_terms")
    new = pd.DataFrame(ref["new_nested" if case["set"] == "nested" else "new_crossed"])
    p = check_unchanged(new, lambda d: r.predict(d))
    np.testing.assert_allclose(p["estimate"], case["new_full"], rtol=1e-5)
    np.testing.assert_allclose(p["fixed"], case["new_fixed"], rtol=1e-6)
    assert p["known_group"].tolist() == [True, False, False]
    np.testing.assert_allclose(r.predict(df)["estimate"], case["fitted"], rtol=1e-5, atol=1e-5)
    population = r.predict(new.drop(columns=list(r.details["re_terms"][0]["columns"])), include_random=False)
    np.testing.assert_allclose(population["estimate"], case["new_fixed"], rtol=1e-6)


def test_bad_structures_are_refused():
    df = simulated("nested")
    with pytest.raises(DataError, match="not identifiable"):
        ci.stats.lmm("y ~ x + (1 | school) + (1 | row)", data=df.assign(row=np.arange(len(df))))
    with pytest.raises(DataError, match="not identifiable"):
        ci.stats.lmm("y ~ x + (x | pair)", data=df.assign(pair=np.arange(len(df)) // 2))
    with pytest.raises(DataError, match="single level"):
        ci.stats.lmm("y ~ x + (1 | one)", data=df.assign(one="a"))
    with pytest.raises(ArgumentError, match="'\\|\\|'"):
        ci.stats.lmm("y ~ x + (x || school)", data=df)
    with pytest.raises(ArgumentError, match="leave `groups`"):
        ci.stats.lmm("y ~ x + (1 | school)", data=df, groups="school")
    with pytest.raises(RoleError, match="did you mean 'school'"):
        ci.stats.lmm("y ~ x + (1 | schol)", data=df)
    with pytest.raises(ArgumentError, match="groups"):
        ci.stats.lmm("y ~ x", data=df)
    r = ci.stats.lmm("y ~ x + (1 | school/class)", data=df)
    with pytest.raises(DataError, match="grouping column"):
        r.predict(pd.DataFrame({"x": [0.0], "school": ["s01"]}))


def test_one_factor_in_lme4_style_matches_the_groups_form(reference):
    ref = reference("mixed")
    df = pd.DataFrame(ref["data"]["sim"])
    a = ci.stats.lmm("y ~ x + z + (1 | g)", data=df)
    b = ci.stats.lmm("y ~ x + z", data=df, groups="g")
    assert a.details["fit"]["deviance"] == pytest.approx(b.details["fit"]["deviance"], rel=1e-10)
    np.testing.assert_allclose(a.terms["estimate"], b.terms["estimate"], rtol=1e-6)


def test_the_sparse_factorisation_gives_the_dense_answer(reference, monkeypatch):
    """Beyond a few thousand random effects the deviance goes through a sparse LU; force it on a small model."""
    from causalinfer.stats import _mixed_terms

    case = _case(reference, "crossed ML")
    monkeypatch.setattr(_mixed_terms, "_DENSE_LIMIT", 10)
    r = ci.stats.lmm(case["formula"], data=simulated("crossed"), reml=False)
    assert r.details["fit"]["deviance"] == pytest.approx(case["deviance"], rel=1e-9)
    np.testing.assert_allclose(r.terms["estimate"], case["estimate"], rtol=1e-5)
