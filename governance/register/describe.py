"""Events in plain words, for ``register show`` and ``register history`` and the published register page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_STATE_WORDS = {
    "draft": "draft",
    "audited": "audited",
    "approved": "approved",
    "deployed": "deployed",
    "suspended": "suspended",
    "retired": "retired",
}


_FIELD_WORDS = {
    "owner": "owner",
    "purpose": "purpose",
    "intended_use": "intended use",
    "restrictions": "restrictions",
    "decision_domain": "decision domain",
    "risk_tier": "risk tier",
    "is_aedt": "automated employment decision tool",
    "is_annex_iii_high_risk": "high-risk under Annex III",
    "solely_automated": "solely automated",
}


def _value(value: Any) -> str:
    if value is None:
        return "not answered"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def row(payload: dict[str, Any], table: str) -> dict[str, Any]:
    """The after-image of the first row of ``table`` that an event wrote (empty when none)."""
    for entry in payload.get("rows", []):
        if entry.get("table") == table:
            return dict(entry.get("record") or {})
    return {}


def _clause(value: Any) -> str:
    """User text inside a sentence: without its own final full stop, so that sentences end with one."""
    return str(value).strip().rstrip(".")


def _state_change(payload: dict[str, Any]) -> str:
    change = payload.get("state") or {}
    before, after = change.get("from"), change.get("to")
    if before and after and before != after:
        return f" It moved from {_STATE_WORDS.get(before, before)} to {_STATE_WORDS.get(after, after)}."
    return ""


def _reason(payload: dict[str, Any]) -> str:
    reason = payload.get("reason")
    return f" Reason: {_clause(reason)}." if reason else ""


def _override(payload: dict[str, Any]) -> str:
    """An audit run against its model's pinned specification: the reason and the departures."""
    override = payload.get("override")
    if not isinstance(override, dict):
        return ""
    departures = "; ".join(str(d) for d in override.get("departures") or [])
    return (
        f" It was run overriding the pinned audit specification ({departures}) because: "
        f"{_clause(override.get('reason'))}."
    )


def _accepted(payload: dict[str, Any]) -> str:
    """The audits a risk acceptance stands in for (failed, inconclusive or overridden)."""
    accepted = [a for a in payload.get("accepted_audits") or [] if isinstance(a, dict)]
    if not accepted:
        return ""
    named = [
        f"{a.get('audit_id')} ({a.get('verdict')}{', overridden' if a.get('override') else ''})"
        for a in accepted
    ]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + f" and {named[-1]}"
    return f" The acceptance covers {listed}."


@dataclass(frozen=True)
class _Event:
    """What every sentence may name: who, which model (``label`` is ``NAME@VERSION`` when there is a version)."""

    kind: str
    actor: str
    model_name: str | None
    version: str | None
    payload: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.model_name}@{self.version}" if self.version else (self.model_name or "the register")


def _model_registered(e: _Event) -> str:
    model = row(e.payload, "gov_models")
    return f"{e.actor} registered the model {e.model_name}, owned by {model.get('owner')}, for: {_clause(model.get('purpose'))}."


def _model_updated(e: _Event) -> str:
    changes = e.payload.get("changes") or {}
    parts = [
        f"{_FIELD_WORDS.get(field, field)} {_value(change.get('from'))} -> {_value(change.get('to'))}"
        for field, change in sorted(changes.items())
    ]
    return f"{e.actor} updated the model {e.model_name}: " + "; ".join(parts) + "."


def _version_registered(e: _Event) -> str:
    record = row(e.payload, "gov_versions")
    return (
        f"{e.actor} registered version {e.version} of {e.model_name} "
        f"(artefact {record.get('artifact_path')}, SHA-256 {str(record.get('sha256'))[:12]}…) as a draft."
    )


def _version_vouched(e: _Event) -> str:
    kind_words = (
        "a pickle"
        if e.payload.get("file_kind") == "pickle"
        else "a skops file with types beyond the safe list"
    )
    types = e.payload.get("untrusted_types") or []
    needs = f" (it needs {', '.join(str(name) for name in types)})" if types else ""
    return (
        f"{e.actor} vouched for {e.label}: its model file, {kind_words}{needs} with SHA-256 "
        f"{str(e.payload.get('sha256'))[:12]}…, may run code when loaded, and audits will load it."
    )


def _audit_recorded(e: _Event) -> str:
    audit = row(e.payload, "gov_audits")
    return (
        f"{e.actor} recorded audit {audit.get('audit_id')} of {e.label}: {audit.get('verdict')} "
        f"against the policy {audit.get('policy_name')}." + _override(e.payload) + _state_change(e.payload)
    )


def _approval_recorded(e: _Event) -> str:
    approval = row(e.payload, "gov_approvals")
    verb = "approved" if approval.get("decision") == "approve" else "rejected"
    text = f"{e.actor} {verb} {e.label} as {approval.get('role')}"
    if approval.get("risk_acceptance"):
        text += f", accepting the risk because: {_clause(approval.get('risk_acceptance'))}"
    text += "."
    if approval.get("comment"):
        text += f" Comment: {_clause(approval.get('comment'))}."
    from governance.register.mitigation import chosen_words

    chosen = chosen_words(approval.get("chosen_from"))
    if chosen:
        text += f" It was {chosen}."
    return text + _accepted(e.payload) + _state_change(e.payload)


def _version_moved(e: _Event) -> str:
    """Deployed, suspended or retired: the verb is the event kind's second word."""
    verb = e.kind.split(".")[1]
    return f"{e.actor} {verb} {e.label}." + _reason(e.payload) + _state_change(e.payload)


