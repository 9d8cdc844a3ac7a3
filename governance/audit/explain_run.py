"""One explanation, from files to files: load the model and data, explain, write the outputs.

The library side of ``governance explain`` (as :mod:`governance.audit.run` is of ``governance audit``): a global
explanation written as Markdown, JSON and figures, or the reason codes of one person or of every adverse
decision. The command parses options into :class:`ExplainInputs` and :class:`ExplainOptions` and prints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from governance.atomic import files_into, write_atomically
from governance.errors import FieldError, InputError

if TYPE_CHECKING:
    import pandas as pd

    from governance.results.explain import ExplanationResult, ReasonStatement

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): stages are "explain" (global) and "reasons" (a batch of reason codes)."""


@dataclass(frozen=True)
class ExplainOptions:
    """How to explain: shared by ``governance explain`` and the explanation step of an audit."""

    positive_label: Any = None  # the favourable outcome; default: the model's last class
    threshold: float | None = None  # probability a favourable decision needs; default: the model's predict
    budget_seconds: float = 60.0  # the global explanation explains fewer rows to fit
    max_rows: int | None = None  # at most this many rows (a random sample)
    top_k: int = 5  # top features named and checked for stability
    seed: int = 0
    reference: Literal["all", "near_threshold"] = "all"  # whom reason codes compare a person with
    max_reasons: int = 4  # reasons per decision


@dataclass(frozen=True)
class ExplainInputs:
    """What to explain: the model (a file, or an MLflow ``models:/`` URI), the data file, its columns' roles."""

    model: str | Path
    data: str | Path | None
    trust_sha256: str | None = None
    sensitive: Sequence[str] = ()
    features: Sequence[str] = ()
    target: str | None = None
    id_column: str | None = None
    # Or a table where it lives (see governance.audit.tables): a sample of sample_rows rows stratified by
    # sensitive group, drawn with seed; whole_table reads every row (reason codes), at most 100,000.
    table: str | None = None
    query: str | None = None
    connection: Any = None
    query_timeout: float | None = None
    sample_rows: int | None = None
    seed: int = 0
    whole_table: bool = False

    def __post_init__(self) -> None:
        """One column name given as a string is that column, not its letters; ``None`` is no columns."""
        for name in (
            "sensitive",
            "features",
        ):
            value = getattr(self, name)
            if value is None or isinstance(value, str):
                object.__setattr__(self, name, () if value is None else (value,))


@dataclass(frozen=True)
class LoadedInputs:
    """The estimator and the data, split into model inputs and sensitive columns (the audit's own rule)."""

    estimator: Any
    frame: pd.DataFrame
    sensitive: pd.DataFrame
    names: list[str]
    id_column: str | None = None
    ids: list[Any] | None = field(default=None)

    @property
    def X(self) -> pd.DataFrame:
        same = (
            list(self.frame.columns) == self.names
        )  # an audit's data is already the model's inputs: no copy
        return self.frame if same else self.frame[self.names]


def load_inputs(inputs: ExplainInputs) -> LoadedInputs:
    """Load the model (refusing unsafe files unless trusted) and the data; check every named column exists."""
    from governance.intake.data import choose_input_columns, read_table, require_columns
    from governance.intake.mlflow_models import load_any_model

    loaded = load_any_model(inputs.model, trust_sha256=inputs.trust_sha256)
    if inputs.table is not None or inputs.query is not None:
        return _load_table_inputs(inputs, loaded.estimator)
    if inputs.data is None:
        raise InputError(
            "Give the rows to explain: {data} FILE, or {table} NAME (or {query} SQL).",
            fields=["data", "table", "query"],
        )
    frame = read_table(inputs.data)
    source = Path(inputs.data).name
    sensitive = list(inputs.sensitive)
    require_columns(frame, sensitive, source=source, field="sensitive")
    if inputs.id_column:
        require_columns(frame, [inputs.id_column], source=source, field="id_column")
    if inputs.target:
        require_columns(frame, [inputs.target], source=source, field="target")
    chosen = choose_input_columns(
        list(frame.columns),
        model=loaded.estimator,
        features=list(inputs.features) or None,
        sensitive=sensitive,
        excluded=[c for c in (inputs.target, inputs.id_column) if c],
        source=source,
    )
    ids = list(frame[inputs.id_column]) if inputs.id_column else None
    return LoadedInputs(loaded.estimator, frame, frame[sensitive], chosen.names, inputs.id_column, ids)


def _load_table_inputs(inputs: ExplainInputs, estimator: Any) -> LoadedInputs:
    """The rows to explain from a table: a stratified sample (global), or every row (reason codes)."""
    from governance.audit.tables import TableRequest, explain_rows

    if inputs.data is not None:
        raise InputError(
            "Give either {data} FILE or {table}/{query} with {connection}, not both.",
            fields=["data", "table", "query", "connection"],
        )
    request = TableRequest(
        connection=inputs.connection, table=inputs.table, query=inputs.query, sensitive=list(inputs.sensitive),
        target=inputs.target, features=list(inputs.features) or None, timeout=inputs.query_timeout,
        extra=[inputs.id_column] if inputs.id_column else [],
    )  # fmt: skip
    frame, names = explain_rows(
        request, model=estimator, seed=inputs.seed, rows=inputs.sample_rows, whole=inputs.whole_table
    )
    ids = list(frame[inputs.id_column]) if inputs.id_column else None
    return LoadedInputs(estimator, frame, frame[list(inputs.sensitive)], names, inputs.id_column, ids)


