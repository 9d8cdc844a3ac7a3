"""One audit, from files to a verdict: intake -> fairness -> explanation -> policy -> files on disk.

``audit()`` is the Python API that mirrors ``governance audit``; it returns the :class:`AuditResult` and, unless
``write=False``, writes ``audits/<model>/<version>/<audit-id>/`` atomically (a crash leaves no half-written folder).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from governance.audit.folders import AuditFolder, compact_stamp, new_audit_id
from governance.audit.spec import AuditShape, enforce_spec
from governance.errors import ExplainError, InputError
from governance.intake.data import AuditData, check_columns_early, load_audit_data, missing_labels_message
from governance.intake.model_files import LoadedModel, Vouching, load_model
from governance.paths import safe_join
from governance.provenance import isoformat, library_versions, now, sha256_json
from governance.results.audit import AuditResult, DataInfo, ModelInfo, Provenance
from governance.results.fairness import FairnessResult
from governance.rules.evaluate import evaluate_policy
from governance.rules.load import LoadedPolicy, load_policy
from governance.rules.schema import ExplainRule
from governance.version import __version__
from governance.workspace import Workspace, find_workspace

if TYPE_CHECKING:
    import numpy as np

    from governance.results.explain import ExplanationResult

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): stages are "fairness" and "explain"."""


@dataclass(frozen=True)
class AuditOutcome:
    """The result and where it was written (``None`` with ``write=False``).

    ``claim`` is set only with ``audit(keep_claim=True)``: the caller records the audit, then releases it.
    """

    result: AuditResult
    folder: Path | None
    claim: AuditFolder | None = None

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
            "pass one of those with --positive-label."
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
            f"The model could not predict on the data ({type(exc).__name__}: {exc}); check that --features names the "
            "columns the model was trained on."
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
                raise InputError(
                    f"--threshold {threshold:g} is not a probability; the model scores with probabilities from 0 to 1, "
                    "so give a threshold between them, for example --threshold 0.5."
                )
        elif hasattr(estimator, "decision_function"):
            decision = np.asarray(estimator.decision_function(X))
            scores = decision if index == 1 else -decision
        if threshold is not None:
            if scores is None:
                raise InputError("--threshold needs a model with predict_proba or decision_function.")
            other = classes[1 - index]
            y_pred = np.where(scores >= threshold, label, other)
    elif threshold is not None:
        raise InputError("--threshold applies to binary classifiers only; leave it out for this model.")
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
            "decisions; pass 0/1 decisions, or scores with --scores and a --threshold, or audit the numbers with "
            "--policy regression."
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


def _is_parquet(path: str | Path) -> bool:
    return Path(path).suffix.lower() in {".parquet", ".pq"}


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
    from governance.testhooks import pause_at

    def fill(staging: Path) -> None:
        written = write_figures(result, staging / "figures") if figures else {}
        pause_at("figures")
        (staging / "audit.json").write_text(result.model_dump_json(indent=2) + "\n", encoding="utf-8")
        (staging / "report.md").write_text(render_report(result, figures=written), encoding="utf-8")

    return claim.publish(fill)


def check_distinct_columns(
    *, target: str | None, predictions: str | None, scores: str | None, sensitive: Sequence[str]
) -> None:
    """One column in two roles would audit a thing against itself (predictions as their own truth: no errors)."""
    roles = [("--target", target), ("--predictions", predictions), ("--scores", scores)]
    roles += [("--sensitive", column) for column in sensitive]
    seen: dict[str, str] = {}
    for option, column in roles:
        if column is None:
            continue
        if column in seen and (option, seen[column]) != ("--sensitive", "--sensitive"):
            raise InputError(
                f"The column {column!r} is given both as {seen[column]} and as {option}; each role needs its own "
                "column (the true outcome, the model's decisions, its scores and the sensitive attributes)."
            )
        seen.setdefault(column, option)


def check_explain_options(budget: float, rows: int | None) -> None:
    """Refuse explanation options that could only make the explainer fail, before any work is done."""
    import math

    if not (math.isfinite(budget) and budget > 0):
        raise InputError(
            f"--explain-budget must be a positive number of seconds, not {budget:g}; for example --explain-budget 60."
        )
    if rows is not None and rows < 1:
        raise InputError(
            f"--explain-rows must be at least 1, not {rows}; leave it out to explain every row the budget allows."
        )


