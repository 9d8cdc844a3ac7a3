"""What changed between two audits: every group's numbers side by side, with an interval for the change itself.

Each audit keeps, for every group and count metric, the counts behind the rate (``GroupResult.counts``: successes
``k`` of ``n``). The change interval draws every group's rate in both audits together: each draw takes a rate per
group from its Jeffreys posterior, Beta(k + 1/2, n - k + 1/2) (a smoothed resample of the counts that never sticks
at 0 % or 100 %), computes every rate, ratio and difference from the same draw, and takes after - before. So a ratio
and its reference group move together, and "changed" means the percentile interval of after - before excludes 0.
Coverage of these intervals is measured in ``benchmarks/monitoring/run.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from governance.results.audit import AuditResult, RuleOutcome
from governance.results.common import Estimate
from governance.results.fairness import AttributeResult, GroupResult
from governance.results.monitoring import (
    AuditDiff,
    AuditSide,
    MetricChange,
    Movement,
    Quantity,
    RuleChange,
)
from governance.rules.schema import Bound

DRAWS = 4000
METHOD = (
    "Each group's rate is drawn from its Jeffreys posterior Beta(k + 1/2, n - k + 1/2) in both audits, "
    f"{DRAWS} times; every rate, ratio and difference is computed from the same draws and the percentile "
    "interval of after - before is reported."
)
_SEVERITY_ORDER = {"pass": 0, "not_applicable": 0, "inconclusive": 1, "fail": 2}
_RULE_QUANTITY: dict[str, Quantity] = {
    "impact_ratio": "impact_ratio",
    "ratio_to_reference": "ratio_to_reference",
    "difference_to_reference": "difference_to_reference",
    "value": "value",
}


@dataclass(frozen=True)
class _Side:
    """One audit's attribute: its groups' draws per metric, and the points to report."""

    attribute: AttributeResult
    draws: dict[str, dict[str, np.ndarray]]  # metric -> group -> (DRAWS,) rates


def compare_audits(
    before: AuditResult,
    after: AuditResult,
    *,
    tolerance: float = 0.05,
    seed: int = 0,
    draws: int = DRAWS,
) -> AuditDiff:
    """Compare two audits (``before`` is the older); ``tolerance`` is how much worse a ruled metric may get."""
    rng = np.random.default_rng(seed)
    level = after.fairness.confidence_level
    metrics: list[MetricChange] = []
    added: list[str] = []
    lost: list[str] = []
    old_attributes = {_key(a): a for a in before.fairness.attributes}
    new_attributes = {_key(a): a for a in after.fairness.attributes}
    directions = _directions(after.policy.rules or before.policy.rules, after)
    for key in [*new_attributes, *(k for k in old_attributes if k not in new_attributes)]:
        old, new = old_attributes.get(key), new_attributes.get(key)
        if old is None or new is None:
            continue
        old_groups = {g.group for g in old.groups}
        new_groups = {g.group for g in new.groups}
        added += [f"{new.attribute} = {g}" for g in sorted(new_groups - old_groups)]
        lost += [f"{old.attribute} = {g}" for g in sorted(old_groups - new_groups)]
        a, b = _side(old, rng, draws), _side(new, rng, draws)
        metrics += _attribute_changes(a, b, level=level, directions=directions, tolerance=tolerance)
    rules = _rule_changes(before.policy.rules, after.policy.rules)
    worse = _worse_sentences(rules, metrics, tolerance, level)
    return AuditDiff(
        before=_describe(before),
        after=_describe(after),
        called_out=[
            *_called_out(before, after, old_attributes, new_attributes),
            *reference_changes(before, after),
        ],
        groups_added=added,
        groups_lost=lost,
        rules=rules,
        metrics=metrics,
        worse=worse,
        tolerance=tolerance,
        confidence_level=level,
        draws=draws,
        seed=seed,
        method=METHOD,
    )


def _key(attribute: AttributeResult) -> tuple[str, str]:
    return attribute.attribute, attribute.positive_class or ""


def _describe(result: AuditResult) -> AuditSide:
    return AuditSide(
        audit_id=result.audit_id,
        model=result.model.name,
        version=result.model.version,
        created_at=result.provenance.created_at,
        verdict=result.policy.verdict,
        policy_name=result.policy.policy_name,
        policy_sha256=result.policy.policy_sha256,
        data_sha256=result.data.sha256,
        data_path=result.data.path,
        n_rows=result.data.n_rows,
        sensitive=list(result.data.sensitive),
    )


def _side(attribute: AttributeResult, rng: np.random.Generator, draws: int) -> _Side:
    """Jeffreys draws of every group's count metrics (known groups with counts only)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for group in attribute.groups:
        for metric, count in group.counts.items():
            k, n = max(count.k, 0.0), max(count.n, 0.0)
            if n <= 0:
                continue
            out.setdefault(metric, {})[group.group] = rng.beta(k + 0.5, max(n - k, 0.0) + 0.5, size=draws)
    return _Side(attribute=attribute, draws=out)


