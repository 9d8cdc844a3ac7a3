"""The shipped checklists and templates: valid, unique, linked, and naming evidence that really exists."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from governance.checklists import (
    Checklist,
    validate_checklist_file,
)
from governance.checklists.loading import checklist_schema
from governance.documents import load_policy_templates, render_policy, unknown_item_references
from governance.paths import bundled_policies
from governance.results.audit import AuditResult

CHECKLIST_FILES = sorted((bundled_policies() / "checklists").glob("*.yaml"))
TEMPLATE_FILES = sorted((bundled_policies() / "templates").glob("*.md"))


def test_the_schema_is_a_valid_json_schema() -> None:
    Draft202012Validator.check_schema(checklist_schema())


@pytest.mark.parametrize("path", CHECKLIST_FILES, ids=lambda p: p.name)
def test_every_checklist_file_validates(path: Path) -> None:
    assert validate_checklist_file(path) == []


def test_the_six_frameworks_are_shipped(shipped_checklists: list[Checklist]) -> None:
    assert [c.framework for c in shipped_checklists] == [
        "eeoc-four-fifths",
        "eu-ai-act",
        "gdpr",
        "iso-42001",
        "nist-ai-rmf",
        "nyc-ll144",
    ]


def test_item_ids_are_unique_across_all_files(shipped_checklists: list[Checklist]) -> None:
    ids = [item.id for c in shipped_checklists for item in c.items]
    assert len(ids) == len(set(ids))
    assert all(item.id.startswith(c.framework + ".") for c in shipped_checklists for item in c.items)


def _sources(checklists: list[Checklist], framework: str) -> str:
    checklist = next(c for c in checklists if c.framework == framework)
    return " ".join(item.source for item in checklist.items)


@pytest.mark.parametrize(
    ("framework", "required"),
    [
        (
            "eu-ai-act",
            [
                "Art 9",
                "Art 10",
                "Art 11",
                "Art 12",
                "Art 13",
                "Art 14",
                "Art 15",
                "Art 17",
                "Art 26",
                "Art 27",
                "Art 72",
                "Art 73",
                "Annex IV",
            ],
        ),
        ("gdpr", ["Art 5", "Art 9", "Arts 13(2)(f)", "Art 15", "Art 22", "Art 25", "Art 35"]),
        ("nyc-ll144", ["5-300", "5-301", "5-302", "5-303", "5-304"]),
        ("nist-ai-rmf", ["GOVERN", "MAP", "MEASURE", "MANAGE"]),
        ("eeoc-four-fifths", ["1607.4(D)"]),
    ],
)
def test_every_required_source_is_covered(
    shipped_checklists: list[Checklist], framework: str, required: list[str]
) -> None:
    sources = _sources(shipped_checklists, framework)
    assert [source for source in required if source not in sources] == []


def test_iso_42001_has_all_38_annex_a_controls(shipped_checklists: list[Checklist]) -> None:
    iso = next(c for c in shipped_checklists if c.framework == "iso-42001")
    controls = {re.search(r"A\.\d+(\.\d+)+", item.source).group(0) for item in iso.items}  # type: ignore[union-attr]
    assert len(controls) == 38


def test_the_never_auto_tick_duties_are_human_items(shipped_checklists: list[Checklist]) -> None:
    """compliance.md section 10: scope, independence, legal basis, residual risk, notices, FRIA/DPIA..."""
    items = {item.id: item for c in shipped_checklists for item in c.items}
    for item_id in [
        "nyc-ll144.aedt-determination",
        "nyc-ll144.independent-auditor",
        "eu-ai-act.art10.sensitive-data",
        "eu-ai-act.art9.residual-risk",
        "eu-ai-act.art14.oversight-design",
        "nyc-ll144.candidate-notice",
        "eu-ai-act.art26.worker-notice",
        "eu-ai-act.art73.classification",
        "eu-ai-act.art27.fria",
        "gdpr.art35.dpia",
        "gdpr.art22.exception",
        "eu-ai-act.annex-iv.metric-choice",
    ]:
        assert items[item_id].evidence.type == "human", item_id


def _schema_has_path(schema: dict[str, Any], definitions: dict[str, Any], path: str) -> bool:
    """Whether ``path`` (``a[].b``) can exist in a document of this JSON Schema."""

    def resolve(node: dict[str, Any]) -> list[dict[str, Any]]:
        if "$ref" in node:
            return resolve(definitions[node["$ref"].split("/")[-1]])
        if "anyOf" in node:
            return [leaf for option in node["anyOf"] for leaf in resolve(option)]
        return [node]

    nodes = resolve(schema)
    for part in path.split("."):
        each = part.endswith("[]")
        key = part.removesuffix("[]")
        following = []
        for node in nodes:
            if key in node.get("properties", {}):
                for child in resolve(node["properties"][key]):
                    if each and child.get("type") == "array":
                        following += resolve(child["items"])
                    elif not each:
                        following.append(child)
        if not following:
            return False
        nodes = following
    return True


def test_every_audit_field_named_exists_in_the_audit_json_schema(shipped_checklists: list[Checklist]) -> None:
    schema = AuditResult.model_json_schema()
    definitions = schema.get("$defs", {})
    wrong = [
        (item.id, path)
        for c in shipped_checklists
        for item in c.items
        if item.evidence.type == "audit"
        for path in item.evidence.fields
        if not _schema_has_path(schema, definitions, path)
    ]
    assert wrong == []


def test_every_register_field_named_is_a_register_field(shipped_checklists: list[Checklist]) -> None:
    from governance.register.records import ModelDetail, ModelRecord

    known = set(ModelDetail.model_fields) | set(ModelRecord.model_fields)
    wrong = [
        (item.id, path)
        for c in shipped_checklists
        for item in c.items
        if item.evidence.type == "register"
        for path in item.evidence.fields
        if path.split(".")[0].removesuffix("[]") not in known
    ]
    assert wrong == []


def test_the_path_checker_rejects_a_typo() -> None:
    schema = AuditResult.model_json_schema()
    assert _schema_has_path(schema, schema["$defs"], "fairness.attributes[].ll144.unknown_count")
    assert not _schema_has_path(schema, schema["$defs"], "fairness.attributes[].ll145")
    assert not _schema_has_path(schema, schema["$defs"], "fairness.attributes.ll144")


def test_there_are_eleven_policy_templates() -> None:
    ids = {t.id for t in load_policy_templates(bundled_policies() / "templates")}
    assert ids == {
        "ai-use-and-ethics",
        "fairness-and-non-discrimination",
        "transparency-and-explainability",
        "human-oversight",
        "data-governance-quality-and-privacy",
        "model-risk-management-and-lifecycle",
        "ai-incident-response",
        "third-party-and-vendor-ai",
        "ai-literacy-and-training",
        "change-management-and-user-adoption",
        "monitoring-and-performance-evaluation",
    }


def test_every_checklist_item_a_template_names_exists(shipped_checklists: list[Checklist]) -> None:
    templates = load_policy_templates(bundled_policies() / "templates")
    known = {item.id for c in shipped_checklists for item in c.items}
    assert unknown_item_references(templates, known) == []
    assert all(t.checklist_items for t in templates)


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.name)
def test_every_template_renders_with_the_defaults_into_a_complete_policy(path: Path) -> None:
    text = render_policy(path, {})
    body = text.split("\n---\n", 1)[1]
    for section in ("Purpose", "Scope", "Roles", "Records", "Review"):
        assert re.search(rf"^## \d+\. {section}", body, re.MULTILINE), section
    assert "{{" not in body and "{%" not in body
    assert "Your organisation" in body
    assert len(body.split()) > 350  # a real policy, not a placeholder


def test_the_incident_policy_states_the_art_73_deadlines() -> None:
    text = render_policy(bundled_policies() / "templates" / "ai-incident-response.md", {})
    assert "**15 days**" in text and "**10 days**" in text and "**2 days**" in text


def test_every_policy_rule_a_checklist_names_is_in_a_shipped_preset(
    shipped_checklists: list[Checklist],
) -> None:
    import yaml

    known: set[str] = set()
    for preset in (bundled_policies() / "presets").glob("*.yaml"):
        for rule in yaml.safe_load(preset.read_text(encoding="utf-8")).get("rules", []):
            known |= {str(rule.get("id")), str(rule.get("metric"))}
    named = {rule for c in shipped_checklists for item in c.items for rule in item.evidence.rules}
    assert named and named - known == set()
