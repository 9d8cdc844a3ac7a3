"""Where checklists and templates come from, and gathering a model's status inputs from the register.

A workspace's own ``policies/checklists`` and ``policies/templates`` win; a folder without them uses the
copies shipped with the toolkit. This module never imports the register: it takes the open register object
and uses only ``show(name)`` and ``checklist_answers(name)`` and ``locate(path)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from governance.checklists.loading import load_checklists
from governance.checklists.schema import Checklist
from governance.checklists.status import ChecklistStatus, _as_dict, evaluate_status
from governance.paths import bundled_policies


def checklists_folder(workspace: Any | None) -> Path:
    """The workspace's ``policies/checklists`` if it exists, else the shipped one."""
    own = Path(workspace.policies_dir) / "checklists" if workspace is not None else None
    return own if own is not None and own.is_dir() else bundled_policies() / "checklists"


def templates_folder(workspace: Any | None) -> Path:
    """The workspace's ``policies/templates`` if it exists, else the shipped one."""
    own = Path(workspace.policies_dir) / "templates" if workspace is not None else None
    return own if own is not None and own.is_dir() else bundled_policies() / "templates"


def workspace_checklists(workspace: Any | None) -> list[Checklist]:
    """The checklists that apply in this workspace, validated."""
    return load_checklists(checklists_folder(workspace))


def latest_audit_record(detail: dict[str, Any]) -> dict[str, Any] | None:
    """The most recently recorded audit of any version of the model (by time, then id)."""
    audits = [audit for audit in detail.get("audits") or [] if isinstance(audit, dict)]
    if not audits:
        return None
    return max(audits, key=lambda audit: (str(audit.get("recorded_at") or ""), audit.get("id") or 0))


def read_audit_json(register: Any, record: dict[str, Any], notes: list[str]) -> dict[str, Any] | None:
    """The audit.json a register record points at, as a dict; ``None`` (with a note) when unreadable."""
    stored = str(record.get("audit_json_path") or "")
    try:
        path = Path(register.locate(stored)) if hasattr(register, "locate") else Path(stored)
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        notes.append(
            f"The latest audit's file {stored} could not be read ({exc.__class__.__name__}); "
            "audit-evidenced items count as not met until it is restored or the model is re-audited."
        )
        return None
    return loaded if isinstance(loaded, dict) else None


def status_inputs(detail: dict[str, Any], card: dict[str, Any] | None) -> dict[str, Any]:
    """What a model's checklist items are judged on, the same for the command line and the site.

    The register's detail (versions, audits, approvals and its events) with the model's card from
    ``governance.yaml`` under ``model``; where both answer a field, the register's answer wins.
    """
    fields = dict(detail)
    registered = {key: value for key, value in (detail.get("model") or {}).items() if value is not None}
    fields["model"] = {**(card or {}), **registered}
    return fields


def status_from_register(
    register: Any,
    model_name: str,
    checklists: list[Checklist],
    notes: list[str] | None = None,
    *,
    card: dict[str, Any] | None = None,
) -> ChecklistStatus:
    """Evaluate a registered model: its register detail and card, its answers and its latest audit's audit.json.

    ``notes`` collects plain-language remarks (for example an audit file that is missing).
    """
    notes = notes if notes is not None else []
    detail = _as_dict(register.show(model_name))
    answers = register.checklist_answers(model_name)
    record = latest_audit_record(detail)
    audit = read_audit_json(register, record, notes) if record is not None else None
    return evaluate_status(
        checklists,
        model=status_inputs(detail, card),
        answers=answers,
        latest_audit=audit,
        model_name=model_name,
    )
