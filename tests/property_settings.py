"""How many examples a property test draws.

CI runs derandomised (profile "ci", registered in conftest.py): the same examples on every machine and every run.
``HYPOTHESIS_PROFILE=long`` turns on a randomised search with ``LONG_FACTOR`` times as many examples per test.
"""

from __future__ import annotations

import os

from hypothesis import settings

LONG_FACTOR = 50


def examples(n: int, **kwargs) -> settings:
    """``@settings`` for a property test that draws ``n`` examples in CI (more in the opt-in long run)."""
    factor = LONG_FACTOR if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 1
    return settings(max_examples=n * factor, deadline=None, **kwargs)
