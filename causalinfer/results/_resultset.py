"""ResultSet: several results side by side (method comparisons, families of tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from .._frames import from_pandas
from ..exceptions import ArgumentError, ArgumentTypeError
from ._result import ESTIMATE_COLUMNS, Result

#: Columns of ``ResultSet.to_frame()``.
RESULTSET_COLUMNS: tuple[str, ...] = ("label", *ESTIMATE_COLUMNS, "pvalue_adjusted")


class ResultSet(Sequence[Result]):
    """An immutable, ordered collection of results, each with a unique label.

    Parameters
    ----------
    results : sequence of Result
    labels : sequence of str, optional
        One label per result; defaults to each result's ``label`` or ``method``, made unique.
    title : str
        Heading shown in the text and HTML displays.
    pvalues_adjusted : sequence of float, optional
        Multiplicity-adjusted p-values, one per result (``NaN`` where a result has no p-value).
    adjust_method : str, optional
        Name of the adjustment, e.g. ``"holm"``; required with ``pvalues_adjusted``.
    """

    __slots__ = ("_adjust_method", "_labels", "_padj", "_results", "_title")

    def __init__(
        self,
        results: Sequence[Result],
        *,
        labels: Sequence[str] | None = None,
        title: str = "",
        pvalues_adjusted: Sequence[float] | None = None,
        adjust_method: str | None = None,
    ) -> None:
        items = tuple(results)
        for i, r in enumerate(items):
            if not isinstance(r, Result):
                raise ArgumentTypeError(f"`results` must contain Result objects; item {i} is {type(r).__name__}")
        if labels is None:
            labels = _unique([r.label or r.method for r in items])
        labels = tuple(str(s) for s in labels)
        if len(labels) != len(items):
            raise ArgumentError(f"`labels` must have one label per result ({len(items)}); got {len(labels)}")
        if len(set(labels)) != len(labels):
            raise ArgumentError(f"`labels` must be unique; got {list(labels)}")
        padj: tuple[float, ...] | None = None
        if pvalues_adjusted is not None:
            padj = tuple(float(p) for p in pvalues_adjusted)
            if len(padj) != len(items):
                raise ArgumentError(f"`pvalues_adjusted` must have one value per result ({len(items)}); got {len(padj)}")
            if not adjust_method:
                raise ArgumentError("`adjust_method` must name the adjustment when `pvalues_adjusted` is given")
        self._results = items
        self._labels = labels
        self._title = title
        self._padj = padj
        self._adjust_method = adjust_method

    # sequence protocol
    def __len__(self) -> int:
        return len(self._results)

    @overload
    def __getitem__(self, key: int) -> Result: ...
    @overload
    def __getitem__(self, key: str) -> Result: ...
    @overload
    def __getitem__(self, key: slice) -> ResultSet: ...
    def __getitem__(self, key: int | str | slice) -> Result | ResultSet:
        if isinstance(key, str):
            try:
                return self._results[self._labels.index(key)]
            except ValueError:
                raise KeyError(f"no result labelled {key!r}; labels are {list(self._labels)}") from None
        if isinstance(key, slice):
            padj = self._padj[key] if self._padj is not None else None
            return ResultSet(
                self._results[key], labels=self._labels[key], title=self._title, pvalues_adjusted=padj, adjust_method=self._adjust_method
            )
        return self._results[key]

    def __iter__(self) -> Iterator[Result]:
        return iter(self._results)

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    @property
    def title(self) -> str:
        return self._title

    @property
    def adjust_method(self) -> str | None:
        return self._adjust_method

    @property
    def pvalues(self) -> np.ndarray:
        """Unadjusted p-values (NaN where a result has none)."""
        return np.array([np.nan if r.pvalue is None else r.pvalue for r in self._results])

    @property
    def pvalues_adjusted(self) -> np.ndarray | None:
        return None if self._padj is None else np.array(self._padj)

    @overload
    def to_frame(self, *, backend: Literal["pandas"] = ...) -> pd.DataFrame: ...
    @overload
    def to_frame(self, *, backend: str) -> Any: ...
    def to_frame(self, *, backend: str = "pandas") -> Any:
        """All results stacked, one row per term, with columns :data:`RESULTSET_COLUMNS`.

        ``backend`` ("pandas", "polars" or "pyarrow") is the kind of table returned.
        """
        return from_pandas(self._stacked(), backend)

    def _stacked(self) -> pd.DataFrame:
        frames = []
        for i, (label, r) in enumerate(zip(self._labels, self._results, strict=True)):
            f = r.to_frame()
            f.insert(0, "label", label)
            f["pvalue_adjusted"] = np.nan if self._padj is None else self._padj[i]
            frames.append(f)
        if not frames:
            return pd.DataFrame(
                {
                    c: pd.Series(dtype="float64" if c not in ("label", "term", "alternative", "method", "estimand") else "object")
                    for c in RESULTSET_COLUMNS
                }
            )
        return pd.concat(frames, ignore_index=True)[list(RESULTSET_COLUMNS)]

    def summary(self) -> str:
        from ._format import render_set_text

        return render_set_text(self)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from ._format import render_set_html

        return render_set_html(self)

    def __repr__(self) -> str:
        title = f"title={self._title!r}, " if self._title else ""
        adj = f", adjust_method={self._adjust_method!r}" if self._adjust_method else ""
        return f"ResultSet({title}n={len(self)}, labels={list(self._labels)}{adj})"

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Forest plot of every estimate with its confidence interval. Needs matplotlib."""
        from ._format import secondary_term
        from ._plot import forest_plot

        frame = self.to_frame()
        extra = [secondary_term(str(lab), t) for lab, t in zip(frame["label"], frame["term"], strict=True)]
        frame["term"] = [f"{lab}: {x}" if x else str(lab) for lab, x in zip(frame["label"], extra, strict=True)]
        nulls = {r.null_value for r in self._results if r.null_value is not None}
        null = nulls.pop() if len(nulls) == 1 else None
        return forest_plot(frame, ax=ax, title=self._title, null_value=null, **kwargs)

    def to_dict(self) -> dict[str, Any]:
        from ._encode import encode

        return {
            "type": "ResultSet",
            "title": self._title,
            "labels": list(self._labels),
            "results": [r.to_dict() for r in self._results],
            "pvalues_adjusted": None if self._padj is None else [encode(p) for p in self._padj],
            "adjust_method": self._adjust_method,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResultSet:
        from ._encode import decode

        padj = data.get("pvalues_adjusted")
        return cls(
            [Result.from_dict(r) for r in data["results"]],
            labels=data["labels"],
            title=data.get("title", ""),
            pvalues_adjusted=None if padj is None else [decode(p) for p in padj],
            adjust_method=data.get("adjust_method"),
        )

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), allow_nan=False, **kwargs)

    @classmethod
    def from_json(cls, text: str) -> ResultSet:
        """Rebuild a result set from :meth:`to_json` output (a DataError for text that is not one)."""
        from ._encode import from_json_text

        return from_json_text(text, "ResultSet", cls.from_dict)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResultSet):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


def _unique(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n} ({seen[n]})")
        else:
            seen[n] = 1
            out.append(n)
    return out
