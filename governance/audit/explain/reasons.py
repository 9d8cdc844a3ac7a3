"""Reason codes: the few features that pushed one person's decision towards the adverse outcome.

An adverse-action notice (Reg B) or a GDPR Art. 15(1)(h) answer needs the main reasons, in words, for one
decision. Each person's SHAP values are taken against a reference population (everyone, or the people
near the decision threshold), so a reason means "compared with that population, this value counted
against you". Only features the model actually scores (a non-zero attribution) can be reasons.

Sensitive attributes are left out of the reasons, and the statement says so only when some were named. A
feature that gives a sensitive attribute away (a likely proxy in the proxy screen, such as ``age`` for
``age_band``) is still given when the model relied on it, because hiding it would make the other reasons
misleading; the statement then says plainly which sensitive attribute it tracks, for a reviewer to decide.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from governance.audit.explain.attribution import (
    BACKGROUND_ROWS,
    LINEAR_BACKGROUND_ROWS,
    background_sample,
    compute_attributions,
)
from governance.audit.explain.proxy import DEFAULT_PROXY_THRESHOLD, likely_proxies, proxy_screen
from governance.audit.explain.view import ModelView, is_linear, view_model
from governance.errors import ExplainError, InputError
from governance.results.explain import ProxyHit, Reason, ReasonStatement

if TYPE_CHECKING:
    import pandas as pd

Reference = Literal["all", "near_threshold"]
NEAR_SHARE = 0.10  # "near the threshold": the tenth of rows whose score is closest to it
NEAR_MIN_ROWS = 30
MAX_REASONS = 4


def _fmt_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "missing"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    return str(value)


def default_threshold(view: ModelView) -> float | None:
    """The score at which a binary classifier decides: 0.5 on probabilities, 0 on decision scores."""
    if view.task != "binary":
        return None
    return 0.5 if hasattr(view.model, "predict_proba") else 0.0


def decisions(
    view: ModelView, X: pd.DataFrame, threshold: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the score, the decision as text, and whether it is adverse."""
    scores = view.score(X)
    if view.task == "regression":
        if threshold is None:
            raise ExplainError(
                "Reason codes for a regression model need {threshold}: predictions below it count as adverse.",
                fields=["threshold"],
            )
        adverse = scores < threshold
        decided = np.where(adverse, f"below {threshold:g}", f"at or above {threshold:g}").astype(object)
        return scores, decided, adverse
    if threshold is not None and view.task == "binary":
        other = view.classes[1 - int(view.positive_index or 0)]
        favourable = scores >= threshold
        decided = np.where(favourable, str(view.positive_label), str(other)).astype(object)
        return scores, decided, ~favourable
    predicted = view.predict(X)
    decided = np.asarray([str(p) for p in predicted], dtype=object)
    adverse = decided != str(view.positive_label)
    return scores, decided, adverse


def reference_rows(
    view: ModelView, scores: np.ndarray, reference: Reference, threshold: float | None
) -> tuple[np.ndarray, str]:
    """Row positions of the reference population and its plain description."""
    n = len(scores)
    if reference == "all":
        return np.arange(n), "all applicants in the data"
    cut = threshold if threshold is not None else default_threshold(view)
    if cut is None:
        raise ExplainError(
            "The reference 'near_threshold' needs a decision threshold; pass {threshold}, or use the reference 'all'.",
            fields=["threshold"],
        )
    size = min(n, max(NEAR_MIN_ROWS, int(np.ceil(NEAR_SHARE * n))))
    nearest = np.sort(np.argsort(np.abs(scores - cut), kind="stable")[:size])
    return nearest, f"the {size} applicants whose score was closest to the decision threshold ({cut:g})"


