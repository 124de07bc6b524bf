"""The input contract of a model: column names, dtypes and categories, checked and applied chunk by chunk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import show
from ..exceptions import ArgumentError
from ._errors import SchemaError

__all__ = ["ChunkReport", "ColumnSpec", "InputSchema", "bind_schema", "model_feature_names"]

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

    ``positional`` is True for a model fitted without column names (on an array): such a model reads its
    inputs by position, so the order of ``columns`` is part of the contract. It is set only from an order the
    user stated (``feature_order=``), is stored in the model's sidecar and is reported by every scoring job.
    Otherwise columns are matched by name.
    """

    columns: tuple[ColumnSpec, ...]
    positional: bool = False

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
        return {"columns": [c.to_dict() for c in self.columns], "positional": self.positional}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> InputSchema:
        return cls(tuple(ColumnSpec.from_dict(c) for c in d["columns"]), positional=bool(d.get("positional", False)))

    def reordered(self, names: Sequence[str], *, positional: bool) -> InputSchema:
        """The same column specs in the order ``names`` (which must hold exactly the schema's names)."""
        by_name = {c.name: c for c in self.columns}
        return InputSchema(tuple(by_name[n] for n in names), positional=positional)

    # ------------------------------------------------------------------ applying the contract
    def conform(self, chunk: pd.DataFrame, *, where: str = "input", row_label: Any = None) -> tuple[pd.DataFrame, ChunkReport]:
        """Check ``chunk`` against the schema and return the model-ready frame (a new object) and a report.

        Missing columns raise :class:`SchemaError` naming them; extra columns are dropped (and reported);
        values are cast to the training dtype only when no information is lost; pandas nullable dtypes are
        converted, with missing values becoming NaN in numeric columns; values of categorical or string columns
        not seen in training are counted. ``row_label(i)`` names row ``i`` of the chunk in refusals.
        """
        label = row_label if row_label is not None else (lambda i: f"row {i}")
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
            out[spec.name] = self._conform_column(chunk[spec.name], spec, report, where, label)
        return pd.DataFrame(out, index=pd.RangeIndex(len(chunk))), report

    def model_input(self, X: pd.DataFrame) -> Any:
        """What the model is called with: the frame (columns matched by name), or its values in the stated order."""
        return X.to_numpy() if self.positional else X

    @staticmethod
    def _conform_column(s: pd.Series, spec: ColumnSpec, report: ChunkReport, where: str, label: Any) -> Any:
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
                raise refuse("only numeric or boolean values can be cast to a numeric column" + _first_text(s, label))
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


def _first_text(s: pd.Series, label: Any) -> str:
    """ ", e.g. 'abc' at row 3" for the first value of ``s`` that is not a number (empty when all are)."""
    if not (s.dtype.kind == "O" or pd.api.types.is_string_dtype(s.dtype)):
        return ""
    bad = np.flatnonzero((pd.to_numeric(s, errors="coerce").isna() & s.notna()).to_numpy())
    return f" (it holds {s.iloc[bad[0]]!r} at {label(int(bad[0]))})" if bad.size else ""


# ---------------------------------------------------------------------- binding a schema to a model
def model_feature_names(est: Any) -> list[str] | None:
    """The column names a fitted model was trained on (``feature_names_in_``), or None for a model fitted on an array."""
    try:
        names = getattr(est, "feature_names_in_", None)
    except Exception:  # a property that fails on an unfitted wrapper means "no names"
        names = None
    return None if names is None else [str(n) for n in names]


def model_n_features(est: Any) -> int | None:
    """``n_features_in_`` of a fitted model (None when the model does not say)."""
    try:
        n = getattr(est, "n_features_in_", None)
    except Exception:
        n = None
    return None if n is None else int(n)


def _check_order(feature_order: Any) -> list[str] | None:
    if feature_order is None:
        return None
    if isinstance(feature_order, str) or (not isinstance(feature_order, Sequence) and not hasattr(feature_order, "__array__")):
        raise SchemaError(f"`feature_order` must be a list of column names; got {show(feature_order)}")
    names = [str(n) for n in list(feature_order)]
    dup = sorted({n for n in names if names.count(n) > 1})
    if not names or dup:
        raise SchemaError(f"`feature_order` must name each input column once; got {names!r}" + (f" (repeated: {dup})" if dup else ""))
    return names


def _same_columns(have: Sequence[str], want: Sequence[str], what: str, against: str) -> None:
    missing = [n for n in want if n not in set(have)]
    extra = [n for n in have if n not in set(want)]
    if missing or extra:
        raise SchemaError(
            f"{what} does not match {against}: "
            + "; ".join(p for p in (f"missing {missing}" if missing else "", f"not used by the model {extra}" if extra else "") if p)
            + f". {what} must hold exactly the model's input columns {list(want)}"
        )


def bind_schema(est: Any, schema: InputSchema | None, feature_order: Any = None, *, what: str = "`schema`") -> InputSchema:
    """The input contract of ``est``: columns matched by name, or by a stated position for a model without names.

    A model with ``feature_names_in_`` takes its columns by name: ``schema`` (when given) must hold exactly
    those names and is put in the model's order. A model fitted on an array reads columns by position, so the
    order is stated with ``feature_order`` (checked against ``n_features_in_``) and recorded as positional;
    a schema whose order is only implied (the columns of a DataFrame) is refused, because a different order
    would score silently wrong.
    """
    order = _check_order(feature_order)
    names = model_feature_names(est)
    n_in = model_n_features(est)
    if names is not None:
        if order is not None and order != names:
            raise SchemaError(
                f"`feature_order` {order} differs from the column names the model was fitted on {names}; "
                "the model matches its columns by name, so leave `feature_order` out"
            )
        if schema is None:
            return InputSchema.from_names(names)
        _same_columns(schema.names, names, what, f"the columns the model was fitted on (feature_names_in_ = {names})")
        return schema.reordered(names, positional=False)
    if schema is not None and schema.positional and order is None:
        order = list(schema.names)  # recorded earlier from a stated order
    if order is None:
        if schema is None:
            raise ArgumentError(
                "the model's input columns are unknown: it was fitted on an array, without column names. Pass "
                "feature_order=[...] naming the columns in the order the model was fitted on (with schema=<training "
                "features> for their dtypes), or fit the model on a DataFrame"
            )
        raise ArgumentError(
            f"the model was fitted on an array, without column names, so it reads its {n_in if n_in is not None else len(schema.names)} "
            f"input column(s) by position; the column order of {what} {list(schema.names)} would be an unchecked assumption "
            "(another order scores every row silently wrong). Pass feature_order=[...] naming the columns in the order the "
            "model was fitted on, or fit the model on a DataFrame so that columns are matched by name"
        )
    if n_in is not None and n_in != len(order):
        raise SchemaError(
            f"`feature_order` names {len(order)} column(s) {order}, but the model was fitted on {n_in} "
            "(n_features_in_); name every input column once, in the training order"
        )
    if schema is None:
        return InputSchema(InputSchema.from_names(order).columns, positional=True)
    _same_columns(schema.names, order, what, f"`feature_order` {order}")
    return schema.reordered(order, positional=True)
