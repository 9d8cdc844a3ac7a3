"""``governance demo``: the whole job on the bundled German credit data."""

from __future__ import annotations

import click

from governance.cli._common import reports_errors, workspace_option


@click.command("demo")
@workspace_option
@click.option("--no-site", is_flag=True, help="Skip building the site.")
@click.option(
    "--explain-budget", type=float, default=30.0, show_default=True, help="Seconds per explanation."
)
@click.option(
    "--mitigate/--no-mitigate",
    default=True,
    show_default=True,
    help="At the end, build mitigated candidates of the failing 1.0.0, compare them, and approve the best one on "
    "a recorded risk acceptance (about half a minute; --no-mitigate leaves them out).",
)
@reports_errors
def demo_command(workspace_path: str | None, no_site: bool, explain_budget: float, mitigate: bool) -> None:
    """Train, register, audit, approve and publish the demo credit model (German credit data).

    Outside a workspace it runs `governance init` in the current folder (or --workspace) first. Resets the
    workspace's demo register and the credit-risk audits first. Version 1.0.0 uses the applicant's
    sex and is flagged; version 1.1.0 does not, passes, and is approved by a second person. A simulated year of its
    daily decisions, in which women's approvals drift from month 8, is then monitored and raises alerts. Last,
    mitigated candidates of 1.0.0 are built, audited and compared, and the best one is approved with the choice
    on record.
    """
    from governance.demo import demo_workspace, run_demo

    space, initialised = demo_workspace(workspace_path)
    if initialised:
        click.echo(f"No workspace here yet: ran `governance init` in {space.root} first.")
    report = run_demo(
        space, build_site=not no_site, explain_budget=explain_budget, echo=click.echo, mitigate=mitigate
    )
    click.echo("")
    for step in report.steps:
        click.echo(f"- {step}")
    click.echo("")
    for reference, verdict in report.verdicts.items():
        folder = report.audit_folders.get(reference)
        click.echo(
            f"{reference}: {verdict.upper()} (exit code {report.exit_codes[reference]}); report: {folder / 'report.md' if folder else 'not written'}"
        )
    if report.site_dir is not None:
        click.echo(f"\nOpen the site: {report.site_dir / 'index.html'}  (or run `governance site serve`)")