@dataclass(frozen=True)
class WrittenExplanation:
    """A global explanation and the files written for it."""

    result: ExplanationResult
    markdown: Path
    json: Path
    figures: dict[str, str]


def explain_to_folder(
    loaded: LoadedInputs, options: ExplainOptions, output: str | Path, *, progress: Progress | None = None
) -> WrittenExplanation:
    """Explain the model globally and write ``explanation.md``, ``explanation.json`` and ``figures/`` to ``output``."""
    result = explain_loaded(loaded, options, progress=progress)
    return _write_explanation(result, Path(output))


def explain_loaded(
    loaded: LoadedInputs, options: ExplainOptions, *, progress: Progress | None = None
) -> ExplanationResult:
    """The global explanation of a model on data in memory (``governance explain`` and an audit's explain step)."""
    from governance.audit.explain import explain_model

    return explain_model(
        loaded.estimator,
        loaded.X,
        sensitive=loaded.sensitive,
        budget_seconds=options.budget_seconds,
        max_rows=options.max_rows,
        top_k=options.top_k,
        **_decision_and_naming(loaded, options, progress, "explain"),
    )


def _decision_and_naming(
    loaded: LoadedInputs, options: ExplainOptions, progress: Progress | None, stage: str
) -> dict[str, Any]:
    """What the global explanation and the reason codes both take: the decision rule, row names, seed, progress."""
    return {
        "positive_label": options.positive_label,
        "threshold": options.threshold,
        "row_names": loaded.ids,
        "seed": options.seed,
        "progress": (lambda done, total: progress(stage, done, total)) if progress else None,
    }


def _write_explanation(result: ExplanationResult, output: Path) -> WrittenExplanation:
    """The figures appear together (staged, then moved in); the two documents are each written whole."""
    from governance.report.explain import render_explanation_markdown

    output.mkdir(parents=True, exist_ok=True)
    figures = _write_figures(result, output)
    write_atomically(output / "explanation.json", result.model_dump_json(indent=2) + "\n")
    markdown = render_explanation_markdown(result, figures=figures, figures_dir="figures", heading_level=1)
    write_atomically(output / "explanation.md", markdown)
    return WrittenExplanation(result, output / "explanation.md", output / "explanation.json", figures)


def _write_figures(result: ExplanationResult, output: Path) -> dict[str, str]:
    from governance.report.explain_figures import write_explanation_figures

    with files_into(output / "figures") as staging:
        return write_explanation_figures(result, staging)


def row_positions(loaded: LoadedInputs, row: str) -> list[int]:
    """The position of the one person ``row`` names: an id-column value, else a row number (0 = first)."""
    if loaded.ids is not None:
        matches = [i for i, value in enumerate(loaded.ids) if str(value) == row]
        if not matches:
            raise FieldError(
                "id_column", f"No row has {loaded.id_column} = {row!r}; check the id, or the {{field}}."
            )
        if len(matches) > 1:
            raise FieldError(
                "id_column", f"{len(matches)} rows have {loaded.id_column} = {row!r}; ids must be unique."
            )
        return matches
    try:
        position = int(row)
    except ValueError:
        raise InputError(
            f"{{row}} {row!r} is not a row number; give the position (0 is the first data row), "
            "or name the id column with {id_column}.",
            fields=["row", "id_column"],
        ) from None
    if not 0 <= position < len(loaded.frame):
        raise FieldError(
            "row", f"{{field}} {position} is outside the data, which has rows 0 to {len(loaded.frame) - 1}."
        )
    return [position]


def reasons(
    loaded: LoadedInputs,
    options: ExplainOptions,
    *,
    row: str | None = None,
    progress: Progress | None = None,
) -> list[ReasonStatement]:
    """The reason codes of the person ``row`` names, or (``None``) of every adverse decision."""
    from governance.audit.explain import reason_codes

    return reason_codes(
        loaded.estimator,
        loaded.X,
        rows=row_positions(loaded, row) if row is not None else None,
        sensitive_columns=list(loaded.sensitive.columns),
        reference=options.reference,
        max_reasons=options.max_reasons,
        sensitive_data=loaded.sensitive,
        **_decision_and_naming(loaded, options, progress, "reasons"),
    )


def write_reasons_csv(
    statements: list[ReasonStatement], path: str | Path, *, max_reasons: int, id_name: str
) -> None:
    """The reasons as CSV, written whole; ids and column names come from the data, so no cell may start like a formula."""
    import csv
    import io

    from governance.escaping import spreadsheet_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = [id_name, "decision", "score", *(f"reason_{i}" for i in range(1, max_reasons + 1)), "statement"]
    writer.writerow([spreadsheet_cell(cell) for cell in header])
    for statement in statements:
        features = [reason.feature for reason in statement.reasons]
        features += [""] * (max_reasons - len(features))
        score = "" if statement.score is None else f"{statement.score:.4f}"
        cells = [statement.row, statement.decision, score, *features, statement.statement]
        writer.writerow([spreadsheet_cell(cell) for cell in cells])
    write_atomically(Path(path), buffer.getvalue(), named=True)  # the user's --batch path
