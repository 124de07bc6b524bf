"""Shared fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

REFERENCE = Path(__file__).parent / "reference"


def load_reference(name: str) -> dict:
    """Values written by ``tests/reference/<name>.R`` into ``<name>.json``."""
    with open(REFERENCE / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture
def reference():
    return load_reference
