"""The whole audit: what was audited, on what data, the results, the policy verdict and provenance.

This is what ``audit.json`` holds (JSON Schema in ``governance/schemas/audit.schema.json``); the Markdown
report and the site read only this.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from governance.results.common import Estimate, Frozen
from governance.results.explain import ExplanationResult
from governance.results.fairness import FairnessResult
from governance.results.tradeoff import CalibrationResult, TradeoffResult

AUDIT_SCHEMA_VERSION = "1.1"  # 1.1: the verdict "reported" and RuleOutcome.not_checked_because

Verdict = Literal["passed", "failed", "inconclusive", "reported"]
"""``reported``: the policy sets no pass mark (reporting only, or no blocking rule); the tables are the output."""
RuleStatus = Literal["pass", "fail", "inconclusive", "not_applicable"]
Severity = Literal["block", "warn"]


class ModelInfo(Frozen):
    """The model audited, or the predictions of one that could not be loaded."""

    name: str
    version: str
    kind: Literal["model", "predictions"]
    path: str | None = None
    sha256: str | None = None
    estimator: str | None = None  # e.g. "sklearn.pipeline.Pipeline(LogisticRegression)"
    loader: str | None = None  # "skops", "joblib (trusted by SHA-256)", ...
    trusted_types: list[str] = []  # types the skops loader was allowed to build
    # A model file that runs code when loaded (a pickle, or skops beyond the safe list) loads only if someone
    # vouched for it: who (from the register, or whoever passed --trust), and when the register recorded it.
    vouched_by: str | None = None
    vouched_at: str | None = None
    threshold: float | None = None
    predictions_column: str | None = None
    scores_column: str | None = None
    sensitive_inputs: list[str] = []  # sensitive attributes the model takes as direct inputs (e.g. ["sex"])


class TableInfo(Frozen):
    """Where a table audit's rows live, and a fingerprint the engine can recompute; never a password."""

    backend: str  # "duckdb", "postgres", "pyspark"
    connection: str  # the connection URL with its password and secret parameters replaced by ***
    table: str | None = None
    query: str | None = None
    n_rows: int
    fingerprint: str
    fingerprint_method: str
    fingerprint_keys: list[str]  # columns grouped by
    fingerprint_numeric: list[str] = []  # columns summed, with their minimum and maximum
    fingerprint_weights: str | None = None  # the weights column summed per group
    queried_at: str  # ISO 8601 UTC, when the aggregates were read
    snapshot: str | None = None  # the engine's snapshot or version, where it offers one
    explain_sample_rows: int | None = (
        None  # model audits: rows fetched for the explanation, stratified by group
    )
    explain_sample_seed: int | None = None
    # AUC, Brier score and regression metrics: the distinct scored rows they were computed from (with counts), and,
    # past the limit an audit keeps in memory, the significant bits the amounts were rounded to and the largest
    # possible error this causes in each metric (any group)
    distinct_rows: int | None = None
    rounded_to_bits: int | None = None
    rounding_bounds: dict[str, float] = {}


class DataInfo(Frozen):
    """The data the audit ran on."""

    path: str
    sha256: str
    n_rows: int
    target: str | None
    sensitive: list[str]
    features: list[str]
    # where the features came from: "model" (its feature_names_in_), "features" (--features), "data" (every other column)
    features_source: Literal["model", "features", "data"] | None = None
    sensitive_data_path: str | None = None
    sensitive_data_sha256: str | None = None
    id_column: str | None = None
    weights_column: str | None = None
    rows_without_demographics: int = 0
    table: TableInfo | None = None  # set when the rows were read from a database or Spark, not a file


class Finding(Frozen):
    """One group's number under a rule, and what it means."""

    attribute: str
    group: str
    reference: str | None
    estimate: Estimate
    status: RuleStatus
    n: int  # the group's own count of what the metric is computed over (see counted)
    reason: str  # plain words: "0.78 (0.62 to 0.96) is below 0.8 for the whole interval" ...
    reference_n: int | None = None  # the reference group's own count, when there is a reference group
    counted: str = "rows"  # what n counts: rows, actual positives, actual negatives, predicted positives ...


class RuleOutcome(Frozen):
    """One policy rule judged on the results."""

    rule_id: str
    description: str
    metric: str
    comparison: str
    bound: str  # as written in the policy, e.g. ">= 0.8"
    severity: Severity
    status: RuleStatus
    summary: str  # one plain sentence
    advice: str  # what to do about it
    findings: list[Finding] = []
    not_checked_because: str | None = (
        None  # why the audit could not check this rule (then it is never "pass")
    )


class PolicyVerdict(Frozen):
    """The policy's judgement of the audit."""

    policy_name: str
    policy_path: str
    policy_sha256: str
    verdict: Verdict
    strict: bool
    exit_code: int
    summary: str
    rules: list[RuleOutcome]
    max_audit_age_days: int | None = None


class Provenance(Frozen):
    """Where the result came from, so it can be reproduced and checked."""

    tool_version: str
    library_versions: dict[str, str]
    seed: int
    created_at: str  # ISO 8601 UTC
    command_line: str
    model_sha256: str | None
    data_sha256: str
    policy_sha256: str
    duration_seconds: float | None = None


class AuditOverride(Frozen):
    """An audit run against the model's pinned audit specification (``governance.yaml``), and why."""

    reason: str  # as given with --override
    departures: list[str]  # each way the audit differs from the pin, in plain words


class AuditResult(Frozen):
    """Everything one audit found; serialised as ``audit.json``."""

    schema_version: str = AUDIT_SCHEMA_VERSION
    audit_id: str
    model: ModelInfo
    data: DataInfo
    fairness: FairnessResult
    explanation: ExplanationResult | None = None
    explanation_error: str | None = None
    policy: PolicyVerdict
    provenance: Provenance
    override: AuditOverride | None = None  # set when --override ran an audit that departs from the pin
    # With --curves (scores and labels): the threshold trade-off and calibration by group; left out otherwise.
    tradeoff: TradeoffResult | None = Field(default=None, exclude_if=lambda value: value is None)
    calibration: CalibrationResult | None = Field(default=None, exclude_if=lambda value: value is None)


def build_validators() -> None:
    """Build the validators of an audit's result models now rather than at their first use (pydantic defers
    them, ``defer_build``): a table audit calls this while the engine still counts, so the work is off the
    critical path (issue 14). The same work either way; nothing else changes."""
    from governance.results.fairness import AttributeFields, AttributeResult, LL144Table

    for model in (TableInfo, AttributeResult, FairnessResult, LL144Table, Estimate, Finding, RuleOutcome,
                  PolicyVerdict, ModelInfo, DataInfo, Provenance, AuditResult, AttributeFields):  # fmt: skip
        model.model_rebuild()
