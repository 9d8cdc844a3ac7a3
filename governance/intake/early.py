"""The count-table query sent ahead: it runs in the engine while the audit loads the rest (issue 14).

An audit of saved decisions in DuckDB or PostgreSQL waits for one ``GROUP BY``; loading the audit's own libraries
(numpy, the result models, the policy: about half a second of processor time, benchmarks/engine) does not need its
answer. So the command starts a thread that connects, reads the columns and sends that query (DuckDB and psycopg
release the GIL while the engine works), and the audit takes the answer when it asks the same SQL on the same
source: the wall time becomes the longer of the two instead of their sum. The command waits (at most
``HEAD_START`` seconds) until the query is on its way before it loads the rest: both threads importing at once
share one interpreter lock, and the engine, not the imports, is the long part (measured: PostgreSQL got the query
0.5 s later without the wait, benchmarks/engine). The most the wait can cost is the loading itself (about half a
second, when connecting is slow and the query quick); the bound keeps a connection that hangs from holding the
command back longer.

Nothing else changes: the audit opens the source and asks its queries at the same points as before, and gets the
same answer or the same error in the same words (the thread keeps the exception; the audit raises it where it
would have met it). A query sent ahead that nobody takes (the audit failed first, or asked something else) is
stopped in the engine and its thread joined before the command returns.

While the engine counts, the interpreter hands its lock over every ``QUICK_SWITCH`` seconds instead of every 5 ms:
DuckDB's Python client takes the lock between two pieces of the query's work (to check for ^C), so with the
default interval the thread that runs the query waited up to 5 ms each time while the audit loaded its libraries,
and DuckDB ran on about one and a half of its two threads (measured on 50 million rows beside 0.6 s of Python
work: the query's thread waited 0.36-0.47 s for the lock with the default, 0.04-0.22 s with 0.1 ms; see
benchmarks/README.md). The interval is put back when the last query counting ends (two audits in threads), unless
the caller chose another one meanwhile.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.intake.sql_source import SqlSource

THREAD_NAME = "governance-count-query"
CLOSE_THREAD_NAME = "governance-close-source"
HEAD_START = 3.0  # at most this many seconds the command waits for the query to be sent (a slow connection)
QUICK_SWITCH = 0.0001  # seconds between hand-overs of the interpreter lock while the engine counts
Rows = tuple[list[str], list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Where:
    """Which source an audit opens: a query sent ahead is taken only by an audit that opens the same one."""

    connection: str
    table: str | None
    query: str | None
    timeout: float | None
    file: str | None


class EarlyQuery:
    """A thread that opens a source and runs one SQL statement on it; the source, the rows or the error kept.

    ``open_source()`` connects and reads the schema (``None``: not a plain-SQL source); ``prepare(source)`` gives
    the SQL to run, or ``None`` when the audit's first query cannot be known (a missing column, say)."""

    def __init__(
        self,
        open_source: Callable[[], SqlSource | None],
        prepare: Callable[[SqlSource], str | None],
        *,
        local: bool = False,
    ) -> None:
        self.source: SqlSource | None = None
        self._local = local  # DuckDB in this process: opening it cannot hang on a server
        self.sql: str | None = None
        self._cursor: Any = None
        self._opened = threading.Event()
        self._sent = threading.Event()  # the query is on its way (or nothing will be sent)
        # The thread is over. Not Thread.is_alive(): in Python 3.11 a join() interrupted by ^C marks a thread that
        # still runs as stopped, and the query would be left running in the engine.
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._stopping = False
        self._open_error: BaseException | None = None
        self._result: Rows | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(open_source, prepare), name=THREAD_NAME, daemon=True
        )
        self._thread.start()

    def _run(
        self, open_source: Callable[[], SqlSource | None], prepare: Callable[[SqlSource], str | None]
    ) -> None:
        try:
            source = open_source()
            self.sql = prepare(source) if source is not None else None
            if source is not None and self.sql is not None:
                self._cursor = source.db.cursor()
                source.early = self
            self.source = source
        except BaseException as exc:  # kept for the audit, which raises it where it opens the source
            self._open_error = exc
        finally:
            self._opened.set()
        try:
            with self._lock:
                if self._open_error is not None or self.sql is None or self._stopping:
                    return
            self._sent.set()
            assert self.source is not None
            self._result = self._counted(self.source, self.sql)
        except BaseException as exc:  # kept for the audit, which raises it where it asks
            self._error = exc
        finally:
            self._sent.set()
            self._done.set()

    def _counted(self, source: SqlSource, sql: str) -> Rows:
        """The engine's answer, the interpreter lock handed over quickly meanwhile (see the module's note)."""
        with _quick_switch():
            return source.execute(sql, self._cursor)

    def wait_sent(self, timeout: float) -> None:
        """Wait until the query is sent to the engine (or will not be), at most ``timeout`` seconds."""
        self._sent.wait(timeout)

    def finished(self) -> bool:
        """The thread is over (the answer or the error kept)."""
        return self._done.is_set()

    def opened(self) -> SqlSource | None:
        """The source, once connected and its columns read; the error met doing so."""
        self._opened.wait()
        if self._open_error is not None:
            raise self._open_error
        return self.source

    def answer(self) -> Rows:
        """The rows, once the engine is done; the engine's exception if it failed."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def stop(self) -> None:
        """Stop the query in the engine (DuckDB: interrupt; PostgreSQL: cancel) and wait for the thread.

        A thread still connecting to a server is not waited for (a server that hangs would hold ^C back): it sends
        nothing once it sees ``_stopping``, and ends when the connection is made or fails. A thread opening DuckDB
        is (milliseconds): left inside DuckDB while Python shut down, it aborted the process after the stop's
        sentence ("terminate called without an active exception", or a segmentation fault)."""
        with self._lock:
            self._stopping = True
            connecting = not self._opened.is_set()
        if connecting and not self._local:
            return
        while not self._done.is_set():
            if self._opened.is_set() and self._cursor is not None:
                with contextlib.suppress(Exception):  # the query may end by itself meanwhile
                    self._interrupt()
            self._done.wait(0.2)  # again if the query had not reached the engine yet
        self._thread.join()

    def _interrupt(self) -> None:
        assert self.source is not None
        if self.source.con.backend == "duckdb":
            self._cursor.interrupt()
        else:  # psycopg 3.2 has cancel_safe (it waits for the server's reply); 3.1 only cancel
            getattr(self.source.db, "cancel_safe", self.source.db.cancel)()


class _Switch:
    """The process's switch interval while queries count: set by the first query to start, put back by the last
    to end (two audits in threads: the first to end put back the interval it found, the second's quick one), and
    only if still ours (a caller that chose its own meanwhile keeps it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counting = 0
        self.found = 0.0
        self.ours = 0.0


_switch = _Switch()


@contextlib.contextmanager
def _quick_switch() -> Iterator[None]:
    with _switch.lock:
        if _switch.counting == 0:
            _switch.found = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch.found, QUICK_SWITCH))
            _switch.ours = sys.getswitchinterval()  # as stored (whole microseconds), to compare with later
        _switch.counting += 1
    try:
        yield
    finally:
        with _switch.lock:
            _switch.counting -= 1
            if _switch.counting == 0 and sys.getswitchinterval() == _switch.ours:
                sys.setswitchinterval(_switch.found)


