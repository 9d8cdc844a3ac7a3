"""The register's write path attacked as a careless user, a crashing machine and a hostile insider would.

Each test is a way a write broke (or could have): odd text, failed statements inside the PostgreSQL pipeline,
stale connections, migrations with events in the table, tampering the dropped hash index no longer catches.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from register_support import _admin, _search_path

from governance.errors import InputError, RegisterError
from governance.register import Register
from governance.register import database as db
from governance.register import schema as t
from governance.register.database import PermissionDeniedError
from governance.testhooks import PAUSE_AT, PAUSE_FILE


def _answer(item_id: str, evidence: str) -> dict[str, str]:
    return {"framework": "f", "item_id": item_id, "status": "yes", "evidence": evidence}


def _counts(register: Register) -> tuple[int, int]:
    """Checklist answers and events in the register, read on a connection of its own."""
    engine = sa.create_engine(register.engine.url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        answers = connection.execute(sa.select(sa.func.count()).select_from(t.checklist_answers)).scalar()
        events = connection.execute(sa.select(sa.func.count()).select_from(t.events)).scalar()
    engine.dispose()
    return int(answers or 0), int(events or 0)


@pytest.mark.parametrize(
    "text",
    ["a\x00b", "lone \ud800 surrogate"],
    ids=["nul", "surrogate"],
)
def test_text_no_database_can_keep_is_refused_before_anything_is_written(
    drafted: Register, text: str
) -> None:
    """PostgreSQL cannot keep a NUL character in text: sent through libpq's pipeline as a C string, the evidence
    was cut at the NUL while its event kept the whole text, so ``verify`` then said the row "was edited by hand"
    (a false alarm, and the evidence lost). A lone surrogate is not text at all: it failed with a Python
    traceback. Both are refused now, alike on SQLite, with one sentence naming the field, and nothing written."""
    before = _counts(drafted)
    with pytest.raises(InputError, match="evidence"):
        drafted.record_checklist_answer("credit-risk", actor="r@x", **_answer("a", text))
    with pytest.raises(InputError, match="evidence"):
        drafted.record_checklist_answers(
            "credit-risk", [_answer("b", "fine"), _answer("c", text)], actor="r@x"
        )
    with pytest.raises(InputError, match="description"):
        drafted.record_incident(
            "credit-risk", "1.0.0", title="t", description=text, severity="low", actor="r@x"
        )
    assert _counts(drafted) == before
    drafted.record_checklist_answer("credit-risk", actor="r@x", **_answer("after", "fine"))
    assert drafted.verify().ok


ODD = [
    "quote ' \" ; --",
    "back\\slash \\\\ \\x00",
    "line\u2028separator\u2029",
    "emoji \U0001f99c",
    "%s %% %(name)s $1 $2 ?",
    "e" * 200_000,
]


def test_odd_text_is_kept_exactly_and_verifies(drafted: Register) -> None:
    """Placeholders, quotes, backslashes and very long evidence go to the server as parameters, never as SQL."""
    drafted.record_checklist_answer("credit-risk", actor="r@x", **_answer("one", ODD[4]))
    drafted.record_checklist_answers(
        "credit-risk", [_answer(f"odd{i}", text) for i, text in enumerate(ODD)], actor="r@x"
    )
    kept = {answer.item_id: answer.evidence for answer in drafted.checklist_answers("credit-risk")}
    assert [kept[f"odd{i}"] for i in range(len(ODD))] == ODD
    assert kept["one"] == ODD[4]
    assert drafted.verify().ok


@contextmanager
def _meddling(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, sql: str) -> Iterator[None]:
    """Another session runs ``sql`` while the write inside the block is paused between its two exchanges with
    the server (locked, the head and ids read; the rows, events and COMMIT not sent yet)."""
    paused = tmp_path / "paused"
    monkeypatch.setenv(PAUSE_AT, "register-commit")
    monkeypatch.setenv(PAUSE_FILE, str(paused))
    failed: list[BaseException] = []

    def meddle() -> None:
        try:
            while not paused.exists():
                time.sleep(0.01)
            admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
            with admin.connect() as connection:
                connection.exec_driver_sql(sql)
            admin.dispose()
        except BaseException as exc:  # reported by the test, in its own thread
            failed.append(exc)
        finally:
            paused.unlink(missing_ok=True)

    thread = threading.Thread(target=meddle)
    thread.start()
    try:
        yield
    finally:
        thread.join()
        monkeypatch.delenv(PAUSE_AT)
    assert not failed, failed


_OTHER_SESSIONS = "WHERE datname = current_database() AND pid <> pg_backend_pid()"


@pytest.mark.parametrize(
    "register_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize(
    ("sql", "said"),
    [
        (f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity {_OTHER_SESSIONS}", "connection"),
        ("ALTER TABLE gov_checklist_answers ADD CONSTRAINT h6_no_a CHECK (item_id <> 'a')", "refused"),
    ],
    ids=["server-dropped-the-connection", "check-violation"],
)
def test_a_write_that_fails_at_commit_is_one_sentence_and_the_next_write_goes_through(
    drafted: Register,
    register_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    sql: str,
    said: str,
) -> None:
    """The rows, events and head go to the server with COMMIT, on the connection the Register holds across writes.
    If the server drops that connection (a restart) or refuses the statement (a constraint), the user got
    SQLAlchemy's error with the whole statement and a traceback; now one sentence, nothing half-written, and the
    same Register writes again."""
    drafted.record_checklist_answer("credit-risk", actor="r@x", **_answer("warm", "e"))
    before = _counts(drafted)
    with (
        _meddling(monkeypatch, tmp_path, register_url, sql),
        pytest.raises(RegisterError, match=said) as caught,
    ):
        drafted.record_checklist_answer("credit-risk", actor="r@x", **_answer("a", "e"))
    assert "\n" not in str(caught.value) and "SELECT" not in str(caught.value), caught.value
    assert _counts(drafted) == before
    drafted.record_checklist_answer("credit-risk", actor="r@x", **_answer("b", "e"))
    drafted.record_checklist_answers("credit-risk", [_answer("c", "e"), _answer("d", "e")], actor="r@x")
    assert _counts(drafted) == (before[0] + 3, before[1] + 3)
    assert drafted.verify().ok


def _write_in_a_child(register: Register, name: str) -> int:
    """Fork; the child writes through the parent's Register object, closes it and exits: its exit status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child process
        status = 0
        try:
            for i in range(10):
                register.record_checklist_answer("credit-risk", actor="r@x", **_answer(f"{name}-{i}", "e"))
                register.checklist_answers("credit-risk")
            register.close()
        except BaseException:  # the parent reads the exit status
            status = 1
        os._exit(status)
    return pid


