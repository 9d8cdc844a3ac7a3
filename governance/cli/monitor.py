"""``governance monitor NAME@VERSION --data LOG --time-column ts --window 1M``: drift after go-live, window by window."""

from __future__ import annotations

from typing import Any

import click

from governance.cli._common import (
    actor_option,
    echo,
    passed_on,
    register_url_option,
    reports_errors,
    secho,
    workspace_option,
)
from governance.results.wording import short_estimate


def print_result(result: Any, *, show_windows: bool, recorded: bool) -> None:
    windows = result.windows
    provisional = sum(1 for w in windows if w.provisional)
    rows = sum(w.n_rows for w in windows)
    echo(
        f"{result.model}@{result.version}: {len(windows)} window(s) of {result.window} from {windows[0].start[:10]} to "
        f"{windows[-1].start[:10]}, {rows:,} rows, against audit {result.approved_audit} (policy {result.policy_name})."
    )
    if result.empty_windows:
        echo(f"  {len(result.empty_windows)} window(s) have no rows (first {result.empty_windows[0][:10]}).")
    if provisional:
        echo(f"  {provisional} window(s) are provisional: too few labels yet for error rates to be final.")
    runs = (
        f"or up to {result.sustained_run} windows in a row beyond their 60 % interval"
        if result.sustained_run <= len(windows)
        else "no sustained run can decide (too few windows for the approved audit's own uncertainty)"
    )
    echo(
        f"  False alarms are held to {result.false_alarm_rate:.0%} per run over {result.checks:,} checks "
        f"(Bonferroni); {runs}."
    )
    if show_windows:
        echo("")
        for w in windows:
            flag = " (provisional)" if w.provisional else ""
            parts = [
                f"{g.attribute}={g.group} {short_estimate(g.selection_rate)}"
                + (f" ratio {short_estimate(g.impact_ratio)}" if g.impact_ratio is not None else "")
                for g in w.groups
            ]
            echo(f"  {w.start[:10]}  n={w.n_rows:<6} {'; '.join(parts)}{flag}")
    for note in result.notes:
        secho(f"  Note: {note}", fg="yellow")
    echo("")
    if not result.alerts:
        secho("No alert: no window drifted beyond noise and the policy's tolerances.", fg="green")
        return
    secho(f"{len(result.alerts)} alert(s):", fg="red", bold=True)
    for alert in result.alerts:
        echo(f"  [{alert.rule_id}] {alert.message}")
    if any(a.reaudit for a in result.alerts) and recorded:
        secho("The version's next audit is due now (re-audit trigger recorded in the register).", fg="red")
    elif any(a.reaudit for a in result.alerts):
        secho("Run it without --no-record to record the alerts and make the next audit due now.", fg="yellow")


def print_history(runs: list[Any], label: str) -> None:
    if not runs:
        echo(f"{label} has no recorded monitoring runs.")
        return
    for run in runs:
        echo(
            f"{run.run_id}  {run.recorded_at[:10]}  {run.window}  {run.n_windows} windows from {run.first_window[:10]} "
            f"to {run.last_window[:10]}, {run.n_rows:,} rows, {run.n_alerts} alert(s)"
        )
        for message in run.alerts:
            echo(f"    {message}")


@click.command("monitor")
@click.argument("model_ref", metavar="NAME@VERSION")
@click.option("--data", "data_path", help="The decision log: CSV or Parquet, one row per decision.")
@click.option(
    "--time-column", help="The column with each decision's date and time (ISO 8601; UTC if no zone)."
)
@click.option(
    "--window",
    default="1M",
    show_default=True,
    help="Window length: 1D (days), 1W (weeks from Monday) or 1M (calendar months).",
)
@click.option(
    "--predictions", help="The column with the model's decisions (default: the one the approved audit used)."
)
@click.option(
    "--target",
    help="The column with the true outcome, empty while it has not arrived (default: the approved audit's target, if "
    "the log has it).",
)
@click.option("--since", help="Only decisions from this date on (inclusive), e.g. 2026-01-01.")
@click.option("--until", help="Only decisions before this date (exclusive).")
@click.option(
    "--no-record", is_flag=True, help="Do not record the run in the register (a look, not evidence)."
)
@click.option(
    "--windows", "show_windows", is_flag=True, help="Print every window's groups with their intervals."
)
@click.option(
    "--history", is_flag=True, help="List the version's recorded monitoring runs and alerts, and stop."
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole result as JSON.")
@workspace_option
@register_url_option
@actor_option
@reports_errors
def monitor_command(
    model_ref: str,
    data_path: str | None,
    time_column: str | None,
    window: str,
    predictions: str | None,
    target: str | None,
    since: str | None,
    until: str | None,
    no_record: bool,
    show_windows: bool,
    history: bool,
    as_json: bool,
    workspace_path: str | None,
    register_url: str | None,
    actor: str | None,
) -> None:
    """Monitor NAME@VERSION after go-live: cut its decision log into time windows and compare each window with the
    version's approved audit.

    Each window gets selection rates and impact ratios per group and, where labels have arrived, error rates, all
    with intervals. A window is provisional until the share of its rows with labels passes the policy's
    monitoring.min_label_coverage. Drift of the groups' shares and of the model's inputs (PSI), of fairness and of
    performance raises alerts by the policy's monitoring: rules; an alert can set the version's next audit date to
    now. The run is recorded in the register. Exits 0 without alerts, 1 with an alert, 2 on bad input.

    \b
    Examples:
      governance monitor credit-risk@1.1.0 --data decisions.parquet --time-column decided_at --window 1M
      governance monitor credit-risk@1.1.0 --data decisions.csv --time-column ts --window 1D --target repaid
      governance monitor credit-risk@1.1.0 --history
    """
    from governance.errors import InputError
    from governance.monitor import MonitorRequest, monitor
    from governance.workspace import require_workspace

    space = require_workspace(workspace_path)
    if history:
        _history(model_ref, space, register_url)
        return
    if not data_path or not time_column:
        missing = "--data" if not data_path else "--time-column"
        raise InputError(
            f"{missing} is needed: give the decision log with --data and its time column with --time-column."
        )
    request = MonitorRequest(
        reference=model_ref,
        data=data_path,
        record=not no_record,
        **passed_on("time_column", "window", "predictions", "target", "since", "until", "actor"),
    )
    outcome = monitor(request, workspace=space, register_url=register_url)
    if as_json:
        click.echo(outcome.result.model_dump_json(indent=2))
    else:
        print_result(outcome.result, show_windows=show_windows, recorded=not no_record)
    raise SystemExit(outcome.exit_code)


def _history(model_ref: str, space: Any, register_url: str | None) -> None:
    from governance.audit.options import parse_model_ref
    from governance.register import Register
    from governance.register.monitoring import monitoring_runs

    name, version = parse_model_ref(model_ref)
    with Register.for_workspace(space, register_url, create=False) as register:
        register.resolve_version(name, version)
        print_history(monitoring_runs(register, name, version), model_ref)
