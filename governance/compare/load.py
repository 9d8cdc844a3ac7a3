"""Finding the two audits to compare: an audit id, ``NAME@VERSION`` (its newest audit) or an ``audit.json`` path.

Audits found through the register are read only if their ``audit.json`` still has the hash recorded with them,
so a diff never rests on an edited file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from governance.errors import InputError, NotFoundError, RefusedInputError
from governance.provenance import sha256_file
from governance.register.actions import advice
from governance.results.audit import AuditResult

if TYPE_CHECKING:
    from governance.register import AuditRecord, Register


def read_audit_file(path: Path) -> AuditResult:
    """An ``audit.json`` as an ``AuditResult``, or one sentence saying why it cannot be read."""
    from pydantic import ValidationError

    try:
        return AuditResult.model_validate_json(path.read_bytes())
    except (ValidationError, ValueError) as exc:
        raise InputError(
            f"{path} is not an audit.json this version of governance can read ({type(exc).__name__}); "
            "give an audit written by {any_audit}.",
            **advice("any_audit"),
        ) from None


def is_audit_path(reference: str) -> bool:
    """Whether a reference names a file or folder rather than an audit id or NAME@VERSION."""
    path = Path(reference)
    return path.suffix == ".json" or path.is_dir() or path.is_file()


def load_from_path(reference: str) -> AuditResult:
    path = Path(reference)
    if path.is_dir():
        path = path / "audit.json"
    if not path.is_file():
        raise InputError(
            f"There is no audit file {path}; give an audit id, NAME@VERSION or an audit.json path."
        )
    return read_audit_file(path)


def find_audit(register: Register, reference: str) -> AuditRecord:
    """The recorded audit an id or ``NAME@VERSION`` names (the version's newest audit)."""
    if "@" in reference:
        name, _, version = reference.partition("@")
        register.resolve_version(
            name.strip(), version.strip()
        )  # a clear error for an unknown model or version
        audits = [a for a in register.show(name.strip()).audits if a.version == version.strip()]
        if not audits:
            raise NotFoundError(
                f"{reference} has no recorded audit yet; audit it with {{audit_again}} first.",
                **advice("audit_again", label=reference),
            )
        return max(audits, key=lambda a: (a.recorded_at, a.id))
    for detail in register.details(with_events=False):
        for audit in detail.audits:
            if audit.audit_id == reference:
                return audit
    raise NotFoundError(
        f"No audit with the id {reference!r} is recorded; see {{show_audits}} for audit ids, or "
        "write NAME@VERSION for a version's newest audit.",
        **advice("show_audits"),
    )


def load_recorded(register: Register, record: AuditRecord) -> AuditResult:
    """The recorded audit's ``audit.json``, refused if it changed since it was recorded."""
    path = register.locate(record.audit_json_path)
    if not path.is_file():
        raise InputError(
            f"The audit file of {record.audit_id} ({record.audit_json_path}) is missing; restore the audit folder "
            "from a backup."
        )
    if sha256_file(path) != record.audit_json_sha256:
        raise RefusedInputError(
            f"The audit file of {record.audit_id} ({record.audit_json_path}) changed after it was recorded, so it "
            "cannot be compared; run {verify} and restore it from a backup.",
            **advice("verify"),
        )
    return read_audit_file(path)
