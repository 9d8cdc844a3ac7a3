"""``governance audit diff A B``: what changed between two audits, with an interval for each change."""

from __future__ import annotations

from typing import Any

import click

from governance.cli._common import (
    echo,
    register_url_option,
    reports_errors,
    secho,
    seed_option,
    workspace_option,
)
from governance.results.wording import short_estimate

_QUANTITY_WORDS = {
    "value": "",
    "impact_ratio": "impact ratio",
    "ratio_to_reference": "ratio to reference",
    "difference_to_reference": "difference to reference",
}
_MOVE_STYLE = {"worse": "red", "better": "green", "new": "yellow", "gone": "yellow", "same": None}


class AuditWithDiff(click.Command):
    """``governance audit`` that hands ``governance audit diff ...`` to :data:`diff_command`."""

    @property
    def extra_commands(self) -> dict[str, click.Command]:
        """Commands reached through this one (listed in the CLI reference)."""
        return {"diff": diff_command}

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args[:1] == ["diff"]:
            ctx.meta["governance.diff_args"] = args[1:]
            return []
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        rest = ctx.meta.pop("governance.diff_args", None)
        if rest is None:
            return super().invoke(ctx)
        with diff_command.make_context("diff", list(rest), parent=ctx) as sub:
            return diff_command.invoke(sub)


def print_diff(diff: Any, *, show_all: bool) -> None:
    """Rules, called-out changes, groups added or lost, then the numbers that moved beyond noise."""
    b, a = diff.before, diff.after
    echo(f"Before: {b.audit_id} ({b.model}@{b.version}, {b.created_at[:10]}, {b.verdict}, {b.n_rows} rows)")
    echo(f"After:  {a.audit_id} ({a.model}@{a.version}, {a.created_at[:10]}, {a.verdict}, {a.n_rows} rows)")
    for note in diff.called_out:
        secho(f"  Changed: {note}", fg="yellow")
    for group in diff.groups_added:
        echo(f"  Group only in the newer audit: {group}")
    for group in diff.groups_lost:
        echo(f"  Group only in the older audit: {group}")
    if diff.rules:
        echo("")
        echo("Rules:")
        width = max(len(r.rule_id) for r in diff.rules)
        for rule in diff.rules:
            echo(
                f"  {rule.rule_id:<{width}}  {rule.severity:<5}  {rule.before or '-':>12} -> {rule.after or '-':<12}  ",
                nl=False,
            )
            secho(rule.movement, fg=_MOVE_STYLE[rule.movement])
    shown = [m for m in diff.metrics if show_all or m.beyond_noise or m.worsened]
    level = round(diff.confidence_level * 100)
    echo("")
    if not shown:
        echo(f"No group's number changed beyond noise ({level} % intervals of the change include 0).")
    else:
        echo(
            f"{'Every number' if show_all else 'Numbers that changed beyond noise'} (before -> after, change with its {level} % interval):"
        )
        for m in shown:
            what = " ".join(p for p in (m.metric, _QUANTITY_WORDS[m.quantity]) if p)
            flag = "  <- worse" if m.worsened else ""
            echo(
                f"  {m.attribute} = {m.group}: {what}: {short_estimate(m.before)} -> {short_estimate(m.after)}, "
                f"change {short_estimate(m.change)}{flag}"
            )
    for sentence in diff.worse:
        secho(f"Worse: {sentence}", fg="red")


def _parse_fail_on(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None and value != "worse":
        raise click.BadParameter(f"{value} is not a choice; use --fail-on worse.")
    return value


@click.command("diff")
@click.argument("first", metavar="A")
@click.argument("second", metavar="B")
@click.option(
    "--fail-on",
    callback=_parse_fail_on,
    metavar="worse",
    help="Exit 1 when a blocking rule moved from pass to fail or inconclusive, or a ruled metric got worse by "
    "more than the tolerance over the whole interval of its change.",
)
@click.option(
    "--tolerance",
    type=float,
    help="How much worse a ruled metric may get before --fail-on worse fails (default: the newer audit's "
    "policy, monitoring.diff_tolerance, else 0.05).",
)
@click.option(
    "--all", "show_all", is_flag=True, help="Print every number, not only those that changed beyond noise."
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@seed_option("Seed of the resampled change intervals.")
@workspace_option
@register_url_option
@reports_errors
def diff_command(
    first: str,
    second: str,
    fail_on: str | None,
    tolerance: float | None,
    show_all: bool,
    as_json: bool,
    seed: int,
    workspace_path: str | None,
    register_url: str | None,
) -> None:
    """Compare audit A (before) with audit B (after): every group's metrics, ratios and rule outcomes side by
    side, with an interval for each change from both audits' counts resampled together.

    A and B are audit ids, NAME@VERSION (that version's newest audit) or paths to audit.json files. Groups added
    or lost and changes of policy, data or attributes are called out first.

    \b
    Examples:
      governance audit diff credit-risk@1.0.0 credit-risk@1.1.0
      governance audit diff 20261102T092100Z-f4f9fb8a 20261115T101500Z-0c1d2e3f --json
      governance audit diff credit-risk@1.0.0 credit-risk@1.1.0 --fail-on worse
    """
    from governance.compare import diff_audits
    from governance.workspace import find_workspace

    diff = diff_audits(
        first,
        second,
        workspace=find_workspace(workspace_path),
        register_url=register_url,
        tolerance=tolerance,
        seed=seed,
    )
    if as_json:
        click.echo(diff.model_dump_json(indent=2))
    else:
        print_diff(diff, show_all=show_all)
    if fail_on == "worse" and diff.worse:
        if not as_json:
            echo("Failing because the newer audit is worse (--fail-on worse).", err=True)
        raise SystemExit(1)
