"""The input contract of a model: column names, dtypes and categories, checked and applied chunk by chunk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._errors import SchemaError

__all__ = ["ChunkReport", "ColumnSpec", "InputSchema"]

_KINDS = ("float", "int", "bool", "category", "string", "datetime", "any")


def _kind_of(dtype: Any) -> str:
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "string"
    return "any"


@dataclass(frozen=True)
class ColumnSpec:
    """One input column: its name, the dtype the model was trained on, and (for categorical data) the levels seen."""

    name: str
    dtype: str
    kind: str
    categories: tuple[Any, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        cats = None if self.categories is None else [c.item() if isinstance(c, np.generic) else c for c in self.categories]
        return {"name": self.name, "dtype": self.dtype, "kind": self.kind, "categories": cats}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnSpec:
        cats = d.get("categories")
        return cls(name=str(d["name"]), dtype=str(d["dtype"]), kind=str(d["kind"]), categories=None if cats is None else tuple(cats))


@dataclass
class ChunkReport:
    """What the contract did to one chunk: columns dropped, values cast, missing values and unseen categories."""

    n_rows: int
    dropped: tuple[str, ...] = ()
    cast: dict[str, str] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    unseen: dict[str, dict[Any, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class InputSchema:
    """The columns a model expects, in order.

    Built from the training data with :meth:`from_frame` (names, dtypes, categories of categorical and string
    columns) or from a fitted estimator's ``feature_names_in_`` (names only; any dtype is accepted).
    """

    columns: tuple[ColumnSpec, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, max_categories: int = 10_000) -> InputSchema:
        """The schema of ``frame``; string columns with at most ``max_categories`` levels record their levels."""
        specs = []
        for name in frame.columns:
            s = frame[name]
            kind = _kind_of(s.dtype)
            cats: tuple[Any, ...] | None = None
            if kind == "category":
                cats = tuple(s.cat.categories.tolist())
            elif kind == "string":
                levels = pd.unique(s.dropna())
                if len(levels) <= max_categories:
                    cats = tuple(sorted(str(v) for v in levels))
            specs.append(ColumnSpec(name=str(name), dtype=str(s.dtype), kind=kind, categories=cats))
        return cls(tuple(specs))

    @classmethod
    def from_names(cls, names: Any) -> InputSchema:
        return cls(tuple(ColumnSpec(name=str(n), dtype="any", kind="any") for n in names))

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [c.to_dict() for c in self.columns]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> InputSchema:
        return cls(tuple(ColumnSpec.from_dict(c) for c in d["columns"]))

    # ------------------------------------------------------------------ applying the contract
    def conform(self, chunk: pd.DataFrame, *, where: str = "input") -> tuple[pd.DataFrame, ChunkReport]:
        """Check ``chunk`` against the schema and return the model-ready frame (a new object) and a report.

        Missing columns raise :class:`SchemaError` naming them; extra columns are dropped (and reported);
        values are cast to the training dtype only when no information is lost; pandas nullable dtypes are
        converted, with missing values becoming NaN in numeric columns; values of categorical or string columns
        not seen in training are counted.
        """
        names = self.names
        present = set(map(str, chunk.columns))
        missing_cols = [n for n in names if n not in present]
        if missing_cols:
            raise SchemaError(
                f"{where} lacks column(s) {missing_cols} that the model needs; the model expects {list(names)}; "
                "rename or add them before scoring"
            )
        report = ChunkReport(n_rows=len(chunk), dropped=tuple(str(c) for c in chunk.columns if str(c) not in set(names)))
        out: dict[str, Any] = {}
        for spec in self.columns:
            out[spec.name] = self._conform_column(chunk[spec.name], spec, report, where)
        return pd.DataFrame(out, index=pd.RangeIndex(len(chunk))), report

    @staticmethod
    def _conform_column(s: pd.Series, spec: ColumnSpec, report: ChunkReport, where: str) -> Any:
        have = _kind_of(s.dtype)
        n_na = int(s.isna().sum())
        if n_na:
            report.missing[spec.name] = n_na
        want = spec.kind

        def refuse(reason: str) -> SchemaError:
            return SchemaError(
                f"column {spec.name!r} of the {where} has dtype {s.dtype}, but the model was trained on {spec.dtype}; "
                f"{reason}. Convert the column before scoring"
            )

        if want == "any":
            return s.to_numpy() if not isinstance(s.dtype, pd.CategoricalDtype) else s.array
        if want in ("float", "int", "bool"):
            if have not in ("float", "int", "bool"):
                raise refuse("only numeric or boolean values can be cast to a numeric column")
            if want == "float":
                if have != "float" or str(s.dtype) != spec.dtype:
                    report.cast[spec.name] = f"{s.dtype} -> {spec.dtype}"
                target = np.dtype(spec.dtype) if spec.dtype in ("float32", "float64") else np.dtype("float64")
                return s.to_numpy(dtype=target, na_value=np.nan)
            if want == "int":
                if have == "float":
                    vals = s.to_numpy(dtype="float64", na_value=np.nan)
                    finite = vals[~np.isnan(vals)]
                    if finite.size and not np.all(finite == np.round(finite)):
                        raise refuse("it holds non-integer values, and rounding would change them")
                if n_na or have == "float":
                    report.cast[spec.name] = f"{s.dtype} -> float64"
                    return s.to_numpy(dtype="float64", na_value=np.nan)
                if str(s.dtype) != spec.dtype:
                    report.cast[spec.name] = f"{s.dtype} -> int64"
                return s.to_numpy(dtype="int64")
            # bool
            if have != "bool":
                vals = s.to_numpy(dtype="float64", na_value=np.nan)
                finite = vals[~np.isnan(vals)]
                if not np.isin(finite, (0.0, 1.0)).all():
                    raise refuse("only 0/1 values can be cast to a boolean column")
            if n_na or have != "bool":
                report.cast[spec.name] = f"{s.dtype} -> float64"
                return s.to_numpy(dtype="float64", na_value=np.nan)
            return s.to_numpy(dtype=bool)
        if want in ("category", "string"):
            if have not in ("category", "string"):
                raise refuse("a categorical column takes strings or categories, not numbers")
            known = spec.categories
            values = s.astype(object).where(s.notna(), None) if have == "category" else s
            if known is not None:
                seen = pd.Series(values).dropna()
                unseen_mask = ~seen.isin(known)
                if unseen_mask.any():
                    report.unseen[spec.name] = {k: int(v) for k, v in seen[unseen_mask].value_counts().items()}
            if want == "category":
                cats = list(known or ())
                extra = sorted(set(report.unseen.get(spec.name, {})) - set(cats), key=str)
                return pd.Categorical(values, categories=cats + extra)
            return s.to_numpy(dtype=object, na_value=np.nan) if have == "string" else np.asarray(values.to_numpy(), dtype=object)
        if want == "datetime":
            if have != "datetime":
                raise refuse("only datetime values can be used for a datetime column")
            return s.to_numpy()
        raise refuse(f"unknown column kind {want!r}")
