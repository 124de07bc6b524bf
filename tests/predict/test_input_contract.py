"""The per-chunk input contract: missing columns, extra columns, safe casts, nullable dtypes, unseen categories."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from causalinfer._testing import check_unchanged
from causalinfer.predict import InputSchema, SchemaError


@pytest.fixture
def schema():
    train = pd.DataFrame(
        {
            "f": np.array([0.5, 1.5]),
            "i": np.array([1, 2], dtype="int64"),
            "b": np.array([True, False]),
            "cat": pd.Categorical(["a", "b"]),
            "s": pd.Series(["u", "v"], dtype=object),
        }
    )
    return InputSchema.from_frame(train)


def test_round_trip_through_dict(schema):
    assert InputSchema.from_dict(schema.to_dict()) == schema
    assert schema.names == ("f", "i", "b", "cat", "s")


def test_missing_columns_are_named(schema):
    chunk = pd.DataFrame({"f": [1.0], "b": [True], "s": ["u"]})
    with pytest.raises(SchemaError, match=r"lacks column\(s\) \['i', 'cat'\]"):
        schema.conform(chunk)


def test_extra_columns_dropped_and_reported(schema):
    chunk = pd.DataFrame({"zz": [9], "f": [1.0], "i": [3], "b": [True], "cat": ["a"], "s": ["v"]})
    out, rep = check_unchanged(chunk, schema.conform)
    assert list(out.columns) == ["f", "i", "b", "cat", "s"]
    assert rep.dropped == ("zz",)


def test_nullable_dtypes_and_na(schema):
    chunk = pd.DataFrame(
        {
            "f": pd.array([1.0, None, 2.0], dtype="Float64"),
            "i": pd.array([1, None, 3], dtype="Int64"),
            "b": pd.array([True, None, False], dtype="boolean"),
            "cat": pd.Categorical(["a", None, "b"]),
            "s": pd.array(["u", None, "v"], dtype="string"),
        }
    )
    out, rep = schema.conform(chunk)
    assert out["f"].dtype == np.float64
    assert np.isnan(out["f"][1])
    assert out["i"].dtype == np.float64
    assert out["i"].tolist()[0] == 1.0
    assert np.isnan(out["i"][1])
    assert out["b"].dtype == np.float64
    assert np.isnan(out["b"][1])
    assert rep.missing == {"f": 1, "i": 1, "b": 1, "cat": 1, "s": 1}
    assert rep.cast["i"] == "Int64 -> float64"
    assert rep.unseen == {}


def test_safe_casts_only(schema):
    ok = pd.DataFrame({"f": np.array([1, 2], dtype="int32"), "i": [1.0, 2.0], "b": [1, 0], "cat": ["a", "b"], "s": ["u", "v"]})
    out, rep = schema.conform(ok)
    assert out["f"].dtype == np.float64
    assert out["f"].tolist() == [1.0, 2.0]
    assert out["i"].tolist() == [1.0, 2.0]
    assert "f" in rep.cast
    with pytest.raises(SchemaError, match=r"column 'i' .* non-integer values"):
        schema.conform(ok.assign(i=[1.5, 2.0]))
    with pytest.raises(SchemaError, match=r"column 'f' .* only numeric"):
        schema.conform(ok.assign(f=["1.0", "2.0"]))
    with pytest.raises(SchemaError, match=r"column 'b' .* only 0/1"):
        schema.conform(ok.assign(b=[2, 0]))
    with pytest.raises(SchemaError, match=r"column 'cat' .* not numbers"):
        schema.conform(ok.assign(cat=[1, 2]))


def test_unseen_categories_counted(schema):
    chunk = pd.DataFrame({"f": [1.0] * 4, "i": [1] * 4, "b": [True] * 4, "cat": ["a", "z", "z", "y"], "s": ["u", "w", "u", "u"]})
    out, rep = schema.conform(chunk)
    assert rep.unseen == {"cat": {"z": 2, "y": 1}, "s": {"w": 1}}
    assert list(out["cat"].cat.categories) == ["a", "b", "y", "z"]  # known codes keep their positions
    assert out["cat"].tolist() == ["a", "z", "z", "y"]
