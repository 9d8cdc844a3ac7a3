"""``governance init``: a thin command over :func:`governance.scaffold.init_workspace`."""

from __future__ import annotations

import click

from governance.cli._common import reports_errors


@click.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=str))
@click.option("--force", is_flag=True, help="Overwrite files you edited with the shipped versions.")
@click.option(
    "--organisation", help="Your organisation's name, used in governance.yaml, the site and the policies."
)
@reports_errors
def init_command(directory: str, force: bool, organisation: str | None) -> None:
    """Create a workspace in DIRECTORY (default: here): governance.yaml, policies/, audits/, docs/, mkdocs.yml.

    Safe to run again: files you edited are kept (use --force to replace them), unchanged ones are left alone.
    """
    from governance.scaffold import init_workspace

    report = init_workspace(directory, force=force, organisation=organisation)
    for label, paths in (("Created", report.created), ("Updated", report.updated)):
        for path in paths:
            click.echo(f"{label} {path}")
    for path in report.kept:
        click.echo(f"Kept {path} (you edited it; --force replaces it)")
    if not report.changed:
        click.echo(f"Nothing to change in {report.root}: the workspace is up to date.")
    else:
        click.echo(f"Workspace ready in {report.root}. Next: `governance site build` there.")
