"""Regression inputs that used to raise raw NumPy errors or misleading messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer.exceptions import ArgumentError, ArgumentTypeError, DataError

RNG = np.random.default_rng(6)
DF = pd.DataFrame({"y": RNG.normal(size=20), "x": RNG.normal(size=20), "z": RNG.normal(size=20)})
DF["d"] = pd.date_range("2020-01-01", periods=20)
DF["b"] = (DF["y"] > 0).astype(int)


@pytest.mark.parametrize("fit", [ci.stats.ols, ci.stats.logit, ci.stats.poisson])
def test_more_parameters_than_rows(fit) -> None:  # type: ignore[no-untyped-def]
    y = np.array([0.0, 1.0, 1.0])
    with pytest.raises(DataError, match=r"k = 6 parameters .* only n = 3"):
        fit(RNG.normal(size=(3, 5)), y)


def test_datetime_covariate_is_named_as_such() -> None:
    with pytest.raises(DataError, match=r"'d' .* datetime column .*\.dt\.days"):
        ci.stats.ols("y ~ x + d", data=DF)
    with pytest.raises(DataError, match=r"'d' .* datetime column"):
        ci.stats.ols(DF[["x", "d"]], DF["y"])
    with pytest.raises(DataError, match=r"'d' .* datetime column"):
        ci.stats.logit("b ~ d", data=DF)


def test_wald_test_accepts_a_list_of_terms_and_restrictions() -> None:
    r = ci.stats.ols("y ~ x + z", data=DF)
    joint = ci.stats.wald_test(r, "x = 0, z = 0")
    listed = ci.stats.wald_test(r, ["x", "z"])
    assert listed.statistic == pytest.approx(joint.statistic, rel=1e-12)
    assert ci.stats.wald_test(r, ["x = z"]).pvalue == pytest.approx(ci.stats.wald_test(r, "x = z").pvalue, rel=1e-12)


@pytest.mark.parametrize(
    ("restrictions", "exc", "match"),
    [
        (["x", 1], ArgumentTypeError, "mixes text and numbers"),
        ([], ArgumentError, "is empty"),
        ({"x": 1}, ArgumentTypeError, "`restrictions` must be text"),
        (["w"], ArgumentError, "could not read the restrictions 'w'"),
    ],
)
def test_wald_test_bad_restrictions(restrictions, exc, match) -> None:  # type: ignore[no-untyped-def]
    r = ci.stats.ols("y ~ x + z", data=DF)
    with pytest.raises(exc, match=match):
        ci.stats.wald_test(r, restrictions)


def test_messages_print_plain_numbers() -> None:
    frame = pd.DataFrame({"y": np.arange(9.0), "g": np.repeat([0, 1, 2], 3)})
    with pytest.raises(DataError) as info:
        ci.stats.ttest("y", data=frame, group="g")
    assert "np.int64" not in str(info.value) and "[0, 1, 2]" in str(info.value)
    with pytest.raises(ArgumentError) as info2:
        ci.stats.ttest("y", data=frame, group="g", levels=(0, 5))
    assert "np.int64" not in str(info2.value)
