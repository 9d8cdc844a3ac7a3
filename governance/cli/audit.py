"""``governance audit``: bias and explainability audit of a model or its predictions, judged by a policy."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import click

from governance.cli._common import (
    ProgressBars,
    actor_option,
    choice_option,
    echo,
    file_option,
    libraries_loading,
    n_boot_option,
    no_explain_option,
    redacted_command_line,
    register_url_option,
    repeated_option,
    reports_errors,
    secho,
    seconds_option,
    seed_option,
    table_options,
    workspace_option,
)
from governance.cli.audit_diff import AuditWithDiff
from governance.cli.main import stopped_after
from governance.results.commands import options_worded
from governance.stops import kept_audit

VERDICT_STYLE: dict[str, str | None] = {
    "passed": "green",
    "failed": "red",
    "inconclusive": "yellow",
    "reported": None,
}
STATUS_STYLE = {
    "pass": ("met", "green"),
    "fail": ("FAILED", "red"),
    "inconclusive": ("inconclusive", "yellow"),
    "not_applicable": ("not checked", None),
}


def _print_verdict(result: Any) -> None:
    """The verdict line, then whether a sensitive attribute is a model input and who vouched for the file."""
    from governance.report.markdown import sensitive_inputs_sentence
    from governance.results.wording import vouched_words

    verdict = result.policy.verdict
    secho(
        f"{verdict.upper()}: {options_worded(result.policy.summary)}",
        fg=VERDICT_STYLE.get(verdict),
        bold=True,
    )
    if result.model.sensitive_inputs:
        echo(sensitive_inputs_sentence(result.model.sensitive_inputs))
    if result.model.vouched_by:
        secho(
            f"The model file {result.model.path} can run code when loaded; it was loaded because it was "
            f"{vouched_words(result.model.vouched_by, result.model.vouched_at)}.",
            fg="yellow",
        )


def _print_rules(rules: Any) -> None:
    """One aligned line per rule: its id, severity, coloured result and summary."""
    width = max((len(rule.rule_id) for rule in rules), default=4)
    for rule in rules:
        word, colour = STATUS_STYLE[rule.status]
        if rule.not_checked_because is not None:
            word = "not checked"
        severity = "block" if rule.severity == "block" else "warn "
        echo(f"  {rule.rule_id:<{width}}  {severity}  ", nl=False)
        secho(f"{word:<12}", fg=colour, nl=False)
        echo(f"  {options_worded(rule.summary)}")


def _print_impact_table(table: Any, words: Any) -> None:
    """Each category's impact ratio against the most selected one, flagged below 0.8."""
    from governance.rules.evaluate import fmt

    if table.most_selected is None:
        echo(
            f"    {table.attribute}: no category is large enough to be the reference "
            f"({words.top}), so there are no impact ratios; collect more data."
        )
        return
    top_n = next((row.n for row in table.rows if row.category == table.most_selected), None)
    for row in table.rows:
        if row.category == table.most_selected:
            continue
        interval = ""
        if row.impact_ratio_low is not None and row.impact_ratio_high is not None:
            interval = f" [{fmt(row.impact_ratio_low)}, {fmt(row.impact_ratio_high)}]"
        flag = "  <- below 0.8" if row.impact_ratio is not None and row.impact_ratio < 0.8 else ""
        echo(
            f"    {table.attribute}: {row.category} vs {table.most_selected}: "
            f"{fmt(row.impact_ratio)}{interval} (n={row.n}; reference n={top_n}){flag}"
        )


def _print_impact_ratios(result: Any) -> None:
    """The four-fifths view of every attribute with an impact-ratio table."""
    from governance.results.wording import rate_words

    tables = [a.ll144 for a in result.fairness.attributes if a.ll144 is not None and a.positive_class is None]
    if not tables:
        return
    echo("")
    words = rate_words(tables[0].rate_kind)
    echo(
        f"  Impact ratios ({words.rate} / the {words.top_group}'s), with intervals; "
        "< 0.8 is the four-fifths screen:"
    )
    for table in tables:
        _print_impact_table(table, words)


def _print_warnings(result: Any) -> None:
    """The fairness notes, a skipped explanation and an overridden specification, in yellow."""
    warnings = [f"  Note: {options_worded(note)}" for note in result.fairness.notes]
    if result.explanation_error:
        warnings.append(f"  Explanation skipped: {options_worded(result.explanation_error)}")
    if result.override is not None:
        warnings.append(
            f"  Audit specification overridden ({result.override.reason}): "
            f"{'; '.join(result.override.departures)}."
        )
    for warning in warnings:
        echo("")
        secho(warning, fg="yellow")


