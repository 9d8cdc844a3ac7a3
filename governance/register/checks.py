"""``verify`` (has anyone edited the history?) and ``status`` (what needs attention now?).

verify recomputes every event hash and link, checks the chain head and (once signing is on) every signature,
checks any head kept outside the database (``--expect-head``, the checkpoint file), replays the after-images the
events carry against the tables (so a row edited, deleted or inserted by hand is caught), and re-hashes every
file recorded with each audit (``audit.json``, ``report.md``, the figures), reporting files that are changed,
missing, added afterwards or replaced by a symbolic link. Audit folders under ``audits/`` that the register does not know
(orphans, see :mod:`governance.register.orphans`) are problems too: nothing vouches for them.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from governance import provenance
from governance.register import chain, database, lifecycle, manifest, mitigation, roles
from governance.register import schema as t
from governance.register.actions import step
from governance.register.duties_check import DutiesReplay
from governance.register.monitoring import alert_items
from governance.register.queries import row_image
from governance.register.records import (
    STATUS_CATEGORIES,
    AnchorCheck,
    AuditRecord,
    ModelDetail,
    StatusCategory,
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
    "gov_mitigation_runs": "mitigation run",
}


def verify(
    register: Register,
    workspace_root: Path | None = None,
    *,
    expect_head: str | None = None,
    checkpoint: Path | None = None,
    audit_files: AuditFiles | None = None,
) -> VerifyReport:
    """Check the whole register; problems are listed in order, the first break first.

    ``expect_head`` (a hash kept outside the database) and ``checkpoint`` (a checkpoint file) must be events of
    the chain: that is what catches the newest events being cut off by someone who could also rewind the head.
    The log and the tables are streamed, each in one pass: memory grows with the number of rows (a digest
    each), not with the history. ``audit_files`` keeps the audit files' checks for a caller that needs them again.
    """
    key = register.signing_key
    anchors = _anchors(expect_head, checkpoint)
    with database.read_transaction(register.engine) as conn:
        log = _replay(conn, key, {digest for _source, digest in anchors})
        head = conn.execute(sa.select(t.chain_head).where(t.chain_head.c.id == 1)).first()
        files = audit_files if audit_files is not None else AuditFiles(register, workspace_root)
        tables = _compare_rows(conn, log.expected, files)
    problems = log.problems + _head_problems(log, head)
    signing = log.signing(head)
    problems += signing.problems
    found = [_check_anchor(log, source, digest) for source, digest in anchors]
    problems += [anchor.problem for anchor in found if anchor.problem is not None]
    problems += tables.problems + log.duties.problems
    problems += files.problems(tables.audits, log.expected)
    problems += _orphan_problems(register, workspace_root)
    problems += mitigation.comparison_problems(register, workspace_root)
    problems.sort(key=lambda p: (_KIND_ORDER[p.kind], p.seq if p.seq is not None else 0))
    unchecked = signing.since is not None and key is None
    return VerifyReport(
        ok=not problems and not unchecked,
        events_checked=log.count,
        rows_checked=tables.count,
        audit_files_checked=files.checked(tables.audits),
        audits_without_manifest=sum(1 for audit in tables.audits if audit.get("files") is None),
        signed=signing.checked,
        problems=problems,
        inconclusive=unchecked and not problems,
        signing_since=signing.since,
        signing_algorithm=log.algorithm,
        head_seq=head.seq if head is not None else 0,
        head_hash=head.hash if head is not None else t.GENESIS_HASH,
        anchors=[anchor.result for anchor in found],
        warnings=log.role_warnings() + log.duties.warnings(),
    )


_STREAM = {"stream_results": True, "yield_per": 1000}  # a server-side cursor on PostgreSQL, batches on SQLite


def _replay(conn: Connection, key: chain.SigningKey | None, anchors: set[str]) -> _Log:
    """Read the log once, in order, checking each event as it comes (nothing is kept but digests)."""
    log = _Log(key, {digest: None for digest in anchors})
    for event in conn.execution_options(**_STREAM).execute(sa.select(t.events).order_by(t.events.c.seq)):
        log.add(event)
    return log


def _head_problems(log: _Log, head: Any) -> list[VerifyProblem]:
    """The chain head must record the newest event of the log."""
    last_seq, last_hash = log.last
    if head is not None and head.seq == last_seq and head.hash == last_hash:
        return []
    return [
        VerifyProblem(
            kind="head",
            seq=head.seq if head is not None else None,
            message=f"The log ends at event {last_seq}, but the chain head records event "
            f"{head.seq if head is not None else 'none'}: the newest events were deleted or the head was edited.",
        )
    ]


_KIND_ORDER = {
    "chain": 0,
    "signature": 0,
    "head": 1,
    "anchor": 1,
    "row": 2,
    "rule": 2,
    "audit_file": 3,
    "orphan": 4,
}
HISTORY_KINDS = frozenset({"chain", "signature", "head", "anchor", "row", "rule"})  # what the records say


def history_break(report: VerifyReport) -> str | None:
    """The first problem with the history itself (events, signatures, head, rows, rules broken by hand), or why
    it is unchecked.

    Audit files and orphans are left out: they say nothing about whether a record such as a vouching is genuine.
    """
    found = next((problem for problem in report.problems if problem.kind in HISTORY_KINDS), None)
    if found is not None:
        return found.message
    if report.inconclusive:
        key = chain.recorded_env({"algorithm": report.signing_algorithm}, writing=False)
        return f"the register is signed and no key was given, so its signatures were not checked; set {key} to its key"
    return None


def _orphan_problems(register: Register, workspace_root: Path | None) -> list[VerifyProblem]:
    from governance.register.orphans import CLEAN, find_orphans, orphan_message, shown

    root = workspace_root or register.workspace_root
    return [
        VerifyProblem(
            kind="orphan", message=orphan_message(leftover, root), path=shown(leftover, root), steps=[CLEAN]
        )
        for leftover in find_orphans(register, workspace_root)
    ]


@dataclass
class _Signing:
    since: int | None  # the event that switched signing on
    problems: list[VerifyProblem]
    checked: bool = False  # the key given is the register's, so its signatures were checked


_Expected = tuple[bytes, int, int]  # the digest of a row's newest after-image, its event, and the row's first
_LINKED_TO_NEWEST = frozenset(
    {"gov_models"}
)  # rows whose event_seq follows their updates; others keep the first
_ORDER = {  # each table's columns in order, but event_seq
    name: tuple(column.name for column in table.c if column.name != "event_seq")
    for name, table in t.ENTITY_TABLES.items()
}
_KNOWN = {name: frozenset(order) for name, order in _ORDER.items()}
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _values_digest(values: Iterable[Any]) -> bytes:
    """The digest of a row's values in column order, without ``event_seq`` (JSON values in canonical form): the
    same for a row of a table and for the after-image an event recorded of it, whatever order the image's keys
    are in. A column an older image lacks (added by a later migration) counts as empty, as the row has it. Equal
    digests mean equal rows; unequal ones are compared field by field before anything is reported."""
    return _digest(repr(tuple(v if type(v) in _SCALARS else _CANONICAL.encode(v) for v in values)))


def _record_digest(table: str, record: dict[str, Any]) -> bytes:
    """:func:`_values_digest` of an after-image; none (compared field by field) for a field the table lacks."""
    if table not in _KNOWN or not record.keys() <= _KNOWN[table]:
        return b""
    return _values_digest(map(record.get, _ORDER[table]))


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


_SETTING_KINDS = frozenset({chain.SIGNING_KIND, roles.SHARED_ROLE_KIND})


def _hash_matches(event: Any, seq: int, text: str, payload: dict[str, Any]) -> bool:
    """The event's hash over its stored payload text as written (canonical JSON: nothing encoded again), else,
    for a text in another form, over its payload as read, as :func:`chain.event_hash` takes it."""
    said = (event.actor, event.at, event.kind, event.model_name, event.version)
    if chain.event_hash_of_text(seq, said, text, event.prev_hash, event.identity) == event.hash:
        return True
    return bool(chain.stored_event_hash(event, payload) == event.hash)


class _Log:
    """One pass over the event log: links, hashes, signatures, anchors, and what each row should now hold.

    Once signing is on, every later event and the head must carry a valid signature for the register's key.
    Without a key nothing can be checked (the caller reports that, never "OK"); a key on a register with no
    record of signing is a break, because stripping every signature and that record looks exactly like it.
    """

    def __init__(self, key: chain.SigningKey | None, anchors: dict[str, int | None]) -> None:
        self.key = key
        self.algorithm: str | None = None  # what the register is signed with, as its signing event says
        self.anchors = anchors  # hash kept outside -> the event that has it
        self.problems: list[VerifyProblem] = []
        self.expected: dict[tuple[str, int], _Expected] = {}  # row -> digest of its image, event
        self.count = 0
        self.last: tuple[int, str] = (0, t.GENESIS_HASH)
        self.since: int | None = None
        self.signature_problems: list[VerifyProblem] = []
        self.checking = False  # the key is the register's: check every signature from ``since`` on
        self.shared_role: tuple[int, str, str, dict[str, Any], str | None] | None = None  # allowed (final)
        self.duties = DutiesReplay()  # separation of duties and the lifecycle, replayed in the same pass

    def add(self, event: Any) -> None:
        """Check one event (the next in order) and note the rows it records."""
        # each read once: a row's attribute costs a lookup, and verify reads every event
        seq, digest, text = event.seq, event.hash, event.payload
        self._check_link(seq, event.prev_hash)
        payload = _payload_text(text)
        if payload is None:
            payload = {}
            self._problem(seq, f"Event {seq} holds unreadable content: it was edited by hand.")
        if not _hash_matches(event, seq, text, payload):
            self._problem(
                seq,
                f"Event {seq} ({event.kind} by {event.actor} at {event.at}) was changed after it was "
                "written: its content no longer matches its hash.",
            )
        entries = list(_row_entries(payload))
        expected = self.expected
        for row, record in entries:
            before = expected.get(row)
            expected[row] = (_record_digest(row[0], record), seq, seq if before is None else before[2])
        self.duties.add(event, payload, entries)
        if event.kind in _SETTING_KINDS:
            self._setting(event, payload)
        if self.checking and self.key is not None:
            found = _event_signature_problem(event, self.key, int(self.since or 0))
            self.signature_problems += [found] if found is not None else []
        if digest in self.anchors and self.anchors[digest] is None:
            self.anchors[digest] = seq
        self.count += 1
        self.last = (seq, digest)

    def _setting(self, event: Any, payload: dict[str, Any]) -> None:
        """The first signing event switches signature checks on; the first shared role allowed is kept."""
        if event.kind == chain.SIGNING_KIND and self.since is None:
            self._signing_switched_on(event, payload)
        if event.kind == roles.SHARED_ROLE_KIND and self.shared_role is None:
            self.shared_role = (event.seq, event.actor, event.at, payload, event.identity)

    def _check_link(self, seq: int, prev_hash: str) -> None:
        expected_seq, previous_hash = self.last[0] + 1, self.last[1]
        if seq != expected_seq:
            self._problem(
                expected_seq,
                f"Event {expected_seq} is missing from the log (the next one is {seq}): "
                "someone deleted it by hand.",
            )
        if prev_hash != previous_hash:
            self._problem(
                seq,
                f"Event {seq} does not link to the event before it: an earlier event was changed "
                "or deleted by hand.",
            )

    def _problem(self, seq: int, message: str) -> None:
        self.problems.append(VerifyProblem(kind="chain", seq=seq, message=message))

    def _signing_switched_on(self, event: Any, payload: dict[str, Any]) -> None:
        self.since = int(event.seq)
        self.algorithm = str(payload.get("algorithm") or chain.HmacKey.algorithm)
        if self.key is None:
            return
        recorded = chain.recorded_key_id(payload)
        if self.key.id == recorded:
            self.checking = True
            return
        self.signature_problems.append(
            VerifyProblem(
                kind="signature",
                seq=self.since,
                message=f"The key given is not the key this register is signed with (key id "
                f"{self.key.id}; the register's is {recorded}): set {chain.recorded_env(payload, writing=False)} to the register's "
                "key and verify again.",
            )
        )

    def role_warnings(self) -> list[str]:
        """A shared database role allowed (final): the history is intact, but approvals rest on typed names only."""
        return [] if self.shared_role is None else [roles.shared_role_warning(*self.shared_role)]

    def signing(self, head: Any) -> _Signing:
        """The signatures' verdict, once the whole log was read (the head's own signature included)."""
        if self.key is None:
            return _Signing(self.since, [])
        if self.since is None:
            return _Signing(None, [_UNRECORDED_SIGNING])
        if not self.checking:
            return _Signing(self.since, self.signature_problems)
        found = list(self.signature_problems)
        if head is not None and not self.key.head_matches(head.seq, head.hash, head.hmac):
            found.append(
                VerifyProblem(
                    kind="head",
                    seq=head.seq,
                    message=f"The chain head (event {head.seq}) is "
                    f"{'not signed' if not head.hmac else 'wrongly signed'}: the newest events were deleted and the "
                    "head rewound, or the head was edited, by someone without the key.",
                )
            )
        return _Signing(self.since, found, checked=True)


_ENABLE_SIGNING = step("enable_signing")
_UNRECORDED_SIGNING = VerifyProblem(
    kind="signature",
    message="A key was given, but the register has no record that signing was switched on: either it was "
    f"never signed (switch it on with {_ENABLE_SIGNING.said}), or someone removed its "
    "signatures and rewrote its history; restore it from a backup if it was signed.",
    steps=[_ENABLE_SIGNING],
)


@dataclass
class _Tables:
    problems: list[VerifyProblem]
    count: int
    audits: list[
        dict[str, Any]
    ]  # the audit rows' ids, their files checked (see ``AuditFiles.checked_image``)


def _compare_rows(conn: Connection, expected: dict[tuple[str, int], _Expected], files: AuditFiles) -> _Tables:
    """Replay the log against the tables: every row as its newest event recorded it, none added or deleted.

    Each audit's files are checked as its row is read (``files`` keeps the result), and only the row's image
    without its manifest is kept: every audit's manifest at once took megabytes for a thousand audits."""
    found = _Tables([], 0, [])
    for name, table in t.ENTITY_TABLES.items():
        seen: set[int] = set()
        result = conn.execution_options(**_STREAM).execute(sa.select(table).order_by(table.c.id))
        keys = list(result.keys())
        values = operator.itemgetter(*[keys.index(column) for column in _ORDER[name]])
        for row in result:
            row_id = row.id
            seen.add(row_id)
            recorded = expected.get((name, row_id))
            problem = None
            if recorded is None or _values_digest(values(row)) != recorded[0]:
                problem = _row_problem(conn, name, row, recorded)
            if problem is None and recorded is not None:
                problem = _link_problem(name, row, recorded)
            found.problems += [problem] if problem is not None else []
            if name == "gov_audits":
                found.audits.append(files.checked_image(row_image(row)))
        found.count += len(seen)
        noun = _ROW_NAMES[name]
        found.problems += [
            VerifyProblem(
                kind="row",
                seq=expected[row][1],
                message=f"The {noun} row {row[1]} recorded by event {expected[row][1]} is gone: it was deleted "
                "by hand.",
            )
            for row in sorted(row for row in expected if row[0] == name and row[1] not in seen)
        ]
    return found


