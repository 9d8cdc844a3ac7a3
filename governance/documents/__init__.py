"""Policy documents: the Markdown templates a workspace fills from ``governance.yaml`` and publishes.

"Policy" here means a written document for people (AI use and ethics, monitoring, ...); the rules an audit is
judged against (the YAML policy file) live in :mod:`governance.rules`.
"""

from __future__ import annotations

from governance.documents.templates import (
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

__all__ = [
    "DEFAULTS",
    "ROLES",
    "PolicyTemplate",
    "load_policy_template",
    "load_policy_templates",
    "parse_policy_template",
    "policy_context",
    "policy_metadata",
    "render_policy",
    "unknown_item_references",
]
