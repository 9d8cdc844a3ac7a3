"""``governance mitigate``: when an audit fails, build candidate versions with fairlearn and compare them."""

from __future__ import annotations

import shlex
import sys

import click

from governance.cli._common import (
    actor_option,
    echo,
    n_boot_option,
    no_explain_option,
    register_url_option,
    reports_errors,
    seconds_option,
    seed_option,
    workspace_option,
)

METHOD_HELP = (
    "threshold: a cutoff per group on the model's score (uses the sensitive attribute at decision time; unlawful "
    "for many decisions); exponentiated-gradient or grid-search: the model refitted with a fairness constraint "
    "(needs a model that takes sample weights); drop-sensitive: refitted without the sensitive inputs and their "
    "likely proxies. Repeat for several."
)


@click.command("mitigate")
@click.argument("model_ref", metavar="NAME@VERSION")
@click.option(
    "--data", "data_path", required=True, help="Training data (CSV or Parquet) the candidates are fitted on."
)
@click.option("--holdout", required=True, help="Data every candidate is audited on (CSV or Parquet).")
@click.option(
    "--method",
    "methods",
    multiple=True,
    type=click.Choice(["threshold", "exponentiated-gradient", "grid-search", "drop-sensitive"]),
    help=METHOD_HELP,
)
@click.option(
    "--constraint",
    type=click.Choice(
        ["demographic_parity", "equalized_odds", "true_positive_rate_parity", "false_positive_rate_parity"]
    ),
    help="fairlearn's constraint (default: the one nearest the policy's first blocking rule; four-fifths: "
    "demographic_parity).",
)
@click.option(
    "--attribute", help="The sensitive attribute the constraint protects (default: the first audited)."
)
@click.option("--target", help="The outcome column (default: the latest audit's).")
@click.option("--sensitive", multiple=True, help="Sensitive columns (default: the latest audit's).")
@seed_option("Seed of the randomised candidates.")
@seconds_option(
    "--budget",
    default=600.0,
    help_text="Seconds after which no further method is started (the first always runs; each runs to its end).",
)
@no_explain_option("Audit the candidates without the explanation (faster).")
@n_boot_option("Bootstrap resamples of the candidates' audits (default: the policy's).")
@register_url_option
@actor_option
@workspace_option
@reports_errors
def mitigate_command(
    model_ref: str,
    data_path: str,
    holdout: str,
    methods: tuple[str, ...],
    constraint: str | None,
    attribute: str | None,
    target: str | None,
    sensitive: tuple[str, ...],
    seed: int,
    budget: float,
    no_explain: bool,
    n_boot: int | None,
    register_url: str | None,
    actor: str | None,
    workspace_path: str | None,
) -> None:
    """Build mitigated candidate versions of NAME@VERSION, register and audit them, and compare them.

    Each candidate is saved with skops, registered as VERSION-METHOD with its lineage (mitigated from, method,
    constraint, parameters, seed) and audited on --holdout with the version's audit specification. Ends with a
    comparison (audits/NAME/VERSION/mitigation-*/comparison.md). Approve the chosen candidate with
    `governance register approve`. Exit 0 when a candidate passes, 3 when the best is inconclusive, 1 when
    every candidate fails, 2 for bad input.

    \b
    Examples:
      governance mitigate credit-risk@1.0.0 --data train.csv --holdout holdout.csv --method drop-sensitive
      governance mitigate credit-risk@1.0.0 --data train.csv --holdout holdout.csv \\
          --method threshold --method exponentiated-gradient --no-explain
    """
    from governance.audit.options import parse_model_ref
    from governance.mitigate.compare import table_lines
    from governance.mitigate.run import MitigationRequest, mitigate
    from governance.workspace import require_workspace

    name, version = parse_model_ref(model_ref)
    request = MitigationRequest(
        name=name,
        version=version,
        data=data_path,
        holdout=holdout,
        methods=methods or ("threshold",),
        constraint=constraint,
        attribute=attribute,
        target=target,
        sensitive=sensitive,
        seed=seed,
        budget_seconds=budget,
        explain=not no_explain,
        n_boot=n_boot,
        workspace=require_workspace(workspace_path),
        register_url=register_url,
        actor=actor,
        command_line=shlex.join(["governance", *sys.argv[1:]]),
    )
    outcome = mitigate(request, echo=echo)
    echo("")
    for line in table_lines(outcome.rows):
        echo(line)
    for note in outcome.notes:
        echo(f"Note: {note}")
    echo(f"Comparison: {outcome.folder / 'comparison.md' if outcome.folder else '(not written)'}")
    raise SystemExit(exit_code(outcome))


def exit_code(outcome: object) -> int:
    """0 when a candidate passes, 3 when the best is inconclusive, 1 when every candidate fails."""
    verdicts = {row.verdict for row in getattr(outcome, "rows", [])[1:]}
    if verdicts & {"passed", "reported"}:
        return 0
    return 3 if verdicts & {"inconclusive", "not audited"} else 1
