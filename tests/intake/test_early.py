"""A query sent ahead (governance.intake.early): the audit gets the same answer, or the same error in the same
words, when it asks; anything it does not take is stopped in the engine and its thread ended."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from governance.errors import InputError
from governance.intake import early
from governance.intake.sources import open_plain, open_source
from governance.intake.sql_source import SqlSource

ENDLESS = "SELECT 'a' AS sex, 1 AS hired FROM range(10000000000)"  # a GROUP BY over it runs for hours


def _send(query: str, sql: str | None, connection: str = "duckdb://") -> early.Where:
    where = early.Where(connection, None, query, None, None)
    early.send_ahead(
        where,
        lambda: open_plain(connection, table=None, query=query, timeout=None, rows=False, file=None),
        lambda source: sql,
    )
    return where


def _open(query: str, connection: str = "duckdb://") -> SqlSource:
    source = open_source(connection, table=None, query=query, columns=["sex", "hired"], fields={})
    assert isinstance(source, SqlSource)
    return source


def _count_threads() -> int:
    return sum(t.name == early.THREAD_NAME for t in threading.enumerate())


def test_the_audit_takes_the_answer_of_the_same_sql() -> None:
    query = "SELECT 'a' AS sex, 1 AS hired FROM range(5)"
    sql = f"SELECT COUNT(*) FROM ({query}) AS governance_query"
    _send(query, sql)
    try:
        source = _open(query)
        assert source.early is not None
        assert source.fetch(sql)[1] == [(5,)]
        assert source.early is None
    finally:
        early.discard()
    assert _count_threads() == 0


def test_another_question_stops_the_query_sent_ahead_first() -> None:
    _send(ENDLESS, f"SELECT sex, COUNT(*) FROM ({ENDLESS}) AS q GROUP BY sex")
    try:
        source = _open(ENDLESS)
        assert source.fetch("SELECT 42")[1] == [(42,)]
        assert _count_threads() == 0
    finally:
        early.discard()


def test_an_engine_error_is_raised_where_the_audit_asks_in_the_usual_words() -> None:
    query = "SELECT 'a' AS sex, 1 AS hired FROM range(5)"
    bad = f"SELECT no_such_column FROM ({query}) AS governance_query"
    with pytest.raises(InputError) as asked_directly:
        _open(query).fetch(bad)
    _send(query, bad)
    try:
        source = _open(query)
        with pytest.raises(InputError, match="DuckDB could not run") as sent_ahead:
            source.fetch(bad)
    finally:
        early.discard()
    assert str(sent_ahead.value) == str(asked_directly.value)


def test_an_error_opening_the_source_is_raised_where_the_audit_opens_it(tmp_path: Path) -> None:
    missing = f"duckdb://{tmp_path / 'nowhere.duckdb'}"
    _send("SELECT 1", None, connection=missing)
    try:
        with pytest.raises(InputError, match=r"The DuckDB database .*nowhere.duckdb could not be opened"):
            _open("SELECT 1", connection=missing)
    finally:
        early.discard()
    assert _count_threads() == 0


def test_a_query_nobody_takes_is_stopped_when_the_command_ends() -> None:
    _send(ENDLESS, f"SELECT sex, COUNT(*) FROM ({ENDLESS}) AS q GROUP BY sex")
    early.discard()
    assert _count_threads() == 0
    assert early.claim(early.Where("duckdb://", None, ENDLESS, None, None)) is None


def test_ctrl_c_while_waiting_for_the_query_to_be_sent_stops_the_thread() -> None:
    """^C while the command waits (at most HEAD_START) for a slow connection: nothing is left sent ahead, no
    thread runs on, and the query is never sent later."""
    import signal
    import socket

    with socket.create_server(("127.0.0.1", 0)) as mute:  # accepts, never answers: a hanging server
        port = mute.getsockname()[1]
        hung: list[socket.socket] = []

        def accept_then_hang_up() -> None:
            hung.append(mute.accept()[0])
            threading.Event().wait(1.5)  # ^C arrives meanwhile; then the connection attempt fails
            hung[0].close()

        server = threading.Thread(target=accept_then_hang_up, daemon=True)
        server.start()
        main = threading.main_thread().ident
        assert main is not None
        timer = threading.Timer(0.5, signal.pthread_kill, (main, signal.SIGINT))
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                _send("SELECT 1 AS sex", "SELECT 1", f"postgresql+psycopg://u@127.0.0.1:{port}/db")
            assert server.is_alive(), "^C waited for the hanging connection"
            assert getattr(early._pending, "ahead", None) is None
        finally:
            timer.cancel()
            early.discard()
            server.join()
        for thread in [t for t in threading.enumerate() if t.name == early.THREAD_NAME]:
            thread.join(30)  # the connection failed when the server hung up: the thread ends, sending nothing
        assert _count_threads() == 0


def test_ctrl_c_while_the_audit_waits_for_the_answer_stops_the_query() -> None:
    """^C while the audit waits for the engine's answer, then the command's end: the query is stopped in the
    engine and its thread ended. (Python 3.11's ``Thread.join`` interrupted by ^C marks a running thread as
    stopped, so waiting with ``join`` would leave the query running on the server.)"""
    import signal

    sql = f"SELECT sex, COUNT(*) FROM ({ENDLESS}) AS q GROUP BY sex"
    _send(ENDLESS, sql)
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(0.5, signal.pthread_kill, (main, signal.SIGINT))
    try:
        source = _open(ENDLESS)
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            source.fetch(sql)
    finally:
        timer.cancel()
        early.discard()
    assert _count_threads() == 0


class _Held:
    """A source whose query runs until the test lets it end, so that the test orders how two queries end (the
    interleaving that a real engine gives only by chance)."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.db = SimpleNamespace(cursor=lambda: None)
        self.early: object = None

    def execute(self, _sql: str, _cursor: object) -> tuple[list[str], list[tuple[int]]]:
        self.started.set()
        self.release.wait(30)
        return ["n"], [(1,)]


