"""The count-table query sent ahead: it runs in the engine while the audit loads the rest (issue 14).

An audit of saved decisions in DuckDB or PostgreSQL waits for one ``GROUP BY``; loading the audit's own libraries
(numpy, scipy, the result models: about a second of processor time, benchmarks/engine) does not need its
answer. So the command opens the source and sends that query first, from a thread (DuckDB and psycopg release
the GIL while the engine works), and the audit takes the answer when it asks the same SQL on the same source:
the wall time becomes the longer of the two instead of their sum.

Nothing else changes: the audit opens the source and asks its queries at the same points as before, and gets the
same answer or the same error in the same words (the thread keeps the engine's exception; the audit raises it
where it would have met it). A query sent ahead that nobody takes (the audit failed first, or asked something
else) is stopped in the engine and its thread joined, before the command returns.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.intake.sql_source import SqlSource

THREAD_NAME = "governance-count-query"


@dataclass(frozen=True)
class Where:
    """Which source an audit opens: a query sent ahead is taken only by an audit that opens the same one."""

    connection: str
    table: str | None
    query: str | None
    timeout: float | None
    file: str | None


class EarlyQuery:
    """One SQL statement running in a thread on a source's connection; its rows or its exception kept."""

    def __init__(self, source: SqlSource, sql: str) -> None:
        self.source, self.sql = source, sql
        self._cursor = source.db.cursor()
        self._result: tuple[list[str], list[tuple[Any, ...]]] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = self.source.execute(self.sql, self._cursor)
        except BaseException as exc:  # kept for the audit, which raises it where it asks
            self._error = exc

    def answer(self) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The rows, once the engine is done; the engine's exception if it failed."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def stop(self) -> None:
        """Stop the query in the engine (DuckDB: interrupt; PostgreSQL: cancel) and wait for the thread."""
        if self._thread.is_alive():
            with contextlib.suppress(Exception):  # the query may end by itself meanwhile
                if self.source.con.backend == "duckdb":
                    self._cursor.interrupt()
                else:  # psycopg 3.2 has cancel_safe (it waits for the server's reply); 3.1 only cancel
                    getattr(self.source.db, "cancel_safe", self.source.db.cancel)()
        self._thread.join()


@dataclass
class _Ahead:
    """The source opened ahead (or the error opening it), for the audit that opens the same one."""

    where: Where
    source: SqlSource | None
    error: Exception | None = None
    query: EarlyQuery | None = None
    claimed: bool = False


_pending = threading.local()  # per thread: audits in other threads never take this one's source


def send_ahead(where: Where, open_source: Any, prepare: Any) -> None:
    """Open the source now and keep it (or the error) for :func:`claim`; ``prepare(source)`` returns the SQL to
    send ahead, or ``None`` when the audit's first query cannot be known yet (a missing column, say)."""
    discard()
    try:
        source = open_source()
    except Exception as exc:  # the audit meets the same error where it opens the source
        _pending.ahead = _Ahead(where, None, exc)
        return
    if source is None:
        return
    ahead = _Ahead(where, source)
    _pending.ahead = ahead
    sql = prepare(source)
    if sql is not None:
        ahead.query = source.early = EarlyQuery(source, sql)


def claim(where: Where) -> SqlSource | None:
    """The source opened ahead for ``where`` (its query running or done), or ``None``; the error met opening it
    is raised here, where the audit would have met it."""
    ahead: _Ahead | None = getattr(_pending, "ahead", None)
    if ahead is None or ahead.claimed or ahead.where != where:
        return None
    ahead.claimed = True
    if ahead.error is not None:
        raise ahead.error
    return ahead.source


def discard() -> None:
    """Stop the query sent ahead if it still runs (nobody took it, or the audit failed before asking), and close
    a connection the audit never took. Idempotent; called when the command ends, whatever happened."""
    ahead: _Ahead | None = getattr(_pending, "ahead", None)
    _pending.ahead = None
    if ahead is None or ahead.source is None:
        return
    if ahead.query is not None:
        ahead.query.stop()
    if not ahead.claimed:
        with contextlib.suppress(Exception):
            ahead.source.db.close()
