"""Speed without wall clocks: what the register must not do (import, query, hold in memory), counted.

Issue 13: opening an up-to-date register imported Alembic on every command; writes ran more statements than
they need; ``verify`` held every event and row in memory; reads issued queries per version or event.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from governance.errors import InputError, NotFoundError
from governance.register import Register
from governance.register import database as db
from governance.register import schema as t


@contextmanager
def counted(register: Register) -> Iterator[list[str]]:
    """Every SQL statement the register's engine runs inside the block."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    sa.event.listen(register.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(register.engine, "before_cursor_execute", note)


def calls_of(module: Any, name: str, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The first argument of every call of ``module.name`` while the test runs (counted work, not time)."""
    calls: list[object] = []
    real = getattr(module, name)

    def counting(value: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(value)
        return real(value, *args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def test_revisions_are_read_without_alembic_and_agree_with_it() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db._alembic_config())
    assert db._revision_graph() == {r.revision: r.down_revision for r in script.walk_revisions()}
    assert db.head_revision() == script.get_current_head()


def test_opening_an_up_to_date_register_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'register.db'}"
    Register(url).close()  # created and migrated here
    code = (
        "import sys\n"
        "from governance.register import Register\n"
        f"with Register({url!r}) as register:\n"
        "    register.add_model('m', owner='o@x', purpose='p', actor='a@x')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')}))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


@contextmanager
def driver_statements(register: Register) -> Iterator[list[str]]:
    """Every statement the database driver ran inside the block, whether SQLAlchemy sent it or the register's
    write path did on the driver's own cursor: SQLite's trace of the statements it runs, libpq's trace of the
    statements sent (a simple query, which may hold several, or an extended-protocol Bind: one each)."""
    seen: list[str] = []
    with contextlib.ExitStack() as stack:
        if register.engine.dialect.name == "sqlite":
            traced: list[Any] = []

            def start(dbapi_connection: Any, *_args: object) -> None:
                dbapi_connection.set_trace_callback(seen.append)
                traced.append(dbapi_connection)

            sa.event.listen(register.engine.pool, "checkout", start)
            stack.callback(sa.event.remove, register.engine.pool, "checkout", start)
            held = register._held.connection  # the one the register's writes reuse, checked out already
            if held is not None:
                start(held.connection.driver_connection)
            stack.callback(lambda: [c.set_trace_callback(None) for c in traced])
            yield seen
            return
        messages = stack.enter_context(round_trips(register, warm=False, lines=True))
        yield seen
    seen += [
        line
        for line in messages
        if line.split("\t")[:1] == ["F"] and line.split("\t")[2] in ("Query", "Bind")
    ]


def test_a_write_runs_few_statements(drafted: Register, backend: str) -> None:
    """SQLite: BEGIN IMMEDIATE, the chain head with the signing state, the row (the model looked up in its INSERT),
    the event, the head, COMMIT. On PostgreSQL BEGIN, how long to wait for a lock, the lock, and the head with the
    model's id and the answer's id go to the server together, then the row, the event and the head in one statement,
    with COMMIT (two waits,
    see the round trips below; today's code ran six statements there: the row and the event apart). Counted at
    the driver, so that statements sent past SQLAlchemy are counted too."""
    for warm in range(8):  # statements prepared, connections traced
        drafted.record_checklist_answer(
            "credit-risk", framework="eu-ai-act", item_id=f"w{warm}", status="yes", evidence="e", actor="r@x"
        )
    with driver_statements(drafted) as statements:
        drafted.record_checklist_answer(
            "credit-risk", framework="eu-ai-act", item_id="a", status="yes", evidence="e", actor="r@x"
        )
    assert len(statements) == 6, statements


def test_a_write_goes_to_the_driver_past_sqlalchemy(drafted: Register) -> None:
    """A checklist answer's statements (the lock and the head, the row, the event and the head) run on the driver's
    cursor of the connection SQLAlchemy holds: no statement compiled, no execution context or result object built
    per statement, which was a third of a write's processor time. Today's code ran 5 (SQLite) and 2 (PostgreSQL)
    statements through SQLAlchemy per write."""
    answers = [{"framework": "f", "item_id": f"b{i}", "status": "yes", "evidence": "e"} for i in range(30)]
    drafted.record_checklist_answer(
        "credit-risk", framework="eu-ai-act", item_id="warm", status="yes", evidence="e", actor="r@x"
    )
    with counted(drafted) as statements:
        drafted.record_checklist_answer(
            "credit-risk", framework="eu-ai-act", item_id="a", status="yes", evidence="e", actor="r@x"
        )
        drafted.record_checklist_answers("credit-risk", answers, actor="r@x")
    assert statements == []
    assert drafted.verify().ok


@pytest.mark.parametrize(
    "register_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_write_on_postgresql_asks_the_driver_for_no_column_descriptions(
    drafted: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg builds a description object per column each time a result's columns are asked for; the register
    asks once per statement shape, not per write. Today's code built 21 per write (the head's columns on every
    result of the first exchange, the answer row's columns twice)."""
    import psycopg

    built: list[object] = []
    real = psycopg.Column.__init__

    def counting(self: Any, *args: Any) -> None:
        built.append(self)
        real(self, *args)

    for warm in range(3):
        drafted.record_checklist_answer(
            "credit-risk", framework="f", item_id=f"w{warm}", status="yes", evidence="e", actor="r@x"
        )
    monkeypatch.setattr(psycopg.Column, "__init__", counting)
    drafted.record_checklist_answer(
        "credit-risk", framework="f", item_id="a", status="yes", evidence="e", actor="r@x"
    )
    assert built == []


@contextmanager
def round_trips(register: Register, *, warm: bool = True, lines: bool = False) -> Iterator[list[Any]]:
    """How many times the register waited for the PostgreSQL server inside the block, counted by libpq's own
    trace of the wire protocol (one ``ReadyForQuery`` ends each exchange: a ping, BEGIN, a statement, COMMIT);
    ``lines``: the trace's lines instead."""
    import psycopg

    trace = tempfile.TemporaryFile()  # noqa: SIM115 - closed when the block ends
    traced: set[int] = set()
    tracing: list[Any] = []  # untraced when the block ends: the trace file is closed then

    def start(dbapi_connection: Any, *_args: object) -> None:
        if id(dbapi_connection) not in traced:
            traced.add(id(dbapi_connection))
            tracing.append(dbapi_connection)
            dbapi_connection.pgconn.trace(trace.fileno())
            dbapi_connection.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

    def traced_lines() -> list[str]:
        trace.flush()
        trace.seek(0)
        return trace.read().decode("utf-8", "replace").splitlines()

    def waits(lines: list[str]) -> int:
        return sum(1 for line in lines if "\tReadyForQuery" in line)

    def start_engine(connection: Any) -> None:
        start(connection.connection.dbapi_connection)

    sa.event.listen(register.engine, "engine_connect", start_engine)
    sa.event.listen(register.engine.pool, "connect", start)
    held = register._held.connection  # the connection writes reuse, taken before the listeners were
    if held is not None and not held.invalidated:
        start(held.connection.dbapi_connection)
    found: list[Any] = []
    for _ in range(8 if warm else 0):  # every connection traced, statements prepared (psycopg: after 5 runs)
        register.record_checklist_answer(
            "credit-risk", framework="eu-ai-act", item_id="warm", status="yes", evidence="e", actor="r@x"
        )
    before = len(traced_lines())
    try:
        yield found
    finally:
        after = traced_lines()[before:]
        if lines:
            found += after
        else:
            found.append(waits(after))
        sa.event.remove(register.engine, "engine_connect", start_engine)
        sa.event.remove(register.engine.pool, "connect", start)
        for dbapi_connection in tracing:
            if not dbapi_connection.closed:
                dbapi_connection.pgconn.untrace()
        trace.close()


@pytest.mark.parametrize(
    "register_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_write_on_postgresql_waits_for_the_server_twice(drafted: Register) -> None:
    """BEGIN with the write lock, the chain head, the model's id and the answers' ids (drawn from their sequence
    under the lock); then the rows, the events and the head in one statement, sent with COMMIT. Today's code
    waited four times (the row, then the event with the head, then COMMIT); the chained floor in
    benchmarks/register waits four (BEGIN, the lock with the head, INSERT, COMMIT)."""
    with round_trips(drafted) as waited:
        drafted.record_checklist_answer(
            "credit-risk", framework="eu-ai-act", item_id="a", status="yes", evidence="e", actor="r@x"
        )
    assert waited == [2]
    answers = [
        {"framework": "eu-ai-act", "item_id": f"b{i}", "status": "yes", "evidence": "e"} for i in range(50)
    ]
    with round_trips(drafted) as waited:
        drafted.record_checklist_answers("credit-risk", answers, actor="r@x")
    assert waited == [2]  # fifty answers, fifty events: the same exchanges as one
    assert drafted.verify().ok


@pytest.mark.parametrize(
    "register_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_any_write_on_postgresql_saves_the_ping_the_lock_and_the_head(drafted: Register) -> None:
    """An incident: BEGIN with the lock and the head; the model; the version; the row; the event with the head;
    COMMIT. Today's code waited ten times (a ping, BEGIN, the lock and the head apart, the event and the head
    apart)."""
    with round_trips(drafted) as waited:
        drafted.record_incident(
            "credit-risk", "1.0.0", title="t", description="d", severity="low", actor="r@x"
        )
    assert waited == [6]


@pytest.mark.parametrize(
    "register_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_write_after_the_server_dropped_the_connection_goes_through(
    drafted: Register, register_url: str
) -> None:
    """Writes no longer ping the server first: a pooled connection the server closed (a restart) is found at the
    write's first exchange, before anything was written, and the write runs again on a fresh one. The write
    connection is held across writes now: every connection of the register is closed, as a restart would."""
    drafted.record_checklist_answer(
        "credit-risk", framework="eu-ai-act", item_id="held", status="yes", evidence="e", actor="r@x"
    )
    admin = sa.create_engine(register_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        closed = connection.exec_driver_sql(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).scalar()
        assert closed, "the register held no connection to close"
    admin.dispose()
    drafted.record_checklist_answer(
        "credit-risk", framework="eu-ai-act", item_id="a", status="yes", evidence="e", actor="r@x"
    )
    assert drafted.verify().ok


def test_an_event_row_updates_no_index_the_chain_makes_redundant(drafted: Register) -> None:
    """Each event is found by its number (the primary key) or its kind (verify's signing lookup); nothing looks one
    up by its hash, and two events cannot share a hash unless SHA-256 collides, since each hash covers the
    event's own number (verify recomputes every hash and would flag a copied one). Today's register kept a unique
    index on ``gov_events.hash``: half of the time SQLite spent on each event row of a batch."""
    inspector = sa.inspect(drafted.engine)
    indexed = [index["column_names"] for index in inspector.get_indexes(t.events.name)]
    unique = [constraint["column_names"] for constraint in inspector.get_unique_constraints(t.events.name)]
    assert sorted(indexed) == [["kind"]] and unique == [], (indexed, unique)
    assert inspector.get_pk_constraint(t.events.name)["constrained_columns"] == ["seq"]


@pytest.mark.parametrize(
    "register_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_write_after_the_connection_lost_its_prepared_statements_goes_through(drafted: Register) -> None:
    """The write path's statements are prepared once per connection; a ``DEALLOCATE ALL`` (psycopg sends one
    after a ROLLBACK when it prepared statements itself) must not make the next write fail: they are prepared
    again. A refused change (a rollback) between two writes is the everyday case."""
    answer = {"framework": "f", "item_id": "a", "status": "yes", "evidence": "e"}
    for _ in range(3):
        drafted.record_checklist_answer("credit-risk", actor="r@x", **answer)
    connection = drafted._held.connection  # the connection the writes are prepared on
    assert connection is not None
    connection.exec_driver_sql("DEALLOCATE ALL")
    connection.commit()
    drafted.record_checklist_answer("credit-risk", actor="r@x", **answer)
    with pytest.raises(InputError):
        drafted.record_checklist_answer("credit-risk", actor="r@x", **{**answer, "status": "maybe"})
    with pytest.raises(NotFoundError):
        drafted.record_checklist_answer("no-such-model", actor="r@x", **answer)
    drafted.record_checklist_answer("credit-risk", actor="r@x", **answer)
    drafted.record_incident("credit-risk", "1.0.0", title="t", description="d", severity="low", actor="r@x")
    assert len(drafted.checklist_answers("credit-risk")) >= 1
    assert drafted.verify().ok


@pytest.mark.parametrize(
    "register_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_batches_of_many_sizes_leave_few_statements_prepared_on_the_server(drafted: Register) -> None:
    """A single write's statements are prepared once per connection; a batch's statement differs with its size,
    so it is planned each time rather than left prepared on the server, one per size, for the connection's life."""
    for size in range(1, 15):
        answers = [
            {"framework": "f", "item_id": f"s{size}-{i}", "status": "yes", "evidence": "e"}
            for i in range(size)
        ]
        drafted.record_checklist_answers("credit-risk", answers, actor="r@x")
    with drafted.engine.connect() as connection:
        names = connection.exec_driver_sql("SELECT name FROM pg_prepared_statements").scalars().all()
    assert len(names) <= 5, names  # the lock; the head alone, with one id, with many; one answer's write
    assert drafted.verify().ok


def test_many_checklist_answers_are_one_commit_with_one_event_each(drafted: Register) -> None:
    answers = [
        {"framework": "eu-ai-act", "item_id": f"item-{i}", "status": "yes", "evidence": f"doc {i}"}
        for i in range(20)
    ]
    before = len(drafted.history())
    commits: list[object] = []

    def note(connection: object) -> None:
        commits.append(connection)

    sa.event.listen(drafted.engine, "commit", note)
    recorded = drafted.record_checklist_answers("credit-risk", answers, actor="r@x")
    sa.event.remove(drafted.engine, "commit", note)
    assert len(commits) == 1
    assert [r.item_id for r in recorded] == [a["item_id"] for a in answers]
    events = drafted.history()[before:]
    assert [e.kind for e in events] == ["checklist.answered"] * 20
    assert [e.payload["rows"][0]["record"]["item_id"] for e in events] == [a["item_id"] for a in answers]
    assert drafted.verify().ok


def test_a_bad_answer_in_a_batch_records_none_of_them(drafted: Register) -> None:
    import pytest

    from governance.errors import InputError

    before = len(drafted.history())
    with pytest.raises(InputError, match="not one of"):
        drafted.record_checklist_answers(
            "credit-risk",
            [
                {"framework": "eu-ai-act", "item_id": "a", "status": "yes", "evidence": "e"},
                {"framework": "eu-ai-act", "item_id": "b", "status": "maybe", "evidence": "e"},
            ],
            actor="r@x",
        )
    assert len(drafted.history()) == before


def _grow(register: Register, workspace: Path, audit: object, versions: range) -> None:
    """Versions of credit-risk, each audited, approved by a second person, with an incident and an answer.

    One database role writes everything here, so on PostgreSQL the team's shared role is allowed first."""
    if register.engine.dialect.name == "postgresql":
        register.allow_shared_role(actor="ro@example.com", reason="one test, one role")
    for index in versions:
        path = workspace / "models" / f"credit-{index}.skops"
        path.write_bytes(f"model bytes {index}".encode())
        label = f"2.{index}.0"
        register.add_version("credit-risk", label, artifact_path=path, actor="ds@example.com")
        audit("credit-risk", label)  # type: ignore[operator]
        register.approve("credit-risk", label, role="risk-officer", actor="ro@example.com")
        register.record_incident(
            "credit-risk", label, title="t", description="d", severity="low", actor="ro@example.com"
        )
        register.record_checklist_answer(
            "credit-risk", framework="eu-ai-act", item_id=f"i{index}", status="yes", evidence="e", actor="r@x"
        )


READS: dict[str, Callable[[Register], object]] = {
    "show": lambda r: r.show("credit-risk"),
    "overview": lambda r: r.overview("credit-risk"),
    "overviews": lambda r: r.overviews(),
    "list": lambda r: r.list_models(),
    "status": lambda r: r.status(),
    "history": lambda r: r.history("credit-risk"),
    "verify": lambda r: r.verify(),
    "export": lambda r: r.export(),
    "export in batches (the site reads this)": lambda r: [*r.export_in_batches()[1]],
}


def test_reads_take_a_fixed_number_of_queries_whatever_the_versions(
    drafted: Register, workspace: Path, audit: object
) -> None:
    _grow(drafted, workspace, audit, range(2))
    few = {}
    for name, read in READS.items():
        with counted(drafted) as statements:
            read(drafted)
        few[name] = len(statements)
    _grow(drafted, workspace, audit, range(2, 12))
    for name, read in READS.items():
        with counted(drafted) as statements:
            read(drafted)
        assert len(statements) == few[name], (name, few[name], statements)


def _verify_peak(register: Register) -> tuple[int, int]:
    """Events checked and the peak memory Python allocated during one verify."""
    register.verify()  # warm: imports and compiled statements are not the log
    tracemalloc.start()
    try:
        report = register.verify()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.ok
    return report.events_checked, peak


def test_verify_streams_the_log_instead_of_holding_it(drafted: Register) -> None:
    """Each event here carries 2,000 characters. Verify's memory may grow by a digest per row as the history
    grows, not by the events or their rows (today's code held every event, row and after-image: over 6 kB an
    event)."""

    def answers(start: int, count: int) -> list[dict[str, str]]:
        return [
            {"framework": "eu-ai-act", "item_id": f"i{i}", "status": "yes", "evidence": "x" * 2000}
            for i in range(start, start + count)
        ]

    drafted.record_checklist_answers("credit-risk", answers(0, 1500), actor="r@x")
    few, small = _verify_peak(drafted)
    drafted.record_checklist_answers("credit-risk", answers(1500, 3000), actor="r@x")
    many, large = _verify_peak(drafted)
    assert (large - small) / (many - few) < 1_000, (small, large)


def test_verify_encodes_no_json_per_event(drafted: Register, monkeypatch: pytest.MonkeyPatch) -> None:
    """verify hashes each event over its payload text as stored and digests each row from its values, so the JSON
    encoder is not run per event or row (today's code encoded each payload again, and each row, as the floor in
    benchmarks/register does: that is what kept verify at 2.5x its floor)."""
    from governance.register import chain, checks

    encoded: list[object] = []

    class Counting(json.JSONEncoder):
        def encode(self, o: object) -> str:
            encoded.append(o)
            return super().encode(o)

    counting = Counting(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    monkeypatch.setattr(chain, "_CANONICAL", counting)
    monkeypatch.setattr(checks, "_CANONICAL", counting)

    def encodes() -> int:
        encoded.clear()
        assert drafted.verify().ok
        return len(encoded)

    few = encodes()
    drafted.record_checklist_answers(
        "credit-risk",
        [{"framework": "f", "item_id": f"i{i}", "status": "yes", "evidence": "e"} for i in range(200)],
        actor="r@x",
    )
    assert encodes() == few


def test_export_checks_each_audit_file_once(
    drafted: Register, workspace: Path, audit: object, monkeypatch: object
) -> None:
    from governance.register import checks

    _grow(drafted, workspace, audit, range(3))
    calls: list[str] = []
    real = checks.audit_file_problems

    def spy(register: Register, audit_row: dict[str, object], root: Path | None) -> tuple[list[str], int]:
        calls.append(str(audit_row["audit_id"]))
        return real(register, audit_row, root)

    monkeypatch.setattr(checks, "audit_file_problems", spy)  # type: ignore[attr-defined]
    exported = drafted.export()
    assert exported["verification"]["ok"]
    assert sorted(calls) == sorted(set(calls)) and len(calls) == 3


def test_a_batch_writes_the_same_events_as_one_at_a_time(tmp_path: Path, clock: object) -> None:
    """Same clock, same answers: the events of a batch are byte for byte those of single writes."""
    answers = [
        {"framework": "eu-ai-act", "item_id": f"i{i}", "status": "yes", "evidence": f"doc {i}"}
        for i in range(5)
    ]
    logs = []
    for name, batched in (("one", False), ("batch", True)):
        with Register(f"sqlite:///{tmp_path / name / 'register.db'}") as register:
            register.add_model("m", owner="o@x", purpose="p", actor="a@x")
            if batched:
                register.record_checklist_answers("m", answers, actor="r@x")
            else:
                for answer in answers:
                    register.record_checklist_answer("m", actor="r@x", **answer)
            logs.append([(e.seq, e.hash, e.prev_hash, e.payload) for e in register.history()])
            assert register.verify().ok
    assert logs[0] == logs[1]


def test_a_batch_encodes_each_event_once(drafted: Register, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each answer's row is copied into its event and into the record returned without a JSON round trip when
    its values are JSON already (text, whole numbers, none): today's code encoded and parsed each row twice,
    a third of a batched answer's processor time. What remains is the event's payload text, once per event."""
    from governance import provenance

    encoded = calls_of(provenance, "canonical_json", monkeypatch)
    answers = [
        {"framework": "eu-ai-act", "item_id": f"e{i}", "status": "yes", "evidence": "e"} for i in range(50)
    ]
    recorded = drafted.record_checklist_answers("credit-risk", answers, actor="r@x")
    assert len(encoded) <= len(answers) + 2, len(encoded)
    assert [r.item_id for r in recorded] == [a["item_id"] for a in answers]
    assert drafted.verify().ok


TRICKY = [
    "plain",
    'quo"te \\ back',
    "line\nbreak\ttab\x01",
    "é ü ß 中文 \u2028 \U0001f600",
    "  padded  ",
    "</script>",
]


def _tricky_answers(count: int) -> list[dict[str, str]]:
    return [
        {
            "framework": "eu-ai-act",
            "item_id": f"i{i} {TRICKY[i % 6]}"[:100],
            "status": "yes",
            "evidence": TRICKY[i % 6],
        }
        for i in range(count)
    ]


def test_a_batch_event_is_the_canonical_json_of_its_row_as_read_back(drafted: Register) -> None:
    """A batch builds each event from the values at hand, not from its row read back: byte for byte what the
    row as stored gives (its image, the canonical JSON of the payload, the hash of the whole event encoded in
    full), for text that JSON must escape too."""
    from governance import provenance
    from governance.register import chain, queries
    from governance.register import schema as t

    recorded = drafted.record_checklist_answers("credit-risk", _tricky_answers(12), actor='r@x "é" 100%s %%')
    with drafted.engine.connect() as connection:
        rows = {row.id: row for row in connection.execute(sa.select(t.checklist_answers))}
        events = connection.execute(
            sa.select(t.events).where(t.events.c.kind == "checklist.answered").order_by(t.events.c.seq)
        ).all()
    assert len(events) == 12
    for event, record in zip(events, recorded, strict=True):
        image = queries.row_image(rows[record.id])
        expected = provenance.canonical_json({"rows": [{"table": "gov_checklist_answers", "record": image}]})
        assert event.payload == expected
        assert event.hash == chain.event_hash(
            payload=json.loads(expected), **{c: getattr(event, c) for c in chain.HASHED_COLUMNS}
        )
        assert record.model_dump() == {**image, "model_name": "credit-risk"}
    assert drafted.verify().ok


def test_a_batch_encodes_no_json_document_per_answer(
    drafted: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each answer's event payload is spliced from its values, each encoded on its own, into the payload's fixed
    frame: no JSON document (dict) is encoded per answer. Today's code ran the encoder once per answer."""
    from governance import provenance
    from governance.register import chain

    encoded: list[object] = []
    real = provenance.canonical_json

    def counting(value: object) -> str:
        encoded.append(value)
        return real(value)

    class Counting(json.JSONEncoder):
        def encode(self, o: object) -> str:
            encoded.append(o)
            return super().encode(o)

    monkeypatch.setattr(provenance, "canonical_json", counting)
    monkeypatch.setattr(
        chain, "_CANONICAL", Counting(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    )
    drafted.record_checklist_answers(
        "credit-risk", _tricky_answers(3), actor="r@x"
    )  # the payload's frame, once
    encoded.clear()
    drafted.record_checklist_answers("credit-risk", _tricky_answers(60), actor="r@x")
    assert [value for value in encoded if isinstance(value, dict | list)] == []


def test_a_batch_encodes_what_its_events_share_once(
    drafted: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The actor, the time, the kind and the model are alike in every event of a batch: each encoded once for
    the hashes and once for the answers' records, not once per answer (today's code: once per answer)."""
    from governance.register import chain

    encoded = calls_of(chain, "_json", monkeypatch)
    drafted.record_checklist_answers("credit-risk", _tricky_answers(40), actor="batch@x")
    assert encoded.count("batch@x") <= 2, encoded.count("batch@x")
    assert encoded.count("checklist.answered") <= 1
    assert drafted.verify().ok


def test_a_batch_reads_no_answer_back_into_an_image(
    drafted: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer's after-image (for its event and its record) is made from the values given and the ids the
    INSERT returned: no row of the answer's columns is read back and converted (today's code: one per answer)."""
    from governance.register import queries

    made = calls_of(queries, "row_image", monkeypatch)
    recorded = drafted.record_checklist_answers("credit-risk", _tricky_answers(30), actor="r@x")
    assert made == []
    assert [r.evidence for r in recorded] == [a["evidence"] for a in _tricky_answers(30)]
    assert drafted.verify().ok


@pytest.mark.parametrize(
    "register_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_writes_on_postgresql_reuse_one_connection(drafted: Register) -> None:
    """Checking a connection out of SQLAlchemy's pool and in again (its events, its reset with a ROLLBACK call)
    was a fifth of a single write's processor time on PostgreSQL; the register keeps its write connection
    instead. Today's code checked one out for every write: five here. Each write is still its own transaction,
    and what one write learnt (the chain head) is not taken for the next one's."""
    checkouts: list[object] = []

    def note(*_args: object) -> None:
        checkouts.append(None)

    drafted.record_checklist_answer(  # the connection is taken
        "credit-risk", framework="eu-ai-act", item_id="warm", status="yes", evidence="e", actor="r@x"
    )
    sa.event.listen(drafted.engine, "checkout", note)
    try:
        for index in range(5):
            drafted.record_checklist_answer(
                "credit-risk", framework="f", item_id=f"i{index}", status="yes", evidence="e", actor="r@x"
            )
        drafted.record_incident(
            "credit-risk", "1.0.0", title="t", description="d", severity="low", actor="r@x"
        )
    finally:
        sa.event.remove(drafted.engine, "checkout", note)
    assert checkouts == []
    other = Register(
        drafted.url, hmac_key=drafted.hmac_key
    )  # another writer between two of ours: the head is read again
    other.record_checklist_answer(
        "credit-risk", framework="f", item_id="x", status="no", evidence="", actor="o@x"
    )
    other.close()
    drafted.record_checklist_answer(
        "credit-risk", framework="f", item_id="y", status="yes", evidence="", actor="r@x"
    )
    assert drafted.verify().ok and drafted.verify().events_checked == other_events(drafted)


def other_events(register: Register) -> int:
    with register.engine.connect() as connection:
        return int(connection.exec_driver_sql(f"SELECT count(*) FROM {t.events.name}").scalar_one())


def _python_calls(register: Register, answers: list[dict[str, str]]) -> int:
    """Calls of the register's own Python functions while a batch is recorded (not the C functions they call;
    not the driver's: psycopg adapts each parameter in Python): counted work, not time."""
    calls = 0
    ours = str(Path(db.__file__).parents[1])

    def note(frame: Any, event: str, _arg: object) -> None:
        nonlocal calls
        calls += event == "call" and frame.f_code.co_filename.startswith(ours)

    sys.setprofile(note)
    try:
        register.record_checklist_answers("credit-risk", answers, actor="r@x")
    finally:
        sys.setprofile(None)
    return calls


def test_a_batch_calls_no_python_function_per_answer(drafted: Register) -> None:
    """A batch of checklist answers checks, encodes, hashes and inserts its answers with C functions (the JSON
    string encoder, SHA-256, the driver's executemany) called from a few loops of ours: the calls of our
    functions for 200 answers are those for 100, give or take a few, text that JSON escapes included. Today's
    code called 19 of its functions per answer (checks of each text, an encoder per value, a row builder and a
    hasher per event): half of a batched answer's processor time on SQLite, where the floor of hash-chained
    inserts calls none."""
    tricky = _tricky_answers(300)
    for size in (100, 200):  # statements of both sizes written and prepared
        drafted.record_checklist_answers("credit-risk", tricky[:size], actor="r@x")
    fewer = _python_calls(drafted, tricky[:100])
    more = _python_calls(drafted, tricky[100:300])
    assert (more - fewer) / 100 <= 0.5, (fewer, more)
    assert drafted.verify().ok


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE gov_checklist_answers SET status = 'no' WHERE id = (SELECT min(id) + 20 FROM gov_checklist_answers)",
        "DELETE FROM gov_checklist_answers WHERE id = (SELECT min(id) + 20 FROM gov_checklist_answers)",
        "UPDATE gov_events SET payload = REPLACE(payload, '\"yes\"', '\"no\"') WHERE seq = {middle}",
        "DELETE FROM gov_events WHERE seq = {middle}",
        "UPDATE gov_events SET seq = -seq WHERE seq IN ({middle}, {middle} + 1)",  # two events swapped
    ],
    ids=["edit an answer", "delete an answer", "edit an event", "delete an event", "swap two events"],
)
def test_a_signed_batch_is_covered_answer_by_answer(register_url: str, workspace: Path, change: str) -> None:
    """Every answer of a batch has its own event in the chain, hashed and signed: editing or deleting one answer,
    or editing, deleting or reordering one event in the middle of a batch, is reported by ``verify``."""
    with Register(register_url, workspace_root=workspace, hmac_key=b"k3y") as signed:
        signed.add_model("credit-risk", owner="o@x", purpose="p", actor="a@x")
        signed.record_checklist_answers("credit-risk", _tricky_answers(60), actor="r@x")
        assert signed.verify().ok and signed.verify().signed
        middle = signed.verify().head_seq - 30
        statement = change.format(middle=middle)
        if "seq = -seq" in statement:  # the two events' numbers exchanged, in two steps
            statement += (
                f"; UPDATE gov_events SET seq = CASE seq WHEN -{middle} THEN {middle} + 1 ELSE {middle} END"
            )
            statement += f" WHERE seq IN (-{middle}, -{middle} - 1)"
        with signed.engine.begin() as connection:
            for part in statement.split("; "):
                connection.exec_driver_sql(part)
        report = signed.verify()
    assert not report.ok and report.problems, statement
