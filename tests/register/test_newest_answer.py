"""One rule for "which checklist answer counts": ``newest_answers``, used by the register and the checklist status."""

from __future__ import annotations

import inspect
from typing import Any

from register_support import Clock

from governance.checklists import Checklist, ChecklistItem, Evidence, evaluate_status
from governance.checklists import status as checklist_status
from governance.register import Register
from governance.register.records import newest_answers


def _answer(item: str, status: str, at: str, framework: str = "t") -> dict[str, Any]:
    return {"framework": framework, "item_id": f"{framework}.{item}", "status": status, "at": at}


def test_the_latest_time_wins_then_the_one_given_last_in_any_order() -> None:
    answers = [
        _answer("a", "yes", "2026-11-02T00:00:00Z"),
        _answer("a", "no", "2026-11-01T00:00:00Z"),  # older, though given later
        _answer("b", "no", "2026-11-01T00:00:00Z"),
        _answer("b", "partial", "2026-11-01T00:00:00Z"),  # the same second: the one given last
        _answer("a", "yes", "2026-11-01T00:00:00Z", framework="u"),
    ]
    newest = newest_answers(answers, dict)
    assert [(a["framework"], a["item_id"], a["status"]) for a in newest] == [
        ("t", "t.a", "yes"),
        ("t", "t.b", "partial"),
        ("u", "u.a", "yes"),
    ]


def test_the_register_and_the_checklist_status_count_the_same_answer(
    register: Register, clock: Clock
) -> None:
    register.add_model("m", owner="o", purpose="p", actor="a")
    for status in ("yes", "no", "partial"):  # the last two in the same second
        register.record_checklist_answer(
            "m", framework="t", item_id="t.h", status=status, evidence="e", actor="a"
        )
        if status == "yes":
            clock.advance(seconds=5)
    counted = register.checklist_answers("m")
    assert [(a.item_id, a.status) for a in counted] == [("t.h", "partial")]
    every = register.show("m").checklist_answers
    assert len(every) == 3
    checklist = Checklist(
        schema_version="1.0",
        framework="t",
        title="Test",
        source="s",
        as_of="2026-11-22",
        description="d",
        items=[
            ChecklistItem(
                id="t.h",
                title="h",
                requirement="r",
                source="s",
                applies_when=["always"],
                evidence=Evidence(type="human"),
                guidance="g",
            )
        ],
    )
    status = evaluate_status([checklist], model={"name": "m"}, answers=every, latest_audit=None)
    entry = status.item("t.h")
    assert entry is not None and entry.answer is not None and entry.answer.status == "partial"


def test_the_checklist_status_keeps_no_rule_of_its_own() -> None:
    assert "newest_answers" in inspect.getsource(checklist_status._latest_answers)
