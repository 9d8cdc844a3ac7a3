"""One source of status: `register show`, `status`, `checklist status` and the site say the same thing.

Seen before: the register page and the model card showed the newest version's state ("audited") while 1.0.0 was
the one deployed; the approvals table left out the risk-acceptance reason; the CLI and the site disagreed on due
dates; and two EU AI Act items were "met" in `checklist status` but open on the site, which read the register's
events from the wrong place of the export. This workspace has a model in every lifecycle state.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from governance.cli.main import cli
from governance.escaping import markup_text
from governance.provenance import set_clock
from governance.register import Register
from governance.register.describe import standing
from governance.register.overview import ModelOverview
from governance.scaffold import init_workspace
from governance.site import build_site
from governance.workspace import find_workspace
from tests.site.conftest import make_audit, write_audit

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ANA, CARL, RAVI = "ana@example.com", "carl@example.com", "ravi@example.com"


def _audit(
    register: Register,
    root: Path,
    name: str,
    version: str,
    audit_id: str,
    verdict: str,
    day: str,
    max_age: int,
) -> None:
    folder = write_audit(
        root, make_audit(name, version, audit_id, verdict=verdict, created_at=f"{day}T10:00:00Z")
    )
    set_clock(lambda: datetime.fromisoformat(f"{day}T10:00:00+00:00"))
    register.record_audit(
        name, version, audit_id=audit_id, audit_json_path=folder / "audit.json", verdict=verdict,
        policy_name="default", policy_sha256="ef" * 32, data_sha256="cd" * 32,
        artifact_sha256=register.resolve_version(name, version).sha256, tool_versions={}, actor=CARL,
        max_age_days=max_age,
    )  # fmt: skip


def _version(register: Register, root: Path, name: str, version: str) -> None:
    artefact = root / "models" / f"{name}-{version}.skops"
    artefact.parent.mkdir(exist_ok=True)
    artefact.write_bytes(f"model {name} {version}".encode())
    register.add_version(name, version, artifact_path=artefact, actor=ANA)


def _approve(register: Register, name: str, version: str, **extra: Any) -> None:
    register.approve(name, version, role="risk-officer", actor=RAVI, **extra)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("one-status") / "ws"
    init_workspace(root, organisation="Acme Lending")
    try:
        with Register.for_workspace(find_workspace(root)) as register:
            for name in ("alpha", "beta", "gamma", "delta", "epsilon"):
                set_clock(lambda: datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
                register.add_model(name, owner=ANA, purpose=f"Scores {name} applications", actor=ANA)
            # alpha: 1.0.0 deployed on a risk acceptance, 1.1.0 newer and only audited (inconclusive)
            _version(register, root, "alpha", "1.0.0")
            _audit(register, root, "alpha", "1.0.0", "a1", "inconclusive", "2026-02-01", 365)
            _approve(
                register, "alpha", "1.0.0", risk_acceptance="Small under-25 group; re-audit in three months"
            )
            register.deploy("alpha", "1.0.0", actor=ANA)
            _version(register, root, "alpha", "1.1.0")
            _audit(register, root, "alpha", "1.1.0", "a2", "inconclusive", "2026-11-01", 365)
            # beta: approved on a passing audit that expires soon, not deployed
            _version(register, root, "beta", "2.0")
            _audit(register, root, "beta", "2.0", "b1", "passed", "2026-01-10", 330)
            _approve(register, "beta", "2.0")
            # gamma: a draft
            _version(register, root, "gamma", "0.1")
            # delta: deployed, then suspended
            _version(register, root, "delta", "1")
            _audit(register, root, "delta", "1", "d1", "passed", "2026-03-01", 365)
            _approve(register, "delta", "1")
            register.deploy("delta", "1", actor=ANA)
            register.suspend("delta", "1", actor=ANA, reason="Complaint under review")
            # epsilon: v1 deployed, audit overdue; v0 retired
            _version(register, root, "epsilon", "0")
            register.retire("epsilon", "0", actor=ANA)
            _version(register, root, "epsilon", "1")
            _audit(register, root, "epsilon", "1", "e1", "failed", "2025-11-01", 365)
            _approve(register, "epsilon", "1", risk_acceptance="Vendor fix due in December")
            register.deploy("epsilon", "1", actor=ANA)
        set_clock(lambda: NOW)
        build_site(find_workspace(root), run_mkdocs=False)
    finally:
        set_clock(None)
    return root


@pytest.fixture(autouse=True)
def _clock() -> Any:
    set_clock(lambda: NOW)
    yield
    set_clock(None)


def _cli(root: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--workspace", str(root)])
    assert result.exit_code in (0, 1), result.output
    return result.output


def _overview(root: Path, name: str) -> ModelOverview:
    shown = json.loads(_cli(root, "register", "show", name, "--json"))
    return ModelOverview.model_validate(shown["overview"])


def _page(root: Path, relative: str) -> str:
    return (root / "docs" / "generated" / relative).read_text(encoding="utf-8")


MODELS = ("alpha", "beta", "gamma", "delta", "epsilon")


@pytest.mark.parametrize("name", MODELS)
def test_the_model_card_says_what_register_show_says(workspace: Path, name: str) -> None:
    view = _overview(workspace, name)
    text = _cli(workspace, "register", "show", name)
    card = _page(workspace, f"models/{name}.md")
    for sentence in standing(view):
        assert sentence in text, f"register show lacks: {sentence}"
        assert f"- {markup_text(sentence)}" in card, f"the model card lacks: {sentence}"


def test_the_deployed_version_comes_first_not_the_newest(workspace: Path) -> None:
    view = _overview(workspace, "alpha")
    assert [v.version for v in view.deployed] == ["1.0.0"] and view.newest is not None
    assert view.newest.version == "1.1.0" and view.newest.state == "audited"
    row = next(line for line in _page(workspace, "index.md").splitlines() if line.startswith("| [alpha]"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1].startswith("**1&#46;0&#46;0**, since"), cells[1]
    assert "risk accepted: Small under" in cells[2] and "three months" in cells[2]
    assert "a1/index.md" in cells[3] and "1&#46;1&#46;0 (audited)" in cells[4]
    card = _page(workspace, "models/alpha.md")
    assert "**Version described on this card:** 1&#46;0&#46;0" in card
    assert f"| {markup_text('Small under-25 group; re-audit in three months')} |" in card


@pytest.mark.parametrize("name", MODELS)
def test_due_dates_agree(workspace: Path, name: str) -> None:
    view = _overview(workspace, name)
    listed = {row["name"]: row for row in json.loads(_cli(workspace, "register", "list", "--json"))}
    due = view.next_audit_due[:10] if view.next_audit_due else None
    assert (listed[name]["next_audit_due"] or "")[:10] == (due or "")
    row = next(line for line in _page(workspace, "index.md").splitlines() if line.startswith(f"| [{name}]"))
    assert row.rstrip(" |").endswith(markup_text(due) if due else markup_text("—")), row


def test_what_needs_attention_is_what_status_says(workspace: Path) -> None:
    status = json.loads(_cli(workspace, "status", "--json"))
    categories = {(item["model_name"], item["category"]) for item in status["items"]}
    assert ("epsilon", "overdue") in categories and ("beta", "expiring") in categories
    page = _page(workspace, "index.md")
    attention = page[page.index("## Needs attention") : page.index("## Models")]
    for item in status["items"]:
        assert markup_text(item["message"]) in attention, item["message"]
    assert "Latest audit failed" in attention and "[epsilon]" in attention


def test_the_home_page_says_what_is_live_as_the_register_page_does(workspace: Path) -> None:
    """A newcomer reads on the home page alone which version of which model is live, on what approval and evidence:
    the home page had only "Needs attention" (a live model with nothing to attend to was not named there)."""
    home = build_site(find_workspace(workspace), run_mkdocs=False).attention
    assert "## Needs attention" in home and "## What is live" in home, home
    live = home[home.index("## What is live") :].splitlines()
    register = _page(workspace, "index.md").splitlines()
    for name in MODELS:
        row = next(line for line in live if line.startswith(f"| [{name}]"))
        expected = next(line for line in register if line.startswith(f"| [{name}]"))
        assert row == expected.replace("](", "](generated/"), (row, expected)
    alpha = next(line for line in live if line.startswith("| [alpha]"))
    assert f"**{markup_text('1.0.0')}**" in alpha, alpha  # the live version, not the newest
    assert markup_text("Small under-25 group; re-audit") in alpha, alpha  # its risk acceptance


@pytest.mark.parametrize("name", MODELS)
def test_checklist_status_agrees_item_by_item(workspace: Path, name: str) -> None:
    from governance.checklists.sources import status_from_register, workspace_checklists
    from governance.site.checklist_pages import model_status
    from governance.site.sources import collect

    ws = find_workspace(workspace)
    checklists = workspace_checklists(ws)
    with Register.for_workspace(ws) as register:
        cli_side = status_from_register(register, name, checklists, card=ws.model_card(name))
    site_side = model_status(collect(ws).models[name], checklists, [])
    assert site_side is not None
    cli_items = {(i.framework, i.item_id): (i.state, i.reason) for f in cli_side.frameworks for i in f.items}
    site_items = {
        (i.framework, i.item_id): (i.state, i.reason) for f in site_side.frameworks for i in f.items
    }
    assert site_items == cli_items
    assert not any("no events" in reason for _state, reason in site_items.values())
    text = _cli(workspace, "checklist", "status", name)
    for framework in cli_side.frameworks:
        assert framework.framework in text
