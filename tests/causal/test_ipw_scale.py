"""causal.ipw computed inside an engine (DuckDB on Parquet, PostgreSQL, dask): the in-memory numbers and diagnostics.

The data are split unevenly (files and partitions of 250, 1,150 and 1,600 rows), a categorical level occurs in the
middle file only, and a covariate sits far from zero, so the shifted sums and the level coding are exercised.
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import causalinfer as ci
from causalinfer._testing import check_result
from causalinfer.data import ParquetSource, SQLTable
from causalinfer.exceptions import ArgumentError, DataError, RoleError, SourceError

duckdb = pytest.importorskip("duckdb", reason="the in-engine path needs the optional dependency duckdb (extra 'duckdb')")

REL = 1e-9
SPLITS = (0, 250, 1400, 3000)
COVS = ["x1", "x2", "g", "flag"]
CASES = {
    "ATE Hajek, categorical and squared": {"squared": ["x2"]},
    "ATT Horvitz-Thompson, clipped, clustered": {"estimand": "ATT", "normalize": False, "clip": 0.1, "cluster": "cl"},
    "ATC trimmed, sandwich, stabilised": {"estimand": "ATC", "trim": 0.08, "se": "sandwich", "stabilize": True, "categorical": ["h"]},
}


def _frame(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], n)
    g[SPLITS[1] : SPLITS[2]][rng.uniform(size=SPLITS[2] - SPLITS[1]) < 0.2] = "d"  # level 'd' in the middle file only
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n) + 40.0,
            "x2": rng.gamma(2.0, size=n),
            "g": g,
            "h": rng.integers(0, 3, n),
            "flag": rng.uniform(size=n) < 0.4,
            "cl": rng.integers(0, 30, n),
        }
    )
    lin = 0.8 * (df["x1"] - 40.0) + 0.3 * df["x2"] - 0.6 * (df["g"] == "d") + 0.4 * df["flag"] - 0.5
    df["t"] = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-lin))).astype(np.int64)
    df["y"] = 10.0 + 2.0 * df["t"] + lin + 0.2 * df["h"] + rng.normal(size=n)
    return df


def _assert_same(got: ci.causal.EffectResult, want: ci.causal.EffectResult) -> None:
    for field in ("estimate", "std_error", "ci_low", "ci_high", "statistic", "pvalue"):
        assert getattr(got, field) == pytest.approx(getattr(want, field), rel=REL, abs=0.0), field
    assert got.n == want.n and got.estimand == want.estimand
    assert [d.name for d in got.diagnostics] == [d.name for d in want.diagnostics]
    for a, b in zip(got.diagnostics, want.diagnostics, strict=True):
        assert a.status == b.status, a.name
        if b.value is not None:
            assert a.value == pytest.approx(b.value, rel=REL), a.name
    for key in ("balance", "overlap", "weights", "propensity_histogram", "potential_outcomes"):
        a, b = got.details[key], want.details[key]
        assert list(a.columns) == list(b.columns) and a.shape == b.shape, key
        for col in b.columns:
            if pd.api.types.is_numeric_dtype(b[col]) and not pd.api.types.is_bool_dtype(b[col]):
                scale = np.nanmax(np.abs(b[col].to_numpy(float))) if len(b) else 1.0
                np.testing.assert_allclose(
                    a[col].to_numpy(float), b[col].to_numpy(float), rtol=REL, atol=1e-12 * scale, err_msg=f"{key}.{col}"
                )
            else:
                assert list(a[col]) == list(b[col]), f"{key}.{col}"
    assert got.details["covariate_columns"] == want.details["covariate_columns"]


def _ipw(data, **kw):
    return ci.causal.ipw(data, outcome="y", treatment="t", covariates=[*COVS, *(["h"] if "h" in kw.get("categorical", ()) else [])], **kw)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def folder(tmp_path_factory, frame) -> Path:
    path = tmp_path_factory.mktemp("ipw_scale")
    for i, (lo, hi) in enumerate(itertools.pairwise(SPLITS)):
        frame.iloc[lo:hi].to_parquet(path / f"part-{i}.parquet", index=False)
    return path


# ---------------------------------------------------------------------------------------------- DuckDB on Parquet
@pytest.mark.parametrize("case", [c for c in CASES if not c.startswith("ATT")])  # the ATT case runs on PostgreSQL
def test_ipw_on_a_parquet_folder_or_relation_equals_frame(case, frame, folder):
    kw = CASES[case]
    if case.startswith("ATC"):  # a DuckDB relation over the same files
        data = duckdb.connect().sql(f"SELECT * FROM read_parquet('{folder}/*.parquet')")
    else:
        data = ParquetSource(folder)
    got = _ipw(data, **kw)
    _assert_same(got, _ipw(frame, **kw))
    assert "computed inside the engine" in got.method
    if case.startswith("ATE"):
        check_result(got)


def test_integer_outcome_boolean_treatment_and_a_many_level_integer_factor(frame):
    # the level codes were DECIMAL in DuckDB, and their products with the influence-function coefficients overflowed
    df = frame.assign(yi=(frame["y"] * 10).round().astype(np.int64), tb=frame["t"].astype(bool), site=frame["cl"] % 15)
    con = duckdb.connect()
    con.register("frame_view", df)
    kw = {"outcome": "yi", "treatment": "tb", "covariates": ["x1", "site"], "categorical": ["site"]}
    _assert_same(ci.causal.ipw(con.sql("SELECT * FROM frame_view"), **kw), ci.causal.ipw(df, **kw))


def test_refutations_refit_by_further_passes_reproducibly(frame, folder):
    got = _ipw(ParquetSource(folder), trim=0.05)
    placebo = got.refute("placebo", n_simulations=3, random_state=3, progress=False)
    assert placebo.refuter == "placebo" and placebo.n == 3 and abs(placebo.estimate) < 0.3 * abs(got.estimate)
    subset = got.refute("subset", n_simulations=2, subset_fraction=0.5, random_state=3, progress=False)
    again = got.refute("subset", n_simulations=2, subset_fraction=0.5, random_state=3, progress=False)
    # each row's draw is a hash of its values and the seed: the same subsets again (sums differ only in rounding)
    assert subset.estimate == pytest.approx(again.estimate, rel=1e-12) and subset.std_error == pytest.approx(again.std_error, rel=1e-9)
    assert subset.estimate == pytest.approx(got.estimate, abs=4 * got.std_error)
    with pytest.raises(ArgumentError, match="`kind`"):
        got.refute("random_common_cause", n_simulations=3, progress=False)
    with pytest.raises(ArgumentError, match="'e_value' sensitivity analysis needs the rows in memory"):
        got.sensitivity("e_value")


def test_missing_values_refused_as_in_memory(frame, tmp_path):
    holed = frame.copy()
    holed.loc[[3, 700, 2900], "x2"] = np.nan
    holed.to_parquet(tmp_path / "holed.parquet", index=False)
    pattern = r"missing values in columns with a role: 'x2' \(3 of 3000 rows\); drop or impute them first"
    with pytest.raises(DataError, match=pattern):
        _ipw(holed)
    with pytest.raises(DataError, match=pattern):
        _ipw(ParquetSource(tmp_path / "holed.parquet"))


# ---------------------------------------------------------------------------------------------- bad input
def test_bad_input_at_scale_is_refused_with_the_reason(frame, folder, tmp_path):
    con = duckdb.connect()
    rel = con.sql(f"SELECT *, 1 AS one, t + 1 AS t12, CAST(h AS DOUBLE) AS t3 FROM read_parquet('{folder}/*.parquet')")
    with pytest.raises(DataError, match="cluster 'one' has a single cluster"):
        _ipw(rel, cluster="one")
    with pytest.raises(RoleError, match="treatment 't3' has 3 levels"):
        ci.causal.ipw(rel, outcome="y", treatment="t3", covariates=["x1"])
    with pytest.raises(RoleError, match="treatment 't12' has the two levels 1 and 2"):
        ci.causal.ipw(rel, outcome="y", treatment="t12", covariates=["x1"])
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ArgumentError, match=r"`propensity_model` cannot be used with a Parquet, SQL or dask `data`.*propensity_model=None"):
        _ipw(rel, propensity_model=LogisticRegression())
    with pytest.raises(RoleError, match="`covariates` names column 'x9'"):
        ci.causal.ipw(rel, outcome="y", treatment="t", covariates=["x9"])
    with pytest.raises(RoleError, match="name the outcome column"):
        ci.causal.ipw(rel, treatment="t", covariates=["x1"])
    frame.iloc[:100].to_parquet(tmp_path / "a.parquet", index=False)
    frame.iloc[100:200].assign(x2=lambda d: d["x2"].astype(str)).to_parquet(tmp_path / "b.parquet", index=False)
    with pytest.raises(SourceError, match=r"disagree on column 'x2' \(number in a.parquet; text in b.parquet\)"):
        _ipw(ParquetSource(tmp_path))


def test_a_table_that_vanishes_mid_scan_returns_nothing(frame, monkeypatch):
    from causalinfer.data import _engine

    con = duckdb.connect()
    con.register("frame_view", frame)
    con.execute("CREATE TABLE rows AS SELECT * FROM frame_view")
    real = _engine.DuckRunner.run
    calls = []

    def run_then_drop(self, sql):
        out = real(self, sql)
        calls.append(sql)
        if len(calls) == 6:  # the Newton passes have started
            con.execute("DROP TABLE rows")
        return out

    monkeypatch.setattr(_engine.DuckRunner, "run", run_then_drop)
    with pytest.raises(SourceError, match=r"(?s)DuckDB table .rows.*query failed.*no result is returned"):
        _ipw(SQLTable(con, "rows"))


# ---------------------------------------------------------------------------------------------- PostgreSQL
_spec = importlib.util.spec_from_file_location("_predict_fixtures", Path(__file__).parents[1] / "predict" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_predict_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_predict_fixtures)
postgres = _predict_fixtures.postgres


def test_postgresql_equals_frame_and_a_table_dropped_mid_scan_fails_cleanly(postgres, frame, monkeypatch):
    from causalinfer.data import _engine

    engine = sa.create_engine(postgres.url)
    frame.to_sql("ipw_rows", engine, index=False, if_exists="replace")
    kw = CASES["ATT Horvitz-Thompson, clipped, clustered"]
    _assert_same(_ipw(SQLTable(engine, "ipw_rows"), **kw), _ipw(frame, **kw))
    real = _engine.SQLRunner.run
    calls = []

    def run_then_drop(self, sql):
        out = real(self, sql)
        calls.append(sql)
        if len(calls) == 5:  # the Newton passes have started
            with engine.begin() as con:
                con.execute(sa.text("DROP TABLE ipw_rows"))
        return out

    monkeypatch.setattr(_engine.SQLRunner, "run", run_then_drop)
    with pytest.raises(SourceError, match=r"(?s)SQL table .ipw_rows.: the query failed in the database.*no result is returned"):
        _ipw(SQLTable(engine, "ipw_rows"))
    engine.dispose()


# ---------------------------------------------------------------------------------------------- dask
def test_dask_local_cluster_with_uneven_partitions_equals_frame(frame):
    dd = pytest.importorskip("dask.dataframe", reason="dask is needed for dask DataFrames (extra 'dask')")
    distributed = pytest.importorskip("distributed", reason="distributed is needed for a LocalCluster (extra 'dask')")
    ddf = dd.concat([dd.from_pandas(frame.iloc[lo:hi], npartitions=1) for lo, hi in itertools.pairwise(SPLITS)])
    assert ddf.npartitions == 3
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster),
    ):
        kw = {"cluster": "cl", "squared": ["x2"], "clip": 0.05}
        got = _ipw(ddf, **kw)
        _assert_same(got, _ipw(frame, **kw))
        placebo = got.refute("placebo", n_simulations=2, random_state=1, progress=False)
        assert abs(placebo.estimate) < 0.3 * abs(got.estimate)
        holed = frame.assign(x2=frame["x2"].where(frame.index != 2000))
        with pytest.raises(DataError, match=r"missing values in columns with a role: 'x2' \(1 of 3000 rows\)"):
            _ipw(dd.from_pandas(holed, npartitions=3))
