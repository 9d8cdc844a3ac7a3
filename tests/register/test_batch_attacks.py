"""A batch of checklist answers (written as tuples, its payload texts made from a %-template, its texts checked
joined, its SQLite connection held) attacked as a careless user, a hostile insider and a crashing machine would."""

from __future__ import annotations

import enum
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa

from governance.errors import InputError, RegisterError
from governance.register import Register
from governance.register import database as db
from governance.register import schema as t


def _answer(item_id: str, evidence: str = "e") -> dict[str, str]:
    return {"framework": "f", "item_id": item_id, "status": "yes", "evidence": evidence}


def _recorded_actors(register: Register) -> list[tuple[str, str]]:
    """Each answer row's actor beside the actor its event's payload recorded."""
    with register.engine.connect() as connection:
        rows = connection.execute(sa.select(t.checklist_answers.c.actor, t.checklist_answers.c.event_seq))
        answers = {int(seq): actor for actor, seq in rows}
        events = connection.execute(sa.select(t.events.c.seq, t.events.c.payload))
        payloads = {int(seq): json.loads(payload) for seq, payload in events}
    return [(actor, payloads[seq]["rows"][0]["record"]["actor"]) for seq, actor in sorted(answers.items())]


@pytest.mark.parametrize("actor", ["ops%team", "a%s", "a%%b", "100% sure %(x)s %d"])
def test_an_actor_with_a_percent_sign_is_kept_exactly_and_verifies(drafted: Register, actor: str) -> None:
    """The payloads of a batch are made from one %-template with the actor and time written into it: an actor
    with ``%`` in it broke the batch with a Python traceback ("unsupported format character"), and ``a%%b`` was
    written as ``a%%b`` in the rows but ``a%b`` in their events, so ``verify`` reported every answer "edited by
    hand" for ever. One answer goes through the same path."""
    drafted.record_checklist_answers("credit-risk", [_answer("a"), _answer("b")], actor=actor)
    drafted.record_checklist_answer("credit-risk", actor=actor, **_answer("c"))
    assert _recorded_actors(drafted) == [(actor, actor)] * 3
    assert drafted.verify().ok


_WRITER = """
import sys
from governance.register import Register
with Register(sys.argv[1]) as register:
    n = 0
    while True:
        size = (3, 1, 600)[n % 3]
        answers = [dict(framework="f", item_id=f"i{n}-{k}", status="yes", evidence="e" * 50) for k in range(size)]
        register.record_checklist_answers("credit-risk", answers, actor="crash@x")
        n += 1
        if n == 4:
            open(sys.argv[2], "w").close()  # under way: the test kills at any moment from here
"""


def _answer_count(url: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(t.checklist_answers)).scalar()
    engine.dispose()
    return int(count or 0)


@pytest.mark.parametrize("delay", [0.0, 0.13, 0.31])
def test_a_process_killed_while_writing_batches_leaves_whole_batches_that_verify(
    drafted: Register, register_url: str, tmp_path: Path, delay: float
) -> None:
    """``kill -9`` at any moment of a stream of batches (one, three and 600 answers: on PostgreSQL the small ones
    go with their events and COMMIT in one statement, the large ones do not): what is left verifies, holds only
    whole batches, and the next write goes through (the lock went with the process)."""
    started = tmp_path / "started"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        [sys.executable, "-c", _WRITER, register_url, str(started)], env=env, stderr=subprocess.PIPE
    )
    while not started.exists():
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    time.sleep(delay)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    assert drafted.verify().ok
    assert _answer_count(register_url) % 604 in {0, 3, 4}  # whole batches of 3, 1 and 600, in that order
    drafted.record_checklist_answers("credit-risk", [_answer("after")] * 2, actor="r@x")
    assert drafted.verify().ok


def _sqlite_path(register: Register) -> Path:
    return Path(str(register.engine.url.database))