def _checklist_answered(e: _Event) -> str:
    answer = row(e.payload, "gov_checklist_answers")
    return (
        f"{e.actor} answered {answer.get('framework')} item {answer.get('item_id')} for {e.model_name}: "
        f"{str(answer.get('status')).replace('_', ' ')}."
    )


def _incident_recorded(e: _Event) -> str:
    incident = row(e.payload, "gov_incidents")
    return f"{e.actor} reported a {incident.get('severity')} incident on {e.label}: {_clause(incident.get('title'))}."


def _signing_enabled(e: _Event) -> str:
    """Switched on by a person, or by the tool at the first change made with a key."""
    who = (
        "Signing was switched on by the first change made with a key"
        if e.actor == "governance"
        else f"{e.actor} switched signing on"
    )
    return (
        f"{who} (key id {e.payload.get('key_id')}): from here every change and the chain head are signed, and "
        "changes need the key."
    )


def _roles_required(e: _Event) -> str:
    return (
        f"{e.actor} made separation of duties compare who logged in (database roles), not only --actor names, "
        "for good."
    )


def _shared_role_allowed(e: _Event) -> str:
    return (
        f"{e.actor} allowed people to share one database role ({_clause(e.payload.get('reason'))}): from here "
        "separation of duties compares only the typed --actor names."
    )


def _monitoring_recorded(e: _Event) -> str:
    run = row(e.payload, "gov_monitoring_runs")
    alerts = int(run.get("n_alerts") or 0)
    text = (
        f"{e.actor} recorded monitoring run {run.get('run_id')} of {e.label}: {run.get('n_windows')} windows of "
        f"{run.get('window')} from {_day(run.get('first_window'))} to {_day(run.get('last_window'))}, "
        f"{alerts} alert{'s' if alerts != 1 else ''}."
    )
    return text + (" The next audit is due now." if e.payload.get("reaudit_due") else "")


def _mitigation_recorded(e: _Event) -> str:
    run = row(e.payload, "gov_mitigation_runs")
    candidates = [c for c in run.get("candidates") or [] if isinstance(c, dict)][1:]
    listed = ", ".join(f"{c.get('version')} ({c.get('verdict')})" for c in candidates) or "no candidate"
    return f"{e.actor} recorded mitigation run {run.get('run_id')} of {e.label}: {listed}."


_SENTENCES: dict[str, Callable[[_Event], str]] = {
    "model.registered": _model_registered,
    "model.updated": _model_updated,
    "version.registered": _version_registered,
    "version.vouched": _version_vouched,
    "audit.recorded": _audit_recorded,
    "approval.recorded": _approval_recorded,
    "version.deployed": _version_moved,
    "version.suspended": _version_moved,
    "version.retired": _version_moved,
    "checklist.answered": _checklist_answered,
    "incident.recorded": _incident_recorded,
    "monitoring.recorded": _monitoring_recorded,
    "mitigation.recorded": _mitigation_recorded,
    "register.signing_enabled": _signing_enabled,
    "register.roles_required": _roles_required,
    "register.shared_role_allowed": _shared_role_allowed,
}


def summarise(
    kind: str, actor: str, model_name: str | None, version: str | None, payload: dict[str, Any]
) -> str:
    """One plain sentence (or two) saying who did what; an event kind without words is named as it is."""
    event = _Event(kind, actor, model_name, version, payload)
    sentence = _SENTENCES.get(kind)
    return sentence(event) if sentence is not None else f"{actor}: {kind} on {event.label}."


def _day(value: str | None) -> str:
    return str(value)[:10] if value else "?"


def _since(value: str) -> str:
    """``2026-11-02 (27 days)``: the day, and how long ago it was."""
    from datetime import datetime

    from governance import provenance

    then = datetime.fromisoformat(value.replace("Z", "+00:00"))
    days = max((provenance.now() - then).days, 0)
    return f"{value[:10]} ({days} day{'s' if days != 1 else ''})"


def _approval_words(version: Any) -> str:
    approval = version.approval
    if approval is None:
        return "no approval recorded" + (" (it is live without one)" if version.state == "deployed" else "")
    verb = "approved" if approval.decision == "approve" else "rejected"
    text = f"{verb} by {approval.actor} as {approval.role} on {_day(approval.at)}"
    if approval.risk_acceptance:
        text += f", accepting the risk because: {_clause(approval.risk_acceptance)}"
    return text


def _evidence_words(version: Any) -> str:
    audit = version.current_audit
    if audit is None:
        return "no audit of this model file"
    valid = f", valid until {_day(audit.expires_at)}" if audit.expires_at else ""
    return f"audit {audit.audit_id}, {audit.verdict} against the policy {audit.policy_name} on {_day(audit.recorded_at)}{valid}"


def standing(view: Any) -> list[str]:
    """Where a model stands, in the sentences that ``register show`` and the site both print.

    ``view`` is a :class:`governance.register.overview.ModelOverview` (or its JSON form re-validated).
    """
    lines = []
    if view.deployed:
        for live in view.deployed:
            since = f", deployed since {_since(live.deployed_since)}" if live.deployed_since else ""
            lines.append(f"Live: version {live.version}{since}.")
            lines.append(f"Approval of {live.version}: {_approval_words(live)}.")
            lines.append(f"Evidence for {live.version}: {_evidence_words(live)}.")
    else:
        lines.append("Live: no version is deployed.")
    newest = view.newest
    if newest is not None and all(newest.version != live.version for live in view.deployed):
        lines.append(
            f"Newest version: {newest.version} ({_STATE_WORDS.get(newest.state, newest.state)}); "
            f"{_evidence_words(newest)}; {_approval_words(newest)}."
        )
    if view.next_audit_due:
        lines.append(f"Next audit due: {_day(view.next_audit_due)}.")
    else:
        lines.append("Next audit due: none set (no approved or deployed version has an audit that expires).")
    return lines