def test_a_register_opened_before_a_fork_writes_from_both_processes(drafted: Register) -> None:
    """A worker forked after the Register was opened (multiprocessing, gunicorn) took the parent's pooled
    PostgreSQL connections: two processes talking on one socket, so writes in both failed ("server closed the
    connection unexpectedly"). A connection now belongs to the process that opened it; the child opens its own,
    and closing the Register in the child leaves the parent's connections alone."""
    drafted.record_checklist_answer("credit-risk", actor="r@x", **_answer("parent-warm", "e"))
    drafted.checklist_answers("credit-risk")  # a read: the pool holds a connection besides the held one
    children = [_write_in_a_child(drafted, f"child{k}") for k in range(2)]
    for i in range(10):
        drafted.record_checklist_answer("credit-risk", actor="r@x", **_answer(f"parent-{i}", "e"))
        drafted.checklist_answers("credit-risk")
    assert [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children] == [0, 0]
    drafted.record_checklist_answer("credit-risk", actor="r@x", **_answer("parent-after", "e"))
    items = {answer.item_id for answer in drafted.checklist_answers("credit-risk")}
    assert {f"child{k}-{i}" for k in range(2) for i in range(10)} <= items
    assert drafted.verify().ok


def _downgrade(url: str, revision: str) -> None:
    """Alembic's downgrade of the register at ``url``, as an administrator would run it."""
    from alembic import command

    engine = sa.create_engine(db.parse_url(url), poolclass=sa.pool.NullPool)
    config = db._alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    engine.dispose()


