"""Keys are read as written and identify rows: no float rounding, no missing or repeated key accepted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from causalinfer.exceptions import DataError
from causalinfer.predict import SQLDestination, score

BIG = 2**60


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=50)})
    return LinearRegression().fit(X, 2 * X["x"])


def _write_csv(path, keys, xs):
    lines = ["id,x"] + [f"{k},{float(x)!r}" for k, x in zip(keys, xs, strict=True)]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("dest_kind", ["frame", "csv", "parquet", "sqlite"])
def test_large_integer_keys_survive_every_destination(tmp_path, model, dest_kind):
    n = 10_000
    keys = [BIG + 3 * i for i in range(n)]
    path = tmp_path / "in.csv"
    _write_csv(path, keys, np.linspace(0, 1, n))
    dest = {
        "frame": None,
        "csv": tmp_path / "out.csv",
        "parquet": tmp_path / "out",
        "sqlite": SQLDestination(f"sqlite:///{tmp_path / 'o.db'}", "scores"),
    }[dest_kind]
    res = score(model, path, dest, key="id", chunk_size=1000, progress=False)
    if dest_kind == "frame":
        out = res.output
    elif dest_kind == "csv":
        out = pd.read_csv(tmp_path / "out.csv", dtype={"id": str})
        out["id"] = out["id"].map(int)
    elif dest_kind == "parquet":
        out = pd.read_parquet(tmp_path / "out")
    else:
        import sqlite3

        with sqlite3.connect(tmp_path / "o.db") as con:
            out = pd.read_sql_query("select * from scores", con)
    assert [int(k) for k in out["id"]] == keys  # before: floats, 1,999 of 10,000 keys collapsed


def test_empty_key_is_refused_with_its_line(tmp_path, model):
    path = tmp_path / "in.csv"
    path.write_text(f"id,x\n{BIG},0.1\n{BIG + 1},0.2\n,0.3\n{BIG + 3},0.4\n")
    with pytest.raises(DataError, match=r"'id' is empty at line 4 of the CSV file \(data row 3\)"):
        score(model, path, key="id", progress=False)


def test_text_keys_stay_text(tmp_path, model):
    path = tmp_path / "in.csv"
    path.write_text("id,x\n007,0.1\n7,0.2\nA1,0.3\n")
    res = score(model, path, key="id", chunk_size=2, progress=False)
    assert res.output["id"].tolist() == ["007", "7", "A1"]


def test_whole_numbers_then_text_is_refused_with_its_line(tmp_path, model):
    path = tmp_path / "in.csv"
    path.write_text("id,x\n1,0.1\n2,0.2\nA1,0.3\n")
    with pytest.raises(DataError, match="'A1' at line 4"):
        score(model, path, key="id", chunk_size=2, progress=False)


@pytest.mark.parametrize("chunk_size", [2, 10])
def test_duplicate_key_is_refused_with_its_row(tmp_path, model, chunk_size):
    path = tmp_path / "in.csv"
    path.write_text("id,x\n1,0.1\n2,0.2\n3,0.3\n2,0.4\n")
    with pytest.raises(DataError, match=r"`key` 2 at line 5 of the CSV file .* repeats a key"):
        score(model, path, key="id", chunk_size=chunk_size, progress=False)


def test_missing_or_repeated_key_in_a_frame(model):
    frame = pd.DataFrame({"id": [1.0, np.nan, 3.0], "x": [0.1, 0.2, 0.3]})
    with pytest.raises(DataError, match=r"missing at row 1 of the source"):
        score(model, frame, key="id", progress=False)
    frame = pd.DataFrame({"id": ["a", "b", "a"], "x": [0.1, 0.2, 0.3]})
    with pytest.raises(DataError, match=r"`key` 'a' at row 2 of the source"):
        score(model, frame, key="id", progress=False)
