"""Sources analysed inside an engine: Parquet files scanned by DuckDB, SQL tables through SQLAlchemy, DuckDB relations.

The layer under every in-engine computation (the per-variant summaries of ``experiments.analyze`` and the
regressions of ``stats`` on tables larger than memory): :class:`ParquetSource` and :class:`SQLTable` name where the
rows live, :func:`is_source` tells them from in-memory data, and :func:`runner` opens a connection on which aggregate
queries run (``{src}`` in the SQL stands for the source relation), so only the small summaries come back.
"""

from __future__ import annotations

import contextlib
import glob
import os
from collections.abc import Iterator
from typing import Any

from .._optional import import_optional
from .._validation import show
from ..exceptions import ArgumentError, ArgumentTypeError, SourceError

__all__ = [
    "DUCKDB_NUMERIC",
    "DuckRunner",
    "ParquetSource",
    "Runner",
    "SQLRunner",
    "SQLTable",
    "check_parquet_schema",
    "duckdb_module",
    "is_duckdb",
    "is_source",
    "literal",
    "quote",
    "runner",
]

DUCKDB_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "REAL",
    "DECIMAL",
    "BOOLEAN",
)


def duckdb_module() -> Any:
    return import_optional("duckdb", extra="duckdb", purpose="analysing Parquet files or DuckDB tables inside the engine")


