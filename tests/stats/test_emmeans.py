"""stats.emmeans against R's emmeans and pairs (tests/reference/emmeans.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference_data import load_reference

import causalinfer as ci
from causalinfer._testing import check_result
from causalinfer.exceptions import ArgumentError

REF = load_reference("emmeans")
DATA = pd.DataFrame(REF["data"])
RTOL = 1e-9


def _model(name):
    if name == "ols":
        return ci.stats.ols("ynorm ~ x + g * h", data=DATA), "link"
    if name in ("logit", "logit_link"):
        return ci.stats.glm("ybin ~ x + g + h", data=DATA, family="binomial"), "response" if name == "logit" else "link"
    if name == "poisson":
        return ci.stats.poisson("count ~ x + g * h", data=DATA), "response"
    return ci.stats.glm("ycont ~ x + g + h", data=DATA, family="gamma", link="log"), "response"


def _df(values):
    return np.array([np.nan if v == "Inf" else float(v) for v in values])


def _check(table, ref, *, tukey=False, pvalue=True):
    np.testing.assert_allclose(table["estimate"], ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(table["std_error"], ref["std_error"], rtol=RTOL)
    # R's qtukey stops its iteration at about 1e-9 relative (a limit near zero is compared on the scale of its SE),
    # and ptukey's far tail is accurate to about 1e-6 relative
    atol = 1e-8 * float(np.max(ref["std_error"])) if tukey else 0.0
    np.testing.assert_allclose(table["ci_low"], ref["ci_low"], rtol=1e-7 if tukey else RTOL, atol=atol)
    np.testing.assert_allclose(table["ci_high"], ref["ci_high"], rtol=1e-7 if tukey else RTOL, atol=atol)
    np.testing.assert_allclose(table["df"], _df(ref["df"]), rtol=RTOL)
    if pvalue:
        np.testing.assert_allclose(table["pvalue"], ref["pvalue"], rtol=1e-5 if tukey else 1e-8, atol=1e-12 if tukey else 0.0)


NAMES = ["ols", "logit", "poisson", "gamma_log", "logit_link"]


@pytest.mark.parametrize("name", NAMES)
def test_marginal_means_match_emmeans(name):
    fit, scale = _model(name)
    em = ci.stats.emmeans(fit, "g", newdata=DATA, type=scale)
    ref = REF["results"][name]
    assert em.terms["term"].tolist() == ["g = a", "g = b", "g = c", "g = d"]
    _check(em.terms, ref["emm"], pvalue=False)
    by = ci.stats.emmeans(fit, "g", by="h", newdata=DATA, type=scale)
    assert by.terms["term"].tolist()[:2] == ["g = a | h = hi", "g = b | h = hi"]
    _check(by.terms, ref["emm_by"], pvalue=False)
    check_result(em)


@pytest.mark.parametrize("adjust", ["tukey", "holm", "bonferroni", "none"])
@pytest.mark.parametrize("name", NAMES)
def test_pairwise_contrasts_match_pairs(name, adjust):
    fit, scale = _model(name)
    con = ci.stats.emmeans(fit, "g", newdata=DATA, type=scale, adjust=adjust).details["contrasts"]
    ref = REF["results"][name][f"pairs_{adjust}"]
    assert con.terms["term"].tolist() == ref["contrast"]
    _check(con.terms, ref, tukey=adjust == "tukey")
    check_result(con)


@pytest.mark.parametrize("name", NAMES)
def test_contrasts_within_groups_match_pairs_by(name):
    fit, scale = _model(name)
    con = ci.stats.emmeans(fit, "g", by="h", newdata=DATA, type=scale).details["contrasts"]
    ref = REF["results"][name]["pairs_by_tukey"]
    assert con.terms["term"].tolist() == [f"{c} | h = {h}" for c, h in zip(ref["contrast"], ref["h"], strict=True)]
    _check(con.terms, ref, tukey=True)


def test_bad_input():
    fit, _ = _model("logit")
    with pytest.raises(ArgumentError, match=r"`specs` = 'x' is not a categorical variable of the model; choose among \['g', 'h'\]"):
        ci.stats.emmeans(fit, "x")
    with pytest.raises(ArgumentError, match="`by` must differ"):
        ci.stats.emmeans(fit, "g", by="g")
    with pytest.raises(ArgumentError, match="`newdata` is needed"):
        ci.stats.emmeans(ci.stats.ols("ynorm ~ g", data=DATA), "g")
