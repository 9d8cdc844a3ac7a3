"""One audit, from files to a verdict: intake -> fairness -> explanation -> policy -> files on disk.

``audit()`` is the Python API that mirrors ``governance audit``: it takes an :class:`AuditRequest` (or its fields as
keywords), returns the :class:`AuditResult` and, unless ``write=False``, writes ``audits/<model>/<version>/<audit-id>/``
atomically (a crash leaves no half-written folder). Its steps: check the request, load the policy, measure fairness
(streamed or in memory), check the pinned specification, explain, judge, and write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from governance.audit.explain_run import ExplainOptions, LoadedInputs, explain_loaded
from governance.audit.fairness.options import FairnessOptions
from governance.audit.folders import AuditFolder, compact_stamp, new_audit_id
from governance.audit.options import check_distinct_columns, check_explain_options, check_run_options
from governance.audit.spec import AuditShape, enforce_spec
from governance.audit.tables import TableInputs, TableRequest
from governance.errors import ExplainError, FieldError, InputError
from governance.intake.data import (
    AuditData,
    check_columns_early,
    load_audit_data,
    missing_labels_error,
)
from governance.intake.mlflow_models import load_any_model
from governance.intake.model_files import LoadedModel, Vouching
from governance.paths import safe_join
from governance.provenance import forget_library_versions_ahead, isoformat, library_versions, now, sha256_json
from governance.results.audit import AuditResult, DataInfo, ModelInfo, Provenance, TableInfo
from governance.results.fairness import FairnessResult
from governance.rules.evaluate import evaluate_policy
from governance.rules.load import LoadedPolicy, load_policy
from governance.rules.schema import ExplainRule
from governance.version import __version__
from governance.workspace import Workspace, find_workspace

if TYPE_CHECKING:
    import numpy as np

    from governance.results.explain import ExplanationResult
    from governance.results.tradeoff import CalibrationResult, TradeoffResult

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): stages are "scoring" (a model over a table's rows), "fairness" and "explain"."""


@dataclass(frozen=True)
class AuditOutcome:
    """The result and where it was written (``None`` with ``write=False``).

    ``claim`` is set only with ``audit(keep_claim=True)``: the caller records the audit, then releases it.
    """

    result: AuditResult
    folder: Path | None
    claim: AuditFolder | None = None
    notes: tuple[str, ...] = ()  # what was done beside the audit (MLflow tags written)
    warnings: tuple[str, ...] = ()  # what failed beside the audit, which itself is complete

    @property
    def exit_code(self) -> int:
        return self.result.policy.exit_code


def _positive_index(classes: Sequence[Any], positive_label: Any) -> int:
    labels = list(classes)
    if positive_label is not None:
        for index, label in enumerate(labels):
            if str(label) == str(positive_label):
                return index
        raise InputError(
            f"The positive label {positive_label!r} is not one of the model's classes ({', '.join(map(str, labels))}); "
            "pass one of those with {positive_label}.",
            fields=["positive_label"],
        )
    return len(labels) - 1  # sklearn sorts classes: 1 over 0, True over False


def predict(
    loaded: LoadedModel, X: Any, *, threshold: float | None, positive_label: Any
) -> tuple[np.ndarray, np.ndarray | None, Any]:
    """Predictions, scores (binary: the positive class's probability or decision value) and the positive label."""
    import numpy as np

    estimator = loaded.estimator
    if not hasattr(estimator, "predict"):
        raise InputError(f"The object in {loaded.path.name} has no predict method; it is not a fitted model.")
    try:
        y_pred = np.asarray(estimator.predict(X))
    except Exception as exc:
        raise InputError(
            f"The model could not predict on the data ({type(exc).__name__}: {exc}); check that {{features}} names the "
            "columns the model was trained on.",
            fields=["features"],
        ) from exc
    classes = getattr(estimator, "classes_", None)
    scores = None
    label = positive_label
    if classes is not None and len(classes) == 2:
        index = _positive_index(classes, positive_label)
        label = classes[index]
        if hasattr(estimator, "predict_proba"):
            scores = np.asarray(estimator.predict_proba(X))[:, index]
            if threshold is not None and not 0 <= threshold <= 1:
                raise FieldError(
                    "threshold",
                    f"{{field}} {threshold:g} is not a probability; the model scores with probabilities from 0 to 1, "
                    "so give a threshold between them, for example {field} 0.5.",
                )
        elif hasattr(estimator, "decision_function"):
            decision = np.asarray(estimator.decision_function(X))
            scores = decision if index == 1 else -decision
        if threshold is not None:
            if scores is None:
                raise FieldError(
                    "threshold", "{field} needs a model with predict_proba or decision_function."
                )
            other = classes[1 - index]
            y_pred = np.where(scores >= threshold, label, other)
    elif threshold is not None:
        raise FieldError(
            "threshold", "{field} applies to binary classifiers only; leave it out for this model."
        )
    return y_pred, scores, label


