"""Tampering by hand (raw SQL on the database, edits to audit files) is caught by verify, on both databases."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from register_support import AuditFn, People

from governance.errors import RegisterError
from governance.register import Register
from governance.register import schema as t
from governance.register.chain import event_hash


@pytest.fixture
def story(drafted: Register, audit: AuditFn, approver: Register) -> Register:
    """Five events: model, version, audit (by the auditor), approval (by boss, as their own role), deployment."""
    audit()
    approver.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@example.com")
    drafted.deploy("credit-risk", "1.0.0", actor="ops@example.com")
    assert drafted.verify().ok
    return drafted


def raw(register: Register, statement: str) -> None:
    """Change the database behind the register's back, as someone with a SQL console would."""
    with register.engine.begin() as connection:
        connection.exec_driver_sql(statement)


TAMPERING: dict[str, tuple[Callable[[Register, Path], None], str, str]] = {
    "edit an event": (
        lambda r, _w: raw(
            r,
            "UPDATE gov_events SET payload = REPLACE(payload, 'boss@example.com', 'ceo@example.com') "
            "WHERE seq = 4",
        ),
        "chain",
        "Event 4 (approval.recorded by boss@example.com at 2026-11-23T10:00:00Z) was changed after it was written",
    ),
    "edit an approval row": (
        lambda r, _w: raw(r, "UPDATE gov_approvals SET actor = 'auditor@example.com'"),
        "row",
        "The approval row 1 differs from what event 4 recorded (actor): it was edited by hand.",
    ),
    "delete an approval row": (
        lambda r, _w: raw(r, "DELETE FROM gov_approvals"),
        "row",
        "The approval row 1 recorded by event 4 is gone: it was deleted by hand.",
    ),
    "insert an approval row": (
        lambda r, _w: raw(
            r,
            "INSERT INTO gov_approvals (id, version_id, role, decision, actor, at, event_seq) "
            "VALUES (7, 1, 'ceo', 'approve', 'ceo@example.com', '2026-11-23T10:00:00Z', 4)",
        ),
        "row",
        "The approval row 7 is not in the log: it was added by hand.",
    ),
    "relink an approval row": (  # who approved is read through the link: it must be checked too
        lambda r, _w: raw(r, "UPDATE gov_approvals SET event_seq = 3"),
        "row",
        "The approval row 1 names event 3 as its record, but event 4 recorded it: its link to the history was "
        "edited by hand.",
    ),
    "relink an audit row": (  # the audit's creator (separation of duties) is read through the link
        lambda r, _w: raw(r, "UPDATE gov_audits SET event_seq = 1"),
        "row",
        "The audit row 1 names event 1 as its record, but event 3 recorded it",
    ),
    "relink a version row": (  # to the audit's event: its creator would read as the auditor
        lambda r, _w: raw(r, "UPDATE gov_versions SET event_seq = 3"),
        "row",
        "The version row 1 names event 3 as its record, but event 2 recorded it",
    ),
    "change a state": (
        lambda r, _w: raw(r, "UPDATE gov_versions SET state = 'approved'"),
        "row",
        "The version row 1 differs from what event 5 recorded (state): it was edited by hand.",
    ),
    "delete an event in the middle": (
        lambda r, _w: raw(r, "DELETE FROM gov_events WHERE seq = 3"),
        "chain",
        "Event 3 is missing from the log (the next one is 4): someone deleted it by hand.",
    ),
    "delete the newest event": (
        lambda r, _w: raw(r, "DELETE FROM gov_events WHERE seq = 5"),
        "head",
        "The log ends at event 4, but the chain head records event 5: the newest events were deleted",
    ),
    "edit an audit file": (
        lambda _r, w: (w / "audits" / "audit-1" / "audit.json").write_text(
            '{"verdict": "passed", "edited": 1}'
        ),
        "audit_file",
        "The audit file audits/audit-1/audit.json (audit audit-1) was changed after it was recorded",
    ),
    "delete an audit file": (
        lambda _r, w: (w / "audits" / "audit-1" / "audit.json").unlink(),
        "audit_file",
        "The audit file audits/audit-1/audit.json (audit audit-1) is missing",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_verify_reports_the_first_break(story: Register, workspace: Path, case: str) -> None:
    tamper, kind, message = TAMPERING[case]
    tamper(story, workspace)
    report = story.verify()
    assert not report.ok
    first = report.first_break
    assert first is not None
    assert (first.kind, first.message[: len(message)]) == (kind, message)


def rewrite_chain_without_the_key(register: Register, seq: int, old: str, new: str) -> None:
    """What an insider with database access but no HMAC key could do: edit, then recompute every hash."""
    with register.engine.begin() as connection:
        events = connection.execute(sa.select(t.events).order_by(t.events.c.seq)).all()
        previous = t.GENESIS_HASH
        for event in events:
            payload = json.loads(event.payload.replace(old, new) if event.seq == seq else event.payload)
            actor = new if event.seq == seq and event.actor == old else event.actor
            digest = event_hash(
                seq=event.seq,
                at=event.at,
                actor=actor,
                kind=event.kind,
                model_name=event.model_name,
                version=event.version,
                payload=payload,
                prev_hash=previous,
                identity=event.identity,
            )
            connection.execute(
                sa.update(t.events)
                .where(t.events.c.seq == event.seq)
                .values(
                    actor=actor,
                    payload=json.dumps(payload, sort_keys=True, separators=(",", ":")),
                    prev_hash=previous,
                    hash=digest,
                )
            )
            previous = digest
        connection.execute(sa.update(t.chain_head).values(hash=previous))
        connection.execute(sa.update(t.approvals).values(actor=new))


def test_a_recomputed_chain_is_only_caught_with_the_hmac_key(
    register_url: str, workspace: Path, clock: object, people: People
) -> None:
    with Register(register_url, workspace_root=workspace, hmac_key=b"k3y") as signed:
        signed.add_model("m", owner="o", purpose="p", actor="ds@x")
        signed.add_version("m", "1", artifact_path=workspace / "models" / "credit.skops", actor="ds@x")
        path = workspace / "audit.json"
        path.write_text("{}")
        sha = signed.resolve_version("m", "1").sha256
        signed.record_audit(
            "m",
            "1",
            audit_id="a",
            audit_json_path=path,
            verdict="passed",
            policy_name="p",
            policy_sha256="p",
            data_sha256="d",
            artifact_sha256=sha,
            tool_versions={},
            actor="aud@x",
            max_age_days=None,
        )
        people.register("boss", hmac_key=b"k3y").approve("m", "1", role="risk-officer", actor="boss@x")
        rewrite_chain_without_the_key(signed, 5, "boss@x", "ceo@x")  # event 1 switched signing on
        report = signed.verify()
        assert not report.ok
        assert report.first_break is not None and report.first_break.kind == "signature"
        assert report.first_break.message.startswith("Event 5 has a signature that does not match the key")
    with Register(register_url, workspace_root=workspace, hmac_key=b"") as unsigned:
        # without the key the rewritten chain is consistent, so verify cannot vouch for it: not OK, not broken
        unsigned.hmac_key = None
        report = unsigned.verify()
        assert not report.ok and report.inconclusive and not report.problems


def test_a_key_on_an_unsigned_register_is_a_break(story: Register) -> None:
    story.hmac_key = b"not the key"
    report = story.verify()
    # stripping every signature and the record that signing is on would look exactly like this
    assert not report.ok and report.first_break is not None
    assert report.first_break.message.startswith(
        "A key was given, but the register has no record that signing"
    )


def test_unsigned_events_after_signed_ones_are_reported(
    register_url: str, workspace: Path, clock: object
) -> None:
    with Register(register_url, workspace_root=workspace, hmac_key=b"k") as signed:
        signed.add_model("a", owner="o", purpose="p", actor="x")
        signed.add_model("b", owner="o", purpose="p", actor="x")
    with Register(register_url, workspace_root=workspace, hmac_key=b"") as unsigned:
        unsigned.hmac_key = None
        with pytest.raises(RegisterError, match="This register is signed"):
            unsigned.add_model("c", owner="o", purpose="p", actor="x")
        raw(unsigned, "UPDATE gov_events SET hmac = NULL WHERE seq = 3")
    with Register(register_url, workspace_root=workspace, hmac_key=b"k") as checker:
        report = checker.verify()
        assert [p.message[:49] for p in report.problems] == [
            "Event 3 is not signed although signing was switch"
        ]


def test_verify_counts_what_it_checked(story: Register) -> None:
    report = story.verify()
    assert (report.events_checked, report.rows_checked, report.audit_files_checked) == (5, 4, 1)
