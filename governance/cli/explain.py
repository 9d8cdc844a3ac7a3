"""``governance explain``: what drives a model (global), or why one person got their decision (reason codes)."""

from __future__ import annotations

from typing import Any

import click

from governance.cli._common import (
    ProgressBars,
    choice_option,
    echo,
    file_option,
    repeated_option,
    reports_errors,
    seconds_option,
    seed_option,
    table_options,
)


def _say_explained(written: Any) -> None:
    """What the global explanation found, in a few lines."""
    result = written.result
    echo(
        f"Explained {result.rows_explained} of {result.rows_total} rows with shap {result.explainer_class} "
        f"in {result.seconds_taken:.1f} s."
    )
    echo(f"Most important: {', '.join(result.top_k_features)} ({result.output_label}).")
    if result.sensitive_features_in_model:
        echo(f"The model uses the sensitive column(s): {', '.join(result.sensitive_features_in_model)}.")
    for hit in result.likely_proxies[:5]:
        echo(f"Likely proxy: {hit.feature} reveals {hit.attribute} (strength {hit.strength:.2f}).")
    echo(f"Wrote {written.markdown}, {written.json} and {len(written.figures)} figure(s).")


@click.command("explain")
@file_option(
    "--model",
    "model_path",
    required=True,
    help_text="The fitted model file (.skops; a pickle or joblib file needs --trust), or an MLflow model: "
    "models:/NAME/VERSION or models:/NAME@ALIAS.",
)
@file_option(
    "--data",
    "data_path",
    help_text="CSV or Parquet file with the model's input columns (and the sensitive columns); or --table/--query.",
)
@table_options
@click.option(
    "--trust",
    metavar="SHA256",
    help="Load a pickle or joblib model whose SHA-256 is this (you vouch for it).",
)
@repeated_option(
    "--sensitive",
    metavar="COL",
    help_text="A sensitive column (repeat for several): explained by group, screened for proxies, never a reason.",
)
@repeated_option(
    "--features",
    metavar="COL",
    help_text="A model input column (repeat); default: the columns the model was trained on.",
)
@click.option(
    "--target", metavar="COL", help="The label column, if the file has one (never used as a feature)."
)
@click.option(
    "--id-column", metavar="COL", help="The column that identifies a person, used by --row and in the CSV."
)
@click.option(
    "--positive-label",
    metavar="LABEL",
    help="The favourable outcome (for example 1 or 'good'); default: the model's last class.",
)
@click.option(
    "--threshold",
    type=float,
    help="Probability of the favourable outcome a decision needs (default: the model's own predict).",
)
@seconds_option(
    "--explain-budget",
    "budget",
    kind=click.FloatRange(min=0, min_open=True),
    default=60.0,
    help_text="Seconds the global explanation may take; fewer rows are explained to fit.",
)
@click.option(
    "--explain-rows",
    "rows",
    type=click.IntRange(min=1),
    help="Explain at most this many rows (a random sample); default: as many as the budget allows.",
)
@click.option(
    "--top-k",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="How many top features to name and check for stability.",
)
@seed_option("Random seed: same seed, same sample, same result.")
@click.option(
    "--output",
    default="explanation",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for explanation.md, explanation.json and figures/ (global mode).",
)
@click.option(
    "--row",
    metavar="ID",
    help="Print the reason codes for one person: an --id-column value, or a row number (0 = first).",
)
@file_option(
    "--batch",
    metavar="OUT.csv",
    help_text="Write the reason codes for every adverse decision to this CSV file.",
)
@choice_option(
    "--reference",
    ["all", "near_threshold"],
    help_text="Reasons compare the person with everyone, or with the people near the decision threshold.",
)
@click.option(
    "--max-reasons",
    type=click.IntRange(1, 4),
    default=4,
    show_default=True,
    help="At most this many reasons per decision.",
)
@reports_errors
def explain_command(
    model_path: str,
    data_path: str | None,
    table: str | None,
    query: str | None,
    connection: str | None,
    query_timeout: float | None,
    trust: str | None,
    sensitive: tuple[str, ...],
    features: tuple[str, ...],
    target: str | None,
    id_column: str | None,
    positive_label: str | None,
    threshold: float | None,
    budget: float,
    rows: int | None,
    top_k: int,
    seed: int,
    output: str,
    row: str | None,
    batch: str | None,
    reference: str,
    max_reasons: int,
) -> None:
    """Explain what drives a model, or why one person got their decision.

    \b
    Without --row or --batch: a global explanation (importance with intervals, by group, proxy screen),
    written as Markdown, JSON and figures to --output.
    With --row ID: the reason codes for one person, printed as a statement.
    With --batch OUT.csv: the reason codes for every adverse decision, one row each.
    """
    if row is not None and batch is not None:
        raise click.UsageError("Give --row or --batch, not both.")
    from governance.audit import explain_run
    from governance.audit.options import check_run_options

    check_run_options(seed=seed, threshold=threshold)
    inputs = explain_run.ExplainInputs(
        model_path, data_path, trust, sensitive, features, target, id_column,
        table=table, query=query, connection=connection, query_timeout=query_timeout, sample_rows=rows, seed=seed,
        whole_table=row is not None or batch is not None,
    )  # fmt: skip
    options = explain_run.ExplainOptions(
        positive_label=positive_label,
        threshold=threshold,
        budget_seconds=budget,
        max_rows=rows,
        top_k=top_k,
        seed=seed,
        reference="near_threshold" if reference == "near_threshold" else "all",
        max_reasons=max_reasons,
    )
    loaded = explain_run.load_inputs(inputs)
    if row is None and batch is None:
        with ProgressBars() as progress:
            written = explain_run.explain_to_folder(loaded, options, output, progress=progress)
        _say_explained(written)
        return
    if not sensitive:
        echo(
            "Note: no --sensitive column named, so any feature the model uses may be given as a reason.",
            err=True,
        )
    with ProgressBars(enabled=None if batch is not None else False) as progress:
        statements = explain_run.reasons(loaded, options, row=row, progress=progress)
    if batch is None:
        for statement in statements:
            echo(statement.statement)
        return
    explain_run.write_reasons_csv(statements, batch, max_reasons=max_reasons, id_name=id_column or "row")
    echo(f"Wrote reasons for {len(statements)} adverse decision(s) to {batch}.")