def _row_problem(conn: Connection, name: str, row: Any, recorded: _Expected | None) -> VerifyProblem | None:
    """A row the log does not know, or one whose digest differs from its newest after-image's: the fields that
    differ are named (none may, when only the form differs)."""
    noun = _ROW_NAMES[name]
    if recorded is None:
        return VerifyProblem(
            kind="row", message=f"The {noun} row {row.id} is not in the log: it was added by hand."
        )
    seq = recorded[1]
    image, record = row_image(row), _recorded_image(conn, seq, name, row.id)
    fields = sorted(k for k in set(image) | set(record) if image.get(k) != record.get(k))
    if not fields:
        return None
    return VerifyProblem(
        kind="row",
        seq=seq,
        message=f"The {noun} row {row.id} differs from what event {seq} recorded ({', '.join(fields)}): it was "
        "edited by hand.",
    )


def _link_problem(name: str, row: Any, recorded: _Expected) -> VerifyProblem | None:
    """A row whose link to its event (``event_seq``: the event that created it; a model's, the newest that
    changed it) was changed: who made a record (separation of duties) and which audit is newest are read through
    that link, so a swapped link is an edit like any other."""
    seq = recorded[1] if name in _LINKED_TO_NEWEST else recorded[2]
    if row.event_seq == seq:
        return None
    noun = _ROW_NAMES[name]
    return VerifyProblem(
        kind="row",
        seq=seq,
        message=f"The {noun} row {row.id} names event {row.event_seq} as its record, but event {seq} recorded it: "
        "its link to the history was edited by hand.",
    )


