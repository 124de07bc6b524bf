"""The sufficient-statistics layer: one pass over a frame, the same moments as numpy, SQL-shaped tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer.experiments import Summaries, sql_aggregates


def _frame(seed=0, n=500):
    rng = np.random.default_rng(seed)
    v = rng.choice(["control", "b", "c"], size=n)
    x = rng.normal(100, 5, n)
    y = 1e6 + 0.5 * x + rng.normal(size=n)
    return pd.DataFrame({"variant": v, "y": y, "x": x})


def test_moments_match_numpy():
    f = _frame()
    s = Summaries.from_frame(f, variant="variant", variables=["y", "x"])
    assert s.variants == ("b", "c", "control")
    for row, lv in enumerate(s.variants):
        part = f[f.variant == lv]
        n, means, cov = s.moments([row], ["y", "x"])
        assert n == len(part)
        np.testing.assert_allclose(means, part[["y", "x"]].mean().to_numpy(), rtol=1e-14)
        np.testing.assert_allclose(cov, np.cov(part[["y", "x"]].to_numpy().T), rtol=1e-10)
    n, means, cov = s.moments([0, 2], ["y", "x"])
    part = f[f.variant.isin(["b", "control"])]
    assert n == len(part)
    np.testing.assert_allclose(cov, np.cov(part[["y", "x"]].to_numpy().T), rtol=1e-10)


def test_levels_fix_the_order():
    f = _frame()
    s = Summaries.from_frame(f, variant="variant", variables=["y"], levels=["control", "b", "c"])
    assert s.variants == ("control", "b", "c")
    assert s.n[0] == (f.variant == "control").sum()
    with pytest.raises(ci.ArgumentError, match="leaves out variant"):
        Summaries.from_frame(f, variant="variant", variables=["y"], levels=["control", "b"])


def test_centring_keeps_variance_accurate():
    f = _frame()
    centred = Summaries.from_frame(f, variant="variant", variables=["y"])
    exact = np.var(f.loc[f.variant == "b", "y"].to_numpy(), ddof=1)
    assert centred.moments([0], ["y"])[2][0, 0] == pytest.approx(exact, rel=1e-10)


def test_table_round_trip_and_shift():
    f = _frame()
    s = Summaries.from_frame(f, variant="variant", variables=["y", "x"])
    t = s.to_table()
    assert list(t.columns) == ["variant", "n", "sum(y)", "sum(x)", "sum(y*y)", "sum(y*x)", "sum(x*x)"]
    back = Summaries.from_table(t, shift=dict(zip(s.variables, s.shift, strict=True)))
    for row in range(3):
        for a, b in zip(s.moments([row], ["y", "x"]), back.moments([row], ["y", "x"]), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-14)


def test_raw_sums_as_sql_returns_them():
    f = _frame()
    aggregates = sql_aggregates(["y", "x"], products=[("y", "x")])
    assert aggregates["n"] == "COUNT(*)" and aggregates["sum(y*x)"] == 'SUM("y" * "x")'
    g = f.assign(yy=f.y * f.y, yx=f.y * f.x, xx=f.x * f.x).groupby("variant")
    table = pd.DataFrame(
        {
            "variant": list(g.groups),
            "n": g.size().to_numpy(),
            "sum(y)": g.y.sum().to_numpy(),
            "sum(x)": g.x.sum().to_numpy(),
            "sum(y*y)": g.yy.sum().to_numpy(),
            "sum(y*x)": g.yx.sum().to_numpy(),
            "sum(x*x)": g.xx.sum().to_numpy(),
        }
    )
    raw = Summaries.from_table(table)
    centred = Summaries.from_frame(f, variant="variant", variables=["y", "x"])
    # raw sums of squares lose digits when the mean dwarfs the spread; covariance of x stays exact
    np.testing.assert_allclose(raw.moments([1], ["x"])[2], centred.moments([1], ["x"])[2], rtol=1e-9)
    np.testing.assert_allclose(raw.moments([1], ["y", "x"])[1], centred.moments([1], ["y", "x"])[1], rtol=1e-12)


def test_merge_of_chunks_equals_whole():
    f = _frame(n=900)
    whole = Summaries.from_frame(f, variant="variant", variables=["y", "x"])
    a = Summaries.from_frame(f.iloc[:300], variant="variant", variables=["y", "x"])
    b = Summaries.from_frame(f.iloc[300:], variant="variant", variables=["y", "x"])
    merged = a + b
    for lv in whole.variants:
        m1 = whole.moments([whole.index(lv)], ["y", "x"])
        m2 = merged.moments([merged.index(lv)], ["y", "x"])
        for u, v in zip(m1, m2, strict=True):
            np.testing.assert_allclose(u, v, rtol=1e-9)


def test_missing_cross_product_is_refused():
    f = _frame()
    s = Summaries.from_frame(f, variant="variant", variables=["y", "x"], products=[])
    s.moments([0], ["y"])
    with pytest.raises(ci.DataError, match=r"sum\(y\*x\)"):
        s.moments([0], ["y", "x"])


def test_bad_inputs():
    f = _frame()
    with pytest.raises(ci.RoleError, match="`variables` names column 'z'"):
        Summaries.from_frame(f, variant="variant", variables=["z"])
    g = f.copy()
    g.loc[3, "x"] = np.nan
    with pytest.raises(ci.DataError, match="column 'x' has 1 missing"):
        Summaries.from_frame(g, variant="variant", variables=["x"])
    with pytest.raises(ci.ArgumentError, match="separators"):
        sql_aggregates(["a*b"])
    with pytest.raises(ci.DataError, match="neither"):
        Summaries.from_table({"variant": ["a"], "n": [3], "mean(y)": [1.0]})
    with pytest.raises(ci.DataError, match=r"needs the column 'sum\(x\)'"):
        Summaries.from_table({"variant": ["a"], "n": [3], "sum(y)": [1.0], "sum(y*x)": [1.0]})


def test_shifted_sql_aggregates_keep_large_means_accurate():
    import sqlite3

    f = _frame()
    agg = sql_aggregates(["y"], shift={"y": 1e6})
    assert agg["sum(y*y)"] == 'SUM(("y" - 1000000.0) * ("y" - 1000000.0))'
    con = sqlite3.connect(":memory:")
    try:
        f.to_sql("units", con, index=False)
        select = ", ".join(f'{expr} AS "{alias}"' for alias, expr in agg.items())
        table = pd.read_sql(f"SELECT variant, {select} FROM units GROUP BY variant", con)
    finally:
        con.close()
    from_sql = Summaries.from_table(table, shift={"y": 1e6})
    exact = np.var(f.loc[f.variant == "b", "y"].to_numpy(), ddof=1)
    assert from_sql.moments([from_sql.index("b")], ["y"])[2][0, 0] == pytest.approx(exact, rel=1e-9)
    with pytest.raises(ci.ArgumentError, match="`shift` names"):
        sql_aggregates(["y"], shift={"x": 1.0})
