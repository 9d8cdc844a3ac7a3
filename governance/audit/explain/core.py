"""The explainability audit of one model: ``explain_model`` turns a model and data into an ExplanationResult."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from governance.audit.explain.attribution import (
    BACKGROUND_ROWS,
    LINEAR_BACKGROUND_ROWS,
    Attributions,
    background_sample,
    compute_attributions,
    make_engine,
)
from governance.audit.explain.importance import beeswarm_sample, by_group, global_importance
from governance.audit.explain.proxy import DEFAULT_PROXY_THRESHOLD, likely_proxies, proxy_screen
from governance.audit.explain.reasons import (
    build_statement,
    decisions,
    default_threshold,
    typical_values,
)
from governance.audit.explain.view import ModelView, describe, is_linear, view_model
from governance.errors import FieldError, InputError
from governance.results.explain import ExplanationResult, ProxyHit, ReasonStatement

if TYPE_CHECKING:
    import pandas as pd

SHAP_SHARE = 0.8  # of the budget for SHAP values; the rest covers the proxy screen, bootstrap and example
ADDITIVITY_TOLERANCE = 1e-4


def _check_inputs(
    X: pd.DataFrame,
    sensitive: pd.DataFrame,
    budget_seconds: float,
    max_rows: int | None,
    top_k: int,
    n_boot: int,
) -> None:
    if X.shape[1] == 0:
        raise FieldError(
            "features", "There are no feature columns to explain; name the model's inputs with {field}."
        )
    if len(sensitive) != len(X):
        raise InputError(
            f"The sensitive columns have {len(sensitive)} rows but the data has {len(X)}; align them row by row."
        )
    if not budget_seconds > 0:
        raise InputError(
            f"The explanation budget must be a positive number of seconds, not {budget_seconds}."
        )
    if max_rows is not None and max_rows < 1:
        raise FieldError("max_rows", f"{{field}} must be at least 1, not {max_rows}.")
    if top_k < 1:
        raise InputError(f"top_k must be at least 1, not {top_k}.")
    if n_boot < 0:
        raise InputError(f"The number of bootstrap resamples cannot be negative ({n_boot}).")
    duplicated = X.columns[X.columns.duplicated()]
    if len(duplicated):
        raise InputError(f"The column '{duplicated[0]}' appears twice in the data; give each column once.")


def model_inputs(model: Any, X: pd.DataFrame, sensitive: pd.DataFrame) -> pd.DataFrame:
    """The columns the model was trained on, in its order, chosen by the audit's own rule.

    A sensitive column the model uses may have been kept out of ``X``; it is taken from ``sensitive``.
    Columns the model never saw are left out: they cannot move its output.
    """
    from governance.intake.data import choose_input_columns, recorded_inputs

    if recorded_inputs(model) is None:
        return X
    borrowed = [str(c) for c in sensitive.columns if c not in X.columns]
    frame = X.join(sensitive[borrowed]) if borrowed else X
    names = choose_input_columns(
        list(frame.columns), model=model, features=None, sensitive=[], excluded=(), source="the data"
    ).names
    if [str(c) for c in X.columns] == names:
        return X
    return frame[names]


def explain_model(
    model: Any,
    X: pd.DataFrame,
    *,
    sensitive: pd.DataFrame,
    budget_seconds: float = 60.0,
    max_rows: int | None = None,
    top_k: int = 5,
    n_boot: int = 200,
    seed: int = 0,
    positive_label: Any = None,
    threshold: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    proxy_threshold: float = DEFAULT_PROXY_THRESHOLD,
    confidence_level: float = 0.95,
    row_names: Sequence[Any] | None = None,
) -> ExplanationResult:
    """Explain ``model`` on ``X`` within ``budget_seconds``: importance, groups, proxy screen and an example.

    ``X`` holds the model's raw input columns; ``sensitive`` the sensitive attributes, row by row with ``X``
    (a sensitive column that is also in ``X`` is one the model uses). ``positive_label`` is the favourable
    outcome; ``threshold`` the probability a binary classifier needs for it (default: its own decision).
    Raises ExplainError when shap cannot explain the model.
    """
    started = time.perf_counter()
    _check_inputs(X, sensitive, budget_seconds, max_rows, top_k, n_boot)
    X = X.reset_index(drop=True)
    sensitive = sensitive.reset_index(drop=True)
    X = model_inputs(model, X, sensitive)
    view = view_model(model, X, positive_label=positive_label, seed=seed)
    features = view.features
    sensitive_names = [str(c) for c in sensitive.columns]
    in_model = [f for f in features if f in set(sensitive_names)]

    size = LINEAR_BACKGROUND_ROWS if view.final is not None and is_linear(view.final) else BACKGROUND_ROWS
    picks, method = background_sample(view, X, size, seed)
    background = X.iloc[picks]
    shap_deadline = started + SHAP_SHARE * budget_seconds
    engine = make_engine(view, background, seed, X, max(0.0, shap_deadline - time.perf_counter()))
    order = np.random.default_rng(seed).permutation(len(X))
    wanted = min(len(X), max_rows) if max_rows is not None else len(X)
    attributions = compute_attributions(
        view,
        X,
        rows=order[:wanted],
        background=background,
        background_method=method,
        budget_seconds=max(0.0, shap_deadline - time.perf_counter()),
        seed=seed,
        engine=engine,
        progress=progress,
    )
    values = attributions.values
    explained = attributions.rows
    importance_of = partial(
        global_importance,
        features=features,
        top_k=top_k,
        n_boot=n_boot,
        seed=seed,
        confidence_level=confidence_level,
        sensitive=sensitive_names,
    )
    importance, top, stability = importance_of(values)
    per_class = {}
    if attributions.per_output is not None:
        for index, label in enumerate(view.classes):
            per_class[str(label)], _, _ = importance_of(attributions.per_output[:, :, index])
    groups = by_group(
        values, features, sensitive, explained, n_boot=n_boot, seed=seed, confidence_level=confidence_level
    )
    proxies = proxy_screen(X, sensitive, threshold=proxy_threshold, seed=seed)
    example = _example_statement(
        view,
        X,
        values,
        explained,
        in_model,
        threshold,
        row_names=row_names,
        sensitive_attributes=sensitive_names,
        proxies=likely_proxies(proxies),
    )

    notes, ok = _notes(
        attributions, view, budget_seconds=budget_seconds, wanted=wanted, total=len(X), in_model=in_model
    )
    folded = {
        feature: len(columns)
        for feature, columns in zip(features, view.groups, strict=False)
        if len(columns) > 1 and attributions.kind != "permutation"
    }
    return ExplanationResult(
        explainer=attributions.kind,  # type: ignore[arg-type]
        explainer_class=attributions.explainer_class,
        estimator=describe(model),
        task=view.task,
        output_space=attributions.output_space,  # type: ignore[arg-type]
        output_label=attributions.output_label,
        classes=[str(c) for c in view.classes],
        positive_label=None if view.positive_label is None else str(view.positive_label),
        features=features,
        folded_columns=folded,
        sensitive_attributes=sensitive_names,
        sensitive_features_in_model=in_model,
        rows_total=len(X),
        rows_explained=len(explained),
        background_size=attributions.background_size,
        background_method=attributions.background_method,
        budget_seconds=float(budget_seconds),
        budget_limited=attributions.budget_limited,
        seconds_taken=round(time.perf_counter() - started, 3),
        additivity_max_error=attributions.additivity_max_error,
        additivity_ok=bool(ok),
        base_value=float(attributions.base_value[0]),
        seed=seed,
        n_boot=n_boot,
        confidence_level=confidence_level,
        top_k=top_k,
        importance=importance,
        per_class_importance=per_class,
        top_k_features=top,
        top_k_stability=stability,
        by_group=groups,
        proxies=proxies,
        proxy_threshold=proxy_threshold,
        likely_proxies=likely_proxies(proxies),
        example_reasons=example,
        beeswarm=beeswarm_sample(values, X.iloc[explained], [i.feature for i in importance], seed=seed),
        notes=notes,
    )


def _notes(
    attributions: Attributions,
    view: ModelView,
    *,
    budget_seconds: float,
    wanted: int,
    total: int,
    in_model: list[str],
) -> tuple[list[str], bool]:
    """What a reader must know to read the explanation (rows cut, classes, sensitive inputs, inexact sums), and
    whether the SHAP values add up to the model's output within the tolerance."""
    notes = list(attributions.notes)
    if attributions.budget_limited:
        notes.append(
            f"To fit the {budget_seconds:g}-second budget, {len(attributions.rows)} of {wanted} rows were explained "
            "(a random sample); raise explain_budget for more."
        )
    elif wanted < total:
        notes.append(f"{wanted} of {total} rows were explained (a random sample), as max_rows asked.")
    if view.task == "multiclass":
        notes.append(
            f"The model has {len(view.classes)} classes; the main tables explain the class "
            f"'{view.positive_label}', and importance is also given for each class."
        )
    if in_model:
        notes.append(
            "The model takes the sensitive attribute(s) "
            + ", ".join(f"'{name}'" for name in in_model)
            + " as input; they are ranked like any feature but never given as reasons."
        )
    scale = float(np.max(np.abs(attributions.output))) if attributions.output.size else 1.0
    ok = attributions.additivity_max_error <= ADDITIVITY_TOLERANCE * max(1.0, scale)
    if not ok:
        notes.append(
            f"For some rows the SHAP values do not add up exactly to the model's output (largest gap "
            f"{attributions.additivity_max_error:.3g} in {attributions.output_label}), a known inexactness of "
            f"shap's {attributions.kind} explainer on some scikit-learn forests; the ranking of features is "
            "still usable, but read single rows with care."
        )
    return notes, bool(ok)


