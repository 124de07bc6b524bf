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
    for kw, what in ((dict(unit="sessions"), "`unit` with a dask"), (dict(strata="sessions"), "`strata` with a dask")):
        with pytest.raises(ci.ArgumentError, match=what):
            ex.analyze(ddf, metrics=["revenue"], **kw)
    with pytest.raises(ci.ArgumentError, match=r"quantile metric 'revenue p50' needs the rows in one order"):
        ex.analyze(ddf, metrics=[ex.quantile("revenue")])
