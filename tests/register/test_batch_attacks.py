"""A batch of checklist answers (written as tuples, its payload texts made from a %-template, its texts checked
joined, its SQLite connection held) attacked as a careless user, a hostile insider and a crashing machine would."""

from __future__ import annotations

import json

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
