"""engine='dask': partitions scored on a distributed LocalCluster, the same rows as the local engine."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from causalinfer.exceptions import ArgumentError
from causalinfer.predict import score

dd = pytest.importorskip("dask.dataframe", reason="dask is needed for engine='dask' (extra 'dask')")
distributed = pytest.importorskip("distributed", reason="distributed is needed for engine='dask' (extra 'dask')")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_dask_frame_matches_local_engine(client, model_path, frame, monkeypatch):
    calls = []
    real = distributed.Client.scatter

    def spy(self, data, *args, **kwargs):
        calls.append(kwargs.get("broadcast"))
        return real(self, data, *args, **kwargs)

    monkeypatch.setattr(distributed.Client, "scatter", spy)
    ddf = dd.from_pandas(frame, npartitions=5)
    got = score(model_path, ddf, None, engine="dask", outputs=["prediction", "proba"], progress=False)
    want = score(model_path, frame, None, chunk_size=400, outputs=["prediction", "proba"], progress=False)
    assert calls == [True], "the model must be shipped once, to every worker"
    assert got.details["engine"] == "dask"
    assert got.chunks == 5
    pd.testing.assert_frame_equal(got.output, want.output)


def test_dask_parquet_to_parquet_resumes(client, model_path, parquet_path, frame, tmp_path, model):
    dest = tmp_path / "out"
    res = score(model_path, parquet_path, dest, engine="dask", key="id", outputs=["prediction", "proba"], progress=False)
    assert res.rows_written == len(frame)
    local = score(model_path, parquet_path, None, key="id", outputs=["prediction", "proba"], progress=False).output
    out = pd.read_parquet(dest).sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(out, local.sort_values("id").reset_index(drop=True), check_dtype=False)
    again = score(model_path, parquet_path, dest, engine="dask", key="id", outputs=["prediction", "proba"], progress=False)
    assert again.details["status"] == "already complete"
    # lose one partition as if a worker died before committing it
    manifest = json.loads((dest / "_manifest.json").read_text())
    manifest["status"] = "running"
    manifest["chunks"].pop("0")
    (dest / "_manifest.json").write_text(json.dumps(manifest))
    (dest / "part-000000.parquet").unlink()
    resumed = score(model_path, parquet_path, dest, engine="dask", key="id", outputs=["prediction", "proba"], progress=False)
    assert resumed.details["chunks_written"] == 1
    assert resumed.details["rows_skipped"] + resumed.rows_written == len(frame)
    assert pd.read_parquet(dest)["id"].is_unique
    assert len(pd.read_parquet(dest)) == len(frame)


def test_dask_destination_kinds(client, model_path, frame, tmp_path):
    with pytest.raises(ArgumentError, match="with engine='dask', `destination` must be"):
        score(model_path, dd.from_pandas(frame, npartitions=2), tmp_path / "out.csv", engine="dask", progress=False)