def _example_statement(
    view: Any,
    X: pd.DataFrame,
    values: np.ndarray,
    explained: np.ndarray,
    sensitive_columns: Sequence[str],
    threshold: float | None,
    *,
    row_names: Sequence[Any] | None,
    sensitive_attributes: Sequence[str] = (),
    proxies: Sequence[ProxyHit] = (),
) -> ReasonStatement | None:
    """A reason statement for a typical adverse decision among the explained rows (reference: all rows)."""
    if view.task == "regression" and threshold is None:
        return None
    # Decisions of the explained rows only: a slow model is not run over the whole file again.
    scores, decided, adverse = decisions(view, X.iloc[explained], threshold)
    candidates = [i for i in range(len(explained)) if adverse[i]]
    if not candidates:
        return None
    # The adverse decision with the median score: a typical case, not the most extreme one.
    candidates.sort(key=lambda i: (scores[i], explained[i]))
    chosen = candidates[len(candidates) // 2]
    position = int(explained[chosen])
    name = f"row {position}" if row_names is None else str(row_names[position])
    return build_statement(
        row_name=name,
        values=values[chosen],
        raw=X.iloc[position],
        features=view.features,
        sensitive_columns=sensitive_columns,
        typical=typical_values(X),
        score=float(scores[chosen]),
        decision=str(decided[chosen]),
        adverse=True,
        threshold=threshold if threshold is not None else default_threshold(view),
        reference="all",
        reference_size=len(X),
        reference_text="all applicants in the data",
        sensitive_attributes=sensitive_attributes,
        proxies=proxies,
    )
