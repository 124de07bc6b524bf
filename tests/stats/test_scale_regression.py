"""stats.ols / logit / poisson computed inside an engine (DuckDB on Parquet, PostgreSQL, dask): the in-memory numbers.

The data are split unevenly (files of 250, 1,150 and 1,600 rows; the same split as dask partitions), a categorical
level occurs in the middle file only, and a covariate sits far from zero, so the shifted sums are exercised.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import causalinfer as ci
from causalinfer._testing import check_result
from causalinfer.data import ParquetSource, SQLTable
from causalinfer.exceptions import ArgumentError, CausalInferError, DataError, SourceError

duckdb = pytest.importorskip("duckdb", reason="the in-engine path needs the optional dependency duckdb (extra 'duckdb')")

REL = 1e-9
SPLITS = (0, 250, 1400, 3000)
OLS_CASES = {
    "classical, categorical x numeric interaction": ("y ~ x1 + x2 * C(g) + flag", {}),
    "cluster weighted, interaction and C(integer)": ("y ~ x1 + x2:g + C(h)", {"cov_type": "cluster", "cluster": "cl", "weights": "w"}),
}
GLM_CASES = {
    "logit HC1 weighted": ("logit", "b ~ x1 + x2 + g", {"cov_type": "HC1", "weights": "w"}),
    "logit cluster": ("logit", "b ~ x1 + x2 + g", {"cov_type": "cluster", "cluster": "cl"}),
    "poisson classical": ("poisson", "c ~ x1 + C(h) + flag", {}),
    "poisson cluster weighted": ("poisson", "c ~ x1 + C(h) + flag", {"cov_type": "cluster", "cluster": "cl", "weights": "w"}),
}


def _frame(n: int = 3000, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.choice(["a", "b", "c"], n)
    g[SPLITS[1] : SPLITS[2]][rng.uniform(size=SPLITS[2] - SPLITS[1]) < 0.2] = "d"  # level 'd' in the middle file only
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n) + 40.0,
            "x2": rng.gamma(2.0, size=n),
            "g": g,
            "h": rng.integers(0, 4, n),
            "flag": rng.uniform(size=n) < 0.4,
            "w": rng.uniform(0.5, 2.0, n),
            "cl": rng.integers(0, 45, n),
        }
    )
    lin = 0.3 * (df["x1"] - 40.0) + 0.2 * df["x2"] - 0.4 * (df["g"] == "d")
    df["y"] = 2.0 + lin + df["x2"] * (df["g"] == "b") + rng.normal(size=n) * (1.0 + 0.3 * df["x2"])
    df["b"] = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-lin))).astype(np.int64)
    df["c"] = rng.poisson(np.exp(0.2 + 0.5 * lin))
    return df


def _assert_same(got: ci.stats.RegressionResult, want: ci.stats.RegressionResult) -> None:
    a, b = got.to_frame(), want.to_frame()
    assert list(a["term"]) == list(b["term"])
    for col in ("estimate", "std_error", "ci_low", "ci_high", "statistic", "pvalue"):
        np.testing.assert_allclose(a[col].to_numpy(float), b[col].to_numpy(float), rtol=REL, atol=0.0, err_msg=col)
    np.testing.assert_allclose(got.cov.to_numpy(), want.cov.to_numpy(), rtol=REL, atol=1e-15 * np.abs(want.cov.to_numpy()).max())
    for key, value in want.fit.items():
        if key in ("iterations", "converged") or not isinstance(value, float) or math.isnan(value):
            continue
        assert got.fit[key] == pytest.approx(value, rel=REL, abs=0.0), key
    if want.statistic is not None:
        assert got.statistic == pytest.approx(want.statistic, rel=REL) and got.pvalue == pytest.approx(want.pvalue, rel=REL)
    kept = {"collinearity", "heteroskedasticity", "number of clusters", "perfect fit", "overdispersion"}
    pick = lambda r: {d.name: (d.status, d.value) for d in r.diagnostics if d.name in kept}  # noqa: E731
    for name, (status, value) in pick(want).items():
        assert pick(got)[name][0] == status, name
        if value is not None:
            assert pick(got)[name][1] == pytest.approx(value, rel=1e-7), name


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def folder(tmp_path_factory, frame) -> Path:
    path = tmp_path_factory.mktemp("scale")
    for i, (lo, hi) in enumerate(itertools.pairwise(SPLITS)):
        frame.iloc[lo:hi].to_parquet(path / f"part-{i}.parquet", index=False)
    return path


# ---------------------------------------------------------------------------------------------- DuckDB on Parquet
@pytest.mark.parametrize("case", list(OLS_CASES))
def test_ols_on_parquet_equals_frame(case, frame, folder):
    formula, kw = OLS_CASES[case]
    got = ci.stats.ols(formula, data=ParquetSource(folder), **kw)
    _assert_same(got, ci.stats.ols(formula, data=frame, **kw))


@pytest.mark.parametrize("case", list(GLM_CASES))
def test_glm_on_parquet_equals_frame(case, frame, folder):
    kind, formula, kw = GLM_CASES[case]
    fit = getattr(ci.stats, kind)
    _assert_same(fit(formula, data=ParquetSource(folder), **kw), fit(formula, data=frame, **kw))


def test_column_list_interface_and_duckdb_relation_and_table(frame, folder):
    want = ci.stats.ols(frame[["x1", "x2"]], frame["y"], cov_type="cluster", cluster=frame["cl"])
    _assert_same(ci.stats.ols(["x1", "x2"], "y", data=ParquetSource(folder), cov_type="cluster", cluster="cl"), want)
    con = duckdb.connect()
    con.register("frame_view", frame)
    con.execute("CREATE TABLE rows AS SELECT * FROM frame_view")
    _assert_same(ci.stats.ols(["x1", "x2"], "y", data=con.table("rows"), cov_type="cluster", cluster="cl"), want)
    got = ci.stats.ols("y ~ x1 + x2 * C(g)", data=SQLTable(con, "rows"), cov_type="HC1", weights="w")
    _assert_same(got, ci.stats.ols("y ~ x1 + x2 * C(g)", data=frame, cov_type="HC1", weights="w"))
    _assert_same(
        ci.stats.ols("y ~ x1 + x2 - 1", data=con.table("rows"), cov_type="HC0"), ci.stats.ols("y ~ x1 + x2 - 1", data=frame, cov_type="HC0")
    )
    check_result(got)
    assert "computed inside the engine" in got.method
    pred = got.predict(frame.head(5))  # the patsy design travels with the result
    want = ci.stats.ols("y ~ x1 + x2 * C(g)", data=frame, weights="w")
    np.testing.assert_allclose(pred["estimate"], want.predict(frame.head(5))["estimate"], rtol=1e-9)


def test_sources_are_the_experiments_objects_and_sqlite_runs_ols(frame):
    assert ci.experiments.ParquetSource is ParquetSource and ci.experiments.SQLTable is SQLTable
    engine = sa.create_engine("sqlite://")
    frame.to_sql("rows", engine, index=False)
    _assert_same(ci.stats.ols("y ~ x1 + x2 * g", data=SQLTable(engine, "rows")), ci.stats.ols("y ~ x1 + x2 * g", data=frame))


def test_missing_values_refused_as_in_memory_then_equal_after_dropping(frame, tmp_path):
    holed = frame.copy()
    holed.loc[[3, 700, 2900], "x2"] = np.nan
    holed.loc[[10], "g"] = None
    holed.to_parquet(tmp_path / "holed.parquet", index=False)
    with pytest.raises(DataError, match=r"'x2' \(3 rows\)"):
        ci.stats.ols("y ~ x1 + x2 + g", data=holed)
    with pytest.raises(DataError, match=r"'x2' \(3 rows\)") as err:
        ci.stats.ols("y ~ x1 + x2 + g", data=ParquetSource(tmp_path / "holed.parquet"))
    assert "'g' (1 rows)" in str(err.value) and "drop those rows" in str(err.value)
    con = duckdb.connect()
    rel = con.sql(f"SELECT * FROM read_parquet('{tmp_path / 'holed.parquet'}') WHERE x2 IS NOT NULL AND g IS NOT NULL")
    _assert_same(ci.stats.ols("y ~ x1 + x2 + g", data=rel), ci.stats.ols("y ~ x1 + x2 + g", data=holed.dropna(subset=["x2", "g"])))


# ---------------------------------------------------------------------------------------------- bad input
def test_schema_changing_between_files_is_refused_naming_the_column(frame, tmp_path):
    frame.iloc[:100].to_parquet(tmp_path / "a.parquet", index=False)
    frame.iloc[100:200].assign(x2=lambda d: d["x2"].astype(str)).to_parquet(tmp_path / "b.parquet", index=False)
    frame.iloc[200:300].drop(columns="cl").to_parquet(tmp_path / "c.parquet", index=False)
    with pytest.raises(SourceError, match=r"disagree on column 'x2' \(number in a.parquet, c.parquet; text in b.parquet\)"):
        ci.stats.ols("y ~ x1 + x2", data=ParquetSource(tmp_path))
    with pytest.raises(SourceError, match=r"column 'cl' \(missing in c.parquet"):
        ci.stats.logit("b ~ x1", data=ParquetSource(tmp_path / "[ac].parquet"), cov_type="cluster", cluster="cl")


def test_single_cluster_and_unsupported_options_are_refused(frame, folder):
    con = duckdb.connect()
    rel = con.sql(f"SELECT *, 1 AS one FROM read_parquet('{folder}/*.parquet')")
    with pytest.raises(DataError, match=r"`cluster` column .one. .* takes a single value"):
        ci.stats.ols("y ~ x1", data=rel, cov_type="cluster", cluster="one")
    with pytest.raises(DataError, match=r"`cluster` column .one. .* takes a single value"):
        ci.stats.logit("b ~ x1", data=rel, cov_type="cluster", cluster="one")
    with pytest.raises(ArgumentError, match="cov_type='HC3' is not available"):
        ci.stats.ols("y ~ x1", data=rel, cov_type="HC3")
    with pytest.raises(ArgumentError, match=r"formula term 'np.log\(x2\)'"):
        ci.stats.ols("y ~ x1 + np.log(x2)", data=rel)
    with pytest.raises(ArgumentError, match=r"outcome .* must be a column name"):
        ci.stats.ols("np.log(x2) ~ x1", data=rel)
    with pytest.raises(CausalInferError, match="`weights` names column 'nope'"):
        ci.stats.ols("y ~ x1", data=rel, weights="nope")
    with pytest.raises(DataError, match="must be 0/1"):
        ci.stats.logit("c ~ x1", data=rel)


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
        if len(calls) == 3:  # after the DISTINCT and shift queries, before the main pass
            con.execute("DROP TABLE rows")
        return out

    monkeypatch.setattr(_engine.DuckRunner, "run", run_then_drop)
    with pytest.raises(SourceError, match=r"(?s)DuckDB table .rows.*query failed.*no result is returned"):
        ci.stats.ols("y ~ x1 + g", data=SQLTable(con, "rows"), cov_type="HC1")


# ---------------------------------------------------------------------------------------------- PostgreSQL
_spec = importlib.util.spec_from_file_location("_predict_fixtures", Path(__file__).parents[1] / "predict" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_predict_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_predict_fixtures)
postgres = _predict_fixtures.postgres


def test_postgresql_equals_frame_and_a_table_dropped_mid_scan_fails_cleanly(postgres, frame, monkeypatch):
    from causalinfer.data import _engine

    engine = sa.create_engine(postgres.url)
    frame.to_sql("scale_rows", engine, index=False, if_exists="replace")
    formula, kw = OLS_CASES["cluster weighted, interaction and C(integer)"]
    _assert_same(ci.stats.ols(formula, data=SQLTable(engine, "scale_rows"), **kw), ci.stats.ols(formula, data=frame, **kw))
    _kind, formula, kw = GLM_CASES["logit cluster"]
    _assert_same(ci.stats.logit(formula, data=SQLTable(postgres.url, "scale_rows"), **kw), ci.stats.logit(formula, data=frame, **kw))
    real = _engine.SQLRunner.run
    calls = []

    def run_then_drop(self, sql):
        out = real(self, sql)
        calls.append(sql)
        if len(calls) == 4:  # the Newton passes have started
            with engine.begin() as con:
                con.execute(sa.text("DROP TABLE scale_rows"))
        return out

    monkeypatch.setattr(_engine.SQLRunner, "run", run_then_drop)
    with pytest.raises(SourceError, match=r"(?s)SQL table .scale_rows.: the query failed in the database.*no result is returned"):
        ci.stats.poisson("c ~ x1 + g", data=SQLTable(engine, "scale_rows"))
    monkeypatch.undo()
    with pytest.raises(SourceError, match="'scale_rows' does not exist in the database"):
        ci.stats.ols("y ~ x1", data=SQLTable(engine, "scale_rows"))
    engine.dispose()


# ---------------------------------------------------------------------------------------------- dask
def test_dask_local_cluster_with_uneven_partitions_equals_frame(frame):
    dd = pytest.importorskip("dask.dataframe", reason="dask is needed for dask DataFrames (extra 'dask')")
    distributed = pytest.importorskip("distributed", reason="distributed is needed for a LocalCluster (extra 'dask')")
    parts = [dd.from_pandas(frame.iloc[lo:hi], npartitions=1) for lo, hi in itertools.pairwise(SPLITS)]
    ddf = dd.concat(parts)
    assert ddf.npartitions == 3
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster),
    ):
        formula, kw = OLS_CASES["cluster weighted, interaction and C(integer)"]
        _assert_same(ci.stats.ols(formula, data=ddf, **kw), ci.stats.ols(formula, data=frame, **kw))
        _kind, formula, kw = GLM_CASES["poisson cluster weighted"]
        _assert_same(ci.stats.poisson(formula, data=ddf, **kw), ci.stats.poisson(formula, data=frame, **kw))
        holed = frame.assign(x2=frame["x2"].where(frame.index != 2000))
        with pytest.raises(DataError, match=r"'x2' \(1 rows\)"):
            ci.stats.ols("y ~ x1 + x2", data=dd.from_pandas(holed, npartitions=3))


# ---------------------------------------------------------------------------------------------- passes
def _count_glm_passes(monkeypatch) -> list[str]:
    from causalinfer.data import _engine

    real = _engine.DuckRunner.run
    seen: list[str] = []

    def counting(self, sql):
        if "dev__" in sql:  # a full Newton pass
            seen.append(sql)
        return real(self, sql)

    monkeypatch.setattr(_engine.DuckRunner, "run", counting)
    return seen


@pytest.mark.parametrize("case", ["logit cluster", "poisson cluster weighted"])
def test_newton_from_a_small_sample_polishes_to_the_same_fit_in_few_passes(case, frame, folder, monkeypatch):
    from causalinfer.stats import _scale

    kind, formula, kw = GLM_CASES[case]
    fit = getattr(ci.stats, kind)
    want = fit(formula, data=frame, **kw)
    monkeypatch.setattr(_scale, "_START_ROWS", 400)  # a start from 400 of the 3,000 rows: the full passes must polish it
    seen = _count_glm_passes(monkeypatch)
    got = fit(formula, data=ParquetSource(folder), **kw)
    _assert_same(got, want)
    assert 2 <= len(seen) <= 5 and got.fit["iterations"] == len(seen)
    assert "GROUP BY cl__" in seen[-1] and "GROUP BY" not in "".join(seen[:-1])  # only the converging pass takes the cluster sums


def test_a_start_from_every_row_needs_one_pass(frame, folder, monkeypatch):
    seen = _count_glm_passes(monkeypatch)
    _assert_same(
        ci.stats.logit("b ~ x1 + x2 + g", data=ParquetSource(folder), cov_type="HC1"),
        ci.stats.logit("b ~ x1 + x2 + g", data=frame, cov_type="HC1"),
    )
    assert len(seen) == 1  # moments, Newton sums and the meat in one scan, confirming the start fitted on the whole table