@pytest.mark.parametrize("register_url", ["sqlite"], indirect=True)
def test_a_register_file_replaced_under_an_open_register_gets_the_next_write(
    drafted: Register, tmp_path: Path
) -> None:
    """A register file replaced while a program has it open (restored from a backup, ``mv`` over it): the
    connection writes reuse (and the pool's) still had the old file open, so the next batch was reported
    recorded but went to the unlinked file and was lost. Now the write finds the file at the register's path
    replaced, opens that one, and writes there; reads see it too."""
    path = _sqlite_path(drafted)
    drafted.record_checklist_answers("credit-risk", [_answer("before")], actor="r@x")
    copy = tmp_path / "restored.db"
    with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    drafted.record_checklist_answers("credit-risk", [_answer("lost-with-the-old-file")], actor="r@x")
    os.replace(copy, path)
    drafted.record_checklist_answers("credit-risk", [_answer("a"), _answer("b")], actor="r@x")
    with closing(sqlite3.connect(path)) as connection:
        kept = [row[0] for row in connection.execute("SELECT item_id FROM gov_checklist_answers ORDER BY id")]
    assert kept == ["before", "a", "b"]
    assert sorted(answer.item_id for answer in drafted.checklist_answers("credit-risk")) == [
        "a",
        "b",
        "before",
    ]
    assert drafted.verify().ok


@pytest.mark.parametrize("register_url", ["sqlite"], indirect=True)
def test_a_register_file_deleted_under_an_open_register_is_one_sentence(drafted: Register) -> None:
    """A register file deleted while a program has it open: the next batch was reported recorded (into the
    deleted file). Now it is refused with one sentence, and no empty register is made in its place."""
    path = _sqlite_path(drafted)
    drafted.record_checklist_answers("credit-risk", [_answer("before")], actor="r@x")
    for file in path.parent.glob(path.name + "*"):
        file.unlink()
    with pytest.raises(RegisterError, match="deleted or moved"):
        drafted.record_checklist_answers("credit-risk", [_answer("a")], actor="r@x")
    assert not path.exists()


@pytest.mark.parametrize("register_url", ["sqlite"], indirect=True)
def test_a_child_forked_after_a_sqlite_register_was_opened_uses_none_of_its_connections(
    drafted: Register, tmp_path: Path
) -> None:
    """SQLite forbids using a connection opened before ``fork()`` in the child (its locks are the parent's
    process's; the child could write while the parent believes it holds the file): the child took the parent's
    pooled connection for its writes and reads. It opens its own now, and leaves the parent's unclosed (closing
    one could empty the parent's write-ahead log under it)."""
    drafted.record_checklist_answers("credit-risk", [_answer("parent")], actor="r@x")
    drafted.checklist_answers("credit-risk")  # a read: the pool keeps its connection
    with drafted.engine.connect() as connection:
        parents = {id(connection.connection.driver_connection)}
    report = tmp_path / "child"
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            used: list[int] = []
            sa.event.listen(drafted.engine, "checkout", lambda dbapi, *_: used.append(id(dbapi)))
            drafted.record_checklist_answers("credit-risk", [_answer("child")], actor="r@x")
            drafted.checklist_answers("credit-risk")
            report.write_text(str(bool(set(used) & parents)))
            code = 0
        finally:
            os._exit(code)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    assert report.read_text() == "False"
    drafted.record_checklist_answers("credit-risk", [_answer("parent-after")], actor="r@x")
    assert {answer.item_id for answer in drafted.checklist_answers("credit-risk")} >= {
        "child",
        "parent-after",
    }
    assert drafted.verify().ok