def _hash_is_unique(url: str) -> bool:
    engine = sa.create_engine(db.parse_url(url), poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        unique = [c["column_names"] for c in inspector.get_unique_constraints(t.events.name)]
        unique += [i["column_names"] for i in inspector.get_indexes(t.events.name) if i["unique"]]
    engine.dispose()
    return ["hash"] in unique


def test_migration_0010_keeps_every_event_both_ways(drafted: Register, register_url: str) -> None:
    """Down to 0009 (the unique hash back) and up again on open (SQLite rebuilds the events table each way): every
    event is kept, ``verify`` passes, and the register writes on."""
    drafted.record_checklist_answers("credit-risk", [_answer(f"m{i}", "e") for i in range(20)], actor="r@x")
    history = [(event.seq, event.hash) for event in drafted.history()]
    drafted.close()
    _downgrade(register_url, "0009_mitigation_runs")
    assert _hash_is_unique(register_url)
    with Register(register_url) as reopened:  # migrated up again
        assert not _hash_is_unique(register_url)
        assert [(event.seq, event.hash) for event in reopened.history()] == history
        assert reopened.verify().ok
        reopened.record_checklist_answer("credit-risk", actor="r@x", **_answer("after", "e"))
        assert reopened.verify().ok


@pytest.mark.parametrize("tamper", ["copied-hash", "duplicated-event"])
def test_a_copied_hash_or_a_duplicated_event_is_reported_without_the_unique_index(
    drafted: Register, tamper: str
) -> None:
    """Migration 0010 dropped the unique index on the events' hash: a hash copied onto another event, or an event
    copied whole under a new number, is still caught, because each hash covers its event's own number."""
    drafted.record_checklist_answers("credit-risk", [_answer(f"m{i}", "e") for i in range(3)], actor="r@x")
    last = drafted.history()[-1].seq
    columns = ", ".join(c.name for c in t.events.c if c.name != "seq")
    sql = {
        "copied-hash": f"UPDATE gov_events SET hash = (SELECT hash FROM gov_events WHERE seq = {last - 1}) "
        f"WHERE seq = {last}",
        "duplicated-event": f"INSERT INTO gov_events (seq, {columns}) SELECT {last + 1}, {columns} FROM gov_events "
        f"WHERE seq = {last}",
    }[tamper]
    with drafted.engine.begin() as connection:
        connection.exec_driver_sql(sql)
    result = drafted.verify()
    assert not result.ok
    assert any(f"Event {last + (tamper == 'duplicated-event')}" in p.message for p in result.problems), result


@contextmanager
def _reader(url: str) -> Iterator[str]:
    """The register's URL logged in as a role that may read its tables and nothing more."""
    schema = _search_path(url)
    role = f"{schema}_reader"
    with _admin(url) as connection:
        connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
        connection.exec_driver_sql(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"')
    try:
        yield sa.make_url(url).set(username=role).render_as_string(hide_password=False)
    finally:
        with _admin(url) as connection:
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')


@pytest.mark.parametrize(
    "register_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_read_only_role_is_told_so_at_every_write(drafted: Register, register_url: str) -> None:
    """A role that may only read: the first write's pipeline failed at the answers' id sequence, after the lock's
    statement was prepared on the connection; the register then forgot it had prepared that statement, so every
    later write on the held connection failed with 'prepared statement ... already exists'. Each write is now
    refused with the missing grant, and nothing is written."""
    drafted.close()
    with _reader(register_url) as url, Register(url) as reader:
        assert len(reader.history()) > 0  # it may read
        for _ in range(2):
            with pytest.raises(PermissionDeniedError, match="grant_sql"):
                reader.record_checklist_answer("credit-risk", actor="r@x", **_answer("a", "e"))
            with pytest.raises(PermissionDeniedError, match="grant_sql"):
                reader.record_checklist_answers(
                    "credit-risk", [_answer("b", "e"), _answer("c", "e")], actor="r@x"
                )
            with pytest.raises(PermissionDeniedError, match="grant_sql"):
                reader.record_incident(
                    "credit-risk", "1.0.0", title="t", description="d", severity="low", actor="r@x"
                )
        assert reader.verify().ok


@pytest.mark.parametrize(
    "register_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_refused_first_write_on_a_connection_leaves_it_usable(drafted: Register, register_url: str) -> None:
    """The first single answer on a connection prepares its statement in the exchange that runs it: when the
    server refuses the row (a constraint), the statement stays prepared, and the register must know it."""
    drafted.close()
    with _admin(register_url) as connection:
        connection.exec_driver_sql(
            "ALTER TABLE gov_checklist_answers ADD CONSTRAINT h6_no_a CHECK (item_id <> 'a')"
        )
    with Register(register_url) as register:
        with pytest.raises(RegisterError, match="refused"):
            register.record_checklist_answer("credit-risk", actor="r@x", **_answer("a", "e"))
        register.record_checklist_answer("credit-risk", actor="r@x", **_answer("b", "e"))
        register.record_checklist_answer("credit-risk", actor="r@x", **_answer("c", "e"))
        assert register.verify().ok


@pytest.mark.parametrize(
    "register_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize("which", ["WITH moved", "SELECT pg_advisory", "SELECT head"])
def test_a_write_after_one_of_its_statements_was_deallocated_goes_through(
    drafted: Register, which: str
) -> None:
    """A connection pooler in transaction mode (each transaction on whichever server connection is free), or a
    ``DEALLOCATE name``, leaves some of the register's prepared statements on the connection and not others.
    Only ``DEALLOCATE ALL`` was survived: one statement gone failed the write, and then every later write
    ('prepared statement ... already exists'). Now the write goes through, and the next."""
    for i in range(3):
        drafted.record_checklist_answer("credit-risk", actor="r@x", **_answer(f"warm{i}", "e"))
    connection = drafted._held.connection
    assert connection is not None
    names = connection.exec_driver_sql("SELECT name, statement FROM pg_prepared_statements").all()
    gone = [name for name, statement in names if statement.startswith(which)]
    assert len(gone) == 1, names
    connection.exec_driver_sql(f"DEALLOCATE {gone[0]}")
    connection.commit()
    before = _counts(drafted)
    drafted.record_checklist_answer("credit-risk", actor="r@x", **_answer("a", "e"))
    drafted.record_checklist_answer("credit-risk", actor="r@x", **_answer("b", "e"))
    drafted.record_incident("credit-risk", "1.0.0", title="t", description="d", severity="low", actor="r@x")
    assert _counts(drafted) == (before[0] + 2, before[1] + 3)
    assert drafted.verify().ok


def test_a_command_line_argument_that_is_not_utf8_is_one_sentence(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 in an argument reach Python as lone surrogates: hashing the event failed with a
    UnicodeEncodeError traceback after the row was sent. Now exit code 2 and the option named."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVERNANCE_")}
    env.update(PYTHONPATH=str(Path(__file__).resolve().parents[2]), GOVERNANCE_ACTOR="a@x.org")

    def governance(*args: str | bytes) -> subprocess.CompletedProcess[str]:
        command: list[str | bytes] = [sys.executable, "-m", "governance", *args]
        return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120)

    assert governance("register", "add", "m", "--owner", "o@x.org", "--purpose", "p").returncode == 0
    item = "eu-ai-act.art14.oversight-design"
    refused = governance("checklist", "answer", "m", item, "--status", "yes", "--evidence", b"bad \xff byte")
    assert refused.returncode == 2, refused.stderr
    assert "--evidence" in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    assert governance("register", "verify").returncode == 0
