"""Results of the explainability audit (``governance.audit.explain``). Owned by the explain module.

Attributions are SHAP values on the model's **raw input columns** (one-hot columns folded back into the
column they came from), in the model's output space (``output_space``): log-odds for a linear or boosted
classifier, probability for a forest or the permutation explainer, the prediction for a regressor.
A positive attribution pushes the output towards ``positive_label`` (or up, for a regressor).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from governance.results.common import Estimate, Frozen

ExplainerKind = Literal["tree", "linear", "permutation"]
OutputSpace = Literal["log_odds", "probability", "raw"]
ExplainTask = Literal["binary", "multiclass", "regression"]


class FeatureImportance(Frozen):
    """Mean |SHAP| of one raw feature over the explained rows, with a bootstrap interval."""

    feature: str
    mean_abs: Estimate  # mean |SHAP| with its bootstrap percentile interval
    share: float  # mean_abs.value / sum over features (0..1)
    rank: int  # 1 = most important
    top_k_frequency: float  # share of bootstrap resamples in which the feature is among the top k
    is_sensitive: bool = False  # the feature is itself a sensitive attribute


class GroupAttribution(Frozen):
    """One sensitive group's mean |SHAP| and mean SHAP per feature."""

    group: str
    n: int
    small: bool  # fewer rows than the minimum for a stable mean (30): read with care
    mean_abs: dict[str, float]
    mean: dict[str, float]


class GroupDifference(Frozen):
    """A feature whose average push differs between the groups of one attribute."""

    feature: str
    spread: float  # max - min over the groups of the mean SHAP
    highest_group: str
    highest: float
    lowest_group: str
    lowest: float
    difference: Estimate | None = (
        None  # highest - lowest, with a bootstrap interval (within-group resampling)
    )
    clear: bool | None = None  # the whole interval is above zero: not explained by chance alone


class AttributeExplanation(Frozen):
    """Attributions by group for one sensitive attribute."""

    attribute: str
    binned: bool = False  # a numeric attribute cut into quantile bands for grouping
    groups: list[GroupAttribution]  # sorted by group name; Unknown last
    most_different: list[GroupDifference]  # largest spread first


class ProxyScore(Frozen):
    """How much one feature reveals one sensitive attribute."""

    feature: str
    attribute: str
    cramers_v: float  # 0 = unrelated, 1 = one determines the other (numerics binned into quantiles)
    auc: float  # cross-validated AUC of predicting the attribute from this feature alone (0.5 = chance)
    strength: float  # the screen's score, 0..1: 2 x AUC - 1 (0 = reveals nothing, 1 = gives it away)
    likely_proxy: bool  # strength >= the screen's threshold


class ProxyHit(Frozen):
    """A likely proxy: a feature that reveals a sensitive attribute."""

    feature: str
    attribute: str
    strength: float


class Reason(Frozen):
    """One feature that pushed one decision towards the adverse outcome."""

    feature: str
    value: str  # the person's value, as text
    reference_value: str  # the reference population's typical value (median, or most common level)
    contribution: float  # SHAP against the reference population (negative: towards the adverse outcome)
    text: str  # one plain sentence
    stands_in_for: str | None = None  # the sensitive attribute this feature is a likely proxy for, if any


class ReasonStatement(Frozen):
    """The main reasons for one person's decision, worded for an adverse-action or GDPR statement."""

    row: str  # the row's id (the --id-column value) or its position
    decision: str  # the predicted outcome
    adverse: bool
    score: float | None  # probability of the favourable outcome (classifiers) or the prediction
    threshold: float | None
    reference: Literal["all", "near_threshold"]
    reference_rows: int
    reasons: list[Reason]  # at most four, strongest first; never a sensitive attribute; proxies flagged
    statement: str  # the whole statement in plain words


class BeeswarmSample(Frozen):
    """A sample of per-row attributions for the beeswarm figure (features in importance order)."""

    features: list[str]
    shap: list[list[float]]  # per feature, one value per sampled row
    colour: list[list[float | None]]  # per feature, the row's value scaled 0..1 (None: categorical)


class ExplanationResult(Frozen):
    """Global and per-group attributions, proxy screen and reason-code example for one audit."""

    explainer: ExplainerKind
    explainer_class: str  # the shap class used, e.g. "TreeExplainer"
    estimator: str  # e.g. "Pipeline(ColumnTransformer, LogisticRegression)"
    task: ExplainTask
    output_space: OutputSpace
    output_label: str  # plain words: "log-odds of '1'", "probability of 'good'", "the prediction"
    classes: list[str] = Field(default_factory=list)
    positive_label: str | None = None  # the favourable outcome (what "selected" means)
    features: list[str]  # the raw columns explained
    # raw column -> number of model columns folded into it (only those with more than one)
    folded_columns: dict[str, int] = Field(default_factory=dict)
    sensitive_attributes: list[str]
    # sensitive columns the model itself takes as input
    sensitive_features_in_model: list[str] = Field(default_factory=list)
    rows_total: int
    rows_explained: int
    background_size: int
    background_method: str  # plain words
    budget_seconds: float
    budget_limited: bool  # fewer rows explained than asked, to fit the budget
    seconds_taken: float
    additivity_max_error: float  # max |sum of SHAP + base value - model output| over the explained rows
    additivity_ok: bool
    base_value: float  # the expected output over the background (primary output)
    seed: int
    n_boot: int
    confidence_level: float
    top_k: int
    importance: list[FeatureImportance]  # the primary output; most important first
    # multiclass: importance for each class
    per_class_importance: dict[str, list[FeatureImportance]] = Field(default_factory=dict)
    top_k_features: list[str]
    top_k_stability: float  # share of bootstrap resamples whose top-k set equals the reported one
    by_group: list[AttributeExplanation] = Field(default_factory=list)
    proxies: list[ProxyScore] = Field(default_factory=list)
    proxy_threshold: float
    likely_proxies: list[ProxyHit] = Field(default_factory=list)  # strongest first
    example_reasons: ReasonStatement | None = None
    beeswarm: BeeswarmSample | None = None
    notes: list[str] = Field(default_factory=list)

    def sensitive_in_top(self, k: int) -> list[str]:
        """Sensitive attributes the model takes as input that rank among its ``k`` most important features."""
        top = [item.feature for item in self.importance[:k]]
        sensitive = set(self.sensitive_attributes)
        return [feature for feature in top if feature in sensitive]

    def proxies_in_top(self, k: int, threshold: float) -> list[ProxyHit]:
        """Features among the ``k`` most important whose proxy strength for an attribute is at least ``threshold``."""
        top = {item.feature: item.rank for item in self.importance[:k]}
        hits = [
            ProxyHit(feature=s.feature, attribute=s.attribute, strength=s.strength)
            for s in self.proxies
            if s.feature in top and s.strength >= threshold
        ]
        return sorted(hits, key=lambda h: (top[h.feature], -h.strength, h.attribute))
