"""Compliance checklists as data, policy templates, and a model's standing against them.

Public API (the command line and the site call these):

- :func:`load_checklists` (folder) -> list of :class:`Checklist`; :func:`validate_checklist_file` (path) ->
  problems naming file, field and line.
- :func:`evaluate_status` (checklists, *, model, answers, latest_audit) -> :class:`ChecklistStatus`.
- :func:`checklist_status_markdown` (status) -> escaped Markdown; :func:`checklist_markdown` (checklist).
- :func:`render_policy` (template, config) -> Markdown; :func:`load_policy_templates` (folder).
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
from governance.checklists.model import CONDITIONS, Checklist, ChecklistItem, Evidence
from governance.checklists.policies import (
    DEFAULTS,
    ROLES,
    PolicyTemplate,
    load_policy_template,
    load_policy_templates,
    parse_policy_template,
    policy_context,
    policy_metadata,
    render_policy,
    unknown_item_references,
)
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
    "DEFAULTS",
    "ROLES",
    "STATE_LABELS",
    "Checklist",
    "ChecklistItem",
    "ChecklistStatus",
    "Evidence",
    "FrameworkStatus",
    "ItemStatus",
    "PolicyTemplate",
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
    "load_policy_template",
    "load_policy_templates",
    "parse_policy_template",
    "policy_context",
    "policy_metadata",
    "render_policy",
    "unknown_item_references",
    "validate_checklist_data",
    "validate_checklist_file",
]