def print_summary(result: Any, folder: Any) -> None:
    """The verdict, each rule, and the four-fifths view, in a few lines."""
    _print_verdict(result)
    echo("")
    _print_rules(result.policy.rules)
    _print_impact_ratios(result)
    _print_warnings(result)
    if folder is not None:
        echo("")
        echo(f"  Report: {folder / 'report.md'}")


def _write_json_copy(json_path: str, result: Any, folder: Any) -> None:
    """The --json copy, written whole after the audit is recorded; a failure now says the audit itself is safe.

    With an audit folder, its audit.json's bytes (the same text): serialising the result again took about 10 ms
    after a table audit's answer and made every deferred record at once (governance.results.streamed)."""
    from governance.atomic import write_atomically
    from governance.errors import InputError

    try:
        if folder is not None:
            text: str | bytes = (folder / "audit.json").read_bytes()
        else:
            text = result.model_dump_json(indent=2) + "\n"
        write_atomically(json_path, text, named=True)
    except OSError as error:
        kept = f" ({folder / 'audit.json'})" if folder is not None else ""
        raise InputError(
            f"The audit {result.audit_id} is complete{kept}, but --json {json_path} could not be written "
            f"({error.strerror or error}); copy its audit.json instead."
        ) from error


def _ahead_request(params: dict[str, Any]) -> Any:
    """What the audit will ask the engine first, for saved predictions in a table, a query or a Parquet or large
    CSV file (``None`` for a model, or a file joined to another: the audit reads those rows itself)."""
    from governance.audit.tables import TableRequest, ahead_request

    if params["model_path"] or params["sensitive_data"] or params["id_column"]:
        return None
    roles = ("table", "query", "connection", "sensitive", "target", "predictions", "scores", "weights")
    request = TableRequest(**{role: params[role] for role in roles}, timeout=params["query_timeout"])
    return ahead_request(request, data=params["data_path"])


def _refuse_no_workspace(workspace_path: str | None, *, no_register: bool) -> None:
    """A registered audit with no ``governance.yaml`` in the folder or above is refused before its query is sent
    ahead: the engine need not start work for a command refused anyway, nor a host that does not answer hold the
    sentence back (three seconds, ``intake.early.HEAD_START``). Only the file is looked for (``find_root``); its
    settings (YAML) are read while the engine counts."""
    if no_register:
        return
    from governance.workspace import find_root, require_workspace

    if find_root(workspace_path) is None:
        require_workspace(workspace_path)  # its sentence (raised: nothing is found there either)


def _refuse_early(params: dict[str, Any]) -> None:
    """Wrong options, a missing data file and a misspelt column are refused before the audit's libraries and the
    register load (a second or more): the options by the audit's own checks, the columns from the file's first
    line (only for a model's audit of one data file, where the audit would read that line first too)."""
    from governance.audit.options import check_distinct_columns, check_explain_options, check_run_options

    check_explain_options(params["explain_budget"], params["explain_rows"])
    check_run_options(seed=params["seed"], threshold=params["threshold"], n_boot=params["n_boot"])
    roles = ("target", "predictions", "scores", "sensitive")
    check_distinct_columns(**{role: params[role] for role in roles})
    by_model = params["model_path"] or not params["no_register"]
    other_sources = ("sensitive_data", "predictions", "table", "query")
    if params["data_path"] and by_model and not any(params[source] for source in other_sources):
        from governance.intake.data import check_columns_early

        check_columns_early(
            params["data_path"],
            target=params["target"],
            sensitive=params["sensitive"],
            id_column=params["id_column"],
            weights=params["weights"],
        )


