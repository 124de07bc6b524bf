"""Shared fixtures."""

from __future__ import annotations

import matplotlib
import pytest
from reference_data import REFERENCE, load_reference

matplotlib.use("Agg")

__all__ = ["REFERENCE", "load_reference"]


@pytest.fixture
def reference():
    return load_reference
