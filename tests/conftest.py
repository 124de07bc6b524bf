"""Shared fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

# Tests import their small helpers (reference_data) from this folder; with importlib mode it is not on sys.path.
sys.path.insert(0, str(Path(__file__).parent))

import matplotlib
import pytest
from reference_data import REFERENCE, load_reference

matplotlib.use("Agg")

__all__ = ["REFERENCE", "load_reference"]


@pytest.fixture
def reference():
    return load_reference
