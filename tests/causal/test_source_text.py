"""Source files hold printable text: no tab, backspace or other control bytes (they break rendered maths)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import causalinfer

ROOT = Path(causalinfer.__file__).resolve().parent.parent
CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]")  # everything below space except the newline
SOURCES = sorted(
    p for folder in ("causalinfer", "tests", "benchmarks") for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts
)


def test_sources_found():
    assert len(SOURCES) > 50


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_control_bytes(path):
    text = path.read_bytes()
    bad = CONTROL.search(text)
    if bad:
        line = text[: bad.start()].count(b"\n") + 1
        pytest.fail(f"{path.relative_to(ROOT)} line {line} has the control byte {bad.group()!r}; write escapes in raw strings (r'\\theta')")


def _modules():
    for info in pkgutil.walk_packages(causalinfer.__path__, "causalinfer."):
        if info.name.endswith("__main__"):
            continue
        try:
            yield importlib.import_module(info.name)
        except ImportError:  # an optional extra that is not installed
            continue


def test_docstrings_have_no_control_characters():
    """A docstring that is not raw turns "\\theta" into a tab and "\\beta" into a backspace at run time."""
    bad = []
    for mod in _modules():
        for name, obj in [(mod.__name__, mod), *vars(mod).items()]:
            doc = getattr(obj, "__doc__", None)
            if isinstance(doc, str) and re.search(r"[\x00-\x09\x0b-\x1f\x7f]", doc):
                bad.append(f"{mod.__name__}.{name}")
    assert not bad, f"docstrings with control characters (make them raw strings): {sorted(set(bad))}"
