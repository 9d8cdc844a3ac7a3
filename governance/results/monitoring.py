"""Results after go-live: what changed between two audits (``audit diff``) and a monitoring run over time windows.

Both are frozen contracts like ``AuditResult``: the command line prints them, ``--json`` writes them, and the
register keeps the monitoring windows' counts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from governance.results.audit import RuleStatus
from governance.results.common import Estimate, Frozen

Quantity = Literal["value", "ratio_to_reference", "difference_to_reference", "impact_ratio"]
Movement = Literal["better", "worse", "same", "new", "gone"]


class AuditSide(Frozen):
    """One of the two audits compared."""

    audit_id: str
    model: str
    version: str
    created_at: str
    verdict: str
    policy_name: str
    policy_sha256: str
    data_sha256: str
    data_path: str
    n_rows: int
    sensitive: list[str]


class MetricChange(Frozen):
    """One group's number in both audits, and the change (after - before) with its interval."""

    attribute: str
    group: str
    metric: str
    quantity: Quantity
    reference: str | None = None  # the reference group (after; before if only there)
    before: Estimate | None
    after: Estimate | None
    change: Estimate | None  # after - before, with an interval from both audits' counts resampled together
    beyond_noise: bool = False  # the change's interval excludes 0
    worse_direction: Literal["lower", "higher"] | None = None  # set when a rule says which way is worse
    worsened: bool = False  # worse beyond the tolerance over the whole interval of the change


class RuleChange(Frozen):
    """A policy rule's outcome before and after."""

    rule_id: str
    severity: str
    before: RuleStatus | None
    after: RuleStatus | None
    movement: Movement


class AuditDiff(Frozen):
    """Everything that differs between two audits."""

    before: AuditSide
    after: AuditSide
    called_out: list[str]  # policy, data, attributes, labels: changes to read before the numbers
    groups_added: list[str]  # "attribute = group"
    groups_lost: list[str]
    rules: list[RuleChange]
    metrics: list[MetricChange]
    worse: list[str]  # plain sentences: why --fail-on worse fails
    tolerance: float
    confidence_level: float
    draws: int
    seed: int
    method: str


class WindowGroup(Frozen):
    """One group's numbers in one window."""

    attribute: str
    group: str
    n: int
    share: float
    selection_rate: Estimate
    impact_ratio: Estimate | None = None  # selection rate / the reference group's
    labelled: int = 0
    metrics: dict[str, Estimate] = Field(default_factory=dict)  # error rates from labelled rows


class Alert(Frozen):
    """A drift beyond noise and tolerance in one window."""

    rule_id: str
    kind: Literal["fairness", "performance", "population"]
    window_start: str
    attribute: str | None = None
    group: str | None = None
    metric: str
    approved: float | None = None  # the approved audit's value (PSI: the threshold)
    observed: Estimate
    reaudit: bool
    message: str


class WindowResult(Frozen):
    """One time window of the decision log."""

    start: str
    end: str
    n_rows: int
    labelled: int
    label_coverage: float
    provisional: bool  # label coverage below the policy's threshold: error rates may still change
    groups: list[WindowGroup]
    psi: dict[str, float] = Field(default_factory=dict)  # "group_shares:sex", "input:age" -> PSI
    overall: dict[str, Estimate] = Field(default_factory=dict)


class MonitoringResult(Frozen):
    """One monitoring run of a version over the windows of a decision log."""

    run_id: str
    model: str
    version: str
    approved_audit: str | None
    policy_name: str
    policy_sha256: str
    data_path: str
    data_sha256: str
    time_column: str
    window: str
    windows: list[WindowResult]
    alerts: list[Alert]
    empty_windows: list[str]  # window starts with no rows (reported, never judged)
    checks: int  # how many (window, check) pairs the false-alarm rate is shared over
    false_alarm_rate: float
    sustained_run: int  # consecutive windows each beyond the plain interval that also raise an alert
    confidence_level: float
    notes: list[str] = Field(default_factory=list)
