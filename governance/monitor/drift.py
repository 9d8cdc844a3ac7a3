"""Per-window numbers with intervals, and the drift checks that raise alerts.

Every window's group rates carry Wilson intervals and their ratios to the reference group Miettinen-Nurminen score
intervals, as in an audit. Drift is judged against the approved audit's own counts, so the approved value's
uncertainty is part of every check:

- fairness: a group's ratio of a rate to the reference group's, window against approved (log scale, Haldane
  corrected, both audits' variances added);
- performance: a group's error rate (labelled rows only, and only once the window's label coverage passes the
  policy's threshold), window against approved (Newcombe's square-and-add of Clopper-Pearson limits);
- population: the PSI of the groups' shares against the approved audit's, and of each model input against the
  approved audit's data, over ``psi_threshold`` and beyond sampling noise (``n * PSI`` against its chi-square
  quantile).

Multiplicity over windows: the policy's ``false_alarm_rate`` (default 5 %) is the chance of any false alert in one
run over stable data. Half of it is shared, Bonferroni, over every (window, check) pair: one window alerts alone
only when its adjusted interval excludes the approved value (plus the tolerance). The other half goes to sustained
runs, shared equally over the checks followed window by window: an alert when ``k`` consecutive windows each lie
beyond their 60 % interval on the same side, with ``k`` the shortest run for which ``2 x windows x P(run of k)``
stays within the check's share. The windows of one check share the approved value's error, so ``P(run of k)`` is
integrated over that error (``run_probability``) rather than taken as ``0.2 ** k``. The run catches a drift too
small to show in one window; the single window catches a sudden large one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from governance.intervals import score_ratio, wilson, z_for
from governance.monitor.windows import WindowTable
from governance.results.audit import AuditResult
from governance.results.common import Estimate
from governance.results.fairness import AttributeResult
from governance.results.monitoring import Alert, WindowGroup, WindowResult
from governance.rules.schema import AlertRule, Monitoring

RUN_TAIL = 0.20  # a sustained run: each window beyond its 60 % interval (one side: 20 %)
# metric -> (numerator, denominator) over counts[..., label state, decision]; label states: none, 0, 1
# (the metrics in their order in results)
WINDOW_METRICS = ("selection_rate", "base_rate", "accuracy", "tpr", "fnr", "fpr", "tnr", "precision", "npv")
LOWER_IS_WORSE = {"accuracy", "tpr", "tnr", "precision", "npv"}
HIGHER_IS_WORSE = {"fpr", "fnr"}


def fractions(c: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(k, n) of every count metric from counts shaped (..., 3, 2); error rates use labelled rows only."""
    from governance.audit.fairness.rates import confusion_fractions

    labelled = confusion_fractions(tp=c[..., 2, 1], fn=c[..., 2, 0], fp=c[..., 1, 1], tn=c[..., 1, 0])
    # Selection counts every decision, labelled or not.
    labelled["selection_rate"] = (c[..., :, 1].sum(axis=-1), c.sum(axis=(-2, -1)))
    return {name: labelled[name] for name in WINDOW_METRICS}


@dataclass(frozen=True)
class Attribute:
    """One sensitive attribute's view of the windows: counts per (window, group)."""

    name: str
    groups: list[str]
    counts: np.ndarray  # (W, G, 3, 2)
    approved: AttributeResult | None
    reference: str | None  # the approved audit's most-selected group, else the window data's largest


def attributes(table: WindowTable, approved: AuditResult | None) -> list[Attribute]:
    """Each sensitive column alone (intersections are left to full audits)."""
    found = []
    for j, name in enumerate(table.columns):
        groups = sorted({cell[j] for cell in table.cells}, key=lambda g: (g == "Unknown", g))
        index = {g: i for i, g in enumerate(groups)}
        member = np.array([index[cell[j]] for cell in table.cells], dtype=np.int64)
        counts = np.stack([table.counts[:, member == g].sum(axis=1) for g in range(len(groups))], axis=1)
        result = _approved_attribute(approved, name)
        reference = None
        if result is not None and result.ll144 is not None and result.ll144.most_selected in index:
            reference = result.ll144.most_selected
        if reference is None:
            totals = counts.sum(axis=(0, 2, 3))
            known = [g for g in groups if g != "Unknown"]
            reference = max(known, key=lambda g: totals[index[g]]) if known else None
        found.append(Attribute(name, groups, counts, result, reference))
    return found


