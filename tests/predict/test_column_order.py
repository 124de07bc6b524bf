"""A model fitted on an array reads columns by position: the order is stated, recorded and checked, never assumed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from causalinfer.exceptions import ArgumentError
from causalinfer.predict import SchemaError, load_model, model_info, save_model, score


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300), "c": rng.normal(size=300)})
    y = 3 * X["a"] - 2 * X["b"] + 0.5 * X["c"]
    return X, y


@pytest.fixture(scope="module")
def array_model(data):
    X, y = data
    return LinearRegression().fit(X.to_numpy(), y)  # fitted on an array: no feature names, order a, b, c


def test_schema_in_another_order_is_not_fed_by_position(array_model, data):
    X, _ = data
    shuffled = X[["c", "a", "b"]]
    # before: the columns were fed in the schema's order and most predictions were wrong, job "complete"
    with pytest.raises(ArgumentError, match="feature_order"):
        score(array_model, X, schema=shuffled, progress=False)


def test_stated_order_scores_right_whatever_the_source_order(array_model, data):
    X, _ = data
    res = score(array_model, X[["c", "b", "a"]], schema=X[["c", "a", "b"]], feature_order=["a", "b", "c"], progress=False)
    np.testing.assert_allclose(res.output["prediction"], array_model.predict(X.to_numpy()), rtol=1e-12)
    diag = {d.name: d for d in res.diagnostics}["column order"]
    assert "by position" in diag.message and "['a', 'b', 'c']" in diag.message


def test_order_is_checked_against_n_features_in(array_model):
    with pytest.raises(SchemaError, match="n_features_in_"):
        score(array_model, pd.DataFrame({"a": [1.0], "b": [2.0]}), feature_order=["a", "b"], progress=False)


def test_save_model_refuses_unstated_order_and_records_a_stated_one(tmp_path, array_model, data):
    X, _ = data
    with pytest.raises(ArgumentError, match="by position"):
        save_model(array_model, tmp_path / "m.skops", training_data=X[["b", "a", "c"]])
    info = save_model(array_model, tmp_path / "m.skops", training_data=X[["b", "a", "c"]], feature_order=["a", "b", "c"])
    assert info.schema.names == ("a", "b", "c") and info.schema.positional
    side = json.loads((tmp_path / "m.skops.json").read_text())
    assert side["schema"]["positional"] is True
    assert model_info(tmp_path / "m.skops").schema.positional
    res = score(tmp_path / "m.skops", X[["c", "b", "a"]], progress=False)
    np.testing.assert_allclose(res.output["prediction"], array_model.predict(X.to_numpy()), rtol=1e-12)
    assert load_model(tmp_path / "m.skops").n_features_in_ == 3


def test_named_model_matches_columns_by_name(data, tmp_path):
    X, y = data
    model = LinearRegression().fit(X, y)
    res = score(model, X[["c", "b", "a"]], schema=X[["b", "c", "a"]], progress=False)
    np.testing.assert_allclose(res.output["prediction"], model.predict(X), rtol=1e-12)
    info = save_model(model, tmp_path / "n.skops", training_data=X[["c", "a", "b"]])
    assert info.schema.names == ("a", "b", "c") and not info.schema.positional
    with pytest.raises(SchemaError, match="feature_order"):
        score(model, X, feature_order=["b", "a", "c"], progress=False)
