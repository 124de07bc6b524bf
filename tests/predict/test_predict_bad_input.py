"""Bad input to causalinfer.predict raises one of our errors, naming the argument (or column and row), never a raw one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from causalinfer.exceptions import ArgumentError, ArgumentTypeError, CausalInferError, DataError, SourceError
from causalinfer.predict import (
    ModelError,
    Profile,
    SplitConformalClassifier,
    SplitConformalRegressor,
    coverage,
    evaluate,
    frame_fingerprint,
    load_model,
    save_model,
    score,
)
from causalinfer.results import Result, ResultSet

X = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 7})
Y = 2 * X["a"] - X["b"]


@pytest.fixture(scope="module")
def model():
    return LinearRegression().fit(X, Y)


def _with(column, row, value):
    bad = X.astype({column: object})
    bad.loc[row, column] = value
    return bad


# ---------------------------------------------------------------- raw exceptions that used to escape
@pytest.mark.parametrize(("value", "words"), [("z", "holds the text 'z' at row 5"), (np.nan, "'a' is missing at row 5")])
def test_score_names_column_and_row(model, value, words):
    bad = _with("a", 5, value) if isinstance(value, str) else X.assign(a=X["a"].where(X.index != 5))
    with pytest.raises(DataError, match=words):
        score(model, bad, progress=False)


def test_conformal_fit_string_target():
    with pytest.raises(DataError, match=r"`y` must hold numbers .* got 'x' at row 0"):
        SplitConformalRegressor(LinearRegression()).fit(X, ["x"] * 40)


@pytest.mark.parametrize(("value", "words"), [("z", "'a' holds the text 'z' at row"), (np.nan, "'a' is missing at row")])
def test_conformal_fit_bad_feature(value, words):
    bad = _with("a", 3, value)
    with pytest.raises(DataError, match=words):
        SplitConformalRegressor(LinearRegression(), random_state=0).fit(bad, Y)


def test_conformal_fit_nan_target():
    with pytest.raises(DataError, match="missing"):
        SplitConformalRegressor(LinearRegression()).fit(X, Y.where(Y.index != 2))


def test_frame_fingerprint_of_a_list():
    with pytest.raises(ArgumentTypeError, match="`frame` must be a pandas DataFrame; got \\[1, 2\\]"):
        frame_fingerprint([1, 2])


GARBAGE = ["garbage", "[]", "null", "{}", '{"type": "Result"}', '{"results": 3}', b"\xff\xfe"]


@pytest.mark.parametrize("cls", [Result, ResultSet, Profile], ids=["Result", "ResultSet", "Profile"])
@pytest.mark.parametrize("text", GARBAGE)
def test_from_json_on_garbage(cls, text):
    with pytest.raises(CausalInferError, match=r"`text`|Profile"):
        cls.from_json(text)


@pytest.mark.parametrize("cls", [Result, ResultSet, Profile], ids=["Result", "ResultSet", "Profile"])
def test_from_json_of_a_non_string(cls):
    with pytest.raises(ArgumentTypeError, match="`text` must be the JSON string"):
        cls.from_json(42)


def test_non_parquet_file_in_a_parquet_folder(tmp_path, model):
    X.to_parquet(tmp_path / "part-0.parquet")
    (tmp_path / "notes.txt").write_text("not parquet")
    with pytest.raises(SourceError, match=r"'notes\.txt' in the folder is not a readable Parquet file"):
        score(model, tmp_path, progress=False)


def test_read_only_parquet_destination_cleanup_does_not_mask_the_error(tmp_path, model, monkeypatch):
    import pathlib

    import causalinfer.predict._sinks as sinks

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(sinks, "write_part", refuse)
    monkeypatch.setattr(pathlib.Path, "unlink", refuse)  # the directory is read-only: cleanup fails as well
    with pytest.raises(SourceError, match="permission denied"):
        score(model, X, tmp_path / "out", progress=False)


def test_database_error_while_reading_a_sql_source(tmp_path, model, monkeypatch):
    import sqlite3

    from causalinfer.predict import SQLSource

    db = tmp_path / "in.db"
    with sqlite3.connect(db) as con:
        X.to_sql("x", con, index=False)

    def gone(*args, **kwargs):
        raise pd.errors.DatabaseError("Execution failed on sql: no such table: x")  # the file was deleted mid-job

    monkeypatch.setattr(pd, "read_sql_query", gone)
    with pytest.raises(SourceError, match="reading the source database failed"):
        score(model, SQLSource(f"sqlite:///{db}", table="x"), progress=False)


# ---------------------------------------------------------------- bad input that used to pass without a word
@pytest.mark.parametrize("threshold", [2, -0.1, "0.5", True])
def test_evaluate_threshold(threshold):
    with pytest.raises(CausalInferError, match="`threshold`"):
        evaluate([0, 1, 1, 0], [0.1, 0.8, 0.7, 0.2], threshold=threshold)


def test_probability_rows_must_sum_to_one():
    with pytest.raises(DataError, match=r"do not sum to 1, first row 0 sums to 1\.4"):
        evaluate([0, 1, 1], np.array([[0.5, 0.9], [0.1, 0.9], [0.3, 0.7]]))


def test_coverage_lower_above_upper():
    with pytest.raises(DataError, match=r"lower > upper, first row 1: \(3.0, 1.0\)"):
        coverage([1.0, 2.0, 3.0], np.array([[0.0, 2.0], [3.0, 1.0], [2.0, 4.0]]))


@pytest.mark.parametrize("chunk_size", [True, False, np.bool_(True)])
def test_score_chunk_size_boolean(model, chunk_size):
    with pytest.raises(ArgumentTypeError, match="`chunk_size` must be an integer"):
        score(model, X, chunk_size=chunk_size, progress=False)


def test_save_model_unfitted(tmp_path):
    with pytest.raises(ModelError, match="not fitted"):
        save_model(LinearRegression(), tmp_path / "m.skops")


def test_save_model_training_data_that_does_not_match(tmp_path, model):
    from causalinfer.predict import SchemaError

    with pytest.raises(SchemaError, match=r"missing \['b'\]; not used by the model \['c'\]"):
        save_model(model, tmp_path / "m.skops", training_data=X.rename(columns={"b": "c"}))
    with pytest.raises(SchemaError, match=r"not used by the model \['c'\]"):
        save_model(model, tmp_path / "m.skops", training_data=X.assign(c=1.0))
    arr_model = LinearRegression().fit(X.to_numpy(), Y)
    with pytest.raises(SchemaError, match="n_features_in_"):
        save_model(arr_model, tmp_path / "m.skops", training_data=X.assign(c=1.0), feature_order=["a", "b", "c"])


# ---------------------------------------------------------------- misleading messages
def test_load_model_of_a_directory(tmp_path):
    with pytest.raises(SourceError, match="is a directory, not a model file"):
        load_model(tmp_path)


def test_messages_print_plain_numbers():
    with pytest.raises(ArgumentError) as err:
        SplitConformalRegressor(LinearRegression(), calibration_size=np.int64(0)).fit(X, Y)
    assert "np.int64" not in str(err.value)
    with pytest.raises(DataError) as err:
        evaluate(np.array([1, 1, 1]), np.array([0.2, 0.4, 0.9]), task="binary")
    assert "np.int64" not in str(err.value)
    with pytest.raises(ArgumentError) as err:
        SplitConformalClassifier(LogisticRegression(), alpha=np.float64(1.5)).fit(X, Y > 30)
    assert "np.float64" not in str(err.value)


def test_dask_partition_names_column_and_row(model):
    dd = pytest.importorskip("dask.dataframe")
    bad = _with("a", 25, "z")
    with pytest.raises(DataError, match=r"'a' holds the text 'z' at row 5 of partition 1"):
        score(model, dd.from_pandas(bad, npartitions=2), engine="dask", progress=False)


def test_fingerprint_of_unhashable_cells():
    with pytest.raises(DataError, match="cannot be fingerprinted"):
        frame_fingerprint(pd.DataFrame({"a": [[1, 2], [3]]}))


def test_save_model_checks_models_not_built_on_base_estimator(tmp_path):
    # CATE models do not inherit scikit-learn's BaseEstimator; check_is_fitted raised a raw AttributeError on them
    import numpy as np
    import pandas as pd

    from causalinfer.designs import CausalForest, DRLearner
    from causalinfer.predict import save_model
    from causalinfer.predict._errors import ModelError

    with pytest.raises(ModelError, match="not fitted"):
        save_model(CausalForest(), tmp_path / "unfitted.skops")
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 2)), columns=["a", "b"])
    t = rng.integers(0, 2, 200)
    model = DRLearner(random_state=0).fit(X, X["a"] * t + rng.normal(size=200), t)
    save_model(model, tmp_path / "dr.skops", training_data=X)
    assert (tmp_path / "dr.skops").exists()
