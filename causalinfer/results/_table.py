"""TableResult: a result whose substance is one table (a dataset description, a balance table)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, overload

import pandas as pd

from .._frames import from_pandas
from ._result import Result


@dataclass(frozen=True, kw_only=True, eq=False)
class TableResult(Result):
    """A result that is one table.

    ``to_frame()`` returns a copy of ``table`` (full precision; its columns are fixed by the function that
    produced it and documented there). Text and HTML displays show the table under ``method``.
    """

    table: pd.DataFrame

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "table", pd.DataFrame(self.table).copy())

    def _frame_part(self, part: str) -> pd.DataFrame:
        if part == "table":
            return self.table.copy()
        return super()._frame_part(part)

    @overload
    def to_frame(self, part: str = ..., *, backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
    @overload
    def to_frame(self, part: str = ..., *, backend: str) -> Any: ...
    def to_frame(self, part: str = "table", *, backend: str = "pandas") -> Any:
        """The table (``part="table"``, the default) or, as for any result, its diagnostics.

        ``backend`` ("pandas", "polars" or "pyarrow") is the kind of table returned.
        """
        return from_pandas(self._frame_part(part), backend)

    def summary(self) -> str:
        from ._format import render_frame_text

        text = render_frame_text(self.method, self.table, self.estimand)
        if self.diagnostics:
            from ._format import render_text

            diag = render_text(Result(method="", diagnostics=self.diagnostics))
            text += "\n" + diag[diag.index("Diagnostics") :]
        return text

    def _repr_html_(self) -> str:
        from ._format import render_frame_html, render_html

        out = render_frame_html(self.method, self.table, self.estimand)
        if self.diagnostics:
            out += render_html(Result(method="Checks", diagnostics=self.diagnostics))
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(method={self.method!r}, rows={len(self.table)}, columns={list(self.table.columns)})"

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no default plot; use to_frame() and plot the columns you need")
