"""Shared fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

# Tests import their small helpers (reference_data) from this folder; with importlib mode it is not on sys.path.
sys.path.insert(0, str(Path(__file__).parent))

import matplotlib  # noqa: E402
import pytest  # noqa: E402
from reference_data import REFERENCE, load_reference  # noqa: E402

matplotlib.use("Agg")

__all__ = ["REFERENCE", "load_reference"]


@pytest.fixture
def reference():
    return load_reference