def _recorded_image(conn: Connection, seq: int, name: str, row_id: int) -> dict[str, Any]:
    """The after-image event ``seq`` holds for a row (read again only for a row that differs)."""
    text = conn.execute(sa.select(t.events.c.payload).where(t.events.c.seq == seq)).scalar_one()
    record: dict[str, Any] = {}
    for row, image in _row_entries(_payload_text(text) or {}):
        record = image if row == (name, row_id) else record
    return record


class AuditFiles:
    """Each audit's files checked once, however many reports ask (``register export`` runs verify and status)."""

    def __init__(self, register: Register, workspace_root: Path | None) -> None:
        self.register, self.root = register, workspace_root
        self._found: dict[str, tuple[list[str], int]] = {}

    def of(self, audit: dict[str, Any]) -> tuple[list[str], int]:
        """The problems with one audit's files (one sentence each) and how many files were checked."""
        audit_id = str(audit["audit_id"])
        if audit_id not in self._found:
            self._found[audit_id] = audit_file_problems(self.register, audit, self.root)
        return self._found[audit_id]

    def checked_image(self, audit: dict[str, Any]) -> dict[str, Any]:
        """Check the audit's files now; what verify reads of its row later (whether it had a manifest: ``{}`` or
        ``None``)."""
        self.of(audit)
        return {
            "id": audit["id"],
            "audit_id": audit["audit_id"],
            "files": None if audit.get("files") is None else {},
        }

    def problems(
        self, audits: Sequence[dict[str, Any]], expected: dict[tuple[str, int], _Expected]
    ) -> list[VerifyProblem]:
        found = []
        for audit in audits:
            seq = expected.get(("gov_audits", int(audit["id"])), (b"", None))[1]
            found += [VerifyProblem(kind="audit_file", seq=seq, message=m) for m in self.of(audit)[0]]
        return found

    def checked(self, audits: Sequence[dict[str, Any]]) -> int:
        return sum(self.of(audit)[1] for audit in audits)