BINARY_ONLY_COMPARISONS = ("impact_ratio", "summary")
"""Comparisons that only mean something for a yes/no decision (four-fifths, LL144, fairlearn's summaries)."""


def check_task_fits_policy(
    task: str, classes: Sequence[Any], loaded_policy: LoadedPolicy, *, predictions: str | None
) -> None:
    """Refuse a policy whose rules cannot judge this kind of prediction, before anything is computed.

    Numbers where decisions are expected would make every rate meaningless; three classes where a yes/no
    decision is expected would turn four-fifths into a one-against-the-rest comparison nobody asked for.
    """
    from governance.audit.fairness._inputs import column_nouns, shown_values
    from governance.results.fairness import BINARY_METRICS
    from governance.rules.schema import MetricRule

    rules = [r for r in loaded_policy.policy.rules if isinstance(r, MetricRule)]
    needs_decisions = [r.id for r in rules if r.metric in BINARY_METRICS]
    if task == "regression" and needs_decisions:
        source = f"the column '{predictions}'" if predictions else "the model"
        raise InputError(
            f"The predictions of {source} are continuous numbers, but the policy's rule '{needs_decisions[0]}' needs "
            "decisions; pass 0/1 decisions, or scores with {scores} and a {threshold}, or audit the numbers with "
            "{policy} regression.",
            fields=["scores", "threshold", "policy"],
        )
    binary_only = [r for r in rules if r.comparison in BINARY_ONLY_COMPARISONS]
    if task == "multiclass" and binary_only:
        noun = column_nouns(predictions=predictions, target=None)[0]
        raise InputError(
            f"{noun[0].upper()}{noun[1:]} have {len(classes)} classes ({shown_values(classes)}), but the policy's "
            f"rule '{binary_only[0].id}' ({binary_only[0].comparison}) needs a yes/no decision; map the predictions "
            "and labels to two values, or use a policy without impact_ratio or summary rules."
        )


def _score_values(frame: Any, column: str) -> np.ndarray:
    """A scores column as finite numbers, or one sentence naming what is wrong with it."""
    import numpy as np
    import pandas as pd

    from governance.audit.fairness._inputs import shown_values

    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputError(
            f"The scores in column '{column}' include missing, non-numeric or non-finite values "
            f"({shown_values(frame[column][bad].unique())}); drop those rows or replace them with real scores."
        )
    return np.asarray(values)


def _with_category_notes(fairness: FairnessResult) -> FairnessResult:
    """Add a note for each sensitive column with case- or space-variant categories ("Female", "female ")."""
    from governance.intake.data import case_variant_notes

    categories = {
        a.columns[0]: [g.group for g in a.groups if not g.is_unknown]
        for a in fairness.attributes
        if len(a.columns) == 1
    }
    notes = [note for note in case_variant_notes(categories) if note not in fairness.notes]
    return fairness.model_copy(update={"notes": [*fairness.notes, *notes]}) if notes else fairness


