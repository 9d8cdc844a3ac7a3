"""``governance checklist ...``: list the compliance checklist items, answer them per model, see the status.

Thin commands over :mod:`governance.checklists`; the register is opened only by ``answer`` and ``status``.
"""

from __future__ import annotations

from typing import Any

import click

from governance.cli._common import actor_option, echo, register_url_option, reports_errors, workspace_option


def _workspace(workspace_path: str | None, *, required: bool = True) -> Any:
    """The workspace; only ``list`` may fall back to the shipped checklists outside one."""
    from governance.workspace import find_workspace, require_workspace

    return require_workspace(workspace_path) if required else find_workspace(workspace_path)


def _open_register(workspace: Any, register_url: str | None) -> Any:
    from governance.register import Register

    return Register.for_workspace(workspace, register_url)


@click.group("checklist")
def checklist_group() -> None:
    """Compliance checklists: EU AI Act, NIST AI RMF, ISO/IEC 42001, NYC LL144, GDPR, EEOC.

    \b
    Each item is evidenced automatically (by the latest audit or the register) or needs a
    person's answer; items that need an answer are never ticked automatically.
      governance checklist list [--framework eu-ai-act]
      governance checklist answer credit-risk eu-ai-act.art14.oversight-design --status yes --evidence "..."
      governance checklist status credit-risk [--framework eu-ai-act]
    """


@checklist_group.command("list")
@click.option(
    "--framework", help="Only this framework (e.g. eu-ai-act, nist-ai-rmf, iso-42001, nyc-ll144, gdpr)."
)
@workspace_option
@reports_errors
def list_command(framework: str | None, workspace_path: str | None) -> None:
    """List the checklist items, and whether each is evidenced automatically or needs a person."""
    from governance.checklists import find_checklist
    from governance.checklists.sources import workspace_checklists
    from governance.checklists.text import items_text

    checklists = workspace_checklists(_workspace(workspace_path, required=False))
    if framework is not None:
        checklists = [find_checklist(checklists, framework)]
    echo(items_text(checklists), keep_newlines=True)


@checklist_group.command("answer")
@click.argument("name")
@click.argument("item_id")
@click.option(
    "--status",
    "answer_status",
    required=True,
    type=click.Choice(["yes", "no", "partial", "not_applicable"]),
    help="Is the duty met for this model? not_applicable needs a reason in --evidence.",
)
@click.option("--evidence", required=True, help="What shows it: a document, a link, a decision and its date.")
@actor_option
@workspace_option
@register_url_option
@reports_errors
def answer_command(
    name: str,
    item_id: str,
    answer_status: str,
    evidence: str,
    actor: str | None,
    workspace_path: str | None,
    register_url: str | None,
) -> None:
    """Record a person's answer to checklist item ITEM_ID for model NAME (kept in the register)."""
    from governance.checklists import find_item
    from governance.checklists.sources import workspace_checklists
    from governance.errors import InputError
    from governance.provenance import resolve_actor

    if not evidence.strip():
        raise InputError("--evidence is empty; say what shows the answer (a document, a link, a decision).")
    workspace = _workspace(workspace_path)
    item = find_item(workspace_checklists(workspace), item_id)
    who = resolve_actor(actor)
    with _open_register(workspace, register_url) as register:
        register.record_checklist_answer(
            name,
            framework=item.framework,
            item_id=item.id,
            status=answer_status,
            evidence=evidence,
            actor=who,
        )
    echo(f"Recorded for {name}: {item.id} ({item.title}) = {answer_status}, by {who}.")
    if item.evidence.automatic and answer_status in {"yes", "partial"}:
        echo(
            f"Note: this item is evidenced automatically by the {item.evidence.type}; an answer can mark it "
            "not met or not applicable, but only the evidence can mark it met.",
            err=True,
        )


@checklist_group.command("status")
@click.argument("name")
@click.option("--framework", help="Only this framework, listing every item with its state and why.")
@workspace_option
@register_url_option
@reports_errors
def status_command(
    name: str, framework: str | None, workspace_path: str | None, register_url: str | None
) -> None:
    """Show where model NAME stands: met, open, and items that need a person's answer."""
    from governance.checklists import find_checklist
    from governance.checklists.sources import status_from_register, workspace_checklists
    from governance.checklists.text import status_text

    workspace = _workspace(workspace_path)
    checklists = workspace_checklists(workspace)
    if framework is not None:
        checklists = [find_checklist(checklists, framework)]
    notes: list[str] = []
    with _open_register(workspace, register_url) as register:
        status = status_from_register(register, name, checklists, notes, card=workspace.model_card(name))
    for note in notes:
        echo(f"Warning: {note}", err=True)
    echo(status_text(status, framework=framework), keep_newlines=True)


@checklist_group.command("validate")
@workspace_option
@reports_errors
def validate_command(workspace_path: str | None) -> None:
    """Check the workspace's checklist files and policy templates (schema, ids, links); exit 2 on a problem."""
    from governance.checklists import validate_checklist_file
    from governance.checklists.sources import checklists_folder, templates_folder, workspace_checklists
    from governance.documents import load_policy_templates, unknown_item_references
    from governance.errors import PolicyError

    folder = checklists_folder(_workspace(workspace_path))
    problems = [str(p) for path in sorted(folder.glob("*.y*ml")) for p in validate_checklist_file(path)]
    for problem in problems:
        echo(problem, err=True)
    if problems:
        raise PolicyError(
            f"{len(problems)} problem(s) in the checklists in {folder}; fix them and run again."
        )
    workspace = _workspace(workspace_path)
    checklists = workspace_checklists(workspace)
    templates = load_policy_templates(templates_folder(workspace))
    known = {item.id for checklist in checklists for item in checklist.items}
    missing = unknown_item_references(templates, known)
    if missing:
        template_id, item_id = missing[0]
        raise PolicyError(
            f"Policy template {template_id} links checklist item {item_id!r}, which no checklist has; "
            "correct the id in its checklist_items."
        )
    items = sum(len(checklist.items) for checklist in checklists)
    echo(f"OK: {len(checklists)} checklists ({items} items) and {len(templates)} policy templates.")