def _held_query(source: _Held) -> early.EarlyQuery:
    query = early.EarlyQuery(lambda: source, lambda _source: "SELECT 1")  # type: ignore[arg-type,return-value]
    assert source.started.wait(30)
    return query


def test_two_audits_at_once_give_the_switch_interval_back_when_both_end() -> None:
    """Two audits in one process (threads of a web app): the first query to end must not leave the second one's
    quick interval behind, nor put the caller's back while the other still counts."""
    before = sys.getswitchinterval()
    first, second = _Held(), _Held()
    try:
        one, two = _held_query(first), _held_query(second)
        first.release.set()
        one.answer()
        assert sys.getswitchinterval() == pytest.approx(early.QUICK_SWITCH)  # the second still counts
        second.release.set()
        two.answer()
        assert sys.getswitchinterval() == pytest.approx(before)
    finally:
        first.release.set()
        second.release.set()
        sys.setswitchinterval(before)


def test_a_switch_interval_the_caller_sets_meanwhile_is_kept() -> None:
    before = sys.getswitchinterval()
    held = _Held()
    try:
        query = _held_query(held)
        sys.setswitchinterval(0.02)  # the caller's own choice, while the query runs
        held.release.set()
        query.answer()
        assert sys.getswitchinterval() == pytest.approx(0.02)
    finally:
        held.release.set()
        sys.setswitchinterval(before)


def test_the_switch_interval_is_given_back_when_the_query_fails() -> None:
    before = sys.getswitchinterval()
    _send(ENDLESS, "SELECT * FROM no_such_table")
    try:
        source = _open(ENDLESS)
        with pytest.raises(InputError):
            source.fetch("SELECT * FROM no_such_table")
    finally:
        early.discard()
    assert sys.getswitchinterval() == pytest.approx(before)


def test_the_switch_interval_is_given_back_when_the_query_is_stopped() -> None:
    before = sys.getswitchinterval()
    _send(ENDLESS, f"SELECT sex, COUNT(*) FROM ({ENDLESS}) AS q GROUP BY sex")
    early.discard()
    assert _count_threads() == 0
    assert sys.getswitchinterval() == pytest.approx(before)


