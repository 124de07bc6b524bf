"""Dataset: roles, validation messages, immutability, fingerprint, constructors."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import pandas as hpd
from property_settings import examples

import causalinfer as ci
from causalinfer import Dataset
from causalinfer._testing import check_result, check_unchanged
from causalinfer.data import as_dataset


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 60
    return pd.DataFrame(
        {
            "y": rng.normal(size=n),
            "d": rng.integers(0, 2, n),
            "x1": rng.normal(size=n),
            "x2": rng.integers(0, 5, n),
            "z": rng.normal(size=n),
            "cat": rng.choice(["a", "b", "c"], n),
            "unit": np.repeat(np.arange(20), 3),
            "t": np.tile([1, 2, 3], 20),
            "w": rng.uniform(0.5, 2, n),
            "r": rng.uniform(-1, 1, n),
        },
        index=pd.RangeIndex(100, 100 + n),
    )


def full_roles() -> dict:
    return dict(
        outcome="y",
        treatment="d",
        covariates=["x1", "x2", "cat"],
        instruments="z",
        unit="unit",
        time="t",
        cluster="unit",
        weights="w",
        running="r",
        cutoff=0.0,
        graph=[("x1", "d"), ("d", "y")],
        name="toy",
    )


def test_roles_are_stored(frame):
    ds = Dataset(frame, **full_roles())
    assert ds.outcome == "y"
    assert ds.covariates == ("x1", "x2", "cat")
    assert ds.instruments == ("z",)
    assert ds.cluster == ds.unit == "unit"
    assert ds.cutoff == 0.0
    assert ds.graph == (("x1", "d"), ("d", "y"))
    assert ds.used_columns == ("y", "d", "x1", "x2", "cat", "z", "unit", "t", "w", "r")
    assert ds.role_of("x2") == "covariates"
    assert ds.role_of("nothing") is None
    assert ds.n == len(frame) == len(ds)
    assert repr(ds).startswith("Dataset(name='toy', rows=60, outcome='y'")


def test_constructor_and_methods_never_change_caller_frame(frame):
    ds = check_unchanged(frame, lambda f: Dataset(f, **full_roles()))
    check_unchanged(frame, lambda f: as_dataset(f, outcome="y", treatment="d"))
    check_unchanged(frame, lambda f: Dataset(f, outcome="y", missing="drop").describe())
    # the Dataset keeps its own copy: later changes by the caller do not reach it ...
    fp = ds.fingerprint()
    frame.loc[frame.index[0], "y"] = 1e6
    frame["new"] = 1
    assert ds.fingerprint() == fp
    assert "new" not in ds.columns
    # ... and changes to what it hands out do not reach it either
    out = ds.frame
    out.loc[out.index[0], "x1"] = -99.0
    out["extra"] = 0
    assert ds.fingerprint() == fp
    assert ds.frame.loc[ds.frame.index[0], "x1"] != -99.0
    arr = ds.column("x1")
    with pytest.raises(ValueError, match="read-only"):
        arr[0] = 1.0


def test_immutable(frame):
    ds = Dataset(frame, outcome="y")
    with pytest.raises(AttributeError, match="immutable"):
        ds.outcome = "x1"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        ds._frame = frame  # type: ignore[misc]


def test_with_roles(frame):
    ds = Dataset(frame, outcome="y", treatment="d", covariates=["x1"])
    ds2 = ds.with_roles(covariates=["x1", "x2"], treatment=None)
    assert ds2.covariates == ("x1", "x2")
    assert ds2.treatment is None
    assert ds.covariates == ("x1",)  # unchanged
    assert ds2.fingerprint(roles=False) == ds.fingerprint(roles=False)
    assert ds2.fingerprint() != ds.fingerprint()
    with pytest.raises(ci.ArgumentError, match="unknown role"):
        ds.with_roles(outcomes="y")


@pytest.mark.parametrize(
    ("roles", "exc", "pattern"),
    [
        (dict(outcome="yy"), ci.RoleError, r"`outcome` names column 'yy', which is not in the data; did you mean 'y'\?"),
        (dict(covariates=["x1", "x9"]), ci.RoleError, r"`covariates` names column 'x9'"),
        (dict(outcome="y", covariates=["y"]), ci.RoleError, r"column 'y' is given two roles, `outcome` and `covariates`"),
        (dict(treatment="d", instruments=["d"]), ci.RoleError, r"column 'd' is given two roles"),
        (dict(covariates=["x1", "x1"]), ci.RoleError, r"`covariates` lists column\(s\) \['x1'\] more than once"),
        (dict(outcome="cat"), ci.RoleError, r"outcome 'cat' must be numeric or boolean; it has dtype"),
        (
            dict(treatment="const"),
            ci.RoleError,
            r"treatment 'const' has only one level \(np.int64\(1\)|treatment 'const' has only one level",
        ),
        (dict(covariates=["const"]), ci.RoleError, r"covariate 'const' is constant"),
        (dict(instruments=["const"]), ci.RoleError, r"instrument 'const' is constant"),
        (dict(running="r"), ci.RoleError, r"`running` \('r'\) needs a `cutoff`"),
        (dict(cutoff=0.5), ci.RoleError, r"`cutoff` \(0.5\) is given without `running`"),
        (dict(running="r", cutoff=5.0), ci.RoleError, r"cutoff 5 leaves no observations on one side"),
        (dict(weights="neg"), ci.RoleError, r"weights 'neg' has 1 negative value"),
        (dict(outcome=3), ci.ArgumentTypeError, r"`outcome` must be a column name \(a string\); got 3"),
        (dict(covariates=[1]), ci.ArgumentTypeError, r"`covariates` must be a column name or a list"),
        (dict(graph=42), ci.ArgumentTypeError, r"`graph` must be a DOT or GML string"),
        (dict(graph=[("a", "b", "c")]), ci.ArgumentTypeError, r"`graph` as an edge list"),
        (dict(missing="impute"), ci.ArgumentError, r"`missing` must be one of 'refuse', 'drop'; got 'impute'"),
        (dict(name=5), ci.ArgumentTypeError, r"`name` must be a string"),
    ],
)
def test_role_errors_name_the_column(frame, roles, exc, pattern):
    frame = frame.assign(const=1, neg=np.r_[-1.0, np.ones(len(frame) - 1)])
    with pytest.raises(exc, match=pattern):
        Dataset(frame, **roles)


def test_missing_values_are_counted_per_column(frame):
    f = frame.copy()
    f.loc[f.index[:3], "y"] = np.nan
    f.loc[f.index[5], "x1"] = np.nan
    with pytest.raises(ci.DataError, match=r"'y' \(3 of 60 rows\), 'x1' \(1 of 60 rows\).*missing='drop'"):
        Dataset(f, outcome="y", covariates=["x1"])
    # NaN in a column without a role is fine
    assert Dataset(f, covariates=["x2"]).n == 60
    ds = Dataset(f, outcome="y", covariates=["x1"], missing="drop")
    assert ds.n == 56
    assert ds.n_dropped == 4
    assert ds.describe().diagnostic("missing values").status == "warn"
    # a changed role re-applies the policy on the full data
    assert ds.with_roles(covariates=["x2"]).n == 57


def test_infinite_values_refused(frame):
    f = frame.assign(x1=np.r_[np.inf, frame.x1.to_numpy()[1:]])
    with pytest.raises(ci.DataError, match=r"column 'x1' \(covariates\) has 1 infinite value"):
        Dataset(f, covariates=["x1"])


def test_frame_checks():
    with pytest.raises(ci.ArgumentTypeError, match="`frame` must be a pandas DataFrame; got dict"):
        Dataset({"a": [1]})  # type: ignore[arg-type]
    with pytest.raises(ci.DataError, match="`frame` has no rows"):
        Dataset(pd.DataFrame({"a": []}))
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(ci.DataError, match=r"duplicate column names \['a'\]"):
        Dataset(dup)


def test_describe_is_a_table_result(frame):
    ds = Dataset(frame, outcome="y", treatment="d", covariates=["x1", "cat"], name="toy")
    d = ds.describe()
    check_result(d)
    table = d.to_frame()
    assert list(table.columns) == ["column", "role", "dtype", "n", "n_missing", "n_unique", "mean", "std", "min", "median", "max"]
    assert table["column"].tolist() == ["y", "d", "x1", "cat"]
    assert table.loc[2, "mean"] == pytest.approx(frame["x1"].mean(), rel=1e-9)
    assert np.isnan(table.loc[3, "mean"])  # non-numeric
    assert len(ds.describe(all_columns=True).table) == frame.shape[1]
    assert "<table>" in ds._repr_html_()


def test_fingerprint_properties(frame):
    a = Dataset(frame, outcome="y")
    b = Dataset(frame[frame.columns[::-1]], outcome="y")
    c = Dataset(frame.reset_index(drop=True), outcome="y")
    assert a.fingerprint() == b.fingerprint() == c.fingerprint()
    assert a == b
    assert hash(a) == hash(b)
    changed = frame.copy()
    changed.loc[changed.index[7], "x1"] += 1e-12
    assert Dataset(changed, outcome="y").fingerprint() != a.fingerprint()
    assert Dataset(frame.iloc[::-1], outcome="y").fingerprint() != a.fingerprint()
    assert Dataset(frame.astype({"x2": "float64"}), outcome="y").fingerprint() != a.fingerprint()
    assert len(a.fingerprint()) == 64


def test_fingerprint_is_stable_across_runs():
    # pinned: the hash of the bundled NSW data must not drift between releases
    ds = ci.load_dataset("lalonde")
    assert ds.fingerprint(roles=False) == ci.load_dataset("lalonde").fingerprint(roles=False)
    assert ds.fingerprint(roles=False) == LALONDE_FINGERPRINT


LALONDE_FINGERPRINT = "2a76d39fad4bd09fc85e108d70b81a6eacec1bcf7bdb4b772c585405856d2780"


def test_fingerprint_hashes_numbers_by_their_bytes():
    # the format, written out: header, then per column (sorted by name) its name, dtype and little-endian bytes
    import hashlib

    x = np.array([1.5, -2.0, 3.25])
    k = np.array([3, 1, 2], dtype=np.int64)
    h = hashlib.sha256(b"rows=3")
    h.update(b"\x00col\x00k\x00int64" + k.astype("<i8").tobytes())
    h.update(b"\x00col\x00x\x00float64" + x.astype("<f8").tobytes())
    assert Dataset(pd.DataFrame({"x": x, "k": k})).fingerprint(roles=False) == h.hexdigest()


def test_fingerprint_of_equal_numbers_is_equal():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, 3))
    X[3, 0], X[7, 1] = 0.0, np.nan
    base = Dataset(pd.DataFrame(X, columns=["a", "b", "c"]))
    fp = base.fingerprint(roles=False)
    # columns strided in one 2-D block, separate contiguous columns, and big-endian storage hash alike
    split = pd.DataFrame({c: X[:, j].copy() for j, c in enumerate("abc")})
    big = pd.DataFrame({c: X[:, j].astype(">f8") for j, c in enumerate("abc")})
    for frame in (split, big):
        assert Dataset(frame).fingerprint(roles=False) == fp
    # the other bit patterns of zero and NaN stand for the same values
    Y = X.copy()
    Y[3, 0] = -0.0
    Y[7, 1] = np.frombuffer(np.uint64(0xFFF8000000000001).tobytes(), dtype=np.float64)[0]
    assert np.isnan(Y[7, 1]) and np.signbit(Y[3, 0])
    assert Dataset(pd.DataFrame(Y, columns=["a", "b", "c"])).fingerprint(roles=False) == fp
    # and any other change of a value, or of the dtype, changes it
    Y[5, 2] = np.nextafter(Y[5, 2], np.inf)
    assert Dataset(pd.DataFrame(Y, columns=["a", "b", "c"])).fingerprint(roles=False) != fp
    assert Dataset(pd.DataFrame(X.astype(np.float32), columns=["a", "b", "c"])).fingerprint(roles=False) != fp
    ints = pd.DataFrame({"a": [1, 0, 1]})
    assert Dataset(ints).fingerprint() != Dataset(ints.astype(bool)).fingerprint() != Dataset(ints.astype(float)).fingerprint()


def test_as_dataset(frame):
    ds = as_dataset(frame, outcome="y", treatment="d", covariates=None)
    assert ds.outcome == "y"
    assert as_dataset(ds) is ds
    assert as_dataset(ds, covariates=["x1"]).covariates == ("x1",)
    with pytest.raises(ci.ArgumentTypeError, match="`data` must be a causalinfer Dataset or a pandas DataFrame; got list"):
        as_dataset([1, 2])


def test_from_csv_and_parquet(tmp_path, frame):
    path = tmp_path / "toy.csv"
    frame.to_csv(path, index=False)
    ds = Dataset.from_csv(path, outcome="y", treatment="d")
    assert ds.name == "toy"
    assert ds.n == len(frame)
    pq = tmp_path / "toy.parquet"
    frame.to_parquet(pq)
    ds2 = Dataset.from_parquet(pq, columns=["y", "d"], outcome="y", treatment="d")
    assert ds2.columns == ("y", "d")
    np.testing.assert_array_equal(ds2.column("y"), frame["y"].to_numpy())
    with pytest.raises(ci.SourceError, match="does not exist"):
        Dataset.from_csv(tmp_path / "nope.csv")
    with pytest.raises(ci.SourceError, match="could not read Parquet"):
        Dataset.from_parquet(path)  # a CSV is not Parquet


def test_from_sql(tmp_path, frame):
    db = tmp_path / "toy.db"
    with sqlite3.connect(db) as con:
        frame.drop(columns=["cat"]).to_sql("toy", con, index=False)
    ds = Dataset.from_sql(db, table="toy", outcome="y", treatment="d")
    assert ds.n == len(frame)
    assert ds.name == "toy"
    np.testing.assert_allclose(ds.column("y"), frame["y"].to_numpy(), rtol=0, atol=0)
    ds2 = Dataset.from_sql(f"sqlite:///{db}", query="SELECT y, d FROM toy WHERE d = 1 OR d = 0", outcome="y")
    assert ds2.columns == ("y", "d")
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{db}")
    assert Dataset.from_sql(engine, table="toy").n == len(frame)
    with pytest.raises(ci.SourceError, match=r"table 'other' is not in the database \(tables: toy\)"):
        Dataset.from_sql(db, table="other")
    with pytest.raises(ci.ArgumentError, match="exactly one of `table`"):
        Dataset.from_sql(db, table="toy", query="SELECT 1")
    with pytest.raises(ci.SourceError, match=r"SQLite database file .* does not exist"):
        Dataset.from_sql(tmp_path / "missing.db", table="toy")
    with pytest.raises(ci.SourceError, match="database read failed"):
        Dataset.from_sql(db, query="SELECT nope FROM toy")


# ---------------------------------------------------------------------- property tests
_columns = [
    hpd.column("a", elements=st.floats(-1e6, 1e6, allow_nan=False)),
    hpd.column("b", elements=st.integers(-5, 5)),
    hpd.column("c", elements=st.booleans()),
    hpd.column("s", elements=st.sampled_from(["x", "y", "z"])),
]


@examples(40)
@given(df=hpd.data_frames(_columns, index=hpd.range_indexes(min_size=1, max_size=30)), perm=st.permutations(["a", "b", "c", "s"]))
def test_column_order_invariance(df, perm):
    base = Dataset(df)
    shuffled = Dataset(df[list(perm)])
    assert base.fingerprint() == shuffled.fingerprint()
    t1 = base.describe().table.set_index("column").sort_index()
    t2 = shuffled.describe().table.set_index("column").sort_index()
    pd.testing.assert_frame_equal(t1, t2)


@examples(40)
@given(df=hpd.data_frames(_columns, index=hpd.range_indexes(min_size=1, max_size=30)))
def test_roundtrip_through_roles_and_csv(df, tmp_path_factory):
    ds = Dataset(df, name="p")
    again = Dataset(ds.frame, **ds.roles)
    assert again == ds
    path = tmp_path_factory.mktemp("rt") / "p.csv"
    ds.frame.to_csv(path, index=False)
    back = Dataset.from_csv(path)
    pd.testing.assert_frame_equal(back.frame[["a", "b", "c"]], ds.frame[["a", "b", "c"]], check_exact=True)
