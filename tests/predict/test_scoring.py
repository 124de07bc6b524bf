"""Scoring jobs on one machine: every source into every destination, resumption, conflicts and faults."""

from __future__ import annotations

import errno
import itertools
import json
import os
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from property_settings import examples

from causalinfer._testing import check_result, check_unchanged
from causalinfer.exceptions import ArgumentError, ArgumentTypeError, DataError, SourceError
from causalinfer.predict import JobConflictError, SchemaError, ScoringResult, SQLDestination, SQLSource, score
from causalinfer.predict import _sinks as sinks_mod

OUTPUTS = ["prediction", "proba"]


def expected(model, frame: pd.DataFrame) -> pd.DataFrame:
    features = frame.drop(columns="id")
    proba = model.predict_proba(features)
    return pd.DataFrame(
        {"id": frame["id"].to_numpy(), "prediction": model.predict(features), "proba_no": proba[:, 0], "proba_yes": proba[:, 1]}
    )


def read_back(dest) -> pd.DataFrame:
    if isinstance(dest, SQLDestination):
        return pd.read_sql_table(dest.table, sa.create_engine(dest.connection))
    if str(dest).endswith(".csv"):
        return pd.read_csv(dest)
    return pd.read_parquet(dest)


def assert_scores(got: pd.DataFrame, want: pd.DataFrame, rtol: float = 1e-15) -> None:
    got = got.sort_values("id").reset_index(drop=True)
    assert got["id"].is_unique, "a row was written twice"
    assert len(got) == len(want), f"{len(got)} rows written, {len(want)} expected"
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=rtol, atol=0)


def make_source(kind, frame, tmp_path):
    if kind == "frame":
        return frame
    if kind == "csv":
        path = tmp_path / "in.csv"
        frame.to_csv(path, index=False)
        return path
    if kind == "parquet-file":
        path = tmp_path / "in.parquet"
        frame.to_parquet(path, row_group_size=250)
        return path
    if kind == "parquet-dir":
        path = tmp_path / "indir"
        path.mkdir()
        for i, start in enumerate(range(0, len(frame), 700)):
            frame.iloc[start : start + 700].to_parquet(path / f"p{i:03d}.parquet")
        return path
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'in.db'}"
        frame.assign(color=frame["color"].astype(str)).to_sql("features", sa.create_engine(url), index=False)
        return SQLSource(url, table="features")
    if kind == "iterable":
        return (frame.iloc[i : i + 333] for i in range(0, len(frame), 333))
    raise AssertionError(kind)


def make_dest(kind, tmp_path):
    return {
        "frame": None,
        "csv": tmp_path / "out.csv",
        "parquet": tmp_path / "out",
        "sqlite": SQLDestination(f"sqlite:///{tmp_path / 'out.db'}", "scores"),
    }[kind]


PAIRS = [(s, "frame") for s in ("frame", "csv", "parquet-file", "parquet-dir", "sqlite", "iterable")] + [
    (s, d) for s in ("parquet-file", "iterable") for d in ("csv", "parquet", "sqlite")
]


@pytest.mark.parametrize(("source_kind", "dest_kind"), PAIRS)
def test_every_source_and_destination(source_kind, dest_kind, tmp_path, model_path, model, frame):
    src = make_source(source_kind, frame, tmp_path)
    dest = make_dest(dest_kind, tmp_path)
    res = score(model_path, src, dest, chunk_size=450, key="id", outputs=OUTPUTS, progress=False)
    assert isinstance(res, ScoringResult)
    assert res.rows_read == res.rows_written == res.n == len(frame)
    assert res.chunks == 5
    got = res.output if dest is None else read_back(dest)
    assert_scores(got, expected(model, frame))
    assert res.diagnostic("exactly once").status == "ok"


