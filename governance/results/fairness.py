"""Results of the fairness computation (``governance.audit.fairness``).

Semantics follow fairlearn's ``MetricFrame``: per-group values, differences and ratios to a reference
group, to the overall value, and between groups (max - min, min / max). Every number carries a bootstrap
interval when one was computed. Group names are strings; intersections join levels with `` × ``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, PrivateAttr, model_serializer

from governance.results.common import Estimate, Frozen

Task = Literal["binary", "multiclass", "regression"]
ReferenceMethod = Literal["largest", "named", "highest"]

# Metric keys. Binary classification, per group:
BINARY_METRICS = (
    "selection_rate",  # share predicted positive
    "base_rate",  # share actually positive (needs labels)
    "tpr",  # true positive rate / recall / equal opportunity
    "fpr",
    "fnr",
    "tnr",
    "precision",  # positive predictive value
    "npv",  # negative predictive value
    "accuracy",
)
SCORE_METRICS = ("auc", "brier")  # when scores exist (and labels)
REGRESSION_METRICS = ("mean_prediction", "mean_target", "mae", "rmse")


# What each count metric is computed over: the minimum group size applies to this count, not to rows.
DENOMINATORS = {
    "selection_rate": "rows",
    "base_rate": "rows",
    "accuracy": "rows",
    "tpr": "actual positives",
    "fnr": "actual positives",
    "fpr": "actual negatives",
    "tnr": "actual negatives",
    "precision": "predicted positives",
    "npv": "predicted negatives",
}


class RateCount(Frozen):
    """The counts behind one group's rate, from which every interval of the rate is computed.

    ``rows`` is the unweighted size of the denominator (what the minimum group size is checked against);
    ``k`` and ``n`` are the (Kish effective, with sample weights) successes and trials.
    """

    k: float
    n: float
    rows: int


class GroupResult(Frozen):
    """One group's size and metrics."""

    group: str  # "female", or "female × 25-34" for an intersection
    levels: dict[str, str]  # column -> level, e.g. {"sex": "female"}
    n: int  # rows (unweighted)
    weight: float  # sum of sample weights (= n without weights)
    share: float  # weight / total weight of the attribute's rows, unknowns included
    is_unknown: bool = False  # the explicit "Unknown" group for missing sensitive values
    metrics: dict[str, Estimate]
    counts: dict[str, RateCount] = Field(default_factory=dict)  # count metrics: what each rate is made of
    below_min_size: bool = False  # n < FairnessResult.min_group_size: rules on this group are inconclusive


class Comparison(Frozen):
    """A group's metric compared with a reference (a group or ``"overall"``)."""

    metric: str
    group: str
    reference: str
    difference: Estimate  # group - reference
    ratio: Estimate  # group / reference
    p_value: float | None = None  # Fisher exact or chi-square, group vs reference (count metrics)
    p_value_holm: float | None = None  # Holm-corrected across the attribute's groups


class Spread(Frozen):
    """Between groups, as fairlearn: ``max - min`` and ``min / max`` over the attribute's known groups."""

    metric: str
    difference: Estimate
    ratio: Estimate
    min_group: str | None = None
    max_group: str | None = None


class LL144Row(Frozen):
    """One category of a NYC Local Law 144 impact-ratio table."""

    category: str
    n: int
    selected: int  # selected, or scoring above the median
    rate: float | None
    impact_ratio: float | None
    impact_ratio_low: float | None = None
    impact_ratio_high: float | None = None
    share: float  # of the rows with known category
    under_two_percent: bool
    p_value: float | None = None  # Fisher exact or chi-square against the most-selected category
    p_value_holm: float | None = None  # Holm-corrected across the table's categories


class LL144Table(Frozen):
    """Selection (or scoring) rates and impact ratios against the most-selected category."""

    attribute: str
    rate_kind: Literal["selection", "scoring"]
    median_score: float | None = None  # the cut for scoring rates
    rows: list[LL144Row]
    most_selected: str | None
    unknown_count: int
    reference_candidates: list[str] = Field(default_factory=list)  # categories big enough to be the reference


