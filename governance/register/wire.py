"""PostgreSQL writes sent through libpq's pipeline (``psycopg.pq``), past psycopg's cursors.

A register write waits for the server twice: BEGIN with the lock and the chain head, then its rows and events
with COMMIT. psycopg's cursor and pipeline objects spent about 0.1 ms of processor time on each of those
exchanges (more than the server took to answer); libpq itself spends a few microseconds. The statements are
prepared once per connection, in the pipeline of their first use, so the server plans them once too.
"""

from __future__ import annotations

import functools
import hashlib
import re
import select
import weakref
from collections.abc import Sequence
from typing import Any

import psycopg  # this module is imported only where PostgreSQL is used

_ON: weakref.WeakKeyDictionary[Any, Pipeline] = weakref.WeakKeyDictionary()  # one per psycopg connection
_SYNC, _FATAL = psycopg.pq.ExecStatus.PIPELINE_SYNC, psycopg.pq.ExecStatus.FATAL_ERROR
_DONE = psycopg.pq.ExecStatus.COMMAND_OK  # a prepare's result when the server did prepare it
# a statement prepared on the connection was gone, or already there (a DEALLOCATE, a pooler): nothing ran
STATEMENTS_LOST = (psycopg.errors.InvalidSqlStatementName, psycopg.errors.DuplicatePreparedStatement)
_INT8, _TEXT = 20, 25
_INTEGERS = frozenset({20, 21, 23})  # int8, int2, int4
_INTEGER_ARRAYS = frozenset({1005, 1007, 1016})
_PLACEHOLDER = re.compile(r"%s")

Step = tuple[str, Sequence[Any] | None]
"""A statement (``%s`` for each parameter) and its parameters by position, prepared; ``None``: no parameters,
sent as it is (BEGIN, COMMIT)."""


def pipeline(dbapi: Any) -> Pipeline:
    """The :class:`Pipeline` of a psycopg connection (what is prepared on it is kept with it)."""
    found = _ON.get(dbapi)
    if found is None:
        found = _ON[dbapi] = Pipeline(dbapi)
    return found


class Pipeline:
    """Exchanges with the server on one psycopg connection: steps sent together, each run after the one before
    it, then one wait for all their results."""

    def __init__(self, dbapi: Any) -> None:
        self.pgconn, self.encoding = dbapi.pgconn, dbapi.info.encoding
        self.prepared: set[bytes] = set()  # the statements prepared on this connection, by name
        self.preparing: list[bytes] = []  # those prepared by this exchange
        # what this exchange sent, in order: a prepare (its name) or a step (None)
        self.sent: list[bytes | None] = []
        # a statement was missing or already there: ``prepared`` is read again from the server before the next
        self.stale = False

    def run(self, steps: Sequence[Step], *, prepare: bool = True) -> list[Any]:
        """The result of each step (``PGresult``), or the first error, raised as psycopg's (the steps after it
        were not run; a transaction the steps began stays failed until it is rolled back). ``prepare=False``: the
        steps are planned each time, for statements of many shapes (a batch of each size), which would otherwise
        pile up on the server as prepared statements."""
        pgconn, self.preparing, self.sent = self.pgconn, [], []
        if self.stale:
            self._reread()
        pgconn.enter_pipeline_mode()
        try:
            for sql, parameters in steps:
                self._send(sql, parameters, prepare)
            pgconn.pipeline_sync()
            results = self._receive()
        except BaseException:
            self.prepared.difference_update(self.preparing)
            raise
        finally:
            if pgconn.pipeline_status:
                try:
                    pgconn.exit_pipeline_mode()
                except psycopg.OperationalError:  # results left unread: an interrupted wait
                    pgconn.finish()  # the connection cannot be used again; the pool replaces it
        failed = next((r for r in results if r.status == _FATAL), None)
        if failed is not None:
            self._settle(results)
            error = psycopg.errors.error_from_result(failed, encoding=self.encoding)
            # a DEALLOCATE, or a pooler that moved us to another server connection: read what is there next time
            self.stale = isinstance(error, STATEMENTS_LOST)
            raise error
        return [result for result, name in zip(results, self.sent, strict=True) if name is None]

    def _settle(self, results: list[Any]) -> None:
        """After a failed exchange: the prepares before the failure stand; the one that failed, and those after it
        (not run), do not."""
        self.prepared.difference_update(
            name for result, name in zip(results, self.sent, strict=True) if name and result.status != _DONE
        )

    def _reread(self) -> None:
        """What is prepared on this connection, as the server says (the connection idle, between transactions)."""
        result = self.pgconn.exec_(b"SELECT name FROM pg_prepared_statements")
        self.prepared = {bytes(result.get_value(row, 0) or b"") for row in range(result.ntuples)}
        self.stale = False

    def _send(self, sql: str, parameters: Sequence[Any] | None, prepare: bool) -> None:
        pgconn = self.pgconn
        if parameters is None:
            pgconn.send_query_params(sql.encode(), None)
            self.sent.append(None)
            return
        values = _texts(parameters, self.encoding)
        types = tuple([_INT8 if type(value) is int else _TEXT for value in parameters])
        if not prepare:
            pgconn.send_query_params(_numbered(sql), values, types)
            self.sent.append(None)
            return
        name = _name(sql, types)
        if name not in self.prepared:
            pgconn.send_prepare(name, _numbered(sql), types)
            self.prepared.add(name)
            self.preparing.append(name)
            self.sent.append(name)
        pgconn.send_query_prepared(name, values)
        self.sent.append(None)

    def _receive(self) -> list[Any]:
        """Every result up to the pipeline's sync point: one for each thing sent, in order."""
        pgconn, fileno = self.pgconn, self.pgconn.socket
        while pgconn.flush():  # the steps not all sent yet: the socket is full
            select.select([fileno], [fileno], [])
            pgconn.consume_input()
        results: list[Any] = []
        while True:
            while pgconn.is_busy():
                select.select([fileno], [], [])
                pgconn.consume_input()
            result = pgconn.get_result()
            if result is None:
                continue  # the end of one statement's results
            if result.status == _SYNC:
                return results
            results.append(result)


