"""Reading an audit's table where it lives: DuckDB, PostgreSQL or Spark, through one Ibis expression.

(DuckDB URLs, and PostgreSQL when only aggregates are read, send the same query as plain SQL instead:
:mod:`governance.intake.sql_source`; :mod:`governance.intake.sources` chooses.)

Only aggregates leave the engine: the count table (``GROUP BY`` sensitive columns, label, prediction with
``COUNT(*)``, ``SUM(weight)``, ``SUM(weight * weight)``), the distinct label values, a row count and a content
fingerprint. Model audits read the needed columns as Arrow batches, so memory stays bounded by the batch size.

Connection URLs may carry a password: they are redacted (``redact_url``) before they reach any output, and
every failure (missing table or column, a wrong type, an unreachable server, a refused permission, a timeout)
becomes one sentence naming the backend, the object and the fix (:class:`~governance.errors.InputError`).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from governance.errors import InputError
from governance.intake.values import plain, without_decimals
from governance.stops import stop_behind

if TYPE_CHECKING:
    from governance.intake.grouped import Grouped  # numpy: loaded when rows come back, not to send a query

BATCH_ROWS = 1_000_000
DEFAULT_CONNECTION = "duckdb://"
WAREHOUSES = {"bigquery": "BigQuery", "snowflake": "Snowflake", "databricks": "Databricks"}
BACKEND_NAMES = {"duckdb": "DuckDB", "postgres": "PostgreSQL", "pyspark": "Spark", **WAREHOUSES}
_USERINFO = re.compile(r"(://[^/@:?#]*):([^@/?#]*)@")  # user:password@ -> user:***@
_SECRET_PARAMETER = re.compile(
    r"([?&][^=&#]*(?:pass|secret|token|key|credential|auth)[^=&#]*=)[^&#]*", re.IGNORECASE
)
FINGERPRINT_METHOD = (
    "sha256 of the row count, the rows grouped by the audited label, prediction and sensitive columns "
    "(count and summed weights, 10 significant digits), and the sum, minimum and maximum of numeric score, "
    "amount and weight columns"
)


def redact_url(url: str) -> str:
    """The URL without its password or secret query parameters (``postgresql://ana:***@host/db``)."""
    url = _USERINFO.sub(r"\1:***@", url)
    return _SECRET_PARAMETER.sub(r"\1***", url)


def _password(url: str) -> str | None:
    match = _USERINFO.search(url)
    return match.group(0)[len(match.group(1)) + 1 : -1] if match else None


def redact_text(text: str, url: str | None) -> str:
    """``text`` with every spelling of ``url`` (and its password) replaced by the redacted URL."""
    if not url:
        return text
    text = text.replace(url, redact_url(url))
    password = _password(url)
    return text.replace(password, "***") if password else text


@dataclass
class Connection:
    """An open Ibis backend and how to name it in sentences and in ``audit.json``."""

    backend: str  # "duckdb", "postgres" or "pyspark"
    url: str  # redacted
    ibis: Any

    @property
    def name(self) -> str:
        return BACKEND_NAMES.get(self.backend, self.backend)

    @property
    def where(self) -> str:
        return f"{self.name} at {self.url}" if self.url else self.name


def _missing_extra(backend: str, extra: str, exc: Exception) -> InputError:
    return InputError(
        f"Connecting to {backend} needs the optional packages of governance[{extra}] ({exc}); install them with "
        f"pip install 'governance[{extra}]'."
    )


def _spark_session(url: str) -> Any:
    """A Spark session for ``spark://local[2]`` (local mode) or ``spark://HOST:PORT`` (a cluster's master)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise _missing_extra("Spark", "spark", exc) from exc
    rest = url.split("://", 1)[1]
    master = rest if rest.startswith("local") else url
    builder = SparkSession.builder.master(master or "local[*]").appName("governance")
    builder = builder.config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
    # Workers run the model with this interpreter's packages (scikit-learn, pyarrow), not the first python3 on
    # PATH; Spark reads the variable when the session starts.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return builder.getOrCreate()


def url_scheme(url: str) -> str:
    """The kind of database a URL names, without its driver (``postgresql+psycopg://`` is ``postgresql``)."""
    return url.split("://", 1)[0].split("+", 1)[0].lower() if "://" in url else ""


def connect(connection: Any = None, *, timeout: float | None = None) -> Connection:
    """Open ``connection``: a URL (``duckdb://``, ``postgresql://``, ``spark://``) or an open Ibis backend."""
    if connection is not None and not isinstance(connection, str):
        backend = getattr(connection, "name", None)
        if backend is None or not hasattr(connection, "table"):
            raise InputError(
                "The connection is neither a URL nor an open Ibis backend; pass a URL such as duckdb:// or "
                "postgresql://user@host/db, or ibis.connect(...)."
            )
        return Connection(backend=str(backend), url="", ibis=connection)
    url = connection or DEFAULT_CONNECTION
    scheme = url_scheme(url)
    shown = redact_url(url)
    try:
        import ibis
    except ImportError as exc:
        raise _missing_extra("DuckDB", "duckdb", exc) from exc
    if scheme == "duckdb":
        path = url.split("://", 1)[1]
        try:
            con = ibis.duckdb.connect(path or ":memory:", read_only=bool(path))
        except Exception as exc:
            raise InputError(
                f"The DuckDB database {path} could not be opened ({_first_line(exc)}); check the path after "
                "duckdb:// (leave it empty for an in-memory database that reads files)."
            ) from exc
        return Connection(backend="duckdb", url=shown, ibis=con)
    if scheme in ("postgres", "postgresql"):
        return Connection(backend="postgres", url=shown, ibis=_connect_postgres(url, shown, timeout))
    if scheme == "spark":
        session = _spark_session(url)
        return Connection(backend="pyspark", url=shown, ibis=ibis.pyspark.connect(session))
    if scheme in WAREHOUSES:
        return _connect_warehouse(scheme, url, shown)
    raise InputError(
        f"The connection {shown} is not one governance can open; use duckdb:// (the default), "
        "postgresql://USER@HOST/DATABASE, spark://local[2], bigquery://, snowflake:// or databricks://."
    )


def _connect_warehouse(scheme: str, url: str, shown: str) -> Connection:
    """BigQuery, Snowflake or Databricks through Ibis's own URL (their packages are the user's to install)."""
    import ibis

    try:
        return Connection(backend=scheme, url=shown, ibis=ibis.connect(url))
    except ImportError as exc:
        raise _missing_extra(WAREHOUSES[scheme], "warehouse", exc) from exc
    except Exception as exc:
        raise InputError(
            f"Could not connect to {WAREHOUSES[scheme]} at {shown} ({redact_text(_first_line(exc), url)}); "
            "check the account, project or host, and your login."
        ) from exc


def _connect_postgres(url: str, shown: str, timeout: float | None) -> Any:
    try:
        import ibis
        import psycopg  # noqa: F401  (a clear message when the extra is missing)
    except ImportError as exc:
        raise _missing_extra("PostgreSQL", "warehouse", exc) from exc
    parts = urlsplit(url)
    options: dict[str, Any] = {"connect_timeout": 10}
    if timeout is not None:
        options["options"] = f"-c statement_timeout={int(timeout * 1000)}"
    try:
        return ibis.postgres.connect(
            host=parts.hostname or "localhost",
            port=parts.port or 5432,
            user=parts.username,
            password=parts.password,
            database=parts.path.lstrip("/") or None,
            **options,
        )
    except Exception as exc:
        reason = _first_line(exc).replace(parts.password or "\0", "***")
        raise InputError(
            f"Could not connect to the PostgreSQL server at {shown} ({reason}); check the host, port, database "
            "and user, that the server is running, and that you may log in."
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:300]


_LOST_STATES = (
    "08",
    "57P01",
    "57P02",
    "57P03",
)  # connection exceptions; admin or crash shutdown; starting up
_LOST_WORDS = (
    "server closed the connection",
    "terminating connection",
    "consuming input failed",
    "connection is lost",
)


def _connection_lost(exc: BaseException, lowered: str) -> bool:
    """Whether the server went away mid-query (a restart, ``pg_terminate_backend``), not a refused query: its
    SQLSTATE where the driver gives one (psycopg, also under Ibis's wrapping), else the libpq words."""
    state = getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None)
    if isinstance(state, str) and state.startswith(_LOST_STATES):
        return True
    return any(words in lowered for words in _LOST_WORDS)


def query_error(exc: BaseException, con: Connection, what: str) -> InputError:
    """One sentence for an engine's failure: what failed, on which backend and object, and the fix (``what`` may
    name the ``query`` field). A Ctrl-C or SIGTERM the engine turned into its own error is raised as that stop."""
    stop = stop_behind(exc)
    if stop is not None:
        raise stop from exc
    kind = type(exc).__name__
    text = _first_line(exc)
    lowered = f"{kind} {exc}".lower()
    if _connection_lost(exc, lowered):
        return InputError(
            f"{con.where} closed the connection while reading {what} ({text}): the server restarted or an "
            "administrator ended the session; run the command again once the server is back.",
            fields=["query"],
        )
    if (
        kind == "TableNotFound"
        or "undefinedtable" in lowered
        or "table_or_view_not_found" in lowered
        or ("catalog" in lowered and "does not exist" in lowered)
    ):
        return InputError(
            f"{what} names a table that does not exist in {con.where} ({text}); check the name and its schema "
            "(schema.table), or the spelling in {query}.",
            fields=["query"],
        )
    if "insufficientprivilege" in lowered or "permission denied" in lowered:
        return InputError(
            f"{con.where} refused to read {what} ({text}); ask the database owner to grant this user SELECT on it.",
            fields=["query"],
        )
    if "querycanceled" in lowered or "timeout" in lowered or "canceling statement" in lowered:
        return InputError(
            f"{con.where} stopped {what} at the time limit ({text}); raise {{query_timeout}}, or audit a smaller "
            "query.",
            fields=["query", "query_timeout"],
        )
    if "operationalerror" in lowered or ("connection" in lowered and "refused" in lowered):
        return InputError(
            f"{con.where} could not be reached while reading {what} ({text}); check that the server is running.",
            fields=["query"],
        )
    return InputError(
        f"{con.name} could not run {what} ({kind}: {text}); check the table, the columns and the SQL.",
        fields=["query"],
    )


class SourceNames:
    """How an audit's table is named in sentences, whichever way it is read (Ibis or plain SQL)."""

    con: Connection
    table: str | None
    file: str | None  # a local file read through DuckDB: named by its file name in messages

    @property
    def what(self) -> str:
        if self.file:
            return self.file
        return f"the table '{self.table}'" if self.table else "the query given with {query}"

    @property
    def named(self) -> str:
        """The source in column messages: ``log.parquet``, or ``decisions (PostgreSQL)``."""
        return self.file or f"{self.table or 'the query'} ({self.con.name})"

    def pandas_batches(
        self, open_reader: Callable[[], Iterable[Any]], decimals: Sequence[str] = ()
    ) -> Iterator[Any]:
        """The reader's non-empty Arrow batches as pandas frames; the engine's failure becomes one sentence.
        ``decimals``: columns the engine sent as float64 that are decimals (whole values become int64)."""
        try:
            for batch in open_reader():
                if batch.num_rows:
                    yield without_decimals(batch, decimals).to_pandas()
        except InputError:
            raise
        except Exception as exc:
            raise query_error(exc, self.con, self.what) from exc


@dataclass
class TableSource(SourceNames):
    """A checked table or query on an open connection, with the columns an audit reads."""

    con: Connection
    expr: Any  # ibis Table
    table: str | None
    query: str | None
    columns: list[str]
    schema: dict[str, str]
    file: str | None = None  # a local file read through DuckDB: named by its file name in messages

    def run(self, expr: Any, what: str | None = None) -> Any:
        """Execute an Ibis expression to pandas, turning the engine's failure into one sentence."""
        try:
            return expr.execute()
        except InputError:
            raise
        except Exception as exc:
            raise query_error(exc, self.con, what or self.what) from exc

    def row_count(self) -> int:
        return int(self.run(self.expr.count()))

    def null_count(self, column: str) -> int:
        return int(self.run(self.expr[column].isnull().sum()) or 0)

    def distinct_values(self, column: str, limit: int = 1001) -> list[Any]:
        """Up to ``limit`` distinct non-missing values of a column (more means: amounts, not classes)."""
        col = self.expr[column]
        frame = self.run(self.expr.filter(col.notnull()).select(col).distinct().limit(limit))
        return [plain(value) for value in frame[column].tolist()]

    def group_counts(
        self,
        keys: Sequence[str],
        weights: str | None,
        *,
        limit: int | None = None,
        checks: bool = False,
        exact: bool = False,
    ) -> Grouped:
        """Rows per combination of ``keys``: ``n__``, ``w__`` (summed weights) and ``w2__`` (summed squares).

        ``limit``: at most ``limit + 1`` groups come back (more means the keys hold amounts, not classes).
        ``checks`` adds, per group, the missing weights (``wnull__``) and the smallest and largest weight
        (``wmin__``, ``wmax__``), so that one pass checks the weights, counts, and gives the fingerprint's sums.
        ``exact``: the engine's decimals as they came (``Grouped.of_rows``).
        """
        from governance.intake.grouped import Grouped

        expr = count_table_expr(self.expr, keys, weights, checks=checks)
        return Grouped.of_frame(self.run(expr.limit(limit + 1) if limit is not None else expr), exact=exact)

    def numeric_summary(self, columns: Sequence[str]) -> dict[str, list[float | None]]:
        """Sum, minimum and maximum of numeric columns (for the fingerprint)."""
        if not columns:
            return {}
        t = self.expr
        aggregates: dict[str, Any] = {}
        for i, column in enumerate(columns):
            value = t[column].cast("float64")
            aggregates |= {f"s{i}": value.sum(), f"lo{i}": value.min(), f"hi{i}": value.max()}
        row = self.run(t.aggregate(**aggregates)).iloc[0]
        return {
            c: [as_float(row[f"s{i}"]), as_float(row[f"lo{i}"]), as_float(row[f"hi{i}"])]
            for i, c in enumerate(columns)
        }

    def select_sql(self, columns: Sequence[str]) -> str:
        """The SQL Ibis writes for these columns of the table or query (to wrap in another query)."""
        return str(self.con.ibis.compile(self.expr.select(list(columns))))

    def frame_of_sql(self, sql: str) -> Any:
        """The rows of a query in the backend's own SQL, as pandas, decimals as plain numbers."""
        from governance.intake.values import plain_frame

        return plain_frame(self.run(self.con.ibis.sql(sql)))

    def group_batches(self, keys: Sequence[str], batch_rows: int = BATCH_ROWS) -> Iterator[Any]:
        """The count table over ``keys`` (``n__`` per combination) as pandas frames of at most ``batch_rows`` rows."""
        expr = count_table_expr(self.expr, keys, None)
        yield from self.pandas_batches(lambda: expr.to_pyarrow_batches(chunk_size=batch_rows))

    def batches(self, columns: Sequence[str], batch_rows: int = BATCH_ROWS) -> Iterator[Any]:
        """The columns as pandas DataFrames of at most ``batch_rows`` rows each (Arrow batches from the engine)."""
        expr = self.expr.select(list(columns))
        loose = [c for c in columns if _loose_decimal(expr[c].type())]
        if loose:
            expr = expr.mutate(**{c: expr[c].cast("float64") for c in loose})
        yield from self.pandas_batches(lambda: expr.to_pyarrow_batches(chunk_size=batch_rows), loose)


def _loose_decimal(dtype: Any) -> bool:
    """A decimal the engine sends as float64: Arrow's decimals refuse PostgreSQL's 'NaN' and 'Infinity', and
    Ibis reads NUMERIC without precision as DECIMAL(38, 9), which refuses a 10th decimal. Whole decimals of up
    to 18 digits come as they are (exact in int64)."""
    return bool(dtype.is_decimal() and not (dtype.scale == 0 and (dtype.precision or 99) <= 18))


def count_table_expr(t: Any, keys: Sequence[str], weights: str | None, *, checks: bool = False) -> Any:
    """The one engine-neutral query of an audit: rows, summed weights and squares per combination of ``keys``."""
    aggregates: dict[str, Any] = {"n__": t.count()}
    if weights:
        w = t[weights].cast("float64")
        aggregates |= {"w__": w.sum(), "w2__": (w * w).sum()}
        if checks:
            aggregates |= {"wnull__": t[weights].isnull().sum(), "wmin__": w.min(), "wmax__": w.max()}
    return t.group_by(list(keys)).aggregate(**aggregates)


def count_table_sql(
    table: str, schema: dict[str, str], keys: Sequence[str], weights: str | None, dialect: str
) -> str:
    """The count-table query as ``dialect`` SQL (BigQuery, Snowflake, Databricks ...), compiled offline."""
    import ibis

    database, _, name = table.rpartition(".")
    unbound = ibis.table(schema, name=name, database=database or None)
    return str(ibis.to_sql(count_table_expr(unbound, keys, weights), dialect=dialect))


def as_float(value: Any) -> float | None:
    """A number from an engine's aggregate, or ``None`` for NULL, NaN or a value that is not a number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number


NUMERIC_TYPES = ("int", "uint", "float", "decimal")


def _table_expr(backend: Any, table: str) -> Any:
    """``schema.table`` or ``table``: Ibis takes the schema as ``database``."""
    if "." in table and not table.startswith('"'):
        database, name = table.rsplit(".", 1)
        return backend.table(name, database=database)
    return backend.table(table)


CHECK_COLUMNS = ("wnull__", "wmin__", "wmax__")  # the checks' columns: not part of the fingerprint
COUNT = "n__"  # the rows of each combination in the count table (count_table_expr, sql_source.count_sql)
ENGINE_NAMES = (COUNT, "w__", "w2__", *CHECK_COLUMNS)  # every name those queries give their counts and sums


def fingerprint(
    counts: Grouped, n_rows: int, numeric: dict[str, list[float | None]], *, decimals_as_text: bool = False
) -> str:
    """A content hash the engine can recompute: grouped counts and numeric summaries, order-free.
    ``decimals_as_text``: an engine's decimals spelled as text ('0.50'), as fingerprints recorded before they
    were numbers are (``counts`` then from ``group_counts(exact=True)``)."""
    import hashlib

    def canonical(value: Any) -> Any:
        return str(value) if decimals_as_text and isinstance(value, Decimal) else _canonical(value)

    columns = [c for c in counts.names if c not in CHECK_COLUMNS]
    rows = sorted(json.dumps([canonical(v) for v in row], default=str) for row in counts.rows(columns))
    payload = {
        "columns": columns,
        "rows": rows,
        "n_rows": n_rows,
        "numeric": {k: [_canonical(v) for v in vs] for k, vs in sorted(numeric.items())},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _canonical(value: Any) -> Any:
    """One spelling per value across engines: missing as None, numbers to 10 significant digits."""
    from governance.intake.grouped import is_missing

    value = plain(value)
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return f"{float(value):.10g}"
    return str(value)
