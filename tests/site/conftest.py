"""Fixture workspaces for the site tests: audits built by hand as ``AuditResult`` objects (no model training)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from governance.paths import safe_join
from governance.results.audit import (
    AuditResult,
    DataInfo,
    Finding,
    ModelInfo,
    PolicyVerdict,
    Provenance,
    RuleOutcome,
)
from governance.results.common import Estimate
from governance.results.fairness import (
    AttributeResult,
    FairnessResult,
    GroupResult,
    LL144Row,
    LL144Table,
)
from governance.scaffold import init_workspace
from governance.workspace import find_workspace

# A 1x1 PNG and a small SVG, standing in for the report's figures.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e226059b0000000049454e44ae426082"
)
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">'
    '<rect width="200" height="100" fill="#1976d2"/></svg>'
)


def est(value: float, spread: float = 0.05) -> Estimate:
    return Estimate(value=value, low=max(0.0, value - spread), high=min(1.0, value + spread))


def make_audit(
    name: str,
    version: str,
    audit_id: str,
    *,
    created_at: str = "2026-11-20T10:00:00Z",
    sizes: dict[str, int] | None = None,
    rates: dict[str, float] | None = None,
    verdict: str = "passed",
    ratio: float = 0.85,
) -> AuditResult:
    """An audit of one binary attribute ``sex`` with the given group sizes and selection rates."""
    sizes = sizes or {"female": 310, "male": 690}
    rates = rates or {"female": 0.62, "male": 0.71}
    total = sum(sizes.values())
    groups = [
        GroupResult(
            group=group,
            levels={"sex": group},
            n=n,
            weight=float(n),
            share=n / total,
            metrics={
                "selection_rate": est(rates[group]),
                "accuracy": est(0.74),
                "tpr": est(0.8),
                "fpr": est(0.3),
            },
        )
        for group, n in sorted(sizes.items())
    ]
    best = max(rates.values())
    ll144 = LL144Table(
        attribute="sex",
        rate_kind="selection",
        rows=[
            LL144Row(
                category=group,
                n=n,
                selected=round(n * rates[group]),
                rate=rates[group],
                impact_ratio=rates[group] / best,
                share=n / total,
                under_two_percent=n / total < 0.02,
            )
            for group, n in sorted(sizes.items())
        ],
        most_selected=max(rates, key=lambda group: rates[group]),
        unknown_count=0,
    )
    attribute = AttributeResult(
        attribute="sex",
        columns=["sex"],
        is_intersection=False,
        reference_group=max(sizes, key=lambda group: sizes[group]),
        reference_method="largest",
        groups=groups,
        to_reference=[],
        to_overall=[],
        between_groups=[],
        summaries={"demographic_parity_ratio": est(ratio), "equalized_odds_ratio": est(ratio - 0.05)},
        empty_cells=[],
        unknown_count=0,
        ll144=ll144,
    )
    fairness = FairnessResult(
        task="binary",
        has_labels=True,
        has_scores=False,
        weighted=False,
        positive_label="1",
        n_rows=total,
        total_weight=float(total),
        overall={"selection_rate": est(0.68), "accuracy": est(0.74)},
        attributes=[attribute],
        n_boot=200,
        confidence_level=0.95,
        seed=0,
    )
    status = {"passed": "pass", "failed": "fail", "inconclusive": "inconclusive", "reported": "fail"}[verdict]
    rule = RuleOutcome(
        rule_id="four-fifths",
        description="Selection-rate ratio of every group to the reference is at least 0.8",
        metric="selection_rate",
        comparison="ratio_to_reference",
        bound=">= 0.8",
        severity="block",
        status=status,  # type: ignore[arg-type]
        summary=f"The selection-rate ratio is {ratio:.2f}.",
        advice="Keep auditing yearly.",
        findings=[
            Finding(
                attribute="sex",
                group="female",
                reference="male",
                estimate=est(ratio),
                status=status,
                n=310,  # type: ignore[arg-type]
                reason="the whole interval is above 0.8",
            )
        ],
    )
    return AuditResult(
        audit_id=audit_id,
        model=ModelInfo(
            name=name, version=version, kind="model", sha256="ab" * 32, estimator="LogisticRegression"
        ),
        data=DataInfo(
            path="/data/holdout.parquet",
            sha256="cd" * 32,
            n_rows=total,
            target="default",
            sensitive=["sex"],
            features=["age"],
        ),
        fairness=fairness,
        policy=PolicyVerdict(
            policy_name="default",
            policy_path="policies/presets/default.yaml",
            policy_sha256="ef" * 32,
            verdict=verdict,  # type: ignore[arg-type]
            strict=False,
            exit_code={"passed": 0, "failed": 1, "inconclusive": 3, "reported": 0}[verdict],
            summary=f"The audit ended {verdict} against the default policy.",
            rules=[rule],
            max_audit_age_days=365,
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


def write_audit(root: Path, result: AuditResult, *, figures: bool = True) -> Path:
    """Write ``audit.json`` (and two figures) where the audit command puts them."""
    folder = safe_join(root / "audits", result.model.name, result.model.version, result.audit_id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "audit.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
    if figures:
        (folder / "figures").mkdir(exist_ok=True)
        for stem in ("groups-sex", "impact-sex"):  # the report's names for these figures
            (folder / "figures" / f"{stem}.svg").write_text(SVG, encoding="utf-8")
            (folder / "figures" / f"{stem}.png").write_bytes(PNG_1X1)
    return folder


WorkspaceFactory = Callable[..., Path]


@pytest.fixture
def workspace_factory(tmp_path: Path) -> WorkspaceFactory:
    """A fresh ``governance init`` workspace with the given audits written into it."""

    def make(
        *audits: AuditResult, name: str = "ws", models: dict[str, dict[str, object]] | None = None
    ) -> Path:
        root = tmp_path / name
        init_workspace(root, organisation="Acme Lending")
        if models:
            import yaml

            config_path = root / "governance.yaml"
            config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
            config["models"] = models
            config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        for result in audits:
            write_audit(root, result)
        return root

    return make


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One built site shared by the slower tests (browser, hostile names): two models, three audits, one AEDT."""
    from governance.site import build_site

    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("GOVERNANCE_") and "_TEST_" not in name]:
            patch.delenv(name)  # module-scoped: the suite-wide per-test fixture has not run yet
        return _build_demo(tmp_path_factory, build_site)


