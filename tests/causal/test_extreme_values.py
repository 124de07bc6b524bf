"""Values near 1e300 or 1e-300: computed on a rescaled copy (exact powers of two) or refused with the reason."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci

CAUSAL = ["ipw", "aipw", "matching", "regression_adjustment", "stratification", "dml"]


def _df(n=300, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    a = rng.binomial(1, 1 / (1 + np.exp(-x)))
    return pd.DataFrame({"y": x + a + rng.normal(size=n), "a": a, "x": x})


def _options(func):
    import inspect

    return {"random_state": 0} if "random_state" in inspect.signature(getattr(ci.causal, func)).parameters else {}


@pytest.mark.parametrize("func", CAUSAL)
@pytest.mark.parametrize("factor", [2.0**1000, 2.0**-1000], ids=["huge", "tiny"])
def test_outcome_scale_carries_through(func, factor):
    df = _df()
    f = getattr(ci.causal, func)
    opts = _options(func)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        base = f(df, outcome="y", treatment="a", covariates=["x"], **opts)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            big = f(df.assign(y=df["y"] * factor), outcome="y", treatment="a", covariates=["x"], **opts)
    assert big.estimate / factor == pytest.approx(base.estimate, rel=1e-9)
    assert big.std_error / factor == pytest.approx(base.std_error, rel=1e-9)
    assert big.pvalue == pytest.approx(base.pvalue, rel=1e-6)


@pytest.mark.parametrize("func", CAUSAL)
@pytest.mark.parametrize("factor", [1e300, 1e-300], ids=["huge", "tiny"])
def test_covariate_scale_does_not_matter(func, factor):
    df = _df()
    f = getattr(ci.causal, func)
    opts = _options(func)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        base = f(df, outcome="y", treatment="a", covariates=["x"], **opts)
        scaled = f(df.assign(x=df["x"] * factor), outcome="y", treatment="a", covariates=["x"], **opts)
    assert scaled.estimate == pytest.approx(base.estimate, rel=1e-6)
    assert scaled.std_error == pytest.approx(base.std_error, rel=1e-6)


def _iv(n=300, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.binomial(1, 0.5, n)
    d = ((z + rng.normal(size=n)) > 0.5).astype(float)
    return pd.DataFrame({"y": d + rng.normal(size=n), "d": d, "z": z})


def _rd(n=300, seed=0):
    rng = np.random.default_rng(seed)
    r = rng.uniform(-1, 1, n)
    return pd.DataFrame({"y": r + (r >= 0) + 0.3 * rng.normal(size=n), "r": r})


DESIGNS = [
    ("iv_2sls", _iv, "y", dict(outcome="y", treatment="d", instruments="z")),
    ("iv_2sls", _iv, "d", dict(outcome="y", treatment="d", instruments="z")),
    ("rdd", _rd, "y", dict(outcome="y", running="r", cutoff=0.0)),
    ("rdd", _rd, "r", dict(outcome="y", running="r", cutoff=0.0)),
]


@pytest.mark.parametrize(("func", "make", "column", "roles"), DESIGNS, ids=["iv-outcome", "iv-treatment", "rdd-outcome", "rdd-running"])
@pytest.mark.parametrize(("factor", "words"), [(1e300, "overflow"), (1e-300, "underflow")], ids=["huge", "tiny"])
def test_designs_refuse_with_the_reason(func, make, column, roles, factor, words):
    df = make()
    with pytest.raises(ci.DataError, match=f"'{column}'.*{words}.*Rescale the column"):
        getattr(ci.designs, func)(df.assign(**{column: df[column] * factor}), **roles)
