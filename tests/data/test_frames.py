"""polars and Arrow tables are accepted wherever a pandas DataFrame is, with identical results.

Each case runs one public function on a bundled data set given as pandas and as each other kind of table, and
compares the tidy output bit for bit (the conversion to pandas is exact: the same numbers reach the same code).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer._frames import from_pandas, is_foreign_frame, to_pandas
from causalinfer.exceptions import ArgumentError, ArgumentTypeError

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

KINDS: dict[str, Callable[[pd.DataFrame], Any]] = {
    "polars": lambda f: pl.from_pandas(f),
    "polars-lazy": lambda f: pl.from_pandas(f).lazy(),
    "arrow": lambda f: pa.Table.from_pandas(f, preserve_index=False),
}


def _frame(name: str) -> pd.DataFrame:
    return ci.load_dataset(name, frame_only=True).reset_index(drop=True)


def _roles(name: str) -> dict[str, Any]:
    keep = ("outcome", "treatment", "covariates", "instruments", "unit", "time", "cluster", "running", "cutoff")
    return {k: v for k, v in ci.load_dataset(name).roles.items() if k in keep and v not in (None, ())}


def _experiment() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 400
    variant = np.where(rng.random(n) < 0.5, "control", "treatment")
    pre = rng.gamma(2.0, 5.0, n)
    revenue = pre * 0.6 + rng.gamma(2.0, 4.0, n) + (variant == "treatment") * 1.5
    return pd.DataFrame({"variant": variant, "revenue": revenue, "pre": pre, "converted": (rng.random(n) < 0.3).astype(int)})


# (label, data set or frame builder, call taking `data`)
CASES: list[tuple[str, Callable[[], pd.DataFrame], Callable[[Any], Any]]] = [
    ("ttest", lambda: _frame("lalonde"), lambda d: ci.stats.ttest("re78", data=d, group="treat", levels=(1, 0))),
    ("mann_whitney", lambda: _frame("lalonde"), lambda d: ci.stats.mann_whitney("re78", data=d, group="treat", levels=(1, 0))),
    ("ols", lambda: _frame("lalonde"), lambda d: ci.stats.ols("re78 ~ treat + age + educ", data=d, cov_type="HC1")),
    ("logit", lambda: _frame("lalonde"), lambda d: ci.stats.logit("treat ~ age + educ + re74", data=d)),
    ("poisson", lambda: _frame("lalonde"), lambda d: ci.stats.poisson("educ ~ age + black", data=d)),
    ("ipw", lambda: _frame("lalonde"), lambda d: ci.causal.ipw(d, **_roles("lalonde"))),
    ("aipw", lambda: _frame("lalonde"), lambda d: ci.causal.aipw(d, **_roles("lalonde"), random_state=1)),
    ("regression_adjustment", lambda: _frame("lalonde"), lambda d: ci.causal.regression_adjustment(d, **_roles("lalonde"))),
    ("iv_2sls", lambda: _frame("close_college"), lambda d: ci.designs.iv_2sls(d, **_roles("close_college"))),
    ("rdd", lambda: _frame("close_elections_lmb"), lambda d: ci.designs.rdd(d, **_roles("close_elections_lmb"))),
    ("twfe", lambda: _frame("castle"), lambda d: ci.designs.twfe(d, **_roles("castle"))),
    ("analyze", _experiment, lambda d: ci.experiments.analyze(d, metrics=["revenue", "converted"], control="control")),
    ("anova_oneway", lambda: _frame("lalonde"), lambda d: ci.stats.anova_oneway("re78", data=d, group="nodegree", equal_var=True)),
    ("kruskal_wallis", lambda: _frame("lalonde"), lambda d: ci.stats.kruskal_wallis("re78", data=d, group="educ")),
    ("correlation", lambda: _frame("lalonde"), lambda d: ci.stats.correlation("re74", "re78", data=d, method="spearman")),
    ("glm", lambda: _frame("lalonde"), lambda d: ci.stats.glm("educ ~ age + black", data=d, family="poisson")),
    ("negative_binomial", lambda: _frame("lalonde"), lambda d: ci.stats.negative_binomial("educ ~ age + black", data=d)),
    ("quantreg", lambda: _frame("lalonde"), lambda d: ci.stats.quantreg("re78 ~ treat + age", data=d)),
    (
        "ols_absorb",
        lambda: _frame("castle"),
        lambda d: ci.stats.ols("l_homicide ~ post | sid + year", data=d, cov_type="cluster", cluster="sid"),
    ),
    (
        "callaway_santanna",
        lambda: _frame("castle"),
        lambda d: ci.designs.callaway_santanna(d, **{k: v for k, v in _roles("castle").items() if k != "cluster"}, n_boot=0),
    ),
    (
        "sun_abraham",
        lambda: _frame("castle"),
        lambda d: ci.designs.sun_abraham(d, **{k: v for k, v in _roles("castle").items() if k != "cluster"}),
    ),
    (
        "synthetic_control",
        lambda: _frame("texas"),
        lambda d: ci.designs.synthetic_control(d, **_roles("texas"), treated_unit=48, treatment_time=1993, method="outcome", placebo=False),
    ),
]


@pytest.mark.filterwarnings("ignore::causalinfer.exceptions.AssumptionWarning")
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(("label", "build", "call"), CASES, ids=[c[0] for c in CASES])
def test_same_result_as_pandas(kind: str, label: str, build: Callable[[], pd.DataFrame], call: Callable[[Any], Any]) -> None:
    frame = build()
    expected = call(frame).to_frame()
    got = call(KINDS[kind](frame)).to_frame()
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_dataset_from_a_foreign_table(kind: str) -> None:
    frame = _frame("lalonde")
    ds = ci.Dataset(KINDS[kind](frame), **_roles("lalonde"))
    pd.testing.assert_frame_equal(ds.frame.reset_index(drop=True), frame, check_dtype=False)
    assert ds.fingerprint() == ci.Dataset(frame, **_roles("lalonde")).fingerprint()
    assert ci.causal.ipw(ds).estimate == ci.causal.ipw(frame, **_roles("lalonde")).estimate


def test_polars_enum_keeps_its_order_and_categorical_needs_one() -> None:
    # An Enum has an order (it becomes an ordered pandas Categorical); a plain Categorical does not.
    df = pl.DataFrame(
        {
            "period": pl.Series(["after", "before", "after", "before"] * 5, dtype=pl.Enum(["before", "after"])),
            "g": pl.Series(["b", "a", "a", "b"] * 5, dtype=pl.Categorical),
        }
    )
    pdf = to_pandas(df)
    assert pdf["period"].cat.ordered
    assert list(pdf["period"].cat.categories) == ["before", "after"]
    assert not pdf["g"].cat.ordered


def test_nulls_become_missing_values_and_are_refused_by_name() -> None:
    df = pl.DataFrame({"y": [1.0, None, 3.0, 4.0], "t": [0, 1, 0, 1]})
    with pytest.raises(ci.exceptions.DataError, match="y"):
        ci.Dataset(df, outcome="y", treatment="t")
    ds = ci.Dataset(df, outcome="y", treatment="t", missing="drop")
    assert ds.n == 3


def test_a_series_or_a_non_table_is_refused() -> None:
    with pytest.raises(ArgumentTypeError, match="not a Series"):
        to_pandas(pl.Series("y", [1.0, 2.0]))
    with pytest.raises(ArgumentTypeError, match="data"):
        ci.causal.ipw(object(), outcome="y", treatment="t", covariates=["x"])


def test_engine_tables_are_not_copied_whole() -> None:
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    rel = con.sql("select 1 as a")
    assert not is_foreign_frame(rel)
    assert not is_foreign_frame(pd.DataFrame({"a": [1]}))
    assert is_foreign_frame(pl.DataFrame({"a": [1]}))
    assert is_foreign_frame(pa.table({"a": [1]}))


def test_results_as_polars_or_arrow() -> None:
    r = ci.stats.ols("re78 ~ treat + age", data=_frame("lalonde"))
    expected = r.to_frame()
    as_polars = r.to_frame(backend="polars")
    assert isinstance(as_polars, pl.DataFrame)
    pd.testing.assert_frame_equal(as_polars.to_pandas(), expected, check_dtype=False)
    as_arrow = r.to_frame(backend="pyarrow")
    assert isinstance(as_arrow, pa.Table)
    assert as_arrow.column_names == list(expected.columns)
    diag = r.to_frame("diagnostics", backend="polars")
    assert diag.columns == list(r.to_frame("diagnostics").columns)
    rs = ci.ResultSet([r, r], labels=["a", "b"])
    assert rs.to_frame(backend="polars").height == len(rs.to_frame())
    table = ci.load_dataset("lalonde").describe()
    assert table.to_frame(backend="polars").height == len(table.to_frame())
    with pytest.raises(ArgumentError, match="backend"):
        r.to_frame(backend="spark")


def test_from_pandas_keeps_a_non_default_index_as_a_column() -> None:
    f = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index(["a", "b"], name="unit"))
    out = from_pandas(f, "polars")
    assert out.columns == ["unit", "x"]
    # An unnamed index that carries labels is kept too, never dropped.
    unnamed = from_pandas(pd.DataFrame({"x": [1.0, 2.0]}, index=["a", "b"]), "pyarrow")
    assert unnamed.column_names == ["index", "x"]
    assert unnamed.column("index").to_pylist() == ["a", "b"]
    assert from_pandas(pd.DataFrame({"x": [1.0]}), "polars").columns == ["x"]


def test_scoring_reads_a_polars_frame(tmp_path: Any) -> None:
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    model = LinearRegression().fit(X, X["a"] * 2 + X["b"])
    expected = ci.predict.score(model, X, progress=False)
    got = ci.predict.score(model, pl.from_pandas(X), progress=False)
    assert got.output is not None and expected.output is not None
    pd.testing.assert_frame_equal(got.output, expected.output)
    assert got.rows_written == 50
