"""The lifecycle of a version and its guards, as plain functions (no database), so each rule is easy to test.

    draft --audit--> audited --approve--> approved --deploy--> deployed
    audited / approved / deployed --suspend--> suspended --approve--> approved
    any state but retired --retire--> retired (final)

A refusal raises :class:`RuleBroken` (a :class:`GuardError`) naming the guard and saying how to satisfy it, and
carrying the rule's key in :data:`RULES`: ``verify`` replays the same functions over the history
(:mod:`governance.register.duties_check`), so that a record written by hand around these guards is caught by the
very rules the commands apply (one meaning, one place).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from governance.errors import FieldError, GuardError, InputError
from governance.register.actions import advice

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


@dataclass(frozen=True)
class Rule:
    """A lifecycle rule: the guard's name in refusals, and what ``verify`` says a record that breaks it did.

    ``broken`` may name ``{who}`` (the kind of identity: database role, OS user), ``{done}`` (what the record did:
    approved, deployed ...), ``{kind}`` (the event's kind), ``{state}`` (the version's state before it), ``{new}``
    (the state it claims after) and ``{audit}`` (the audit an approval relies on).
    """

    guard: str
    broken: str


# Every rule a command refuses by, and that verify replays over the events (the key is RuleBroken.rule).
RULES: dict[str, Rule] = {
    "retired": Rule("retirement is final", "{done} after it was retired"),
    "no-audit": Rule("passing audit", "approved with no audit of its model file recorded"),
    "passing-audit": Rule(
        "passing audit",
        "approved although an audit of its model file did not pass, without a recorded risk acceptance",
    ),
    "audit-age": Rule(
        "audit age", "approved after its audit had expired, without a recorded risk acceptance"
    ),
    "auditor-name": Rule(
        "separation of duties",
        "approved under the same --actor name that recorded the audit it relies on ({audit})",
    ),
    "registrant-name": Rule(
        "separation of duties", "approved under the same --actor name that registered it"
    ),
    "auditor-identity": Rule(
        "separation of duties", "approved by the same {who} that recorded the audit it relies on ({audit})"
    ),
    "registrant-identity": Rule("separation of duties", "approved by the same {who} that registered it"),
    "deploy-needs-approval": Rule(
        "deployment needs approval", "deployed while {state}, without a standing approval"
    ),
    "lifecycle": Rule("lifecycle", "{done} while {state}, which the lifecycle does not allow"),
    "audit-artefact": Rule(
        "audit of this artefact", "audited on a file other than its registered model file"
    ),
    "state": Rule("lifecycle", "its state changed from {state} to {new}, which a {kind} record cannot do"),
}


class RuleBroken(GuardError):
    """A guard's refusal, with the key of the rule (in :data:`RULES`) it enforces."""

    def __init__(
        self,
        rule: str,
        message: str,
        *,
        fields: Sequence[str] = (),
        actions: Mapping[str, str] | None = None,
        subject: Mapping[str, str] | None = None,
    ) -> None:
        self.rule = rule
        super().__init__(message, fields=fields, actions=actions, subject=subject)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_model_name(name: str) -> str:
    """A model name: non-empty, no ``@`` (it separates NAME@VERSION), no control characters."""
    text = (name or "").strip()
    if not text or "@" in text or _CONTROL.search(text) or len(text) > 200:
        raise InputError(
            f"The model name {name!r} is not usable; use up to 200 characters without '@', e.g. credit-risk."
        )
    return text


def checked_actor(actor: str | None) -> str:
    """Who is acting, stripped; refused when not given."""
    if actor is None or not str(actor).strip():
        raise FieldError("actor", "Say who is acting: give {field}, for example your e-mail address.")
    return str(actor).strip()


def check_version_label(version: str) -> str:
    """A version label: non-empty, no ``@``, no spaces or control characters."""
    text = (version or "").strip()
    if (
        not text
        or "@" in text
        or any(ch.isspace() for ch in text)
        or _CONTROL.search(text)
        or len(text) > 100
    ):
        raise InputError(
            f"The version {version!r} is not usable; use a label without spaces or '@', e.g. 1.0.0."
        )
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
        raise RuleBroken(
            "retired",
            f"Guard 'retirement is final' refused to {doing} {label}: it is retired; register a new version instead.",
        )