def change_interval(before: np.ndarray, after: np.ndarray, level: float) -> tuple[float, float]:
    """The percentile interval of after - before over paired draws."""
    delta = after - before
    delta = delta[np.isfinite(delta)]
    if delta.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(delta, [tail, 100.0 - tail])
    return float(low), float(high)


def _attribute_changes(
    a: _Side,
    b: _Side,
    *,
    level: float,
    directions: dict[tuple[str, Quantity], tuple[str, Bound]],
    tolerance: float,
) -> list[MetricChange]:
    rows: list[MetricChange] = []
    for metric in sorted(set(a.draws) & set(b.draws)):
        for quantity in _quantities(metric):
            reference = _common_reference(a, b, metric, quantity)
            before = _quantity(a, metric, quantity, reference)
            after = _quantity(b, metric, quantity, reference)
            for group in sorted(set(before) | set(after)):
                rows.append(
                    _row(
                        b.attribute,
                        group,
                        metric,
                        quantity,
                        before.get(group),
                        after.get(group),
                        level=level,
                        direction=directions.get((metric, quantity)),
                        tolerance=tolerance,
                    )
                )
    return rows


def _quantities(metric: str) -> tuple[Quantity, ...]:
    base: tuple[Quantity, ...] = ("value", "ratio_to_reference", "difference_to_reference")
    return (*base, "impact_ratio") if metric == "selection_rate" else base


def _reference(side: _Side, quantity: Quantity) -> str | None:
    if quantity == "impact_ratio":
        table = side.attribute.ll144
        return table.most_selected if table is not None else None
    return side.attribute.reference_group


def _common_reference(a: _Side, b: _Side, metric: str, quantity: Quantity) -> str | None:
    """The newer audit's reference group, if both audits have it; else the older one's: one reference for both."""
    if quantity == "value":
        return None
    if quantity == "impact_ratio":
        return _reference(b, quantity) or _reference(a, quantity)
    for candidate in (_reference(b, quantity), _reference(a, quantity)):
        if candidate is not None and candidate in a.draws[metric] and candidate in b.draws[metric]:
            return candidate
    return None


def reference_changes(before: AuditResult, after: AuditResult) -> list[str]:
    """Attributes whose reference group differs between the audits (ratios then use the newer one's)."""
    old = {_key(a): a.reference_group for a in before.fairness.attributes}
    notes = []
    for attribute in after.fairness.attributes:
        was = old.get(_key(attribute))
        if was is not None and attribute.reference_group is not None and was != attribute.reference_group:
            notes.append(
                f"The reference group of {attribute.attribute} changed from {was} to {attribute.reference_group}; "
                f"ratios and differences of both audits are compared against {attribute.reference_group}."
            )
    return notes


def _quantity(
    side: _Side, metric: str, quantity: Quantity, reference: str | None
) -> dict[str, tuple[Estimate, np.ndarray, str | None]]:
    """group -> (the point estimate, draws, reference group) of one quantity."""
    draws = side.draws[metric]
    groups = {g.group: g for g in side.attribute.groups if not g.is_unknown}
    if quantity == "value":
        return {
            name: (groups[name].metrics.get(metric, Estimate(value=None)), d, None)
            for name, d in draws.items()
            if name in groups
        }
    if quantity == "impact_ratio":
        return _impact_ratios(side, metric)
    if reference is None:
        return {}
    ref_draws = draws[reference]
    own = reference == _reference(side, quantity)
    points = _points(side.attribute, metric, quantity) if own else {}
    ref_rate = _rate(groups[reference], metric)
    out: dict[str, tuple[Estimate, np.ndarray, str | None]] = {}
    for name, d in draws.items():
        if name == reference or name not in groups:
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            value = d - ref_draws if quantity == "difference_to_reference" else d / ref_draws
        point = points.get(name) or Estimate(value=_combine(_rate(groups[name], metric), ref_rate, quantity))
        out[name] = (point, value, reference)
    return out


