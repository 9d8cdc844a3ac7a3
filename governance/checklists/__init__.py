"""Compliance checklists as data and a model's standing against them.

Public API (the command line and the site call these):

- :func:`load_checklists` (folder) -> list of :class:`Checklist`; :func:`validate_checklist_file` (path) ->
  problems naming file, field and line.
- :func:`evaluate_status` (checklists, *, model, answers, latest_audit) -> :class:`ChecklistStatus`.
- :func:`checklist_status_markdown` (status) -> escaped Markdown; :func:`checklist_markdown` (checklist).
- Policy documents (the Markdown templates) are in :mod:`governance.documents`.
"""

from __future__ import annotations

from governance.checklists.loading import (
    Problem,
    find_checklist,
    find_item,
    load_checklist,
    load_checklists,
    validate_checklist_data,
    validate_checklist_file,
)
from governance.checklists.markdown import (
    checklist_markdown,
    checklist_status_markdown,
    evidence_words,
    item_anchor,
)
from governance.checklists.schema import CONDITIONS, Checklist, ChecklistItem, Evidence
from governance.checklists.status import (
    ANSWER_STATUSES,
    STATE_LABELS,
    ChecklistStatus,
    FrameworkStatus,
    ItemStatus,
    evaluate_status,
)

__all__ = [
    "ANSWER_STATUSES",
    "CONDITIONS",
    "STATE_LABELS",
    "Checklist",
    "ChecklistItem",
    "ChecklistStatus",
    "Evidence",
    "FrameworkStatus",
    "ItemStatus",
    "Problem",
    "checklist_markdown",
    "checklist_status_markdown",
    "evaluate_status",
    "evidence_words",
    "find_checklist",
    "find_item",
    "item_anchor",
    "load_checklist",
    "load_checklists",
    "validate_checklist_data",
    "validate_checklist_file",
]
