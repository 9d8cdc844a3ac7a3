"""Checklists as data: a framework's duties, each with its source, scope and kind of evidence.

The YAML files in ``policies/checklists/`` are validated against ``checklist.schema.json`` and then
parsed into these frozen models, which the status evaluation, the command line and the site read.
"""

from __future__ import annotations

from typing import Literal

from governance.results.common import Frozen

Condition = Literal["always", "annex_iii_high_risk", "aedt", "solely_automated", "employment"]
EvidenceType = Literal["audit", "register", "monitoring", "human"]

#: What each ``applies_when`` condition means, in the words the command line and the site use.
CONDITIONS: dict[str, str] = {
    "always": "every model",
    "annex_iii_high_risk": "models the register marks as EU AI Act Annex III high-risk (is_annex_iii_high_risk)",
    "aedt": "models the register marks as an automated employment decision tool under NYC LL144 (is_aedt)",
    "solely_automated": "models whose decisions are made without meaningful human review (solely_automated)",
    "employment": "models used in hiring, promotion or other employment decisions (decision_domain or is_aedt)",
}


class Evidence(Frozen):
    """What can show that an item is done.

    ``audit``: the named ``audit.json`` fields of the latest audit (``fields``), optionally with the policy
    rules (by rule id or metric name, ``rules``) whose pass counts, and a maximum audit age
    (``max_age_days``). ``register``: the named fields of the
    model's register record (for example ``approvals``). ``monitoring``: a recorded ``governance monitor`` run of
    every deployed version younger than ``max_age_days`` (default 31), with no alert still open. ``human``: only
    a person's answer.
    """

    type: EvidenceType
    fields: list[str] = []
    rules: list[str] = []
    max_age_days: int | None = None

    @property
    def automatic(self) -> bool:
        """True when the toolkit can evidence the item without a person's answer."""
        return self.type != "human"


class ChecklistItem(Frozen):
    """One duty: what it asks, where it comes from, when it applies and what evidences it."""

    id: str
    title: str
    requirement: str
    source: str
    applies_when: list[Condition]
    evidence: Evidence
    guidance: str
    framework: str = ""  # filled in from the file when loaded


class Checklist(Frozen):
    """One framework's checklist (one YAML file)."""

    schema_version: str
    framework: str
    title: str
    source: str
    as_of: str
    description: str
    caveats: list[str] = []
    items: list[ChecklistItem]
    path: str | None = None  # the file it was loaded from

    def item(self, item_id: str) -> ChecklistItem | None:
        """The item with this id, or ``None``."""
        return next((entry for entry in self.items if entry.id == item_id), None)
