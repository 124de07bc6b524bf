"""experiments.analyze on a dask DataFrame: summaries per partition on a distributed LocalCluster, equal to pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci
from causalinfer import experiments as ex

dd = pytest.importorskip("dask.dataframe", reason="the dask path needs the optional dependency dask (extra 'dask')")
distributed = pytest.importorskip("distributed")

REL = 1e-9


def _frame(n: int = 3000, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = np.array(["control", "b", "c"])[rng.integers(0, 3, n)]
    pre = rng.gamma(2.0, 10.0, n) + 800.0  # far from zero: partition-centred sums must merge accurately
    sessions = rng.integers(1, 6, n)
    return pd.DataFrame(
        {
            "variant": arm,
            "revenue": 0.6 * pre + rng.gamma(2.0, 5.0, n) + 1.5 * (arm == "b"),
            "pre": pre,
            "converted": (rng.uniform(size=n) < 0.2 + 0.03 * (arm == "c")).astype(np.int64),
            "clicks": rng.binomial(sessions, 0.4),
            "sessions": sessions,
        }
    )


METRICS = [
    ex.mean("revenue"),
    ex.mean("revenue", name="revenue cuped", covariates="pre"),
    ex.proportion("converted", covariates="pre"),
    ex.ratio("clicks", "sessions", name="ctr", role="guardrail", margin=0.05),
]


def _uneven(df: pd.DataFrame) -> object:
    """Partitions of 1, 0, 37, 5 (control only) and the rest of the rows: uneven, one empty, one missing arms."""
    pieces = [df.iloc[:1], df.iloc[1:1], df.iloc[1:38], df[df["variant"] == "control"].iloc[:5]]
    rest = df.iloc[38:].drop(index=df[df["variant"] == "control"].index[:5], errors="ignore")
    pieces.append(rest)
    return dd.concat([dd.from_pandas(p, npartitions=1) for p in pieces]), pd.concat(pieces)


def _assert_same(a, b) -> None:
    assert a.labels == b.labels
    for ra, rb in zip(a, b, strict=True):
        for attr in ("estimate", "std_error", "pvalue", "statistic", "ci_low", "ci_high", "df"):
            va, vb = getattr(ra, attr, None), getattr(rb, attr, None)
            if va is None or not np.isfinite(va):
                assert vb is None or not np.isfinite(vb), (ra.label, attr)
            else:
                assert vb == pytest.approx(va, rel=REL, abs=1e-300), (ra.label, attr)


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_dask_on_local_cluster_equals_pandas(client):
    ddf, rows = _uneven(_frame())
    assert ddf.npartitions == 5
    kw = dict(metrics=METRICS, variants=["c", "b"], sequential="mixture", allocation={"control": 1, "b": 1, "c": 1})
    expected = ex.analyze(rows.reset_index(drop=True), **kw)
    got = ex.analyze(ddf, **kw)
    _assert_same(expected, got)
    assert got[1].provenance.data_fingerprint  # hashed from the merged summaries
    _assert_same(
        ex.analyze(rows, metrics=["revenue"], lift="absolute"),
        ex.analyze(dd.from_pandas(rows, npartitions=7), metrics=["revenue"], lift="absolute"),
    )


def test_dask_refusals_match_pandas():
    df = _frame(400)
    bad = df.assign(pre=df["pre"].where(df.index % 97 != 3), clicks=df["clicks"].astype(float))
    ddf = dd.from_pandas(bad, npartitions=3)
    with pytest.raises(ci.DataError, match=r"`covariates` column 'pre' has 5 missing or infinite value\(s\)"):
        ex.analyze(ddf, metrics=["revenue"], covariates="pre")
    with pytest.raises(ci.DataError, match=r"`covariates` column 'pre' has 5 missing or infinite value\(s\)"):
        ex.analyze(bad, metrics=["revenue"], covariates="pre")
    with pytest.raises(ci.DataError, match=r"proportion metric 'clicks': column 'clicks' has \d+ value\(s\) other than 0 and 1"):
        ex.analyze(ddf, metrics=[ex.proportion("clicks")])
    with pytest.raises(ci.RoleError, match=r"`metrics` names column 'revenu'.*did you mean 'revenue'"):
        ex.analyze(ddf, metrics=["revenu"])
    with pytest.raises(ci.ArgumentError, match=r"`control` 'ctl' is not a level"):
        ex.analyze(ddf, control="ctl", metrics=["revenue"])
    with pytest.raises(ci.DataError, match=r"`variant` column 'variant' has 2 missing"):
        ex.analyze(dd.from_pandas(df.assign(variant=df["variant"].where(~df.index.isin([4, 300]))), npartitions=2), metrics=["revenue"])


def _clustered(n: int = 2400, seed: int = 9) -> pd.DataFrame:
    """Rows finer than the randomised user, in random order, so that a user's rows sit in several partitions."""
    rng = np.random.default_rng(seed)
    users = 400
    arm = np.array(["control", "b", "c"])[rng.integers(0, 3, users)]
    user = rng.integers(0, users, n)
    df = _frame(n, seed).drop(columns="variant")
    df.insert(0, "variant", arm[user])
    df.insert(0, "user", user)
    df["country"] = np.array(["de", "fr", "it", "lu"])[rng.integers(0, 4, n)]
    return df


UNIT_METRICS = [ex.mean("revenue"), ex.ratio("clicks", "sessions", name="ctr"), ex.proportion("converted")]


