"""The policy file's shape: rules with a metric, a comparison, a bound and a severity.

Validated with pydantic (unknown keys are errors, so a typo never silently disables a rule); the JSON Schema
published in ``governance/schemas/policy.schema.json`` is generated from these classes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from governance.results.fairness import BINARY_METRICS, REGRESSION_METRICS, SCORE_METRICS

Comparison = Literal[
    "impact_ratio",  # selection rate / the most-selected group's (four-fifths, NYC LL144)
    "ratio_to_reference",
    "difference_to_reference",
    "ratio_to_overall",
    "difference_to_overall",
    "ratio_between_groups",  # min / max over groups
    "difference_between_groups",  # max - min over groups
    "value",  # every group's own value
    "overall",  # the whole population's value
    "summary",  # a summary such as equalized_odds_difference
]
SUMMARY_METRICS = (
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
    "equalized_odds_ratio",
    "equal_opportunity_difference",
    "equal_opportunity_ratio",
)
GROUP_METRICS = (*BINARY_METRICS, *SCORE_METRICS, *REGRESSION_METRICS)

_BOUND = re.compile(
    r"^\s*(?:(?P<op>>=|<=|>|<)\s*(?P<value>-?\d+(?:\.\d+)?)"
    r"|between\s+(?P<low>-?\d+(?:\.\d+)?)\s+and\s+(?P<high>-?\d+(?:\.\d+)?))\s*$"
)


class Bound(BaseModel):
    """A parsed bound: ``>= 0.8``, ``<= 0.1``, ``between 0.8 and 1.25``."""

    model_config = ConfigDict(frozen=True)
    text: str
    low: float | None
    high: float | None
    low_inclusive: bool = True
    high_inclusive: bool = True

    @classmethod
    def parse(cls, text: str) -> Bound:
        match = _BOUND.match(str(text))
        if not match:
            raise ValueError(
                f"bound {text!r} is not understood; write it like '>= 0.8', '<= 0.1' or 'between 0.8 and 1.25'"
            )
        if match["op"]:
            number = float(match["value"])
            op = match["op"]
            if op.startswith(">"):
                return cls(text=str(text).strip(), low=number, high=None, low_inclusive=op == ">=")
            return cls(text=str(text).strip(), low=None, high=number, high_inclusive=op == "<=")
        low, high = float(match["low"]), float(match["high"])
        if low > high:
            raise ValueError(f"bound {text!r} has its lower end above its upper end")
        return cls(text=str(text).strip(), low=low, high=high)

    def holds(self, number: float) -> bool:
        """Whether ``number`` meets the bound."""
        if self.low is not None and (number < self.low or (number == self.low and not self.low_inclusive)):
            return False
        return not (
            self.high is not None
            and (number > self.high or (number == self.high and not self.high_inclusive))
        )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricRule(_Strict):
    """A rule on a fairness or performance number."""

    id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Stable identifier, shown in reports."
    )
    description: str = Field(description="What the rule protects, in plain words.")
    metric: str = Field(
        description="A group metric (selection_rate, tpr, ...) or, with comparison summary, a summary."
    )
    comparison: Comparison
    bound: str = Field(description="'>= 0.8', '<= 0.1' or 'between 0.8 and 1.25'.")
    severity: Literal["block", "warn"] = "block"
    min_group_size: int | None = Field(
        default=None, ge=1, description="Below this many rows a group is inconclusive."
    )
    attributes: list[str] | None = Field(
        default=None, description="Sensitive attributes to check (default: all)."
    )
    intersections: bool = Field(default=True, description="Also check intersections such as sex × age_band.")
    advice: str | None = Field(default=None, description="What to do when the rule fails, in plain words.")

    @field_validator("bound")
    @classmethod
    def _bound_parses(cls, text: str) -> str:
        Bound.parse(text)
        return text

    @model_validator(mode="after")
    def _metric_fits_comparison(self) -> MetricRule:
        allowed = SUMMARY_METRICS if self.comparison == "summary" else GROUP_METRICS
        if self.metric not in allowed:
            import difflib

            close = difflib.get_close_matches(self.metric, allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(allowed)}"
            raise ValueError(f"metric {self.metric!r} does not fit comparison {self.comparison!r}; {hint}")
        if self.comparison == "impact_ratio" and self.metric != "selection_rate":
            raise ValueError("comparison 'impact_ratio' is defined for metric 'selection_rate' only")
        return self

    @property
    def parsed_bound(self) -> Bound:
        return Bound.parse(self.bound)


class ExplainRule(_Strict):
    """A rule on the explanation: what may not drive the model."""

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str
    check: Literal["sensitive_in_top_k", "proxy_in_top_k"]
    k: int = Field(default=5, ge=1, description="How many of the most important features to look at.")
    threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="proxy_in_top_k: the proxy strength (0-1) that counts as a proxy.",
    )
    severity: Literal["block", "warn"] = "block"
    advice: str | None = None

    @model_validator(mode="after")
    def _threshold_for_proxies(self) -> ExplainRule:
        if self.check == "proxy_in_top_k" and self.threshold is None:
            raise ValueError("check 'proxy_in_top_k' needs a threshold between 0 and 1 (for example 0.5)")
        return self


class CalibrationRule(_Strict):
    """A rule on calibration by group: the largest gap between groups' calibration errors (scores 0 to 1 only).

    A score should mean the same chance of the positive outcome in every group; the gap is max - min of the
    groups' expected calibration errors, judged over its interval like any other number.
    """

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str
    check: Literal["calibration_gap"]
    bound: str = Field(description="'<= 0.05': the largest gap allowed between groups' calibration errors.")
    severity: Literal["block", "warn"] = "warn"
    attributes: list[str] | None = Field(
        default=None, description="Sensitive attributes to check (default: all)."
    )
    advice: str | None = None

    @field_validator("bound")
    @classmethod
    def _bound_parses(cls, text: str) -> str:
        Bound.parse(text)
        return text

    @property
    def metric(self) -> str:
        return "calibration_error"

    @property
    def comparison(self) -> str:
        return "difference_between_groups"

    @property
    def parsed_bound(self) -> Bound:
        return Bound.parse(self.bound)


def _rule_kind(value: object) -> str:
    """A rule with a ``check`` key is about the explanation (or, ``calibration_gap``, calibration); any other
    is about a metric."""
    if isinstance(value, dict):
        if value.get("check") == "calibration_gap":
            return "calibration"
        return "explain" if "check" in value else "metric"
    if isinstance(value, CalibrationRule):
        return "calibration"
    return "explain" if isinstance(value, ExplainRule) else "metric"


Rule = Annotated[
    Annotated[MetricRule, Tag("metric")]
    | Annotated[ExplainRule, Tag("explain")]
    | Annotated[CalibrationRule, Tag("calibration")],
    Discriminator(_rule_kind),
]


def outcome_words(
    rule: MetricRule | ExplainRule | CalibrationRule, *, bound: str | None = None
) -> dict[str, Any]:
    """The rule's own words in its outcome (id, description, metric, comparison, bound, severity), for every kind.

    ``bound`` replaces the rule's own bound in words (an explanation rule with a proxy threshold).
    """
    words: tuple[str, str, str] = (
        (rule.check, "top_k", f"k = {rule.k}")
        if isinstance(rule, ExplainRule)
        else (rule.metric, rule.comparison, rule.bound)
    )
    metric, comparison, own_bound = words
    return {
        "rule_id": rule.id,
        "description": rule.description,
        "metric": metric,
        "comparison": comparison,
        "bound": own_bound if bound is None else bound,
        "severity": rule.severity,
    }


class AlertRule(_Strict):
    """One monitoring alert rule: what drift to watch after go-live, and what an alert does."""

    id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Stable identifier, shown in alerts."
    )
    kind: Literal["fairness", "performance", "population"] = Field(
        description=(
            "fairness: a group's ratio of this rate to the reference group's, against the approved audit; "
            "performance: a group's rate of this metric (needs labels); population: the PSI of group shares "
            "and of the model's inputs."
        )
    )
    metric: str = Field(
        default="selection_rate",
        description="fairness and performance: a count metric (selection_rate, tpr, fpr, accuracy ...); "
        "population: group_shares or inputs.",
    )
    tolerance: float = Field(
        default=0.0,
        ge=0,
        description="fairness and performance: how far the value may move from the approved audit's before it "
        "counts (beyond noise); population: the PSI that counts as drift (0 uses monitoring.psi_threshold).",
    )
    reaudit: bool = Field(default=True, description="An alert sets the version's next audit date to now.")

    @model_validator(mode="after")
    def _metric_fits_kind(self) -> AlertRule:
        allowed = ("group_shares", "inputs") if self.kind == "population" else BINARY_METRICS
        if self.metric not in allowed:
            raise ValueError(
                f"metric {self.metric!r} does not fit alert kind {self.kind!r}; use one of: {', '.join(allowed)}"
            )
        return self


def default_alert_rules() -> list[AlertRule]:
    """The alert rules used when a policy's ``monitoring:`` section names none."""
    return [
        AlertRule(id="impact-ratio-drift", kind="fairness", metric="selection_rate", tolerance=0.0),
        AlertRule(id="accuracy-drift", kind="performance", metric="accuracy", tolerance=0.0),
        AlertRule(id="group-shares-drift", kind="population", metric="group_shares"),
        AlertRule(id="input-drift", kind="population", metric="inputs", reaudit=False),
    ]


