"""The register's write path attacked as a careless user, a crashing machine and a hostile insider would.

Each test is a way a write broke (or could have): odd text, failed statements inside the PostgreSQL pipeline,
stale connections, migrations with events in the table, tampering the dropped hash index no longer catches.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from governance.errors import InputError
from governance.register import Register
from governance.register import schema as t


def _answer(item_id: str, evidence: str) -> dict[str, str]:
    return {"framework": "f", "item_id": item_id, "status": "yes", "evidence": evidence}


def _counts(register: Register) -> tuple[int, int]:
    with register.engine.connect() as connection:
        answers = connection.execute(sa.select(sa.func.count()).select_from(t.checklist_answers)).scalar()
        events = connection.execute(sa.select(sa.func.count()).select_from(t.events)).scalar()
    return int(answers or 0), int(events or 0)


@pytest.mark.parametrize(
    "text",
    ["a\x00b", "lone \ud800 surrogate"],
    ids=["nul", "surrogate"],
)
def test_text_no_database_can_keep_is_refused_before_anything_is_written(drafted: Register, text: str) -> None:
    """PostgreSQL cannot keep a NUL character in text: sent through libpq's pipeline as a C string, the evidence
    was cut at the NUL while its event kept the whole text, so ``verify`` then said the row "was edited by hand"
    (a false alarm, and the evidence lost). A lone surrogate is not text at all: it failed with a Python
    traceback. Both are refused now, alike on SQLite, with one sentence naming the field, and nothing written."""
    before = _counts(drafted)
    with pytest.raises(InputError, match="evidence"):
        drafted.record_checklist_answer("credit-risk", actor="r@x", **_answer("a", text))
    with pytest.raises(InputError, match="evidence"):
        drafted.record_checklist_answers("credit-risk", [_answer("b", "fine"), _answer("c", text)], actor="r@x")
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
