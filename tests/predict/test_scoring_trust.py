"""Scoring jobs with conformal outputs (intervals, prediction sets) and drift monitoring, resumable as ever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sklearn.linear_model import LinearRegression, LogisticRegression

import causalinfer.predict._score as score_mod
from causalinfer._testing import check_result
from causalinfer.exceptions import ArgumentError, ArgumentTypeError
from causalinfer.predict import (
    DriftResult,
    JackknifePlusRegressor,
    Profile,
    SchemaError,
    SplitConformalClassifier,
    SplitConformalRegressor,
    SQLDestination,
    load_model,
    model_info,
    save_model,
    score,
)

N = 1_200
FEATURES = ["x0", "x1", "x2"]


def make_data(n: int = N, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(3)})
    frame["x0"] += shift
    frame["y"] = 1.5 * frame["x0"] - frame["x1"] + rng.normal(size=n)
    frame["label"] = np.where(frame["x0"] + 0.5 * rng.normal(size=n) > 0, "hi", "lo")
    frame["id"] = np.arange(n, dtype="int64") * 3 + 1
    return frame


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return make_data()


@pytest.fixture(scope="module")
def regressor(data):
    return SplitConformalRegressor(LinearRegression(), alpha=0.1, random_state=0).fit(data[FEATURES], data["y"])


@pytest.fixture(scope="module")
def classifier(data):
    return SplitConformalClassifier(LogisticRegression(), alpha=0.1, random_state=0).fit(data[FEATURES], data["label"])


@pytest.fixture(scope="module")
def regressor_path(tmp_path_factory, regressor, data):
    path = tmp_path_factory.mktemp("cm") / "reg.skops"
    save_model(regressor, path, training_data=data[FEATURES])
    return path


@pytest.fixture(scope="module")
def classifier_path(tmp_path_factory, classifier, data):
    path = tmp_path_factory.mktemp("cm") / "clf.skops"
    save_model(classifier, path, training_data=data[FEATURES])
    return path


def make_dest(kind, tmp_path):
    return {
        "frame": None,
        "csv": tmp_path / "out.csv",
        "parquet": tmp_path / "out",
        "sqlite": SQLDestination(f"sqlite:///{tmp_path / 'out.db'}", "scores"),
    }[kind]


def read_back(dest, res) -> pd.DataFrame:
    if dest is None:
        return res.output
    if isinstance(dest, SQLDestination):
        return pd.read_sql_table(dest.table, sa.create_engine(dest.connection))
    if str(dest).endswith(".csv"):
        return pd.read_csv(dest)
    return pd.read_parquet(dest)


def expected_regression(model, frame) -> pd.DataFrame:
    want = model.predict_frame(frame[FEATURES]).reset_index(drop=True)
    want.insert(0, "id", frame["id"].to_numpy())
    return want


def expected_sets(model, frame) -> pd.DataFrame:
    want = model.predict_frame(frame[FEATURES], proba=True).reset_index(drop=True)
    want.insert(0, "id", frame["id"].to_numpy())
    return want


def normalise(got: pd.DataFrame) -> pd.DataFrame:
    got = got.sort_values("id").reset_index(drop=True)
    for c in got.columns:
        if c.startswith("in_set_"):
            got[c] = got[c].astype(bool)
    return got


# ---------------------------------------------------------------------------------------------- model files
@pytest.mark.parametrize(
    "make",
    [
        lambda d: SplitConformalRegressor(LinearRegression(), conformity_score="normalized", random_state=0).fit(d[FEATURES], d["y"]),
        lambda d: JackknifePlusRegressor(LinearRegression(), n_folds=5, random_state=0).fit(d[FEATURES], d["y"]),
        lambda d: SplitConformalClassifier(LogisticRegression(), method="aps", random_state=0).fit(d[FEATURES], d["label"]),
    ],
    ids=["split-normalized", "cv+", "aps"],
)
def test_conformal_predictors_round_trip_through_skops_without_trusting_by_name(tmp_path, data, make):
    model = make(data)
    path = tmp_path / "m.skops"
    info = save_model(model, path)  # no training data: the schema comes from the wrapped model's feature names
    assert info.schema is not None and info.schema.names == tuple(FEATURES)
    assert info.estimator == type(model).__name__
    loaded = load_model(path)
    pd.testing.assert_frame_equal(loaded.predict_frame(data[FEATURES]), model.predict_frame(data[FEATURES]), rtol=0, atol=0)
    assert model_info(path).sha256 == info.sha256


def test_unfitted_conformal_predictor_has_no_feature_names():
    assert getattr(SplitConformalRegressor(LinearRegression()), "feature_names_in_", None) is None
    assert getattr(JackknifePlusRegressor(LinearRegression()), "feature_names_in_", None) is None


# ---------------------------------------------------------------------------------------------- outputs
@pytest.mark.parametrize("dest_kind", ["frame", "csv", "parquet", "sqlite"])
def test_interval_outputs_in_every_destination(dest_kind, tmp_path, regressor, regressor_path, data):
    dest = make_dest(dest_kind, tmp_path)
    res = score(regressor_path, data, dest, chunk_size=250, key="id", outputs=("prediction", "interval"), progress=False)
    check_result(res)
    got = normalise(read_back(dest, res))
    assert list(got.columns) == ["id", "prediction", "lower", "upper"]
    pd.testing.assert_frame_equal(got, expected_regression(regressor, data), check_dtype=False, rtol=1e-9, atol=0)
    assert res.details["conformal"] == {"predictor": "SplitConformalRegressor", "alpha": 0.1, "level": 0.9, "n_calibration": 300}


@pytest.mark.parametrize("dest_kind", ["frame", "csv", "parquet", "sqlite"])
def test_prediction_set_outputs_in_every_destination(dest_kind, tmp_path, classifier, classifier_path, data):
    dest = make_dest(dest_kind, tmp_path)
    res = score(classifier_path, data, dest, chunk_size=250, key="id", outputs=("prediction", "proba", "set"), progress=False)
    got = normalise(read_back(dest, res))
    assert list(got.columns) == ["id", "prediction", "proba_hi", "proba_lo", "set_size", "in_set_hi", "in_set_lo"]
    want = expected_sets(classifier, data)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-9, atol=0)
    assert (got["set_size"] == got[["in_set_hi", "in_set_lo"]].sum(axis=1)).all()


def test_interval_only_and_set_only(regressor, classifier, data):
    res = score(regressor, data[FEATURES], outputs="interval", progress=False)
    assert list(res.output.columns) == ["row", "lower", "upper"]
    res = score(classifier, data[FEATURES], outputs="set", progress=False)
    assert list(res.output.columns) == ["row", "set_size", "in_set_hi", "in_set_lo"]


def test_conformal_outputs_need_a_conformal_model(data, regressor):
    plain = LinearRegression().fit(data[FEATURES], data["y"])
    with pytest.raises(ArgumentError, match="gives no prediction intervals; wrap the regressor"):
        score(plain, data[FEATURES], outputs=("prediction", "interval"), progress=False)
    with pytest.raises(ArgumentError, match="gives no prediction sets; wrap the classifier"):
        score(regressor, data[FEATURES], outputs=("prediction", "set"), progress=False)


class Crash(RuntimeError):
    pass


def crash_after(monkeypatch, calls: int) -> None:
    real = score_mod.predict_frame
    count = {"n": 0}

    def flaky(*args, **kwargs):
        count["n"] += 1
        if count["n"] > calls:
            raise Crash("simulated crash")
        return real(*args, **kwargs)

    monkeypatch.setattr(score_mod, "predict_frame", flaky)


@pytest.mark.parametrize("dest_kind", ["csv", "parquet", "sqlite"])
def test_crash_then_rerun_writes_every_interval_once(dest_kind, tmp_path, monkeypatch, regressor, regressor_path, data):
    dest = make_dest(dest_kind, tmp_path)
    opts = {"chunk_size": 100, "key": "id", "outputs": ("prediction", "interval"), "progress": False}
    with monkeypatch.context() as m:
        crash_after(m, 5)
        with pytest.raises(Crash):
            score(regressor_path, data, dest, **opts)
    assert len(read_back(dest, None)) == 500
    res = score(regressor_path, data, dest, **opts)
    assert res.details["rows_skipped"] == 500 and res.rows_written == N - 500
    got = normalise(read_back(dest, res))
    assert got["id"].is_unique
    pd.testing.assert_frame_equal(got, expected_regression(regressor, data), check_dtype=False, rtol=1e-9, atol=0)
    assert score(regressor_path, data, dest, **opts).details["status"] == "already complete"


def test_interval_job_is_a_different_job(tmp_path, regressor_path, data):
    from causalinfer.predict import JobConflictError

    dest = tmp_path / "out"
    score(regressor_path, data, dest, chunk_size=400, key="id", progress=False)
    with pytest.raises(JobConflictError, match="another scoring job"):
        score(regressor_path, data, dest, chunk_size=400, key="id", outputs=("prediction", "interval"), progress=False)


# ---------------------------------------------------------------------------------------------- drift
@pytest.fixture(scope="module")
def profile(regressor, data):
    ref = data[FEATURES].assign(prediction=regressor.predict(data[FEATURES]))
    return Profile.build(ref, prediction="prediction")


def test_monitor_matches_a_check_of_the_same_rows(regressor, profile):
    current = make_data(900, seed=5)
    res = score(regressor, current, chunk_size=200, key="id", outputs=("prediction", "interval"), monitor=profile, progress=False)
    assert isinstance(res.drift, DriftResult) and not res.drift.drifted
    want = profile.check(current[FEATURES].assign(prediction=regressor.predict(current[FEATURES])))
    pd.testing.assert_frame_equal(res.drift.table, want.table)
    diag = {d.name: d for d in res.diagnostics}["drift"]
    assert diag.status == "ok"
    assert res.details["drift_rows"] == 900
    timeline = res.details["drift_timeline"]
    assert sorted(timeline["chunk"].unique()) == [0, 1, 2, 3, 4]
    assert len(timeline) == 5 * len(profile)


def test_monitor_alert_becomes_a_warning_naming_the_columns(regressor, profile):
    shifted = make_data(1000, seed=6, shift=1.5)
    res = score(regressor, shifted, chunk_size=250, outputs=("prediction", "interval"), monitor=profile.monitor(), progress=False)
    assert res.drift.drifted and set(res.drift.alerts) == {"x0", "prediction"}
    diag = {d.name: d for d in res.diagnostics}["drift"]
    assert diag.status == "warn" and diag.value == 2.0
    assert "drift alert on x0, prediction" in diag.message
    assert "coverage is not guaranteed" in diag.message


def test_monitor_on_resume_sees_only_this_run(tmp_path, monkeypatch, regressor_path, profile, regressor):
    current = make_data(1000, seed=7)
    dest = tmp_path / "out.csv"
    opts = {"chunk_size": 100, "key": "id", "outputs": ("prediction", "interval"), "progress": False}
    with monkeypatch.context() as m:
        crash_after(m, 4)
        with pytest.raises(Crash):
            score(regressor_path, current, dest, monitor=profile, **opts)
    res = score(regressor_path, current, dest, monitor=profile, **opts)
    assert res.drift.n == 600 == res.details["drift_rows"]
    assert "400 row(s) in 4 chunk(s) committed by an earlier run are not included" in res.details["drift_scope"]
    assert sorted(res.details["drift_timeline"]["chunk"].unique()) == list(range(4, 10))
    rest = current.iloc[400:]
    want = profile.check(rest[FEATURES].assign(prediction=regressor.predict(rest[FEATURES])))
    pd.testing.assert_frame_equal(res.drift.table, want.table)
    again = score(regressor_path, current, dest, monitor=profile, **opts)
    assert again.drift is None and again.details["drift_scope"].startswith("none: the job was already complete")


def test_monitor_argument_errors(regressor, profile, data):
    with pytest.raises(ArgumentTypeError, match="`monitor` must be a Profile or a DriftMonitor"):
        score(regressor, data, monitor="profile.json", progress=False)
    with pytest.raises(ArgumentError, match="add 'prediction' to `outputs`"):
        score(regressor, data, outputs="interval", monitor=profile, progress=False)
    with pytest.raises(SchemaError, match=r"profiles column\(s\) \['y'\] that the source does not have"):
        score(regressor, data[FEATURES], monitor=Profile.build(data[["x0", "y"]]), progress=False)
    with pytest.raises(ArgumentError, match="engine='local' only"):
        score(regressor, data, monitor=profile, engine="dask", progress=False)


def test_monitor_reads_profile_columns_the_model_does_not_use(tmp_path, regressor_path, data):
    src = tmp_path / "in.parquet"
    data.to_parquet(src)
    prof = Profile.build(data[["x0", "y"]])
    res = score(regressor_path, src, None, chunk_size=500, monitor=prof, progress=False)
    assert list(res.drift.table["feature"]) == ["x0", "y"]
    assert res.drift.n == N


def test_dask_engine_writes_the_same_intervals(tmp_path, regressor_path, regressor, data):
    dd = pytest.importorskip("dask.dataframe", reason="dask is needed for engine='dask' (extra 'dask')")
    ddf = dd.from_pandas(data, npartitions=3)
    res = score(regressor_path, ddf, tmp_path / "out", key="id", outputs=("prediction", "interval"), engine="dask", progress=False)
    assert res.details["conformal"]["level"] == 0.9
    got = normalise(pd.read_parquet(tmp_path / "out"))
    pd.testing.assert_frame_equal(got, expected_regression(regressor, data), check_dtype=False, rtol=1e-9, atol=0)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX-only")
def test_sigkill_mid_interval_job_then_rerun(tmp_path, regressor_path, regressor, data):
    child = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        import causalinfer.predict._score as S
        from causalinfer.predict import score

        model, source, dest, beacon = sys.argv[1:5]
        real = S.predict_frame
        count = 0

        def slow(*args, **kwargs):  # slow the job down so the parent can kill it part-way
            global count
            count += 1
            Path(beacon).write_text(str(count))
            time.sleep(0.03)
            return real(*args, **kwargs)

        S.predict_frame = slow
        score(model, source, dest, chunk_size=100, key="id", outputs=["prediction", "interval"], progress=False)
        """
    )
    src = tmp_path / "in.parquet"
    data.to_parquet(src, row_group_size=100)
    dest = tmp_path / "out.csv"
    beacon = tmp_path / "beacon"
    script = tmp_path / "child.py"
    script.write_text(child)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, str(script), str(regressor_path), str(src), str(dest), str(beacon)], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = beacon.read_text().strip() if beacon.exists() else ""
            if text.isdigit() and int(text) >= 4:
                break
            assert proc.poll() is None, "the scoring job ended before it could be killed"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert 0 < len(pd.read_csv(dest)) < N
    res = score(regressor_path, src, dest, chunk_size=100, key="id", outputs=["prediction", "interval"], progress=False)
    assert res.details["rows_skipped"] > 0 and res.details["rows_skipped"] + res.rows_written == N
    got = normalise(pd.read_csv(dest))
    pd.testing.assert_frame_equal(got, expected_regression(regressor, data), check_dtype=False, rtol=1e-9, atol=0)