def _approved_attribute(approved: AuditResult | None, name: str) -> AttributeResult | None:
    if approved is None:
        return None
    for attribute in approved.fairness.attributes:
        if attribute.attribute == name and attribute.positive_class is None:
            return attribute
    return None


def _estimate(value: float, low: float, high: float) -> Estimate:
    return Estimate(value=value, low=low, high=high)


def window_results(
    table: WindowTable, attrs: list[Attribute], settings: Monitoring, level: float
) -> list[WindowResult]:
    """Every window's groups with intervals (the intervals computed for all windows and groups at once)."""
    z = z_for(level)
    n_rows = table.n_rows
    labelled = table.counts[:, :, 1:, :].sum(axis=(1, 2, 3))
    per_attribute = [_attribute_intervals(attr, z) for attr in attrs]
    overall = _intervals(table.counts.sum(axis=1), z)
    results = []
    for w in range(len(table.starts)):
        coverage = float(labelled[w] / n_rows[w]) if n_rows[w] else 0.0
        groups = [group for view in per_attribute for group in _window_groups(view, w)]
        results.append(
            WindowResult(
                start=table.starts[w].isoformat(),
                end=table.end(w).isoformat(),
                n_rows=int(n_rows[w]),
                labelled=int(labelled[w]),
                label_coverage=coverage,
                provisional=coverage < settings.min_label_coverage,
                groups=groups,
                overall={name: e[w] for name, e in overall.items() if e[w] is not None},
            )
        )
    return results


def _intervals(counts: np.ndarray, z: float) -> dict[str, list[Any]]:
    """Every count metric with its Wilson interval, for counts shaped (W, ..., 3, 2): name -> flat list."""
    out: dict[str, list[Any]] = {}
    for name, (k, n) in fractions(counts).items():
        low, high = wilson(k, n, z)
        with np.errstate(divide="ignore", invalid="ignore"):
            point = np.where(n > 0, k / np.maximum(n, 1), np.nan)
        out[name] = _estimates(point, low, high, n > 0)
    return out


def _estimates(point: np.ndarray, low: np.ndarray, high: np.ndarray, ok: np.ndarray) -> Any:
    """Estimates in the arrays' shape (nested lists), None where not defined."""
    shape = point.shape
    flat = [
        _estimate(float(p), float(lo), float(hi)) if good else None
        for p, lo, hi, good in zip(point.ravel(), low.ravel(), high.ravel(), ok.ravel(), strict=True)
    ]
    if len(shape) == 1:
        return flat
    width = int(np.prod(shape[1:]))
    return [flat[i * width : (i + 1) * width] for i in range(shape[0])]


@dataclass(frozen=True)
class _AttributeView:
    attr: Attribute
    n: np.ndarray  # (W, G)
    labelled: np.ndarray  # (W, G)
    metrics: dict[str, list[list[Estimate | None]]]
    ratio: list[list[Estimate | None]] | None


def _attribute_intervals(attr: Attribute, z: float) -> _AttributeView:
    metrics = _intervals(attr.counts, z)
    k, n = fractions(attr.counts)["selection_rate"]
    ratio = None
    if attr.reference in attr.groups:
        ref = attr.groups.index(attr.reference)
        kr, nr = k[:, ref : ref + 1], n[:, ref : ref + 1]
        low, high = score_ratio(k, n, np.broadcast_to(kr, k.shape), np.broadcast_to(nr, n.shape), z)
        with np.errstate(divide="ignore", invalid="ignore"):
            point = (k / np.maximum(n, 1)) / (kr / np.maximum(nr, 1))
        ok = (n > 0) & (nr > 0) & (kr > 0)
        ok[:, ref] = False
        ratio = _estimates(point, low, high, ok)
    return _AttributeView(attr, n, attr.counts[:, :, 1:, :].sum(axis=(2, 3)), metrics, ratio)


