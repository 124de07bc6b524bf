"""The model matrix of a regression on a table that stays in its engine: columns written as expressions.

A formula (or a list of column names) is turned into a :class:`ScaleDesign`: one :class:`DesignColumn` per
coefficient, each the product of factors that are either a numeric column or a categorical column coded by a
contrast matrix over its levels. The levels come from a ``DISTINCT`` pass over the whole table, so a level present
in only some files or partitions is coded the same everywhere; patsy then builds the design on a small prototype
frame holding those levels, which gives the same column names, level order and contrasts as the in-memory path
(patsy sorts the levels there too), and the translated columns are checked against patsy's matrix on that prototype.
Anything patsy can express that is not such a product (``np.log(x)``, ``I(x**2)``, splines, ...) is refused with
the term named.

The same design is rendered as SQL expressions (:meth:`ScaleDesign.sql`) for DuckDB and PostgreSQL and evaluated
with numpy on a pandas partition (:meth:`ScaleDesign.evaluate`) for dask.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import show, suggest_column
from ..exceptions import ArgumentError, ArgumentTypeError, DataError, RoleError

__all__ = ["DesignColumn", "Factor", "ScaleDesign", "build_design", "categorical_columns", "sql_literal"]

_IDENT = re.compile(r"[A-Za-z_.][A-Za-z0-9_.]*")
_C_CALL = re.compile(r"^C\(\s*([A-Za-z_.][A-Za-z0-9_.]*)\s*(,.*)?\)$", re.S)


@dataclass(frozen=True)
class Factor:
    """A numeric column (``levels`` None) or a categorical one whose level ``levels[i]`` is coded ``values[i]``."""

    column: str
    levels: tuple[Any, ...] | None = None
    values: tuple[float, ...] | None = None


@dataclass(frozen=True)
class DesignColumn:
    name: str
    factors: tuple[Factor, ...]  # empty: the intercept


@dataclass(frozen=True)
class ScaleDesign:
    columns: tuple[DesignColumn, ...]
    response: str
    intercept: bool
    formula: str | None
    design_info: Any
    used: tuple[str, ...]  # every source column the model reads (response included)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def sql(self, num: Any, quote: Any) -> list[str]:
        """One SQL expression per column; ``num(c)`` casts a numeric column to DOUBLE PRECISION."""
        out = []
        for col in self.columns:
            parts = []
            for f in col.factors:
                if f.levels is None:
                    parts.append(num(f.column))
                else:
                    assert f.values is not None
                    cases = " ".join(f"WHEN {sql_literal(lv)} THEN {float(v)!r}" for lv, v in zip(f.levels, f.values, strict=True))
                    parts.append(f"(CASE {quote(f.column)} {cases} ELSE 0.0 END)")
            out.append(" * ".join(parts) if parts else "1.0")
        return out

    def evaluate(self, frame: pd.DataFrame) -> np.ndarray:
        """The model matrix of a pandas partition (numpy float64), with the same coding as :meth:`sql`."""
        n = len(frame)
        X = np.empty((n, len(self.columns)))
        for j, col in enumerate(self.columns):
            v = np.ones(n)
            for f in col.factors:
                if f.levels is None:
                    v = v * frame[f.column].to_numpy(dtype=float, na_value=np.nan)
                else:
                    assert f.values is not None
                    codes = dict(zip(f.levels, f.values, strict=True))
                    v = v * frame[f.column].map(codes).to_numpy(dtype=float, na_value=0.0)
            X[:, j] = v
        return X


def sql_literal(value: Any) -> str:
    """A SQL literal for a level: quoted text, TRUE/FALSE, or a number written exactly."""
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise DataError(f"a categorical level {show(value)} is not finite; drop those rows first")
        return repr(float(value))
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise ArgumentTypeError(
        f"categorical level {show(value)} of type {type(value).__name__} cannot be compared inside the engine; cast the column to text"
    )


def categorical_columns(formula: str, schema: dict[str, bool], booleans: set[str]) -> tuple[list[str], list[str]]:
    """The source columns a formula uses, and those of them that are categorical (non-numeric, boolean or in ``C()``)."""
    tokens = set(_IDENT.findall(formula))
    used = [c for c in schema if c in tokens]
    cats = [c for c in used if not schema[c] or c in booleans or re.search(r"C\(\s*" + re.escape(c) + r"\s*[,)]", formula) is not None]
    return used, cats


def _prototype(used: list[str], levels: dict[str, list[Any]], booleans: set[str]) -> pd.DataFrame:
    """A small frame with every level of every categorical column and distinct numbers elsewhere."""
    rows = max([3, *(len(v) for v in levels.values())])
    data: dict[str, Any] = {}
    for c in used:
        if c in levels:
            lv = levels[c]
            if not lv:
                raise DataError(f"column {c!r} has no non-missing value; a categorical covariate needs at least one level")
            values = [lv[i % len(lv)] for i in range(rows)]
            data[c] = pd.Series(values, dtype=bool if c in booleans else None)
        else:
            data[c] = np.arange(1.0, rows + 1.0) * (1.0 + 0.37 * len(data))
    return pd.DataFrame(data)


def build_design(formula: str, used: list[str], levels: dict[str, list[Any]], booleans: set[str], namespaces: Any) -> ScaleDesign:
    """The :class:`ScaleDesign` of ``formula``; terms that are not products of columns are refused by name."""
    import patsy

    if "~" not in formula:
        raise ArgumentError(f"`x` must be a formula such as 'y ~ x1 + x2' when `data` is given; got {show(formula)}")
    proto = _prototype(used, levels, booleans)
    try:
        env = patsy.EvalEnvironment([*(namespaces or []), {"np": np}])
        yd, xd = patsy.dmatrices(formula, proto, return_type="dataframe", NA_action="raise", eval_env=env)
    except patsy.PatsyError as exc:
        m = re.search(r"name '([^']+)' is not defined", str(exc))
        if m:
            raise RoleError(
                f"the formula {formula!r} uses {m.group(1)!r}, which is not a column of `data`{suggest_column(m.group(1), used)}"
            ) from None
        raise ArgumentError(f"could not build the model matrix from the formula {formula!r}: {str(exc).splitlines()[0]}") from None
    response = _response(formula, yd.design_info, used, levels)
    info = xd.design_info
    columns: list[DesignColumn] = []
    for term, subterms in info.term_codings.items():
        for sub in subterms:
            columns.extend(_subterm_columns(term, sub, info, used, levels))
    names = ["(Intercept)" if c == "Intercept" else str(c) for c in info.column_names]
    if len(columns) != len(names):  # pragma: no cover - patsy's own bookkeeping
        raise ArgumentError(f"the formula {formula!r} could not be translated for the engine")
    columns = [DesignColumn(nm, c.factors) for nm, c in zip(names, columns, strict=True)]
    design = ScaleDesign(tuple(columns), response, "Intercept" in info.column_names, formula, info, tuple(used))
    if not np.allclose(design.evaluate(proto), xd.to_numpy(dtype=float), rtol=1e-12, atol=0.0):  # pragma: no cover - a guard
        raise ArgumentError(f"the formula {formula!r} uses terms the engine cannot reproduce exactly; fit it on a frame instead")
    return design


def _response(formula: str, info: Any, used: list[str], levels: dict[str, list[Any]]) -> str:
    factors = [f for term in info.terms for f in term.factors]
    code = factors[0].name() if len(factors) == 1 else None
    if code is None or code not in used:
        raise ArgumentError(
            f"the outcome of {formula!r} must be a column name inside the engine (a transformed outcome such as "
            "np.log(y) cannot be computed there); add the transformed column to the table first"
        )
    if code in levels and info.factor_infos[factors[0]].type == "categorical":
        raise DataError(f"the outcome {code!r} must be numeric (or boolean); it is a text column")
    return code


def _subterm_columns(term: Any, sub: Any, info: Any, used: list[str], levels: dict[str, list[Any]]) -> list[DesignColumn]:
    """The columns of one patsy subterm, the left-most factor varying fastest (as patsy orders them)."""
    per_factor: list[list[Factor]] = []
    for factor in sub.factors:
        code = factor.name()
        finfo = info.factor_infos[factor]
        if finfo.type == "numerical":
            if code not in used or finfo.num_columns != 1 or code in levels:
                raise ArgumentError(
                    f"formula term {term.name()!r}: {code!r} is not a plain numeric column, which the engine cannot compute; "
                    "add it to the table as a column (or fit on a frame)"
                )
            per_factor.append([Factor(code)])
            continue
        m = _C_CALL.match(code)
        column = code if code in used else (m.group(1) if m and m.group(1) in used else None)
        if column is None:
            raise ArgumentError(
                f"formula term {term.name()!r}: the categorical factor {code!r} is not a column or C(column); "
                "the engine codes only columns (add the derived column to the table first)"
            )
        cats = tuple(finfo.categories)
        unknown = [lv for lv in cats if lv not in set(levels.get(column, []))]
        if unknown:
            raise ArgumentError(f"formula term {term.name()!r}: level(s) {show(unknown[:5])} do not occur in column {column!r}")
        matrix = np.asarray(sub.contrast_matrices[factor].matrix, dtype=float)
        per_factor.append([Factor(column, cats, tuple(matrix[:, j].tolist())) for j in range(matrix.shape[1])])
    combos: list[tuple[Factor, ...]] = [()]
    for options in per_factor:  # left-most fastest: the first factor varies within the later ones
        combos = [(*c, o) for o in options for c in combos]
    return [DesignColumn("", c) for c in combos]


def xy_design(x: Any, y: Any, schema: dict[str, bool], add_constant: bool) -> ScaleDesign:
    """The design of ``x`` (a column name or list of names) and ``y`` (a column name) of a source."""
    if isinstance(x, str):
        x = [x]
    if not isinstance(x, (list, tuple)) or not x or not all(isinstance(c, str) for c in x):
        raise ArgumentTypeError(f"with a Parquet, SQL or dask `data`, `x` must be a formula or a list of column names; got {show(x)}")
    if not isinstance(y, str):
        raise ArgumentTypeError(f"with a list of columns in `x`, `y` must be the outcome's column name; got {show(y)}")
    for c, arg in [*((c, "x") for c in x), (y, "y")]:
        if c not in schema:
            raise RoleError(f"`{arg}` names column {c!r}, which is not in `data`{suggest_column(c, list(schema))}")
    bad = [c for c in x if not schema[c]]
    if bad:
        raise ArgumentTypeError(f"`x` must contain only numeric columns; non-numeric: {bad}")
    cols = [DesignColumn(c, (Factor(c),)) for c in x]
    if add_constant:
        cols = [DesignColumn("(Intercept)", ()), *cols]
    names = [c.name for c in cols]
    info = {"k": len(x), "add_constant": bool(add_constant), "names": names}
    return ScaleDesign(tuple(cols), y, bool(add_constant), None, info, (*x, y))