def _impact_ratios(side: _Side, metric: str) -> dict[str, tuple[Estimate, np.ndarray, str | None]]:
    """Each group's rate over the most-selected group's, the maximum taken in every draw (as the rule defines it)."""
    table = side.attribute.ll144
    draws = side.draws[metric]
    if table is None or table.most_selected is None:
        return {}
    candidates = [g for g in (table.reference_candidates or list(draws)) if g in draws]
    if not candidates:
        return {}
    top = np.max(np.stack([draws[g] for g in candidates]), axis=0)
    points = _points(side.attribute, metric, "impact_ratio")
    return {
        row.category: (points[row.category], draws[row.category] / top, table.most_selected)
        for row in table.rows
        if row.category in draws
    }


def _rate(group: GroupResult, metric: str) -> float | None:
    count = group.counts.get(metric)
    return count.k / count.n if count is not None and count.n > 0 else None


def _combine(rate: float | None, reference: float | None, quantity: Quantity) -> float | None:
    if rate is None or reference is None:
        return None
    if quantity == "difference_to_reference":
        return rate - reference
    return rate / reference if reference > 0 else None


def _points(attribute: AttributeResult, metric: str, quantity: Quantity) -> dict[str, Estimate]:
    """The audit's own reported estimates of a ratio or difference (with the audit's intervals)."""
    if quantity == "impact_ratio":
        table = attribute.ll144
        if table is None:
            return {}
        return {
            row.category: Estimate(
                value=row.impact_ratio, low=row.impact_ratio_low, high=row.impact_ratio_high
            )
            for row in table.rows
        }
    found = {}
    for comparison in attribute.to_reference:
        if comparison.metric == metric:
            found[comparison.group] = (
                comparison.ratio if quantity == "ratio_to_reference" else comparison.difference
            )
    return found


def _row(
    new: AttributeResult,
    group: str,
    metric: str,
    quantity: Quantity,
    before: tuple[Estimate, np.ndarray, str | None] | None,
    after: tuple[Estimate, np.ndarray, str | None] | None,
    *,
    level: float,
    direction: tuple[str, Bound] | None,
    tolerance: float,
) -> MetricChange:
    change = None
    beyond = worsened = False
    if before is not None and after is not None:
        low, high = change_interval(before[1], after[1], level)
        b, a = before[0].value, after[0].value
        point = a - b if a is not None and b is not None else None
        change = Estimate(value=point, low=low, high=high)
        beyond = change.has_interval and (high < 0 or low > 0)
        if direction is not None and change.has_interval:
            worsened = (high < -tolerance) if direction[0] == "lower" else (low > tolerance)
    return MetricChange(
        attribute=new.attribute,
        group=group,
        metric=metric,
        quantity=quantity,
        reference=(after or before or (None, None, None))[2],
        before=before[0] if before is not None else None,
        after=after[0] if after is not None else None,
        change=change,
        beyond_noise=bool(beyond),
        worse_direction=direction[0] if direction is not None else None,  # type: ignore[arg-type]
        worsened=bool(worsened),
    )


def _directions(
    rules: Iterable[RuleOutcome], result: AuditResult
) -> dict[tuple[str, Quantity], tuple[str, Bound]]:
    """Which way is worse for each ruled (metric, quantity): away from the bound's pass side."""
    found: dict[tuple[str, Quantity], tuple[str, Bound]] = {}
    for rule in rules:
        quantity = _RULE_QUANTITY.get(rule.comparison)
        if quantity is None:
            continue
        try:
            bound = Bound.parse(rule.bound)
        except ValueError:
            continue
        if bound.low is not None and bound.high is None:
            found[(rule.metric, quantity)] = ("lower", bound)
        elif bound.high is not None and bound.low is None:
            found[(rule.metric, quantity)] = ("higher", bound)
        # "between": worse is away from the middle, which depends on the side; judged on the rule outcome only
    return found


