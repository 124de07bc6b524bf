"""stats.glm computed inside an engine (DuckDB on Parquet, PostgreSQL, dask): the in-memory numbers, family by family.

The frame and its uneven split are those of ``test_scale_regression`` (files of 250, 1,150 and 1,600 rows, a level in
the middle file only, a covariate far from zero), with outcomes for the positive families added.
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
from causalinfer.exceptions import ArgumentError, DataError

pytest.importorskip("duckdb", reason="the in-engine path needs the optional dependency duckdb (extra 'duckdb')")

_spec = importlib.util.spec_from_file_location("_scale_regression_cases", Path(__file__).parent / "test_scale_regression.py")
assert _spec is not None and _spec.loader is not None
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)
_assert_same, SPLITS, postgres = _cases._assert_same, _cases.SPLITS, _cases.postgres

CASES = {
    "gaussian identity": ("gaussian", "identity", "y ~ x1 + x2 * C(g)", {}),
    "binomial proportions weighted": ("binomial", "logit", "prop ~ x1 + x2 + flag", {"weights": "trials"}),
    "poisson identity HC0": ("poisson", "identity", "c ~ x2", {"cov_type": "HC0"}),
    "gamma inverse": ("gamma", "inverse", "pos ~ x1 + x2", {}),
    "gamma log cluster weighted": ("gamma", "log", "pos ~ x1 + x2 + g", {"cov_type": "cluster", "cluster": "cl", "weights": "w"}),
    "inverse gaussian 1/mu^2": ("inverse_gaussian", "inverse_squared", "ig ~ x2", {}),
    "inverse gaussian log HC1": ("inverse_gaussian", "log", "ig ~ x1 + C(h)", {"cov_type": "HC1"}),
}


def _frame() -> pd.DataFrame:
    df = _cases._frame()
    rng = np.random.default_rng(5)
    lin = 0.3 * (df["x1"] - 40.0) + 0.2 * df["x2"]
    df["pos"] = rng.gamma(4.0, np.exp(0.5 + 0.3 * lin) / 4.0)
    df["ig"] = np.exp(0.2 + 0.1 * lin) * rng.wald(1.0, 4.0, len(df))
    df["trials"] = rng.integers(1, 8, len(df)).astype(float)
    df["prop"] = rng.binomial(df["trials"].astype(int), 1 / (1 + np.exp(-lin))) / df["trials"]
    return df


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _frame()


@pytest.fixture(scope="module")
def folder(tmp_path_factory, frame) -> Path:
    path = tmp_path_factory.mktemp("scale_glm")
    for i, (lo, hi) in enumerate(itertools.pairwise(SPLITS)):
        frame.iloc[lo:hi].to_parquet(path / f"part-{i}.parquet", index=False)
    return path


def _fit(case: str, data, **extra):
    fam, link, formula, kw = CASES[case]
    return ci.stats.glm(formula, data=data, family=fam, link=link, **kw, **extra)


@pytest.mark.parametrize("case", list(CASES))
def test_glm_on_parquet_equals_frame(case, frame, folder):
    got = _fit(case, ParquetSource(folder))
    _assert_same(got, _fit(case, frame))
    assert "computed inside the engine" in got.method


def test_glm_polished_from_a_small_sample_equals_frame(frame, folder, monkeypatch):
    from causalinfer.stats import _scale

    monkeypatch.setattr(_scale, "_START_ROWS", 400)  # several Fisher-scoring passes over the whole table
    got = _fit("gamma log cluster weighted", ParquetSource(folder))
    _assert_same(got, _fit("gamma log cluster weighted", frame))
    assert got.fit["iterations"] >= 3
    check_result(got)


def test_unsupported_families_links_and_offsets_are_refused_saying_why(folder):
    src = ParquetSource(folder)
    with pytest.raises(ArgumentError, match=r"negative_binomial.*theta is estimated"):
        ci.stats.glm("c ~ x1", data=src, family="negative_binomial")
    with pytest.raises(ArgumentError, match=r"tweedie.*not available"):
        ci.stats.glm("pos ~ x1", data=src, family="tweedie", var_power=1.5)
    with pytest.raises(ArgumentError, match=r"link='probit' is not available.*normal distribution"):
        ci.stats.glm("b ~ x1", data=src, family="binomial", link="probit")
    with pytest.raises(ArgumentError, match="`exposure` is not supported"):
        ci.stats.glm("c ~ x1", data=src, family="poisson", exposure="w")
    with pytest.raises(DataError, match=r"of a Gamma GLM must be positive; .* row.s. are zero or negative"):
        ci.stats.glm("y ~ x1", data=src, family="gamma")
    with pytest.raises(DataError, match="must lie in \\[0, 1\\]"):
        ci.stats.glm("c ~ x1", data=src, family="binomial")


def test_glm_on_postgresql_equals_frame(postgres, frame):
    engine = sa.create_engine(postgres.url)
    frame.to_sql("scale_glm_rows", engine, index=False, if_exists="replace")
    for case in ("gamma log cluster weighted", "binomial proportions weighted"):
        _assert_same(_fit(case, SQLTable(engine, "scale_glm_rows")), _fit(case, frame))
    engine.dispose()


def test_glm_on_dask_with_uneven_partitions_equals_frame(frame):
    dd = pytest.importorskip("dask.dataframe", reason="dask is needed for dask DataFrames (extra 'dask')")
    ddf = dd.concat([dd.from_pandas(frame.iloc[lo:hi], npartitions=1) for lo, hi in itertools.pairwise(SPLITS)])
    assert ddf.npartitions == 3  # the distributed scheduler runs the same partition functions (test_scale_regression)
    for case in ("poisson identity HC0", "binomial proportions weighted"):
        _assert_same(_fit(case, ddf), _fit(case, frame))
