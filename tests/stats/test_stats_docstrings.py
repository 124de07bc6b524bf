"""The Examples sections of the estimate, proportion, table and correlation modules run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["_estimates", "_proportions", "_tables", "_correlation"]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    module = importlib.import_module(f"causalinfer.stats.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
