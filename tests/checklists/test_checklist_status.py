"""Status evaluation: human items are never ticked automatically; audit items are met only with evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import markdown
import pytest
from checklist_support import AuditFactory, model_fields

from governance.checklists import (
    Checklist,
    ChecklistItem,
    Evidence,
    checklist_markdown,
    checklist_status_markdown,
    evaluate_status,
)
from governance.provenance import set_clock


def checklist(*items: ChecklistItem) -> list[Checklist]:
    return [
        Checklist(
            schema_version="1.0",
            framework="t",
            title="Test",
            source="s",
            as_of="2026-11-22",
            description="d",
            items=list(items),
        )
    ]


def item(item_id: str, evidence: Evidence, applies_when: list[str] | None = None) -> ChecklistItem:
    return ChecklistItem(
        id=f"t.{item_id}",
        title=item_id,
        requirement="r",
        source="s",
        applies_when=applies_when or ["always"],  # type: ignore[arg-type]
        evidence=evidence,
        guidance="g",
        framework="t",
    )


HUMAN = Evidence(type="human")
LL144 = Evidence(type="audit", fields=["fairness.attributes[].ll144"])
APPROVALS = Evidence(type="register", fields=["approvals"])


def answer(
    item_id: str,
    status: str,
    *,
    evidence: str = "doc v1",
    at: str = "2026-11-01T00:00:00Z",
    actor: str = "ben",
) -> dict[str, Any]:
    return {
        "framework": "t",
        "item_id": f"t.{item_id}",
        "status": status,
        "evidence": evidence,
        "actor": actor,
        "at": at,
    }


def state(checklists: list[Checklist], item_id: str, **kwargs: Any) -> str:
    arguments: dict[str, Any] = {"model": model_fields(), "answers": [], "latest_audit": None} | kwargs
    found = evaluate_status(checklists, **arguments).item(f"t.{item_id}")
    assert found is not None
    return found.state


def test_human_items_are_never_ticked_by_a_passing_audit_or_the_register(audit_factory: AuditFactory) -> None:
    checklists = checklist(item("h", HUMAN))
    assert state(checklists, "h", latest_audit=audit_factory()) == "needs_answer"
    assert state(checklists, "h", latest_audit=audit_factory(), answers=[answer("h", "yes")]) == "met"
    assert state(checklists, "h", answers=[answer("h", "no")]) == "not_met"
    assert state(checklists, "h", answers=[answer("h", "partial")]) == "not_met"
    assert state(checklists, "h", answers=[answer("h", "not_applicable")]) == "not_applicable"


def test_every_shipped_human_item_needs_an_answer_even_with_a_perfect_record(
    shipped_checklists: list[Checklist], audit_factory: AuditFactory
) -> None:
    status = evaluate_status(
        shipped_checklists, model=model_fields(), answers=[], latest_audit=audit_factory()
    )
    entries = [entry for f in status.frameworks for entry in f.items]
    human = [entry for entry in entries if entry.evidence_type == "human"]
    assert human and all(entry.state == "needs_answer" for entry in human)
    # The fixture records no monitoring run: the post-market monitoring items stay open (their own tests).
    monitored = [entry for entry in entries if entry.evidence_type == "monitoring"]
    assert monitored and all(entry.state == "not_met" for entry in monitored)
    automatic = [entry for entry in entries if entry.evidence_type not in ("human", "monitoring")]
    # The fixture audit passed and is recent but has no explanation: exactly the items naming it stay open.
    open_ids = {entry.item_id for entry in automatic if entry.state != "met"}
    assert open_ids == {entry.item_id for entry in automatic if "explanation" in (entry.pointer or "")}
    assert open_ids  # the test can fail: some items do name the explanation


def test_an_audit_item_is_met_only_when_the_field_exists_and_the_audit_passed(
    audit_factory: AuditFactory,
) -> None:
    checklists = checklist(item("a", LL144))
    assert state(checklists, "a", latest_audit=audit_factory()) == "met"
    assert state(checklists, "a", latest_audit=audit_factory().model_dump(mode="json")) == "met"
    assert state(checklists, "a", latest_audit=audit_factory(with_ll144=False)) == "not_met"
    assert state(checklists, "a", latest_audit=audit_factory(verdict="failed")) == "not_met"
    assert state(checklists, "a", latest_audit=audit_factory(verdict="inconclusive")) == "not_met"
    assert state(checklists, "a", latest_audit=None) == "not_met"


def test_the_reason_and_pointer_say_where_the_evidence_came_from(audit_factory: AuditFactory) -> None:
    status = evaluate_status(
        checklist(item("a", LL144)),
        model=model_fields(),
        answers=[],
        latest_audit=audit_factory(with_ll144=False, audit_id="abc"),
    )
    entry = status.item("t.a")
    assert entry is not None and entry.origin == "audit"
    assert entry.pointer == "audit.json fairness.attributes[].ll144 (audit abc)"
    assert (
        entry.reason == "The latest audit has no fairness.attributes[].ll144; run an audit that produces it."
    )


def test_a_yes_answer_cannot_replace_missing_audit_evidence(audit_factory: AuditFactory) -> None:
    checklists = checklist(item("a", LL144))
    assert state(checklists, "a", latest_audit=None, answers=[answer("a", "yes")]) == "not_met"
    assert state(checklists, "a", latest_audit=audit_factory(), answers=[answer("a", "no")]) == "not_met"
    na = [answer("a", "not_applicable")]
    assert state(checklists, "a", latest_audit=audit_factory(), answers=na) == "not_applicable"


def test_a_failed_audit_still_meets_an_item_whose_own_rule_passed(audit_factory: AuditFactory) -> None:
    by_rule = Evidence(type="audit", fields=["fairness.attributes[].to_reference"], rules=["four-fifths"])
    by_metric = Evidence(
        type="audit", fields=["fairness.attributes[].to_reference"], rules=["tpr_difference"]
    )
    checklists = checklist(item("r", by_rule), item("m", by_metric))
    failed = audit_factory(
        verdict="failed", rule_status="pass"
    )  # four-fifths passed, equal-opportunity failed
    assert state(checklists, "r", latest_audit=failed) == "met"
    assert state(checklists, "m", latest_audit=failed) == "not_met"
    assert state(checklists, "r", latest_audit=audit_factory(verdict="failed")) == "not_met"


def test_an_audit_whose_blocking_explanation_rule_was_not_checked_meets_no_item(
    audit_factory: AuditFactory,
) -> None:
    """The verdict is judged by the real policy engine: --no-explain must not let an item turn met."""
    from governance.rules.evaluate import evaluate_policy
    from governance.rules.load import load_policy

    loaded = load_policy("default")
    built = audit_factory()
    judged = evaluate_policy(
        loaded.policy,
        built.fairness,
        policy_path="default.yaml",
        policy_sha256=loaded.sha256,
        explanation_skipped="it was skipped with explain=False",
    )
    audit = built.model_copy(update={"policy": judged})
    assert audit.policy.verdict == "inconclusive"
    plain = Evidence(type="audit", fields=["fairness.attributes[].ll144"])
    driver = Evidence(type="audit", fields=["fairness.attributes[].ll144"], rules=["no-sensitive-driver"])
    checklists = checklist(item("p", plain), item("d", driver))
    assert state(checklists, "p", latest_audit=audit) == "not_met"
    assert state(checklists, "d", latest_audit=audit) == "not_met"


def test_a_reported_audit_meets_no_item_by_its_verdict(audit_factory: AuditFactory) -> None:
    checklists = checklist(item("a", LL144))
    reported = audit_factory(verdict="reported", rule_status="fail")
    found = evaluate_status(checklists, model=model_fields(), answers=[], latest_audit=reported).item("t.a")
    assert found is not None and found.state == "not_met"
    assert "sets no pass mark" in found.reason


def test_an_audit_older_than_the_items_limit_does_not_count(audit_factory: AuditFactory) -> None:
    checklists = checklist(item("y", Evidence(type="audit", fields=["policy.verdict"], max_age_days=365)))
    set_clock(lambda: datetime(2027, 11, 19, 12, tzinfo=UTC))
    try:
        assert state(checklists, "y", latest_audit=audit_factory(created_at="2026-11-20T10:00:00Z")) == "met"
        assert (
            state(checklists, "y", latest_audit=audit_factory(created_at="2026-11-18T10:00:00Z")) == "not_met"
        )
    finally:
        set_clock(None)


def test_register_items_need_the_record() -> None:
    checklists = checklist(item("g", APPROVALS))
    assert state(checklists, "g") == "met"
    assert state(checklists, "g", model=model_fields(approvals=[])) == "not_met"


def test_register_detail_with_nested_model_fields_is_read() -> None:
    detail = {"model": {"name": "credit", "is_aedt": False}, "approvals": [{"role": "x"}], "audits": []}
    checklists = checklist(item("aedt", HUMAN, ["aedt"]), item("g", APPROVALS))
    status = evaluate_status(checklists, model=detail, answers=[], latest_audit=None)
    assert status.model_name == "credit"
    assert [entry.state for entry in status.frameworks[0].items] == ["not_applicable", "met"]


@pytest.mark.parametrize(
    ("condition", "fields", "expected"),
    [
        ("aedt", {"is_aedt": False}, "not_applicable"),
        ("aedt", {"is_aedt": True}, "needs_answer"),
        ("aedt", {"is_aedt": None}, "needs_answer"),  # unknown scope keeps the duty open
        ("annex_iii_high_risk", {"is_annex_iii_high_risk": False}, "not_applicable"),
        ("solely_automated", {"solely_automated": False}, "not_applicable"),
        ("employment", {"decision_domain": "credit", "is_aedt": None}, "not_applicable"),
        ("employment", {"decision_domain": "Hiring", "is_aedt": None}, "needs_answer"),
        ("employment", {"decision_domain": None, "is_aedt": True}, "needs_answer"),
    ],
)
def test_scope_conditions(condition: str, fields: dict[str, Any], expected: str) -> None:
    checklists = checklist(item("s", HUMAN, [condition]))
    assert state(checklists, "s", model=model_fields(**fields)) == expected


def test_unknown_scope_is_reported_once() -> None:
    checklists = checklist(item("s", HUMAN, ["aedt", "annex_iii_high_risk"]))
    status = evaluate_status(checklists, model={"name": "m"}, answers=[], latest_audit=None)
    assert status.scope_unknown == ["is_aedt", "is_annex_iii_high_risk"]


def test_the_latest_answer_wins_and_unknown_answers_are_listed() -> None:
    checklists = checklist(item("h", HUMAN))
    answers = [
        answer("h", "yes", at="2026-11-02T00:00:00Z"),
        answer("h", "no", at="2026-11-01T00:00:00Z"),
        answer("gone", "yes"),
    ]
    status = evaluate_status(checklists, model=model_fields(), answers=answers, latest_audit=None)
    entry = status.item("t.h")
    assert entry is not None and entry.state == "met" and entry.answer is not None
    assert entry.answer.created_at == "2026-11-02T00:00:00Z"
    assert status.unknown_answers == ["t.gone"]


def test_counts_add_up(shipped_checklists: list[Checklist], audit_factory: AuditFactory) -> None:
    status = evaluate_status(
        shipped_checklists, model=model_fields(is_aedt=False), answers=[], latest_audit=audit_factory()
    )
    assert sum(status.counts.values()) == sum(len(c.items) for c in shipped_checklists)
    ll144 = status.framework("nyc-ll144")
    assert (
        ll144 is not None and ll144.counts["not_applicable"] == len(ll144.items) - 1
    )  # all but the AEDT test


def test_status_markdown_escapes_what_people_typed(audit_factory: AuditFactory) -> None:
    checklists = checklist(item("h", HUMAN), item("a", LL144))
    hostile = "<script>alert(1)</script> | [x](javascript:alert(1))"
    status = evaluate_status(
        checklists,
        model=model_fields(name=hostile),
        answers=[answer("h", "yes", evidence=hostile, actor=hostile)],
        latest_audit=audit_factory(),
    )
    text = checklist_status_markdown(status, item_link=lambda i: f"t.md#{i}")
    assert "<script>" not in text
    page = markdown.markdown(text, extensions=["tables"])
    assert "<script" not in page and 'href="javascript' not in page
    assert "| [h](t.md#t.h) `t.h` | **met** |" in text
    rows = [line for line in text.splitlines() if line.startswith("| [")]
    assert len(rows) == 2
    assert all(len(row.replace("\\|", "").split(" | ")) == 4 for row in rows)  # a typed pipe adds no column


def test_checklist_page_has_an_anchor_per_item(shipped_checklists: list[Checklist]) -> None:
    eu = next(c for c in shipped_checklists if c.framework == "eu-ai-act")
    text = checklist_markdown(eu)
    assert text.count('<a id="eu-ai-act-') == len(eu.items)
    page = markdown.markdown(text, extensions=["tables"])
    assert "<h1>EU AI Act: high-risk AI system duties</h1>" in page
