"""The throwaway PostgreSQL server of the scoring tests, shared with the score-log tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("_predict_fixtures", Path(__file__).parents[1] / "predict" / "conftest.py")
assert _spec is not None and _spec.loader is not None
_predict_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_predict_fixtures)

postgres = _predict_fixtures.postgres
