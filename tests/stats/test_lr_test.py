"""stats.lr_test against R's anova(..., test = "Chisq") and MASS::anova.negbin (tests/reference/lr_test.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference_data import load_reference

import causalinfer as ci
from causalinfer.exceptions import ArgumentError, DataError

REF = load_reference("lr_test")
MT = pd.DataFrame(REF["mtcars"])
WB = pd.DataFrame(REF["warpbreaks"])
QUINE = pd.DataFrame(REF["quine"])

CASES = {
    "logit": lambda: (ci.stats.logit("am ~ hp", data=MT), ci.stats.logit("am ~ wt + hp", data=MT)),
    "poisson": lambda: (ci.stats.poisson("breaks ~ wool", data=WB), ci.stats.poisson("breaks ~ wool * tension", data=WB)),
    "ols": lambda: (ci.stats.ols("mpg ~ wt", data=MT), ci.stats.ols("mpg ~ wt + hp + qsec", data=MT)),
    "negbin": lambda: (
        ci.stats.negative_binomial("Days ~ Eth + Sex", data=QUINE),
        ci.stats.negative_binomial("Days ~ Eth + Sex + Age + Lrn", data=QUINE),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_R_anova(name):
    r0, r1 = CASES[name]()
    t = ci.stats.lr_test(r0, r1)
    ref = REF[name]
    rtol = 1e-6 if name == "negbin" else 1e-9
    np.testing.assert_allclose(t.statistic, ref["statistic"], rtol=rtol)
    assert t.df == ref["df"]
    np.testing.assert_allclose(t.pvalue, ref["pvalue"], rtol=10 * rtol)


def test_refuses_models_that_do_not_nest_or_differ():
    a = ci.stats.poisson("breaks ~ wool", data=WB)
    b = ci.stats.poisson("breaks ~ tension", data=WB)
    with pytest.raises(ArgumentError, match="not nested"):
        ci.stats.lr_test(a, b)
    full = ci.stats.poisson("breaks ~ wool + tension", data=WB)
    with pytest.raises(ArgumentError, match=r"swapped|lacks"):
        ci.stats.lr_test(full, a)
    with pytest.raises(ArgumentError, match="same kind"):
        ci.stats.lr_test(ci.stats.negative_binomial("breaks ~ wool", data=WB), full)
    with pytest.raises(DataError, match=r"same data|different data"):
        ci.stats.lr_test(ci.stats.poisson("breaks ~ wool", data=WB.iloc[:40]), full)


def test_poisson_against_negative_binomial_is_the_boundary_overdispersion_test():
    """Regression: lr_test refused a Poisson model against a negative binomial one (the usual overdispersion test)."""
    from scipy import stats

    rng = np.random.default_rng(4)
    df = pd.DataFrame({"x": rng.normal(size=300), "z": rng.normal(size=300)})
    df["y"] = rng.negative_binomial(2, 2 / (2 + np.exp(0.5 + 0.4 * df.x)))
    p = ci.stats.poisson("y ~ x", data=df)
    nb = ci.stats.negative_binomial("y ~ x", data=df)
    t = ci.stats.lr_test(p, nb)
    lr = 2 * (nb.fit["loglik"] - p.fit["loglik"])
    np.testing.assert_allclose(t.statistic, lr, rtol=1e-12)
    np.testing.assert_allclose(t.pvalue, 0.5 * stats.chi2.sf(lr, 1), rtol=1e-12)
    assert t.df == 1.0 and t.pvalue < 1e-6
    g = ci.stats.lr_test(ci.stats.glm("y ~ x", data=df, family="poisson"), ci.stats.negative_binomial("y ~ x + z", data=df))
    lr2 = 2 * (ci.stats.negative_binomial("y ~ x + z", data=df).fit["loglik"] - p.fit["loglik"])
    np.testing.assert_allclose(g.pvalue, 0.5 * stats.chi2.sf(lr2, 1) + 0.5 * stats.chi2.sf(lr2, 2), rtol=1e-10)
    with pytest.raises(ArgumentError, match="same kind"):
        ci.stats.lr_test(nb, p)