class Monitoring(_Strict):
    """After go-live: how ``governance audit diff`` judges a change and ``governance monitor`` raises alerts."""

    diff_tolerance: float = Field(
        default=0.05,
        ge=0,
        description="Comparing two audits (failing on worse): a metric under a rule counts as worse when its "
        "change is beyond this (the whole interval of the change).",
    )
    min_label_coverage: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="A window is provisional until this share of its rows has labels (late labels).",
    )
    false_alarm_rate: float = Field(
        default=0.05,
        gt=0,
        lt=0.5,
        description="The chance of any false alert over one monitoring run of stable data, shared over every "
        "window and check (Bonferroni).",
    )
    psi_threshold: float = Field(
        default=0.25, gt=0, description="The PSI that counts as population drift (0.1 moderate, 0.25 large)."
    )
    min_window_rows: int = Field(
        default=30, ge=1, description="Windows with fewer rows are reported but never raise an alert."
    )
    alerts: list[AlertRule] = Field(
        default_factory=default_alert_rules,
        description="Alert rules (default: fairness, accuracy, population).",
    )


class Policy(_Strict):
    """A policy file: settings for the audit and the rules that judge it."""

    name: str
    description: str = ""
    version: str = "1"
    reporting_only: bool = Field(
        default=False,
        description="No pass mark (NYC LL144): the verdict is always 'reported' (exit 0); the tables are the output.",
    )
    max_audit_age_days: int | None = Field(
        default=365, ge=1, description="An audit older than this cannot support approval."
    )
    min_group_size: int = Field(
        default=30, ge=1, description="Default minimum rows per group for a rule to decide."
    )
    confidence_level: float = Field(default=0.95, gt=0.5, lt=1)
    n_boot: int = Field(
        default=1000, ge=0, le=100_000, description="Bootstrap resamples for intervals (0: none)."
    )
    reference: Literal["largest", "highest", "named"] = "largest"
    reference_groups: dict[str, str] = Field(
        default_factory=dict, description="With reference 'named': the reference group per attribute."
    )
    intersections: Literal["none", "pairs", "full", "all"] = Field(
        default="all",
        description=(
            "Intersections audited besides each sensitive attribute alone: every pair (NYC LL144's sex x race), "
            "the full intersection of all of them, both ('all'), or none."
        ),
    )
    rules: list[Rule] = Field(default_factory=list)
    monitoring: Monitoring = Field(
        default_factory=Monitoring,
        description="After go-live: audit diff tolerance and monitoring alert rules.",
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> Policy:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice; give each rule its own id")
            seen.add(rule.id)
        blocking = [rule.id for rule in self.rules if rule.severity == "block"]
        if self.reporting_only and blocking:
            raise ValueError(
                f"a reporting_only policy sets no pass mark, but its rule {blocking[0]!r} is blocking; give that rule "
                "severity: warn, or remove reporting_only"
            )
        if self.reference == "named" and not self.reference_groups:
            raise ValueError("reference 'named' needs reference_groups, e.g. {sex: male}")
        return self