MAX_SEED = 2**32 - 1  # what every random generator the audit uses accepts (numpy's legacy ones stop here)
MAX_N_BOOT = 100_000  # the most a policy may ask for


def check_run_options(*, seed: int, threshold: float | None = None, n_boot: int | None = None) -> None:
    """Refuse a seed, threshold or resample count that numpy could only reject with a traceback, or that means nothing."""
    import math

    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(
            f"--seed must be a whole number from 0 to {MAX_SEED}, not {seed}; for example --seed 0."
        )
    if threshold is not None and not math.isfinite(threshold):
        raise InputError(f"--threshold must be a number, not {threshold}; for example --threshold 0.5.")
    if n_boot is not None and not 0 <= n_boot <= MAX_N_BOOT:
        raise InputError(
            f"--n-boot must be from 0 to {MAX_N_BOOT:,} resamples, not {n_boot:,}; 1,000 is usually enough."
        )


def _why_not_explained(loaded: LoadedModel | None, explain: bool) -> str | None:
    """In words, why the audit has no explanation (``None`` when one was attempted)."""
    if loaded is None:
        return "the audit ran on saved predictions, so there is no model to explain"
    if not explain:
        return "it was skipped with --no-explain"
    return None


def _explain(
    loaded: LoadedModel,
    data: AuditData,
    loaded_policy: LoadedPolicy,
    *,
    budget: float,
    rows: int | None,
    seed: int,
    positive_label: Any,
    threshold: float | None,
    progress: Progress | None,
) -> tuple[ExplanationResult | None, str | None]:
    from governance.audit.explain import explain_model

    ks = [rule.k for rule in loaded_policy.policy.rules if isinstance(rule, ExplainRule)]
    try:
        explanation = explain_model(
            loaded.estimator,
            data.X,
            sensitive=data.sensitive_frame,
            budget_seconds=budget,
            max_rows=rows,
            top_k=max(ks, default=5),
            seed=seed,
            positive_label=positive_label,
            threshold=threshold,
            progress=(lambda done, total: progress("explain", done, total)) if progress else None,
        )
    except ExplainError as error:
        return None, str(error)
    except Exception as error:  # an explainer crash must not lose the fairness audit
        return None, f"the explainer stopped with {type(error).__name__}: {error}"
    return explanation, None


