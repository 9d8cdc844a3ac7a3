"""The lifecycle rules on their own (no database): guards, transitions, names, expiry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from governance.errors import GuardError, InputError
from governance.register.lifecycle import (
    AuditFacts,
    check_approval,
    check_model_name,
    check_transition,
    check_version_label,
    expiry,
    parse_reference,
    state_after_decision,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PASSED = AuditFacts(
    audit_id="a1", verdict="passed", actor="aud@x", recorded_at="2026-11-01T10:00:00Z", max_age_days=180
)


def approve(**overrides: object) -> None:
    arguments: dict[str, object] = dict(
        label="m@1",
        state="audited",
        audits=[PASSED],
        creator="ds@x",
        approver="boss@x",
        risk_acceptance=None,
        now=NOW,
    )
    arguments.update(overrides)
    check_approval(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("credit-risk@1.0.0", ("credit-risk", "1.0.0")), ("a@b@2", ("a@b", "2")), (" m @ v ", ("m", "v"))],
)
def test_parse_reference(text: str, expected: tuple[str, str]) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize("text", ["credit-risk", "@1.0", "m@", "", "@"])
def test_parse_reference_refuses_with_an_example(text: str) -> None:
    with pytest.raises(InputError, match=r"is not NAME@VERSION; write it like credit-risk@1.0.0"):
        parse_reference(text)


@pytest.mark.parametrize("name", ["", "  ", "a@b", "x\ny", "n" * 201])
def test_bad_model_names(name: str) -> None:
    with pytest.raises(InputError, match="not usable"):
        check_model_name(name)


@pytest.mark.parametrize("version", ["", "1 0", "1@2", "v\t1", "v" * 101])
def test_bad_version_labels(version: str) -> None:
    with pytest.raises(InputError, match="not usable"):
        check_version_label(version)


def test_a_passing_current_audit_by_someone_else_allows_approval() -> None:
    approve()


def test_no_audit_is_refused() -> None:
    with pytest.raises(GuardError, match=r"Guard 'passing audit' .* no audit .* record an audit of m@1"):
        approve(audits=[], state="draft")


def test_no_audit_is_refused_even_with_a_risk_acceptance() -> None:
    with pytest.raises(GuardError, match="Guard 'passing audit'"):
        approve(audits=[], risk_acceptance="vendor model")


@pytest.mark.parametrize(
    ("verdict", "words"),
    [
        ("failed", "failed"),
        ("inconclusive", "was inconclusive"),
        ("reported", r"was only reported \(its policy sets no pass mark\)"),
    ],
)
def test_a_failed_or_inconclusive_audit_is_refused(verdict: str, words: str) -> None:
    audit = AuditFacts(**{**PASSED.__dict__, "verdict": verdict})
    with pytest.raises(
        GuardError, match=rf"Guard 'passing audit' .*: a1 {words} on 2026-11-01; .*risk_acceptance REASON"
    ):
        approve(audits=[audit])


def test_a_later_passing_audit_does_not_hide_an_earlier_failure() -> None:
    failed = AuditFacts(**{**PASSED.__dict__, "audit_id": "a0", "verdict": "failed"})
    with pytest.raises(
        GuardError, match=r"1 of its 2 audits of this model file did not pass: a0 failed on 2026-11-01"
    ):
        approve(audits=[failed, PASSED])
    approve(audits=[failed, PASSED], risk_acceptance="The failure came from a truncated holdout")


def test_a_passing_audit_made_with_an_override_needs_a_risk_acceptance() -> None:
    overridden = AuditFacts(**{**PASSED.__dict__, "override": "holdout being rebuilt"})
    assert overridden.needs_acceptance and not PASSED.needs_acceptance
    with pytest.raises(
        GuardError,
        match=r"a1 passed only with an override of the pinned audit specification "
        r"\(holdout being rebuilt\)",
    ):
        approve(audits=[overridden])
    approve(audits=[overridden], risk_acceptance="Accepted until the rebuilt holdout is audited")


def test_the_separation_of_duties_concerns_the_newest_audit() -> None:
    earlier = AuditFacts(**{**PASSED.__dict__, "audit_id": "a0", "actor": "boss@x"})
    approve(audits=[earlier, PASSED])


def test_a_risk_acceptance_stands_in_for_a_reported_audit() -> None:
    approve(
        audits=[AuditFacts(**{**PASSED.__dict__, "verdict": "reported"})],
        risk_acceptance="LL144 tables reviewed",
    )


def test_a_risk_acceptance_stands_in_for_a_failed_audit() -> None:
    approve(
        audits=[AuditFacts(**{**PASSED.__dict__, "verdict": "failed"})],
        risk_acceptance="Manual review of all",
    )


def test_an_expired_audit_is_refused_on_the_day_it_expires() -> None:
    audit = AuditFacts(**{**PASSED.__dict__, "recorded_at": "2026-05-27T10:00:00Z"})  # +180 days = NOW
    with pytest.raises(GuardError, match=r"Guard 'audit age' .* expired on 2026-11-23 .*180 days"):
        approve(audits=[audit])
    approve(audits=[AuditFacts(**{**PASSED.__dict__, "recorded_at": "2026-05-27T10:00:01Z"})])


def test_an_audit_without_a_maximum_age_never_expires() -> None:
    approve(
        audits=[
            AuditFacts(**{**PASSED.__dict__, "recorded_at": "2000-01-01T00:00:00Z", "max_age_days": None})
        ]
    )


@pytest.mark.parametrize("approver", ["aud@x", " AUD@X "])
def test_the_auditor_cannot_approve(approver: str) -> None:
    with pytest.raises(
        GuardError, match=r"Guard 'separation of duties' .* recorded the audit .* someone else"
    ):
        approve(approver=approver)


def test_the_creator_cannot_approve_even_accepting_risk() -> None:
    with pytest.raises(GuardError, match=r"Guard 'separation of duties' .* registered this version"):
        approve(approver="DS@x", risk_acceptance="reason")


def test_retired_versions_cannot_be_approved() -> None:
    with pytest.raises(GuardError, match="Guard 'retirement is final'"):
        approve(state="retired")


@pytest.mark.parametrize(
    ("state", "decision", "after"),
    [
        ("audited", "approve", "approved"),
        ("suspended", "approve", "approved"),
        ("approved", "approve", "approved"),
        ("deployed", "approve", "deployed"),
        ("approved", "reject", "audited"),
        ("audited", "reject", "audited"),
        ("deployed", "reject", "deployed"),
    ],
)
def test_state_after_a_decision(state: str, decision: str, after: str) -> None:
    assert state_after_decision(state, decision) == after


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        ("approved", "deploy", "deployed"),
        ("deployed", "suspend", "suspended"),
        ("approved", "suspend", "suspended"),
        ("audited", "suspend", "suspended"),
        ("draft", "retire", "retired"),
        ("deployed", "retire", "retired"),
        ("suspended", "retire", "retired"),
    ],
)
def test_allowed_transitions(state: str, action: str, after: str) -> None:
    assert check_transition(state, action, "m@1") == after


@pytest.mark.parametrize(
    ("state", "action", "pattern"),
    [
        (
            "draft",
            "deploy",
            r"Guard 'deployment needs approval' refused to deploy m@1: it is draft, not approved",
        ),
        ("audited", "deploy", r"Guard 'deployment needs approval' .* approve it first"),
        ("suspended", "deploy", r"Guard 'deployment needs approval' .* it is suspended"),
        ("deployed", "deploy", r"already deployed"),
        ("draft", "suspend", r"Guard 'lifecycle' refused to suspend m@1: a draft version"),
        ("suspended", "suspend", r"already suspended"),
        ("retired", "retire", r"Guard 'retirement is final'"),
        ("retired", "deploy", r"Guard 'retirement is final'"),
        ("retired", "suspend", r"Guard 'retirement is final'"),
    ],
)
def test_refused_transitions(state: str, action: str, pattern: str) -> None:
    with pytest.raises(GuardError, match=pattern):
        check_transition(state, action, "m@1")


def test_expiry_adds_whole_days() -> None:
    assert expiry("2026-01-31T08:00:00Z", 30) == "2026-03-02T08:00:00Z"
    assert expiry("2026-01-31T08:00:00Z", None) is None
