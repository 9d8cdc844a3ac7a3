"""What the register hands back: immutable, JSON-serialisable records (``record.model_dump(mode="json")``).

They are read-only views of the database rows; changing the register goes through :class:`Register` methods,
each of which appends an event to the tamper-evident log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar

from governance.results.common import Frozen
from governance.results.next_steps import NextStep, worded

A = TypeVar("A")

State = Literal["draft", "audited", "approved", "deployed", "suspended", "retired"]
Decision = Literal["approve", "reject"]
ChecklistStatus = Literal["yes", "no", "partial", "not_applicable"]
Severity = Literal["low", "medium", "high", "critical"]
StatusCategory = Literal["overdue", "expiring", "unapproved", "alerts", "changed", "unrecorded"]

STATES: tuple[str, ...] = ("draft", "audited", "approved", "deployed", "suspended", "retired")
CHECKLIST_STATUSES: tuple[str, ...] = ("yes", "no", "partial", "not_applicable")
SEVERITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
STATUS_CATEGORIES: tuple[str, ...] = ("overdue", "expiring", "unapproved", "alerts", "changed", "unrecorded")


class ModelDescription(Frozen):
    """What a model is for, who owns it, and the human answers that decide which rules apply.

    The one place these fields are named: ``register add`` and ``register update`` build one, ``Register.add_model``
    and ``Register.update_model`` take it, and :class:`ModelRecord` extends it. ``None`` means "not given" (an
    update leaves that field as it is; registering a model needs an owner and a purpose).
    """

    owner: str | None = None
    purpose: str | None = None
    intended_use: str | None = None
    restrictions: str | None = None
    decision_domain: str | None = None  # e.g. "credit", "employment"
    risk_tier: str | None = None  # e.g. "high", "limited", "minimal"
    is_aedt: bool | None = None  # automated employment decision tool (NYC Local Law 144)
    is_annex_iii_high_risk: bool | None = None  # high-risk under EU AI Act Annex III
    solely_automated: bool | None = None  # decisions without a human in the loop (GDPR Art. 22)

    def given(self) -> dict[str, Any]:
        """The fields that were given (not ``None``), by name."""
        return {field: value for field, value in self if value is not None}


class ModelRecord(ModelDescription):
    """A registered model: its description, and who registered it when."""

    id: int
    name: str
    owner: str
    purpose: str
    created_at: str
    created_by: str

    @property
    def description(self) -> ModelDescription:
        """The description alone (what ``update_model`` would take to say the same)."""
        return ModelDescription(**{field: getattr(self, field) for field in ModelDescription.model_fields})


class VersionRecord(Frozen):
    """One version of a model: one artefact, identified by its SHA-256."""

    id: int
    model_id: int
    model_name: str
    version: str
    artifact_path: str
    sha256: str
    framework: str | None = None
    features: list[str] | None = None
    training_data_description: str | None = None
    training_data_sha256: str | None = None
    state: State
    created_at: str
    created_by: str
    # where it came from when not a local file: {"registry": "mlflow", "uri": "models:/NAME/3", "run_id": ...}
    source: dict[str, Any] | None = None
    vouched_by: str | None = (
        None  # who vouched that its model file may run code when loaded (pickles and the like)
    )
    vouched_at: str | None = None


class AuditRecord(Frozen):
    """An audit of one version: where its ``audit.json`` is, its hash, and the verdict it reached."""

    id: int
    version_id: int
    model_name: str
    version: str
    audit_id: str
    audit_json_path: str  # relative to the workspace when it lies inside it
    audit_json_sha256: str
    files: dict[str, str] | None = (
        None  # SHA-256 of every file of the folder; None if recorded before manifests
    )
    verdict: str  # "passed", "failed", "inconclusive" or "reported" (a policy without a pass mark)
    policy_name: str
    policy_sha256: str
    data_sha256: str
    artifact_sha256: str
    tool_versions: dict[str, str]
    max_age_days: int | None = None
    expires_at: str | None = None
    actor: str
    recorded_at: str


class ApprovalRecord(Frozen):
    """A sign-off (or a refusal) by one person in one role."""

    id: int
    version_id: int
    model_name: str
    version: str
    role: str
    decision: Decision
    comment: str | None = None
    risk_acceptance: str | None = None  # the reason given when approving without a current passing audit
    audit_id: str | None = None  # the audit the approval relied on
    actor: str
    at: str
    # a mitigated candidate: the mitigation run it was chosen from and the alternatives with their verdicts
    chosen_from: dict[str, Any] | None = None


class ChecklistAnswerRecord(Frozen):
    """An answer to one compliance checklist item for a model."""

    id: int
    model_id: int
    model_name: str
    framework: str
    item_id: str
    status: ChecklistStatus
    evidence: str
    actor: str
    at: str


class IncidentRecord(Frozen):
    """Something that went wrong with a version in use."""

    id: int
    version_id: int
    model_name: str
    version: str
    title: str
    description: str
    severity: Severity
    actor: str
    at: str


class EventRecord(Frozen):
    """One entry of the append-only log; ``hash`` covers the fields and the previous event's hash."""

    seq: int
    at: str
    actor: str
    kind: str
    model_name: str | None = None
    version: str | None = None
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    hmac: str | None = None
    identity: str | None = (
        None  # who the database says wrote it: "pg:ROLE" (PostgreSQL) or "os:USER" (SQLite)
    )
    summary: str  # the event in plain words


class ModelSummary(Frozen):
    """One line of ``register list``."""

    name: str
    owner: str
    risk_tier: str | None = None
    latest_version: str | None = None
    state: State | None = None
    deployed_versions: list[str] = []
    last_verdict: str | None = None
    last_audit_at: str | None = None
    next_audit_due: str | None = None


