"""A text treatment needs its treated level stated; the hint never picks one, and the stated level sets the sign."""

from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci


def _df(n=400, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    a = rng.binomial(1, 1 / (1 + np.exp(-x)))
    return pd.DataFrame({"y": x + 2.0 * a + rng.normal(size=n), "a": a, "x": x})


PAIRS = [("treatment", "control"), ("yes", "no"), ("treated", "untreated")]


@pytest.mark.parametrize(("treated", "control"), PAIRS, ids=["treatment-control", "yes-no", "treated-untreated"])
@pytest.mark.parametrize("first_row_treated", [True, False], ids=["treated-first", "control-first"])
def test_hint_lists_levels_sorted_and_names_the_argument(treated, control, first_row_treated):
    df = _df()
    order = np.argsort(-df["a"].to_numpy() if first_row_treated else df["a"].to_numpy(), kind="stable")
    text = df.iloc[order].reset_index(drop=True).assign(a=lambda d: np.where(d["a"] == 1, treated, control))
    with pytest.raises(ci.RoleError) as err:
        ci.causal.ipw(text, outcome="y", treatment="a", covariates=["x"])
    msg = str(err.value)
    assert "treated_level" in msg
    low, high = sorted([treated, control])
    assert f"{low!r}, {high!r}" in msg  # sorted order, whatever the row order
    assert "==" not in msg  # no ready-made recoding that picks a level


@pytest.mark.parametrize("func", ["ipw", "aipw", "regression_adjustment", "stratification", "matching", "dml"])
def test_stated_level_gives_the_numeric_answer(func):
    df = _df()
    f = getattr(ci.causal, func)
    if func == "dml":  # the same folds for every call
        f = functools.partial(f, random_state=0)
    numeric = f(df, outcome="y", treatment="a", covariates=["x"])
    text = df.assign(a=np.where(df["a"] == 1, "yes", "no"))
    stated = f(ci.Dataset(text, outcome="y", treatment="a", covariates=["x"], treated_level="yes"))
    assert stated.estimate == pytest.approx(numeric.estimate, rel=1e-9)
    flipped = f(ci.Dataset(text, outcome="y", treatment="a", covariates=["x"], treated_level="no"))
    assert np.sign(flipped.estimate) == -np.sign(numeric.estimate)


def test_numeric_and_boolean_treatments_keep_working():
    df = _df()
    base = ci.causal.aipw(df, outcome="y", treatment="a", covariates=["x"]).estimate
    assert ci.causal.aipw(df.assign(a=df["a"].astype(bool)), outcome="y", treatment="a", covariates=["x"]).estimate == pytest.approx(
        base, rel=1e-9
    )
    coded = df.assign(a=df["a"] + 1)  # 1/2: which is treated must be said
    with pytest.raises(ci.RoleError, match="treated_level"):
        ci.causal.aipw(coded, outcome="y", treatment="a", covariates=["x"])
    r = ci.causal.aipw(ci.Dataset(coded, outcome="y", treatment="a", covariates=["x"], treated_level=2))
    assert r.estimate == pytest.approx(base, rel=1e-9)


def test_treated_level_is_checked():
    df = _df().assign(a=lambda d: np.where(d["a"] == 1, "yes", "no"))
    with pytest.raises(ci.RoleError, match=re.escape("'yse' is not a level")):
        ci.Dataset(df, treatment="a", treated_level="yse")
    with pytest.raises(ci.RoleError, match="without `treatment`"):
        ci.Dataset(df, treated_level="yes")
    with pytest.raises(ci.RoleError, match="two levels"):
        ci.Dataset(df.assign(a=np.arange(len(df)) % 3), treatment="a", treated_level=1)


def test_treated_level_survives_with_roles_and_as_dataset():
    df = _df().assign(a=lambda d: np.where(d["a"] == 1, "yes", "no"))
    ds = ci.Dataset(df, outcome="y", treatment="a", treated_level="yes")
    assert ds.with_roles(covariates=["x"]).treated_level == "yes"
    assert "treated_level='yes'" in repr(ds)
    assert ds.fingerprint() != ci.Dataset(df, outcome="y", treatment="a", treated_level="no").fingerprint()
    assert ds.treatment_values().sum() == (df["a"] == "yes").sum()
