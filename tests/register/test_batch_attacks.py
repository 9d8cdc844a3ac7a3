"""A batch of checklist answers (written as tuples, its payload texts made from a %-template, its texts checked
joined, its SQLite connection held) attacked as a careless user, a hostile insider and a crashing machine would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from governance.register import Register
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
