"""``governance policy``: check a policy file, list the presets, print the JSON Schema."""

from __future__ import annotations

import click

from governance.cli._common import echo, reports_errors, workspace_option


@click.group("policy")
def policy_group() -> None:
    """Policy files: the rules an audit is judged by (metric, comparison, bound, severity)."""


@policy_group.command("validate")
@click.argument("name_or_path")
@workspace_option
@reports_errors
def validate_command(name_or_path: str, workspace_path: str | None) -> None:
    """Check a policy file (or preset) and list its rules; exit 2 with the field and line of the first error."""
    from governance.rules.load import load_policy
    from governance.rules.schema import ExplainRule
    from governance.workspace import find_workspace

    loaded = load_policy(name_or_path, workspace_root=find_workspace(workspace_path).root)
    policy = loaded.policy
    echo(f"{loaded.path}: valid policy '{policy.name}' with {len(policy.rules)} rule(s).")
    for rule in policy.rules:
        if isinstance(rule, ExplainRule):
            detail = f"{rule.check}, k={rule.k}" + (
                f", threshold {rule.threshold}" if rule.threshold is not None else ""
            )
        else:
            detail = f"{rule.metric} {rule.comparison} {rule.bound}"
        echo(f"  {rule.id} [{rule.severity}]: {detail}")
    if policy.reporting_only or not any(rule.severity == "block" for rule in policy.rules):
        why = "is reporting only" if policy.reporting_only else "has no blocking rule"
        echo(f"It {why}, so it sets no pass mark: its audits end REPORTED (exit 0), never passed.")


@policy_group.command("list")
@workspace_option
def list_command(workspace_path: str | None) -> None:
    """List the policy presets (the workspace's own policies/presets/ first, then the shipped ones)."""
    from governance.rules.load import load_policy, preset_names
    from governance.workspace import find_workspace

    root = find_workspace(workspace_path).root
    for name in preset_names(root):
        echo(f"{name}: {load_policy(name, workspace_root=root).policy.description}")


@policy_group.command("schema")
@click.option("--audit", "audit_schema", is_flag=True, help="Print the schema of audit.json instead.")
def schema_command(audit_schema: bool) -> None:
    """Print the JSON Schema of policy files (for editors and CI checks)."""
    from governance.rules.load import policy_json_schema
    from governance.schemas import audit_json_schema

    click.echo(audit_json_schema() if audit_schema else policy_json_schema(), nl=False)