def quote(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class ParquetSource:
    """A Parquet file, a folder of Parquet files (read recursively) or a glob pattern, analysed inside DuckDB.

    Parameters
    ----------
    path : str or path-like
        ``"events.parquet"``, a folder such as ``"events/"`` (every ``*.parquet`` below it, Hive partitions
        included) or a glob such as ``"events/part-*.parquet"``.

    Notes
    -----
    Needs the optional dependency ``duckdb`` (``pip install "causalinfer[duckdb]"``). The file is read by
    DuckDB's scanner column by column, so only the columns the metrics use are read and the data never has to fit
    in memory.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pandas as pd
    >>> from causalinfer import experiments
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"variant": rng.choice(["control", "b"], 2000), "revenue": rng.gamma(2.0, 5.0, 2000)})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     df.to_parquet(os.path.join(folder, "experiment.parquet"))
    ...     res = experiments.analyze(experiments.ParquetSource(os.path.join(folder, "experiment.parquet")), metrics=["revenue"])
    >>> res.labels
    ('sample ratio mismatch', 'revenue: b')
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentTypeError(f"`path` must be a file, folder or glob path (a string); got {show(path)}")
        self.path = os.fspath(path)
        if not self.path:
            raise ArgumentError("`path` is empty; pass a Parquet file, folder or glob")

    def __repr__(self) -> str:
        return f"ParquetSource({self.path!r})"

    def _pattern(self) -> str:
        p = self.path
        if any(ch in p for ch in "*?["):
            if not glob.glob(p, recursive=True):
                raise SourceError(f"Parquet `path` {p!r} matches no file; check the pattern")
            return p
        if os.path.isdir(p):
            pattern = os.path.join(p, "**", "*.parquet")
            if not glob.glob(pattern, recursive=True):
                raise SourceError(f"Parquet `path` {p!r} is a folder with no *.parquet file in it")
            return pattern
        if not os.path.isfile(p):
            raise SourceError(f"Parquet `path` {p!r} does not exist; pass an existing file, folder or glob")
        return p


class SQLTable:
    """A table or view of a SQL database, analysed inside the database.

    Parameters
    ----------
    connection : str, sqlalchemy Engine or duckdb connection
        A SQLAlchemy URL (``"postgresql+psycopg://..."``, ``"sqlite:///file.db"``), an Engine, or an open DuckDB
        connection.
    table : str
        Table (or view) name, matched exactly (it is quoted).
    schema : str, optional
        Schema holding the table.

    Notes
    -----
    The queries use standard SQL (double-quoted identifiers, ``CAST(... AS DOUBLE PRECISION)``, ``CASE``), which
    PostgreSQL, SQLite and DuckDB accept.

    Examples
    --------
    >>> import numpy as np, pandas as pd, sqlalchemy as sa
    >>> from causalinfer import experiments
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"variant": rng.choice(["control", "b"], 2000), "converted": rng.integers(0, 2, 2000)})
    >>> engine = sa.create_engine("sqlite://")
    >>> _ = df.to_sql("users", engine, index=False)
    >>> res = experiments.analyze(experiments.SQLTable(engine, "users"), metrics=[experiments.proportion("converted")])
    >>> round(res[1].estimate, 6) == round(experiments.analyze(df, metrics=[experiments.proportion("converted")])[1].estimate, 6)
    True
    """

    def __init__(self, connection: Any, table: str, *, schema: str | None = None) -> None:
        if not isinstance(table, str) or not table:
            raise ArgumentTypeError(f"`table` must be a table name (a non-empty string); got {show(table)}")
        if schema is not None and not isinstance(schema, str):
            raise ArgumentTypeError(f"`schema` must be a schema name (a string) or None; got {show(schema)}")
        self.connection = connection
        self.table = table
        self.schema = schema

    def __repr__(self) -> str:
        where = f"{self.schema}.{self.table}" if self.schema else self.table
        return f"SQLTable({where!r})"


def is_source(data: Any) -> bool:
    """Whether ``data`` is something the engine path reads (a source object, a path, or a DuckDB relation)."""
    return isinstance(data, (ParquetSource, SQLTable, str, os.PathLike)) or is_duckdb(data, "DuckDBPyRelation")


def is_duckdb(obj: Any, name: str) -> bool:
    return type(obj).__name__ == name and type(obj).__module__.lstrip("_").startswith("duckdb")


# ---------------------------------------------------------------------------------------------- runners
class Runner:
    """Runs aggregate queries over one source; ``{src}`` in the SQL stands for the source relation."""

    label: str

    def columns(self) -> dict[str, bool]:  # name -> numeric
        raise NotImplementedError

    def booleans(self) -> set[str]:
        return set()

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        raise NotImplementedError


class DuckRunner(Runner):
    def __init__(self, con: Any, src: str | None, label: str, relation: Any = None) -> None:
        self.con, self.src, self.label, self.relation = con, src, label, relation
        self._types: dict[str, str] | None = None

    def _describe(self) -> dict[str, str]:
        if self._types is None:
            if self.relation is not None:
                self._types = {str(c): str(t).upper() for c, t in zip(self.relation.columns, self.relation.types, strict=True)}
            else:
                rows = self.run("DESCRIBE SELECT * FROM {src}")
                self._types = {str(r[0]): str(r[1]).upper() for r in rows}
        return self._types

    def columns(self) -> dict[str, bool]:
        return {c: t.startswith(DUCKDB_NUMERIC) for c, t in self._describe().items()}

    def booleans(self) -> set[str]:
        return {c for c, t in self._describe().items() if t == "BOOLEAN"}

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        duckdb = duckdb_module()
        try:
            if self.relation is not None:
                return list(self.relation.query("source__", sql.format(src="source__")).fetchall())
            return list(self.con.execute(sql.format(src=self.src)).fetchall())
        except duckdb.Error as exc:
            raise SourceError(f"{self.label}: the query failed in DuckDB: {exc}") from exc


class SQLRunner(Runner):
    def __init__(self, engine: Any, table: str, schema: str | None) -> None:
        self.engine, self.table, self.schema = engine, table, schema
        self.label = f"SQL table {(schema + '.' if schema else '') + table!r}"
        prep = engine.dialect.identifier_preparer
        self.src = (prep.quote_schema(schema) + "." if schema else "") + prep.quote(table)
        self._cols: dict[str, Any] | None = None

    def _inspect(self) -> dict[str, Any]:
        if self._cols is None:
            import sqlalchemy as sa

            try:
                insp = sa.inspect(self.engine)
                if not (insp.has_table(self.table, schema=self.schema) or self.table in insp.get_view_names(schema=self.schema)):
                    raise SourceError(f"{self.label} does not exist in the database; check the name (and `schema`)")
                self._cols = {str(c["name"]): c["type"] for c in insp.get_columns(self.table, schema=self.schema)}
            except sa.exc.SQLAlchemyError as exc:
                raise SourceError(f"{self.label}: could not read the table's columns: {exc}") from exc
        return self._cols

    def columns(self) -> dict[str, bool]:
        import sqlalchemy as sa

        return {
            c: isinstance(t, (sa.types.Integer, sa.types.Numeric, sa.types.Float, sa.types.Boolean)) for c, t in self._inspect().items()
        }

    def booleans(self) -> set[str]:
        import sqlalchemy as sa

        return {c for c, t in self._inspect().items() if isinstance(t, sa.types.Boolean)}

    def run(self, sql: str) -> list[tuple[Any, ...]]:
        import sqlalchemy as sa

        try:
            with self.engine.connect() as con:
                return [tuple(r) for r in con.execute(sa.text(sql.format(src=self.src)))]
        except sa.exc.SQLAlchemyError as exc:
            reason = str(exc).split("\n[SQL:")[0]  # the statement itself is long and adds nothing for the reader
            raise SourceError(f"{self.label}: the query failed in the database: {reason}") from exc


@contextlib.contextmanager
def runner(data: Any) -> Iterator[Runner]:
    if isinstance(data, (str, os.PathLike)):
        data = ParquetSource(data)
    if isinstance(data, ParquetSource):
        pattern = data._pattern()
        duckdb = duckdb_module()
        con = duckdb.connect(":memory:")
        try:
            yield DuckRunner(con, f"read_parquet({literal(pattern)})", f"Parquet `path` {data.path!r}")
        finally:
            with contextlib.suppress(Exception):
                con.close()
        return
    if is_duckdb(data, "DuckDBPyRelation"):
        yield DuckRunner(None, None, "DuckDB relation", relation=data)
        return
    if not isinstance(data, SQLTable):  # pragma: no cover - guarded by is_source
        raise ArgumentTypeError(f"`data` of type {type(data).__name__} cannot be analysed inside an engine")
    conn = data.connection
    if is_duckdb(conn, "DuckDBPyConnection"):
        where = f"{data.schema}.{data.table}" if data.schema else data.table
        src = (quote(data.schema) + "." if data.schema else "") + quote(data.table)
        runner = DuckRunner(conn, src, f"DuckDB table {where!r}")
        listed = runner.run("SELECT table_schema, table_name FROM information_schema.tables")
        tables = {str(t) for sch, t in listed if data.schema is None or sch == data.schema}
        if data.table not in tables:
            raise SourceError(f"DuckDB table {where!r} does not exist in the connection (tables: {sorted(tables)[:12]})")
        yield runner
        return
    import sqlalchemy as sa

    owned = False
    if isinstance(conn, str):
        try:
            engine = sa.create_engine(conn)
        except (sa.exc.SQLAlchemyError, ImportError, ValueError) as exc:
            raise SourceError(f"`connection` URL could not be opened: {exc}") from exc
        owned = True
    elif isinstance(conn, sa.engine.Engine):
        engine = conn
    else:
        raise ArgumentTypeError(f"`connection` must be a SQLAlchemy URL or Engine, or a DuckDB connection; got {type(conn).__name__}")
    try:
        yield SQLRunner(engine, data.table, data.schema)
    finally:
        if owned:
            with contextlib.suppress(Exception):
                engine.dispose()


def check_parquet_schema(source: ParquetSource, columns: list[str], arg: str = "data") -> None:
    """Refuse a Parquet folder or glob whose files disagree on the given columns (missing, or number versus text).

    Reads only the files' footers (DuckDB's ``parquet_schema``). Integer and floating-point versions of one column
    are compatible (DuckDB reads both as numbers); a column missing from some files, or numeric in some and text in
    others, is refused with the files named, rather than left to fail (or be cast) half-way through a scan.
    """
    duckdb = duckdb_module()
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(f"SELECT file_name, name, type FROM parquet_schema({literal(source._pattern())})").fetchall()
    except duckdb.Error as exc:
        raise SourceError(f"`{arg}` Parquet `path` {source.path!r}: the file footers could not be read: {exc}") from exc
    finally:
        with contextlib.suppress(Exception):
            con.close()
    files: dict[str, dict[str, str]] = {}
    for file, name, typ in rows:
        files.setdefault(str(file), {})[str(name)] = str(typ).upper()
    numeric = ("INT", "DOUBLE", "FLOAT", "BOOLEAN", "DECIMAL", "FIXED_LEN_BYTE_ARRAY")
    for col in columns:
        kinds: dict[str, list[str]] = {}
        for file, schema in files.items():
            typ = schema.get(col)
            kind = "missing" if typ is None else ("number" if typ.startswith(numeric) else "text")
            kinds.setdefault(kind, []).append(os.path.basename(file))
        if len(kinds) > 1:
            listed = "; ".join(
                f"{kind} in {', '.join(sorted(names)[:3])}{' ...' if len(names) > 3 else ''}" for kind, names in sorted(kinds.items())
            )
            raise SourceError(
                f"`{arg}` Parquet `path` {source.path!r}: the files disagree on column {col!r} ({listed}); the schema changes "
                "between files. Rewrite them with one schema, or point `path` at the files that share one"
            )
