"""Words for the NYC LL144 tables, which are built from selection rates or, with ``--ll144-rate scoring``, from
scoring rates (the share scoring above the median). One place, so that the terminal, ``report.md``, the figures
and the site never call a scoring rate a selection rate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from governance.results.commands import option_of

if TYPE_CHECKING:
    from governance.results.common import Estimate

RateKind = Literal["selection", "scoring"]


@dataclass(frozen=True)
class RateWords:
    """How one kind of LL144 rate is named."""

    rate: str  # "selection rate"
    counted: str  # the column of people counted: "Selected"
    top: str  # the reference category: "most-selected category"
    top_group: str  # the same, in the terminal: "most-selected group"
    metric: str  # the policy rule's metric in a verdict sentence


_WORDS: dict[str, RateWords] = {
    "selection": RateWords(
        "selection rate", "Selected", "most-selected category", "most-selected group", "selection rate"
    ),
    "scoring": RateWords(
        "scoring rate",
        "Above median",
        "highest-scoring category",
        "highest-scoring group",
        "scoring rate (share scoring above the median)",
    ),
}


def rate_words(rate_kind: str) -> RateWords:
    """The words for ``rate_kind`` (``selection`` or ``scoring``)."""
    return _WORDS[rate_kind]


def level_words(confidence_level: float) -> str:
    """A confidence level in words, ``95 %`` or ``99.9 %``: never rounded up to a '100 %' that reads as certainty."""
    percent = confidence_level * 100
    return f"{round(percent)} %" if abs(percent - round(percent)) < 1e-9 else f"{percent:.10g} %"


def vouched_words(vouched_by: str | None, vouched_at: str | None) -> str:
    """Who vouched that a model file may run code when loaded, as a clause: "vouched for by ana@x on 2026-11-23"."""
    when = f" on {vouched_at[:10]}" if vouched_at else f" with {option_of('trust')} when auditing"
    return f"vouched for by {vouched_by or 'whoever ran the audit'}{when}"


def short_number(value: float | None) -> str:
    """A number in three significant digits for the terminal; ``n/a`` when there is none."""
    return "n/a" if value is None else f"{value:.3g}"


def short_estimate(estimate: Estimate | None) -> str:
    """An estimate as ``0.812 [0.78, 0.84]`` (the interval when there is one); ``-`` when there is none."""
    if estimate is None:
        return "-"
    if estimate.low is None or estimate.high is None:
        return short_number(estimate.value)
    return f"{short_number(estimate.value)} [{short_number(estimate.low)}, {short_number(estimate.high)}]"


def interval_words(estimate: Estimate | None, *, digits: str = ".3g", missing: str = "n/a") -> str:
    """An estimate as ``0.812 (0.78 to 0.84)`` (the interval when there is one); ``missing`` when there is none."""
    if estimate is None or estimate.value is None:
        return missing
    if estimate.low is None or estimate.high is None:
        return format(estimate.value, digits)
    return f"{estimate.value:{digits}} ({estimate.low:{digits}} to {estimate.high:{digits}})"
