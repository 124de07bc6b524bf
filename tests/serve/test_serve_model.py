"""The served model's input step without a server: frames built from JSON skip the contract only when it is a no-op."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from causalinfer.predict import InputSchema
from causalinfer.serve import RequestError
from causalinfer.serve._model import ServedModel
from causalinfer.serve._records import frame_from_records


def served(train: pd.DataFrame) -> ServedModel:
    schema = InputSchema.from_frame(train)
    return ServedModel("m", Path("m.skops"), None, schema, "v", "0" * 64, "regressor", None, None)


TRAIN = pd.DataFrame({"a": [0.5, 1.5], "n": np.array([1, 2], dtype=np.int64), "flag": [True, False]})


@pytest.mark.parametrize(
    "records",
    [
        [{"a": 1.25, "n": 3, "flag": True}, {"a": -2.0, "n": -4, "flag": False}],  # exact dtypes: passed on as they are
        [{"a": 1, "n": None, "flag": 1}, {"a": None, "n": 2.0, "flag": None}],  # NaN and 0/1: through the contract
    ],
)
def test_model_input_equals_the_contract_value_for_value(records):
    model = served(TRAIN)
    frame = frame_from_records(records, model.schema)
    contract, _ = model.schema.conform(frame.copy(), where="request")
    got = model.conform(frame)
    pd.testing.assert_frame_equal(got, contract, check_exact=True)


def test_a_float_column_trained_as_float32_still_goes_through_the_contract():
    model = served(TRAIN.astype({"a": "float32"}))
    got = model.conform(frame_from_records([{"a": 0.1, "n": 1, "flag": True}], model.schema))
    assert got["a"].dtype == np.float32


def test_text_columns_still_go_through_the_contract():
    model = served(pd.DataFrame({"a": [0.5, 1.5], "color": ["red", "blue"]}))
    frame = frame_from_records([{"a": 1.0, "color": "red"}], model.schema)
    pd.testing.assert_frame_equal(model.conform(frame), model.schema.conform(frame, where="request")[0], check_exact=True)
    with pytest.raises(RequestError, match="color"):
        model.conform(pd.DataFrame({"a": [1.0], "color": [3.0]}))
