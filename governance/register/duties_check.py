"""``verify`` replays separation of duties and the lifecycle from the history alone.

The commands refuse a same-person approval, a deployment without approval and the like (:mod:`.lifecycle`), but
they run in the client: someone with the register's grants can write an approval row and its event by hand in SQL,
hashed and linked like the commands' own. On PostgreSQL the trigger records who wrote it truthfully (their login
role); on SQLite the event names the OS user the writer chose. This replay holds every record, in chain order, to
the same rules by calling the same guard functions with what the earlier events say, so a record the commands
would have refused is a break, naming the record, the version, who wrote it and the rule.

It runs inside verify's one pass over the log (no query of its own): per version it keeps its state, who registered
it and its audits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from governance.register import chain, lifecycle, roles
from governance.register.records import VerifyProblem

_Entry = tuple[tuple[str, int], dict[str, Any]]  # (table, row id), the after-image an event carries
_SUBJECTS = {
    "version.deployed": "The deployment",
    "version.suspended": "The suspension",
    "version.retired": "The retirement",
}
_WATCHED = frozenset({"gov_models", "gov_versions", "gov_audits", "gov_approvals", "gov_monitoring_runs"})
_ACTIONS = {f"version.{past}": action for action, past in lifecycle.PAST.items()}


@dataclass
class _Version:
    """What the history says about a version so far."""

    label: str
    sha256: str
    created_by: str
    identity: str | None  # who the backend says registered it
    state: str
    audits: list[lifecycle.AuditFacts] = field(default_factory=list)  # of its pinned file, oldest first


@dataclass
class _Record:
    """The event being replayed, and what it carries."""

    event: Any
    payload: Mapping[str, Any]
    images: dict[str, list[dict[str, Any]]]  # table -> the after-images of its rows

    def first(self, table: str) -> dict[str, Any] | None:
        found = self.images.get(table)
        return found[0] if found else None


class DutiesReplay:
    """Fed each event in chain order (:meth:`add`); then :attr:`problems` and :meth:`warnings` say what broke."""

    def __init__(self) -> None:
        self.problems: list[VerifyProblem] = []
        self._excused: list[str] = []  # same-role approvals a shared database role allowed
        self._models: dict[int, str] = {}
        self._versions: dict[int, _Version] = {}
        self._roles_required = False
        self._shared_role: int | None = None

    def add(self, event: Any, payload: Mapping[str, Any], entries: Sequence[_Entry]) -> None:
        """Replay one event: check it against the rules as the history stood before it, then apply it."""
        if event.kind == chain.ROLES_KIND:
            self._roles_required = True
        elif event.kind == roles.SHARED_ROLE_KIND and self._shared_role is None:
            self._shared_role = int(event.seq)
        images: dict[str, list[dict[str, Any]]] = {}
        for (table, _row_id), image in entries:
            if table in _WATCHED:
                images.setdefault(table, []).append(image)
        if not images:  # a checklist answer, an incident, a setting: nothing the rules look at
            return
        record = _Record(event, payload, images)
        try:
            self._check(record)
            self._apply(record)
        except (KeyError, TypeError, ValueError):  # an image edited out of shape: the row checks report it
            return

    def warnings(self) -> list[str]:
        """Approvals by the role that registered or audited the version, allowed because a role is shared."""
        if not self._excused:
            return []
        first = self._excused[0]
        if len(self._excused) == 1:
            return [first]
        return [f"{first} ({len(self._excused) - 1} more approvals like it)"]

    # ------------------------------------------------------------------ the rules

    def _check(self, record: _Record) -> None:
        for model in record.images.get("gov_models", []):
            self._models[int(model["id"])] = str(model["name"])
        kind = record.event.kind
        try:
            if kind == "audit.recorded":
                self._check_audit(record)
            elif kind == "approval.recorded":
                self._check_approval(record)
            elif kind in _ACTIONS:
                self._check_transition(record)
            elif kind == "monitoring.recorded":
                self._check_monitoring(record)
            self._check_states(record)
        except lifecycle.RuleBroken as broken:
            self._report(record, broken.rule)

    def _check_audit(self, record: _Record) -> None:
        audit = record.first("gov_audits")
        version = self._versions.get(int(audit["version_id"])) if audit else None
        if audit is None or version is None:
            return
        lifecycle.refuse_if_retired(version.state, version.label, "record an audit of")
        lifecycle.check_audit_artefact(version.label, str(audit["artifact_sha256"]), version.sha256)

    def _check_approval(self, record: _Record) -> None:
        approval = record.first("gov_approvals")
        version = self._versions.get(int(approval["version_id"])) if approval else None
        if approval is None or version is None:
            return
        lifecycle.refuse_if_retired(version.state, version.label, "approve")
        if approval["decision"] != "approve":
            return
        # Events without an identity were written by release 0.1.0 (identities came with its first upgrade), which
        # weighed the newest audit only; on PostgreSQL the trigger puts an identity on every later event.
        audits = version.audits if record.event.identity is not None else version.audits[-1:]
        lifecycle.check_approval(
            label=version.label,
            state=version.state,
            audits=audits,
            creator=version.created_by,
            approver=str(approval["actor"]),
            risk_acceptance=approval.get("risk_acceptance"),
            now=_moment(str(record.event.at)),
        )
        self._check_identities(record, version)

    def _check_identities(self, record: _Record, version: _Version) -> None:
        """Who logged in, compared as the commands compare it then: PostgreSQL roles unless a shared role was
        allowed before (then a warning), OS users only after ``require-roles``."""
        approver = record.event.identity
        if approver is None:  # written before identities were kept
            return
        shared = approver.startswith("pg:") and not self._roles_required and self._shared_role is not None
        if not (self._roles_required or approver.startswith("pg:")):
            return
        latest = version.audits[-1] if version.audits else None
        try:
            lifecycle.check_identities(
                label=version.label, approver=approver, audit=latest, creator=version.identity
            )
        except lifecycle.RuleBroken as broken:
            if not shared:
                raise
            self._excused.append(self._excuse(record, broken.rule))

    def _check_monitoring(self, record: _Record) -> None:
        run = record.first("gov_monitoring_runs")
        version = self._versions.get(int(run["version_id"])) if run else None
        if version is not None:
            lifecycle.refuse_if_retired(version.state, version.label, "record monitoring of")

    def _check_transition(self, record: _Record) -> None:
        for image in record.images.get("gov_versions", []):
            version = self._versions.get(int(image["id"]))
            if version is not None:
                lifecycle.check_transition(version.state, _ACTIONS[record.event.kind], version.label)

    def _check_states(self, record: _Record) -> None:
        """A version's state may change only as the event's kind says (an approval approves, a deployment deploys)."""
        for image in record.images.get("gov_versions", []):
            version = self._versions.get(int(image["id"]))
            if version is not None and image["state"] != self._state_after(record, version.state):
                self._report(record, "state", new=str(image["state"]))
                return

    def _state_after(self, record: _Record, state: str) -> str:
        kind = record.event.kind
        if kind == "audit.recorded":
            return lifecycle.state_after_audit(state)
        if kind == "approval.recorded":
            approval = record.first("gov_approvals")
            return lifecycle.state_after_decision(state, str(approval["decision"]) if approval else "")
        if kind in _ACTIONS:
            return lifecycle.TRANSITIONS[_ACTIONS[kind]][1]
        return state

    # ------------------------------------------------------------------ the history moves on

    def _apply(self, record: _Record) -> None:
        event = record.event
        for image in record.images.get("gov_versions", []):
            version = self._versions.get(int(image["id"]))
            if version is None:
                model = self._models.get(int(image["model_id"]), str(event.model_name))
                registered = event.kind == "version.registered"
                self._versions[int(image["id"])] = _Version(
                    label=f"{model}@{image['version']}",
                    sha256=str(image["sha256"]),
                    created_by=str(image["created_by"]),
                    identity=event.identity if registered else None,
                    state=str(image["state"]),
                )
            else:
                version.state = str(image["state"])
        for audit in record.images.get("gov_audits", []):
            version = self._versions.get(int(audit["version_id"]))
            if version is not None and audit["artifact_sha256"] == version.sha256:
                version.audits.append(lifecycle.audit_facts(audit, record.payload, event.identity))

    # ------------------------------------------------------------------ in words

    def _report(self, record: _Record, rule: str, *, new: str = "") -> None:
        event = record.event
        found = lifecycle.RULES[rule]
        self.problems.append(
            VerifyProblem(
                kind="rule",
                seq=int(event.seq),
                message=f"{self._subject(record)}, by {_who(event)}, breaks the rule '{found.guard}': "
                f"{self._broken(record, rule, new)}; the register's commands refuse this, so it was written by "
                "hand.",
            )
        )

    def _excuse(self, record: _Record, rule: str) -> str:
        return (
            f"{self._subject(record)}, by {_who(record.event)}, was {self._broken(record, rule, '')}; this "
            f"register allowed one shared database role at event {self._shared_role}, so only the typed --actor "
            "names were compared."
        )

    def _broken(self, record: _Record, rule: str, new: str) -> str:
        event = record.event
        version = self._version_of(record)
        audits = version.audits if version is not None else []
        return lifecycle.RULES[rule].broken.format(
            who=lifecycle.identity_kind(event.identity or ""),
            done=_done(record),
            kind=event.kind,
            state=version.state if version is not None else "unknown",
            new=new,
            audit=audits[-1].audit_id if audits else "none",
        )

    def _version_of(self, record: _Record) -> _Version | None:
        for table in ("gov_approvals", "gov_audits", "gov_monitoring_runs"):
            row = record.first(table)
            if row is not None:
                return self._versions.get(int(row["version_id"]))
        row = record.first("gov_versions")
        return self._versions.get(int(row["id"])) if row is not None else None

    def _subject(self, record: _Record) -> str:
        """What the record is, in words: "Approval 3 of credit-risk@1.0.0 at event 12"."""
        event, version = record.event, self._version_of(record)
        label = version.label if version is not None else f"{event.model_name}@{event.version}"
        approval, audit = record.first("gov_approvals"), record.first("gov_audits")
        if event.kind == "approval.recorded" and approval is not None:
            return f"Approval {approval['id']} of {label} at event {event.seq}"
        if event.kind == "audit.recorded" and audit is not None:
            return f"Audit {audit['audit_id']} of {label} at event {event.seq}"
        run = record.first("gov_monitoring_runs")
        if event.kind == "monitoring.recorded" and run is not None:
            return f"Monitoring run {run['run_id']} of {label} at event {event.seq}"
        if event.kind in _SUBJECTS:
            return f"{_SUBJECTS[event.kind]} of {label} at event {event.seq}"
        return f"Event {event.seq} ({event.kind}) of {label}"


def _who(event: Any) -> str:
    """The login the backend recorded, with the typed name: "database role alice (as boss@x)"."""
    if event.identity:
        return f"{lifecycle.describe_identity(event.identity)} (as {event.actor})"
    return str(event.actor)


def _done(record: _Record) -> str:
    """What the record did, as a past participle: approved, rejected, audited, deployed ..."""
    kind = str(record.event.kind)
    if kind == "approval.recorded":
        approval = record.first("gov_approvals")
        return "rejected" if approval is not None and approval["decision"] != "approve" else "approved"
    if kind == "audit.recorded":
        return "audited"
    if kind == "monitoring.recorded":
        return "monitored"
    return kind.partition(".")[2] if kind in _ACTIONS else kind


def _moment(at: str) -> datetime:
    """When an event says it happened; one that cannot be read counts as after every expiry (the strict reading)."""
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
