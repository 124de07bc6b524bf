"""experiments.analyze inside an engine (DuckDB on Parquet, SQL tables): the same numbers as the frame, bad sources refused."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

import causalinfer as ci
from causalinfer import experiments as ex

duckdb = pytest.importorskip("duckdb", reason="the in-engine path needs the optional dependency duckdb (extra 'duckdb')")

REL = 1e-9


def _frame(seed: int = 3, n: int = 6000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    user = rng.integers(0, 1500, n)
    arm = np.array(["control", "b", "c"])[rng.integers(0, 3, 1500)][user]  # randomised by user
    pre = rng.gamma(2.0, 10.0, n) + 500.0  # a covariate far from zero: the shifted sums must keep it accurate
    revenue = 0.6 * pre + rng.gamma(2.0, 5.0, n) + 1.5 * (arm == "b")
    sessions = rng.integers(1, 6, n)
    return pd.DataFrame(
        {
            "user": user,
            "variant": arm,
            "revenue": revenue,
            "pre": pre,
            "converted": (rng.uniform(size=n) < 0.2 + 0.03 * (arm == "c")).astype(np.int64),
            "clicks": rng.binomial(sessions, 0.4),
            "sessions": sessions,
        }
    )


METRICS = [
    ex.mean("revenue"),
    ex.mean("revenue", name="revenue cuped", covariates="pre"),
    ex.proportion("converted"),
    ex.proportion("converted", name="converted cuped", covariates="pre"),
    ex.ratio("clicks", "sessions", name="ctr"),
]
UNIT_METRICS = [ex.mean("revenue"), ex.ratio("clicks", "sessions", name="ctr"), ex.mean("converted")]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def parquet_file(tmp_path_factory, frame) -> Path:
    path = tmp_path_factory.mktemp("pq") / "experiment.parquet"
    frame.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def parquet_folder(tmp_path_factory, frame) -> Path:
    folder = tmp_path_factory.mktemp("parts")
    for i, part in enumerate(np.array_split(np.arange(len(frame)), 4)):
        frame.iloc[part].to_parquet(folder / f"part-{i}.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory, frame):
    engine = sa.create_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'experiment.db'}")
    frame.to_sql("units", engine, index=False)
    yield engine
    engine.dispose()


def _assert_same(a: ci.ResultSet, b: ci.ResultSet) -> None:
    assert a.labels == b.labels
    for ra, rb in zip(a, b, strict=True):
        if isinstance(ra.details.get("counts"), pd.DataFrame):
            pd.testing.assert_frame_equal(ra.details["counts"], rb.details["counts"], check_exact=False, rtol=REL)
        for attr in ("estimate", "std_error", "pvalue", "statistic", "ci_low", "ci_high", "df"):
            va, vb = getattr(ra, attr, None), getattr(rb, attr, None)
            if va is None or not np.isfinite(va):
                assert vb is None or not np.isfinite(vb), (ra.label, attr)
            else:
                assert vb == pytest.approx(va, rel=REL, abs=1e-300), (ra.label, attr)
        if "lifts" in ra.details:
            for scale in ra.details["lifts"]:
                for key, va in ra.details["lifts"][scale].items():
                    if isinstance(va, float) and np.isfinite(va):
                        assert rb.details["lifts"][scale][key] == pytest.approx(va, rel=REL), (ra.label, scale, key)


def _sources(name, parquet_file, parquet_folder, sqlite_engine):
    return {
        "parquet file": lambda: ex.ParquetSource(parquet_file),
        "parquet path as a string": lambda: str(parquet_file),
        "parquet folder": lambda: ex.ParquetSource(parquet_folder),
        "parquet glob": lambda: ex.ParquetSource(str(parquet_folder / "part-*.parquet")),
        "sqlite engine": lambda: ex.SQLTable(sqlite_engine, "units"),
        "sqlite url": lambda: ex.SQLTable(str(sqlite_engine.url), "units"),
    }[name]()


SOURCES = ["parquet file", "parquet path as a string", "parquet folder", "parquet glob", "sqlite engine", "sqlite url"]


@pytest.mark.parametrize("source", SOURCES)
def test_engine_equals_frame(source, frame, parquet_file, parquet_folder, sqlite_engine):
    expected = ex.analyze(frame, metrics=METRICS)
    got = ex.analyze(_sources(source, parquet_file, parquet_folder, sqlite_engine), metrics=METRICS)
    _assert_same(expected, got)


@pytest.mark.parametrize("source", ["parquet file", "parquet folder", "sqlite engine"])
def test_engine_unit_aggregation_equals_frame(source, frame, parquet_file, parquet_folder, sqlite_engine):
    expected = ex.analyze(frame, metrics=UNIT_METRICS, unit="user")
    got = ex.analyze(_sources(source, parquet_file, parquet_folder, sqlite_engine), metrics=UNIT_METRICS, unit="user")
    _assert_same(expected, got)


@pytest.mark.parametrize("source", ["parquet file", "sqlite engine"])
def test_engine_options_pass_through(source, frame, parquet_file, parquet_folder, sqlite_engine):
    kw = dict(
        metrics=[ex.mean("revenue", covariates="pre"), ex.ratio("clicks", "sessions", role="guardrail", margin=0.05)],
        lift="absolute",
        variants=["c", "b"],
        sequential="mixture",
        allocation={"control": 1, "b": 1, "c": 1},
    )
    _assert_same(ex.analyze(frame, **kw), ex.analyze(_sources(source, parquet_file, parquet_folder, sqlite_engine), **kw))


QUANTILES = [ex.quantile("revenue"), ex.quantile("revenue", 0.9), ex.quantile("sessions", 0.25), ex.quantile("pre", 0.999)]


@pytest.mark.parametrize("source", ["parquet folder", "sqlite engine"])
def test_engine_quantiles_equal_frame(source, frame, parquet_file, parquet_folder, sqlite_engine):
    """Six order statistics per variant, found with window functions, give the in-memory quantile arms exactly."""
    metrics = [*QUANTILES, ex.mean("revenue", covariates="pre")]
    expected = ex.analyze(frame, metrics=metrics, lift="absolute")
    got = ex.analyze(_sources(source, parquet_file, parquet_folder, sqlite_engine), metrics=metrics, lift="absolute")
    assert "order-statistic band" in got[1].method
    _assert_same(expected, got)


def test_engine_quantile_ties_tiny_arms_and_refusals(tmp_path):
    rng = np.random.default_rng(8)
    df = pd.DataFrame({"variant": ["control"] * 3 + ["b"] * 2 + ["c"] * 40, "x": np.r_[1.0, 1.0, 2.0, 5.0, 5.0, rng.integers(0, 4, 40)]})
    df.to_parquet(tmp_path / "ties.parquet", index=False)
    metrics = [ex.quantile("x", 0.5), ex.quantile("x", 0.01, name="low"), ex.quantile("x", 0.99, name="high")]
    _assert_same(ex.analyze(df, metrics=metrics, lift="absolute"), ex.analyze(tmp_path / "ties.parquet", metrics=metrics, lift="absolute"))
    for value in (np.nan, np.inf):
        bad = df.assign(x=df["x"].where(df.index != 4, value))
        bad.to_parquet(tmp_path / "bad.parquet", index=False)
        with pytest.raises(ci.DataError, match=r"`metrics` column 'x' has .*missing or infinite"):
            ex.analyze(tmp_path / "bad.parquet", metrics=metrics)
        with pytest.raises(ci.DataError, match=r"`metrics` column 'x' has .*missing or infinite"):
            ex.analyze(bad, metrics=metrics)
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM df")
    con.execute("UPDATE t SET x = 'nan'::DOUBLE WHERE x = 5.0")
    with pytest.raises(ci.DataError, match=r"NaN or \+/-inf"):
        ex.analyze(ex.SQLTable(con, "t"), metrics=metrics)
    con.close()


def test_engine_quantile_coverage():
    """Seeded: in-engine median and p90 lifts cover the true lift about 95% of the time.

    The 300 experiments sit in one DuckDB table (variant = experiment and arm), so one window query finds every
    arm's order statistics; the lifts are then formed exactly as ``analyze`` forms them.
    """
    from scipy import stats

    from causalinfer.experiments import _core, _engine

    reps, n = 300, 300
    rng = np.random.default_rng(21)
    y = np.column_stack([rng.lognormal(2.0, 0.8, (reps, n)), rng.lognormal(2.1, 0.8, (reps, n))]).ravel()
    labels = np.repeat(np.arange(2 * reps), n)  # 2r = control of experiment r, 2r + 1 its treatment
    con = duckdb.connect()
    rel = con.from_df(pd.DataFrame({"variant": labels, "y": y}))
    arms = _engine.quantile_arms_by_level(rel, "variant", list(range(2 * reps)), {"y": [0.5, 0.9]})
    con.close()
    for q in (0.5, 0.9):
        truth = float(stats.lognorm.ppf(q, s=0.8, scale=np.exp(2.1)) - stats.lognorm.ppf(q, s=0.8, scale=np.exp(2.0)))
        hits = [
            _core.lift(arms[(2 * r, "y", q)], arms[(2 * r + 1, "y", q)], relative=False, conf_level=0.95, alternative="two-sided")
            for r in range(reps)
        ]
        cov = np.mean([h.ci_low <= truth <= h.ci_high for h in hits])
        assert abs(cov - 0.95) <= 3 * np.sqrt(0.95 * 0.05 / reps) + 0.01, (q, cov)


@pytest.mark.parametrize("source", ["parquet file", "parquet folder", "sqlite engine"])
def test_engine_post_stratification_equals_frame(source, frame, parquet_file, parquet_folder, sqlite_engine):
    metrics = [ex.mean("revenue"), ex.proportion("converted"), ex.mean("revenue", name="cuped", covariates="pre")]
    expected = ex.analyze(frame, metrics=metrics, strata="sessions")
    got = ex.analyze(_sources(source, parquet_file, parquet_folder, sqlite_engine), metrics=metrics, strata="sessions")
    assert "post-stratified on 'sessions' (5 strata)" in got[1].method
    _assert_same(expected, got)


def test_engine_post_stratification_refusals(tmp_path, frame):
    df = frame.assign(country=np.where(np.arange(len(frame)) % 50 == 0, None, "fr"))
    df.to_parquet(tmp_path / "s.parquet", index=False)
    with pytest.raises(ci.DataError, match=r"`strata` column 'country' has 120 missing"):
        ex.analyze(ex.ParquetSource(tmp_path / "s.parquet"), metrics=["revenue"], strata="country")
    df = frame.assign(country=np.where((frame["variant"] == "b") & (np.arange(len(frame)) % 500 == 0), "lu", "fr"))
    df.to_parquet(tmp_path / "t.parquet", index=False)
    with pytest.raises(ci.DataError, match=r"stratum\(s\) \['lu'\] have fewer than 2 units in variant 'control'"):
        ex.analyze(ex.ParquetSource(tmp_path / "t.parquet"), metrics=["revenue"], strata="country")


def test_hive_partitioned_folder(tmp_path, frame):
    """A folder written with partition_cols: the variant comes from the folder names (variant=b/...)."""
    frame.to_parquet(tmp_path / "hive", partition_cols=["variant"], index=False)
    _assert_same(ex.analyze(frame, metrics=METRICS), ex.analyze(ex.ParquetSource(tmp_path / "hive"), metrics=METRICS))


def test_duckdb_relation_and_connection_table(frame, parquet_file):
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TABLE units AS SELECT * FROM read_parquet('{parquet_file}')")
        expected = ex.analyze(frame, metrics=METRICS)
        _assert_same(expected, ex.analyze(ex.SQLTable(con, "units"), metrics=METRICS))
        _assert_same(expected, ex.analyze(con.sql("SELECT * FROM units"), metrics=METRICS))
        con.execute("CREATE SCHEMA lab")
        con.execute("CREATE TABLE lab.units AS SELECT * FROM units")
        _assert_same(expected, ex.analyze(ex.SQLTable(con, "units", schema="lab"), metrics=METRICS))
        with pytest.raises(ci.SourceError, match=r"DuckDB table 'other.units' does not exist"):
            ex.analyze(ex.SQLTable(con, "units", schema="other"), metrics=METRICS)
        _assert_same(
            ex.analyze(frame[frame["sessions"] > 2], metrics=METRICS),
            ex.analyze(con.sql("SELECT * FROM units WHERE sessions > 2"), metrics=METRICS),
        )
    finally:
        con.close()


def test_engine_keeps_large_means_accurate(tmp_path):
    rng = np.random.default_rng(5)
    n = 4000
    df = pd.DataFrame({"variant": np.repeat(["control", "b"], n // 2), "y": 1e9 + rng.normal(0, 1, n)})
    df.to_parquet(tmp_path / "big.parquet", index=False)
    expected = ex.analyze(df, metrics=["y"], lift="absolute")
    got = ex.analyze(ex.ParquetSource(tmp_path / "big.parquet"), metrics=["y"], lift="absolute")
    assert got[1].std_error == pytest.approx(expected[1].std_error, rel=1e-7)
    assert got[1].std_error == pytest.approx(np.sqrt(2 / (n // 2)), rel=0.1)


def test_unrepresentative_first_rows_keep_the_numbers(tmp_path, frame, monkeypatch):
    """The shifts come from the first rows; sorted data make them far from the means, and nothing changes."""
    from causalinfer.experiments import _engine

    monkeypatch.setattr(_engine, "_SAMPLE", 5)
    sorted_frame = frame.sort_values("revenue", ascending=False)
    sorted_frame.to_parquet(tmp_path / "sorted.parquet", index=False)
    _assert_same(ex.analyze(frame, metrics=METRICS), ex.analyze(ex.ParquetSource(tmp_path / "sorted.parquet"), metrics=METRICS))
    _assert_same(
        ex.analyze(frame, metrics=UNIT_METRICS, unit="user"),
        ex.analyze(ex.ParquetSource(tmp_path / "sorted.parquet"), metrics=UNIT_METRICS, unit="user"),
    )


def test_boolean_proportion_column(tmp_path, frame):
    df = frame.assign(converted=frame["converted"].astype(bool))
    df.to_parquet(tmp_path / "b.parquet", index=False)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'b.db'}")
    df.to_sql("units", engine, index=False)
    expected = ex.analyze(frame, metrics=[ex.proportion("converted")])
    _assert_same(expected, ex.analyze(ex.ParquetSource(tmp_path / "b.parquet"), metrics=[ex.proportion("converted")]))
    _assert_same(expected, ex.analyze(ex.SQLTable(engine, "units"), metrics=[ex.proportion("converted")]))
    engine.dispose()


# ---------------------------------------------------------------------------------------------- bad input
def test_missing_sources_are_named(tmp_path, sqlite_engine):
    with pytest.raises(ci.SourceError, match=r"nope.parquet.*does not exist"):
        ex.analyze(ex.ParquetSource(tmp_path / "nope.parquet"), metrics=["revenue"])
    with pytest.raises(ci.SourceError, match=r"nope.parquet"):
        ex.analyze(str(tmp_path / "nope.parquet"), metrics=["revenue"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ci.SourceError, match=r"no \*.parquet file"):
        ex.analyze(ex.ParquetSource(tmp_path / "empty"), metrics=["revenue"])
    with pytest.raises(ci.SourceError, match=r"matches no file"):
        ex.analyze(ex.ParquetSource(str(tmp_path / "x-*.parquet")), metrics=["revenue"])
    with pytest.raises(ci.SourceError, match=r"'no_such_table' does not exist"):
        ex.analyze(ex.SQLTable(sqlite_engine, "no_such_table"), metrics=["revenue"])
    con = duckdb.connect()
    with pytest.raises(ci.SourceError, match=r"'no_such_table' does not exist"):
        ex.analyze(ex.SQLTable(con, "no_such_table"), metrics=["revenue"])
    con.close()


def test_corrupt_parquet_is_a_source_error(tmp_path):
    (tmp_path / "bad.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(ci.SourceError, match=r"bad.parquet"):
        ex.analyze(ex.ParquetSource(tmp_path / "bad.parquet"), metrics=["revenue"])


@pytest.mark.parametrize("source", ["parquet file", "sqlite engine"])
def test_unknown_columns_are_named(source, parquet_file, parquet_folder, sqlite_engine):
    src = _sources(source, parquet_file, parquet_folder, sqlite_engine)
    with pytest.raises(ci.RoleError, match=r"`metrics` names column 'revenu'.*did you mean 'revenue'"):
        ex.analyze(src, metrics=["revenu"])
    with pytest.raises(ci.RoleError, match=r"`covariates` names column 'pre_period'"):
        ex.analyze(src, metrics=["revenue"], covariates="pre_period")
    with pytest.raises(ci.RoleError, match=r"`variant` names column 'arm'"):
        ex.analyze(src, variant="arm", metrics=["revenue"])
    with pytest.raises(ci.RoleError, match=r"`unit` names column 'uid'"):
        ex.analyze(src, unit="uid", metrics=["revenue"])
    with pytest.raises(ci.RoleError, match=r"`denominator` names column 'visits'"):
        ex.analyze(src, metrics=[ex.ratio("clicks", "visits")])
    with pytest.raises(ci.DataError, match=r"`metrics` column 'variant' .* must be numeric"):
        ex.analyze(src, metrics=["variant"])


@pytest.mark.parametrize("source", ["parquet file", "sqlite engine"])
def test_refusals_match_the_frame(source, parquet_file, parquet_folder, sqlite_engine):
    src = _sources(source, parquet_file, parquet_folder, sqlite_engine)
    with pytest.raises(ci.ArgumentError, match=r"quantile metric 'revenue p50' with `unit`"):
        ex.analyze(src, metrics=[ex.quantile("revenue")], unit="user")
    with pytest.raises(ci.ArgumentError, match=r"`strata` with `unit`"):
        ex.analyze(src, metrics=["revenue"], strata="converted", unit="user")
    with pytest.raises(ci.RoleError, match=r"`strata` names column 'country'"):
        ex.analyze(src, metrics=["revenue"], strata="country")
    with pytest.raises(ci.DataError, match=r"proportion metric 'clicks'.*other than 0 and 1"):
        ex.analyze(src, metrics=[ex.proportion("clicks")])
    with pytest.raises(ci.ArgumentError, match=r"`control` 'ctl' is not a level"):
        ex.analyze(src, control="ctl", metrics=["revenue"])
    with pytest.raises(ci.ArgumentError, match=r"`covariates` with `unit`"):
        ex.analyze(src, metrics=["revenue"], covariates="pre", unit="user")


def test_missing_values_and_mixed_units_are_refused(tmp_path, frame):
    df = frame.copy()
    df.loc[[3, 10], "pre"] = np.nan
    df.to_parquet(tmp_path / "na.parquet", index=False)
    with pytest.raises(ci.DataError, match=r"column 'pre' has 2 missing value"):
        ex.analyze(ex.ParquetSource(tmp_path / "na.parquet"), metrics=["revenue"], covariates="pre")
    df = frame.copy()
    df.loc[[0, 1], "variant"] = None
    df.to_parquet(tmp_path / "nav.parquet", index=False)
    with pytest.raises(ci.DataError, match=r"`variant` column 'variant' has 2 missing"):
        ex.analyze(ex.ParquetSource(tmp_path / "nav.parquet"), metrics=["revenue"])
    df = frame.copy()
    df.loc[0, "variant"] = "b" if df.loc[0, "variant"] != "b" else "c"  # one row of user 0's unit moves arm
    df.to_parquet(tmp_path / "mixed.parquet", index=False)
    with pytest.raises(ci.DataError, match=r"1 unit\(s\) of `unit` column 'user' appear in more than one variant"):
        ex.analyze(ex.ParquetSource(tmp_path / "mixed.parquet"), metrics=["revenue"], unit="user")


def test_ratio_denominator_zero_in_a_variant_is_refused(tmp_path, frame):
    df = frame.assign(sessions=np.where(frame["variant"] == "b", 0, frame["sessions"]))
    df.to_parquet(tmp_path / "zero.parquet", index=False)
    with pytest.raises(ci.DataError, match=r"denominator 'sessions' sums to 0(\.0)? in variant 'b'"):
        ex.analyze(ex.ParquetSource(tmp_path / "zero.parquet"), metrics=[ex.ratio("clicks", "sessions")])


def test_missing_duckdb_gives_an_install_hint(monkeypatch, parquet_file):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "duckdb" or name.startswith("duckdb."):
            raise ImportError("No module named 'duckdb'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.delitem(__import__("sys").modules, "duckdb", raising=False)
    with pytest.raises(ci.DependencyError, match=r'pip install "causalinfer\[duckdb\]"'):
        ex.analyze(ex.ParquetSource(parquet_file), metrics=["revenue"])


def test_caller_frame_untouched_and_fingerprint_from_summaries(frame, parquet_file):
    before = frame.copy()
    res = ex.analyze(ex.ParquetSource(parquet_file), metrics=METRICS)
    pd.testing.assert_frame_equal(frame, before)
    assert res[1].provenance.data_fingerprint


# ---------------------------------------------------------------------------------------------- PostgreSQL
def _postgres_server_class():
    spec = importlib.util.spec_from_file_location("predict_conftest_pg", Path(__file__).parents[1] / "predict" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def postgres():
    helpers = _postgres_server_class()
    bindir = helpers._pg_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    pytest.importorskip("psycopg", reason="the psycopg driver is needed for the PostgreSQL tests (extra 'postgres')")
    server = helpers.PostgresServer(bindir)
    server.start()
    yield server
    server.cleanup()


def test_postgres_table_equals_frame(postgres, frame):
    engine = sa.create_engine(postgres.url)
    table = f"units_{uuid.uuid4().hex[:8]}"
    try:
        frame.assign(converted_flag=frame["converted"].astype(bool)).to_sql(table, engine, index=False)
        _assert_same(ex.analyze(frame, metrics=METRICS), ex.analyze(ex.SQLTable(engine, table), metrics=METRICS))
        _assert_same(
            ex.analyze(frame, metrics=UNIT_METRICS, unit="user"),
            ex.analyze(ex.SQLTable(postgres.url, table), metrics=UNIT_METRICS, unit="user"),
        )
        _assert_same(
            ex.analyze(frame, metrics=[ex.proportion("converted")]),
            ex.analyze(ex.SQLTable(engine, table), metrics=[ex.proportion("converted_flag", name="converted")]),
        )
        _assert_same(
            ex.analyze(frame, metrics=[ex.mean("revenue"), ex.proportion("converted")], strata="sessions"),
            ex.analyze(ex.SQLTable(engine, table), metrics=[ex.mean("revenue"), ex.proportion("converted")], strata="sessions"),
        )
        metrics = [*QUANTILES, ex.quantile("converted_flag", 0.9, name="flag")]
        _assert_same(
            ex.analyze(frame.assign(converted_flag=frame["converted"]), metrics=metrics, lift="absolute"),
            ex.analyze(ex.SQLTable(engine, table), metrics=metrics, lift="absolute"),
        )
        with pytest.raises(ci.SourceError, match=r"'missing_table' does not exist"):
            ex.analyze(ex.SQLTable(engine, "missing_table"), metrics=["revenue"])
    finally:
        engine.dispose()


def test_proportion_squares_are_not_aggregated(monkeypatch, frame, parquet_file):
    """A checked 0/1 column's sum of squares is its sum: the main query leaves the square out, the numbers agree."""
    from causalinfer.data import _engine as data_engine

    seen: list[str] = []
    run = data_engine.DuckRunner.run
    monkeypatch.setattr(data_engine.DuckRunner, "run", lambda self, sql: seen.append(sql) or run(self, sql))
    metrics = [ex.proportion("converted"), ex.proportion("converted", name="cuped", covariates="pre"), ex.mean("revenue")]
    got = ex.analyze(ex.ParquetSource(parquet_file), metrics=metrics)
    main = next(sql for sql in seen if "GROUP BY" in sql)
    assert 'SUM("converted" * "converted")' not in main and 'SUM("revenue" * "revenue")' in main
    _assert_same(ex.analyze(frame, metrics=metrics), got)
