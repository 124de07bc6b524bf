"""The data side of the effect estimators at scale: sources with derived columns, the covariate design, fold hashes.

* :func:`open_passes` opens the stats passes (:mod:`causalinfer.stats._scale_passes`) over a Parquet source, a SQL
  table, a DuckDB relation or a dask DataFrame, seen through a view that adds the treatment as a number, its
  complement and, with a fold key, the cross-fitting fold of every row and the indicators of each fold's training
  rows by treatment arm. The stats passes read those like any other column (as regression weights), so every
  nuisance model of a fold is one weighted fit over the whole table.
* :func:`covariate_columns` builds the covariate design exactly as the in-memory estimators do
  (:func:`causalinfer.causal._design.prepare`): indicators for every level but the first of categorical
  covariates (levels from a ``DISTINCT`` pass over the whole table, sorted as in memory), and ``I(x^2)`` columns.
* :func:`fold_of_keys` and :func:`fold_sql` are the one fold hash, in numpy and in SQL (see :data:`FOLD_HASH`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from .._validation import suggest_column
from ..exceptions import ArgumentTypeError, DataError, RoleError
from ..stats._scale_design import DesignColumn, Factor

__all__ = ["FOLD_HASH", "covariate_columns", "fold_of_keys", "fold_sql", "open_passes"]

#: The fold hash, identical in numpy, DuckDB and PostgreSQL (64-bit integer arithmetic that never overflows):
#: ``x = key mod P`` (non-negative), ``x = (A x + B) mod P``, ``x = x^3 mod P``, ``x = (C x + D) mod P``, and the
#: fold is ``x mod n_folds``. ``P = 2147483579`` is a prime with ``P mod 3 = 2``, so cubing is a permutation of
#: ``0..P-1`` and distinct keys below ``P`` land on distinct values before the last reduction; every product of
#: two numbers below ``P`` fits in 62 bits.
FOLD_HASH = {"P": 2147483579, "A": 1103515245, "B": 12345, "C": 747796405, "D": 1013904223}

T1, T0, FOLD = "treated__ci", "control__ci", "fold__ci"


def train(k: int, arm: str = "") -> str:
    """Name of the derived column marking fold ``k``'s training rows (of the arm ``"1"``/``"0"``, or all)."""
    return f"train{k}{arm}__ci"


def fold_of_keys(keys: np.ndarray, n_folds: int) -> np.ndarray:
    """Fold 0..n_folds-1 of every integer key (numpy twin of :func:`fold_sql`)."""
    h = FOLD_HASH
    p = np.int64(h["P"])
    x = np.mod(keys.astype(np.int64), p)
    x = np.mod(h["A"] * x + h["B"], p)
    x = np.mod(np.mod(x * x, p) * x, p)
    x = np.mod(h["C"] * x + h["D"], p)
    return np.mod(x, n_folds)


def fold_sql(key_sql: str, n_folds: int) -> str:
    """The fold of an integer column in SQL (DuckDB, PostgreSQL, SQLite): the same numbers as :func:`fold_of_keys`."""
    h = FOLD_HASH
    p = h["P"]
    x = f"((CAST({key_sql} AS BIGINT) % {p}) + {p}) % {p}"
    x = f"({h['A']} * ({x}) + {h['B']}) % {p}"
    x = f"(((({x}) * ({x})) % {p}) * ({x})) % {p}"
    x = f"({h['C']} * ({x}) + {h['D']}) % {p}"
    return f"(({x}) % {n_folds})"


def check_fold_key_values(values: pd.Series, fold_key: str) -> np.ndarray:
    """The integer keys of an in-memory column, or a clear error (missing values, not integers)."""
    if values.isna().any():
        raise DataError(
            f"`fold_key` column {fold_key!r} has {int(values.isna().sum())} missing value(s); every unit needs a key to be "
            "given a fold. Drop those rows first or pass another key column"
        )
    if not (pd.api.types.is_integer_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)):
        raise ArgumentTypeError(
            f"`fold_key` column {fold_key!r} must hold integer unit ids (dtype {values.dtype}); map other ids to integers "
            "first (for example with a join to a table of ids)"
        )
    return values.to_numpy(dtype=np.int64)