def _event_signature_problem(event: Any, key: chain.SigningKey, since: int) -> VerifyProblem | None:
    if not event.hmac:
        return VerifyProblem(
            kind="signature",
            seq=event.seq,
            message=f"Event {event.seq} is not signed although signing was switched on at event {since}: it was "
            "written or rewritten without the key.",
        )
    if not key.matches(event.hash, event.hmac):
        return VerifyProblem(
            kind="signature",
            seq=event.seq,
            message=f"Event {event.seq} has a signature that does not match the key: it was rewritten by someone "
            "without the key.",
        )
    return None


def _row_entries(payload: dict[str, Any]) -> Iterator[tuple[tuple[str, int], dict[str, Any]]]:
    """The (table, id) and after-image of each row an event records."""
    for entry in payload.get("rows", []):
        if isinstance(entry, dict) and isinstance(entry.get("record"), dict) and "id" in entry["record"]:
            yield (str(entry.get("table")), int(entry["record"]["id"])), entry["record"]


def _payload_text(text: str) -> dict[str, Any] | None:
    try:
        payload = json.loads(text)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


@dataclass
class _Anchor:
    result: AnchorCheck
    problem: VerifyProblem | None


def _anchors(expect_head: str | None, checkpoint: Path | None) -> list[tuple[str, str]]:
    """(where it comes from, the hash) of every head kept outside the database that this run checks."""
    found: list[tuple[str, str]] = []
    if expect_head is not None:
        found.append(("given to verify", expect_head))
    if checkpoint is not None:
        from governance.register.anchor import read_checkpoint

        kept = read_checkpoint(checkpoint)
        found.append((f"kept in the checkpoint {checkpoint.name}", kept.hash))
    return found