def test_result_contract_and_summary(tmp_path, model_path, frame):
    res = score(model_path, frame, tmp_path / "out", chunk_size=600, key="id", outputs=OUTPUTS, progress=False)
    check_result(res)
    text = str(res)
    for word in ("Scoring job", "rows per chunk", "Timings", "exactly once", "validate", "predict"):
        assert word in text
    d = res.details
    for name in (
        "rows_read",
        "rows_written",
        "chunks",
        "seconds_read",
        "seconds_validate",
        "seconds_predict",
        "seconds_write",
        "rows_per_second",
    ):
        assert name in d
    assert d["chunks"] == 4
    assert d["rows_per_second"] > 0
    assert set(res.timings) == {"read", "validate", "predict", "write", "total"}
    assert res.diagnostic("extra columns").status == "ok"


def test_row_numbers_without_key_and_input_unchanged(model_path, model, frame):
    res = check_unchanged(frame, lambda f: score(model_path, f, chunk_size=777, outputs="prediction", progress=False))
    check_result(res)
    assert list(res.output.columns) == ["row", "prediction"]
    assert res.output["row"].tolist() == list(range(len(frame)))
    np.testing.assert_array_equal(res.output["prediction"], model.predict(frame.drop(columns="id")))


def test_in_memory_model_with_schema(model, frame):
    res = score(model, frame.drop(columns="id"), chunk_size=1000, progress=False)
    np.testing.assert_array_equal(res.output["prediction"], model.predict(frame.drop(columns="id")))
    res2 = score(model, frame, schema=frame.drop(columns="id"), key="id", chunk_size=1000, progress=False)
    assert res2.rows_written == len(frame)


def test_finished_job_does_nothing_and_resume(tmp_path, model_path, model, frame):
    dest = tmp_path / "out"
    first = score(model_path, frame, dest, chunk_size=500, key="id", outputs=OUTPUTS, progress=False)
    mtimes = {p.name: p.stat().st_mtime_ns for p in dest.iterdir()}
    again = score(model_path, frame, dest, chunk_size=500, key="id", outputs=OUTPUTS, progress=False)
    assert again.details["status"] == "already complete"
    assert again.rows_written == 0
    assert again.rows_read == 0
    assert again.n == first.n
    assert {p.name: p.stat().st_mtime_ns for p in dest.iterdir()} == mtimes
    # forget the last two chunks as if the job had stopped after chunk 1
    manifest = json.loads((dest / "_manifest.json").read_text())
    manifest["status"] = "running"
    del manifest["chunks"]["2"], manifest["chunks"]["3"]
    (dest / "_manifest.json").write_text(json.dumps(manifest))
    resumed = score(model_path, frame, dest, chunk_size=500, key="id", outputs=OUTPUTS, progress=False)
    assert resumed.details["rows_skipped"] == 1000
    assert resumed.rows_written == 1000
    assert_scores(read_back(dest), expected(model, frame))


def test_csv_partial_write_is_truncated_on_resume(tmp_path, model_path, model, frame):
    dest = tmp_path / "out.csv"
    score(model_path, frame, dest, chunk_size=500, key="id", outputs=OUTPUTS, progress=False)
    mpath = tmp_path / "out.csv.manifest.json"
    manifest = json.loads(mpath.read_text())
    manifest["status"] = "running"
    del manifest["chunks"]["3"]
    mpath.write_text(json.dumps(manifest))
    with open(dest, "ab") as fh:  # a torn row from a crash in the middle of a write
        fh.write(b"99999,ye")
    score(model_path, frame, dest, chunk_size=500, key="id", outputs=OUTPUTS, progress=False)
    assert_scores(read_back(dest), expected(model, frame))


def test_changed_input_under_a_resumed_job(tmp_path, model_path, frame):
    dest = tmp_path / "out"
    src = lambda f: (f.iloc[i : i + 500] for i in range(0, len(f), 500))  # noqa: E731 - no input fingerprint for iterables
    score(model_path, src(frame), dest, chunk_size=500, key="id", progress=False)
    manifest = json.loads((dest / "_manifest.json").read_text())
    manifest["status"] = "running"
    (dest / "_manifest.json").write_text(json.dumps(manifest))
    changed = frame.assign(x0=frame["x0"] + 1.0)
    with pytest.raises(JobConflictError, match="chunk 0 of the source differs"):
        score(model_path, src(changed), dest, chunk_size=500, key="id", progress=False)


