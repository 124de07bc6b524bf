"""The same scoring code against a real PostgreSQL server, including the server going away mid-job."""

from __future__ import annotations

import re
import uuid

import pandas as pd
import pytest
import sqlalchemy as sa

from causalinfer.exceptions import SourceError
from causalinfer.predict import JobConflictError, SQLDestination, SQLSource, score


@pytest.fixture
def pg_engine(postgres):
    engine = sa.create_engine(postgres.url)
    yield engine
    engine.dispose()


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_postgres_source_and_destination(postgres, pg_engine, model_path, model, frame):
    src_table, dst_table = _name("features"), _name("scores")
    frame.assign(color=frame["color"].astype(str)).to_sql(src_table, pg_engine, index=False)
    dest = SQLDestination(postgres.url, dst_table)
    res = score(
        model_path,
        SQLSource(postgres.url, table=src_table),
        dest,
        chunk_size=600,
        key="id",
        outputs=["prediction", "proba"],
        progress=False,
    )
    assert res.rows_written == len(frame)
    assert res.chunks == 4
    out = pd.read_sql_table(dst_table, pg_engine).sort_values("id").reset_index(drop=True)
    assert out["id"].tolist() == frame["id"].tolist()
    features = frame.drop(columns="id")
    pd.testing.assert_series_equal(out["proba_yes"], pd.Series(model.predict_proba(features)[:, 1], name="proba_yes"), rtol=1e-9, atol=0)
    assert (out["prediction"] == model.predict(features)).all()
    again = score(
        model_path,
        SQLSource(postgres.url, table=src_table),
        dest,
        chunk_size=600,
        key="id",
        outputs=["prediction", "proba"],
        progress=False,
    )
    assert again.details["status"] == "already complete"
    with pytest.raises(JobConflictError, match="another scoring job"):
        score(model_path, SQLSource(postgres.url, table=src_table), dest, chunk_size=500, key="id", progress=False)
    query = SQLSource(postgres.url, query=f'SELECT * FROM "{src_table}" WHERE id < 700 ORDER BY id')
    res = score(model_path, query, None, chunk_size=30, key="id", progress=False)
    assert res.output["id"].tolist() == frame["id"][frame["id"] < 700].tolist()


def test_database_goes_away_mid_job(postgres, pg_engine, model_path, frame):
    table = _name("scores")
    dest = SQLDestination(postgres.url, table)

    def chunks(stop_after: int | None):
        for i, start in enumerate(range(0, len(frame), 250)):
            if stop_after is not None and i == stop_after:
                postgres.stop("immediate")  # the server dies while the job runs (reading runs ahead of writing)
            yield frame.iloc[start : start + 250]

    try:
        with pytest.raises(SourceError, match=r"destination database failed while writing chunk \d+.*chunk\(s\) are committed") as err:
            score(model_path, chunks(4), dest, chunk_size=250, key="id", progress=False)
    finally:
        postgres.start()
    committed = int(re.search(r"(\d+) chunk\(s\) are committed", str(err.value)).group(1))
    assert 0 < committed < 8
    pg_engine.dispose()
    kept = pd.read_sql_table(table, pg_engine)
    assert sorted(kept["id"]) == frame["id"].iloc[: 250 * committed].tolist()
    res = score(model_path, chunks(None), dest, chunk_size=250, key="id", progress=False)
    assert res.details["rows_skipped"] == 250 * committed
    assert res.rows_written == len(frame) - 250 * committed
    out = pd.read_sql_table(table, pg_engine)
    assert out["id"].is_unique
    assert sorted(out["id"]) == frame["id"].tolist()