def row(result: Any, encoding: str) -> dict[str, Any] | None:
    """The first row of a result by column name, in Python's types (text, whole numbers, lists of them)."""
    if result.ntuples == 0:
        return None
    return {
        result.fname(column).decode(encoding): _value(
            result.ftype(column), result.get_value(0, column), encoding
        )
        for column in range(result.nfields)
    }


def changed(result: Any) -> int:
    """The rows a statement's result says it changed."""
    status = result.command_status or b""
    last = status.split()[-1:] if status else []
    return int(last[0]) if last and last[0].isdigit() else 0


def _value(oid: int, raw: bytes | None, encoding: str) -> Any:
    if raw is None:
        return None
    if oid in _INTEGERS:
        return int(raw)
    if oid in _INTEGER_ARRAYS:
        inside = raw.decode()[1:-1]
        return [int(item) for item in inside.split(",")] if inside else []
    return raw.decode(encoding)


def _texts(parameters: Sequence[Any], encoding: str) -> list[bytes | None]:
    """Parameters in PostgreSQL's text form (:func:`_text`), text and whole numbers without a call of ours each:
    a batch of checklist answers sends thousands."""
    values = [
        value.encode(encoding)
        if type(value) is str
        else None
        if value is None
        else str(value).encode()
        if type(value) is int
        else _text(value, encoding)
        for value in parameters
    ]
    if b"\x00" in b"".join([value for value in values if value is not None]):
        for value in parameters:
            _text(value, encoding)  # raises for the text that holds NUL
    return values


def _text(value: Any, encoding: str) -> bytes | None:
    """A parameter in PostgreSQL's text form."""
    if value is None:
        return None
    if type(value) is str:
        if "\x00" in value:  # libpq takes C strings: the text would be cut here, silently
            raise psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        return value.encode(encoding)
    if type(value) is int:
        return str(value).encode()
    raise TypeError(f"no text form for a parameter of type {type(value).__name__}")


@functools.lru_cache(maxsize=256)
def _name(sql: str, types: tuple[int, ...]) -> bytes:
    """The prepared statement's name: the same statement with the same types gets the same name."""
    return b"gov_" + hashlib.sha256(f"{sql}\x00{types}".encode()).hexdigest()[:24].encode()


@functools.lru_cache(maxsize=256)
def _numbered(sql: str) -> bytes:
    """``%s`` placeholders as libpq's ``$1``, ``$2``, ..."""
    count = iter(range(1, 1 << 16))
    return _PLACEHOLDER.sub(lambda _match: f"${next(count)}", sql).encode()
