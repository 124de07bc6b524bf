"""Every option of the causal and design estimators is checked: a bad value is refused with our error, never ignored."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci


def _frame(n=200):
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    a = rng.binomial(1, 0.5, n)
    df = pd.DataFrame(
        {
            "y": x + a + rng.normal(size=n),
            "a": a,
            "x": x,
            "z": rng.binomial(1, 0.5, n),
            "r": rng.uniform(-1, 1, n),
            "id": np.arange(n) // 4,
            "t": np.arange(n) % 4,
            "g": (np.arange(n) // 4 < 20).astype(int),
        }
    )
    return df.assign(d=(df["g"] * (df["t"] >= 2)).astype(int))


BINARY = dict(outcome="y", treatment="a", covariates=["x"])
ROLES = {
    "ipw": BINARY,
    "aipw": BINARY,
    "matching": BINARY,
    "regression_adjustment": BINARY,
    "stratification": BINARY,
    "dml": BINARY,
    "iv_2sls": dict(outcome="y", treatment="a", instruments="z"),
    "wald_estimator": dict(outcome="y", treatment="a", instrument="z"),
    "rdd": dict(outcome="y", running="r", cutoff=0.0),
    "did_2x2": dict(outcome="y", treatment="g", time="t"),
    "twfe": dict(outcome="y", treatment="d", unit="id", time="t"),
    "event_study": dict(outcome="y", treatment="d", unit="id", time="t"),
    "callaway_santanna": dict(outcome="y", treatment="d", unit="id", time="t"),
    "dose_response": dict(outcome="y", treatment="x", covariates=["a"]),
    "partially_linear_dml": dict(outcome="y", treatment="x", covariates=["a"]),
}
#: options for which a string is a legal value whatever it says (a column name checked as a role, a label)
FREE_TEXT = {("did_2x2", "post")}
#: (function, option, value) where the value is legal: an event-time window may start before the treatment
LEGAL = {("callaway_santanna", "min_e", -7)}
CASES = [
    (func, name, bad)
    for func, roles in ROLES.items()
    for name in inspect.signature(getattr(ci.causal, func)).parameters
    if name != "data" and name not in roles and (func, name) not in FREE_TEXT
    for bad in ("banana", -7)
    if (func, name, bad) not in LEGAL
]


@pytest.mark.parametrize(("func", "name", "bad"), CASES, ids=[f"{f}-{n}-{b}" for f, n, b in CASES])
def test_bad_option_is_refused(func, name, bad):
    df = _frame()
    if func == "did_2x2":
        df = df[df["t"].isin([0, 1])].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ci.CausalInferError):
            getattr(ci.causal, func)(df, **{**ROLES[func], name: bad})


def test_dml_clip_is_checked_and_used():
    df = _frame()
    with pytest.raises(ci.CausalInferError, match="`clip`"):
        ci.causal.dml(df, **BINARY, clip="banana")
    r = ci.causal.dml(df, **BINARY, clip=0.1, random_state=0)
    assert "clipped to [0.1, 0.9]" in r.method


def test_unobserved_must_name_graph_nodes():
    df = _frame()[["x", "a", "y"]]
    graph = [("x", "a"), ("x", "y"), ("a", "y"), ("U", "y")]
    with pytest.raises(ci.ArgumentError, match="did you mean 'U'"):
        ci.causal.identify_effect(df, graph=graph, treatment="a", outcome="y", unobserved=["u"])
    with pytest.raises(ci.ArgumentTypeError, match="`unobserved`"):
        ci.causal.identify_effect(df, graph=graph, treatment="a", outcome="y", unobserved=5)
    r = ci.causal.identify_effect(df, graph=graph, treatment="a", outcome="y", unobserved="U")
    assert r is not None