def test_dask_units_spanning_partitions_equal_pandas(client):
    ddf, rows = _uneven(_clustered())
    spread = pd.concat([p[["user"]].drop_duplicates() for p in client.compute(ddf.to_delayed(), sync=True)])
    assert (spread["user"].value_counts() > 1).sum() >= 30  # many users have rows in two or more partitions
    kw = dict(metrics=UNIT_METRICS, unit="user", lift="absolute", sequential="mixture")
    _assert_same(ex.analyze(rows, **kw), ex.analyze(ddf, **kw))
    _assert_same(
        ex.analyze(rows, unit="user", metrics=UNIT_METRICS),
        ex.analyze(dd.from_pandas(rows, npartitions=6), unit="user", metrics=UNIT_METRICS),
    )


def test_dask_post_stratification_and_quantiles_equal_pandas(client):
    df = _clustered(seed=4).drop(columns="user")
    ddf, rows = _uneven(df)
    metrics = [
        ex.mean("revenue"),
        ex.proportion("converted"),
        ex.mean("revenue", name="cuped", covariates="pre"),
        ex.quantile("revenue"),
        ex.quantile("revenue", 0.9),
        ex.quantile("sessions", 0.25),
    ]
    expected = ex.analyze(rows.reset_index(drop=True), metrics=metrics, strata="country", lift="absolute")
    got = ex.analyze(ddf, metrics=metrics, strata="country", lift="absolute")
    assert "post-stratified on 'country' (4 strata)" in got[1].method
    assert "order-statistic band" in got[7].method
    _assert_same(expected, got)
    for a, b in zip(list(expected)[7:], list(got)[7:], strict=True):  # the quantile arms: the same order statistics
        assert (a.estimate, a.ci_low, a.ci_high) == (b.estimate, b.ci_low, b.ci_high)


def test_dask_design_refusals_match_pandas():
    df = _clustered(600)
    ddf = dd.from_pandas(df, npartitions=3)
    mixed = df.assign(variant=np.where(np.arange(len(df)) == 5, "b" if df["variant"].iloc[5] != "b" else "c", df["variant"]))
    with pytest.raises(ci.DataError, match=r"1 unit\(s\) of `unit` column 'user' appear in more than one variant"):
        ex.analyze(mixed, metrics=["revenue"], unit="user")
    with pytest.raises(ci.DataError, match=r"1 unit\(s\) of `unit` column 'user' appear in more than one variant"):
        ex.analyze(dd.from_pandas(mixed, npartitions=3), metrics=["revenue"], unit="user")
    holes = df.assign(user=df["user"].where(df.index % 100 != 7), country=df["country"].where(df.index % 150 != 8))
    with pytest.raises(ci.DataError, match=r"`unit` column 'user' has 6 missing"):
        ex.analyze(dd.from_pandas(holes, npartitions=3), metrics=["revenue"], unit="user")
    with pytest.raises(ci.DataError, match=r"`strata` column 'country' has 4 missing"):
        ex.analyze(dd.from_pandas(holes, npartitions=3), metrics=["revenue"], strata="country")
    with pytest.raises(ci.DataError, match=r"`strata` column 'country' has 4 missing"):
        ex.analyze(holes, metrics=["revenue"], strata="country")
    for kw, what in (
        (dict(metrics=[ex.quantile("revenue")], unit="user"), r"quantile metric 'revenue p50' with `unit`"),
        (dict(metrics=["revenue"], covariates="pre", unit="user"), r"`covariates` with `unit`"),
        (dict(metrics=["revenue"], unit="user", strata="country"), r"`strata` with `unit`"),
    ):
        with pytest.raises(ci.ArgumentError, match=what):
            ex.analyze(ddf, **kw)
        with pytest.raises(ci.ArgumentError, match=what):
            ex.analyze(df, **kw)
    with pytest.raises(ci.RoleError, match=r"`unit` names column 'usr'"):
        ex.analyze(ddf, metrics=["revenue"], unit="usr")
    bad = df.assign(revenue=df["revenue"].where(df.index != 9, np.inf))
    with pytest.raises(ci.DataError, match=r"`metrics` column 'revenue' has 1 missing or infinite"):
        ex.analyze(dd.from_pandas(bad, npartitions=2), metrics=[ex.quantile("revenue")])
    small = df[
        (df["variant"] != "b") | (df["country"] != "lu") | (df.index == df[(df["variant"] == "b") & (df["country"] == "lu")].index[0])
    ]
    with pytest.raises(ci.DataError, match=r"stratum\(s\) \['lu'\] have fewer than 2 units in variant 'b'"):
        ex.analyze(dd.from_pandas(small, npartitions=2), metrics=["revenue"], strata="country")


@pytest.mark.parametrize("seed", range(4))
def test_order_statistics_bracket_holds_every_rank(monkeypatch, seed):
    """With a handful of samples per partition (wide brackets), every rank's value equals np.sort's, ties included."""
    from causalinfer.experiments import _dask

    monkeypatch.setattr(_dask, "_SAMPLES", 3)
    rng = np.random.default_rng(seed)
    n = 157
    df = pd.DataFrame({"variant": rng.choice(["control", "b"], n), "x": rng.integers(-4, 5, n) * (1.0 if seed % 2 else 0.37)})
    plan = _dask._Plan(df.iloc[:0], "variant", [ex.quantile("x")], None, None)
    cuts = np.sort(rng.choice(np.arange(1, n), 5, replace=False))
    pieces = np.split(np.arange(n), cuts)
    samples = [_dask._local_samples(df.iloc[idx], plan) for idx in pieces]
    for lv in ("control", "b"):
        ordered = np.sort(df.loc[df["variant"] == lv, "x"].to_numpy())
        parts = [sm[("x", lv)] for sm in samples if ("x", lv) in sm]
        for r in range(ordered.size):
            lo, hi = _dask._bracket(parts, r)
            below, inside = np.count_nonzero(ordered <= lo), ordered[(ordered > lo) & (ordered <= hi)]
            assert below <= r < below + inside.size
            assert np.sort(inside)[r - below] == ordered[r]