def _window_groups(view: _AttributeView, w: int) -> list[WindowGroup]:
    total = int(view.n[w].sum())
    out = []
    for g, name in enumerate(view.attr.groups):
        if view.n[w, g] == 0:
            continue
        metrics: dict[str, Estimate] = {}
        for metric, values in view.metrics.items():
            found = values[w][g]
            if metric != "selection_rate" and found is not None:
                metrics[metric] = found
        out.append(
            WindowGroup(
                attribute=view.attr.name,
                group=name,
                n=int(view.n[w, g]),
                share=float(view.n[w, g] / total) if total else 0.0,
                selection_rate=view.metrics["selection_rate"][w][g] or Estimate(value=None),
                impact_ratio=view.ratio[w][g] if view.ratio is not None else None,
                labelled=int(view.labelled[w, g]),
                metrics=metrics,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------- drift checks


@dataclass
class Stream:
    """One check followed over the windows: its value per window and how far it is from the approved one."""

    rule: AlertRule
    attribute: str | None
    group: str | None
    metric: str
    approved: float | None
    value: np.ndarray  # (W,) the window's value (NaN where not judged)
    # interval of (window - approved) at a given z: (W,) low and high; NaN where not judged
    change: Callable[[float], tuple[np.ndarray, np.ndarray]]
    sides: tuple[str, ...] = ("lower", "higher")
    rho: float = 0.0  # the approved value's share of a window check's variance: how alike the checks are
    noise: np.ndarray | None = None  # population: the chi-square statistic to pass, per window
    statistic: np.ndarray | None = None
    labels: dict[str, str] = field(default_factory=dict)


def _log_rate(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = np.asarray(k, float) + 0.5
    n = np.asarray(n, float) + 0.5
    return np.log(k / n), 1.0 / k - 1.0 / n


def _approved_counts(attr: Attribute, group: str, metric: str) -> tuple[float, float] | None:
    if attr.approved is None:
        return None
    for g in attr.approved.groups:
        if g.group == group:
            count = g.counts.get(metric)
            return (count.k, count.n) if count is not None and count.n > 0 else None
    return None


def fairness_streams(attr: Attribute, rule: AlertRule, eligible: np.ndarray, min_rows: int) -> list[Stream]:
    """A group's ratio of ``rule.metric`` to the reference group's, window against the approved audit."""
    if attr.reference is None or attr.approved is None:
        return []
    ref = attr.groups.index(attr.reference)
    parts = fractions(attr.counts)
    k, n = parts[rule.metric]
    approved_ref = _approved_counts(attr, attr.reference, rule.metric)
    if approved_ref is None:
        return []
    streams = []
    for g, name in enumerate(attr.groups):
        approved = _approved_counts(attr, name, rule.metric)
        if g == ref or name == "Unknown" or approved is None:
            continue
        lw_g, vw_g = _log_rate(k[:, g], n[:, g])
        lw_r, vw_r = _log_rate(k[:, ref], n[:, ref])
        la_g, va_g = _log_rate(np.array(approved[0]), np.array(approved[1]))
        la_r, va_r = _log_rate(np.array(approved_ref[0]), np.array(approved_ref[1]))
        delta = (lw_g - lw_r) - (la_g - la_r)
        se = np.sqrt(vw_g + vw_r + va_g + va_r)
        ratio_a = (
            (approved[0] / approved[1]) / (approved_ref[0] / approved_ref[1])
            if approved_ref[0] > 0
            else math.nan
        )
        ok = eligible & (n[:, g] >= min_rows) & (n[:, ref] >= min_rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(ok, (k[:, g] / n[:, g]) / (k[:, ref] / n[:, ref]), np.nan)

        def change(z: float, delta: Any = delta, se: Any = se, ok: Any = ok, ratio_a: float = ratio_a) -> Any:
            low = np.where(ok, ratio_a * (np.exp(delta - z * se) - 1.0), np.nan)
            high = np.where(ok, ratio_a * (np.exp(delta + z * se) - 1.0), np.nan)
            return low, high

        rho = _share(va_g + va_r, (vw_g + vw_r)[ok])
        streams.append(Stream(rule, attr.name, name, rule.metric, ratio_a, value, change, rho=rho))
    return streams


def performance_streams(
    attr: Attribute, rule: AlertRule, eligible: np.ndarray, min_rows: int
) -> list[Stream]:
    """A group's rate of ``rule.metric`` (labelled rows), window against the approved audit."""
    if attr.approved is None:
        return []
    k, n = fractions(attr.counts)[rule.metric]
    sides: tuple[str, ...] = (
        ("lower",)
        if rule.metric in LOWER_IS_WORSE
        else ("higher",)
        if rule.metric in HIGHER_IS_WORSE
        else ("lower", "higher")
    )
    streams = []
    for g, name in enumerate(attr.groups):
        approved = _approved_counts(attr, name, rule.metric)
        if name == "Unknown" or approved is None:
            continue
        ok = eligible & (n[:, g] >= min_rows)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(ok, k[:, g] / n[:, g], np.nan)
        kg, ng = k[:, g].astype(float), n[:, g].astype(float)

        def change(z: float, kg: Any = kg, ng: Any = ng, ok: Any = ok, approved: Any = approved) -> Any:
            low, high = exact_difference(kg, np.maximum(ng, 1.0), approved[0], approved[1], z)
            return np.where(ok, low, np.nan), np.where(ok, high, np.nan)

        p_a = approved[0] / approved[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            window_var = (value * (1 - value) / ng)[ok]
        rho = _share(p_a * (1 - p_a) / approved[1], window_var)
        streams.append(Stream(rule, attr.name, name, rule.metric, p_a, value, change, sides, rho=rho))
    return streams


def exact_difference(
    k1: np.ndarray, n1: np.ndarray, k2: float, n2: float, z: float
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of ``k1/n1 - k2/n2``: Newcombe's square-and-add of each rate's Clopper-Pearson limits.

    Clopper-Pearson rather than Wilson, because a single window is judged far out in the tail (Bonferroni over a
    year of windows), where Wilson's limits are too narrow for rates near 0 or 1.
    """
    from scipy.special import betaincinv, ndtr

    alpha = 2.0 * float(ndtr(-z))

    def limits(k: Any, n: Any) -> tuple[np.ndarray, np.ndarray]:
        k, n = np.asarray(k, float), np.asarray(n, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            low = np.where(k > 0, betaincinv(np.maximum(k, 1e-9), n - k + 1, alpha / 2), 0.0)
            high = np.where(k < n, betaincinv(k + 1, np.maximum(n - k, 1e-9), 1 - alpha / 2), 1.0)
        return low, high

    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = np.asarray(k1, float) / n1, k2 / n2
    l1, u1 = limits(k1, n1)
    l2, u2 = limits(np.array(k2), np.array(n2))
    d = p1 - p2
    return d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def _share(approved_variance: Any, window_variances: np.ndarray) -> float:
    """The approved value's share of a typical window check's variance (0: independent checks)."""
    finite = window_variances[np.isfinite(window_variances)]
    if finite.size == 0:
        return 0.0
    typical = float(np.median(finite))
    total = float(approved_variance) + typical
    return float(approved_variance) / total if total > 0 else 0.0


def run_probability(k: int, rho: float, tail: float = 0.0) -> float:
    """Chance that one window and the next ``k - 1`` all lie beyond the run interval on one side, under no drift.

    The checks share the approved value's error (a share ``rho`` of their variance), so they are integrated over it
    (Gauss-Hermite quadrature) instead of being taken as independent.
    """
    from numpy.polynomial.hermite_e import hermegauss
    from scipy.special import ndtr, ndtri

    tail = tail or RUN_TAIL
    nodes, weights = hermegauss(60)
    z = -float(ndtri(tail))
    inside = (-z - math.sqrt(rho) * nodes) / math.sqrt(max(1.0 - rho, 1e-12))
    return float(np.sum(weights * ndtr(inside) ** k) / math.sqrt(2 * math.pi))


def run_length(rho: float, windows: int, budget: float) -> int:
    """The shortest run whose false-alarm chance over ``windows`` windows and both sides stays within ``budget``."""
    for k in range(2, 400):
        if 2 * max(windows, 1) * run_probability(k, rho) <= budget:
            return k
    return 400


def psi(window: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Population stability index of each window's distribution (rows of counts) against baseline shares."""
    window = np.asarray(window, float)
    bins = window.shape[-1]
    q = (window + 0.5) / (window.sum(axis=-1, keepdims=True) + 0.5 * bins)
    p = np.clip(np.asarray(baseline, float), 1e-4, None)
    p = p / p.sum()
    return np.asarray(((q - p) * np.log(q / p)).sum(axis=-1))


def share_stream(attr: Attribute, rule: AlertRule, eligible: np.ndarray, min_rows: int) -> list[Stream]:
    """PSI of the attribute's group shares against the approved audit's shares."""
    if attr.approved is None:
        return []
    shares = {g.group: g.share for g in attr.approved.groups}
    baseline = np.array([shares.get(g, 0.0) for g in attr.groups])
    window = attr.counts.sum(axis=(2, 3))
    return [
        _psi_stream(rule, attr.name, f"group shares of {attr.name}", window, baseline, eligible, min_rows)
    ]


def _psi_stream(
    rule: AlertRule,
    attribute: str | None,
    what: str,
    window: np.ndarray,
    baseline: np.ndarray,
    eligible: np.ndarray,
    min_rows: int,
) -> Stream:
    values = psi(window, baseline)
    n = window.sum(axis=1)
    ok = eligible & (n >= min_rows)
    value = np.where(ok, values, np.nan)

    def change(_z: float) -> Any:
        return value, value

    return Stream(
        rule,
        attribute,
        None,
        what,
        None,
        value,
        change,
        ("higher",),
        noise=np.full(len(value), window.shape[1] - 1, dtype=float),
        statistic=n * values,
    )


def input_streams(
    rule: AlertRule, binned: dict[str, tuple[np.ndarray, np.ndarray]], eligible: np.ndarray, min_rows: int
) -> list[Stream]:
    """PSI of each model input (binned on the approved audit's data) against that data."""
    return [
        _psi_stream(rule, None, f"input {name}", window, baseline, eligible, min_rows)
        for name, (window, baseline) in binned.items()
    ]


# ---------------------------------------------------------------------------------------------- judging


@dataclass(frozen=True)
class Budget:
    """How the false-alarm rate is shared: the adjusted z of a single window, the run length of sustained drift."""

    checks: int
    z_single: float
    z_plain: float  # the confidence level's: the intervals reported
    z_run: float  # the run interval's (60 %): each window of a sustained run lies beyond it
    run: int  # the longest run any stream needs
    alpha_single: float
    runs: dict[int, int] = field(default_factory=dict)  # id(stream) -> its run length


def budget(streams: list[Stream], n_windows: int, settings: Monitoring, level: float) -> Budget:
    """Half the false-alarm rate over every single-window check (Bonferroni), half over the streams' runs."""
    judged = [s for s in streams if s.noise is None]
    checks = max(1, sum(int(np.isfinite(s.value).sum()) for s in streams))
    alpha = settings.false_alarm_rate
    alpha_single = alpha / 2.0 / checks
    per_stream = alpha / 2.0 / max(len(judged), 1)
    runs = {id(s): run_length(s.rho, int(np.isfinite(s.value).sum()), per_stream) for s in judged}
    return Budget(
        checks=checks,
        z_single=z_for(1.0 - alpha_single),
        z_plain=z_for(level),
        z_run=z_for(1.0 - 2.0 * RUN_TAIL),
        run=max(runs.values(), default=2),
        alpha_single=alpha_single,
        runs=runs,
    )


def judge(
    streams: list[Stream], table: WindowTable, settings: Monitoring, level: float
) -> tuple[list[Alert], Budget]:
    """Alerts from every stream: a single window beyond the adjusted interval, or a sustained run."""
    plan = budget(streams, len(table.starts), settings, level)
    alerts: list[Alert] = []
    for stream in streams:
        alerts += _stream_alerts(stream, table, settings, plan)
    alerts.sort(key=lambda a: (a.window_start, a.rule_id, a.attribute or "", a.group or ""))
    return alerts, plan


def _stream_alerts(stream: Stream, table: WindowTable, settings: Monitoring, plan: Budget) -> list[Alert]:
    starts = [s.isoformat() for s in table.starts]
    if stream.noise is not None:
        return _psi_alerts(stream, starts, settings, plan)
    tol = stream.rule.tolerance
    alerts: list[Alert] = []
    low, high = stream.change(plan.z_single)
    flagged: set[int] = set()
    for w in range(len(starts)):
        side = _side(low[w], high[w], tol, stream.sides)
        if side is not None:
            flagged.add(w)
            alerts.append(_alert(stream, starts[w], w, side, "beyond its adjusted interval", plan))
    plain_low, plain_high = stream.change(plan.z_run)
    run_side, run_length = None, 0
    for w in range(len(starts)):
        side = _side(plain_low[w], plain_high[w], tol, stream.sides)
        run_length = (
            run_length + 1 if side is not None and side == run_side else (1 if side is not None else 0)
        )
        run_side = side
        needed = plan.runs.get(id(stream), plan.run)
        if run_length == needed and not flagged.intersection(range(w - needed + 1, w + 1)):
            alerts.append(
                _alert(
                    stream,
                    starts[w],
                    w,
                    side,
                    f"beyond its {round(100 * (1 - 2 * RUN_TAIL))} % interval for {needed} windows in a row",
                    plan,
                )
            )
    return alerts


def _side(low: float, high: float, tol: float, sides: tuple[str, ...]) -> str | None:
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    if "lower" in sides and high < -tol:
        return "lower"
    if "higher" in sides and low > tol:
        return "higher"
    return None


def _alert(stream: Stream, start: str, w: int, side: str | None, how: str, plan: Budget) -> Alert:
    value = float(stream.value[w])
    low, high = stream.change(plan.z_plain)
    approved = stream.approved if stream.approved is not None else math.nan
    observed = Estimate(value=value, low=approved + float(low[w]), high=approved + float(high[w]))
    kind = stream.rule.kind
    what = (
        f"the ratio of {stream.metric} of {stream.group} to the reference group"
        if kind == "fairness"
        else (f"{stream.metric} of {stream.group}")
    )
    message = (
        f"{stream.attribute}: {what} was {value:.3g} in the window from {start[:10]}, {side} than the approved "
        f"{approved:.3g} ({how})."
    )
    return Alert(
        rule_id=stream.rule.id,
        kind=kind,
        window_start=start,
        attribute=stream.attribute,
        group=stream.group,
        metric=stream.metric,
        approved=stream.approved,
        observed=observed,
        reaudit=stream.rule.reaudit,
        message=message,
    )


def _psi_alerts(stream: Stream, starts: list[str], settings: Monitoring, plan: Budget) -> list[Alert]:
    from scipy.special import chdtri

    threshold = stream.rule.tolerance or settings.psi_threshold
    alerts = []
    assert stream.noise is not None and stream.statistic is not None
    for w, start in enumerate(starts):
        value = stream.value[w]
        if not np.isfinite(value) or value < threshold:
            continue
        if stream.statistic[w] <= chdtri(stream.noise[w], plan.alpha_single):
            continue  # as large as sampling noise alone can make it in a window this small
        alerts.append(
            Alert(
                rule_id=stream.rule.id,
                kind="population",
                window_start=start,
                attribute=stream.attribute,
                metric=stream.metric,
                approved=threshold,
                observed=Estimate(value=float(value)),
                reaudit=stream.rule.reaudit,
                message=f"The {stream.metric} drifted in the window from {start[:10]}: PSI {value:.3g}, over the "
                f"threshold of {threshold:g} and beyond sampling noise.",
            )
        )
    return alerts