def test_destination_of_another_job_is_protected(tmp_path, model_path, frame):
    dest = tmp_path / "out"
    score(model_path, frame, dest, chunk_size=500, key="id", progress=False)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    with pytest.raises(JobConflictError, match="holds the output of another scoring job"):
        score(model_path, frame, dest, chunk_size=400, key="id", progress=False)
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before
    res = score(model_path, frame, dest, chunk_size=400, key="id", progress=False, overwrite=True)
    assert res.rows_written == len(frame)
    assert len(read_back(dest)) == len(frame)


@pytest.mark.parametrize("dest_kind", ["csv", "parquet", "sqlite"])
def test_foreign_data_in_destination_is_protected(dest_kind, tmp_path, model_path, frame):
    dest = make_dest(dest_kind, tmp_path)
    if dest_kind == "csv":
        dest.write_text("a,b\n1,2\n")
    elif dest_kind == "parquet":
        dest.mkdir()
        (dest / "notes.txt").write_text("keep me")
    else:
        pd.DataFrame({"a": [1]}).to_sql("scores", sa.create_engine(dest.connection), index=False)
    with pytest.raises(JobConflictError, match="no scoring job recorded"):
        score(model_path, frame, dest, key="id", progress=False)
    if dest_kind == "csv":
        assert dest.read_text() == "a,b\n1,2\n"
    elif dest_kind == "parquet":
        assert (dest / "notes.txt").read_text() == "keep me"
    else:
        assert read_back(dest).to_dict("list") == {"a": [1]}


@pytest.mark.parametrize("dest_kind", ["frame", "parquet"])
def test_empty_source(dest_kind, tmp_path, model_path, frame):
    dest = make_dest(dest_kind, tmp_path)
    with pytest.raises(DataError, match="has no rows"):
        score(model_path, frame.iloc[:0], dest, key="id", progress=False)
    with pytest.raises(DataError, match="has no rows"):
        score(model_path, iter([]), dest, key="id", progress=False)
    assert dest is None or not dest.exists()


def test_schema_mismatch_names_columns(model_path, frame):
    with pytest.raises(SchemaError, match=r"lacks column\(s\) \['x2'\]"):
        score(model_path, frame.drop(columns="x2"), key="id", progress=False)
    with pytest.raises(SchemaError, match=r"`key` column\(s\) \['ident'\]"):
        score(model_path, frame, key="ident", progress=False)


def test_unseen_categories_reported(model_path, frame):
    odd = frame.assign(color=frame["color"].astype(str).where(frame.index % 100 != 0, "purple"))
    res = score(model_path, odd, key="id", chunk_size=500, progress=False)
    diag = res.diagnostic("unseen categories")
    assert diag.status == "warn"
    assert diag.value == 20.0
    assert res.unseen_categories.to_dict("list") == {"column": ["color"], "value": ["purple"], "count": [20]}


def test_disk_full_then_resume(tmp_path, model_path, model, frame, monkeypatch):
    dest = tmp_path / "out"
    real = sinks_mod.write_part
    calls = {"n": 0}

    def failing(frame_, tmp, target):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(frame_, tmp, target)

    monkeypatch.setattr(sinks_mod, "write_part", failing)
    with pytest.raises(SourceError, match=r"the disk is full.*2 chunk\(s\) are committed"):
        score(model_path, frame, dest, chunk_size=500, key="id", outputs=OUTPUTS, progress=False)
    assert sorted(p.name for p in dest.glob("part-*")) == ["part-000000.parquet", "part-000001.parquet"]
    monkeypatch.setattr(sinks_mod, "write_part", real)
    res = score(model_path, frame, dest, chunk_size=500, key="id", outputs=OUTPUTS, progress=False)
    assert res.details["rows_skipped"] == 1000
    assert_scores(read_back(dest), expected(model, frame))


def test_permission_error_on_write(tmp_path, model_path, model, frame, monkeypatch):
    dest = tmp_path / "out.csv"

    def denied(path, offset, data):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    real = sinks_mod.append_bytes
    monkeypatch.setattr(sinks_mod, "append_bytes", denied)
    with pytest.raises(SourceError, match="permission denied"):
        score(model_path, frame, dest, chunk_size=500, key="id", progress=False)
    monkeypatch.setattr(sinks_mod, "append_bytes", real)
    res = score(model_path, frame, dest, chunk_size=500, key="id", progress=False)
    assert res.rows_written == len(frame)
    assert read_back(dest)["id"].is_unique


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="file permissions do not bind the root user")
def test_read_only_directory(tmp_path, model_path, frame):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(SourceError, match="permission denied"):
            score(model_path, frame, ro / "out", key="id", progress=False)
    finally:
        ro.chmod(0o700)


