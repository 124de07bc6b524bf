"""Causal tests run their many small linear-algebra calls single-threaded (much faster on a shared machine)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield
