"""Where each model stands, computed once: the version that is live, on what evidence, and what needs attention.

``register show``, ``status``, the checklist status and every page of the site read a model's state from here,
so that a risk officer reading only the site sees what the command line says: the deployed version first (not
the newest), its standing approval with any risk acceptance and its reason, the audit of its exact file, when
the next audit is due, and the items that need a person.
"""

from __future__ import annotations

from collections.abc import Sequence

from governance.register import lifecycle
from governance.register.records import (
    ApprovalRecord,
    AuditRecord,
    EventRecord,
    IncidentRecord,
    ModelDetail,
    State,
    StatusItem,
    VersionRecord,
)
from governance.results.common import Frozen


class VersionOverview(Frozen):
    """One version: its state, since when it is live, its standing approval and the audit of its file."""

    version: str
    state: State
    registered_at: str
    deployed_since: str | None = None  # when it last entered "deployed" (only while it is deployed)
    approval: ApprovalRecord | None = None  # the standing decision: the newest approval or rejection
    current_audit: AuditRecord | None = None  # the newest audit of this version's exact model file
    next_audit_due: str | None = None  # when that audit expires, for approved and deployed versions
    incidents: int = 0


class ModelOverview(Frozen):
    """One model: the deployed version(s) first, the newest version, and what needs attention."""

    name: str
    owner: str
    risk_tier: str | None = None
    deployed: list[VersionOverview]
    newest: VersionOverview | None = None
    versions: list[VersionOverview]
    next_audit_due: str | None = None
    attention: list[StatusItem] = []

    @property
    def shown(self) -> VersionOverview | None:
        """The version a reader should see first: the deployed one, else the newest."""
        return self.deployed[-1] if self.deployed else self.newest


def overview(
    detail: ModelDetail, events: Sequence[EventRecord], attention: Sequence[StatusItem]
) -> ModelOverview:
    """The overview of one model from its register detail, its events and the status items about it."""
    versions = [
        _version(version, detail.audits, detail.approvals, detail.incidents, events)
        for version in detail.versions
    ]
    return ModelOverview(
        name=detail.model.name,
        owner=detail.model.owner,
        risk_tier=detail.model.risk_tier,
        deployed=[v for v in versions if v.state == "deployed"],
        newest=versions[-1] if versions else None,
        versions=versions,
        next_audit_due=lifecycle.next_due(detail.versions, detail.audits),
        attention=[item for item in attention if item.model_name == detail.model.name],
    )


def _version(
    version: VersionRecord,
    audits: Sequence[AuditRecord],
    approvals: Sequence[ApprovalRecord],
    incidents: Sequence[IncidentRecord],
    events: Sequence[EventRecord],
) -> VersionOverview:
    decisions = [approval for approval in approvals if approval.version_id == version.id]
    current = lifecycle.current_audit(version, audits)
    active = version.state in lifecycle.ACTIVE_STATES
    return VersionOverview(
        version=version.version,
        state=version.state,
        registered_at=version.created_at,
        deployed_since=_deployed_since(version, events) if version.state == "deployed" else None,
        approval=decisions[-1] if decisions else None,
        current_audit=current,
        next_audit_due=current.expires_at if active and current is not None else None,
        incidents=sum(1 for incident in incidents if incident.version_id == version.id),
    )


def _deployed_since(version: VersionRecord, events: Sequence[EventRecord]) -> str | None:
    """The time of the newest deployment event of this version."""
    deployments = [
        event.at
        for event in events
        if event.kind == "version.deployed"
        and event.model_name == version.model_name
        and event.version == version.version
    ]
    return deployments[-1] if deployments else None
