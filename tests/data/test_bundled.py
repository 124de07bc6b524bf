"""Bundled data sets: cards, roles, published results, regeneration, and loading from an installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci

ROOT = Path(__file__).resolve().parents[2]


def test_list_and_cards():
    names = ci.list_datasets()
    assert {"lalonde", "lalonde_cps", "nhefs"} <= set(names)
    for name in names:
        card = ci.data_card(name)
        frame = ci.load_dataset(name, frame_only=True)
        assert len(frame) == card.rows
        assert set(card.columns) == set(frame.columns), f"{name}: data card must describe every column"
        assert card.source and card.licence
        assert card.known_results, f"{name}: a data card states results a user can reproduce"
        ds = ci.load_dataset(name)
        assert ds.outcome == card.roles["outcome"]
        assert ds.name == name
        assert str(card).startswith(card.title)


def test_unknown_dataset():
    with pytest.raises(ci.ArgumentError, match=r"`name` must be one of .*'lalonde'.*; got 'lalond'; did you mean 'lalonde'\?"):
        ci.load_dataset("lalond")


def test_lalonde_experimental_difference():
    ds = ci.load_dataset("lalonde")
    means = ds.frame.groupby(ds.treatment)[ds.outcome].mean()
    assert round(means[1] - means[0], 2) == 1794.34
    assert round(means[1], 2) == 6349.14
    assert round(means[0], 2) == 4554.80
    assert ds.frame[ds.treatment].value_counts().to_dict() == {0: 260, 1: 185}


def test_lalonde_cps_naive_difference():
    ds = ci.load_dataset("lalonde_cps")
    means = ds.frame.groupby(ds.treatment)[ds.outcome].mean()
    assert round(means[1] - means[0], 2) == -8497.52
    assert round(means[0], 2) == 14846.66


def test_nhefs_crude_difference():
    ds = ci.load_dataset("nhefs")
    assert ds.n == 1566
    means = ds.frame.groupby("qsmk")["wt82_71"].mean()
    assert round(means[1] - means[0], 2) == 2.54


def test_known_results_in_cards_match_data():
    for name in ("lalonde", "lalonde_cps"):
        card = ci.data_card(name)
        ds = ci.load_dataset(name)
        means = ds.frame.groupby(ds.treatment)[ds.outcome].mean()
        assert round(means[1] - means[0], card.known_results[0]["digits"]) == card.known_results[0]["value"]


def test_role_overrides_and_frame_copy():
    ds = ci.load_dataset("nhefs", covariates=["sex", "age"])
    assert ds.covariates == ("sex", "age")
    f1 = ci.load_dataset("lalonde", frame_only=True)
    f1["re78"] = 0.0
    assert ci.load_dataset("lalonde", frame_only=True)["re78"].sum() > 0


def test_csvs_regenerate_from_source_package():
    pytest.importorskip("causaldata")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_datasets
    finally:
        sys.path.pop(0)
    for name, make in {"lalonde": make_datasets.lalonde, "lalonde_cps": make_datasets.lalonde_cps, "nhefs": make_datasets.nhefs}.items():
        fresh = make()
        committed = pd.read_csv(ROOT / "datasets" / f"{name}.csv")
        assert list(fresh.columns) == list(committed.columns)
        for col in fresh.columns:
            if pd.api.types.is_numeric_dtype(fresh[col]):
                np.testing.assert_array_equal(fresh[col].to_numpy(float), committed[col].to_numpy(float), err_msg=f"{name}.{col}")
            else:
                assert fresh[col].astype(str).tolist() == committed[col].astype(str).tolist()


def test_datasets_load_from_an_installed_wheel(tmp_path):
    """Build a wheel, install it (no deps) into a scratch folder, and load data from there, not from the repo."""
    wheel_dir = tmp_path / "wheel"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheel_dir), str(ROOT)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = wheel_dir.glob("causalinfer-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("lalonde", "lalonde_cps", "nhefs"):
        assert f"causalinfer/_datasets/{name}.csv" in names
        assert f"causalinfer/_datasets/{name}.md" in names
    assert "causalinfer/py.typed" in names
    target = tmp_path / "site"
    inst = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], capture_output=True, text=True
    )
    assert inst.returncode == 0, inst.stderr
    code = (
        "import causalinfer, causalinfer.data._bundled as b;"
        "ds = causalinfer.load_dataset('lalonde');"
        "m = ds.frame.groupby('treat')['re78'].mean();"
        "print(causalinfer.__file__); print(b._data_dir()); print(round(m[1] - m[0], 2))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    pkg_file, data_dir, diff = run.stdout.split()
    assert pkg_file.startswith(str(target))
    assert data_dir.startswith(str(target))
    assert diff == "1794.34"
