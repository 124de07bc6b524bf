"""Messages echo labels and values taken from arrays and frames as plain numbers, never as ``np.int64(0)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import causalinfer as ci
from causalinfer.exceptions import CausalInferError


def _panel() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"u": np.repeat(np.arange(8), 3), "t": np.tile([2000, 2001, 2002], 8), "y": rng.normal(size=24)})
    df["d"] = ((df["u"] < 4) & (df["t"] >= 2001)).astype(int)
    return df


def _cross() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 40
    df = pd.DataFrame({"x": rng.normal(size=n), "d": np.tile([0, 1], n // 2), "grp": np.repeat([10, 20], n // 2)})
    df["y"] = df["x"] + df["d"] + rng.normal(size=n)
    df.loc[n - 1, "grp"] = 30  # a subgroup of one row
    return df


def _twfe_duplicate() -> Any:
    df = _panel()
    return ci.designs.twfe(pd.concat([df, df.iloc[[4]]]), outcome="y", treatment="d", unit="u", time="t")


def _unbalanced_callaway_santanna() -> Any:
    df = _panel().iloc[1:]
    return ci.designs.callaway_santanna(df, outcome="y", treatment="d", unit="u", time="t")


def _always_treated_callaway_santanna() -> Any:
    df = _panel()
    df["d"] = (df["u"] < 4).astype(int)
    return ci.designs.callaway_santanna(df, outcome="y", treatment="d", unit="u", time="t")


def _cate_small_subgroup() -> Any:
    return ci.designs.cate(
        _cross(),
        outcome="y",
        treatment="d",
        covariates="x",
        learner="t",
        outcome_model=LinearRegression(),
        propensity_model=LogisticRegression(),
        subgroups="grp",
        n_folds=2,
    )


def _dataset_treated_level() -> Any:
    frame = pd.DataFrame({"y": np.arange(6.0), "tr": np.repeat(np.array([3, 7]), 3)})
    return ci.Dataset(frame, outcome="y", treatment="tr", treated_level=np.int64(5))


def _dataset_three_levels() -> Any:
    frame = pd.DataFrame({"y": np.arange(6.0), "tr": np.arange(6) % 3})
    return ci.Dataset(frame, outcome="y", treatment="tr", treated_level=np.int64(1))


def _negative_risk_ratio() -> Any:
    return ci.effects.e_value_from_rr(np.float64(-0.5))


@pytest.mark.parametrize(
    "build",
    [
        _twfe_duplicate,
        _unbalanced_callaway_santanna,
        _always_treated_callaway_santanna,
        _cate_small_subgroup,
        _dataset_treated_level,
        _dataset_three_levels,
        _negative_risk_ratio,
    ],
)
def test_messages_print_plain_numbers(build: Callable[[], Any]) -> None:
    with pytest.raises(CausalInferError) as info:
        build()
    message = str(info.value)
    assert "np." not in message, message
    assert any(ch.isdigit() for ch in message)


def test_dataset_repr_prints_a_plain_treated_level() -> None:
    frame = pd.DataFrame({"y": np.arange(6.0), "tr": np.repeat(np.array([3, 7]), 3)})
    ds = ci.Dataset(frame, outcome="y", treatment="tr", treated_level=np.int64(7))
    assert "treated_level=7" in repr(ds)


def test_conformal_classifier_lists_plain_classes() -> None:
    from causalinfer.predict import SplitConformalClassifier

    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(np.int64)
    model = LogisticRegression().fit(X[:30], y[:30])
    y_cal = y[30:].copy()
    y_cal[0] = 5  # a label the classifier never saw
    with pytest.raises(CausalInferError) as info:
        SplitConformalClassifier(model, prefit=True).fit(X[30:], y_cal)
    assert "np." not in str(info.value), str(info.value)
    assert "[0, 1]" in str(info.value)


def test_experiment_title_prints_a_plain_control_label() -> None:
    from causalinfer import experiments as ex

    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"variant": np.repeat(np.array([0, 1]), 200), "revenue": rng.normal(10, 2, size=400)})
    res = ex.analyze(frame, control=np.int64(0), metrics=[ex.mean("revenue", name="mean")])
    text = repr(res) + str(getattr(res, "title", ""))
    assert "np." not in text, text
