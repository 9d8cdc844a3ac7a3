"""DuckDB and PostgreSQL asked in plain SQL: the count-table query without Ibis, sqlglot or pandas.

An audit of saved decisions needs one ``GROUP BY``; Ibis compiles that same query for every engine, but importing
it (with sqlglot, pandas and pyarrow) and opening a backend cost more than DuckDB's whole query on a 50-million-row
Parquet file (benchmarks/engine). For a DuckDB URL, and for PostgreSQL when no model is scored, the same query is
written here as standard SQL (quoted names, ``CAST(... AS DOUBLE PRECISION)``, both engines read it) and sent
through the engine's own Python client; the rows come back as tuples. Other engines, open Ibis backends and
model audits on PostgreSQL keep :class:`~governance.intake.engine.TableSource`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from governance.errors import InputError
from governance.intake.engine import (
    BATCH_ROWS,
    Connection,
    SourceNames,
    as_float,
    query_error,
    redact_url,
)
from governance.intake.values import plain_column, plain_frame

if TYPE_CHECKING:
    import pandas as pd

    from governance.intake.early import EarlyQuery
    from governance.intake.grouped import Grouped

# DuckDB's and PostgreSQL's type names, as Ibis names them (messages and the numeric checks read these).
_TYPES = {
    "tinyint": "int8", "smallint": "int16", "integer": "int32", "bigint": "int64", "hugeint": "decimal(38, 0)",
    "utinyint": "uint8", "usmallint": "uint16", "uinteger": "uint32", "ubigint": "uint64",
    "float": "float32", "double": "float64", "varchar": "string", "boolean": "boolean",
    "int2": "int16", "int4": "int32", "int8": "int64", "float4": "float32", "float8": "float64",
    "numeric": "decimal", "text": "string", "bpchar": "string", "bool": "boolean", "name": "string",
}  # fmt: skip


def type_name(engine_type: str) -> str:
    """``DECIMAL(10,2)`` -> ``decimal(10, 2)``, ``VARCHAR`` -> ``string``; others lower-cased."""
    lowered = engine_type.strip().lower()
    if lowered.startswith(("decimal", "numeric")):
        return "decimal" + lowered[lowered.find("(") :].replace(",", ", ") if "(" in lowered else "decimal"
    return _TYPES.get(lowered, lowered)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_sql(table: str) -> str:
    """``schema.table`` or ``table`` as quoted SQL; a name already in double quotes is kept as written."""
    if table.startswith('"'):
        return table
    return ".".join(quote(part) for part in table.split("."))


def count_sql(source: str, keys: Sequence[str], weights: str | None, *, checks: bool = False) -> str:
    """The count table in standard SQL, with the columns and names of ``engine.count_table_expr``."""
    listed = ", ".join(quote(k) for k in keys)
    aggregates = ["COUNT(*) AS n__"]
    if weights:
        w = f"CAST({quote(weights)} AS DOUBLE PRECISION)"
        aggregates += [f"SUM({w}) AS w__", f"SUM({w} * {w}) AS w2__"]
        if checks:
            aggregates += [
                f"COUNT(*) - COUNT({quote(weights)}) AS wnull__",
                f"MIN({w}) AS wmin__",
                f"MAX({w}) AS wmax__",
            ]
    return f"SELECT {listed}, {', '.join(aggregates)} FROM {source} GROUP BY {listed}"


SAMPLE_DIALECTS = ("duckdb", "postgres")  # engines whose SQL draws the explanation's stratified sample
SAMPLE_KEY, SAMPLE_ROWS, SAMPLE_TOTAL = "governance_key__", "governance_rows__", "governance_total__"
_SPARE = 3.0  # a group's rows kept before the last cut: about 3 times its share plus 30, never fewer than its share


def sample_sql(
    source: str, columns: Sequence[str], sensitive: Sequence[str], size: int, seed: int, dialect: str
) -> str:
    """The rows that may enter the explanation's stratified sample, with each row's seeded hash and its group's
    size: a row is kept when its hash, read as a fraction of the hash range, is below about three times its
    group's share of ``size`` rows (every row of a small group). One pass and a ``GROUP BY``, no sort of the
    table; ``stratified_sample`` then keeps each group's share of the smallest hashes. ``dialect``: one of
    ``SAMPLE_DIALECTS``."""
    listed = ", ".join(quote(c) for c in columns)
    if dialect == "duckdb":
        key = f"hash({int(seed)}, {listed})"
        fraction = f"CAST({quote(SAMPLE_KEY)} AS DOUBLE) / 18446744073709551616.0"
    else:  # PostgreSQL's own seeded 64-bit hash of the row as text
        key = f"hashtextextended(CAST(ROW({listed}) AS text), {int(seed)})"
        fraction = f"CAST({quote(SAMPLE_KEY)} AS DOUBLE PRECISION) / 18446744073709551616.0 + 0.5"
    groups = ", ".join(quote(c) for c in sensitive)
    joined = " AND ".join(f"s__.{quote(c)} IS NOT DISTINCT FROM c__.{quote(c)}" for c in sensitive)
    rows, total = quote(SAMPLE_ROWS), quote(SAMPLE_TOTAL)
    share = f"GREATEST(1, ROUND(CAST({int(size)} AS DOUBLE PRECISION) * c__.{rows} / c__.{total}))"
    counts = (
        f"(SELECT {groups}, {rows}, SUM({rows}) OVER () AS {total} FROM "
        f"(SELECT {groups}, COUNT(*) AS {rows} FROM {source} GROUP BY {groups}) AS n__) AS c__"
    )
    picked = ", ".join(f"s__.{quote(c)}" for c in columns)
    return (
        f"SELECT {picked}, s__.{quote(SAMPLE_KEY)}, c__.{rows}, c__.{total} FROM "
        f"(SELECT {listed}, {key} AS {quote(SAMPLE_KEY)} FROM {source}) AS s__ JOIN {counts} ON {joined} "
        f"WHERE {fraction} < ({_SPARE} * {share} + 30) / c__.{rows}"
    )


def stratified_sample(kept: pd.DataFrame, sensitive: Sequence[str], size: int) -> pd.DataFrame | None:
    """Each group's share of ``size`` rows (at least one): the kept rows with the smallest hashes; ``None`` when a
    group kept fewer rows than its share (about never: then the caller draws the sample another way)."""
    if len(kept) == 0:
        return kept
    ordered = kept.sort_values(SAMPLE_KEY, kind="stable")
    rows, total = ordered[SAMPLE_ROWS].astype(float), ordered[SAMPLE_TOTAL].astype(float)
    share = (size * rows / total).round().clip(lower=1).astype("int64")
    rank = ordered.groupby(list(sensitive), dropna=False, sort=False).cumcount()
    found = ordered.groupby(list(sensitive), dropna=False, sort=False)[SAMPLE_KEY].transform("size")
    if ((found < share) & (found < rows)).any():
        return None
    chosen = ordered[rank.to_numpy() < share.to_numpy()]
    return chosen.drop(columns=[SAMPLE_KEY, SAMPLE_ROWS, SAMPLE_TOTAL]).reset_index(drop=True)


@dataclass
class SqlSource(SourceNames):
    """A checked table or query on a DB-API connection (DuckDB or psycopg), read in plain SQL.

    The same methods as :class:`~governance.intake.engine.TableSource`; grouped rows come back as
    :class:`~governance.intake.grouped.Grouped` built from tuples, so pandas is not needed.
    """

    con: Connection
    db: Any  # duckdb.DuckDBPyConnection or psycopg.Connection
    table: str | None
    query: str | None
    columns: list[str]
    schema: dict[str, str] = field(default_factory=dict)
    file: str | None = None
    early: EarlyQuery | None = None  # a query sent ahead on this connection, its answer not taken yet

    @property
    def source_sql(self) -> str:
        if self.table:
            return table_sql(self.table)
        assert self.query is not None
        return f"({self.query.strip().rstrip(';')}) AS governance_query"

    def fetch(self, sql: str, what: str | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows of ``sql``, the engine's failure turned into one sentence.

        The answer of a query sent ahead (:mod:`governance.intake.early`) is taken when it is the same SQL."""
        try:
            early, self.early = self.early, None
            if early is not None and early.sql == sql:
                return early.answer()
            if early is not None:
                early.stop()  # another question: the engine stops the one sent ahead first
            return self.execute(sql, self.db.cursor())
        except InputError:
            raise
        except Exception as exc:
            self.rollback()
            raise query_error(exc, self.con, what or self.what) from exc

    @staticmethod
    def execute(sql: str, cursor: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows of ``sql`` on ``cursor`` (then closed); the engine's own exception if it fails."""
        try:
            cursor.execute(sql)
            rows = cursor.fetchall()
            return [d[0] for d in cursor.description], rows
        finally:
            cursor.close()

    def rollback(self) -> None:
        if self.con.backend == "postgres":
            with contextlib.suppress(Exception):  # the query's own error is what the user needs
                self.db.rollback()

    def read_schema(self) -> None:
        """The columns' names and types, from a query that reads no rows."""
        try:
            cursor = self.db.cursor()
            try:
                cursor.execute(f"SELECT * FROM {self.source_sql} LIMIT 0")
                self.schema = {d[0]: self._type(d) for d in cursor.description}
            finally:
                cursor.close()
        except Exception as exc:
            self.rollback()
            raise query_error(exc, self.con, self.what) from exc

    def _type(self, description: Any) -> str:
        if self.con.backend == "duckdb":
            return type_name(str(description[1]))
        info = self.db.adapters.types.get(description[1])
        return type_name(info.name if info is not None else "unknown")

    def row_count(self) -> int:
        return int(self.fetch(f"SELECT COUNT(*) FROM {self.source_sql}")[1][0][0])

    def null_count(self, column: str) -> int:
        sql = f"SELECT COUNT(*) - COUNT({quote(column)}) FROM {self.source_sql}"
        return int(self.fetch(sql)[1][0][0] or 0)

    def distinct_values(self, column: str, limit: int = 1001) -> list[Any]:
        c = quote(column)
        sql = f"SELECT DISTINCT {c} FROM {self.source_sql} WHERE {c} IS NOT NULL LIMIT {int(limit)}"
        return plain_column([row[0] for row in self.fetch(sql)[1]])

    def group_counts(
        self,
        keys: Sequence[str],
        weights: str | None,
        *,
        limit: int | None = None,
        checks: bool = False,
        exact: bool = False,
    ) -> Grouped:
        """As ``TableSource.group_counts``: ``n__``, ``w__``, ``w2__`` (and ``wnull__``, ``wmin__``, ``wmax__``) per group."""
        from governance.intake.grouped import Grouped

        names, rows = self.fetch(self.group_sql(keys, weights, limit=limit, checks=checks))
        return Grouped.of_rows(names, rows, exact=exact)

    def group_sql(
        self, keys: Sequence[str], weights: str | None, *, limit: int | None = None, checks: bool = False
    ) -> str:
        """The SQL of ``group_counts`` (also what a query sent ahead asks)."""
        sql = count_sql(self.source_sql, keys, weights, checks=checks)
        return sql if limit is None else f"{sql} LIMIT {int(limit) + 1}"

    def numeric_summary(self, columns: Sequence[str]) -> dict[str, list[float | None]]:
        if not columns:
            return {}
        parts = []
        for column in columns:
            value = f"CAST({quote(column)} AS DOUBLE PRECISION)"
            parts += [f"SUM({value})", f"MIN({value})", f"MAX({value})"]
        row = self.fetch(f"SELECT {', '.join(parts)} FROM {self.source_sql}")[1][0]
        return {c: [as_float(v) for v in row[3 * i : 3 * i + 3]] for i, c in enumerate(columns)}

    def group_batches(self, keys: Sequence[str], batch_rows: int = BATCH_ROWS) -> Iterator[pd.DataFrame]:
        """The count table over ``keys`` (``n__`` per combination) as pandas frames of at most ``batch_rows``
        rows: the engine groups, and its answer, however long, never has to be in memory whole."""
        sql = count_sql(self.source_sql, keys, None)
        if self.con.backend == "duckdb":
            yield from self.pandas_batches(lambda: self.db.execute(sql).to_arrow_reader(batch_rows))
            return
        yield from self._server_side(sql, batch_rows)

    def _server_side(self, sql: str, batch_rows: int) -> Iterator[pd.DataFrame]:
        """PostgreSQL's rows through a server-side cursor, ``batch_rows`` at a time."""
        import pandas as pd

        try:
            with self.db.transaction():
                cursor = self.db.cursor(name="governance_groups")
                try:
                    cursor.execute(sql)
                    names = [d[0] for d in cursor.description]
                    while rows := cursor.fetchmany(batch_rows):
                        yield plain_frame(pd.DataFrame.from_records(rows, columns=names))
                finally:
                    cursor.close()
        except InputError:
            raise
        except Exception as exc:
            self.rollback()
            raise query_error(exc, self.con, self.what) from exc

    def select_sql(self, columns: Sequence[str]) -> str:
        """These columns of the table or query, as SQL to wrap in another query."""
        return f"SELECT {', '.join(quote(c) for c in columns)} FROM {self.source_sql}"

    def frame_of_sql(self, sql: str) -> pd.DataFrame:
        """The rows of a query (DuckDB's Arrow batches, PostgreSQL's server-side cursor), decimals as numbers."""
        import pandas as pd

        if self.con.backend == "duckdb":
            frames = list(self.pandas_batches(lambda: self.db.execute(sql).to_arrow_reader(BATCH_ROWS)))
        else:
            frames = list(self._server_side(sql, BATCH_ROWS))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def batches(self, columns: Sequence[str], batch_rows: int = BATCH_ROWS) -> Iterator[pd.DataFrame]:
        """The columns as pandas DataFrames of at most ``batch_rows`` rows (DuckDB's Arrow batches)."""
        if self.con.backend != "duckdb":
            raise InputError(
                "Rows are read in batches from DuckDB only here; this is a bug, please report it."
            )
        listed = ", ".join(quote(c) for c in columns)
        yield from self.pandas_batches(
            lambda: self.db.execute(f"SELECT {listed} FROM {self.source_sql}").to_arrow_reader(batch_rows)
        )


def duckdb_client() -> Any:
    """DuckDB's compiled client, ``_duckdb``, whose ``connect`` the ``duckdb`` package re-exports: importing the
    package first ran its Python wrapper (its version from the installed packages' metadata, the DB-API type
    objects), about 50 ms of processor time before the count-table query could be sent (issue 14,
    benchmarks/engine). DuckDB releases without ``_duckdb`` (before 1.4.1, say) give the package instead."""
    import importlib

    try:
        return importlib.import_module("_duckdb")
    except ImportError:
        return importlib.import_module("duckdb")


def connect_duckdb(url: str) -> tuple[Connection, Any]:
    """A DuckDB database (read-only) or an in-memory one that reads files, set up as Ibis sets it up."""
    try:
        duckdb = duckdb_client()
    except ImportError as exc:
        from governance.intake.engine import _missing_extra

        raise _missing_extra("DuckDB", "duckdb", exc) from exc
    path = url.split("://", 1)[1]
    # Ibis's settings (UTC, no Python variables as tables), and no progress bar written into the audit's output.
    try:
        db = duckdb.connect(path or ":memory:", read_only=bool(path))
        db.execute(
            "SET TimeZone = 'UTC'; SET python_enable_replacements = false; SET enable_progress_bar = false"
        )
    except Exception as exc:
        raise InputError(
            f"The DuckDB database {path} could not be opened ({str(exc).strip().splitlines()[0][:300]}); check "
            "the path after duckdb:// (leave it empty for an in-memory database that reads files)."
        ) from exc
    return Connection(backend="duckdb", url=redact_url(url), ibis=None), db


CLIENT_CHECK_MS = 2000  # how often the server checks, while a query runs, that the audit is still connected


def _session_settings(server_version: int) -> str:
    """UTC, and on PostgreSQL 14+ ``client_connection_check_interval``: an audit killed with ``kill -9`` (no
    chance to cancel its query, as Ctrl-C and SIGTERM do) has its query stopped by the server within seconds,
    not when the query ends and its rows find nobody to read them. Older servers have no such setting; there
    ``--query-timeout`` (``statement_timeout``) is the bound."""
    settings = "SET TIMEZONE = UTC"
    if server_version >= 140000:
        settings += f"; SET client_connection_check_interval = {CLIENT_CHECK_MS}"
    return settings


def connect_postgres(url: str, timeout: float | None) -> tuple[Connection, Any]:
    """A psycopg connection with the options Ibis's PostgreSQL backend uses (UTC, the statement timeout)."""
    from governance.intake.engine import _missing_extra

    try:
        import psycopg
    except ImportError as exc:
        raise _missing_extra("PostgreSQL", "warehouse", exc) from exc
    shown = redact_url(url)
    parts = urlsplit(url)
    options: dict[str, Any] = {"connect_timeout": 10}
    if timeout is not None:
        options["options"] = f"-c statement_timeout={int(timeout * 1000)}"
    try:
        db = psycopg.connect(
            host=parts.hostname or "localhost",
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
            dbname=parts.path.lstrip("/") or None,
            autocommit=True,  # each read its own statement: no transaction left open between them
            **options,
        )
        db.execute(_session_settings(db.info.server_version))
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"Could not connect to the PostgreSQL server at {shown} ({reason.replace(parts.password or chr(0), '***')}); "
            "check the host, port, database and user, that the server is running, and that you may log in."
        ) from exc
    return Connection(backend="postgres", url=shown, ibis=None), db
