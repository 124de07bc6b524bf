"""Model persistence: skops files with a sidecar, hash checks, trusted types, pickle only when allowed."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

from causalinfer.exceptions import ArgumentError, CausalInferError, SourceError
from causalinfer.predict import ModelError, UntrustedModelError, frame_fingerprint, load_model, model_info, save_model


class Doubler(TransformerMixin, BaseEstimator):
    """A custom transformer: not in skops' trusted set."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float) * 2


def test_round_trip_and_sidecar(tmp_path, model, frame):
    features = frame.drop(columns="id")
    path = tmp_path / "m.skops"
    info = save_model(model, path, training_data=features)
    side = json.loads((tmp_path / "m.skops.json").read_text())
    assert side["sha256"] == info.sha256
    assert side["format"] == "skops"
    assert side["estimator"] == "LogisticRegression"
    assert side["classes"] == ["no", "yes"]
    assert {"numpy", "pandas", "scikit-learn", "skops", "python"} <= set(side["versions"])
    assert side["training_fingerprint"] == frame_fingerprint(features)
    cols = {c["name"]: c for c in side["schema"]["columns"]}
    assert list(cols) == ["x0", "x1", "x2", "x3", "color"]
    assert cols["x0"]["dtype"] == "float64"
    assert cols["color"]["kind"] == "category"
    assert cols["color"]["categories"] == ["blue", "green", "red"]
    loaded, linfo = load_model(path, with_info=True)
    np.testing.assert_array_equal(loaded.predict_proba(features), model.predict_proba(features))
    assert linfo.schema == info.schema
    assert model_info(path).sha256 == info.sha256


def test_save_refuses_overwrite_and_pickle_suffix(tmp_path, model):
    path = tmp_path / "m.skops"
    save_model(model, path)
    with pytest.raises(SourceError, match="already exists"):
        save_model(model, path)
    save_model(model, path, overwrite=True)
    with pytest.raises(ArgumentError, match="pickle suffix"):
        save_model(model, tmp_path / "m.pkl")


def test_tampered_model_is_refused(tmp_path, model):
    path = tmp_path / "m.skops"
    save_model(model, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its metadata"):
        load_model(path)


def test_file_that_is_not_a_model(tmp_path, model):
    path = tmp_path / "m.skops"
    info = save_model(model, path)
    path.write_text("this is not a model")
    side = tmp_path / "m.skops.json"
    meta = json.loads(side.read_text())
    meta["sha256"] = __import__("hashlib").sha256(path.read_bytes()).hexdigest()
    side.write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="not a skops model file"):
        load_model(path)
    assert info.sha256 != meta["sha256"]


def test_missing_sidecar_and_missing_file(tmp_path, model):
    path = tmp_path / "m.skops"
    save_model(model, path)
    (tmp_path / "m.skops.json").unlink()
    with pytest.raises(ModelError, match="no metadata sidecar"):
        load_model(path)
    with pytest.raises(SourceError, match="does not exist"):
        load_model(tmp_path / "absent.skops")


def test_untrusted_types_are_listed_and_refused(tmp_path):
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=30), "b": rng.normal(size=30)})
    pipe = make_pipeline(Doubler(), LinearRegression()).fit(X, X["a"] * 2.0)
    path = tmp_path / "custom.skops"
    # Doubler records no feature names, so the pipeline reads columns by position: the order is stated
    save_model(pipe, path, training_data=X, feature_order=["a", "b"])
    with pytest.raises(UntrustedModelError, match="Doubler") as err:
        load_model(path)
    name = next(t for t in str(err.value).split("'") if t.endswith("Doubler"))
    loaded = load_model(path, trusted=[name])
    np.testing.assert_allclose(loaded.predict(X), pipe.predict(X), rtol=0, atol=0)


def test_pickle_only_when_allowed(tmp_path, model, frame):
    path = tmp_path / "m.joblib"
    joblib.dump(model, path)
    with pytest.raises(ModelError, match="allow_pickle=True"):
        load_model(path)
    loaded, info = load_model(path, allow_pickle=True, with_info=True)
    assert info.format == "pickle"
    assert info.schema is not None
    assert info.schema.names == ("x0", "x1", "x2", "x3", "color")
    features = frame.drop(columns="id")
    np.testing.assert_array_equal(loaded.predict(features), model.predict(features))


def test_errors_are_causalinfer_errors(tmp_path):
    with pytest.raises(CausalInferError, match="`model` must be a fitted estimator"):
        save_model(object(), tmp_path / "x.skops")
    with pytest.raises(CausalInferError, match="`path` must be a model file path"):
        load_model(42)


def test_subpackage_loads_lazily():
    import subprocess
    import sys

    code = "import sys, causalinfer as ci; assert 'causalinfer.predict' not in sys.modules; ci.predict.score; print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
