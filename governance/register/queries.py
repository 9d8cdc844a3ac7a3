"""Reading the register: rows to records, and whole models loaded in a few queries (not one per row).

``list``, ``status``, ``export`` and the site read every model at once; loading each table once and grouping in
memory keeps that a handful of queries whatever the number of models.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from governance import provenance
from governance.register import lifecycle
from governance.register import schema as t
from governance.register.describe import summarise
from governance.register.records import (
    ApprovalRecord,
    AuditRecord,
    ChecklistAnswerRecord,
    EventRecord,
    IncidentRecord,
    ModelDetail,
    ModelRecord,
    ModelSummary,
    VersionRecord,
)


def row_image(row: Row[Any]) -> dict[str, Any]:
    """A row as the JSON-able dict that events carry (everything but the ``event_seq`` bookkeeping column)."""
    image = dict(zip(row._fields, row, strict=True))  # not ``row._mapping``: a third of the time
    image.pop("event_seq", None)
    if _JSON_ALREADY.issuperset(map(type, image.values())):  # most rows: nothing to convert
        return {key: image[key] for key in sorted(image)}
    return dict(json.loads(provenance.canonical_json(image)))


_JSON_ALREADY = frozenset({str, int, bool, type(None)})
"""Types a JSON round trip gives back unchanged (a float may not: NaN; a datetime becomes text)."""


def model_record(row: Row[Any]) -> ModelRecord:
    return ModelRecord(**row_image(row))


def version_record(row: Row[Any], model_name: str, vouching: Any = None) -> VersionRecord:
    """A version; ``vouching`` is the ``version.vouched`` event for its file, if someone vouched for it."""
    vouched = {"vouched_by": vouching.actor, "vouched_at": vouching.at} if vouching is not None else {}
    return VersionRecord(model_name=model_name, **row_image(row), **vouched)


VOUCHED = "version.vouched"


def vouchings(conn: Connection, model_names: Sequence[str]) -> dict[tuple[str, str, str], Any]:
    """The newest ``version.vouched`` event per (model, version, file SHA-256) of these models.

    Only the columns needed are read, so that a register from before a later migration can still be read.
    """
    found: dict[tuple[str, str, str], Any] = {}  # rows of (seq, at, actor, model_name, version, payload)
    if not model_names:
        return found
    e = t.events.c
    query = (
        sa.select(e.seq, e.at, e.actor, e.model_name, e.version, e.payload)
        .where(e.kind == VOUCHED, e.model_name.in_(list(model_names)))
        .order_by(e.seq)
    )
    for event in conn.execute(query):
        try:
            sha256 = str(json.loads(event.payload).get("sha256"))
        except (ValueError, AttributeError):
            continue
        found[(str(event.model_name), str(event.version), sha256)] = event
    return found


def audit_record(row: Row[Any], model_name: str, version: str) -> AuditRecord:
    return AuditRecord(
        model_name=model_name,
        version=version,
        expires_at=lifecycle.expiry(row.recorded_at, row.max_age_days),
        **row_image(row),
    )


def approval_record(row: Row[Any], model_name: str, version: str) -> ApprovalRecord:
    return ApprovalRecord(model_name=model_name, version=version, **row_image(row))


def checklist_record(row: Row[Any], model_name: str) -> ChecklistAnswerRecord:
    return ChecklistAnswerRecord(model_name=model_name, **row_image(row))


def incident_record(row: Row[Any], model_name: str, version: str) -> IncidentRecord:
    return IncidentRecord(model_name=model_name, version=version, **row_image(row))


def event_record(row: Row[Any]) -> EventRecord:
    """An event with its payload parsed and a plain-words summary (a hand-broken payload is shown, not hidden)."""
    try:
        payload = json.loads(row.payload)
    except ValueError:
        payload = {"unreadable": row.payload}
    if not isinstance(payload, dict):
        payload = {"unreadable": row.payload}
    return EventRecord(
        **{**row._mapping, "payload": payload},
        summary=summarise(row.kind, row.actor, row.model_name, row.version, payload),
    )


def load_details(
    conn: Connection,
    models: Sequence[Row[Any]],
    *,
    with_events: bool = True,
    event_view: Callable[[EventRecord], EventRecord] | None = None,
) -> list[ModelDetail]:
    """Full details of ``models`` (in the order given), with one query per table; ``event_view`` trims each event
    as it is read (see :meth:`governance.register.Register.export_in_batches`)."""
    if not models:
        return []
    names = {model.id: model.name for model in models}
    versions = conn.execute(
        sa.select(t.versions).where(t.versions.c.model_id.in_(list(names))).order_by(t.versions.c.id)
    ).all()
    label = {v.id: (names[v.model_id], v.version) for v in versions}
    owner = {v.id: v.model_id for v in versions}
    vouched = vouchings(conn, list(names.values()))
    grouped: dict[str, defaultdict[int, list[Any]]] = {
        key: defaultdict(list) for key in ("versions", "audits", "approvals", "incidents", "answers")
    }
    for v in versions:
        grouped["versions"][v.model_id].append(
            version_record(v, names[v.model_id], vouched.get((names[v.model_id], v.version, v.sha256)))
        )
    if label:
        ids = list(label)
        for row in conn.execute(
            sa.select(t.audits).where(t.audits.c.version_id.in_(ids)).order_by(t.audits.c.id)
        ):
            grouped["audits"][owner[row.version_id]].append(audit_record(row, *label[row.version_id]))
        for row in conn.execute(
            sa.select(t.approvals).where(t.approvals.c.version_id.in_(ids)).order_by(t.approvals.c.id)
        ):
            grouped["approvals"][owner[row.version_id]].append(approval_record(row, *label[row.version_id]))
        for row in conn.execute(
            sa.select(t.incidents).where(t.incidents.c.version_id.in_(ids)).order_by(t.incidents.c.id)
        ):
            grouped["incidents"][owner[row.version_id]].append(incident_record(row, *label[row.version_id]))
    for row in conn.execute(
        sa.select(t.checklist_answers)
        .where(t.checklist_answers.c.model_id.in_(list(names)))
        .order_by(t.checklist_answers.c.id)
    ):
        grouped["answers"][row.model_id].append(checklist_record(row, names[row.model_id]))
    events: defaultdict[str, list[EventRecord]] = defaultdict(list)
    if with_events:
        for row in conn.execute(
            sa.select(t.events)
            .where(t.events.c.model_name.in_(list(names.values())))
            .order_by(t.events.c.seq)
        ):
            event = event_record(row)
            events[row.model_name].append(event_view(event) if event_view is not None else event)
    return [
        ModelDetail(
            model=model_record(model),
            versions=grouped["versions"][model.id],
            audits=grouped["audits"][model.id],
            approvals=grouped["approvals"][model.id],
            incidents=grouped["incidents"][model.id],
            checklist_answers=grouped["answers"][model.id],
            events=events[model.name],
        )
        for model in models
    ]


def summary(detail: ModelDetail) -> ModelSummary:
    """One line of ``register list`` from a model's details."""
    versions, audits = detail.versions, detail.audits
    latest = versions[-1] if versions else None
    last_audit = audits[-1] if audits else None
    return ModelSummary(
        name=detail.model.name,
        owner=detail.model.owner,
        risk_tier=detail.model.risk_tier,
        latest_version=latest.version if latest else None,
        state=latest.state if latest else None,
        deployed_versions=[v.version for v in versions if v.state == "deployed"],
        last_verdict=last_audit.verdict if last_audit else None,
        last_audit_at=last_audit.recorded_at if last_audit else None,
        next_audit_due=lifecycle.next_due(versions, audits),
    )