# ---------------------------------------------------------------------------------------------- views
class _View:
    """A runner that reads its source through a SELECT adding derived columns (the stats passes see plain columns)."""

    def __init__(self, inner: Any, stages: list[list[tuple[str, str]]]) -> None:
        from ..data._engine import DuckRunner, quote

        self.inner, self.label = inner, inner.label
        self.engine = getattr(inner, "engine", None)
        dialect = getattr(self.engine, "dialect", None)
        fence = " OFFSET 0" if not isinstance(inner, DuckRunner) and getattr(dialect, "name", "") == "postgresql" else ""
        view = "\x00"
        for i, stage in enumerate(stages):
            cols = ", ".join(f"{expr} AS {quote(name)}" for name, expr in stage)
            view = f"(SELECT *, {cols} FROM {view}{fence}) AS v{i}__"
        self.view = view.replace("{", "{{").replace("}", "}}").replace("\x00", "{src}")
        self.derived = [name for stage in stages for name, _ in stage]

    def columns(self) -> dict[str, bool]:
        return {**self.inner.columns(), **dict.fromkeys(self.derived, True)}

    def booleans(self) -> set[str]:
        return set(self.inner.booleans())

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.inner.run(sql.replace("{src}", self.view)))


def _integer_column(runner: Any, name: str) -> bool:
    from ..data._engine import DuckRunner

    if isinstance(runner, DuckRunner):
        typ = runner._describe().get(name, "")
        return typ.split("(")[0] in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
    import sqlalchemy as sa

    return isinstance(runner._inspect().get(name), sa.types.Integer) and not isinstance(runner._inspect().get(name), sa.types.Boolean)


def _sql_stages(runner: Any, treatment: str, fold_key: str | None, n_folds: int) -> list[list[tuple[str, str]]]:
    from ..data._engine import quote

    a = f"CAST(CAST({quote(treatment)} AS INTEGER) AS DOUBLE PRECISION)" if treatment in runner.booleans() else None
    a = a or f"CAST({quote(treatment)} AS DOUBLE PRECISION)"
    first = [(T1, a), (T0, f"1.0 - {a}")]
    if fold_key is None:
        return [first]
    first.append((FOLD, fold_sql(quote(fold_key), n_folds)))
    second = []
    for k in range(n_folds):
        tr = f"(CASE WHEN {quote(FOLD)} <> {k} THEN 1.0 ELSE 0.0 END)"
        second += [(train(k), tr), (train(k, "1"), f"{tr} * {quote(T1)}"), (train(k, "0"), f"{tr} * {quote(T0)}")]
    return [first, second]


def _dask_columns(part: pd.DataFrame, treatment: str, fold_key: str | None, n_folds: int) -> pd.DataFrame:
    a = part[treatment].to_numpy(dtype=float, na_value=np.nan)
    extra: dict[str, Any] = {T1: a, T0: 1.0 - a}
    if fold_key is not None:
        keys = part[fold_key].to_numpy(dtype=np.int64, na_value=0)  # missing keys are counted and refused separately
        fold = fold_of_keys(keys, n_folds)
        extra[FOLD] = fold
        for k in range(n_folds):
            tr = (fold != k).astype(float)
            extra.update({train(k): tr, train(k, "1"): tr * a, train(k, "0"): tr * (1.0 - a)})
    return part.assign(**extra)


@contextlib.contextmanager
def open_passes(data: Any, treatment: str, fold_key: str | None, n_folds: int) -> Iterator[Any]:
    """The stats passes over ``data`` seen with the derived columns (treatment, folds, training indicators)."""
    from ..stats._scale import _is_dask
    from ..stats._scale_passes import DaskPasses, SQLPasses

    if _is_dask(data):
        schema = {str(c): t for c, t in data.dtypes.items()}
        _check_roles_exist(list(schema), treatment, fold_key, "dask DataFrame")
        if fold_key is not None and not (
            pd.api.types.is_integer_dtype(schema[fold_key]) and not pd.api.types.is_bool_dtype(schema[fold_key])
        ):
            raise ArgumentTypeError(
                f"`fold_key` column {fold_key!r} must hold integer unit ids (dtype {schema[fold_key]}); map other ids to integers first"
            )
        meta = _dask_columns(data._meta, treatment, fold_key, n_folds)
        yield DaskPasses(data.map_partitions(_dask_columns, treatment, fold_key, n_folds, meta=meta))
        return
    from ..data._engine import runner

    with runner(data) as r:
        _check_roles_exist(list(r.columns()), treatment, fold_key, r.label)
        if fold_key is not None and not _integer_column(r, fold_key):
            raise ArgumentTypeError(
                f"`fold_key` column {fold_key!r} of {r.label} must hold integer unit ids; map other ids to integers first "
                "(for example with a join to a table of ids)"
            )
        yield SQLPasses(_View(r, _sql_stages(r, treatment, fold_key, n_folds)))