@dataclass
class _Ahead:
    """The query sent ahead, for the audit that opens the same source."""

    where: Where
    query: EarlyQuery
    claimed: bool = False
    closing: threading.Thread | None = None  # closes the connection once the audit is done with it
    close_taken: bool = False  # the close is under way (by that thread or by discard): it happens once
    closed: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


_pending = threading.local()  # per thread: audits in other threads never take this one's source


def send_ahead(
    where: Where, open_source: Callable[[], SqlSource | None], prepare: Callable[[SqlSource], str | None]
) -> None:
    """Open the source and send its first query in a thread, kept for :func:`claim` (see :class:`EarlyQuery`)."""
    discard()
    query = EarlyQuery(open_source, prepare, local=where.connection.startswith("duckdb"))
    _pending.ahead = _Ahead(where, query)
    try:
        query.wait_sent(
            HEAD_START
        )  # the engine's work first: the imports that follow need the interpreter lock
    except BaseException:  # ^C while connecting: the query is never sent, the thread ended
        discard()
        raise


def claim(where: Where) -> SqlSource | None:
    """The source opened ahead for ``where`` (its query running or done), or ``None``; the error met opening it
    is raised here, where the audit would have met it."""
    ahead: _Ahead | None = getattr(_pending, "ahead", None)
    if ahead is None or ahead.claimed or ahead.where != where:
        return None
    ahead.claimed = True
    return ahead.query.opened()


def release(source: SqlSource) -> None:
    """The audit asks nothing more of ``source``: if it is the one opened ahead, close its connection in a thread
    while the audit computes, judges and writes its result (:func:`discard` waits for it). Closing DuckDB's
    database frees what the query read, 15-30 ms of processor time with the interpreter lock released, which
    came after the result was written (measured on 50 million rows, benchmarks/engine)."""
    ahead: _Ahead | None = getattr(_pending, "ahead", None)
    if ahead is None or ahead.query.source is not source or ahead.closing is not None:
        return
    if not ahead.query.finished():  # the query still runs: stopped by discard()
        return
    ahead.closing = threading.Thread(target=_close, args=(ahead, source), name=CLOSE_THREAD_NAME, daemon=True)
    ahead.closing.start()


def _close(ahead: _Ahead, source: SqlSource) -> None:
    """Close the connection unless the other side (the thread or :func:`discard`) already does."""
    with ahead.lock:
        if ahead.close_taken:
            return
        ahead.close_taken = True
    try:
        with contextlib.suppress(Exception):
            source.db.close()
    finally:
        ahead.closed.set()


def _wait_closed(ahead: _Ahead) -> None:
    """Wait for the close even through Ctrl-C or SIGTERM (it takes milliseconds), then let the stop go on: raised at
    once, the stop left a thread closing DuckDB's database while the interpreter shut down, and the connection
    open (tests/intake/test_early.py)."""
    stop: KeyboardInterrupt | None = None
    while not ahead.closed.is_set():
        try:
            ahead.closed.wait()
        except KeyboardInterrupt as exc:
            stop = stop or exc
    if stop is not None:
        raise stop
    if ahead.closing is not None and ahead.closing.ident is not None:
        ahead.closing.join()  # its last step done: no thread is left when the command returns


def discard() -> None:
    """Stop the query sent ahead if it still runs (nobody took it, or the audit failed before asking), and close
    its connection, taken by the audit or not: the command is over (PostgreSQL is told the session ends, rather
    than left to notice the socket close when the process exits). Idempotent; called when the command ends,
    whatever happened."""
    ahead: _Ahead | None = getattr(_pending, "ahead", None)
    _pending.ahead = None
    if ahead is None:
        return
    ahead.query.stop()
    source = ahead.query.source
    if source is not None:
        _close(ahead, source)  # nothing to do if the thread started by release() closes it
        _wait_closed(ahead)
