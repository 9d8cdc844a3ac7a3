"""Several processes writing at once lose no row and never break the chain (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from register_support import People, concurrent_worker, first_open_worker

from governance.register import Register

WORKERS = 4
ROUNDS = 5


def run_all(target: object, arguments: list[tuple[object, ...]], *, barrier: bool = False) -> None:
    """Run ``target`` in one process per argument tuple, released together by an event (or, with
    ``barrier``, a barrier the workers meet at as often as they wait on it)."""
    context = multiprocessing.get_context("fork")  # no re-import per process; each child opens its own engine
    start = context.Barrier(len(arguments)) if barrier else context.Event()
    processes = [context.Process(target=target, args=(*args, start)) for args in arguments]  # type: ignore[arg-type]
    for process in processes:
        process.start()
    if not barrier:
        start.set()  # type: ignore[union-attr]
    for process in processes:
        process.join(120)
    assert [process.exitcode for process in processes] == [0] * len(processes)


def test_concurrent_audits_and_approvals_lose_nothing(
    register_url: str, workspace: Path, people: People
) -> None:
    with Register(register_url, workspace_root=workspace) as register:
        register.add_model("shared", owner="o", purpose="p", actor="ds@x")
        version = register.add_version(
            "shared", "1", artifact_path=workspace / "models" / "credit.skops", actor="ds@x"
        )
        report = workspace / "shared-audit.json"
        report.write_text("{}")
        register.record_audit(
            "shared",
            "1",
            audit_id="shared-audit",
            audit_json_path=report,
            verdict="passed",
            policy_name="p",
            policy_sha256="p",
            data_sha256="d",
            artifact_sha256=version.sha256,
            tool_versions={},
            actor="aud@x",
            max_age_days=None,
        )
    run_all(
        concurrent_worker,
        [(register_url, people.url("boss"), str(workspace), index, ROUNDS) for index in range(WORKERS)],
        barrier=True,
    )
    with Register(register_url, workspace_root=workspace) as register:
        events = register.history()
        assert [event.seq for event in events] == list(range(1, 3 + WORKERS * ROUNDS * 5 + 1))
        # the writers really overlapped: the log switches between workers more often than once per worker
        workers = [event.actor[-3] for event in events[3:]]  # "ds1@x", "aud1@x", "boss1@x" -> "1"
        assert sum(a != b for a, b in itertools.pairwise(workers)) > WORKERS
        assert len(register.list_models()) == 1 + WORKERS * ROUNDS
        shared = register.show("shared")
        assert sorted(a.role for a in shared.approvals) == sorted(
            f"role-{i}-{n}" for i in range(WORKERS) for n in range(ROUNDS)
        )
        assert shared.versions[0].state == "approved"
        report_ = register.verify()
        assert report_.ok, report_.problems
        assert report_.audit_files_checked == 1 + WORKERS * ROUNDS


def test_concurrent_first_opens_migrate_once(register_url: str) -> None:
    run_all(first_open_worker, [(register_url, index) for index in range(WORKERS)])
    with Register(register_url) as register:
        assert sorted(m.name for m in register.list_models()) == [f"first-{i}" for i in range(WORKERS)]
        assert register.verify().ok


def test_a_write_waits_a_bounded_time_for_another_writers_lock(
    register_url: str, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another program that holds the register's write lock (a hung command, an open psql session) holds a write
    back for at most the busy timeout, then one sentence and nothing recorded: on PostgreSQL it waited forever."""
    from governance.errors import RegisterError
    from governance.register import database

    monkeypatch.setattr(database, "BUSY_TIMEOUT_SECONDS", 1)
    with Register(register_url, workspace_root=workspace) as register:
        register.add_model("credit", owner="o", purpose="p", actor="ds@x")
        lock = f"SELECT pg_advisory_lock({database.ADVISORY_LOCK_KEY})"
        with _another_program_holding(register_url, lock), pytest.raises(RegisterError) as raised:
            register.add_model("other", owner="o", purpose="p", actor="ds@x")
        message = str(raised.value)
        assert "locked for over 1 seconds" in message and "nothing was recorded" in message, message
        assert [model.name for model in register.list_models()] == ["credit"]
        register.add_model("after", owner="o", purpose="p", actor="ds@x")  # the lock gone, writes go on
        assert register.verify().ok


def test_an_upgrade_held_back_by_another_programs_lock_says_so(
    register_url: str, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a register of an older layout upgrades it in a write; another program's lock (an open psql session
    that read the events, a hung command on SQLite) ran out the busy timeout and the sentence said "check the URL
    ... and that this account may create tables there": the URL and the rights were fine."""
    from governance.errors import RegisterError
    from governance.register import database

    with Register(register_url, workspace_root=workspace, _migrate_to="0009"):
        pass
    monkeypatch.setattr(database, "BUSY_TIMEOUT_SECONDS", 1)
    read = "SELECT count(*) FROM gov_events"  # a read left open in its transaction: its lock stays
    with _another_program_holding(register_url, read), pytest.raises(RegisterError) as raised:
        Register(register_url, workspace_root=workspace).close()
    message = str(raised.value)
    assert "locked for over 1 seconds" in message and "check the URL" not in message, message
    with Register(register_url, workspace_root=workspace) as register:  # the lock gone, the upgrade goes on
        assert register.verify().ok


@contextmanager
def _another_program_holding(register_url: str, postgres_sql: str) -> Iterator[None]:
    """Another program holding the register meanwhile: SQLite's write lock (``BEGIN IMMEDIATE``), or on PostgreSQL
    a session that ran ``postgres_sql`` in a transaction left open."""
    import sqlite3

    import sqlalchemy as sa

    if register_url.startswith("sqlite"):
        holder = sqlite3.connect(register_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.close()
        return
    engine = sa.create_engine(register_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.begin()
            connection.exec_driver_sql(postgres_sql).all()
            yield
    finally:
        engine.dispose()
