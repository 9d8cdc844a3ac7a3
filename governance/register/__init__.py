"""The model register: models, versions, audits, approvals and checklist answers, with tamper-evident history.

``Register(url)`` opens (and migrates) a register; ``Register.for_workspace(workspace)`` opens the workspace's.
"""

from governance.register.api import Register
from governance.register.lifecycle import parse_reference
from governance.register.queries import row_image
from governance.register.records import (
    AnchorCheck,
    ApprovalRecord,
    AuditRecord,
    ChecklistAnswerRecord,
    EventRecord,
    IncidentRecord,
    ModelDescription,
    ModelDetail,
    ModelRecord,
    ModelSummary,
    StatusItem,
    StatusReport,
    VerifyProblem,
    VerifyReport,
    VersionRecord,
)

__all__ = [
    "AnchorCheck",
    "ApprovalRecord",
    "AuditRecord",
    "ChecklistAnswerRecord",
    "EventRecord",
    "IncidentRecord",
    "ModelDescription",
    "ModelDetail",
    "ModelRecord",
    "ModelSummary",
    "Register",
    "StatusItem",
    "StatusReport",
    "VerifyProblem",
    "VerifyReport",
    "VersionRecord",
    "parse_reference",
    "row_image",
]
