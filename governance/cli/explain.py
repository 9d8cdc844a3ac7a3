"""``governance explain``: what drives a model (global), or why one person got their decision (reason codes)."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from governance.cli._common import echo, reports_errors
from governance.paths import write_atomically


def _load(
    model_path: str,
    data_path: str,
    trust: str | None,
    sensitive: tuple[str, ...],
    features: tuple[str, ...],
    target: str | None,
    id_column: str | None,
) -> tuple[Any, Any, Any, list[str]]:
    """The estimator, the feature frame, the sensitive frame, and the feature names (the audit's own rule)."""
    from governance.intake.data import choose_input_columns, read_table, require_columns
    from governance.intake.model_files import load_model

    loaded = load_model(model_path, trust_sha256=trust)
    frame = read_table(data_path)
    source = Path(data_path).name
    require_columns(frame, list(sensitive), source=source, option="--sensitive")
    if id_column:
        require_columns(frame, [id_column], source=source, option="--id-column")
    if target:
        require_columns(frame, [target], source=source, option="--target")
    inputs = choose_input_columns(
        list(frame.columns),
        model=loaded.estimator,
        features=list(features) or None,
        sensitive=list(sensitive),
        excluded=[c for c in (target, id_column) if c],
        source=source,
    )
    return loaded.estimator, frame, frame[list(sensitive)], inputs.names


@contextlib.contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar of explained rows on a terminal; nothing in a CI log."""
    if not sys.stderr.isatty():
        yield None
        return
    state: dict[str, Any] = {"bar": None, "done": 0}

    def update(done: int, total: int) -> None:
        if state["bar"] is None:
            bar: Any = click.progressbar(length=total, label="Explaining rows", file=sys.stderr)
            bar.__enter__()
            state["bar"] = bar
        state["bar"].update(done - state["done"])
        state["done"] = done

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)


def _global(estimator: Any, frame: Any, sensitive: Any, names: list[str], options: dict[str, Any]) -> None:
    from governance.audit.explain import explain_model
    from governance.report.explain import render_explanation_markdown
    from governance.report.explain_figures import write_explanation_figures

    id_column = options["id_column"]
    result = explain_model(
        estimator,
        frame[names],
        sensitive=sensitive,
        budget_seconds=options["budget"],
        max_rows=options["rows"],
        top_k=options["top_k"],
        seed=options["seed"],
        positive_label=options["positive_label"],
        threshold=options["threshold"],
        row_names=list(frame[id_column]) if id_column else None,
    )
    output = Path(options["output"])
    output.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=output, prefix=".figures."))
    try:
        figures = write_explanation_figures(result, staging)
        target = output / "figures"
        for name in sorted(p.name for p in staging.iterdir()):
            target.mkdir(exist_ok=True)
            os.replace(staging / name, target / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    write_atomically(output / "explanation.json", result.model_dump_json(indent=2) + "\n")
    markdown = render_explanation_markdown(result, figures=figures, figures_dir="figures", heading_level=1)
    write_atomically(output / "explanation.md", markdown)
    echo(
        f"Explained {result.rows_explained} of {result.rows_total} rows with shap {result.explainer_class} "
        f"in {result.seconds_taken:.1f} s."
    )
    echo(f"Most important: {', '.join(result.top_k_features)} ({result.output_label}).")
    if result.sensitive_features_in_model:
        echo(f"The model uses the sensitive column(s): {', '.join(result.sensitive_features_in_model)}.")
    for hit in result.likely_proxies[:5]:
        echo(f"Likely proxy: {hit.feature} reveals {hit.attribute} (strength {hit.strength:.2f}).")
    echo(f"Wrote {output / 'explanation.md'}, {output / 'explanation.json'} and {len(figures)} figure(s).")


def _reasons(
    estimator: Any,
    frame: Any,
    sensitive: Any,
    names: list[str],
    options: dict[str, Any],
    row: str | None,
    batch: str | None,
) -> None:
    from governance.audit.explain import reason_codes
    from governance.errors import InputError

    id_column = options["id_column"]
    ids = list(frame[id_column]) if id_column else None
    if not sensitive.columns.size:
        echo(
            "Note: no --sensitive column named, so any feature the model uses may be given as a reason.",
            err=True,
        )
    rows: list[int] | None = None
    if row is not None:
        if ids is not None:
            matches = [i for i, value in enumerate(ids) if str(value) == row]
            if not matches:
                raise InputError(f"No row has {id_column} = {row!r}; check the id, or the --id-column.")
            if len(matches) > 1:
                raise InputError(f"{len(matches)} rows have {id_column} = {row!r}; ids must be unique.")
            rows = matches
        else:
            try:
                position = int(row)
            except ValueError:
                raise InputError(
                    f"--row {row!r} is not a row number; give the position (0 is the first data row), "
                    "or name the id column with --id-column."
                ) from None
            if not 0 <= position < len(frame):
                raise InputError(
                    f"--row {position} is outside the data, which has rows 0 to {len(frame) - 1}."
                )
            rows = [position]
    with _progress() if batch is not None else contextlib.nullcontext() as progress:
        statements = reason_codes(
            estimator,
            frame[names],
            rows=rows,
            sensitive_columns=list(sensitive.columns),
            reference=options["reference"],
            max_reasons=options["max_reasons"],
            positive_label=options["positive_label"],
            threshold=options["threshold"],
            row_names=ids,
            seed=options["seed"],
            progress=progress,
            sensitive_data=sensitive,
        )
    if batch is None:
        for statement in statements:
            echo(statement.statement)
        return
    write_atomically(Path(batch), _batch_csv(statements, options["max_reasons"], id_column or "row"))
    echo(f"Wrote reasons for {len(statements)} adverse decision(s) to {batch}.")


def _batch_csv(statements: list[Any], max_reasons: int, id_name: str) -> str:
    """The reasons as CSV; ids and column names come from the data, so no cell may start like a formula."""
    import csv
    import io

    from governance.escaping import spreadsheet_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = [id_name, "decision", "score", *(f"reason_{i}" for i in range(1, max_reasons + 1)), "statement"]
    writer.writerow([spreadsheet_cell(cell) for cell in header])
    for statement in statements:
        reasons = [reason.feature for reason in statement.reasons]
        reasons += [""] * (max_reasons - len(reasons))
        score = "" if statement.score is None else f"{statement.score:.4f}"
        row = [statement.row, statement.decision, score, *reasons, statement.statement]
        writer.writerow([spreadsheet_cell(cell) for cell in row])
    return buffer.getvalue()


@click.command("explain")
@click.option(
    "--model",
    "model_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="The fitted model file (.skops; a pickle or joblib file needs --trust).",
)
@click.option(
    "--data",
    "data_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="CSV or Parquet file with the model's input columns (and the sensitive columns).",
)
@click.option(
    "--trust",
    metavar="SHA256",
    help="Load a pickle or joblib model whose SHA-256 is this (you vouch for it).",
)
@click.option(
    "--sensitive",
    multiple=True,
    metavar="COL",
    help="A sensitive column (repeat for several): explained by group, screened for proxies, never a reason.",
)
@click.option(
    "--features",
    multiple=True,
    metavar="COL",
    help="A model input column (repeat); default: the columns the model was trained on.",
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
@click.option(
    "--explain-budget",
    "budget",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Seconds the global explanation may take; fewer rows are explained to fit.",
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
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed: same seed, same sample, same result."
)
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
@click.option(
    "--batch",
    metavar="OUT.csv",
    type=click.Path(dir_okay=False),
    help="Write the reason codes for every adverse decision to this CSV file.",
)
@click.option(
    "--reference",
    type=click.Choice(["all", "near_threshold"]),
    default="all",
    show_default=True,
    help="Reasons compare the person with everyone, or with the people near the decision threshold.",
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
    data_path: str,
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
    from governance.audit.run import check_run_options

    check_run_options(seed=seed, threshold=threshold)
    estimator, frame, sensitive_frame, names = _load(
        model_path, data_path, trust, sensitive, features, target, id_column
    )
    options = {
        "id_column": id_column,
        "positive_label": positive_label,
        "threshold": threshold,
        "budget": budget,
        "rows": rows,
        "top_k": top_k,
        "seed": seed,
        "output": output,
        "reference": reference,
        "max_reasons": max_reasons,
    }
    if row is None and batch is None:
        _global(estimator, frame, sensitive_frame, names, options)
    else:
        _reasons(estimator, frame, sensitive_frame, names, options, row, batch)
