"""The data sets added for the design estimators regenerate from their source package and carry complete cards."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalinfer as ci

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("close_college", "castle", "close_elections_lmb")


@pytest.mark.parametrize("name", NAMES)
def test_card_describes_data(name):
    card = ci.data_card(name)
    frame = ci.load_dataset(name, frame_only=True)
    assert len(frame) == card.rows
    assert set(card.columns) == set(frame.columns)
    assert card.known_results
    ds = ci.load_dataset(name)
    for role, value in card.roles.items():
        got = getattr(ds, role)
        assert got == (tuple(value) if isinstance(value, list) else value)


@pytest.mark.parametrize("name", NAMES)
def test_csv_regenerates(name):
    pytest.importorskip("causaldata")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_datasets
    finally:
        sys.path.pop(0)
    fresh = make_datasets.DATASETS[name]()
    committed = pd.read_csv(ROOT / "datasets" / f"{name}.csv")
    assert list(fresh.columns) == list(committed.columns)
    for col in fresh.columns:
        if pd.api.types.is_numeric_dtype(fresh[col]):
            np.testing.assert_array_equal(fresh[col].to_numpy(float), committed[col].to_numpy(float), err_msg=f"{name}.{col}")
        else:
            assert fresh[col].astype(str).tolist() == committed[col].astype(str).tolist()