def test_a_released_source_is_closed_in_a_thread_that_discard_waits_for() -> None:
    """The audit is done with the source (its last query answered): the connection closes while the audit goes
    on, and the command's end waits for that instead of closing it then."""
    query = "SELECT 'a' AS sex, 1 AS hired FROM range(5)"
    sql = f"SELECT COUNT(*) FROM ({query}) AS governance_query"
    _send(query, sql)
    try:
        source = _open(query)
        assert source.fetch(sql)[1] == [(5,)]
        early.release(source)
        early.release(source)  # once is enough
    finally:
        early.discard()
    assert sum(t.name == early.CLOSE_THREAD_NAME for t in threading.enumerate()) == 0
    with pytest.raises(Exception, match=r"[Cc]losed"):
        source.db.execute("SELECT 1")


def test_a_source_not_opened_ahead_is_not_closed_on_release() -> None:
    query = "SELECT 'a' AS sex, 1 AS hired FROM range(5)"
    source = _open(query)
    early.release(source)
    assert source.db.execute("SELECT 42").fetchall() == [(42,)]
    source.db.close()


class _SlowClose:
    """A DuckDB connection whose ``close`` waits until the test lets it go on: closing a database that read a large
    table frees its memory (tens of milliseconds), and a stop can come meanwhile."""

    def __init__(self, db: object) -> None:
        self.db = db
        self.closing = threading.Event()
        self.go_on = threading.Event()
        self.closed = 0

    def close(self) -> None:
        self.closing.set()
        self.go_on.wait(30)
        self.db.close()  # type: ignore[attr-defined]
        self.closed += 1

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)


def test_a_stop_while_the_released_source_closes_waits_for_the_close() -> None:
    """Ctrl-C (or SIGTERM) while the command's end waits for the closing thread: the close ends first, then the
    stop goes on. Raised at once, it left the thread closing DuckDB's database while the interpreter shut down
    (a thread in C++ cut off at exit) and the connection open."""
    import signal

    query = "SELECT 'a' AS sex, 1 AS hired FROM range(5)"
    sql = f"SELECT COUNT(*) FROM ({query}) AS governance_query"
    _send(query, sql)
    main = threading.main_thread().ident
    assert main is not None
    stop = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
    slow: _SlowClose | None = None
    try:
        source = _open(query)
        assert source.fetch(sql)[1] == [(5,)]
        slow = _SlowClose(source.db)
        source.db = slow
        early.release(source)
        assert slow.closing.wait(10)
        stop.start()
        threading.Timer(0.8, slow.go_on.set).start()
        with pytest.raises(KeyboardInterrupt):
            early.discard()
        assert slow.closed == 1, "the stop went on before the connection was closed"
    finally:
        stop.cancel()
        if slow is not None:
            slow.go_on.set()
        early.discard()
    assert sum(t.name == early.CLOSE_THREAD_NAME for t in threading.enumerate()) == 0


def test_a_source_released_then_discarded_is_closed_once() -> None:
    query = "SELECT 'a' AS sex, 1 AS hired FROM range(5)"
    sql = f"SELECT COUNT(*) FROM ({query}) AS governance_query"
    _send(query, sql)
    source = _open(query)
    slow = _SlowClose(source.db)
    slow.go_on.set()
    try:
        assert source.fetch(sql)[1] == [(5,)]
        source.db = slow
        early.release(source)
    finally:
        early.discard()
    assert slow.closed == 1


def test_a_stop_while_duckdb_opens_waits_for_the_open() -> None:
    """Ctrl-C while the thread opens DuckDB (its import, the file, the columns): the stop waits for it, then the
    query is never sent. Left running, the thread was inside DuckDB while Python shut down, and the process
    aborted after the stop's sentence (about one ^C in ten in the first 0.15 s of an audit of a Parquet file)."""
    import signal

    query = "SELECT 'a' AS sex, 1 AS hired FROM range(5)"
    opening, go_on = threading.Event(), threading.Event()

    def open_slowly() -> SqlSource | None:
        opening.set()
        go_on.wait(30)  # a slow disk, or DuckDB's import on a busy machine
        return open_plain("duckdb://", table=None, query=query, timeout=None, rows=False, file=None)

    main = threading.main_thread().ident
    assert main is not None
    stop = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
    opened = threading.Timer(0.8, go_on.set)
    stop.start()
    opened.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            early.send_ahead(
                early.Where("duckdb://", None, query, None, None), open_slowly, lambda _s: "SELECT 1"
            )
        assert opening.is_set()
        assert _count_threads() == 0, "the thread opening DuckDB was left running"
    finally:
        stop.cancel()
        go_on.set()
        early.discard()
