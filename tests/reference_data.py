"""Reading the reference values that the R scripts in tests/reference/ wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).parent / "reference"


def load_reference(name: str) -> Any:
    """Values written by ``tests/reference/<name>.R`` into ``<name>.json``."""
    with open(REFERENCE / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)