@dataclass(frozen=True)
class AuditFacts:
    """What the approval guards need to know about one audit of the version's artefact."""

    audit_id: str
    verdict: str
    actor: str
    recorded_at: str
    max_age_days: int | None
    override: str | None = (
        None  # the reason given when the audit departed from the model's pinned specification
    )
    from_predictions: bool = (
        False  # run on saved predictions: nothing shows they came from the registered file
    )
    identity: str | None = (
        None  # who the database says recorded it ("pg:ROLE"); None before identities were kept
    )

    @property
    def needs_acceptance(self) -> bool:
        """A failed, inconclusive (or any other non-passing), overridden or predictions-only audit needs an explicit
        risk acceptance."""
        return self.verdict != "passed" or self.override is not None or self.from_predictions

    def describe(self) -> str:
        """In plain words: ``a1 failed on 2026-11-23``."""
        if self.verdict == "passed":
            outcome = "passed"
        else:
            outcome = {
                "failed": "failed",
                "reported": "was only reported (its policy sets no pass mark)",
            }.get(self.verdict, f"was {self.verdict}")
        if self.override is not None:
            outcome += (
                f"{' only' if self.verdict == 'passed' else ''} with an override of the pinned audit "
                f"specification ({self.override})"
            )
        if self.from_predictions:
            outcome += " on saved predictions, not by running the registered file"
        return f"{self.audit_id} {outcome} on {self.recorded_at[:10]}"


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


def check_approval(
    *,
    label: str,
    state: str,
    audits: Sequence[AuditFacts],
    creator: str,
    approver: str,
    risk_acceptance: str | None,
    now: datetime,
) -> None:
    """The approval guards: every audit of this artefact passed as pinned and the newest is current (or a risk
    acceptance covers them), and two other people.

    ``audits`` are every audit of the version's exact file, oldest first: a later, easier audit cannot hide a
    failed, inconclusive or overridden one.
    """
    refuse_if_retired(state, label, "approve")
    if not audits:
        raise RuleBroken(
            "no-audit",
            f"Guard 'passing audit' refused to approve {label}: no audit of its artefact is recorded; "
            "{audit} first.",
            **advice("audit", label=label),
        )
    audit = audits[-1]
    if risk_acceptance is None:
        flagged = [a for a in audits if a.needs_acceptance]
        if flagged:
            raise RuleBroken(
                "passing-audit",
                f"Guard 'passing audit' refused to approve {label}: {len(flagged)} of its {len(audits)} audits of this "
                f"model file did not pass: {', '.join(a.describe() for a in flagged)}; a later audit does not undo "
                "them, so register a fixed model as a new version and audit that, or approve with {risk_acceptance} "
                "REASON to record a risk acceptance that covers them.",
                fields=["risk_acceptance"],
            )
        expires = expiry(audit.recorded_at, audit.max_age_days)
        if expires is not None and _parse(expires) <= now:
            raise RuleBroken(
                "audit-age",
                f"Guard 'audit age' refused to approve {label}: its passing audit ({audit.audit_id}) expired on "
                f"{expires[:10]} (the policy allows {audit.max_age_days} days); audit it again, "
                "or approve with {risk_acceptance} REASON.",
                fields=["risk_acceptance"],
            )
    if same_person(approver, audit.actor):
        raise RuleBroken(
            "auditor-name",
            f"Guard 'separation of duties' refused the approval of {label}: {approver} recorded the audit it relies "
            f"on ({audit.audit_id}); someone else must approve.",
        )
    if same_person(approver, creator):
        raise RuleBroken(
            "registrant-name",
            f"Guard 'separation of duties' refused the approval of {label}: {approver} registered this version; "
            "someone else must approve.",
        )