def _check_anchor(log: _Log, source: str, digest: str) -> _Anchor:
    """A head kept outside must be an event of this chain (hashes include the number, so the number agrees)."""
    seq = log.anchors.get(digest)
    if seq is None:
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
        AnchorCheck(source=source, hash=digest, found=True, seq=seq, events_after=log.last[0] - seq),
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
    register: Register,
    *,
    within_days: int = 30,
    details: Sequence[ModelDetail] | None = None,
    audit_files: AuditFiles | None = None,
    orphans: bool = True,
) -> StatusReport:
    """Items needing attention, sorted: overdue, expiring, unapproved deployments, changed files, orphans.

    ``details`` are the register's models when the caller has already loaded them (they are read otherwise);
    ``audit_files`` the audit files' checks when verify has already made them; ``orphans=False`` leaves out the
    audit folders the register does not know (a caller reading the models a batch at a time asks for them once).
    """
    if within_days < 0:
        from governance.errors import FieldError

        raise FieldError("within_days", f"{{field}} must be 0 or more, not {within_days}.")
    moment = provenance.now()
    horizon = moment + timedelta(days=within_days)
    files = audit_files if audit_files is not None else AuditFiles(register, None)
    items: list[StatusItem] = []
    details = _loaded(register, details)
    for detail in details:
        for version in detail.versions:
            if version.state != "retired":
                items += _version_items(register, detail, version, moment, horizon)
        for audit in detail.audits:
            for problem in files.of(audit.model_dump())[0]:
                items.append(
                    StatusItem(
                        category="changed",
                        model_name=detail.model.name,
                        version=audit.version,
                        message=problem,
                    )
                )
    items += alert_items(register, details)
    if orphans:
        items += orphan_items(register)
    order = {category: index for index, category in enumerate(STATUS_CATEGORIES)}
    items.sort(key=lambda item: (order[item.category], item.model_name, item.version))
    return StatusReport(generated_at=provenance.isoformat(moment), within_days=within_days, items=items)


