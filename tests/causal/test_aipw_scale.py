"""causal.regression_adjustment and causal.aipw inside an engine (DuckDB on Parquet, PostgreSQL, dask): the in-memory numbers.

The data are split unevenly (files and dask partitions of 150, 450 and 600 rows), a categorical level occurs in the
middle file only, a covariate sits far from zero (the shifted sums are exercised) and enters squared. Cross-fitting
folds come from the hash of an integer unit key, computed by the engine and by numpy alike.
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
from causalinfer.exceptions import ArgumentError, ArgumentTypeError, DataError, RoleError, SourceError

duckdb = pytest.importorskip("duckdb", reason="the in-engine path needs the optional dependency duckdb (extra 'duckdb')")

REL = 1e-9
SPLITS = (0, 150, 600, 1200)
ROLES = {"outcome": "y", "treatment": "t", "covariates": ["x1", "x2", "g", "h"], "squared": ["x2"], "categorical": ["h"]}
RA_CASES = {
    "ATE, all interactions": {"estimand": "ATE"},
    "ATT, one interaction, clustered": {"estimand": "ATT", "interactions": ["x2"], "cluster": "cl"},
    "ATC, no interaction, clustered": {"estimand": "ATC", "interactions": False, "cluster": "cl"},
}
AIPW_CASES = {
    "ATE, no cross-fitting": {"estimand": "ATE"},
    "ATT, 2 folds by key, clipped, clustered": {"estimand": "ATT", "fold_key": "id", "n_folds": 2, "clip": 0.1, "cluster": "cl"},
    "ATC, 2 folds by key, clustered": {"estimand": "ATC", "fold_key": "id", "n_folds": 2, "cluster": "cl"},
    "ATE, 2 folds by key": {"estimand": "ATE", "fold_key": "id", "n_folds": 2},
}


def _frame(n: int = SPLITS[-1], seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], n)
    g[SPLITS[1] : SPLITS[2]][rng.uniform(size=SPLITS[2] - SPLITS[1]) < 0.2] = "d"  # level 'd' in the middle file only
    df = pd.DataFrame(
        {
            "id": rng.permutation(n).astype(np.int64) * 7919 - 4_000_000,  # negative and positive keys
            "x1": rng.normal(size=n) + 40.0,
            "x2": rng.gamma(2.0, size=n),
            "g": g,
            "h": rng.integers(0, 3, n),
            "cl": rng.integers(0, 25, n),
        }
    )
    lin = 0.5 * (df["x1"] - 40.0) - 0.3 * df["x2"] + 0.4 * (df["g"] == "b")
    df["t"] = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-lin))).astype(np.int64)
    df["y"] = 1.0 + 0.2 * df["x1"] + df["x2"] + 2.0 * df["t"] + 0.5 * df["t"] * df["x2"] + rng.normal(size=n)
    return df


def _assert_same(got: ci.causal.EffectResult, want: ci.causal.EffectResult) -> None:
    for field in ("estimate", "std_error", "ci_low", "ci_high", "statistic", "pvalue"):
        assert getattr(got, field) == pytest.approx(getattr(want, field), rel=REL, abs=0.0), field
    assert got.n == want.n and got.effect == want.effect and got.estimand == want.estimand
    if "potential_outcomes" in want.details:
        np.testing.assert_allclose(got.details["potential_outcomes"]["mean"], want.details["potential_outcomes"]["mean"], rtol=REL)
    assert got.details["covariate_columns"] == want.details["covariate_columns"]
    pd.testing.assert_frame_equal(got.details["balance"], want.details["balance"], rtol=1e-8)
    kept = {"clusters", "overlap", "weights (treated)", "weights (control)", "clipping", "balance"}
    pick = lambda r: {d.name: (d.status, d.value) for d in r.diagnostics if d.name in kept}  # noqa: E731
    assert pick(got).keys() == pick(want).keys()
    for name, (status, value) in pick(want).items():
        assert pick(got)[name][0] == status, name
        assert pick(got)[name][1] == pytest.approx(value, rel=1e-9), name


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def folder(tmp_path_factory, frame) -> Path:
    path = tmp_path_factory.mktemp("aipw_scale")
    for i, (lo, hi) in enumerate(itertools.pairwise(SPLITS)):
        frame.iloc[lo:hi].to_parquet(path / f"part-{i}.parquet", index=False)
    return path


# ---------------------------------------------------------------------------------------------- DuckDB on Parquet
@pytest.mark.parametrize("case", list(RA_CASES)[:2])
def test_regression_adjustment_on_parquet_equals_frame(case, frame, folder):
    kw = {**ROLES, **RA_CASES[case]}
    got = ci.causal.regression_adjustment(ParquetSource(folder), **kw)
    _assert_same(got, ci.causal.regression_adjustment(frame, **kw))
    assert "computed inside the engine" in got.method


@pytest.mark.parametrize("case", list(AIPW_CASES)[:2])
def test_aipw_on_parquet_equals_frame(case, frame, folder):
    kw = {**ROLES, **AIPW_CASES[case]}
    got = ci.causal.aipw(ParquetSource(folder), **kw)
    want = ci.causal.aipw(frame, **kw)
    _assert_same(got, want)
    if "fold_key" in kw:
        assert "by a hash of 'id'" in got.method and "by a hash of 'id'" in want.method
    check_result(got)


def test_fold_hash_agrees_bit_for_bit_in_numpy_duckdb_and_known_values():
    from causalinfer.causal._scale_aipw_data import fold_of_keys, fold_sql

    keys = np.array([0, 1, 2, 3, -1, -2, 2147483578, 2147483579, 2**62, -(2**62), 9_007_199_254_740_993, 123456789], dtype=np.int64)
    con = duckdb.connect()
    con.register("keys_view", pd.DataFrame({"k": keys}))
    for n_folds in (2, 5, 7):
        got = [r[0] for r in con.execute(f"SELECT {fold_sql('k', n_folds)} FROM keys_view").fetchall()]
        np.testing.assert_array_equal(np.array(got), fold_of_keys(keys, n_folds))
    assert fold_of_keys(keys, 5).tolist() == [4, 2, 1, 1, 2, 4, 2, 4, 3, 2, 1, 0]
    balance = np.bincount(fold_of_keys(np.arange(10_000), 5), minlength=5)  # consecutive ids spread evenly
    assert balance.min() > 1_900 and balance.max() < 2_100


def test_in_memory_folds_by_key_follow_the_units_not_the_row_order(frame):
    kw = {**ROLES, "fold_key": "id", "n_folds": 3}
    shuffled = frame.sample(frac=1.0, random_state=3)
    a, b = ci.causal.aipw(frame, **kw), ci.causal.aipw(shuffled, **kw)
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12) and a.std_error == pytest.approx(b.std_error, rel=1e-12)
    seeded = ci.causal.aipw(frame, **ROLES, n_folds=3, random_state=1)
    assert seeded.estimate != pytest.approx(a.estimate, rel=1e-9)  # other folds, another (equally valid) estimate
    assert "3-fold cross-fitting by a hash of 'id'" in a.method
    assert "5-fold" in ci.causal.aipw(frame, **ROLES, fold_key="id").method  # n_folds defaults to 5 with a key


def test_duckdb_table_with_a_boolean_treatment(frame):
    con = duckdb.connect()
    flagged = frame.assign(t=frame["t"].astype(bool))
    con.register("frame_view", flagged)
    con.execute("CREATE TABLE rows AS SELECT * FROM frame_view")
    kw = {**ROLES, **RA_CASES["ATC, no interaction, clustered"]}
    _assert_same(ci.causal.regression_adjustment(SQLTable(con, "rows"), **kw), ci.causal.regression_adjustment(flagged, **kw))


# ---------------------------------------------------------------------------------------------- bad input
def test_missing_values_and_bad_treatment_are_refused_as_in_memory(frame, tmp_path):
    holed = frame.copy()
    holed.loc[[3, 400, 1100], "x2"] = np.nan
    holed.to_parquet(tmp_path / "holed.parquet", index=False)
    with pytest.raises(DataError, match=r"'x2' \(3 of 1200 rows\)"):
        ci.causal.regression_adjustment(holed, **ROLES)
    with pytest.raises(DataError, match=r"'x2' \(3 of 1200 rows\).*drop or impute"):
        ci.causal.regression_adjustment(ParquetSource(tmp_path / "holed.parquet"), **ROLES)
    keyless = frame.assign(id=frame["id"].astype("Int64").where(frame.index != 7))
    keyless.to_parquet(tmp_path / "keyless.parquet", index=False)
    for data in (keyless, ParquetSource(tmp_path / "keyless.parquet")):
        with pytest.raises(DataError, match=r"`fold_key` column 'id' .*1 missing value"):
            ci.causal.aipw(data, **ROLES, fold_key="id")
    frame.assign(t=frame["t"] * 2).to_parquet(tmp_path / "twos.parquet", index=False)
    with pytest.raises(RoleError, match=r"treatment 't' has \d+ row\(s\) with values other than 0 and 1"):
        ci.causal.aipw(ParquetSource(tmp_path / "twos.parquet"), **ROLES)
    frame.assign(t=np.where(frame["t"] == 1, "yes", "no")).to_parquet(tmp_path / "text.parquet", index=False)
    with pytest.raises(RoleError, match=r"treatment 't' .* is not numeric"):
        ci.causal.regression_adjustment(ParquetSource(tmp_path / "text.parquet"), **ROLES)


def test_options_that_need_the_rows_are_refused_with_the_fix(frame, folder):
    from sklearn.linear_model import LinearRegression

    src = ParquetSource(folder)
    with pytest.raises(ArgumentError, match=r"cross-fitting \(n_folds=5\) .* pass fold_key="):
        ci.causal.aipw(src, **ROLES, n_folds=5)
    with pytest.raises(ArgumentError, match="`outcome_model` LinearRegression cannot be fitted from sums"):
        ci.causal.aipw(src, **ROLES, outcome_model=LinearRegression())
    with pytest.raises(ArgumentError, match="`outcome_model` LinearRegression cannot be fitted from sums"):
        ci.causal.regression_adjustment(src, **ROLES, outcome_model=LinearRegression())
    with pytest.raises(ArgumentTypeError, match=r"`fold_key` column 'x1' .* must hold integer unit ids"):
        ci.causal.aipw(src, **ROLES, fold_key="x1")
    with pytest.raises(ArgumentTypeError, match="`fold_key` column 'x1' must hold integer unit ids"):
        ci.causal.aipw(frame, **ROLES, fold_key="x1")
    for data in (src, frame):
        with pytest.raises(ArgumentError, match="`n_folds` must be at least 2"):
            ci.causal.aipw(data, **ROLES, fold_key="id", n_folds=1)
        with pytest.raises(RoleError, match=r"`fold_key` names column 'idd'.*'id'"):
            ci.causal.aipw(data, **ROLES, fold_key="idd")
    with pytest.raises(ArgumentError, match="`trim` is not available"):
        ci.causal.aipw(src, **ROLES, trim=0.05)


def test_single_cluster_and_schema_change_are_refused(frame, folder, tmp_path):
    con = duckdb.connect()
    rel = con.sql(f"SELECT *, 1 AS one FROM read_parquet('{folder}/*.parquet')")
    with pytest.raises(DataError, match="cluster 'one' has a single cluster"):
        ci.causal.aipw(rel, **ROLES, cluster="one")
    frame.iloc[:500].to_parquet(tmp_path / "a.parquet", index=False)
    frame.iloc[500:].assign(x2=lambda d: d["x2"].astype(str)).to_parquet(tmp_path / "b.parquet", index=False)
    with pytest.raises(SourceError, match=r"disagree on column 'x2' \(number in a.parquet; text in b.parquet\)"):
        ci.causal.aipw(ParquetSource(tmp_path), **ROLES)


# ---------------------------------------------------------------------------------------------- PostgreSQL
_spec = importlib.util.spec_from_file_location("_predict_fixtures", Path(__file__).parents[1] / "predict" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_predict_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_predict_fixtures)
postgres = _predict_fixtures.postgres


def test_postgresql_equals_frame_and_a_table_dropped_mid_scan_fails_cleanly(postgres, frame, monkeypatch):
    from causalinfer.causal._scale_aipw_data import fold_of_keys, fold_sql
    from causalinfer.data import _engine

    engine = sa.create_engine(postgres.url)
    frame.to_sql("aipw_rows", engine, index=False, if_exists="replace")
    keys = np.array([0, -1, 5, 2147483579, 2**62, -(2**62), 123456789], dtype=np.int64)
    with engine.connect() as con:
        values = ", ".join(f"({int(k)})" for k in keys)
        got = [r[0] for r in con.execute(sa.text(f"SELECT {fold_sql('k', 5)} FROM (VALUES {values}) AS v(k)"))]
    np.testing.assert_array_equal(np.array(got), fold_of_keys(keys, 5))
    kw = {**ROLES, **AIPW_CASES["ATC, 2 folds by key, clustered"]}
    _assert_same(ci.causal.aipw(SQLTable(engine, "aipw_rows"), **kw), ci.causal.aipw(frame, **kw))
    kw = {**ROLES, **RA_CASES["ATC, no interaction, clustered"]}
    _assert_same(ci.causal.regression_adjustment(SQLTable(postgres.url, "aipw_rows"), **kw), ci.causal.regression_adjustment(frame, **kw))
    real = _engine.SQLRunner.run
    calls = []

    def run_then_drop(self, sql):
        out = real(self, sql)
        calls.append(sql)
        if len(calls) == 5:  # the nuisance fits have started
            with engine.begin() as con:
                con.execute(sa.text("DROP TABLE aipw_rows"))
        return out

    monkeypatch.setattr(_engine.SQLRunner, "run", run_then_drop)
    with pytest.raises(SourceError, match=r"(?s)SQL table .aipw_rows.: the query failed in the database.*no result is returned"):
        ci.causal.aipw(SQLTable(engine, "aipw_rows"), **ROLES)
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
        kw = {**ROLES, **AIPW_CASES["ATT, 2 folds by key, clipped, clustered"]}
        _assert_same(ci.causal.aipw(ddf, **kw), ci.causal.aipw(frame, **kw))
        with pytest.raises(ArgumentError, match="pass fold_key="):
            ci.causal.aipw(ddf, **ROLES, n_folds=2)
    kw = {**ROLES, **RA_CASES["ATC, no interaction, clustered"]}  # without a client: dask's threaded scheduler
    _assert_same(ci.causal.regression_adjustment(ddf, **kw), ci.causal.regression_adjustment(frame, **kw))
