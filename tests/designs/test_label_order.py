"""Period labels that are not numbers or dates need a stated order; text treatments need a stated treated level."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci


def _two_period(seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"id": np.repeat(np.arange(200), 2), "period": np.tile(["pre", "post"], 200)})
    df["g"] = (df["id"] < 100).astype(int)
    df["y"] = 1 + 0.5 * df["g"] + rng.normal(size=400) + 2.0 * df["g"] * (df["period"] == "post")
    return df


def test_did_2x2_refuses_text_periods_without_post():
    with pytest.raises(ci.RoleError, match=r"post=.*'post' or 'pre'"):
        ci.designs.did_2x2(_two_period(), outcome="y", treatment="g", time="period", unit="id")


def test_did_2x2_post_label_gives_the_right_sign():
    df = _two_period()
    numeric = ci.designs.did_2x2(
        df.assign(period=(df["period"] == "post").astype(int)), outcome="y", treatment="g", time="period", unit="id"
    )
    r = ci.designs.did_2x2(df, outcome="y", treatment="g", time="period", unit="id", post="post")
    assert r.estimate == pytest.approx(numeric.estimate, rel=1e-9)
    assert r.estimate > 1.5
    ordered = df.assign(period=pd.Categorical(df["period"], categories=["pre", "post"], ordered=True))
    assert ci.designs.did_2x2(ordered, outcome="y", treatment="g", time="period", unit="id").estimate == pytest.approx(r.estimate, rel=1e-9)
    with pytest.raises(ci.ArgumentError, match="`post` 'after' is not one of the periods"):
        ci.designs.did_2x2(df, outcome="y", treatment="g", time="period", unit="id", post="after")


def test_did_2x2_dates_order_themselves():
    df = _two_period()
    dated = df.assign(period=pd.to_datetime(np.where(df["period"] == "pre", "2020-01-01", "2021-01-01")))
    r = ci.designs.did_2x2(dated, outcome="y", treatment="g", time="period", unit="id")
    assert r.estimate > 1.5


def _panel(seed=0):
    rng = np.random.default_rng(seed)
    units, times = 40, 4
    df = pd.DataFrame({"id": np.repeat(np.arange(units), times), "t": np.tile(np.arange(times), units)})
    first = np.where(np.arange(units) < 15, 2, np.where(np.arange(units) < 25, 3, 99))
    df["d"] = (df["t"] >= first[df["id"]]).astype(int)
    df["y"] = rng.normal(size=len(df)) + df["d"]
    return df


@pytest.mark.parametrize("func", ["twfe", "event_study", "callaway_santanna"])
def test_panel_designs_refuse_text_periods(func):
    df = _panel()
    words = df.assign(t=np.array(["one", "two", "three", "four"])[df["t"]])
    with pytest.raises(ci.RoleError, match="ordered Categorical"):
        getattr(ci.designs, func)(words, outcome="y", treatment="d", unit="id", time="t")


@pytest.mark.parametrize("func", ["twfe", "callaway_santanna"])
def test_panel_designs_follow_an_ordered_categorical(func):
    df = _panel()
    names = np.array(["one", "two", "three", "four"])
    words = df.assign(t=pd.Categorical(names[df["t"]], categories=list(names), ordered=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        a = getattr(ci.designs, func)(df, outcome="y", treatment="d", unit="id", time="t")
        b = getattr(ci.designs, func)(words, outcome="y", treatment="d", unit="id", time="t")
    assert b.estimate == pytest.approx(a.estimate, rel=1e-9)


@pytest.mark.parametrize("func", ["did_2x2", "twfe"])
def test_designs_take_a_stated_treated_level(func):
    df = _two_period().assign(period=lambda d: (d["period"] == "post").astype(int))
    if func == "twfe":
        df = df.assign(g=df["g"] * df["period"])
    text = df.assign(g=np.where(df["g"] == 1, "yes", "no"))
    f = getattr(ci.designs, func)
    with pytest.raises(ci.RoleError, match=r"treated_level=<one of 'no', 'yes'>"):
        f(text, outcome="y", treatment="g", time="period", unit="id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        base = f(df, outcome="y", treatment="g", time="period", unit="id")
        stated = f(ci.Dataset(text, treatment="g", treated_level="yes"), outcome="y", time="period", unit="id")
    assert stated.estimate == pytest.approx(base.estimate, rel=1e-9)


def test_cate_takes_a_stated_treated_level():
    rng = np.random.default_rng(3)
    x = rng.normal(size=300)
    t = rng.binomial(1, 0.5, 300)
    df = pd.DataFrame({"y": x + t + rng.normal(size=300), "t": np.where(t == 1, "treated", "untreated"), "x": x})
    from sklearn.linear_model import LinearRegression

    with pytest.raises(ci.RoleError, match="treated_level"):
        ci.designs.cate(df, outcome="y", treatment="t", covariates="x", learner="t", outcome_model=LinearRegression())
    r = ci.designs.cate(
        ci.Dataset(df, treatment="t", treated_level="treated"), outcome="y", covariates="x", learner="t", outcome_model=LinearRegression()
    )
    assert 0.5 < r.estimate < 1.5


def test_panel_messages_print_plain_values():
    df = pd.DataFrame({"id": [1, 1, 2, 2], "t": [0, 0, 0, 1], "y": [1.0, 2, 3, 4], "d": [0, 0, 0, 1]})
    with pytest.raises(ci.DataError, match=r"unit 'id' = 1 appears more than once in period 't' = 0;"):
        ci.designs.twfe(df, outcome="y", treatment="d", unit="id", time="t")
    df = pd.DataFrame({"id": [1, 1, 1, 2, 2, 2], "t": [0, 1, 2] * 2, "y": [1.0, 2, 3, 4, 5, 6], "d": [0, 1, 0, 0, 0, 0]})
    with pytest.raises(ci.RoleError, match=r"for unit 1 \(0 in period 2 after being 1\)"):
        ci.designs.callaway_santanna(df, outcome="y", treatment="d", unit="id", time="t")


@pytest.mark.parametrize("func", ["did_2x2", "twfe"])
def test_placebo_refutation_of_a_stated_treated_level_matches_the_numeric_coding(func):
    df = _two_period().assign(period=lambda d: (d["period"] == "post").astype(int))
    if func == "twfe":
        df = df.assign(g=df["g"] * df["period"])
    text = df.assign(g=np.where(df["g"] == 1, "yes", "no"))
    f = getattr(ci.designs, func)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ci.AssumptionWarning)
        base = f(df, outcome="y", treatment="g", time="period", unit="id")
        stated = f(ci.Dataset(text, treatment="g", treated_level="yes"), outcome="y", time="period", unit="id")
        a = base.refute("placebo", n_simulations=20, random_state=3, progress=False)
        b = stated.refute("placebo", n_simulations=20, random_state=3, progress=False)
    np.testing.assert_allclose(b.details["simulations"], a.details["simulations"], rtol=1e-9)