def _shown_path(path: Path, root: Path) -> str:
    """A path relative to the workspace when it lies inside it, so that ``audit.json`` is portable."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _reproducible_suffix(*parts: Any) -> str:
    """A suffix from the audit's inputs instead of chance: the demo's folders stay the same from run to run."""
    return sha256_json(list(parts))[:8]


def write_audit_folder(result: AuditResult, claim: AuditFolder, *, figures: bool = True) -> Path:
    """Write ``audit.json``, ``report.md`` and (unless ``figures=False``) ``figures/`` into the claimed folder.

    Everything goes into the claim's hidden staging folder first and appears under its final name in one rename,
    so a crash leaves no half-written audit folder (see :mod:`governance.audit.folders`).
    """
    from governance.report.figures import write_figures
    from governance.report.markdown import render_report
    from governance.results.streamed import write_json
    from governance.testhooks import pause_at

    def fill(staging: Path) -> None:
        written = write_figures(result, staging / "figures") if figures else {}
        pause_at("figures")
        with (staging / "audit.json").open("w", encoding="utf-8") as out:
            write_json(result, out)  # model_dump_json's bytes, records made a piece at a time
            out.write("\n")
        (staging / "report.md").write_text(render_report(result, figures=written), encoding="utf-8")

    return claim.publish(fill)


def _why_not_explained(loaded: LoadedModel | None, explain: bool) -> str | None:
    """In words, why the audit has no explanation (``None`` when one was attempted)."""
    if loaded is None:
        return "the audit ran on saved predictions, so there is no model to explain"
    if not explain:
        return "it was skipped with explain=False"
    return None


def _explain(
    loaded: LoadedModel, data: AuditData, options: ExplainOptions, *, progress: Progress | None
) -> tuple[ExplanationResult | None, str | None]:
    """The explanation, or why there is none: an explainer failure must not lose the fairness audit."""
    try:
        inputs = LoadedInputs(loaded.estimator, data.X, data.sensitive_frame, list(data.X.columns))
        explanation = explain_loaded(inputs, options, progress=progress)
    except ExplainError as error:
        return None, str(error)
    except Exception as error:  # an explainer crash must not lose the fairness audit
        return None, f"the explainer stopped with {type(error).__name__}: {error}"
    return explanation, None


@dataclass(frozen=True)
class AuditRequest:
    """What to audit and how: the options of ``governance audit``, built by the command, taken by :func:`audit`.

    ``model`` (a file to run) or ``predictions`` (a column of saved decisions) says what is audited. A model file
    that runs code when loaded needs ``vouching`` (the register's) or ``trust_sha256`` (given by ``trusted_by``).
    An audit that departs from the model's pinned specification (``governance.yaml``) needs ``override``, the
    reason. ``reproducible_id`` derives the audit id's suffix from the inputs (the demo); ``keep_claim`` hands
    the written folder's claim to the caller (see :mod:`governance.audit.folders`).
    ``table`` or ``query`` with ``connection`` (a URL such as ``duckdb://``, ``postgresql://...``,
    ``spark://local[2]``, or an open Ibis backend) audits rows where they live instead of a ``data`` file (see
    :mod:`governance.audit.tables`); ``query_timeout`` stops a PostgreSQL query after that many seconds.
    """

    name: str
    version: str
    data: str | Path | None = None
    sensitive: Sequence[str] = ()
    table: str | None = None
    query: str | None = None
    connection: Any = None
    query_timeout: float | None = None
    target: str | None = None
    model: str | Path | None = None
    predictions: str | None = None
    scores: str | None = None
    trust_sha256: str | None = None
    pinned_sha256: str | None = None
    vouching: Vouching | None = None
    trusted_by: str | None = None
    features: Sequence[str] | None = None
    sensitive_data: str | Path | None = None
    id_column: str | None = None
    weights: str | None = None
    threshold: float | None = None
    positive_label: Any = None
    policy: str = "default"
    strict: bool = False
    explain: bool = True
    explain_budget: float = 60.0
    explain_rows: int | None = None
    n_boot: int | None = None
    seed: int = 0
    ll144_rate: Literal["selection", "scoring"] = "selection"
    workspace: Workspace | None = None
    output_root: Path | None = None
    write: bool = True
    figures: bool = True
    command_line: str = ""
    override: str | None = None
    keep_claim: bool = False
    reproducible_id: bool = False
    # trade-off curves and calibration by group: None (the default) draws them whenever the audit has a yes/no
    # model's scores and labels; True requires them (an error without); False leaves them out
    curves: bool | None = None

    def column_roles(self) -> dict[str, Any]:
        """The data file's column roles as the intake readers take them: one list for the early check and the read."""
        return {
            "target": self.target,
            "sensitive": self.sensitive,
            "id_column": self.id_column,
            "weights": self.weights,
        }

    def explain_options(self, policy: LoadedPolicy, label: Any) -> ExplainOptions:
        """The explanation step's options: this request's budget, rows and seed; the policy's top k."""
        ks = [rule.k for rule in policy.policy.rules if isinstance(rule, ExplainRule)]
        return ExplainOptions(
            positive_label=label,
            threshold=self.threshold,
            budget_seconds=self.explain_budget,
            max_rows=self.explain_rows,
            top_k=max(ks, default=5),
            seed=self.seed,
        )

    def fairness_options(self, policy: LoadedPolicy) -> FairnessOptions:
        """The policy's comparison settings, with this request's seed, resamples and LL144 rate."""
        rules = policy.policy
        return FairnessOptions(
            reference=rules.reference,
            reference_groups=rules.reference_groups or None,
            intersections=rules.intersections,
            n_boot=rules.n_boot if self.n_boot is None else self.n_boot,
            confidence_level=rules.confidence_level,
            seed=self.seed,
            min_group_size=rules.min_group_size,
            ll144_rate=self.ll144_rate,
        )

    def __post_init__(self) -> None:
        """A sensitive column given as a string is that column, not its letters; ``None`` is none."""
        if self.sensitive is None or isinstance(self.sensitive, str):
            object.__setattr__(self, "sensitive", () if self.sensitive is None else (self.sensitive,))


def check_request(request: AuditRequest) -> None:
    """Refuse options that could only fail later, before any file is read (the register checks them too)."""
    check_explain_options(request.explain_budget, request.explain_rows)
    check_run_options(seed=request.seed, threshold=request.threshold, n_boot=request.n_boot)
    check_distinct_columns(
        target=request.target,
        predictions=request.predictions,
        scores=request.scores,
        sensitive=request.sensitive,
    )


def _require_one_source(request: AuditRequest) -> None:
    if (request.model is None) == (request.predictions is None):
        raise InputError(
            "Give either {model} FILE (a model to run) or {predictions} COL (its saved predictions), not both.",
            fields=["model", "predictions"],
        )


@dataclass(frozen=True)
class _Measured:
    """What the fairness step read and found: the inputs the later steps and the result need."""

    fairness: FairnessResult
    data_sha256: str
    n_rows: int
    features: list[str]
    loaded: LoadedModel | None = None
    audit_data: AuditData | None = None
    label: Any = None
    table: TableInfo | None = None  # where a table audit's rows live (None for a file)
    scores: Any = None


def audit(
    request: AuditRequest | None = None, /, *, progress: Progress | None = None, **fields: Any
) -> AuditOutcome:
    """Audit a model (or its predictions) for bias and explainability and judge it against a policy.

    Takes an :class:`AuditRequest`, or its fields as keywords (``audit(name=..., version=..., data=...)``).
    ``progress(stage, done, total)`` hears of the long steps.
    """
    request = _request(request, fields)
    started = time.perf_counter()
    forget_library_versions_ahead()  # a failed audit's, perhaps read before a package changed
    check_request(request)
    space = request.workspace or find_workspace()
    _require_one_source(request)
    loaded_policy = load_policy(request.policy, workspace_root=space.root)
    measured = _measure_fairness(request, loaded_policy, progress)
    spec_override = enforce_spec(
        space, name=request.name, override=request.override, audit=_shape(request, loaded_policy, measured)
    )
    explanation, explanation_error = _explain_step(request, loaded_policy, measured, progress)
    tradeoff, calibration = _curves_step(request, loaded_policy, measured)
    verdict = evaluate_policy(
        loaded_policy.policy,
        measured.fairness,
        policy_path=loaded_policy.path.name,
        policy_sha256=loaded_policy.sha256,
        explanation=explanation,
        explanation_error=explanation_error,
        explanation_skipped=_why_not_explained(measured.loaded, request.explain),
        strict=request.strict,
        calibration=calibration,
    )
    created = isoformat(now())
    suffix = _suffix(request, loaded_policy, measured)
    result = AuditResult(
        audit_id=new_audit_id(compact_stamp(created), suffix),
        model=_model_info(request, measured, space.root),
        data=_data_info(request, measured, space.root),
        fairness=measured.fairness,
        explanation=explanation,
        explanation_error=explanation_error,
        policy=verdict,
        provenance=_provenance(request, loaded_policy, measured, created, started),
        override=spec_override,
        tradeoff=tradeoff,
        calibration=calibration,
    )
    return _written(request, result, space, created, suffix)


def _curves_step(
    request: AuditRequest, loaded_policy: LoadedPolicy, measured: _Measured
) -> tuple[TradeoffResult | None, CalibrationResult | None]:
    """The threshold trade-off and calibration by group, in every audit with a yes/no model's scores and labels
    unless ``curves`` is False; calibration alone when the policy has a calibration rule and the scores allow it
    (see :mod:`governance.audit.curves`)."""
    from governance.audit.curves import ScoredOutcomes, calibration_for, curves_for

    possible = (
        measured.scores is not None
        and measured.audit_data is not None
        and request.target is not None
        and measured.fairness.task == "binary"
    )
    inputs = ScoredOutcomes(
        measured.scores,
        measured.audit_data,
        request.target,
        measured.label,
        loaded_policy.policy,
        request.seed,
    )
    if request.curves or (request.curves is None and possible):
        return curves_for(inputs, threshold=request.threshold, from_model=measured.loaded is not None)
    return None, calibration_for(inputs)


def _request(request: AuditRequest | None, fields: dict[str, Any]) -> AuditRequest:
    if request is None:
        return AuditRequest(**fields)
    return replace(request, **fields) if fields else request


def _measure_fairness(
    request: AuditRequest, loaded_policy: LoadedPolicy, progress: Progress | None
) -> _Measured:
    """The fairness numbers: aggregates from an engine (a table, a query, a Parquet log or a large CSV file)
    when possible, else from rows in memory."""
    options = request.fairness_options(loaded_policy)
    fairness_progress = (lambda done, total: progress("fairness", done, total)) if progress else None
    file_sql = _file_through_duckdb(request)
    if request.table is None and request.query is None and file_sql is None:
        if request.data is None:
            raise InputError(
                "Give the data to audit: {data} FILE, or {table} NAME (or {query} SQL) with {connection}.",
                fields=["data", "table", "query", "connection"],
            )
        return _measure_in_memory(request, loaded_policy, options, fairness_progress)
    loaded = _load_model(request)
    file_hash = _hash_while_counting(Path(str(request.data))) if file_sql is not None else None
    inputs = _table_inputs(
        _table_request(request, file_sql), request, loaded, loaded_policy, options, progress
    )
    fairness = _with_category_notes(inputs.fairness)
    if file_hash is None:
        return _Measured(
            fairness, inputs.info.fingerprint, inputs.n_rows, inputs.features or [], loaded, inputs.sample,
            inputs.label, inputs.info,
        )  # fmt: skip
    return _Measured(
        fairness, file_hash(), inputs.n_rows, inputs.features or [], loaded, inputs.sample, inputs.label
    )


def _hash_while_counting(path: Path) -> Callable[[], str]:
    """The file's SHA-256 (a file is named by its hash, as when pandas reads it), read while the engine counts
    (the count query is sent ahead): after the answer it took 0.05 s for a 40 MB Parquet file, on the audit's
    critical path (benchmarks/engine). An error reading the file is raised where the hash is used, as before."""
    from governance.provenance import sha256_file

    try:
        digest = sha256_file(path)
    except OSError as exc:
        error = exc

        def fail() -> str:
            raise error

        return fail
    return lambda: digest


def _file_through_duckdb(request: AuditRequest) -> str | None:
    """The DuckDB query for a prediction log in a local Parquet file or a large CSV file (``None``: pandas).

    Measured in benchmarks/engine: DuckDB's GROUP BY is faster and leaner than a pyarrow batch loop, and reads a
    CSV file in bounded memory where pandas reads it whole. The file is checked as pandas would check it first.
    """
    from governance.audit.tables import file_query
    from governance.intake.data import check_file

    if request.table is not None or request.query is not None or request.data is None:
        return None
    if request.predictions is None or request.scores is not None:
        return None
    if request.sensitive_data is not None or request.id_column:
        return None
    sql = file_query(Path(str(request.data)))
    if sql is not None:
        check_file(Path(str(request.data)))
    return sql


def _table_request(request: AuditRequest, file_sql: str | None) -> TableRequest:
    """What the engine reads: the table or query asked for, or the local file through DuckDB."""
    if file_sql is None:
        if request.data is not None:
            raise InputError(
                "Give either {data} FILE or {table}/{query} with {connection}, not both.",
                fields=["data", "table", "query", "connection"],
            )
        if request.sensitive_data is not None or request.id_column is not None:
            raise InputError(
                "{sensitive_data} and {id} join two files; for a table, join the demographics in {query} instead.",
                fields={"sensitive_data": "sensitive_data", "id": "id_column", "query": "query"},
            )
    return TableRequest(
        connection="duckdb://" if file_sql else request.connection,
        table=None if file_sql else request.table,
        query=file_sql or request.query,
        sensitive=list(request.sensitive),
        target=request.target,
        predictions=request.predictions,
        scores=request.scores,
        weights=request.weights,
        features=request.features,
        timeout=request.query_timeout,
        file=Path(str(request.data)).name if file_sql else None,
    )


def _load_what_follows(request: AuditRequest) -> None:
    """Import what the audit needs after the engine's answer (the bootstrap's generator, the curves, the report)
    and build the result models' validators now, while a query sent ahead may still run in the engine
    (governance.intake.early): the same work, done while the audit would otherwise wait."""
    import numpy.random  # noqa: F401

    import governance.audit.curves
    from governance.provenance import read_library_versions_ahead
    from governance.results.audit import build_validators

    build_validators()
    read_library_versions_ahead()
    if request.write:
        import governance.report.figures
        import governance.report.markdown
        import governance.results.streamed  # noqa: F401


def _table_inputs(
    table_request: TableRequest,
    request: AuditRequest,
    loaded: LoadedModel | None,
    loaded_policy: LoadedPolicy,
    options: FairnessOptions,
    stages: Progress | None,
) -> TableInputs:
    """Aggregates from the engine, then the same fairness computation as for a file."""
    from governance.audit import tables
    from governance.audit.fairness import compute_fairness, compute_fairness_from_counts

    _load_what_follows(request)
    progress = (lambda done, total: stages("fairness", done, total)) if stages else None

    def check_task(task: str, classes: list[Any]) -> None:
        check_task_fits_policy(task, classes, loaded_policy, predictions=request.predictions)

    def from_model(
        *,
        y_pred: Any,
        y_true: Any,
        scores: Any,
        task: str,
        label: Any,
        weights: Any,
        sensitive: Any,
        counts: Any,
    ) -> FairnessResult:
        return compute_fairness(
            y_pred=y_pred, y_true=y_true, scores=scores, task=task,  # type: ignore[arg-type]
            sample_weight=weights, sensitive=sensitive, positive_label=label, options=options, progress=progress,
            counts=counts,
        )  # fmt: skip

    if loaded is None:
        if request.threshold is not None and request.scores is None:
            raise InputError(
                "{threshold} needs {scores}; saved predictions are already decisions.",
                fields=["threshold", "scores"],
            )
        return tables.predictions_inputs(
            table_request,
            check_task=check_task,
            compute=lambda *, rows, counts, task: _from_rows(
                _Counted(rows, counts, task), request, check_task, from_model
            ),
            compute_counts=lambda table: compute_fairness_from_counts(
                table, options=replace(options, ll144_rate="selection"), progress=progress
            ),
            threshold=request.threshold,
            positive_label=request.positive_label,
        )
    return tables.model_inputs(
        table_request,
        model=loaded.estimator,
        score=lambda X: predict(
            loaded, X, threshold=request.threshold, positive_label=request.positive_label
        ),
        check_task=check_task,
        compute=from_model,
        seed=request.seed,
        sample_rows=request.explain_rows,
        progress=(lambda done, total: stages("scoring", done, total)) if stages else None,
    )


@dataclass(frozen=True)
class _Counted:
    """An engine's distinct rows, their counts, and the task their raw values showed (amounts may be rounded)."""

    rows: Any
    counts: Any
    task: str


def _from_rows(
    counted: _Counted,
    request: AuditRequest,
    check_task: Callable[[str, list[Any]], None],
    compute: Callable[..., Any],
) -> FairnessResult:
    """Saved predictions (and scores) from the engine's distinct rows, checked and computed as in memory.

    A ``--threshold`` was applied to the exact scores as the rows were read (``tables.predictions_inputs``)."""
    import numpy as np

    from governance.audit.fairness._inputs import check_label_columns, column_nouns

    rows = counted.rows
    predictions = str(request.predictions)
    y_pred = rows[predictions].to_numpy()
    score_values = _score_values(rows, request.scores) if request.scores else None
    y_true = rows[request.target].to_numpy() if request.target else None
    nouns = column_nouns(predictions=predictions, target=request.target)
    classes: list[Any] = []
    task: str = counted.task  # regression is read from the raw values: rounded amounts may look whole
    if counted.task != "regression" or request.threshold is not None:
        task, classes = check_label_columns(np.asarray(y_pred), y_true, nouns=nouns)
    check_task(task, classes)
    weights = rows[request.weights].to_numpy(dtype=float) if request.weights else None
    result: FairnessResult = compute(
        y_pred=y_pred, y_true=y_true, scores=score_values, task=task, label=request.positive_label,
        weights=weights, sensitive=rows[list(request.sensitive)], counts=counted.counts,
    )  # fmt: skip
    return result


def _measure_in_memory(
    request: AuditRequest,
    loaded_policy: LoadedPolicy,
    options: FairnessOptions,
    progress: Callable[[int, int], None] | None,
) -> _Measured:
    """Load the model (if any) and the data, predict, and compute the fairness numbers."""
    import numpy as np

    from governance.audit.fairness import compute_fairness
    from governance.audit.fairness._inputs import check_label_columns, column_nouns

    loaded = _load_model(request)
    audit_data = load_audit_data(
        str(request.data),
        **request.column_roles(),
        features=request.features,
        sensitive_data=request.sensitive_data,
        extra_columns=[c for c in (request.predictions, request.scores) if c],
        model=loaded.estimator if loaded else None,
    )
    frame = audit_data.frame
    y_pred, score_values, label = _decisions(request, loaded, audit_data)
    y_true = frame[request.target].to_numpy() if request.target else None
    nouns = column_nouns(predictions=request.predictions, target=request.target)
    task, classes = check_label_columns(np.asarray(y_pred), y_true, nouns=nouns)
    check_task_fits_policy(task, classes, loaded_policy, predictions=request.predictions)
    fairness = compute_fairness(
        y_pred=y_pred,
        y_true=y_true,
        scores=score_values,
        task=task,
        sample_weight=frame[request.weights].to_numpy(dtype=float) if request.weights else None,
        sensitive=audit_data.sensitive_frame,
        positive_label=label,
        options=options,
        progress=progress,
    )
    features = audit_data.features if loaded else []
    return _Measured(
        _with_category_notes(fairness),
        audit_data.sha256,
        len(frame),
        features,
        loaded,
        audit_data,
        label,
        scores=score_values if task == "binary" else None,
    )


def _load_model(request: AuditRequest) -> LoadedModel | None:
    if request.model is None:
        return None
    if (
        request.data is not None and request.sensitive_data is None
    ):  # refused now, not after loading the model
        check_columns_early(request.data, **request.column_roles())
    return load_any_model(
        request.model,
        trust_sha256=request.trust_sha256,
        pinned_sha256=request.pinned_sha256,
        vouching=request.vouching,
        trusted_by=request.trusted_by,
    )


def _decisions(
    request: AuditRequest, loaded: LoadedModel | None, audit_data: AuditData
) -> tuple[Any, np.ndarray | None, Any]:
    """The decisions audited (the model's, or the saved ones), their scores, and the positive label."""
    if loaded is not None:
        return predict(
            loaded, audit_data.X, threshold=request.threshold, positive_label=request.positive_label
        )
    frame, column = audit_data.frame, str(request.predictions)
    if frame[column].isna().any():
        missing = int(frame[column].isna().sum())
        raise missing_labels_error(column, missing, role="predictions")
    y_pred = frame[column].to_numpy()
    score_values = None
    if request.scores:
        score_values = _score_values(frame, request.scores)
        if request.threshold is not None:
            y_pred = (score_values >= request.threshold).astype(int)
    return y_pred, score_values, request.positive_label


def _shape(request: AuditRequest, loaded_policy: LoadedPolicy, measured: _Measured) -> AuditShape:
    return AuditShape(
        policy=loaded_policy,
        policy_arg=request.policy,
        sensitive=request.sensitive,
        explain=request.explain,
        has_model=measured.loaded is not None,
        n_rows=measured.n_rows,
    )


def _explain_step(
    request: AuditRequest, loaded_policy: LoadedPolicy, measured: _Measured, progress: Progress | None
) -> tuple[ExplanationResult | None, str | None]:
    """Explain the model when there is one to explain and the request asks for it."""
    if measured.loaded is None or measured.audit_data is None or not request.explain:
        return None, None
    options = request.explain_options(loaded_policy, measured.label)
    return _explain(measured.loaded, measured.audit_data, options, progress=progress)


def _suffix(request: AuditRequest, loaded_policy: LoadedPolicy, measured: _Measured) -> str | None:
    if not request.reproducible_id:
        return None
    return _reproducible_suffix(
        measured.loaded.sha256 if measured.loaded else None,
        measured.data_sha256,
        loaded_policy.sha256,
        request.seed,
        list(request.sensitive),
        request.target,
        request.predictions,
        request.scores,
        request.threshold,
    )


def _model_info(request: AuditRequest, measured: _Measured, root: Path) -> ModelInfo:
    loaded = measured.loaded
    return ModelInfo(
        name=request.name,
        version=request.version,
        kind="model" if loaded else "predictions",
        path=(loaded.source or _shown_path(loaded.path, root)) if loaded else None,
        sha256=loaded.sha256 if loaded else None,
        estimator=loaded.description if loaded else None,
        loader=loaded.loader if loaded else None,
        trusted_types=loaded.trusted_types if loaded else [],
        threshold=request.threshold,
        vouched_by=loaded.vouched_by if loaded else None,
        vouched_at=loaded.vouched_at if loaded else None,
        predictions_column=request.predictions,
        scores_column=request.scores,
        sensitive_inputs=[name for name in measured.features if name in set(request.sensitive)],
    )


def _table_label(info: TableInfo) -> str:
    """How a table audit names its data in reports: the backend and the table (the query is in ``data.table``)."""
    from governance.intake.engine import BACKEND_NAMES

    return f"{BACKEND_NAMES.get(info.backend, info.backend)}: {info.table or 'query'}"


def _data_info(request: AuditRequest, measured: _Measured, root: Path) -> DataInfo:
    audit_data = measured.audit_data
    path = _table_label(measured.table) if measured.table else _shown_path(Path(str(request.data)), root)
    return DataInfo(
        path=path,
        sha256=measured.data_sha256,
        n_rows=measured.n_rows,
        target=request.target,
        sensitive=list(request.sensitive),
        features=list(measured.features),
        features_source=audit_data.features_source if measured.loaded and audit_data else None,
        sensitive_data_path=_shown_path(Path(request.sensitive_data), root)
        if request.sensitive_data
        else None,
        sensitive_data_sha256=audit_data.sensitive_data_sha256 if audit_data else None,
        id_column=request.id_column,
        weights_column=request.weights,
        rows_without_demographics=audit_data.rows_without_demographics if audit_data else 0,
        table=measured.table,
    )


def _provenance(
    request: AuditRequest, loaded_policy: LoadedPolicy, measured: _Measured, created: str, started: float
) -> Provenance:
    return Provenance(
        tool_version=__version__,
        library_versions=library_versions(),
        seed=request.seed,
        created_at=created,
        command_line=request.command_line,
        model_sha256=measured.loaded.sha256 if measured.loaded else None,
        data_sha256=measured.data_sha256,
        policy_sha256=loaded_policy.sha256,
        duration_seconds=round(time.perf_counter() - started, 3),
    )


def _written(
    request: AuditRequest, result: AuditResult, space: Workspace, created: str, suffix: str | None
) -> AuditOutcome:
    """Write the audit folder (unless ``write=False``); hand over its claim with ``keep_claim``."""
    if not request.write:
        return AuditOutcome(result=result, folder=None)
    root = request.output_root or space.audits_dir
    claim = AuditFolder.reserve(
        safe_join(root, request.name, request.version), compact_stamp(created), suffix=suffix
    )
    result = result.model_copy(update={"audit_id": claim.audit_id})
    try:
        folder = write_audit_folder(result, claim, figures=request.figures)
    except BaseException:
        claim.release()
        raise
    if request.keep_claim:
        return AuditOutcome(result=result, folder=folder, claim=claim)
    claim.release()
    return AuditOutcome(result=result, folder=folder)