def _check_roles_exist(columns: list[str], treatment: str, fold_key: str | None, label: str) -> None:
    for arg, name in (("treatment", treatment), ("fold_key", fold_key)):
        if name is not None and name not in columns:
            raise RoleError(f"`{arg}` names column {name!r}, which is not in {label}{suggest_column(name, columns)}")
    clash = [c for c in columns if c.endswith("__ci")]
    if clash:
        raise RoleError(f"column(s) {clash[:3]} of {label} end in '__ci', a suffix kept for derived columns; rename them")


# ---------------------------------------------------------------------------------------------- covariates
def _level_key(v: Any) -> tuple[str, Any]:
    if isinstance(v, (bool, np.bool_)):
        return ("<class 'numpy.bool'>", bool(v))
    if isinstance(v, (int, np.integer)):
        return ("<class 'numpy.int64'>", int(v))
    if isinstance(v, (float, np.floating)):
        return ("<class 'numpy.float64'>", float(v))
    return (str(type(v)), v)


def covariate_columns(
    passes: Any, covariates: list[str], categorical: list[str], squared: list[str]
) -> tuple[list[DesignColumn], list[str], list[str]]:
    """The covariate design (as in memory: indicators for all levels but the first, squares after their column)."""
    schema, bools = passes.schema(), passes.booleans()
    for arg, cols in (("covariates", covariates), ("categorical", categorical), ("squared", squared)):
        for c in cols:
            if c not in schema:
                raise RoleError(f"`{arg}` names column {c!r}, which is not in {passes.label}{suggest_column(c, list(schema))}")
            if arg != "covariates" and c not in covariates:
                raise RoleError(f"`{arg}` names {c!r}, which is not one of the covariates {covariates}; add it to `covariates` first")
    both = sorted(set(categorical) & set(squared))
    if both:
        raise RoleError(f"covariate(s) {both} are both categorical and squared; a squared term needs a numeric covariate")
    columns: list[DesignColumn] = []
    names: list[str] = []
    cats = list(categorical)
    for c in covariates:
        if c in categorical or not schema[c]:
            if c not in cats:
                cats.append(c)
            try:
                levels = sorted(passes.distinct(c), key=_level_key)
            except TypeError:
                raise DataError(f"covariate {c!r} mixes labels that cannot be sorted; use one type") from None
            for lev in levels[1:]:
                shown = bool(lev) if c in bools else lev
                columns.append(DesignColumn(f"{c}[{shown}]", (Factor(c, (lev,), (1.0,)),)))
                names.append(f"{c}[{shown}]")
        else:
            columns.append(DesignColumn(c, (Factor(c),)))
            names.append(c)
            if c in squared:
                columns.append(DesignColumn(f"I({c}^2)", (Factor(c), Factor(c))))
                names.append(f"I({c}^2)")
    return columns, names, cats


def refuse_missing(nulls: dict[str, int], n: int, roles: dict[str, str], label: str) -> None:
    """Missing values refused as in memory, naming the columns with row counts (the fold key by its argument)."""
    key = roles.get("fold_key")
    if key is not None and nulls.get(key):
        raise DataError(
            f"`fold_key` column {key!r} of {label} has {nulls[key]} missing value(s); every unit needs a key to be given a "
            "fold. Drop those rows first (a view or query with WHERE key IS NOT NULL) or pass another key column"
        )
    if nulls:
        listing = ", ".join(f"{c!r} ({k} of {n} rows)" for c, k in nulls.items())
        raise DataError(
            f"missing values in columns with a role in {label}: {listing}; drop or impute them first (for example a view "
            "or query with WHERE column IS NOT NULL)"
        )
