"""A resumed job checks what it trusts: committed output is still there, and the input is the one it scored."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from causalinfer.exceptions import DataError
from causalinfer.predict import JobConflictError, SQLDestination, score


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=50), "z": rng.normal(size=50)})
    return LinearRegression().fit(X, X["x"] - X["z"])


@pytest.fixture
def frame():
    rng = np.random.default_rng(1)
    return pd.DataFrame({"id": np.arange(2000), "x": rng.normal(size=2000), "z": rng.normal(size=2000)})


def _run(model, source, dest, **kw):
    return score(model, source, dest, key="id", chunk_size=500, progress=False, **kw)


def test_deleted_parquet_part_is_not_complete(tmp_path, model, frame):
    dest = tmp_path / "out"
    _run(model, frame, dest)
    (dest / "part-000002.parquet").unlink()
    with pytest.raises(JobConflictError, match=r"part-000002.parquet \(chunk 2, 500 row\(s\)\) is missing"):
        _run(model, frame, dest)
    assert _run(model, frame, dest, resume=False).rows_written == 2000


def test_replaced_parquet_part_with_fewer_rows_is_caught(tmp_path, model, frame):
    dest = tmp_path / "out"
    _run(model, frame, dest)
    pd.read_parquet(dest / "part-000001.parquet").iloc[:10].to_parquet(dest / "part-000001.parquet")
    with pytest.raises(JobConflictError, match="holds 10 row"):
        _run(model, frame, dest)


def test_truncated_csv_output_is_not_complete(tmp_path, model, frame):
    dest = tmp_path / "out.csv"
    _run(model, frame, dest)
    with open(dest, "r+b") as fh:
        fh.truncate(dest.stat().st_size - 100)
    with pytest.raises(JobConflictError, match="truncated"):
        _run(model, frame, dest)


def test_edited_csv_output_is_caught(tmp_path, model, frame):
    dest = tmp_path / "out.csv"
    _run(model, frame, dest)
    data = bytearray(dest.read_bytes())
    data[len(data) // 2] = ord("9") if data[len(data) // 2] != ord("9") else ord("8")
    dest.write_bytes(bytes(data))
    with pytest.raises(JobConflictError, match="were changed"):
        _run(model, frame, dest)


def test_deleted_sql_rows_are_not_complete(tmp_path, model, frame):
    dest = SQLDestination(f"sqlite:///{tmp_path / 'o.db'}", "scores")
    _run(model, frame, dest)
    with sqlite3.connect(tmp_path / "o.db") as con:
        con.execute("delete from scores where id < 7")
    with pytest.raises(JobConflictError, match="holds 1993 row"):
        _run(model, frame, dest)


def test_same_size_edit_in_the_middle_of_a_large_csv_is_caught(tmp_path, model):
    rng = np.random.default_rng(2)
    n = 120_000  # a few MiB: more than the first and last MiB that used to be fingerprinted
    big = pd.DataFrame({"id": np.arange(n), "x": rng.normal(size=n).round(6), "z": rng.normal(size=n).round(6)})
    src = tmp_path / "in.csv"
    big.to_csv(src, index=False)
    assert src.stat().st_size > 5 << 19
    dest = tmp_path / "out"
    score(model, src, dest, key="id", chunk_size=50_000, progress=False)
    data = bytearray(src.read_bytes())
    middle = len(data) // 2
    while not chr(data[middle]).isdigit():
        middle += 1
    data[middle] = ord("1") if data[middle] != ord("1") else ord("2")
    src.write_bytes(bytes(data))
    with pytest.raises(JobConflictError, match="input changed since this job completed"):
        score(model, src, dest, key="id", chunk_size=50_000, progress=False)


def test_fixing_a_bad_row_resumes_the_same_job(tmp_path, model, frame):
    src = tmp_path / "in.csv"
    bad = frame.astype({"x": object})
    bad.loc[1234, "x"] = "oops"
    bad.to_csv(src, index=False)
    dest = tmp_path / "out"
    with pytest.raises(DataError, match=r"'x'.*'oops' at line 1236 of the CSV file"):
        _run(model, src, dest)
    frame.to_csv(src, index=False)  # the row fixed; chunks 0 and 1 were committed
    res = _run(model, src, dest)  # before: "holds the output of another scoring job"
    assert res.details["rows_skipped"] == 1000 and res.rows_written == 1000
    assert {d.name: d.status for d in res.diagnostics}["input changed"] == "warn"
    out = pd.read_parquet(dest)
    assert out["id"].tolist() == list(range(2000))
    assert _run(model, src, dest).details["status"] == "already complete"


def test_another_job_is_named_by_what_differs(tmp_path, model, frame):
    dest = tmp_path / "out"
    _run(model, frame, dest)
    with pytest.raises(JobConflictError, match=r"another scoring job \(chunk size 500 then, 400 now\)"):
        score(model, frame, dest, key="id", chunk_size=400, progress=False)