class AttributeFields(Frozen):
    """The fields of ``AttributeResult``: what audit.json holds for one attribute, written as they are."""

    attribute: str  # "sex", or "sex × age_band"
    columns: list[str]
    is_intersection: bool
    reference_group: str | None
    reference_method: ReferenceMethod
    groups: list[GroupResult]  # sorted by group name; Unknown last
    to_reference: list[Comparison]  # every known non-reference group x every metric
    to_overall: list[Comparison]
    between_groups: list[Spread]
    summaries: dict[
        str, Estimate
    ]  # demographic_parity_difference/_ratio, equalized_odds_*, equal_opportunity_*
    empty_cells: list[str]  # intersection cells with no rows (reported, dropped)
    unknown_count: int
    ll144: LL144Table | None = None
    positive_class: str | None = None  # multiclass: the class this one-vs-rest result is about


class AttributeResult(AttributeFields):
    """Everything computed for one sensitive attribute or one intersection of attributes."""

    # An audit of 2,500 intersection cells holds some 250,000 records; the computation keeps their numbers as
    # arrays and hands over a maker per field, run the first time the field is read or the result is written.
    _later: Mapping[str, Callable[[], Any]] | None = PrivateAttr(default=None)

    @classmethod
    def with_records_later(cls, makers: Mapping[str, Callable[[], Any]], **fields: Any) -> AttributeResult:
        """The result with ``fields`` validated now and the fields of ``makers`` made when first needed."""
        unknown = set(makers) - set(DEFERRABLE)
        if unknown:
            raise TypeError(
                f"only {', '.join(DEFERRABLE)} can be made later, not {', '.join(sorted(unknown))}"
            )
        result = cls(**fields, **{name: DEFERRABLE[name] for name in makers})  # placeholders, checked once
        for name in makers:
            del result.__dict__[name]
        result.__pydantic_private__["_later"] = dict(makers)  # type: ignore[index]
        return result

    def made(self) -> AttributeResult:
        """Every deferred field made (a no-op for a result read from audit.json); returns itself."""
        later = self.__pydantic_private__.get("_later") if self.__pydantic_private__ else None
        if later is not None:
            collecting = gc.isenabled()
            gc.disable()  # records hold no cycles; the collector would walk every one made so far, many times
            try:
                for name, maker in later.items():
                    if name not in self.__dict__:
                        self.__dict__[name] = maker()
            finally:
                if collecting:
                    gc.enable()
            self._settle()
        return self

    def _settle(self) -> None:
        """Once every field is made: fields back in their declared order (audit.json's), no makers kept."""
        ordered = {name: self.__dict__[name] for name in type(self).model_fields}
        self.__dict__.clear()
        self.__dict__.update(ordered)
        self.__pydantic_private__["_later"] = None  # type: ignore[index]

    if not TYPE_CHECKING:  # as pydantic's own: type checkers should not accept any attribute

        def __getattr__(self, item: str) -> Any:
            private = object.__getattribute__(self, "__pydantic_private__")
            later = private.get("_later") if private and item in DEFERRABLE else None
            if later is not None and item in later:
                value = self.__dict__[item] = later[item]()
                if all(name in self.__dict__ for name in later):
                    self._settle()
                return value
            return super().__getattr__(item)

    @model_serializer(mode="plain")
    def _serialise_made(self) -> AttributeFields:
        """Written with its fields' own serialiser once every field is made (a wrapping one would copy it all)."""
        return self.made()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, AttributeResult):
            self.made()
            other.made()
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]  # it holds lists: never hashable, as before

    def __iter__(self) -> Iterator[tuple[str, Any]]:  # type: ignore[override]
        self.made()
        return super().__iter__()

    def __repr_args__(self) -> Any:
        self.made()
        return super().__repr_args__()

    def __getstate__(self) -> dict[Any, Any]:
        self.made()
        return super().__getstate__()


# The fields an AttributeResult may make later, with the placeholder validated in their place.
DEFERRABLE: dict[str, Any] = {"groups": [], "to_reference": [], "to_overall": [], "ll144": None}


class FairnessResult(Frozen):
    """The whole fairness computation for one audit."""

    task: Task
    has_labels: bool
    has_scores: bool
    weighted: bool
    classes: list[str] = Field(default_factory=list)  # multiclass: the class labels
    positive_label: str | None = None  # binary: the label counted as selected
    n_rows: int
    total_weight: float
    overall: dict[str, Estimate]
    attributes: list[AttributeResult]  # binary/regression; multiclass: one per (attribute, class)
    n_boot: int
    confidence_level: float
    seed: int
    min_group_size: int = 30  # groups with fewer rows are flagged (GroupResult.below_min_size)
    notes: list[str] = Field(
        default_factory=list
    )  # plain-language remarks (e.g. "no labels: only selection rates")
    interval_methods: dict[str, str] = Field(
        default_factory=dict
    )  # what kind of number -> how its interval is made