def typical_values(reference: pd.DataFrame) -> dict[str, tuple[str, float | None]]:
    """Per column: the typical value as text (median or most common level) and the median for numbers."""
    import pandas as pd

    typical: dict[str, tuple[str, float | None]] = {}
    for column in reference.columns:
        series = reference[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            median = float(series.median()) if series.notna().any() else float("nan")
            typical[str(column)] = (_fmt_value(median), median)
        else:
            counts = series.astype(object).value_counts(dropna=False)
            mode = counts.index[0] if len(counts) else None
            # Ties go to the alphabetically first level, so the text does not depend on row order.
            tied = (
                [level for level, count in counts.items() if count == counts.iloc[0]] if len(counts) else []
            )
            if len(tied) > 1:
                mode = sorted(tied, key=str)[0]
            typical[str(column)] = (_fmt_value(mode), None)
    return typical


def reason_text(feature: str, value: Any, typical: str, median: float | None) -> str:
    """One sentence for one reason."""
    shown = _fmt_value(value)
    if median is not None and not np.isnan(median) and isinstance(value, (int, float, np.number)):
        number = float(value)
        if number > median:
            return f"{feature} is {shown}, higher than the typical {typical}, and this counted against the application."
        if number < median:
            return f"{feature} is {shown}, lower than the typical {typical}, and this counted against the application."
        return f"{feature} is {shown} (typical: {typical}), and with the other values this counted against the application."
    if shown == typical:
        return f"{feature} is '{shown}' (also the most common), and with the other values this counted against the application."
    return f"{feature} is '{shown}' (most common: '{typical}'), and this counted against the application."


def build_statement(
    *,
    row_name: str,
    values: np.ndarray,
    raw: pd.Series,
    features: Sequence[str],
    sensitive_columns: Sequence[str],
    typical: dict[str, tuple[str, float | None]],
    score: float,
    decision: str,
    adverse: bool,
    threshold: float | None,
    reference: Reference,
    reference_size: int,
    reference_text: str,
    max_reasons: int = MAX_REASONS,
    sensitive_attributes: Sequence[str] | None = None,
    proxies: Sequence[ProxyHit] = (),
) -> ReasonStatement:
    """Turn one row's attributions into at most ``max_reasons`` plain reasons and a statement.

    ``sensitive_columns`` are left out of the reasons; ``sensitive_attributes`` (default: the same) are the
    attributes named for the check, and ``proxies`` the likely stand-ins for them, flagged when given.
    """
    excluded = set(sensitive_columns)
    named = list(sensitive_columns if sensitive_attributes is None else sensitive_attributes)
    stands_in_for: dict[str, str] = {}
    for hit in sorted(proxies, key=lambda h: (-h.strength, h.feature, h.attribute)):
        stands_in_for.setdefault(hit.feature, hit.attribute)
    scale = float(np.max(np.abs(values))) if len(values) else 0.0
    tolerance = 1e-9 * max(1.0, scale)
    candidates = [j for j, f in enumerate(features) if f not in excluded and values[j] < -tolerance]
    candidates.sort(key=lambda j: (values[j], features[j]))
    reasons = []
    for j in candidates[: max(0, min(max_reasons, MAX_REASONS))]:
        feature = features[j]
        value = raw.iloc[j]
        text_typical, median = typical[feature]
        reasons.append(
            Reason(
                feature=feature,
                value=_fmt_value(value),
                reference_value=text_typical,
                contribution=float(values[j]),
                text=reason_text(feature, value, text_typical, median),
                stands_in_for=stands_in_for.get(feature),
            )
        )
    outcome = f"'{decision}'"
    if adverse:
        opening = f"The decision for {row_name} was {outcome}."
    else:
        opening = f"The decision for {row_name} was {outcome}, the favourable outcome."
    if reasons:
        listed = " ".join(f"({i}) {reason.text}" for i, reason in enumerate(reasons, start=1))
        body = f"Compared with {reference_text}, the main factors that counted against a favourable outcome were: {listed}"
    else:
        body = f"Compared with {reference_text}, no single factor counted against a favourable outcome."
    closing = _closing(reasons, named)
    return ReasonStatement(
        row=row_name,
        decision=decision,
        adverse=bool(adverse),
        score=float(score),
        threshold=threshold,
        reference=reference,
        reference_rows=reference_size,
        reasons=reasons,
        statement=f"{opening} {body} {closing}",
    )


def _closing(reasons: Sequence[Reason], named: Sequence[str]) -> str:
    """What was screened out of the reasons, and which reasons stand in for a sensitive attribute."""
    if not named:
        return (
            "No sensitive characteristic was named for this check, so none was screened out of these reasons; "
            "review them before sending."
        )
    closing = "The sensitive characteristics checked for are never given as reasons."
    for number, reason in enumerate(reasons, start=1):
        if reason.stands_in_for is not None:
            closing += (
                f" Note: reason ({number}), {reason.feature}, is given because the model relied on it, but "
                f"{reason.feature} closely tracks {reason.stands_in_for}, a sensitive characteristic; review this "
                "before the statement is sent."
            )
    return closing


def reason_codes(
    model: Any,
    X: pd.DataFrame,
    *,
    rows: Sequence[int] | None,
    sensitive_columns: Sequence[str],
    reference: Reference = "all",
    max_reasons: int = MAX_REASONS,
    positive_label: Any = None,
    threshold: float | None = None,
    row_names: Sequence[Any] | None = None,
    budget_seconds: float | None = None,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    sensitive_data: pd.DataFrame | None = None,
    proxy_threshold: float = DEFAULT_PROXY_THRESHOLD,
) -> list[ReasonStatement]:
    """Reason statements for ``rows`` (positions in ``X``), or for every adverse decision when ``rows`` is None.

    ``positive_label`` is the favourable outcome; with ``threshold`` a binary classifier's decision is
    "favourable when its probability is at least the threshold". ``row_names`` (for example the id column)
    name the rows in the statements. ``budget_seconds`` bounds the time (None: explain every row asked).
    ``sensitive_data`` (the sensitive columns, row for row) runs the proxy screen, so that a reason which gives a
    sensitive attribute away is flagged in its statement.
    """
    if reference not in ("all", "near_threshold"):
        raise InputError(f"The reference must be 'all' or 'near_threshold', not {reference!r}.")
    if not 1 <= max_reasons <= MAX_REASONS:
        raise InputError(f"Give between 1 and {MAX_REASONS} reasons, not {max_reasons}.")
    if row_names is not None and len(row_names) != len(X):
        raise InputError("The row names must match the data row for row.")
    view = view_model(model, X, positive_label=positive_label, seed=seed)
    scores, decided, adverse = decisions(view, X, threshold)
    if rows is None:
        targets = np.flatnonzero(adverse)
    else:
        targets = np.asarray(list(rows), dtype=int)
        if len(targets) and (targets.min() < 0 or targets.max() >= len(X)):
            raise InputError(f"A row asked for is outside the data, which has {len(X)} rows.")
    if len(targets) == 0:
        return []
    ref_rows, ref_text = reference_rows(view, scores, reference, threshold)
    reference_frame = X.iloc[ref_rows]
    size = LINEAR_BACKGROUND_ROWS if view.final is not None and is_linear(view.final) else BACKGROUND_ROWS
    picks, method = background_sample(view, reference_frame, size, seed)
    attributions = compute_attributions(
        view,
        X,
        rows=targets,
        background=reference_frame.iloc[picks],
        background_method=method,
        budget_seconds=budget_seconds,
        seed=seed,
        progress=progress,
    )
    typical = typical_values(reference_frame)
    hits: list[ProxyHit] = []
    if sensitive_data is not None and sensitive_data.shape[1]:
        hits = likely_proxies(proxy_screen(X, sensitive_data, threshold=proxy_threshold, seed=seed))
    named = [
        *sensitive_columns,
        *(str(c) for c in (sensitive_data.columns if sensitive_data is not None else [])),
    ]
    cut = threshold if threshold is not None else default_threshold(view)
    statements = []
    for i, position in enumerate(attributions.rows):
        name = f"row {position}" if row_names is None else str(row_names[position])
        statements.append(
            build_statement(
                row_name=name,
                values=attributions.values[i],
                raw=X.iloc[position],
                features=view.features,
                sensitive_columns=sensitive_columns,
                typical=typical,
                score=float(scores[position]),
                decision=str(decided[position]),
                adverse=bool(adverse[position]),
                threshold=cut,
                reference=reference,
                reference_size=len(ref_rows),
                reference_text=ref_text,
                max_reasons=max_reasons,
                sensitive_attributes=list(dict.fromkeys(named)),
                proxies=hits,
            )
        )
    return statements
