"""The register end to end through its Python API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from register_support import AuditFn, Clock, write_audit_file

from governance.errors import GuardError, InputError, NotFoundError, RegisterError
from governance.provenance import sha256_file
from governance.register import Register, schema
from governance.register.chain import key_id


def test_the_whole_story(drafted: Register, audit: AuditFn, workspace: Path, approver: Register) -> None:
    register = drafted
    assert register.resolve_version("credit-risk", "1.0.0").state == "draft"
    recorded = audit()
    assert recorded.audit_json_path == "audits/audit-1/audit.json"  # relative to the workspace
    assert recorded.expires_at == "2027-05-22T10:00:00Z"
    assert register.resolve_version("credit-risk", "1.0.0").state == "audited"
    approval = approver.approve(
        "credit-risk", "1.0.0", role="risk-officer", actor="boss@example.com", comment="ok"
    )
    assert (approval.decision, approval.audit_id) == ("approve", "audit-1")
    assert register.resolve_version("credit-risk", "1.0.0").state == "approved"
    assert register.deploy("credit-risk", "1.0.0", actor="ops@example.com").state == "deployed"
    detail = register.show("credit-risk")
    assert [e.kind for e in detail.events] == [
        "model.registered",
        "version.registered",
        "audit.recorded",
        "approval.recorded",
        "version.deployed",
    ]
    assert detail.events[3].summary == (
        "boss@example.com approved credit-risk@1.0.0 as risk-officer. Comment: ok. It moved from audited to approved."
    )
    [summary] = register.list_models()
    assert (
        summary.name,
        summary.state,
        summary.deployed_versions,
        summary.last_verdict,
        summary.next_audit_due,
    ) == ("credit-risk", "deployed", ["1.0.0"], "passed", "2027-05-22T10:00:00Z")
    assert register.verify().ok


def test_records_are_json_serialisable_and_export_is_one_document(drafted: Register, audit: AuditFn) -> None:
    audit()
    drafted.record_checklist_answer(
        "credit-risk",
        framework="nist-ai-rmf",
        item_id="govern-1.6",
        status="yes",
        evidence="In the register",
        actor="boss@example.com",
    )
    document = drafted.export()
    text = json.dumps(document)
    again = json.loads(text)
    assert again["format"] == "governance-register-export"
    assert again["verification"]["ok"] is True
    assert [m["model"]["name"] for m in again["models"]] == ["credit-risk"]
    assert again["models"][0]["versions"][0]["features"] == ["age", "income"]
    assert len(again["events"]) == 4
    assert again["chain_head"] == {"seq": 4, "hash": again["events"][-1]["hash"], "hmac": None}


def test_model_names_are_unique(drafted: Register) -> None:
    with pytest.raises(RegisterError, match="already registered; add a version"):
        drafted.add_model("credit-risk", owner="x", purpose="y", actor="z")


def test_missing_owner_purpose_or_actor_is_an_input_error(register: Register) -> None:
    with pytest.raises(InputError, match=r"^owner is required"):  # the field; the CLI says --owner
        register.add_model("m", owner=" ", purpose="p", actor="a")
    with pytest.raises(InputError, match=r"^purpose is required"):
        register.add_model("m", owner="o", purpose="", actor="a")
    with pytest.raises(InputError, match="Say who is acting: give actor"):
        register.add_model("m", owner="o", purpose="p", actor="")
    assert register.history() == []


def test_the_same_file_again_is_a_no_op(drafted: Register, workspace: Path) -> None:
    again = drafted.add_version(
        "credit-risk", "1.0.0", artifact_path=workspace / "models" / "credit.skops", actor="ds@example.com"
    )
    assert again.id == drafted.resolve_version("credit-risk", "1.0.0").id
    assert len(drafted.history()) == 2


def test_a_new_artefact_hash_is_a_new_version(drafted: Register, workspace: Path) -> None:
    changed = workspace / "models" / "credit-v2.skops"
    changed.write_bytes(b"model bytes v2")
    with pytest.raises(
        GuardError, match=r"Guard 'a new artefact is a new version' refused credit-risk@1.0.0"
    ):
        drafted.add_version("credit-risk", "1.0.0", artifact_path=changed, actor="ds@example.com")
    record = drafted.add_version("credit-risk", "1.1.0", artifact_path=changed, actor="ds@example.com")
    assert record.state == "draft" and record.sha256 != drafted.resolve_version("credit-risk", "1.0.0").sha256


def test_the_same_file_under_another_version_is_refused(drafted: Register, workspace: Path) -> None:
    with pytest.raises(RegisterError, match=r"already registered as credit-risk@1.0.0"):
        drafted.add_version(
            "credit-risk", "2.0.0", artifact_path=workspace / "models" / "credit.skops", actor="a"
        )


def test_missing_things_are_not_found_with_a_hint(drafted: Register, workspace: Path) -> None:
    with pytest.raises(NotFoundError, match=r"No model named 'nope' .* Register.add_model\('nope'"):
        drafted.resolve_version("nope", "1")
    with pytest.raises(NotFoundError, match=r"credit-risk has no version '9' \(registered: 1.0.0\)"):
        drafted.resolve_version("credit-risk", "9")
    with pytest.raises(InputError, match="does not exist"):
        drafted.add_version("credit-risk", "2", artifact_path=workspace / "missing.skops", actor="a")


def test_an_audit_of_another_file_is_refused(drafted: Register, audit: AuditFn) -> None:
    with pytest.raises(GuardError, match=r"Guard 'audit of this artefact' .* register the audited file"):
        audit(artifact_sha256="f" * 64)
    assert drafted.resolve_version("credit-risk", "1.0.0").state == "draft"


def test_audit_ids_are_unique_and_verdicts_checked(drafted: Register, audit: AuditFn) -> None:
    audit(audit_id="same")
    with pytest.raises(RegisterError, match="already recorded"):
        audit(audit_id="same")
    with pytest.raises(InputError, match="verdict 'ok' is not one of passed, failed, inconclusive, reported"):
        audit(verdict="ok")
    with pytest.raises(InputError, match="at least 1"):
        audit(max_age_days=0)


def test_approval_guards_through_the_register(
    drafted: Register, audit: AuditFn, clock: Clock, approver: Register
) -> None:
    approve = approver.approve
    with pytest.raises(
        GuardError, match=r"Guard 'passing audit' refused to approve credit-risk@1.0.0: no audit"
    ):
        approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@example.com")
    audit(verdict="passed", max_age_days=30)
    with pytest.raises(GuardError, match=r"Guard 'separation of duties'.*recorded the audit"):
        approve("credit-risk", "1.0.0", role="risk-officer", actor="Auditor@Example.com")
    with pytest.raises(GuardError, match=r"Guard 'separation of duties'.*registered this version"):
        approve("credit-risk", "1.0.0", role="risk-officer", actor="ds@example.com")
    clock.advance(days=30)
    with pytest.raises(GuardError, match=r"Guard 'audit age' .* expired on 2026-12-23"):
        approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@example.com")
    audit(verdict="failed")
    with pytest.raises(
        GuardError, match=r"1 of its 2 audits of this model file did not pass: audit-2 failed"
    ):
        approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@example.com")
    accepted = approve(
        "credit-risk",
        "1.0.0",
        role="risk-officer",
        actor="boss@example.com",
        risk_acceptance="Re-audit booked for next week",
    )
    assert accepted.risk_acceptance == "Re-audit booked for next week"
    assert drafted.resolve_version("credit-risk", "1.0.0").state == "approved"
    # every refusal left no row: one approval, two audits' worth of events
    detail = drafted.show("credit-risk")
    assert len(detail.approvals) == 1 and len(detail.events) == 5


def test_a_later_failing_audit_supersedes_an_earlier_pass(drafted: Register, audit: AuditFn) -> None:
    audit(verdict="passed")
    audit(verdict="inconclusive")
    with pytest.raises(GuardError, match="was inconclusive"):
        drafted.approve("credit-risk", "1.0.0", role="r", actor="boss@example.com")


def test_a_reported_audit_needs_a_risk_acceptance_to_approve(
    drafted: Register, audit: AuditFn, approver: Register
) -> None:
    audit(verdict="reported")
    with pytest.raises(GuardError, match=r"audit-1 was only reported \(its policy sets no pass mark\)"):
        approver.approve("credit-risk", "1.0.0", role="r", actor="boss@example.com")
    assert drafted.resolve_version("credit-risk", "1.0.0").state == "audited"
    accepted = approver.approve(
        "credit-risk",
        "1.0.0",
        role="r",
        actor="boss@example.com",
        risk_acceptance="LL144 tables reviewed with the independent auditor",
    )
    assert accepted.risk_acceptance == "LL144 tables reviewed with the independent auditor"
    assert [a.verdict for a in drafted.show("credit-risk").audits] == ["reported"]


def test_deployment_needs_approval_and_suspension_needs_reapproval(
    drafted: Register, audit: AuditFn, approver: Register
) -> None:
    with pytest.raises(
        GuardError, match=r"Guard 'deployment needs approval' refused to deploy credit-risk@1.0.0"
    ):
        drafted.deploy("credit-risk", "1.0.0", actor="ops@example.com")
    audit()
    with pytest.raises(GuardError, match="it is audited, not approved"):
        drafted.deploy("credit-risk", "1.0.0", actor="ops@example.com")
    approver.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@example.com")
    drafted.deploy("credit-risk", "1.0.0", actor="ops@example.com")
    drafted.suspend("credit-risk", "1.0.0", actor="ops@example.com", reason="complaints")
    with pytest.raises(GuardError, match="it is suspended, not approved"):
        drafted.deploy("credit-risk", "1.0.0", actor="ops@example.com")
    approver.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@example.com", comment="fixed")
    assert drafted.deploy("credit-risk", "1.0.0", actor="ops@example.com").state == "deployed"


def test_a_rejection_sends_an_approved_version_back(
    drafted: Register, audit: AuditFn, approver: Register
) -> None:
    audit()
    approver.approve("credit-risk", "1.0.0", role="model-owner", actor="owner@example.com")
    rejection = approver.approve(
        "credit-risk",
        "1.0.0",
        role="risk-officer",
        actor="boss@example.com",
        decision="reject",
        comment="needs a second look",
    )
    assert rejection.decision == "reject"
    assert drafted.resolve_version("credit-risk", "1.0.0").state == "audited"
    with pytest.raises(GuardError, match="deployment needs approval"):
        drafted.deploy("credit-risk", "1.0.0", actor="ops@example.com")


def test_retirement_is_final(drafted: Register, audit: AuditFn, workspace: Path) -> None:
    audit()
    drafted.retire("credit-risk", "1.0.0", actor="owner@example.com", reason="replaced")
    for attempt in (
        lambda: drafted.approve("credit-risk", "1.0.0", role="r", actor="boss@example.com"),
        lambda: drafted.approve(
            "credit-risk", "1.0.0", role="r", actor="boss@example.com", risk_acceptance="x"
        ),
        lambda: drafted.deploy("credit-risk", "1.0.0", actor="ops@example.com"),
        lambda: drafted.suspend("credit-risk", "1.0.0", actor="ops@example.com"),
        lambda: drafted.retire("credit-risk", "1.0.0", actor="ops@example.com"),
        lambda: audit(),
    ):
        with pytest.raises(GuardError, match=r"Guard 'retirement is final'.*register a new version"):
            attempt()
    assert drafted.resolve_version("credit-risk", "1.0.0").state == "retired"


def test_checklist_answers_keep_the_newest_per_item(drafted: Register) -> None:
    answer = drafted.record_checklist_answer
    answer("credit-risk", framework="eu-ai-act", item_id="art-14", status="no", evidence="", actor="a@x")
    answer(
        "credit-risk",
        framework="eu-ai-act",
        item_id="art-10",
        status="partial",
        evidence="data sheet",
        actor="a@x",
    )
    answer(
        "credit-risk",
        framework="eu-ai-act",
        item_id="art-14",
        status="yes",
        evidence="review step",
        actor="b@x",
    )
    latest = drafted.checklist_answers("credit-risk")
    assert [(a.item_id, a.status, a.actor) for a in latest] == [
        ("art-10", "partial", "a@x"),
        ("art-14", "yes", "b@x"),
    ]
    with pytest.raises(InputError, match="not one of yes, no, partial, not_applicable"):
        answer("credit-risk", framework="eu-ai-act", item_id="x", status="maybe", evidence="", actor="a@x")
    with pytest.raises(NotFoundError):
        answer("other", framework="eu-ai-act", item_id="x", status="yes", evidence="", actor="a@x")


def test_incidents_are_recorded_without_changing_state(drafted: Register) -> None:
    incident = drafted.record_incident(
        "credit-risk",
        "1.0.0",
        title="Complaint",
        description="Applicant wrote in",
        severity="high",
        actor="ops@example.com",
    )
    assert incident.severity == "high"
    assert drafted.resolve_version("credit-risk", "1.0.0").state == "draft"
    with pytest.raises(InputError, match="severity 'huge'"):
        drafted.record_incident("credit-risk", "1.0.0", title="t", description="", severity="huge", actor="a")


def test_history_filters_by_model(drafted: Register, workspace: Path) -> None:
    drafted.add_model("churn", owner="o", purpose="p", actor="a@x")
    assert [e.seq for e in drafted.history("churn")] == [3]
    assert [e.seq for e in drafted.history()] == [1, 2, 3]
    with pytest.raises(NotFoundError):
        drafted.history("nope")


def test_model_answers_are_stored(register: Register) -> None:
    model = register.add_model(
        "screening",
        owner="hr@x",
        purpose="Rank applicants",
        actor="hr@x",
        intended_use="First-round ranking",
        decision_domain="employment",
        risk_tier="high",
        is_aedt=True,
        is_annex_iii_high_risk=True,
        solely_automated=False,
    )
    again = register.get_model("screening")
    assert again == model
    assert (again.is_aedt, again.is_annex_iii_high_risk, again.solely_automated) == (True, True, False)


def test_status_finds_overdue_expiring_unapproved_and_changed(
    drafted: Register, audit: AuditFn, clock: Clock, workspace: Path, register_url: str, approver: Register
) -> None:
    audit(max_age_days=40)
    approver.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@example.com")
    drafted.deploy("credit-risk", "1.0.0", actor="ops@example.com")
    assert drafted.status(within_days=30).items == []
    clock.advance(days=15)
    [expiring] = drafted.status(within_days=30).items
    assert (expiring.category, expiring.due) == ("expiring", "2027-01-02T10:00:00Z")
    assert "needs a new audit by 2027-01-02 (25 days from now)" in expiring.message
    clock.advance(days=30)
    [overdue] = drafted.status().items
    assert overdue.category == "overdue" and "expired on 2027-01-02" in overdue.message
    # a rejection after deployment leaves it deployed without a standing approval
    approver.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@example.com", decision="reject")
    (workspace / "audits" / "audit-1" / "audit.json").write_text("{}")
    (workspace / "models" / "credit.skops").write_bytes(b"swapped")
    report = drafted.status()
    assert [item.category for item in report.items] == ["overdue", "unapproved", "changed", "changed"]
    assert report.count("changed") == 2


def test_hmac_signatures_are_written_when_a_key_is_set(
    register_url: str, workspace: Path, clock: Clock
) -> None:
    with Register(register_url, workspace_root=workspace, hmac_key=b"secret") as signed:
        signed.add_model("m", owner="o", purpose="p", actor="a")
        switched_on, event = signed.history()  # the first signed change records that signing is on
        assert switched_on.kind == "register.signing_enabled" and switched_on.payload == {
            "key_id": key_id(b"secret"),
            "rows": [],
        }
        assert all(e.hmac is not None and len(e.hmac) == 64 for e in (switched_on, event))
        report = signed.verify()
        assert report.ok and report.signed and report.signing_since == 1


def test_opening_twice_and_a_bad_url(register_url: str, workspace: Path) -> None:
    Register(register_url).close()
    Register(register_url).close()
    with pytest.raises(RegisterError, match="supports SQLite and PostgreSQL, not mysql"):
        Register("mysql://localhost/x")
    with pytest.raises(RegisterError, match="in-memory"):
        Register("sqlite://")


def test_sqlite_is_in_wal_mode_with_a_busy_timeout(workspace: Path) -> None:
    with Register(f"sqlite:///{workspace / 'r.db'}") as register, register.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 60_000


def test_for_workspace_defaults_to_the_state_folder(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from governance.workspace import find_workspace

    monkeypatch.delenv("GOVERNANCE_REGISTER_URL", raising=False)
    with Register.for_workspace(find_workspace(workspace)) as register:
        assert register.location == str(workspace / ".governance" / "register.db")
        assert register.workspace_root == workspace.resolve()
    assert (workspace / ".governance" / "register.db").is_file()


@pytest.mark.postgres
def test_a_postgresql_url_without_driver_uses_psycopg() -> None:
    from register_support import fresh_postgres_database

    for url in fresh_postgres_database():
        plain = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with Register(plain) as register:
            assert register.engine.dialect.driver == "psycopg"


def test_updating_a_model_keeps_the_old_answers_in_the_history(drafted: Register) -> None:
    updated = drafted.update_model(
        "credit-risk",
        actor="boss@example.com",
        risk_tier="high",
        is_aedt=False,
        owner="new-owner@example.com",
    )
    assert (updated.risk_tier, updated.is_aedt, updated.owner) == ("high", False, "new-owner@example.com")
    assert updated.purpose == "Decide on credit applications"  # not given: unchanged
    unchanged = drafted.update_model("credit-risk", actor="boss@example.com", risk_tier="high")
    assert unchanged == updated
    [event] = [e for e in drafted.history() if e.kind == "model.updated"]
    assert event.summary == (
        "boss@example.com updated the model credit-risk: automated employment decision tool not answered -> no; "
        "owner owner@example.com -> new-owner@example.com; risk tier not answered -> high."
    )
    assert drafted.verify().ok
    with drafted.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE gov_models SET risk_tier = 'minimal'")
    first = drafted.verify().first_break
    assert first is not None and first.message.startswith(
        "The model row 1 differs from what event 3 recorded"
    )


# ---------------------------------------------------------------------- every audit of the file counts (issue 9.10)


def test_an_earlier_failed_audit_cannot_be_hidden_by_a_later_pass(
    drafted: Register, audit: AuditFn, approver: Register
) -> None:
    audit(verdict="failed")
    audit(verdict="inconclusive")
    audit(verdict="passed")
    with pytest.raises(
        GuardError,
        match=r"Guard 'passing audit' refused to approve credit-risk@1.0.0: 2 of its 3 "
        r"audits of this model file did not pass: audit-1 failed on 2026-11-23, "
        r"audit-2 was inconclusive on 2026-11-23; .*risk_acceptance REASON",
    ):
        approver.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@example.com")
    reviewed = drafted.approval_review("credit-risk", "1.0.0")
    assert [(a.audit_id, a.verdict, a.needs_acceptance) for a in reviewed] == [
        ("audit-1", "failed", True),
        ("audit-2", "inconclusive", True),
        ("audit-3", "passed", False),
    ]
    accepted = approver.approve(
        "credit-risk",
        "1.0.0",
        role="risk-officer",
        actor="boss@example.com",
        risk_acceptance="Failures came from a broken holdout file; see ticket 12",
    )
    assert accepted.audit_id == "audit-3"
    event = drafted.history("credit-risk")[-1]
    assert event.payload["accepted_audits"] == [
        {"audit_id": "audit-1", "verdict": "failed", "override": None},
        {"audit_id": "audit-2", "verdict": "inconclusive", "override": None},
    ]
    assert event.summary.endswith(
        "The acceptance covers audit-1 (failed) and audit-2 (inconclusive). "
        "It moved from audited to approved."
    )
    assert drafted.verify().ok


def test_an_audit_made_with_an_override_needs_a_risk_acceptance(
    drafted: Register, workspace: Path, approver: Register
) -> None:
    path = write_audit_file(workspace, "spec-1")
    override = {
        "reason": "The pinned holdout is being rebuilt",
        "departures": ["the policy 'default', not 'four-fifths'"],
    }
    drafted.record_audit(
        "credit-risk",
        "1.0.0",
        audit_id="spec-1",
        audit_json_path=path,
        verdict="passed",
        policy_name="default",
        policy_sha256=sha256_file(path),
        data_sha256="d" * 64,
        artifact_sha256=drafted.resolve_version("credit-risk", "1.0.0").sha256,
        tool_versions={},
        actor="auditor@example.com",
        max_age_days=None,
        override=override,
    )
    recorded = drafted.history("credit-risk")[-1]
    assert recorded.payload["override"] == override
    assert "overriding the pinned audit specification" in recorded.summary
    with pytest.raises(
        GuardError,
        match=r"1 of its 1 audits of this model file did not pass: spec-1 passed only "
        r"with an override of the pinned audit specification \(The pinned holdout is "
        r"being rebuilt\) on 2026-11-23",
    ):
        approver.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@example.com")
    approver.approve(
        "credit-risk",
        "1.0.0",
        role="risk-officer",
        actor="boss@example.com",
        risk_acceptance="Accepted until the rebuilt holdout is audited",
    )
    assert drafted.history("credit-risk")[-1].payload["accepted_audits"] == [
        {"audit_id": "spec-1", "verdict": "passed", "override": "The pinned holdout is being rebuilt"}
    ]


def test_an_audit_of_another_model_file_does_not_count(
    drafted: Register, audit: AuditFn, approver: Register
) -> None:
    audit(verdict="failed")
    with drafted.engine.begin() as conn:  # as if audit-1 had audited an earlier file of this version
        conn.execute(
            sa.update(schema.audits)
            .where(schema.audits.c.audit_id == "audit-1")
            .values(artifact_sha256="e" * 64)
        )
    audit(verdict="passed")
    assert [a.audit_id for a in drafted.approval_review("credit-risk", "1.0.0")] == ["audit-2"]
    approval = approver.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@example.com")
    assert approval.audit_id == "audit-2" and approval.risk_acceptance is None