@pytest.mark.parametrize("register_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("field", ["framework", "item_id", "evidence"])
def test_bytes_in_an_answer_are_refused_not_kept_as_their_repr(drafted: Register, field: str) -> None:
    """Bytes (text read from a file without decoding it) were kept as their Python repr, ``b'...'``, as if
    someone had typed that: refused now with one sentence naming the field, and nothing of the batch written."""
    before = drafted.chain_head()
    given: dict[str, object] = {**_answer("b"), field: b"x"}
    with pytest.raises(InputError, match=field):
        drafted.record_checklist_answers("credit-risk", [_answer("a"), given], actor="r@x")  # type: ignore[list-item]
    assert drafted.chain_head() == before


@pytest.mark.parametrize("register_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("answer", [None, "yes", ["f", "a", "yes", "e"]])
def test_an_answer_that_is_not_a_mapping_is_one_sentence(drafted: Register, answer: object) -> None:
    """An answer given as something other than a mapping failed with a Python traceback (no attribute ``get``)."""
    with pytest.raises(InputError, match="framework, item_id, status and evidence"):
        drafted.record_checklist_answers("credit-risk", [_answer("a"), answer], actor="r@x")  # type: ignore[list-item]


@pytest.mark.parametrize("register_url", ["sqlite"], indirect=True)
def test_numbers_in_an_answer_are_kept_as_text_and_verify(drafted: Register) -> None:
    """A number where text belongs is kept as its text (as the framework and item id always were): the evidence
    failed with a Python traceback before today's batch path."""
    answer = {"framework": 7, "item_id": 12, "status": "yes", "evidence": 3.5}
    (recorded,) = drafted.record_checklist_answers("credit-risk", [answer], actor="r@x")  # type: ignore[list-item]
    assert (recorded.framework, recorded.item_id, recorded.evidence) == ("7", "12", "3.5")
    assert drafted.verify().ok


@pytest.mark.parametrize("register_url", ["sqlite"], indirect=True)
def test_a_write_kept_waiting_for_another_programs_lock_says_so(
    drafted: Register, register_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that waited out the busy timeout for another program's write lock said the register "refused the
    change (database is locked)" and to run ``verify``: nothing is wrong with the register, another program is
    writing. It says that now, and the write goes through once the lock is let go."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_SECONDS", 1)
    other = sqlite3.connect(_sqlite_path(drafted), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with Register(register_url) as waiting:
            with pytest.raises(RegisterError, match="Another program") as raised:
                waiting.record_checklist_answers("credit-risk", [_answer("a")] * 3, actor="r@x")
            assert "verify" not in str(raised.value)
            other.execute("ROLLBACK")
            waiting.record_checklist_answers("credit-risk", [_answer("a")] * 3, actor="r@x")
            assert waiting.verify().ok
    finally:
        other.close()


_SPLIT = [  # texts fine or not on their own, joined in the batch's one check of them all
    ({"evidence": "ends high \ud83e"}, {"evidence": "\udd9c starts low"}, "evidence"),
    ({"item_id": "a\ud83e"}, {"framework": "\udd9cf"}, "item_id"),
    ({"evidence": "fine"}, {"item_id": "b\x00"}, "item_id"),
    ({"evidence": "\x00"}, {"evidence": ""}, "evidence"),
    ({"item_id": "  "}, {}, "item_id"),
    ({"framework": "\t\n"}, {}, "framework"),
]


@pytest.mark.parametrize(("first", "second", "field"), _SPLIT)
def test_text_refused_alone_is_refused_in_a_batch_however_it_is_split(
    drafted: Register, first: dict[str, str], second: dict[str, str], field: str
) -> None:
    """A batch checks its texts joined, in one pass: a surrogate pair split across two answers (each half a lone
    surrogate, together looking like one emoji), a NUL, a blank required text are still refused, naming the
    field, with nothing of the batch written."""
    before = drafted.chain_head()
    with pytest.raises(InputError, match=field):
        drafted.record_checklist_answers(
            "credit-risk", [_answer("ok"), {**_answer("a"), **first}, {**_answer("b"), **second}], actor="r@x"
        )
    assert drafted.chain_head() == before


@pytest.mark.parametrize(
    "register_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_client_encoding_set_in_the_environment_does_not_break_writes(
    register_url: str, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pipeline encodes each text in the connection's client encoding: with ``PGCLIENTENCODING=LATIN1`` in
    the environment (or a database whose default is not UTF-8) evidence holding an emoji failed with a Python
    traceback (``UnicodeEncodeError``). The register talks UTF-8 to the server whatever the environment says."""
    monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")
    with Register(register_url, workspace_root=workspace) as register:
        register.add_model("m", owner="o@x", purpose="p", actor="ds@x")
        register.record_checklist_answers(
            "m", [_answer("a", "café \U0001f99c"), _answer("b", "ok")], actor="r@x"
        )
        register.record_checklist_answer("m", actor="r@x", **_answer("c", "\u2028 \U0001f99c"))
        kept = {answer.item_id: answer.evidence for answer in register.checklist_answers("m")}
        assert kept == {"a": "café \U0001f99c", "b": "ok", "c": "\u2028 \U0001f99c"}
        assert register.verify().ok


_ONE_BATCH = """
import sys
from governance.register import Register
with Register(sys.argv[1]) as register:
    answers = [dict(framework="f", item_id=f"other-{k}", status="yes", evidence="e") for k in range(3)]
    register.record_checklist_answers("credit-risk", answers, actor="other@x")
"""


def test_a_batch_after_another_process_wrote_chains_on_its_head(drafted: Register, register_url: str) -> None:
    """Writes reuse one held connection: a batch written after another process wrote (between two of this
    register's writes) must chain on that process's events, not on a head this connection read earlier."""
    drafted.record_checklist_answers("credit-risk", [_answer("mine-1"), _answer("mine-2")], actor="r@x")
    head = drafted.chain_head()[0]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    subprocess.run([sys.executable, "-c", _ONE_BATCH, register_url], env=env, check=True, timeout=120)
    drafted.record_checklist_answers("credit-risk", [_answer("mine-3"), _answer("mine-4")], actor="r@x")
    assert drafted.chain_head()[0] == head + 5
    assert len(drafted.checklist_answers("credit-risk")) == 7
    assert drafted.verify().ok


@pytest.mark.parametrize("register_url", ["sqlite"], indirect=True)
def test_a_register_file_that_became_read_only_is_one_plain_sentence(
    drafted: Register, register_url: str, workspace: Path
) -> None:
    """A register file made read-only after it was opened (``chmod``, a read-only mount; here SQLite's
    ``query_only``, which fails a write the same way and works as root) said the register "refused the change
    (attempt to write a readonly database)" and to run ``verify``: it says the file cannot be written now."""
    with Register(register_url, workspace_root=workspace) as register:
        sa.event.listen(
            register.engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA query_only = ON")
        )
        register.engine.dispose()  # every connection from here on is read-only
        with pytest.raises(RegisterError, match="cannot be written") as raised:
            register.record_checklist_answers("credit-risk", [_answer("a"), _answer("b")], actor="r@x")
        assert "verify" not in str(raised.value)
    assert drafted.verify().ok


class _Answered(str, enum.Enum):  # noqa: UP042 - how a caller's code may name them (older code, Python < 3.11)
    YES = "yes"
    NO = "no"


@pytest.mark.parametrize("register_url", ["sqlite"], indirect=True)
def test_a_status_given_as_a_str_enum_member_is_kept_as_its_value(drafted: Register) -> None:
    """A ``(str, Enum)`` member equals its value, so it passed the status check, but ``str()`` of it is
    ``_Answered.YES``: the batch then failed with a pydantic traceback. It is kept as ``yes`` now."""
    answers = [{**_answer("a"), "status": _Answered.YES}, {**_answer("b"), "status": _Answered.NO}]
    recorded = drafted.record_checklist_answers("credit-risk", answers, actor="r@x")
    assert [answer.status for answer in recorded] == ["yes", "no"]
    assert drafted.verify().ok
