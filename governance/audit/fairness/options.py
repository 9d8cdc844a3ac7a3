"""The settings of a fairness computation, carried as one object from the policy or the caller to the engine."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from governance.audit.fairness._groups import Intersections


@dataclass(frozen=True)
class FairnessOptions:
    """How groups are compared and how sure the intervals are; ``compute_fairness`` and
    ``compute_fairness_from_counts`` take one (or its fields as keywords), and an audit builds one from its policy.
    """

    reference: Literal["largest", "named", "highest"] = "largest"  # the group the others are compared with
    reference_groups: dict[str, str] | None = None  # with reference="named": {column: group}
    intersections: bool | Intersections = "all"  # which combinations of sensitive columns are audited too
    n_boot: int = 1000  # bootstrap resamples for AUC, Brier and regression metrics (rates need none)
    confidence_level: float = 0.95
    seed: int = 0
    min_group_size: int = 30  # smaller groups are reported, not judged
    ll144_rate: Literal["selection", "scoring"] = "selection"  # NYC LL144 tables from decisions or scores

    def with_settings(self, settings: dict[str, Any]) -> FairnessOptions:
        """These options with some fields given as keywords instead (a misspelt name is refused)."""
        known = {field.name for field in fields(self)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise TypeError(f"{unknown[0]!r} is not a fairness option ({', '.join(sorted(known))})")
        return replace(self, **settings) if settings else self