def _build_demo(tmp_path_factory: pytest.TempPathFactory, build_site: Callable[..., object]) -> Path:
    root = tmp_path_factory.mktemp("site") / "ws"
    init_workspace(root, organisation="Acme Lending")
    import yaml

    config_path = root / "governance.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["models"] = {
        "credit-risk": {"owner": "ana@example.com", "intended_use": "Rank credit applications for review."},
        "hiring-screen": {
            "is_aedt": True,
            "distribution_date": "2026-01-15",
            "ll144_data_source": "Historical data",
        },
        "<script>alert(1)</script>": {"owner": "<img src=x onerror=alert(2)>"},
    }
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    write_audit(
        root,
        make_audit(
            "credit-risk",
            "1.0.0",
            "a1",
            created_at="2026-10-01T09:00:00Z",
            ratio=0.78,
            verdict="inconclusive",
        ),
    )
    write_audit(root, make_audit("credit-risk", "1.1.0", "a2", created_at="2026-11-20T10:00:00Z", ratio=0.86))
    write_audit(
        root,
        make_audit(
            "hiring-screen",
            "2.0",
            "h1",
            sizes={"female": 140, "male": 150, "nonbinary": 6},
            rates={"female": 0.3, "male": 0.35, "nonbinary": 0.5},
        ),
    )
    write_audit(root, make_audit("<script>alert(1)</script>", "../../etc/passwd", "../../x"))
    workspace = find_workspace(root)
    build_site(workspace)
    return root