def test_argument_errors(model_path, frame):
    with pytest.raises(ArgumentTypeError, match="`chunk_size` must be an integer"):
        score(model_path, frame, chunk_size="big")
    with pytest.raises(ArgumentError, match="`chunk_size` must be an integer >= 1"):
        score(model_path, frame, chunk_size=0)
    with pytest.raises(
        ArgumentError, match="`outputs` must be one of 'prediction', 'proba', 'interval', 'set'; got 'probs'; did you mean 'proba'"
    ):
        score(model_path, frame, outputs=["probs"])
    with pytest.raises(ArgumentError, match="`engine` must be one of"):
        score(model_path, frame, engine="spark")
    with pytest.raises(ArgumentTypeError, match="`source` must be a DataFrame"):
        score(model_path, 42)
    with pytest.raises(SourceError, match="does not exist"):
        score(model_path, "no/such/file.parquet")
    with pytest.raises(ArgumentTypeError, match="`destination` must be None"):
        score(model_path, frame, 3.5)
    from sklearn.linear_model import LinearRegression

    reg = LinearRegression().fit(frame[["x0", "x1"]], frame["x2"])
    with pytest.raises(ArgumentError, match="has no predict_proba"):
        score(reg, frame, outputs="proba")
    with pytest.raises(ArgumentError, match="input columns are unknown"):
        score(_NoNames(), frame)


class _NoNames:
    def predict(self, X):
        return np.zeros(len(X))


def test_restart_with_resume_false(tmp_path, model_path, model, frame):
    dest = make_dest("sqlite", tmp_path)
    score(model_path, frame, dest, chunk_size=700, key="id", outputs=OUTPUTS, progress=False)
    res = score(model_path, frame, dest, chunk_size=700, key="id", outputs=OUTPUTS, progress=False, resume=False)
    assert res.rows_written == len(frame)
    assert res.details["rows_skipped"] == 0
    assert_scores(read_back(dest), expected(model, frame))


def test_thread_pools_are_capped(frame):
    from threadpoolctl import threadpool_info

    _Recorder.seen = []
    score(_Recorder(), frame, chunk_size=1000, n_threads=1, progress=False)
    assert len(_Recorder.seen) == 2
    assert all(n == 1 for pools in _Recorder.seen for n in pools)
    assert threadpool_info() == [] or max(p["num_threads"] for p in threadpool_info()) >= 1


class _Recorder:
    """A model that records the thread-pool sizes it sees while predicting."""

    feature_names_in_ = np.array(["x0"], dtype=object)
    seen: ClassVar[list] = []

    def predict(self, X):
        from threadpoolctl import threadpool_info

        _Recorder.seen.append([p["num_threads"] for p in threadpool_info()])
        return np.zeros(len(X))


@examples(15, suppress_health_check=[HealthCheck.function_scoped_fixture], phases=[Phase.explicit, Phase.generate])
@given(chunk_size=st.integers(40, 700), pieces=st.lists(st.integers(1, 400), min_size=1, max_size=6))
def test_output_does_not_depend_on_chunking(model, frame, chunk_size, pieces):
    small = frame.iloc[:700]
    bounds = np.cumsum([0, *pieces])
    bounds = [b for b in bounds if b < len(small)] + [len(small)]
    parts = (small.iloc[a:b] for a, b in itertools.pairwise(bounds))
    res = score(model, parts, chunk_size=chunk_size, key="id", outputs=OUTPUTS, schema=frame.drop(columns="id"), progress=False)
    assert res.chunks == -(-len(small) // chunk_size)
    # the same rows, in order, exactly once; probabilities agree to rounding (BLAS sums a 1-row block differently)
    assert_scores(res.output, expected(model, small), rtol=1e-9)