def audit(
    *,
    name: str,
    version: str,
    data: str | Path,
    sensitive: Sequence[str],
    target: str | None = None,
    model: str | Path | None = None,
    predictions: str | None = None,
    scores: str | None = None,
    trust_sha256: str | None = None,
    pinned_sha256: str | None = None,
    vouching: Vouching | None = None,
    trusted_by: str | None = None,
    features: Sequence[str] | None = None,
    sensitive_data: str | Path | None = None,
    id_column: str | None = None,
    weights: str | None = None,
    threshold: float | None = None,
    positive_label: Any = None,
    policy: str = "default",
    strict: bool = False,
    explain: bool = True,
    explain_budget: float = 60.0,
    explain_rows: int | None = None,
    n_boot: int | None = None,
    seed: int = 0,
    ll144_rate: Literal["selection", "scoring"] = "selection",
    workspace: Workspace | None = None,
    output_root: Path | None = None,
    write: bool = True,
    figures: bool = True,
    command_line: str = "",
    progress: Progress | None = None,
    override: str | None = None,
    keep_claim: bool = False,
    reproducible_id: bool = False,
) -> AuditOutcome:
    """Audit a model (or its predictions) for bias and explainability and judge it against a policy.

    An audit that departs from the model's pinned specification (``governance.yaml``) is refused unless
    ``override`` gives the reason (see :mod:`governance.audit.spec`). The audit id is the UTC second plus a random
    suffix (``reproducible_id``: a hash of the inputs, for the demo). ``keep_claim`` hands the written folder's
    claim to the caller, who records the audit and then releases it (see :mod:`governance.audit.folders`).
    A model file that runs code when loaded
    needs ``vouching`` (the register's) or ``trust_sha256`` (given by ``trusted_by``); the result names who vouched.
    """
    import numpy as np

    from governance.audit.fairness import compute_fairness
    from governance.audit.fairness._inputs import check_label_columns, column_nouns

    started = time.perf_counter()
    check_explain_options(explain_budget, explain_rows)
    check_run_options(seed=seed, threshold=threshold, n_boot=n_boot)
    check_distinct_columns(target=target, predictions=predictions, scores=scores, sensitive=sensitive)
    space = workspace or find_workspace()
    if (model is None) == (predictions is None):
        raise InputError(
            "Give either --model FILE (a model to run) or --predictions COL (its saved predictions), not both."
        )
    loaded_policy = load_policy(policy, workspace_root=space.root)
    rules = loaded_policy.policy
    n_boot_used = rules.n_boot if n_boot is None else n_boot
    fairness_progress = (lambda done, total: progress("fairness", done, total)) if progress else None
    loaded: LoadedModel | None = None
    audit_data: AuditData | None = None
    label = positive_label
    nouns = column_nouns(predictions=predictions, target=target)
    streamed = None
    if predictions is not None and scores is None and sensitive_data is None and _is_parquet(data):
        # A prediction log: stream it, so that files larger than memory can be audited.
        from governance.audit.fairness.streaming import AmountsNotClassesError, count_parquet

        if threshold is not None:
            raise InputError("--threshold needs --scores; saved predictions are already decisions.")
        try:
            streamed = count_parquet(
                data,
                predictions=predictions,
                sensitive=list(sensitive),
                target=target,
                weights=weights,
                positive_label=positive_label,
                before_counting=lambda task, classes: check_task_fits_policy(
                    task, classes, loaded_policy, predictions=predictions
                ),
            )
        except AmountsNotClassesError:
            streamed = None  # a regression: its rows are read in memory below
    if streamed is not None:
        from governance.audit.fairness import compute_fairness_from_counts

        fairness = compute_fairness_from_counts(
            streamed.table,
            reference=rules.reference,
            reference_groups=rules.reference_groups or None,
            n_boot=n_boot_used,
            confidence_level=rules.confidence_level,
            seed=seed,
            min_group_size=rules.min_group_size,
            progress=fairness_progress,
            intersections=rules.intersections,
        )
        data_sha, n_rows, audited_features = streamed.sha256, streamed.n_rows, []
    else:
        if model is not None:
            if sensitive_data is None:  # a wrong path or column is refused now, not after loading the model
                check_columns_early(
                    data, target=target, sensitive=sensitive, id_column=id_column, weights=weights
                )
            loaded = load_model(
                model,
                trust_sha256=trust_sha256,
                pinned_sha256=pinned_sha256,
                vouching=vouching,
                trusted_by=trusted_by,
            )
        audit_data = load_audit_data(
            data,
            target=target,
            sensitive=sensitive,
            features=features,
            sensitive_data=sensitive_data,
            id_column=id_column,
            weights=weights,
            extra_columns=[c for c in (predictions, scores) if c],
            model=loaded.estimator if loaded else None,
        )
        frame = audit_data.frame
        score_values = None
        if loaded is not None:
            y_pred, score_values, label = predict(
                loaded, audit_data.X, threshold=threshold, positive_label=positive_label
            )
        elif predictions is not None:
            if frame[predictions].isna().any():
                missing = int(frame[predictions].isna().sum())
                raise InputError(missing_labels_message(predictions, missing, role="predictions"))
            y_pred = frame[predictions].to_numpy()
            if scores:
                score_values = _score_values(frame, scores)
                if threshold is not None:
                    y_pred = (score_values >= threshold).astype(int)
        y_true = frame[target].to_numpy() if target else None
        task, classes = check_label_columns(np.asarray(y_pred), y_true, nouns=nouns)
        check_task_fits_policy(task, classes, loaded_policy, predictions=predictions)
        fairness = compute_fairness(
            y_pred=y_pred,
            y_true=y_true,
            scores=score_values,
            task=task,
            sample_weight=frame[weights].to_numpy(dtype=float) if weights else None,
            sensitive=audit_data.sensitive_frame,
            positive_label=label,
            reference=rules.reference,
            reference_groups=rules.reference_groups or None,
            n_boot=n_boot_used,
            confidence_level=rules.confidence_level,
            seed=seed,
            min_group_size=rules.min_group_size,
            ll144_rate=ll144_rate,
            progress=fairness_progress,
            intersections=rules.intersections,
        )
        data_sha, n_rows = audit_data.sha256, len(frame)
        audited_features = audit_data.features if loaded else []

    shape = AuditShape(
        policy=loaded_policy,
        policy_arg=policy,
        sensitive=sensitive,
        explain=explain,
        has_model=loaded is not None,
        n_rows=n_rows,
    )
    spec_override = enforce_spec(space, name=name, override=override, audit=shape)
    fairness = _with_category_notes(fairness)
    explanation, explanation_error = None, None
    if loaded is not None and audit_data is not None and explain:
        explanation, explanation_error = _explain(
            loaded,
            audit_data,
            loaded_policy,
            budget=explain_budget,
            rows=explain_rows,
            seed=seed,
            positive_label=label,
            threshold=threshold,
            progress=progress,
        )

    verdict = evaluate_policy(
        rules,
        fairness,
        policy_path=loaded_policy.path.name,
        policy_sha256=loaded_policy.sha256,
        explanation=explanation,
        explanation_error=explanation_error,
        explanation_skipped=_why_not_explained(loaded, explain),
        strict=strict,
    )
    created = isoformat(now())
    suffix = (
        _reproducible_suffix(
            loaded.sha256 if loaded else None,
            data_sha,
            loaded_policy.sha256,
            seed,
            list(sensitive),
            target,
            predictions,
            scores,
            threshold,
        )
        if reproducible_id
        else None
    )
    audit_id = new_audit_id(compact_stamp(created), suffix)
    model_info = ModelInfo(
        name=name,
        version=version,
        kind="model" if loaded else "predictions",
        path=_shown_path(loaded.path, space.root) if loaded else None,
        sha256=loaded.sha256 if loaded else None,
        estimator=loaded.description if loaded else None,
        loader=loaded.loader if loaded else None,
        trusted_types=loaded.trusted_types if loaded else [],
        threshold=threshold,
        vouched_by=loaded.vouched_by if loaded else None,
        vouched_at=loaded.vouched_at if loaded else None,
        predictions_column=predictions,
        scores_column=scores,
        sensitive_inputs=[name for name in audited_features if name in set(sensitive)],
    )
    data_info = DataInfo(
        path=_shown_path(Path(data), space.root),
        sha256=data_sha,
        n_rows=n_rows,
        target=target,
        sensitive=list(sensitive),
        features=list(audited_features),
        features_source=audit_data.features_source if loaded and audit_data else None,
        sensitive_data_path=_shown_path(Path(sensitive_data), space.root) if sensitive_data else None,
        sensitive_data_sha256=audit_data.sensitive_data_sha256 if audit_data else None,
        id_column=id_column,
        weights_column=weights,
        rows_without_demographics=audit_data.rows_without_demographics if audit_data else 0,
    )
    provenance = Provenance(
        tool_version=__version__,
        library_versions=library_versions(),
        seed=seed,
        created_at=created,
        command_line=command_line,
        model_sha256=loaded.sha256 if loaded else None,
        data_sha256=data_sha,
        policy_sha256=loaded_policy.sha256,
        duration_seconds=round(time.perf_counter() - started, 3),
    )
    result = AuditResult(
        audit_id=audit_id,
        model=model_info,
        data=data_info,
        fairness=fairness,
        explanation=explanation,
        explanation_error=explanation_error,
        policy=verdict,
        provenance=provenance,
        override=spec_override,
    )
    folder, claim = None, None
    if write:
        root = output_root or space.audits_dir
        claim = AuditFolder.reserve(safe_join(root, name, version), compact_stamp(created), suffix=suffix)
        result = result.model_copy(update={"audit_id": claim.audit_id})
        try:
            folder = write_audit_folder(result, claim, figures=figures)
        except BaseException:
            claim.release()
            raise
        if not keep_claim:
            claim.release()
            claim = None
    return AuditOutcome(result=result, folder=folder, claim=claim)
