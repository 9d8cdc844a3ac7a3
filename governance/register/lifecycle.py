"""The lifecycle of a version and its guards, as plain functions (no database), so each rule is easy to test.

    draft --audit--> audited --approve--> approved --deploy--> deployed
    audited / approved / deployed --suspend--> suspended --approve--> approved
    any state but retired --retire--> retired (final)

A refusal raises :class:`GuardError` naming the guard and saying how to satisfy it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from governance.errors import GuardError, InputError

if TYPE_CHECKING:
    from governance.register.records import AuditRecord, VersionRecord

# action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "deploy": (frozenset({"approved"}), "deployed"),
    "suspend": (frozenset({"audited", "approved", "deployed"}), "suspended"),
    "retire": (frozenset({"draft", "audited", "approved", "deployed", "suspended"}), "retired"),
}
PAST = {"deploy": "deployed", "suspend": "suspended", "retire": "retired"}
ACTIVE_STATES = frozenset({"approved", "deployed"})

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_model_name(name: str) -> str:
    """A model name: non-empty, no ``@`` (it separates NAME@VERSION), no control characters."""
    text = (name or "").strip()
    if not text or "@" in text or _CONTROL.search(text) or len(text) > 200:
        raise InputError(
            f"The model name {name!r} is not usable; use up to 200 characters without '@', e.g. credit-risk."
        )
    return text


def check_version_label(version: str) -> str:
    """A version label: non-empty, no ``@``, no spaces or control characters."""
    text = (version or "").strip()
    if not text or "@" in text or any(ch.isspace() for ch in text) or _CONTROL.search(text) or len(text) > 100:
        raise InputError(f"The version {version!r} is not usable; use a label without spaces or '@', e.g. 1.0.0.")
    return text


def parse_reference(reference: str) -> tuple[str, str]:
    """Split ``NAME@VERSION`` (the version is after the last ``@``)."""
    name, sep, version = (reference or "").rpartition("@")
    if not sep or not name.strip() or not version.strip():
        raise InputError(f"{reference!r} is not NAME@VERSION; write it like credit-risk@1.0.0.")
    return name.strip(), version.strip()


def refuse_if_retired(state: str, label: str, doing: str) -> None:
    """Guard 'retirement is final'."""
    if state == "retired":
        raise GuardError(
            f"Guard 'retirement is final' refused to {doing} {label}: it is retired; register a new version instead."
        )


@dataclass(frozen=True)
class AuditFacts:
    """What the approval guards need to know about the newest audit of the version's artefact."""

    audit_id: str
    verdict: str
    actor: str
    recorded_at: str
    max_age_days: int | None


def expiry(recorded_at: str, max_age_days: int | None) -> str | None:
    """When an audit stops counting for approval (``None``: the policy sets no maximum age)."""
    if max_age_days is None:
        return None
    moment = _parse(recorded_at) + timedelta(days=int(max_age_days))
    return moment.isoformat().replace("+00:00", "Z")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def same_person(a: str | None, b: str | None) -> bool:
    """Actors compare without regard to case or surrounding spaces (e-mail addresses)."""
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


_NOT_PASSED = {
    "failed": "failed; fix the model and audit it again",
    "inconclusive": "was inconclusive; fix the model and audit it again",
    "reported": "was only reported (its policy sets no pass mark); review its tables, audit it against a policy with "
                "a pass mark",
}
"""What an audit that did not pass means for approval: a reported one is handled like an inconclusive one."""


def check_approval(
    *,
    label: str,
    state: str,
    audit: AuditFacts | None,
    creator: str,
    approver: str,
    risk_acceptance: str | None,
    now: datetime,
) -> None:
    """The approval guards: a passing, current audit of this artefact (or a risk acceptance), and two other people."""
    refuse_if_retired(state, label, "approve")
    if audit is None:
        raise GuardError(
            f"Guard 'passing audit' refused to approve {label}: no audit of its artefact is recorded; "
            f"run `governance audit {label} --data HOLDOUT --target COLUMN` first."
        )
    if risk_acceptance is None:
        if audit.verdict != "passed":
            raise GuardError(
                f"Guard 'passing audit' refused to approve {label}: its latest audit ({audit.audit_id}) "
                f"{_NOT_PASSED.get(audit.verdict, f'was {audit.verdict}; audit it again')}, "
                "or approve with --accept-risk REASON to record a risk acceptance."
            )
        expires = expiry(audit.recorded_at, audit.max_age_days)
        if expires is not None and _parse(expires) <= now:
            raise GuardError(
                f"Guard 'audit age' refused to approve {label}: its passing audit ({audit.audit_id}) expired on "
                f"{expires[:10]} (the policy allows {audit.max_age_days} days); audit it again, "
                "or approve with --accept-risk REASON."
            )
    if same_person(approver, audit.actor):
        raise GuardError(
            f"Guard 'separation of duties' refused the approval of {label}: {approver} recorded the audit it relies "
            f"on ({audit.audit_id}); someone else must approve."
        )
    if same_person(approver, creator):
        raise GuardError(
            f"Guard 'separation of duties' refused the approval of {label}: {approver} registered this version; "
            "someone else must approve."
        )


def state_after_decision(state: str, decision: str) -> str:
    """Approval moves audited or suspended to approved; a rejection sends an approved (not deployed) version back."""
    if decision == "approve":
        return "approved" if state in ("draft", "audited", "suspended") else state
    return "audited" if state == "approved" else state


def check_transition(state: str, action: str, label: str) -> str:
    """The state after deploy / suspend / retire, or a ``GuardError`` saying what must happen first."""
    allowed, target = TRANSITIONS[action]
    refuse_if_retired(state, label, action)
    if state in allowed:
        return target
    if action == "deploy":
        if state == "deployed":
            raise GuardError(f"Guard 'deployment needs approval' found {label} already deployed; nothing to do.")
        raise GuardError(
            f"Guard 'deployment needs approval' refused to deploy {label}: it is {state}, not approved; "
            f"approve it first with `governance register approve {label} --role ROLE` (by someone other than its "
            "auditor and creator)."
        )
    if state == target:
        raise GuardError(f"{label} is already {target}; nothing to do.")
    raise GuardError(
        f"Guard 'lifecycle' refused to {action} {label}: a {state} version cannot be {PAST[action]}; "
        "only audited, approved or deployed versions can."
    )


def current_audit(version: VersionRecord, audits: Sequence[AuditRecord]) -> AuditRecord | None:
    """The newest audit of the version's exact artefact."""
    matching = [a for a in audits if a.version_id == version.id and a.artifact_sha256 == version.sha256]
    return matching[-1] if matching else None


def next_due(versions: Sequence[VersionRecord], audits: Sequence[AuditRecord]) -> str | None:
    """The earliest re-audit date among approved and deployed versions (``None`` when nothing expires)."""
    dues = []
    for version in versions:
        if version.state not in ACTIVE_STATES:
            continue
        audit = current_audit(version, audits)
        if audit is not None and audit.expires_at is not None:
            dues.append(audit.expires_at)
    return min(dues) if dues else None
