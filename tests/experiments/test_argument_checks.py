"""Arguments of the experiments functions: declared checks, numpy scalars accepted, no raw exception escapes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer import experiments as ex


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"variant": np.repeat(["control", "b"], 30), "y": rng.normal(size=60)})


def test_numpy_and_integral_float_treatments_are_accepted():
    base = ex.plan(baseline=10.0, sd=2.0, mde=0.1, treatments=2).table
    for value in (np.int64(2), 2.0):
        pd.testing.assert_frame_equal(ex.plan(baseline=10.0, sd=2.0, mde=0.1, treatments=value).table, base)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(mde=1e-300), "`mde` 1e-300 is too small"),
        (dict(mde=1e-12), "`mde` 1e-12 is too small"),
        (dict(n_per_arm=1e308), "`n_per_arm` must be at most"),
        (dict(baseline=1e300, mde=1e300), "`mde` 1e\\+300 times `baseline`"),
        (dict(sd=1.7e308, n_per_arm=1), "overflows with `sd`"),
        (dict(treatments=10**40), "`treatments` must be an integer <= 1000"),
    ],
)
def test_plan_refuses_overflow_with_a_reason(kw, match):
    args = dict(baseline=10.0, sd=2.0)
    args.update(kw)
    if "n_per_arm" not in args and "mde" not in args:
        args["mde"] = 0.1
    with pytest.raises(ci.ArgumentError, match=match):
        ex.plan(**args)


def test_plan_huge_effect_needs_one_unit_per_arm():
    row = ex.plan(baseline=10.0, sd=2.0, mde=1e300).table.iloc[0]
    assert row["n_per_arm"] == 1
    large = ex.plan(baseline=1e308, sd=1e308, mde=0.1).table.iloc[0]
    assert large["n_per_arm"] == ex.plan(baseline=1.0, sd=1.0, mde=0.1).table.iloc[0]["n_per_arm"]


@pytest.mark.parametrize("share", ["a", None, True, [0.5]])
def test_allocation_shares_must_be_numbers(share):
    with pytest.raises(ci.ArgumentTypeError, match="`allocation` shares must be numbers"):
        ex.analyze(_frame(), control="control", metrics=["y"], allocation={"control": share, "b": 1})
    with pytest.raises(ci.ArgumentTypeError, match="`allocation` shares must be numbers"):
        ex.srm_test(_frame(), allocation={"control": share, "b": 1})


def test_shift_must_be_a_number():
    with pytest.raises(ci.ArgumentTypeError, match="`shift` for 'a' must be a number; got 'x'"):
        ex.sql_aggregates(["a"], shift={"a": "x"})
    table = ex.Summaries.from_frame(_frame(), variant="variant", variables=["y"]).to_table()
    with pytest.raises(ci.ArgumentTypeError, match="`shift` for 'y' must be a number"):
        ex.Summaries.from_table(table, shift={"y": "x"})


def test_summary_table_with_text_is_refused_naming_the_column():
    table = ex.Summaries.from_frame(_frame(), variant="variant", variables=["y"]).to_table()
    table["sum(y)"] = ["1.0", "two"]
    with pytest.raises(ci.DataError, match="`table` column 'sum\\(y\\)' must hold numbers"):
        ex.Summaries.from_table(table)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: ex.analyze(_frame(), control="control", metrics=["y"], adjust="holmes"), ci.ArgumentError, "adjust"),
        (lambda: ex.analyze(_frame(), control="control", metrics=[3]), ci.ArgumentError, "metrics"),
        (lambda: ex.analyze(_frame(), control="control", metrics=["y"], look=0), ci.ArgumentError, "look"),
        (lambda: ex.analyze(_frame(), control="control", metrics=["y"], sequential="mixtur"), ci.ArgumentError, "sequential"),
        (lambda: ex.group_sequential(3, information=[1, "b", 3]), ci.ArgumentError, "information"),
        (lambda: ex.sql_aggregates("y"), ci.ArgumentTypeError, "variables"),
        (lambda: ex.quantile("y", q=np.nan), ci.ArgumentError, "q"),
        (lambda: ex.mean("y", name=3), ci.ArgumentTypeError, "name"),
    ],
)
def test_declared_arguments_are_named(call, error, name):
    with pytest.raises(error, match=f"`{name}`"):
        call()


def test_summaries_fields_that_are_not_numbers_or_misshapen_are_refused():
    with pytest.raises(ci.ArgumentTypeError, match="`n` must hold numbers"):
        ex.Summaries(("a", "b"), ("y",), ["x", "y"], np.array([[1.0], [2.0]]), np.zeros((2, 1, 1)))
    with pytest.raises(ci.ArgumentError, match="`sums` must have shape \\(2, 1\\)"):
        ex.Summaries(("a", "b"), ("y",), [1, 2], np.array([[1.0], [2.0], [3.0]]), np.zeros((2, 1, 1)))


def test_levels_must_be_a_list():
    with pytest.raises(ci.ArgumentTypeError, match="`levels` must be a list"):
        ex.Summaries.from_frame(_frame(), variant="variant", variables=["y"], levels=3)


def test_empty_parquet_path_is_refused():
    with pytest.raises(ci.ArgumentError, match="`path` is empty"):
        ex.ParquetSource("")
