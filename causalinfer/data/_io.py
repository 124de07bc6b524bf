"""Reading tables from files and databases, with errors that say which source failed and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .._optional import import_optional
from .._validation import show
from ..exceptions import ArgumentError, ArgumentTypeError, SourceError


def _existing(path: str | Path, what: str) -> Path:
    if not isinstance(path, (str, Path)):
        raise ArgumentTypeError(f"`path` must be a file path; got {show(path)}")
    p = Path(path)
    if not p.exists():
        raise SourceError(f"{what} {str(p)!r} does not exist; check the path (relative paths start at {str(Path.cwd())!r})")
    return p


def read_csv(path: str | Path, read_options: Mapping[str, Any] | None = None) -> pd.DataFrame:
    p = _existing(path, "CSV file")
    try:
        return pd.read_csv(p, **dict(read_options or {}))
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"could not read CSV file {str(p)!r}: {exc}") from exc


def read_parquet(path: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    p = _existing(path, "Parquet file")
    import_optional("pyarrow", extra="parquet", purpose="reading Parquet files")
    try:
        return pd.read_parquet(p, columns=list(columns) if columns is not None else None)
    except Exception as exc:  # pyarrow raises many types; report them uniformly
        raise SourceError(f"could not read Parquet data {str(p)!r}: {type(exc).__name__}: {exc}") from exc


def sql_engine(source: Any) -> Any:
    """A SQLAlchemy engine or connection from a URL, a SQLite file path, or an engine/connection as given."""
    sa = import_optional("sqlalchemy", extra="sql", purpose="reading SQL databases")
    if isinstance(source, (sa.engine.Engine, sa.engine.Connection)):
        return source
    if isinstance(source, Path) or (isinstance(source, str) and "://" not in source):
        p = Path(source)
        if not p.exists():
            raise SourceError(f"SQLite database file {str(p)!r} does not exist; pass an existing file or a SQLAlchemy URL")
        return sa.create_engine(f"sqlite:///{p}")
    if isinstance(source, str):
        try:
            return sa.create_engine(source)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
            raise SourceError(f"cannot open database URL {source!r}: {exc}") from exc
    raise ArgumentTypeError(f"`source` must be a SQLAlchemy URL, a SQLite file path or a SQLAlchemy engine; got {show(source)}")


def read_sql(source: Any, *, table: str | None = None, query: str | None = None) -> pd.DataFrame:
    if (table is None) == (query is None):
        raise ArgumentError("give exactly one of `table` (a table name) or `query` (a SELECT statement)")
    sa = import_optional("sqlalchemy", extra="sql", purpose="reading SQL databases")
    engine = sql_engine(source)
    try:
        if table is not None:
            if not isinstance(table, str):
                raise ArgumentTypeError(f"`table` must be a table name; got {show(table)}")
            inspector = sa.inspect(engine)
            names = inspector.get_table_names() + inspector.get_view_names()
            if table not in names:
                raise SourceError(f"table {table!r} is not in the database (tables: {', '.join(sorted(names)) or 'none'})")
            return pd.read_sql_table(table, engine)
        assert query is not None
        return pd.read_sql_query(sa.text(query), engine)
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
        cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ is not None else exc
        first = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
        raise SourceError(f"database read failed: {first}") from exc
