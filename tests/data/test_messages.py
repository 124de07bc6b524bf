"""The Dataset's messages say what is true for every function that reads one: missing values, dates."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci


def _frame(n=120, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "a": rng.binomial(1, 0.5, n),
            "x": rng.normal(size=n),
            "z": rng.binomial(1, 0.5, n),
            "r": rng.uniform(-1, 1, n),
            "t": np.arange(n) % 2,
        }
    )
    df.loc[3, "x"] = np.nan
    return df


CALLS = {
    "ipw": (lambda d: ci.causal.ipw(d), dict(outcome="y", treatment="a", covariates=["x"])),
    "matching": (lambda d: ci.causal.matching(d), dict(outcome="y", treatment="a", covariates=["x"])),
    "did_2x2": (lambda d: ci.designs.did_2x2(d), dict(outcome="y", treatment="a", time="t", covariates=["x"])),
    "iv_2sls": (lambda d: ci.designs.iv_2sls(d), dict(outcome="y", treatment="a", instruments=["z"], covariates=["x"])),
    "rdd": (lambda d: ci.designs.rdd(d), dict(outcome="y", running="r", cutoff=0.0, covariates=["x"])),
    "dose_response": (lambda d: ci.designs.dose_response(d), dict(outcome="y", treatment="r", covariates=["x"])),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_missing_value_hint_can_be_followed(name):
    call, roles = CALLS[name]
    df = _frame()
    with pytest.raises(ci.DataError) as err:
        getattr(ci.causal, name)(df, **roles)
    msg = str(err.value)
    assert "Dataset(frame, <roles>, missing='drop')" in msg
    # doing what it says works, and drops the one incomplete row
    ds = ci.Dataset(df, **roles, missing="drop")
    assert ds.n_dropped == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = call(ds)
    assert np.isfinite(r.estimate)


@pytest.mark.parametrize("name", ["ipw", "aipw", "iv_2sls", "did_2x2", "cate"])
@pytest.mark.parametrize("kind", ["datetime", "timedelta"])
def test_dates_are_reported_as_dates(name, kind):
    df = _frame().dropna().reset_index(drop=True)
    days = pd.to_timedelta(np.arange(len(df)) % 37, unit="D")
    df["when"] = pd.Timestamp("2020-01-01") + days if kind == "datetime" else days
    roles = {"outcome": "y", "treatment": "a", "covariates": ["x", "when"]}
    if name == "iv_2sls":
        roles["instruments"] = ["z"]
    if name == "did_2x2":
        roles["time"] = "t"
    word = "dates" if kind == "datetime" else "durations"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ci.RoleError, match=re.escape(f"covariate 'when' holds {word}")) as err:
            getattr(ci.causal, name)(df, **roles)
    assert "rank" not in str(err.value)
