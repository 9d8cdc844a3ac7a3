"""``verify`` (has anyone edited the history?) and ``status`` (what needs attention now?).

verify recomputes every event hash and link, checks the chain head and the HMAC signatures, replays the
after-images the events carry against the tables (so a row edited, deleted or inserted by hand is caught), and
re-hashes every recorded ``audit.json`` on disk. Audit folders under ``audits/`` that the register does not know
(orphans, see :mod:`governance.register.orphans`) are problems too: nothing vouches for them.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from governance import provenance
from governance.register import chain, database, lifecycle
from governance.register import schema as t
from governance.register.records import (
    STATUS_CATEGORIES,
    AuditRecord,
    StatusItem,
    StatusReport,
    VerifyProblem,
    VerifyReport,
    VersionRecord,
)

if TYPE_CHECKING:
    from governance.register.api import Register

_ROW_NAMES = {
    "gov_models": "model",
    "gov_versions": "version",
    "gov_audits": "audit",
    "gov_approvals": "approval",
    "gov_checklist_answers": "checklist answer",
    "gov_incidents": "incident",
}


def verify(register: Register, workspace_root: Path | None = None) -> VerifyReport:
    """Check the whole register; problems are listed in order, the first break first."""
    from governance.register.queries import row_image

    problems: list[VerifyProblem] = []
    with database.read_transaction(register.engine) as conn:
        events = conn.execute(sa.select(t.events).order_by(t.events.c.seq)).all()
        head = conn.execute(sa.select(t.chain_head).where(t.chain_head.c.id == 1)).first()
        actual: dict[str, dict[int, dict[str, Any]]] = {
            name: {row.id: row_image(row) for row in conn.execute(sa.select(table).order_by(table.c.id))}
            for name, table in t.ENTITY_TABLES.items()
        }

    key = register.hmac_key
    expected: dict[tuple[str, int], tuple[dict[str, Any], int | None]] = {}
    previous_hash = t.GENESIS_HASH
    expected_seq = 1
    seen_signature = False
    for event in events:
        if event.seq != expected_seq:
            problems.append(VerifyProblem(
                kind="chain", seq=expected_seq,
                message=f"Event {expected_seq} is missing from the log (the next one is {event.seq}): "
                "someone deleted it by hand.",
            ))
        if event.prev_hash != previous_hash:
            problems.append(VerifyProblem(
                kind="chain", seq=event.seq,
                message=f"Event {event.seq} does not link to the event before it: an earlier event was changed "
                "or deleted by hand.",
            ))
        try:
            payload = json.loads(event.payload)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except ValueError:
            payload = {}
            problems.append(VerifyProblem(kind="chain", seq=event.seq,
                                          message=f"Event {event.seq} holds unreadable content: it was edited by hand."))
        recomputed = chain.event_hash(seq=event.seq, at=event.at, actor=event.actor, kind=event.kind,
                                      model_name=event.model_name, version=event.version, payload=payload,
                                      prev_hash=event.prev_hash)
        if recomputed != event.hash:
            problems.append(VerifyProblem(
                kind="chain", seq=event.seq,
                message=f"Event {event.seq} ({event.kind} by {event.actor} at {event.at}) was changed after it was "
                "written: its content no longer matches its hash.",
            ))
        if key is not None:
            if event.hmac:
                seen_signature = True
                if not chain.signature_matches(key, event.hash, event.hmac):
                    problems.append(VerifyProblem(
                        kind="signature", seq=event.seq,
                        message=f"Event {event.seq} has a signature that does not match the key: it was rewritten "
                        "by someone without the key, or the key is wrong.",
                    ))
            elif seen_signature:
                problems.append(VerifyProblem(
                    kind="signature", seq=event.seq,
                    message=f"Event {event.seq} is not signed although earlier events are: it was written or "
                    "rewritten without the key.",
                ))
        for entry in payload.get("rows", []):
            if isinstance(entry, dict) and isinstance(entry.get("record"), dict) and "id" in entry["record"]:
                expected[(str(entry.get("table")), int(entry["record"]["id"]))] = (entry["record"], event.seq)
        previous_hash = event.hash
        expected_seq = event.seq + 1

    last_seq, last_hash = (events[-1].seq, events[-1].hash) if events else (0, t.GENESIS_HASH)
    if head is None or head.seq != last_seq or head.hash != last_hash:
        problems.append(VerifyProblem(
            kind="head", seq=head.seq if head is not None else None,
            message=f"The log ends at event {last_seq}, but the chain head records event "
            f"{head.seq if head is not None else 'none'}: the newest events were deleted or the head was edited.",
        ))

    rows_checked = 0
    for table_name, rows in actual.items():
        noun = _ROW_NAMES[table_name]
        for row_id, image in rows.items():
            rows_checked += 1
            recorded = expected.get((table_name, row_id))
            if recorded is None:
                problems.append(VerifyProblem(
                    kind="row", message=f"The {noun} row {row_id} is not in the log: it was added by hand."
                ))
                continue
            record, seq = recorded
            if image != record:
                fields = sorted(k for k in set(image) | set(record) if image.get(k) != record.get(k))
                problems.append(VerifyProblem(
                    kind="row", seq=seq,
                    message=f"The {noun} row {row_id} differs from what event {seq} recorded "
                    f"({', '.join(fields)}): it was edited by hand.",
                ))
        for (name, row_id), (_record, seq) in sorted(expected.items()):
            if name == table_name and row_id not in rows:
                problems.append(VerifyProblem(
                    kind="row", seq=seq,
                    message=f"The {noun} row {row_id} recorded by event {seq} is gone: it was deleted by hand.",
                ))

    audit_rows = list(actual["gov_audits"].values())
    for audit in audit_rows:
        problem = _audit_file_problem(register, audit, workspace_root)
        if problem is not None:
            _image, audit_seq = expected.get(("gov_audits", int(audit["id"])), ({}, None))
            problems.append(VerifyProblem(kind="audit_file", seq=audit_seq, message=problem))

    problems += _orphan_problems(register, workspace_root)
    problems.sort(key=lambda p: (_KIND_ORDER[p.kind], p.seq if p.seq is not None else 0))
    return VerifyReport(
        ok=not problems,
        events_checked=len(events),
        rows_checked=rows_checked,
        audit_files_checked=len(audit_rows),
        signed=key is not None,
        problems=problems,
    )


_KIND_ORDER = {"chain": 0, "signature": 0, "head": 1, "row": 2, "audit_file": 3, "orphan": 4}


def _orphan_problems(register: Register, workspace_root: Path | None) -> list[VerifyProblem]:
    from governance.register.orphans import find_orphans, orphan_message, shown

    root = workspace_root or register.workspace_root
    return [VerifyProblem(kind="orphan", message=orphan_message(leftover, root), path=shown(leftover, root))
            for leftover in find_orphans(register, workspace_root)]


def _audit_file_problem(register: Register, audit: dict[str, Any], workspace_root: Path | None) -> str | None:
    path = register.locate(str(audit["audit_json_path"]), workspace_root)
    what = f"The audit file {audit['audit_json_path']} (audit {audit['audit_id']})"
    if not path.is_file():
        return f"{what} is missing; restore it from a backup or the audit's folder."
    if provenance.sha256_file(path) != audit["audit_json_sha256"]:
        return f"{what} was changed after it was recorded; restore the original, or run the audit again."
    return None


def status(register: Register, *, within_days: int = 30) -> StatusReport:
    """Items needing attention, sorted: overdue, expiring, unapproved deployments, changed files, orphans."""
    if within_days < 0:
        from governance.errors import InputError

        raise InputError(f"--within-days must be 0 or more, not {within_days}.")
    moment = provenance.now()
    horizon = moment + timedelta(days=within_days)
    items: list[StatusItem] = []
    for detail in register.details(with_events=False):
        model = detail.model
        for version in detail.versions:
            label = f"{model.name}@{version.version}"
            if version.state == "retired":
                continue
            items.extend(_due_items(version, detail.audits, label, moment, horizon))
            if version.state == "deployed":
                decisions = [a for a in detail.approvals if a.version_id == version.id]
                if not decisions or decisions[-1].decision != "approve":
                    items.append(StatusItem(
                        category="unapproved", model_name=model.name, version=version.version,
                        message=f"{label} is deployed without a standing approval; suspend it "
                        f"(`governance register suspend {label}`) or have it approved.",
                    ))
            artefact = register.locate(version.artifact_path)
            if artefact.is_file() and provenance.sha256_file(artefact) != version.sha256:
                items.append(StatusItem(
                    category="changed", model_name=model.name, version=version.version,
                    message=f"The model file of {label} ({version.artifact_path}) changed since it was registered; "
                    "register the new file as a new version.",
                ))
        for audit in detail.audits:
            problem = _audit_file_problem(register, audit.model_dump(), None)
            if problem is not None:
                items.append(StatusItem(category="changed", model_name=model.name, version=audit.version,
                                        message=problem))
    items += _orphan_items(register)
    order = {category: index for index, category in enumerate(STATUS_CATEGORIES)}
    items.sort(key=lambda item: (order[item.category], item.model_name, item.version))
    return StatusReport(generated_at=provenance.isoformat(moment), within_days=within_days, items=items)


def _orphan_items(register: Register) -> list[StatusItem]:
    """One item per audit folder the register does not know (model and version read from its path)."""
    from governance.register.orphans import audits_dir, find_orphans, orphan_message

    folder, root = audits_dir(register), register.workspace_root
    items = []
    for leftover in find_orphans(register):
        parts = leftover.path.relative_to(folder).parts if folder is not None else ()
        items.append(StatusItem(category="unrecorded", model_name=parts[0] if len(parts) > 2 else "",
                                version=parts[1] if len(parts) > 2 else "", message=orphan_message(leftover, root)))
    return items


def _due_items(
    version: VersionRecord, audits: list[AuditRecord], label: str, moment: Any, horizon: Any
) -> list[StatusItem]:
    if version.state not in lifecycle.ACTIVE_STATES:
        return []
    audit = lifecycle.current_audit(version, audits)
    if audit is None or audit.expires_at is None:
        return []
    expires = database_time(audit.expires_at)
    if expires <= moment:
        return [StatusItem(
            category="overdue", model_name=version.model_name, version=version.version, due=audit.expires_at,
            message=f"{label} ({version.state}) is overdue for audit: audit {audit.audit_id} expired on "
            f"{audit.expires_at[:10]}; audit it again with `governance audit {label} ...`.",
        )]
    if expires <= horizon:
        left = (expires - moment).days
        return [StatusItem(
            category="expiring", model_name=version.model_name, version=version.version, due=audit.expires_at,
            message=f"{label} ({version.state}) needs a new audit by {audit.expires_at[:10]} "
            f"({left} day{'s' if left != 1 else ''} from now).",
        )]
    return []


def database_time(value: str) -> Any:
    """A stored ISO 8601 timestamp as an aware datetime."""
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))