def _rule_changes(before: list[RuleOutcome], after: list[RuleOutcome]) -> list[RuleChange]:
    old = {r.rule_id: r for r in before}
    new = {r.rule_id: r for r in after}
    changes = []
    for rule_id in [*old, *(r for r in new if r not in old)]:
        b, a = old.get(rule_id), new.get(rule_id)
        changes.append(
            RuleChange(
                rule_id=rule_id,
                severity=(a or b).severity,  # type: ignore[union-attr]
                before=b.status if b else None,
                after=a.status if a else None,
                movement=_movement(b.status if b else None, a.status if a else None),
            )
        )
    return changes


def _movement(before: str | None, after: str | None) -> Movement:
    if before is None:
        return "new"
    if after is None:
        return "gone"
    step = _SEVERITY_ORDER[after] - _SEVERITY_ORDER[before]
    return "worse" if step > 0 else "better" if step < 0 else "same"


def _worse_sentences(
    rules: list[RuleChange], metrics: list[MetricChange], tolerance: float, level: float
) -> list[str]:
    sentences = [
        f"The blocking rule {r.rule_id} moved from {r.before} to {r.after}."
        for r in rules
        if r.severity == "block" and r.before == "pass" and r.after in ("fail", "inconclusive")
    ]
    for m in metrics:
        if m.worsened and m.change is not None:
            sentences.append(
                f"{_label(m)} for {m.attribute} = {m.group} moved from {_fmt(m.before)} to {_fmt(m.after)}: a change "
                f"of {_num(m.change.value)} ({round(level * 100)} % interval {_num(m.change.low)} to "
                f"{_num(m.change.high)}), worse than the tolerance of {tolerance:g} over the whole interval."
            )
    return sentences


def _label(m: MetricChange) -> str:
    words = {
        "value": m.metric,
        "impact_ratio": f"impact ratio of {m.metric}",
        "ratio_to_reference": f"{m.metric} ratio to {m.reference}",
        "difference_to_reference": f"{m.metric} difference to {m.reference}",
    }
    return words[m.quantity].capitalize()


def _fmt(estimate: Estimate | None) -> str:
    return "n/a" if estimate is None else _num(estimate.value)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3g}"


def _called_out(
    before: AuditResult,
    after: AuditResult,
    old_attributes: dict[tuple[str, str], AttributeResult],
    new_attributes: dict[tuple[str, str], AttributeResult],
) -> list[str]:
    """Changes to the audit itself, to read before comparing numbers."""
    notes = []
    if before.model.name != after.model.name:
        notes.append(f"The audits are of different models: {before.model.name} and {after.model.name}.")
    if before.model.sha256 != after.model.sha256 or before.model.version != after.model.version:
        notes.append(
            f"The model changed: {before.model.name}@{before.model.version} and {after.model.name}@{after.model.version} "
            "are different files."
        )
    if before.policy.policy_sha256 != after.policy.policy_sha256:
        notes.append(
            f"The policy changed ({before.policy.policy_name} {before.policy.policy_sha256[:12]} -> "
            f"{after.policy.policy_name} {after.policy.policy_sha256[:12]}): a rule outcome may move because the rule "
            "moved."
        )
    if before.data.sha256 != after.data.sha256:
        notes.append(
            f"The data changed ({before.data.path}, {before.data.n_rows} rows -> {after.data.path}, "
            f"{after.data.n_rows} rows)."
        )
    for name in sorted({k[0] for k in new_attributes} - {k[0] for k in old_attributes}):
        notes.append(f"The attribute {name} is audited only in the newer audit.")
    for name in sorted({k[0] for k in old_attributes} - {k[0] for k in new_attributes}):
        notes.append(f"The attribute {name} is audited only in the older audit.")
    if before.fairness.has_labels != after.fairness.has_labels:
        notes.append(
            "Only one of the audits had labels, so error rates are compared only where both have them."
        )
    if before.fairness.confidence_level != after.fairness.confidence_level:
        notes.append(
            f"The confidence level changed ({before.fairness.confidence_level:g} -> "
            f"{after.fairness.confidence_level:g}); the change intervals use the newer one."
        )
    return notes
