"""Shared fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

# Tests import their small helpers (reference_data) from this folder; with importlib mode it is not on sys.path.
sys.path.insert(0, str(Path(__file__).parent))

import os

import matplotlib
import pytest
from hypothesis import HealthCheck, settings
from reference_data import REFERENCE, load_reference

matplotlib.use("Agg")

# Property tests are derandomised by default so that every run (and every clean clone) draws the same examples.
# A long randomised search is opt-in: HYPOTHESIS_PROFILE=long python -m pytest tests -k properties
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("long", derandomize=False, max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

__all__ = ["REFERENCE", "load_reference"]


@pytest.fixture
def reference():
    return load_reference


# Reference scripts run against R or peer packages that CI does not install; their outputs are committed as JSON.
collect_ignore_glob = ["reference/*.py"]


_FIRST = ("tests/test_docs.py", "tests/test_notebooks.py")  # the longest tests: started first, they overlap the rest


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: 0 if item.nodeid.startswith(_FIRST) else 1)  # stable: the order is otherwise kept
