"""Policy templates: variables from governance.yaml, defaults, escaping, strictness and the sandbox."""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import Path

import markdown
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.documents import (
    DEFAULTS,
    load_policy_templates,
    parse_policy_template,
    policy_context,
    policy_metadata,
    render_policy,
)
from governance.errors import PolicyError
from governance.escaping import markdown_text
from governance.paths import bundled_policies
from governance.workspace import Workspace

HOSTILE = "<script>alert(1)</script>"
TEMPLATE = """\
---
id: demo
title: Demo policy
owner: risk_officer
version: "2.1"
review_interval_months: 6
checklist_items: [eu-ai-act.art9.risk-process]
---
## 1. Purpose

{{ organisation.name }} asks {{ contacts.risk_officer.contact }} to review by {{ policy.review_date }}.
"""

CONFIG = {
    "organisation": {
        "name": "Example Lending Ltd",
        "contacts": {
            "risk_officer": {"name": "Ben Okafor", "email": "ben@example.com"},
            "dpo": "Chloe Martin",
        },
    },
    "policies": {"effective_date": date(2027, 1, 31), "approved_by": "the board"},
}


def to_html(text: str) -> str:
    body = text.split("\n---\n", 1)[1] if text.startswith("---\n") else text
    return markdown.markdown(body, extensions=["tables", "attr_list", "md_in_html"])


def test_values_come_from_the_config_and_dates_are_computed() -> None:
    page = to_html(render_policy(TEMPLATE, CONFIG))
    assert "<p>Example Lending Ltd asks Ben Okafor (ben@example.com) to review by 2027-07-31.</p>" in page
    assert "<td>Policy owner</td>\n<td>Risk officer: Ben Okafor (ben@example.com)</td>" in page
    assert "<td>Effective date</td>\n<td>2027-01-31</td>" in page
    assert "<td>Next review</td>\n<td>2027-07-31 (every 6 months)</td>" in page
    assert "<td>Approved by</td>\n<td>the board</td>" in page


def test_month_arithmetic_clamps_to_the_end_of_the_month() -> None:
    config = {"policies": {"effective_date": "2027-08-31", "review_interval_months": 6}}
    assert "review by 2028-02-29." in render_policy(TEMPLATE, config)


def test_per_policy_owner_and_review_date_override() -> None:
    config = {"policies": {"owners": {"demo": "Dana Lee"}, "review_dates": {"demo": "2027-03-01"}}}
    page = to_html(render_policy(TEMPLATE, config))
    assert "<td>Risk officer: Dana Lee</td>" in page
    assert "review by 2027-03-01." in page


def test_a_fresh_workspace_renders_with_the_defaults() -> None:
    text = render_policy(TEMPLATE, {})
    assert "Your organisation asks not yet named to review by 6 months after the effective date." in text
    assert DEFAULTS["organisation"]["name"] == "Your organisation"


def test_a_workspace_object_is_accepted() -> None:
    workspace = Workspace(root=Path("."), config=CONFIG)
    assert render_policy(TEMPLATE, workspace) == render_policy(TEMPLATE, CONFIG)


def test_front_matter_holds_plain_metadata_for_indexes() -> None:
    text = render_policy(TEMPLATE, CONFIG)
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta == policy_metadata(parse_policy_template(TEMPLATE), CONFIG)
    assert meta["owner"] == "Risk officer: Ben Okafor (ben@example.com)"
    assert meta["review_date"] == "2027-07-31"
    assert meta["checklist_items"] == ["eu-ai-act.art9.risk-process"]


def test_checklist_items_are_linked_when_a_link_function_is_given() -> None:
    text = render_policy(TEMPLATE, {}, item_link=lambda item: f"../checklists/eu.md#{item.replace('.', '-')}")
    assert "[`eu-ai-act.art9.risk-process`](../checklists/eu.md#eu-ai-act-art9-risk-process)" in text
    assert "| Checklist items it answers | `eu-ai-act.art9.risk-process` |" in render_policy(TEMPLATE, {})


