"""Contract checks shared by the test suite: every result renders, round-trips and keeps its columns fixed.

These are plain functions raising ``AssertionError`` so they can be used from any test.
"""

from __future__ import annotations

import html.parser
import json
import math
from collections.abc import Callable
from typing import Any, ClassVar

import pandas as pd

from .results import ESTIMATE_COLUMNS, RESULTSET_COLUMNS, Result, ResultSet, TableResult


class _HTMLCheck(html.parser.HTMLParser):
    """Tracks open tags so unbalanced HTML fails the check."""

    VOID: ClassVar[set[str]] = {"br", "hr", "img", "meta", "input", "link", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced HTML: </{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check_html(markup: str) -> str:
    """Parse ``markup``; fail on unbalanced tags or external resources. Returns the visible text."""
    assert "<script" not in markup.lower(), "result HTML must not contain scripts"
    assert "http://" not in markup and "https://" not in markup, "result HTML must not load external resources"
    parser = _HTMLCheck()
    parser.feed(markup)
    parser.close()
    assert not parser.stack, f"unclosed HTML tags: {parser.stack}"
    return "".join(parser.text)


def check_result(result: Result | ResultSet) -> None:
    """Assert the shared Result contract: text, repr, HTML, fixed to_frame columns, JSON round trip."""
    text = str(result)
    assert isinstance(text, str) and text.strip(), "str(result) must be a non-empty summary"
    r = repr(result)
    assert "\n" not in r, "repr must be one line"
    assert " at 0x" not in r, "repr must be deterministic (no object ids)"
    visible = check_html(result._repr_html_())
    if isinstance(result, ResultSet):
        assert list(result.to_frame().columns) == list(RESULTSET_COLUMNS)
        rebuilt: Any = ResultSet.from_json(result.to_json())
    else:
        assert result.method and result.method.split()[0] in visible, "HTML must show the method"
        frame = result.to_frame()
        if isinstance(result, TableResult):
            pd.testing.assert_frame_equal(frame, result.table)
        else:
            assert list(frame.columns) == list(ESTIMATE_COLUMNS), f"to_frame columns changed: {list(frame.columns)}"
            assert len(frame) >= 1
            for part in ("effect_sizes", "diagnostics"):
                result.to_frame(part)
        rebuilt = Result.from_json(result.to_json())
        assert type(rebuilt) is type(result)
        if result.estimate is not None and result.ci is not None and not math.isnan(result.estimate):
            lo, hi = result.ci
            assert lo <= result.estimate <= hi, f"estimate {result.estimate} outside its CI [{lo}, {hi}]"
        if result.pvalue is not None and not math.isnan(result.pvalue):
            assert 0.0 <= result.pvalue <= 1.0, f"p-value {result.pvalue} outside [0, 1]"
    json.loads(result.to_json())  # strict JSON
    assert rebuilt == result, "JSON round trip changed the result"
    assert repr(rebuilt) == r


def check_nested_intervals(func: Callable[..., Result], *args: Any, **kwargs: Any) -> None:
    """A 90% interval lies inside the 95% interval computed by the same call."""
    r90 = func(*args, conf_level=0.90, **kwargs)
    r95 = func(*args, conf_level=0.95, **kwargs)
    assert r90.ci is not None and r95.ci is not None
    tol = 1e-12 * max(1.0, abs(r95.ci[0]) if math.isfinite(r95.ci[0]) else 1.0, abs(r95.ci[1]) if math.isfinite(r95.ci[1]) else 1.0)
    assert r95.ci[0] <= r90.ci[0] + tol and r90.ci[1] <= r95.ci[1] + tol, f"90% CI {r90.ci} not inside 95% CI {r95.ci}"


def check_unchanged(frame: pd.DataFrame, call: Callable[[pd.DataFrame], Any]) -> Any:
    """Run ``call(frame)`` and assert ``frame`` is bit-for-bit unchanged (values, dtypes, columns, index)."""
    before = frame.copy(deep=True)
    out = call(frame)
    pd.testing.assert_frame_equal(frame, before, check_exact=True)
    assert list(frame.columns) == list(before.columns)
    assert frame.index.equals(before.index)
    return out
