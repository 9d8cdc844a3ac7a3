"""``governance status``: what in the register needs attention, with ``--fail-on`` for CI."""

from __future__ import annotations

import json

import click

from governance.cli._common import echo, register_url_option, reports_errors, workspace_option

CATEGORIES = ("overdue", "expiring", "unapproved", "alerts", "changed", "unrecorded")
_HEADINGS = {
    "overdue": "Overdue audits",
    "expiring": "Audits expiring soon",
    "unapproved": "Deployed without approval",
    "alerts": "Open monitoring alerts",
    "changed": "Files missing or changed",
    "unrecorded": "Audit folders the register does not know (orphans)",
}


def _parse_fail_on(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> frozenset[str]:
    chosen = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(chosen - set(CATEGORIES))
    if unknown:
        raise click.BadParameter(f"{', '.join(unknown)} is not one of {', '.join(CATEGORIES)}.")
    return frozenset(chosen)


@click.command("status")
@click.option(
    "--within-days",
    type=click.IntRange(min=0, max=36_500),
    default=30,
    show_default=True,
    help="Report audits that expire within this many days.",
)
@click.option(
    "--fail-on",
    multiple=True,
    callback=_parse_fail_on,
    metavar="LIST",
    help="Exit 1 if anything is found in these categories (comma-separated): "
    "overdue, unapproved, alerts, changed, expiring, unrecorded.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@workspace_option
@register_url_option
@reports_errors
def status_command(
    within_days: int,
    fail_on: frozenset[str],
    as_json: bool,
    workspace_path: str | None,
    register_url: str | None,
) -> None:
    """Show audits overdue or expiring, versions deployed without approval, open monitoring alerts, audit or model files changed, and
    audit folders the register does not know (left by an audit that stopped before it was recorded)."""
    from governance.cli.register import missing_register, open_register
    from governance.provenance import isoformat, now
    from governance.register.records import StatusReport

    if missing_register(workspace_path, register_url):
        report = StatusReport(generated_at=isoformat(now()), within_days=within_days, items=[])
    else:
        with open_register(workspace_path, register_url, create=False) as register:
            report = register.status(within_days=within_days)
    if as_json:
        said = [item.as_said() for item in report.items]
        # the steps as commands, as the lines below say them
        shown = report.model_copy(update={"items": said})
        click.echo(json.dumps(shown.model_dump(mode="json"), indent=2, sort_keys=True))
    elif not report.items:
        echo(
            f"Nothing needs attention: no audit is overdue or expires within {within_days} days, every "
            "deployed version is approved, no monitoring alert is open, every recorded file is unchanged, and every "
            "audit folder is recorded."
        )
    else:
        for category in CATEGORIES:
            items = [item for item in report.items if item.category == category]
            if items:
                echo(f"{_HEADINGS[category]} ({len(items)}):")
                for item in items:
                    echo(f"  - {item.worded}")
    failing = report.failing(fail_on)
    if failing:
        if not as_json:
            echo(f"Failing because of: {', '.join(failing)} (--fail-on).", err=True)
        raise SystemExit(1)