@pytest.mark.parametrize(
    "path", sorted((bundled_policies() / "templates").glob("*.md")), ids=lambda p: p.name
)
def test_hostile_values_come_out_escaped_in_every_template(path: Path) -> None:
    hostile = {
        "organisation": {
            "name": HOSTILE,
            "contacts": {
                role: {"name": HOSTILE, "email": "x@y.z<img src=x onerror=alert(1)>"}
                for role in DEFAULTS["organisation"]["contacts"]
            },
        },
        "policies": {
            "effective_date": "{{ 7*7 }}",
            "approved_by": "[click](javascript:alert(1))",
            "owners": {path.stem: "| a | b |"},
        },
    }
    text = render_policy(path, hostile)
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text
    page = to_html(text)
    assert "<script" not in page and "<img" not in page and 'href="javascript' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text, not run
    assert "{{ 7*7 }}" in page and "49" not in re.sub(r"\d{3,}", "", page).split("{{ 7*7 }}")[0][-5:]


def test_an_unknown_variable_is_an_error_not_a_blank() -> None:
    with pytest.raises(PolicyError, match=r"unknown variable .*nmae.*policies page"):
        render_policy(TEMPLATE.replace("organisation.name", "organisation.nmae"), {})


def test_a_template_syntax_error_names_the_line() -> None:
    with pytest.raises(PolicyError, match="template error at body line 3"):
        render_policy(TEMPLATE.replace("{{ policy.review_date }}", "{{ policy.review_date "), {})


def test_the_sandbox_refuses_python_internals() -> None:
    sneaky = TEMPLATE.replace("{{ organisation.name }}", "{{ organisation.__class__.__mro__ }}")
    with pytest.raises(PolicyError, match="Python internals"):
        render_policy(sneaky, {})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("owner: risk_officer", "owner: ceo"), "owner 'ceo' is not one of"),
        (lambda t: t.replace("review_interval_months: 6\n", ""), "lacks review_interval_months"),
        (lambda t: t.replace("version:", "colour: red\nversion:"), "unknown front-matter key"),
        (lambda t: t.replace("review_interval_months: 6", "review_interval_months: 0"), "1 or more"),
        (lambda t: t.split("---\n", 2)[2], "has no front matter"),
    ],
)
def test_bad_front_matter_is_one_clear_sentence(change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PolicyError, match=message):
        parse_policy_template(change(TEMPLATE))


def test_duplicate_template_ids_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(TEMPLATE, encoding="utf-8")
    (tmp_path / "b.md").write_text(TEMPLATE, encoding="utf-8")
    with pytest.raises(PolicyError, match="share the id 'demo'"):
        load_policy_templates(tmp_path)


def test_a_bad_contacts_setting_is_reported() -> None:
    with pytest.raises(PolicyError, match=r"organisation\.contacts"):
        render_policy(TEMPLATE, {"organisation": {"contacts": ["Ben"]}})


# Text that Markdown could read as syntax: escaping must make it come out exactly as typed.
_TRICKY = st.text(alphabet=st.sampled_from(list("ab1. <>&\"'`*_{}[]()#+-!|\\~=:/")), max_size=40)


@settings(max_examples=300, deadline=None)
@given(_TRICKY)
def test_escaped_text_renders_as_exactly_the_text(value: str) -> None:
    page = markdown.markdown("Name: " + markdown_text(value), extensions=["tables", "attr_list"])
    assert page.startswith("<p>") and page.endswith("</p>")
    inner = page[3:-4]
    assert "<" not in inner  # no tag of any kind: only text and entities
    assert (
        html.unescape(inner).rstrip() == ("Name: " + " ".join(value.split())).rstrip()
    )  # runs of spaces collapse


def test_the_flat_contact_keys_written_by_init_are_read() -> None:
    config = {
        "organisation": {
            "name": "Acme",
            "ai_lead": "Ana Silva",
            "risk_officer": "Ravi Patel",
            "data_protection_officer": "Dana Okafor",
            "contact_email": "ai@acme.example",
            "contacts": {"risk_officer": {"name": "Ben Okafor"}},
        }
    }
    context = policy_context(parse_policy_template(TEMPLATE), config)["contacts"]
    assert context["ai_governance_lead"]["contact"] == "Ana Silva"
    assert context["risk_officer"]["contact"] == "Ben Okafor"  # the contacts mapping wins
    assert context["dpo"]["contact"] == "Dana Okafor"
    assert context["incident_contact"]["email"] == "ai@acme.example"