def describe_identity(identity: str) -> str:
    """``pg:ana`` as "database role ana", ``os:ana`` as "OS user ana" (plain words for messages and history)."""
    source, _sep, name = identity.partition(":")
    return {"pg": f"database role {name}", "os": f"OS user {name}"}.get(source, identity)


def check_identities(*, label: str, approver: str, audit: AuditFacts | None, creator: str | None) -> None:
    """Separation of duties on who logged in (a PostgreSQL role, or an OS user after ``require-roles`` on
    SQLite), whatever names ``--actor`` gave.

    Events written before identities were kept (``None``) cannot be compared; the label check still applies.
    """
    if audit is not None and audit.identity is not None and same_person(approver, audit.identity):
        _refuse_same_identity(
            "auditor-identity", label, approver, f"recorded the audit it relies on ({audit.audit_id})"
        )
    if creator is not None and same_person(approver, creator):
        _refuse_same_identity("registrant-identity", label, approver, "registered this version")


def identity_kind(identity: str) -> str:
    """What kind of login an identity is, in plain words: "database role" or "OS user"."""
    return describe_identity(identity).rpartition(" ")[0] or "identity"


def _refuse_same_identity(rule: str, label: str, identity: str, act: str) -> None:
    source = identity.partition(":")[0]
    connected, fix = _LOGIN_WORDS.get(source, _LOGIN_WORDS["pg"])
    raise RuleBroken(
        rule,
        f"Guard 'separation of duties' refused the approval of {label}: you are {connected} "
        f"{describe_identity(identity)}, which {act}, whatever name {{actor}} gives; {fix}; see {ROLES_GUIDE}.",
        fields=["actor"],
    )


ROLES_GUIDE = "docs/guide/register.md#roles"
_LOGIN_WORDS = {
    "pg": ("connected as", "connect as your own database role"),
    "os": ("logged in as", "log in as your own operating-system user"),
}


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
            raise RuleBroken(
                "lifecycle",
                f"Guard 'deployment needs approval' found {label} already deployed; nothing to do.",
            )
        raise RuleBroken(
            "deploy-needs-approval",
            f"Guard 'deployment needs approval' refused to deploy {label}: it is {state}, not approved; "
            "approve it first with {approve} (by someone other than its auditor and creator).",
            **advice(
                "approve", label=label, model=label.rpartition("@")[0], version=label.rpartition("@")[2]
            ),
        )
    if state == target:
        raise RuleBroken("lifecycle", f"{label} is already {target}; nothing to do.")
    raise RuleBroken(
        "lifecycle",
        f"Guard 'lifecycle' refused to {action} {label}: a {state} version cannot be {PAST[action]}; "
        "only audited, approved or deployed versions can.",
    )


def state_after_audit(state: str) -> str:
    """Recording an audit moves a draft to audited and leaves any other state as it is."""
    return "audited" if state == "draft" else state


def check_audit_artefact(label: str, audited_sha256: str, pinned_sha256: str) -> None:
    """Guard 'audit of this artefact': an audit counts for a version only if it ran on the version's pinned file."""
    if audited_sha256 != pinned_sha256:
        raise RuleBroken(
            "audit-artefact",
            f"Guard 'audit of this artefact' refused the audit of {label}: it audited a file "
            f"with SHA-256 {str(audited_sha256)[:12]}…, but the version's artefact is {pinned_sha256[:12]}…; "
            "register the audited file as a new version and audit that.",
        )


def audit_facts(image: Mapping[Any, Any], payload: Mapping[str, Any], identity: str | None) -> AuditFacts:
    """An audit as the approval guards see it, from its row and the payload of the event that recorded it."""
    override = payload.get("override")
    return AuditFacts(
        audit_id=str(image["audit_id"]),
        verdict=str(image["verdict"]),
        actor=str(image["actor"]),
        recorded_at=str(image["recorded_at"]),
        max_age_days=image.get("max_age_days"),
        override=str(override["reason"]) if isinstance(override, dict) and override.get("reason") else None,
        from_predictions=bool(payload.get("from_predictions")),
        identity=identity,
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
