"""``verify`` (has anyone edited the history?) and ``status`` (what needs attention now?).

verify recomputes every event hash and link, checks the chain head and (once signing is on) every signature,
checks any head kept outside the database (``--expect-head``, the checkpoint file), replays the after-images the
events carry against the tables (so a row edited, deleted or inserted by hand is caught), and re-hashes every
file recorded with each audit (``audit.json``, ``report.md``, the figures), reporting files that are changed,
missing, added afterwards or replaced by a symbolic link. Audit folders under ``audits/`` that the register does not know
(orphans, see :mod:`governance.register.orphans`) are problems too: nothing vouches for them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from governance import provenance
from governance.register import chain, database, lifecycle, manifest, roles
from governance.register import schema as t
from governance.register.monitoring import alert_items
from governance.register.records import (
    STATUS_CATEGORIES,
    AnchorCheck,
    AuditRecord,
    ModelDetail,
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
    "gov_monitoring_runs": "monitoring run",
    "gov_monitoring_windows": "monitoring window",
    "gov_monitoring_alerts": "monitoring alert",
}


def verify(  # noqa: C901, PLR0915  # split by branch register-speed
    register: Register,
    workspace_root: Path | None = None,
    *,
    expect_head: str | None = None,
    checkpoint: Path | None = None,
) -> VerifyReport:
    """Check the whole register; problems are listed in order, the first break first.

    ``expect_head`` (a hash kept outside the database) and ``checkpoint`` (a checkpoint file) must be events of
    the chain: that is what catches the newest events being cut off by someone who could also rewind the head.
    """
    from governance.register.queries import row_image

    problems: list[VerifyProblem] = []
    with database.read_transaction(register.engine) as conn:
        events = conn.execute(sa.select(t.events).order_by(t.events.c.seq)).all()
        head = conn.execute(sa.select(t.chain_head).where(t.chain_head.c.id == 1)).first()
        actual: dict[str, dict[int, dict[str, Any]]] = {
            name: {row.id: row_image(row) for row in conn.execute(sa.select(table).order_by(table.c.id))}
            for name, table in t.ENTITY_TABLES.items()
        }

    key = register.hmac_key or None
    expected: dict[tuple[str, int], tuple[dict[str, Any], int | None]] = {}
    previous_hash = t.GENESIS_HASH
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq:
            problems.append(
                VerifyProblem(
                    kind="chain",
                    seq=expected_seq,
                    message=f"Event {expected_seq} is missing from the log (the next one is {event.seq}): "
                    "someone deleted it by hand.",
                )
            )
        if event.prev_hash != previous_hash:
            problems.append(
                VerifyProblem(
                    kind="chain",
                    seq=event.seq,
                    message=f"Event {event.seq} does not link to the event before it: an earlier event was changed "
                    "or deleted by hand.",
                )
            )
        try:
            payload = json.loads(event.payload)
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except ValueError:
            payload = {}
            problems.append(
                VerifyProblem(
                    kind="chain",
                    seq=event.seq,
                    message=f"Event {event.seq} holds unreadable content: it was edited by hand.",
                )
            )
        recomputed = chain.event_hash(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            kind=event.kind,
            model_name=event.model_name,
            version=event.version,
            payload=payload,
            prev_hash=event.prev_hash,
            identity=event.identity,
        )
        if recomputed != event.hash:
            problems.append(
                VerifyProblem(
                    kind="chain",
                    seq=event.seq,
                    message=f"Event {event.seq} ({event.kind} by {event.actor} at {event.at}) was changed after it was "
                    "written: its content no longer matches its hash.",
                )
            )
        for entry in payload.get("rows", []):
            if isinstance(entry, dict) and isinstance(entry.get("record"), dict) and "id" in entry["record"]:
                expected[(str(entry.get("table")), int(entry["record"]["id"]))] = (entry["record"], event.seq)
        previous_hash = event.hash
        expected_seq = event.seq + 1

    last_seq, last_hash = (events[-1].seq, events[-1].hash) if events else (0, t.GENESIS_HASH)
    if head is None or head.seq != last_seq or head.hash != last_hash:
        problems.append(
            VerifyProblem(
                kind="head",
                seq=head.seq if head is not None else None,
                message=f"The log ends at event {last_seq}, but the chain head records event "
                f"{head.seq if head is not None else 'none'}: the newest events were deleted or the head was edited.",
            )
        )
    signing = _check_signatures(events, head, key)
    problems += signing.problems
    anchors = [_check_anchor(events, source, digest) for source, digest in _anchors(expect_head, checkpoint)]
    problems += [anchor.problem for anchor in anchors if anchor.problem is not None]

    rows_checked = 0
    for table_name, rows in actual.items():
        noun = _ROW_NAMES[table_name]
        for row_id, image in rows.items():
            rows_checked += 1
            recorded = expected.get((table_name, row_id))
            if recorded is None:
                problems.append(
                    VerifyProblem(
                        kind="row",
                        message=f"The {noun} row {row_id} is not in the log: it was added by hand.",
                    )
                )
                continue
            record, seq = recorded
            # A column added by a later migration is absent from older after-images: absent and empty agree.
            fields = sorted(k for k in set(image) | set(record) if image.get(k) != record.get(k))
            if fields:
                problems.append(
                    VerifyProblem(
                        kind="row",
                        seq=seq,
                        message=f"The {noun} row {row_id} differs from what event {seq} recorded "
                        f"({', '.join(fields)}): it was edited by hand.",
                    )
                )
        for (name, row_id), (_record, seq) in sorted(expected.items()):
            if name == table_name and row_id not in rows:
                problems.append(
                    VerifyProblem(
                        kind="row",
                        seq=seq,
                        message=f"The {noun} row {row_id} recorded by event {seq} is gone: it was deleted by hand.",
                    )
                )

    audit_rows = list(actual["gov_audits"].values())
    files_checked = 0
    for audit in audit_rows:
        found, checked = audit_file_problems(register, audit, workspace_root)
        files_checked += checked
        _image, audit_seq = expected.get(("gov_audits", int(audit["id"])), ({}, None))
        problems += [VerifyProblem(kind="audit_file", seq=audit_seq, message=message) for message in found]

    problems += _orphan_problems(register, workspace_root)
    problems.sort(key=lambda p: (_KIND_ORDER[p.kind], p.seq if p.seq is not None else 0))
    unchecked = signing.since is not None and key is None
    return VerifyReport(
        ok=not problems and not unchecked,
        events_checked=len(events),
        rows_checked=rows_checked,
        audit_files_checked=files_checked,
        audits_without_manifest=sum(1 for audit in audit_rows if audit.get("files") is None),
        signed=signing.checked,
        problems=problems,
        inconclusive=unchecked and not problems,
        signing_since=signing.since,
        head_seq=head.seq if head is not None else 0,
        head_hash=head.hash if head is not None else t.GENESIS_HASH,
        anchors=[anchor.result for anchor in anchors],
        warnings=_role_warnings(events),
    )


def _role_warnings(events: Sequence[Any]) -> list[str]:
    """A shared database role allowed (final): the history is intact, but approvals rest on typed names only."""
    found = next((event for event in events if event.kind == roles.SHARED_ROLE_KIND), None)
    if found is None:
        return []
    try:
        payload = json.loads(found.payload)
    except ValueError:
        payload = {}
    return [
        roles.shared_role_warning(
            found.seq, found.actor, found.at, payload if isinstance(payload, dict) else {}, found.identity
        )
    ]


_KIND_ORDER = {"chain": 0, "signature": 0, "head": 1, "anchor": 1, "row": 2, "audit_file": 3, "orphan": 4}
HISTORY_KINDS = frozenset({"chain", "signature", "head", "anchor", "row"})  # what the records themselves say


def history_break(report: VerifyReport) -> str | None:
    """The first problem with the history itself (events, signatures, head, rows), or why it is unchecked.

    Audit files and orphans are left out: they say nothing about whether a record such as a vouching is genuine.
    """
    found = next((problem for problem in report.problems if problem.kind in HISTORY_KINDS), None)
    if found is not None:
        return found.message
    if report.inconclusive:
        return (
            f"the register is signed and no key was given, so its signatures were not checked; set "
            f"{chain.HMAC_ENV} to its key"
        )
    return None


def _orphan_problems(register: Register, workspace_root: Path | None) -> list[VerifyProblem]:
    from governance.register.orphans import find_orphans, orphan_message, shown

    root = workspace_root or register.workspace_root
    return [
        VerifyProblem(kind="orphan", message=orphan_message(leftover, root), path=shown(leftover, root))
        for leftover in find_orphans(register, workspace_root)
    ]


@dataclass
class _Signing:
    since: int | None  # the event that switched signing on
    problems: list[VerifyProblem]
    checked: bool = False  # the key given is the register's, so its signatures were checked


def _check_signatures(events: Sequence[Any], head: Any, key: bytes | None) -> _Signing:
    """Once signing is on, every later event and the head must carry a valid signature for the register's key.

    Without a key nothing can be checked (the caller reports that, never "OK"); a key on a register with no
    record of signing is a break, because stripping every signature and that record looks exactly like it.
    """
    record = next((event for event in events if event.kind == chain.SIGNING_KIND), None)
    since = record.seq if record is not None else None
    if key is None:
        return _Signing(since, [])
    if record is None:
        return _Signing(
            None,
            [
                VerifyProblem(
                    kind="signature",
                    message="A key was given, but the register has no record that signing was switched on: either it was "
                    "never signed (switch it on with `governance register enable-signing`), or someone removed its "
                    "signatures and rewrote its history; restore it from a backup if it was signed.",
                )
            ],
        )
    recorded = str(_payload(record).get("key_id", ""))
    if chain.key_id(key) != recorded:
        return _Signing(
            since,
            [
                VerifyProblem(
                    kind="signature",
                    seq=since,
                    message=f"The key given is not the key this register is signed with (key id {chain.key_id(key)}; the "
                    f"register's is {recorded}): set {chain.HMAC_ENV} to the register's key and verify again.",
                )
            ],
        )
    start = int(record.seq)
    problems = [_event_signature_problem(event, key, start) for event in events if event.seq >= start]
    found = [problem for problem in problems if problem is not None]
    if head is not None and not chain.head_signature_matches(key, head.seq, head.hash, head.hmac):
        found.append(
            VerifyProblem(
                kind="head",
                seq=head.seq,
                message=f"The chain head (event {head.seq}) is {'not signed' if not head.hmac else 'wrongly signed'}: "
                "the newest events were deleted and the head rewound, or the head was edited, by someone without the key.",
            )
        )
    return _Signing(since, found, checked=True)


def _event_signature_problem(event: Any, key: bytes, since: int) -> VerifyProblem | None:
    if not event.hmac:
        return VerifyProblem(
            kind="signature",
            seq=event.seq,
            message=f"Event {event.seq} is not signed although signing was switched on at event {since}: it was "
            "written or rewritten without the key.",
        )
    if not chain.signature_matches(key, event.hash, event.hmac):
        return VerifyProblem(
            kind="signature",
            seq=event.seq,
            message=f"Event {event.seq} has a signature that does not match the key: it was rewritten by someone "
            "without the key.",
        )
    return None


def _payload(event: Any) -> dict[str, Any]:
    try:
        payload = json.loads(event.payload)
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


@dataclass
class _Anchor:
    result: AnchorCheck
    problem: VerifyProblem | None


def _anchors(expect_head: str | None, checkpoint: Path | None) -> list[tuple[str, str]]:
    """(where it comes from, the hash) of every head kept outside the database that this run checks."""
    found: list[tuple[str, str]] = []
    if expect_head is not None:
        found.append(("given with --expect-head", expect_head))
    if checkpoint is not None:
        from governance.register.anchor import read_checkpoint

        kept = read_checkpoint(checkpoint)
        found.append((f"kept in the checkpoint {checkpoint.name}", kept.hash))
    return found


def _check_anchor(events: Sequence[Any], source: str, digest: str) -> _Anchor:
    """A head kept outside must be an event of this chain (hashes include the number, so the number agrees)."""
    last = events[-1].seq if events else 0
    match = next((event for event in events if event.hash == digest), None)
    if match is None:
        return _Anchor(
            AnchorCheck(source=source, hash=digest, found=False),
            VerifyProblem(
                kind="anchor",
                message=f"The chain does not contain the expected head {digest}, {source}: the newest events were "
                "deleted and the head rewound, or the history was rewritten; restore the register from a backup "
                "that contains it (or, if that head belongs to another register, check the right one).",
            ),
        )
    return _Anchor(
        AnchorCheck(source=source, hash=digest, found=True, seq=match.seq, events_after=last - match.seq),
        None,
    )


def audit_manifest(audit: dict[str, Any]) -> dict[str, str]:
    """The hashes recorded for an audit; one recorded before manifests vouches for its ``audit.json`` only."""
    files = audit.get("files")
    if isinstance(files, dict):
        return {str(name): str(sha) for name, sha in files.items()}
    return {Path(str(audit["audit_json_path"])).name: str(audit["audit_json_sha256"])}


def audit_file_problems(
    register: Register, audit: dict[str, Any], workspace_root: Path | None
) -> tuple[list[str], int]:
    """Every file of the audit that is changed, missing, unrecorded or a link (one sentence each); files checked.

    An audit recorded before manifests has only its ``audit.json`` checked: nothing was recorded for the rest.
    """
    audit_file = register.locate(str(audit["audit_json_path"]), workspace_root)
    if audit.get("files") is None:
        data = manifest.read_regular(audit_file)
        kind: manifest.ProblemKind | None = None
        if data is None:
            kind = "link" if audit_file.is_symlink() else "missing"
        elif provenance.sha256_bytes(data) != audit["audit_json_sha256"]:
            kind = "changed"
        if kind is not None:
            problem = manifest.FileProblem(audit_file.name, kind)
            return [manifest.describe(problem, str(audit["audit_json_path"]), str(audit["audit_id"]))], 1
        return [], 1
    found = manifest.check(audit_file, audit_manifest(audit), workspace_root or register.workspace_root)
    folder = PurePosixPath(str(audit["audit_json_path"])).parent
    messages = [
        manifest.describe(problem, (folder / problem.name).as_posix(), str(audit["audit_id"]))
        for problem in found.problems
    ]
    return messages, found.files_checked


def status(
    register: Register, *, within_days: int = 30, details: Sequence[ModelDetail] | None = None
) -> StatusReport:
    """Items needing attention, sorted: overdue, expiring, unapproved deployments, changed files, orphans.

    ``details`` are the register's models when the caller has already loaded them (they are read otherwise).
    """
    if within_days < 0:
        from governance.errors import FieldError

        raise FieldError("within_days", f"{{field}} must be 0 or more, not {within_days}.")
    moment = provenance.now()
    horizon = moment + timedelta(days=within_days)
    items: list[StatusItem] = []
    details = _loaded(register, details)
    for detail in details:
        model = detail.model
        for version in detail.versions:
            label = f"{model.name}@{version.version}"
            if version.state == "retired":
                continue
            items.extend(_due_items(version, detail.audits, label, moment, horizon))
            if version.state == "deployed":
                decisions = [a for a in detail.approvals if a.version_id == version.id]
                if not decisions or decisions[-1].decision != "approve":
                    items.append(
                        StatusItem(
                            category="unapproved",
                            model_name=model.name,
                            version=version.version,
                            message=f"{label} is deployed without a standing approval; suspend it "
                            f"(`governance register suspend {label}`) or have it approved.",
                        )
                    )
            artefact = register.locate(version.artifact_path)
            if artefact.is_file() and provenance.sha256_file(artefact) != version.sha256:
                items.append(
                    StatusItem(
                        category="changed",
                        model_name=model.name,
                        version=version.version,
                        message=f"The model file of {label} ({version.artifact_path}) changed since it was registered; "
                        "register the new file as a new version.",
                    )
                )
        for audit in detail.audits:
            for problem in audit_file_problems(register, audit.model_dump(), None)[0]:
                items.append(
                    StatusItem(
                        category="changed", model_name=model.name, version=audit.version, message=problem
                    )
                )
    items += alert_items(register, details)
    items += _orphan_items(register)
    order = {category: index for index, category in enumerate(STATUS_CATEGORIES)}
    items.sort(key=lambda item: (order[item.category], item.model_name, item.version))
    return StatusReport(generated_at=provenance.isoformat(moment), within_days=within_days, items=items)


def _loaded(register: Register, details: Sequence[ModelDetail] | None) -> Sequence[ModelDetail]:
    return details if details is not None else register.details(with_events=False)


def _orphan_items(register: Register) -> list[StatusItem]:
    """One item per audit folder the register does not know (model and version read from its path)."""
    from governance.register.orphans import audits_dir, find_orphans, orphan_message

    folder, root = audits_dir(register), register.workspace_root
    items = []
    for leftover in find_orphans(register):
        parts = leftover.path.relative_to(folder).parts if folder is not None else ()
        items.append(
            StatusItem(
                category="unrecorded",
                model_name=parts[0] if len(parts) > 2 else "",
                version=parts[1] if len(parts) > 2 else "",
                message=orphan_message(leftover, root),
            )
        )
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
        return [
            StatusItem(
                category="overdue",
                model_name=version.model_name,
                version=version.version,
                due=audit.expires_at,
                message=f"{label} ({version.state}) is overdue for audit: audit {audit.audit_id} expired on "
                f"{audit.expires_at[:10]}; audit it again with `governance audit {label} ...`.",
            )
        ]
    if expires <= horizon:
        left = (expires - moment).days
        return [
            StatusItem(
                category="expiring",
                model_name=version.model_name,
                version=version.version,
                due=audit.expires_at,
                message=f"{label} ({version.state}) needs a new audit by {audit.expires_at[:10]} "
                f"({left} day{'s' if left != 1 else ''} from now).",
            )
        ]
    return []


def database_time(value: str) -> Any:
    """A stored ISO 8601 timestamp as an aware datetime."""
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))
