"""Events in plain words, for ``register show`` and ``register history`` and the published register page."""

from __future__ import annotations

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


def summarise(
    kind: str, actor: str, model_name: str | None, version: str | None, payload: dict[str, Any]
) -> str:
    """One plain sentence (or two) saying who did what."""
    label = f"{model_name}@{version}" if version else (model_name or "the register")
    if kind == "model.registered":
        model = row(payload, "gov_models")
        return f"{actor} registered the model {model_name}, owned by {model.get('owner')}, for: {_clause(model.get('purpose'))}."
    if kind == "model.updated":
        changes = payload.get("changes") or {}
        parts = [
            f"{_FIELD_WORDS.get(field, field)} {_value(change.get('from'))} -> {_value(change.get('to'))}"
            for field, change in sorted(changes.items())
        ]
        return f"{actor} updated the model {model_name}: " + "; ".join(parts) + "."
    if kind == "version.registered":
        record = row(payload, "gov_versions")
        return (
            f"{actor} registered version {version} of {model_name} "
            f"(artefact {record.get('artifact_path')}, SHA-256 {str(record.get('sha256'))[:12]}…) as a draft."
        )
    if kind == "version.vouched":
        kind_words = (
            "a pickle"
            if payload.get("file_kind") == "pickle"
            else "a skops file with types beyond the safe list"
        )
        types = payload.get("untrusted_types") or []
        needs = f" (it needs {', '.join(str(name) for name in types)})" if types else ""
        return (
            f"{actor} vouched for {label}: its model file, {kind_words}{needs} with SHA-256 "
            f"{str(payload.get('sha256'))[:12]}…, may run code when loaded, and audits will load it."
        )
    if kind == "audit.recorded":
        audit = row(payload, "gov_audits")
        return (
            f"{actor} recorded audit {audit.get('audit_id')} of {label}: {audit.get('verdict')} "
            f"against the policy {audit.get('policy_name')}." + _override(payload) + _state_change(payload)
        )
    if kind == "approval.recorded":
        approval = row(payload, "gov_approvals")
        verb = "approved" if approval.get("decision") == "approve" else "rejected"
        text = f"{actor} {verb} {label} as {approval.get('role')}"
        if approval.get("risk_acceptance"):
            text += f", accepting the risk because: {_clause(approval.get('risk_acceptance'))}"
        text += "."
        if approval.get("comment"):
            text += f" Comment: {_clause(approval.get('comment'))}."
        return text + _accepted(payload) + _state_change(payload)
    if kind in ("version.deployed", "version.suspended", "version.retired"):
        verb = kind.split(".")[1]
        return f"{actor} {verb} {label}." + _reason(payload) + _state_change(payload)
    if kind == "checklist.answered":
        answer = row(payload, "gov_checklist_answers")
        return (
            f"{actor} answered {answer.get('framework')} item {answer.get('item_id')} for {model_name}: "
            f"{str(answer.get('status')).replace('_', ' ')}."
        )
    if kind == "incident.recorded":
        incident = row(payload, "gov_incidents")
        return f"{actor} reported a {incident.get('severity')} incident on {label}: {_clause(incident.get('title'))}."
    if kind == "register.signing_enabled" and actor == "governance":
        return (
            f"Signing was switched on by the first change made with a key (key id {payload.get('key_id')}): from "
            "here every change and the chain head are signed, and changes need the key."
        )
    if kind == "register.signing_enabled":
        return (
            f"{actor} switched signing on (key id {payload.get('key_id')}): from here every change and the chain "
            "head are signed, and changes need the key."
        )
    if kind == "register.roles_required":
        return f"{actor} made separation of duties compare who logged in (database roles), not only --actor names, for good."
    if kind == "register.shared_role_allowed":
        return (
            f"{actor} allowed people to share one database role ({_clause(payload.get('reason'))}): from here "
            "separation of duties compares only the typed --actor names."
        )
    return f"{actor}: {kind} on {label}."


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