def _version_items(
    register: Register, detail: ModelDetail, version: VersionRecord, moment: Any, horizon: Any
) -> list[StatusItem]:
    """A version's audit due or overdue, a deployment without approval, a model file changed since."""
    model = detail.model
    label = f"{model.name}@{version.version}"
    items = _due_items(version, detail.audits, label, moment, horizon)
    about: dict[str, Any] = {"model_name": model.name, "version": version.version}
    if version.state == "deployed":
        decisions = [a for a in detail.approvals if a.version_id == version.id]
        if not decisions or decisions[-1].decision != "approve":
            suspend = step("suspend", model=model.name, version=version.version, label=label)
            message = f"{label} is deployed without a standing approval; suspend it ({suspend.said}) or have it approved."
            items.append(StatusItem(category="unapproved", **about, message=message, steps=[suspend]))
    artefact = register.locate(version.artifact_path)
    if artefact.is_file() and provenance.sha256_file(artefact) != version.sha256:
        message = (
            f"The model file of {label} ({version.artifact_path}) changed since it was registered; register the "
            "new file as a new version."
        )
        items.append(StatusItem(category="changed", **about, message=message))
    return items


def _loaded(register: Register, details: Sequence[ModelDetail] | None) -> Sequence[ModelDetail]:
    return details if details is not None else register.details(with_events=False)


def orphan_items(register: Register) -> list[StatusItem]:
    """One item per audit folder the register does not know (model and version read from its path)."""
    from governance.register.orphans import CLEAN, audits_dir, find_orphans, orphan_message

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
                steps=[CLEAN],
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
    category: StatusCategory
    steps = []
    if expires <= moment:
        category = "overdue"
        steps = [step("audit_again", label=label)]
        message = (
            f"{label} ({version.state}) is overdue for audit: audit {audit.audit_id} expired on "
            f"{audit.expires_at[:10]}; audit it again with {steps[0].said}."
        )
    elif expires <= horizon:
        left = (expires - moment).days
        category = "expiring"
        message = (
            f"{label} ({version.state}) needs a new audit by {audit.expires_at[:10]} "
            f"({left} day{'s' if left != 1 else ''} from now)."
        )
    else:
        return []
    where = {"model_name": version.model_name, "version": version.version}
    return [StatusItem(category=category, **where, due=audit.expires_at, message=message, steps=steps)]


def database_time(value: str) -> Any:
    """A stored ISO 8601 timestamp as an aware datetime."""
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00"))