@click.command("audit", cls=AuditWithDiff)
@click.argument("model_ref", metavar="NAME@VERSION")
@file_option(
    "--data",
    "data_path",
    help_text="Holdout data: CSV or Parquet (or use --table/--query with --connection).",
)
@table_options
@click.option(
    "--target",
    help="Column with the true outcome. Without it, only selection rates and impact ratios are audited.",
)
@repeated_option(
    "--sensitive",
    required=True,
    help_text="A sensitive attribute's column (repeat for several; every pair and all of them together are audited "
    "too, as the policy's intersections say).",
)
@file_option("--sensitive-data", help_text="A separate file with the sensitive columns, joined on --id.")
@click.option(
    "--id", "id_column", help="The id column linking --data and --sensitive-data (never a feature)."
)
@file_option(
    "--model",
    "model_path",
    help_text="Model file (.skops; .joblib/.pkl only with --trust), or an MLflow model: models:/NAME/VERSION or "
    "models:/NAME@ALIAS (needs governance[mlflow] and MLFLOW_TRACKING_URI). Default: the registered artefact.",
)
@click.option(
    "--trust",
    "trust_sha256",
    metavar="SHA256",
    help="Vouch for a pickle/joblib model file by its SHA-256; it is refused otherwise.",
)
@click.option(
    "--predictions", help="Audit saved predictions in this column instead of running a model (vendor models)."
)
@click.option(
    "--scores", help="With --predictions: a column of scores (for AUC, Brier and LL144 scoring rates)."
)
@click.option(
    "--threshold",
    type=float,
    help="Decision threshold on the positive-class score (default: the model's predict).",
)
@click.option(
    "--positive-label", help="The label that counts as selected (default: 1, True, or the larger label)."
)
@repeated_option(
    "--features",
    help_text="Model input columns (repeatable). Default: the columns the model was trained on (feature_names_in_), "
    "else every column that is not target, sensitive, id or weights.",
)
@click.option("--weights", help="Column of sample weights.")
@click.option(
    "--policy",
    default="default",
    show_default=True,
    help="Policy file, or a preset: default, four-fifths, nyc-ll144, equalized-odds, regression.",
)
@click.option("--strict", is_flag=True, help="Treat inconclusive as failed (exit 1 instead of 3).")
@no_explain_option(
    "Skip the explainability part (blocking explanation rules are then not checked: at best inconclusive)."
)
@seconds_option("--explain-budget", default=60.0, help_text="Seconds the explanation may take (more than 0).")
@click.option("--explain-rows", type=int, help="At most this many rows are explained (at least 1).")
@n_boot_option(
    "Bootstrap resamples for the intervals of AUC, Brier and regression metrics (rates need none; default: the "
    "policy's, usually 1000)."
)
@seed_option("Random seed: the same seed gives the same intervals.")
@choice_option(
    "--ll144-rate",
    ["selection", "scoring"],
    help_text="NYC LL144 tables from selection rates, or scoring rates (share above the median score).",
)
@click.option(
    "--json",
    "json_path",
    metavar="PATH",
    help="Also write audit.json to PATH ('-' for standard output); its folder must exist (checked before the audit runs).",
)
@click.option(
    "--output",
    "output_root",
    type=click.Path(file_okay=False),
    help="Folder for audit outputs (default: the workspace's audits/).",
)
@click.option(
    "--no-figures",
    is_flag=True,
    help="Skip the figures (a faster gate in CI; the report still has every table).",
)
@click.option(
    "--curves/--no-curves",
    default=None,
    help="What another threshold would do (rates and the policy's ratios per group, accuracy) and calibration by "
    "group: drawn by default whenever the audit has a yes/no model's scores and --target; --curves requires them "
    "(exit 2 without), --no-curves leaves them out.",
)
@click.option("--no-register", is_flag=True, help="A one-off audit: do not use or update the model register.")
@click.option(
    "--mlflow-tags",
    is_flag=True,
    help="After the audit, write its verdict, audit id and report path as tags of the audited MLflow model "
    "version, and log audit.json into its run (the model must come from models:/...).",
)
@click.option(
    "--override",
    metavar="REASON",
    help="Run an audit that departs from the model's pinned audit specification (governance.yaml), "
    "recording why; approval then needs an explicit risk acceptance.",
)
@register_url_option
@actor_option
@workspace_option
@click.option("--quiet", "-q", is_flag=True, help="Print only the verdict line.")
@reports_errors
def audit_command(
    model_ref: str,
    data_path: str | None,
    table: str | None,
    query: str | None,
    connection: str | None,
    query_timeout: float | None,
    target: str | None,
    sensitive: tuple[str, ...],
    sensitive_data: str | None,
    id_column: str | None,
    model_path: str | None,
    trust_sha256: str | None,
    predictions: str | None,
    scores: str | None,
    threshold: float | None,
    positive_label: str | None,
    features: tuple[str, ...],
    weights: str | None,
    policy: str,
    strict: bool,
    no_explain: bool,
    explain_budget: float,
    explain_rows: int | None,
    n_boot: int | None,
    seed: int,
    ll144_rate: str,
    json_path: str | None,
    output_root: str | None,
    no_figures: bool,
    curves: bool | None,
    no_register: bool,
    mlflow_tags: bool,
    register_url: str | None,
    actor: str | None,
    workspace_path: str | None,
    quiet: bool,
    override: str | None = None,
) -> None:
    """Audit NAME@VERSION for bias and explainability, and judge it against a policy.

    Writes audits/NAME/VERSION/AUDIT-ID/ with audit.json, report.md and figures, records the audit in the
    register, and exits 0 passed, 1 failed, 3 inconclusive (2 usage error, 4 refused input). A policy without
    a pass mark (reporting_only, such as nyc-ll144, or no blocking rule) ends REPORTED and exits 0. A blocking
    rule the audit could not check (--no-explain, saved predictions, an explainer error) makes it inconclusive.

    Compare two audits with `governance audit diff A B` (see `governance audit diff --help`).

    \b
    Examples:
      governance audit credit-risk@1.0.0 --data holdout.csv --target default --sensitive sex --sensitive age_band
      governance audit vendor-screen@2026.1 --no-register --data log.parquet --predictions hired --sensitive sex
      governance audit credit-risk@3 --no-register --model models:/credit-risk/3 --data holdout.csv \\
          --target default --sensitive sex --mlflow-tags
      governance audit vendor-screen@2026.1 --table decisions --connection postgresql://ana@db/hr \
          --predictions hired --sensitive sex
    """
    from pathlib import Path

    from governance.audit.options import parse_model_ref
    from governance.audit.outputs import check_output_file, check_output_folder

    if json_path and json_path != "-":
        check_output_file(json_path, "--json")  # before anything is computed or recorded
    if output_root:
        check_output_folder(output_root, "--output")
    name, version = parse_model_ref(model_ref)
    _refuse_early(click.get_current_context().params)
    _refuse_no_workspace(workspace_path, no_register=no_register)
    from governance.audit.tables import first_pass_ahead

    # The engine counts the rows while the audit's libraries load, the workspace's settings are read (YAML) and
    # the register is opened (intake.early); a broken workspace is still refused before the engine's answer is.
    context = click.get_current_context()
    context.with_resource(first_pass_ahead(_ahead_request(context.params)))  # stopped when the command ends
    with libraries_loading():
        from governance.workspace import find_workspace, require_workspace

        space = find_workspace(workspace_path) if no_register else require_workspace(workspace_path)
        from governance.audit.registered import audit_registered
        from governance.audit.run import AuditRequest

    request = AuditRequest(
        name=name,
        version=version,
        workspace=space,
        model=model_path,
        predictions=predictions,
        data=data_path,
        table=table,
        query=query,
        connection=connection,
        query_timeout=query_timeout,
        target=target,
        sensitive=list(sensitive),
        sensitive_data=sensitive_data,
        id_column=id_column,
        trust_sha256=trust_sha256,
        scores=scores,
        threshold=threshold,
        positive_label=positive_label,
        features=list(features) or None,
        weights=weights,
        policy=policy,
        strict=strict,
        explain=not no_explain,
        explain_budget=explain_budget,
        explain_rows=explain_rows,
        n_boot=n_boot,
        seed=seed,
        ll144_rate="scoring" if ll144_rate == "scoring" else "selection",
        output_root=Path(output_root) if output_root else None,
        figures=not no_figures,
        curves=curves,
        command_line=redacted_command_line(connection),
        override=override,
    )
    with ProgressBars(enabled=sys.stderr.isatty() and not quiet) as progress:
        outcome = audit_registered(
            request,
            register_url=register_url,
            use_register=not no_register,
            actor=actor,
            progress=progress if progress.enabled else None,  # no bar: no count of a table's rows for it
            mlflow_tags=mlflow_tags,
        )
    try:
        _tell(outcome, json_path, quiet=quiet)
    except KeyboardInterrupt as stop:  # the audit is recorded: running it again would record a second one
        raise stopped_after(stop, kept_audit(outcome.result, outcome.folder)) from None
    except BrokenPipeError:  # `| head`: the reader went away, the audit is kept and its verdict stands
        _output_closed(outcome)
    raise SystemExit(outcome.exit_code)


def _output_closed(outcome: Any) -> None:
    """Say on stderr that the audit is kept (not exit 2 and "check the path", read as a failed audit to run again),
    and point stdout at nothing: Python's last flush at exit would fail on the closed pipe again."""
    import os

    with contextlib.suppress(OSError, ValueError):  # no file descriptor (a caller's own stream)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    echo(f"The output was closed (broken pipe) after {kept_audit(outcome.result, outcome.folder)}", err=True)


def _tell(outcome: Any, json_path: str | None, *, quiet: bool) -> None:
    """The --json copy, the summary and the warnings, once the audit is recorded."""
    result = outcome.result
    if json_path == "-":
        click.echo(result.model_dump_json(indent=2))
    else:
        if json_path:
            _write_json_copy(json_path, result, outcome.folder)
        if quiet:
            echo(f"{result.policy.verdict.upper()}: {options_worded(result.policy.summary)}")
        else:
            print_summary(result, outcome.folder)
            for note in outcome.notes:
                echo(f"  MLflow: {note}.")
    for warning in outcome.warnings:
        secho(f"Warning: {options_worded(warning)}", err=True, fg="yellow")
