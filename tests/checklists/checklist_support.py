"""Helpers for the checklist tests: a real ``AuditResult`` built by hand, and register fields of a model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from governance.results.audit import AuditResult, DataInfo, ModelInfo, PolicyVerdict, Provenance, RuleOutcome
from governance.results.common import Estimate
from governance.results.fairness import (
    AttributeResult,
    Comparison,
    FairnessResult,
    GroupResult,
    LL144Row,
    LL144Table,
)

AuditFactory = Callable[..., AuditResult]


def _estimate(value: float) -> Estimate:
    return Estimate(value=value, low=value - 0.05, high=value + 0.05)


def build_audit(
    *,
    verdict: str = "passed",
    rule_status: str | None = None,
    with_ll144: bool = True,
    created_at: str = "2026-11-20T10:00:00Z",
    audit_id: str = "a1",
) -> AuditResult:
    """A small but complete audit of one attribute ``sex`` (two groups), with an LL144 table."""
    groups = [
        GroupResult(
            group=g,
            levels={"sex": g},
            n=n,
            weight=float(n),
            share=n / 1000,
            metrics={"selection_rate": _estimate(rate), "accuracy": _estimate(0.75)},
        )
        for g, n, rate in (("female", 400, 0.6), ("male", 600, 0.7))
    ]
    comparison = Comparison(
        metric="selection_rate",
        group="female",
        reference="male",
        difference=_estimate(-0.1),
        ratio=_estimate(0.857),
        p_value=0.01,
    )
    ll144 = LL144Table(
        attribute="sex",
        rate_kind="selection",
        most_selected="male",
        unknown_count=3,
        rows=[
            LL144Row(
                category=g.group,
                n=g.n,
                selected=int(g.n * 0.6),
                rate=0.6,
                impact_ratio=1.0,
                share=g.share,
                under_two_percent=False,
            )
            for g in groups
        ],
    )
    attribute = AttributeResult(
        attribute="sex",
        columns=["sex"],
        is_intersection=False,
        reference_group="male",
        reference_method="largest",
        groups=groups,
        to_reference=[comparison],
        to_overall=[],
        between_groups=[],
        summaries={"demographic_parity_ratio": _estimate(0.857)},
        empty_cells=[],
        unknown_count=3,
        ll144=ll144 if with_ll144 else None,
    )
    fairness = FairnessResult(
        task="binary",
        has_labels=True,
        has_scores=False,
        weighted=False,
        positive_label="1",
        n_rows=1003,
        total_weight=1003.0,
        overall={"accuracy": _estimate(0.75)},
        attributes=[attribute],
        n_boot=100,
        confidence_level=0.95,
        seed=0,
    )
    status = rule_status or {"passed": "pass", "failed": "fail", "inconclusive": "inconclusive"}[verdict]
    rule = RuleOutcome(
        rule_id="four-fifths",
        description="ratio >= 0.8",
        metric="selection_rate_ratio",
        comparison="ratio_to_reference",
        bound=">= 0.8",
        severity="block",
        status=status,  # type: ignore[arg-type]
        summary="s",
        advice="a",
    )
    other = RuleOutcome(
        rule_id="equal-opportunity",
        description="tpr gap",
        metric="tpr_difference",
        comparison="difference",
        bound="<= 0.1",
        severity="block",
        status="fail",
        summary="s",
        advice="a",
    )
    return AuditResult(
        audit_id=audit_id,
        model=ModelInfo(
            name="credit", version="1.0.0", kind="model", sha256="ab" * 32, estimator="LogisticRegression"
        ),
        data=DataInfo(
            path="holdout.csv",
            sha256="cd" * 32,
            n_rows=1003,
            target="y",
            sensitive=["sex"],
            features=["age", "income"],
        ),
        fairness=fairness,
        policy=PolicyVerdict(
            policy_name="default",
            policy_path="default.yaml",
            policy_sha256="ef" * 32,
            verdict=verdict,
            strict=False,
            exit_code=0,
            summary="s",
            rules=[rule, other],  # type: ignore[arg-type]
        ),
        provenance=Provenance(
            tool_version="0.1.0",
            library_versions={"python": "3.11"},
            seed=0,
            created_at=created_at,
            command_line="governance audit",
            model_sha256="ab" * 32,
            data_sha256="cd" * 32,
            policy_sha256="ef" * 32,
        ),
    )


def model_fields(**overrides: Any) -> dict[str, Any]:
    """Register fields of a model whose scope is fully answered (high-risk, AEDT, solely automated)."""
    fields: dict[str, Any] = {
        "name": "credit",
        "owner": "ana@example.com",
        "purpose": "Score credit applications",
        "intended_use": "Loan officers in the retail bank",
        "decision_domain": "employment",
        "is_aedt": True,
        "is_annex_iii_high_risk": True,
        "solely_automated": True,
        "versions": [{"version": "1.0.0"}],
        "audits": [{"audit_id": "a1"}],
        "approvals": [{"role": "risk-officer"}],
        "events": [{"seq": 1}],
    }
    fields.update(overrides)
    return fields
