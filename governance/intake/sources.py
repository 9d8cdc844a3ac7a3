"""Opening an audit's table: plain SQL for DuckDB and PostgreSQL aggregates, Ibis for the rest.

The choice is here, above both readers (:mod:`governance.intake.engine` and :mod:`governance.intake.sql_source`),
so that neither imports the other's way of reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from governance.errors import InputError
from governance.intake import early, sql_source
from governance.intake.data import missing_column_error
from governance.intake.engine import (
    BACKEND_NAMES,
    DEFAULT_CONNECTION,
    NUMERIC_TYPES,
    TableSource,
    _table_expr,
    connect,
    query_error,
    url_scheme,
)
from governance.intake.sql_source import SqlSource


def open_source(
    connection: Any,
    *,
    table: str | None,
    query: str | None,
    columns: Sequence[str],
    fields: dict[str, str],
    numeric: Sequence[str] = (),
    timeout: float | None = None,
    file: str | None = None,
    rows: bool = False,
) -> TableSource | SqlSource:
    """Connect, find the table (or run the query's schema), and check every column an audit reads.

    ``fields`` maps a column to the argument that named it (for the message; ``sensitive`` otherwise); ``numeric``
    lists columns that must hold numbers (weights, scores); ``file`` names a local file that ``query`` reads; ``rows``: the caller
    reads rows in batches (a model), not only aggregates. DuckDB URLs, and PostgreSQL URLs when only aggregates
    are read, are asked in plain SQL (:mod:`governance.intake.sql_source`); everything else through Ibis.
    """
    if (table is None) == (query is None):
        raise InputError(
            "Give either {table} NAME or {query} SQL (one of them) with {connection}.",
            fields=["table", "query", "connection"],
        )
    source: TableSource | SqlSource | None = open_plain(
        connection, table=table, query=query, timeout=timeout, rows=rows, file=file
    )
    if source is None:
        source = _open_ibis(connection, table=table, query=query, timeout=timeout, file=file)
    source.columns = list(columns)
    _check_columns(source, columns, fields, numeric)
    return source


def _scheme(connection: Any) -> str:
    if not isinstance(connection, str):
        return "" if connection is not None else "duckdb"
    return url_scheme(connection)


def open_plain(
    connection: Any,
    *,
    table: str | None,
    query: str | None,
    timeout: float | None,
    rows: bool,
    file: str | None,
    claim: bool = True,
) -> SqlSource | None:
    """Connect in plain SQL and read the schema (``None`` when Ibis reads this connection).

    With ``claim``, a source opened ahead for the same table or query (:mod:`governance.intake.early`) is taken
    as it is."""
    if claim and isinstance(connection, (str, type(None))) and not rows:
        ahead = early.claim(early.Where(connection or DEFAULT_CONNECTION, table, query, timeout, file))
        if ahead is not None:
            return ahead
    scheme = _scheme(connection)
    if scheme == "duckdb":
        _refuse_timeout(timeout, BACKEND_NAMES["duckdb"])
        con, db = sql_source.connect_duckdb(connection or DEFAULT_CONNECTION)
    elif scheme in ("postgres", "postgresql") and not rows:
        con, db = sql_source.connect_postgres(connection, timeout)
    else:
        return None
    source = sql_source.SqlSource(con=con, db=db, table=table, query=query, columns=[], file=file)
    source.read_schema()
    return source


def _refuse_timeout(timeout: float | None, name: str) -> None:
    if timeout is not None:
        raise InputError(
            f"{{query_timeout}} works with PostgreSQL only; leave it out for {name}, whose queries run until done.",
            fields=["query_timeout"],
        )


def _open_ibis(
    connection: Any, *, table: str | None, query: str | None, timeout: float | None, file: str | None
) -> TableSource:
    con = connect(connection, timeout=timeout)
    if con.backend != "postgres":
        _refuse_timeout(timeout, con.name)
    what = file or (f"the table '{table}'" if table else "the query given with {query}")
    try:
        expr = _table_expr(con.ibis, table) if table else con.ibis.sql(query)
        schema = {name: str(dtype) for name, dtype in expr.schema().items()}
    except InputError:
        raise
    except Exception as exc:
        raise query_error(exc, con, what) from exc
    return TableSource(con=con, expr=expr, table=table, query=query, columns=[], schema=schema, file=file)


def _check_columns(
    source: TableSource | SqlSource, columns: Sequence[str], fields: dict[str, str], numeric: Sequence[str]
) -> None:
    schema = source.schema
    for name in columns:
        if name not in schema:
            raise missing_column_error(name, list(schema), source.named, fields.get(name, "sensitive"))
    for name in numeric:
        if not schema[name].lstrip("!").startswith(NUMERIC_TYPES):
            field = fields.get(name, "sensitive")
            raise InputError(
                f"The column '{name}' of {source.named} holds {schema[name]}, but {{{field}}} "
                "needs numbers; give a numeric column or cast it in {query}.",
                fields=[field, "query"],
            )