class ModelDetail(Frozen):
    """Everything the register knows about one model, with its history."""

    model: ModelRecord
    versions: list[VersionRecord]
    audits: list[AuditRecord]
    approvals: list[ApprovalRecord]
    incidents: list[IncidentRecord]
    checklist_answers: list[ChecklistAnswerRecord]
    events: list[EventRecord]


class VerifyProblem(Frozen):
    """One thing ``verify`` found wrong, in plain words."""

    kind: Literal["chain", "signature", "head", "anchor", "row", "rule", "audit_file", "orphan"]
    seq: int | None = None  # the event concerned, when there is one
    message: str
    path: str | None = None  # an orphan's folder (relative to the workspace when inside it)
    steps: list[NextStep] = []  # the next steps ``message`` names in the library's words

    @property
    def worded(self) -> str:
        """The message with each step as the command that takes it, as the command line says it."""
        return worded(self.message, self.steps)

    def refusing(self, opening: str) -> dict[str, Any]:
        """The keywords of an error that says ``opening`` and then this problem, its steps left to the reader's
        side to word (``GovernanceError.actions``)."""
        text = opening + self.message
        for step in self.steps:
            text = text.replace(step.said, "{" + step.action + "}")
        actions = {step.action: step.said for step in self.steps}
        subject = {key: value for step in self.steps for key, value in step.subject.items()}
        return {"message": text, "actions": actions, "subject": subject}


class AnchorCheck(Frozen):
    """A chain head kept outside the database (``expect_head``, the checkpoint file), looked up in the chain."""

    source: str  # where it came from, in words: "given to verify", "kept in the checkpoint ..."
    hash: str
    found: bool
    seq: int | None = None  # the event it is, when found
    events_after: int | None = None  # how many events came after it


class VerifyReport(Frozen):
    """The result of ``verify``: ``ok`` when the history and the audit files are as recorded, and every signature
    of a signed register was checked (``inconclusive``: nothing is wrong, but a signed register was verified
    without its key, so its signatures were not checked)."""

    ok: bool
    events_checked: int
    rows_checked: int
    audit_files_checked: int
    audits_without_manifest: int = (
        0  # recorded before every file was hashed: only their audit.json is checked
    )
    signed: bool  # the register is signed and its key was given, so the signatures were checked
    problems: list[VerifyProblem]
    inconclusive: bool = False
    signing_since: int | None = None  # the event that switched signing on (None: the register is not signed)
    signing_algorithm: str | None = None  # "hmac-sha256" or "ed25519" (None: the register is not signed)
    head_seq: int = 0
    head_hash: str = "0" * 64
    anchors: list[AnchorCheck] = []
    warnings: list[str] = []  # intact, but worth knowing: e.g. a shared database role was allowed

    @property
    def first_break(self) -> VerifyProblem | None:
        return self.problems[0] if self.problems else None

    @property
    def exit_code(self) -> int:
        """0 intact, 1 a break (or an audit folder the register does not know), 3 signatures not checked."""
        if self.ok:
            return 0
        return 3 if self.inconclusive else 1


class StatusItem(Frozen):
    """One thing that needs attention; ``message`` says the next step in the library's words (``steps``)."""

    category: StatusCategory
    model_name: str
    version: str
    message: str
    due: str | None = None
    steps: list[NextStep] = []

    @property
    def worded(self) -> str:
        """The message with each step as the command that takes it, as the command line and the site say it."""
        return worded(self.message, self.steps)

    def as_said(self) -> StatusItem:
        """The item with ``message`` worded as the command line says it (its JSON output)."""
        return self.model_copy(update={"message": self.worded})


class StatusReport(Frozen):
    """What needs attention now: overdue or expiring audits, unapproved deployments, changed files, orphans."""

    generated_at: str
    within_days: int
    items: list[StatusItem]

    def count(self, category: str) -> int:
        return sum(1 for item in self.items if item.category == category)

    def failing(self, fail_on: Iterable[str]) -> list[str]:
        """The categories among ``fail_on`` that have items, sorted: a check fails (exit 1) when there are any."""
        return sorted({item.category for item in self.items} & set(fail_on))


def newest_answers(answers: Iterable[A], fields: Callable[[A], Mapping[str, Any]]) -> list[A]:
    """The newest answer per (framework, item): the latest time, and of equal times the one given last.

    The one rule for "which answer counts", used by ``Register.checklist_answers`` and the checklist status.
    ``answers`` come in any order, as records or dicts (``fields`` reads one as a mapping with ``framework``,
    ``item_id`` and ``at`` or ``created_at``); the result is sorted by framework and item.
    """
    latest: dict[tuple[str, str], tuple[str, int, A]] = {}
    for order, answer in enumerate(answers):
        values = fields(answer)
        moment = values.get("at") or values.get("created_at")
        when = moment.isoformat() if isinstance(moment, datetime) else str(moment or "")
        key = (str(values.get("framework") or ""), str(values.get("item_id") or ""))
        if key not in latest or (when, order) >= latest[key][:2]:
            latest[key] = (when, order, answer)
    return [latest[key][2] for key in sorted(latest)]


def open_alert_runs(runs: Iterable[A], newest_audit_seq: int | None, seq: Callable[[A], int]) -> list[A]:
    """The monitoring runs whose alerts are still open: those recorded after the version's newest audit.

    The one rule for "did an audit close these alerts", used by ``governance status`` and the checklists'
    monitoring evidence. It goes by the history's order (event numbers), not the clock: an audit and a run can
    fall in one second, and two machines' clocks can disagree. ``seq`` reads a run's event number.
    """
    return [run for run in runs if seq(run) > (newest_audit_seq or 0)]
