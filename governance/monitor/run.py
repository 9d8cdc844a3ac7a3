"""``monitor``: a version's decision log, window by window, against its approved audit; recorded in the register.

The audit specification comes from the version itself: the sensitive attributes pinned in ``governance.yaml``
(else those of the approved audit), the pinned policy (else the approved audit's, else ``default``), and the
approved audit's counts as the baseline every drift is judged against. The approved audit is the one the newest
approval relied on, else the newest passed audit, else the newest audit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from governance import provenance
from governance.errors import InputError, NotFoundError
from governance.monitor import drift
from governance.monitor.windows import WindowTable, build_windows, parse_window
from governance.register.actions import advice
from governance.results.audit import AuditResult
from governance.results.monitoring import MonitoringResult
from governance.rules.load import LoadedPolicy
from governance.workspace import Workspace

if TYPE_CHECKING:
    import pandas as pd

    from governance.register import Register

_BINS = 10


@dataclass(frozen=True)
class MonitorRequest:
    """What ``governance monitor`` was asked (column names as in the log)."""

    reference: str  # NAME@VERSION
    data: str
    time_column: str
    window: str = "1M"
    predictions: str | None = None
    target: str | None = None
    sensitive: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    record: bool = True
    actor: str | None = None


@dataclass(frozen=True)
class MonitorOutcome:
    result: MonitoringResult

    @property
    def exit_code(self) -> int:
        return 1 if self.result.alerts else 0


@dataclass(frozen=True)
class _Baseline:
    audit: AuditResult
    audit_id: str
    policy: LoadedPolicy
    sensitive: list[str]


def monitor(
    request: MonitorRequest, *, workspace: Workspace, register_url: str | None = None
) -> MonitorOutcome:
    """Cut the log into windows, compute and judge every window, and record the run (all or nothing)."""
    from governance.audit.options import parse_model_ref
    from governance.register import Register

    unit = parse_window(request.window)
    name, version = parse_model_ref(request.reference)
    with Register.for_workspace(workspace, register_url, create=False) as register:
        register.resolve_version(name, version)
        baseline = _baseline(register, workspace, name, version)
        if request.record:
            register.check_can_sign()
        frame, target, predictions = _read_log(request, baseline)
        table = build_windows(
            frame,
            time_column=request.time_column,
            unit=unit,
            sensitive=baseline.sensitive,
            predictions=predictions,
            target=target,
            positive=baseline.audit.fairness.positive_label,
        )
        result = _compute(request, table, frame, baseline, workspace, unit, name, version)
        if request.record:
            _record(register, result, table, request.actor)
    return MonitorOutcome(result=result)


def approved_audit(register: Register, name: str, version: str) -> str:
    """The audit id a version is monitored against (see the module docstring)."""
    detail = register.show(name)
    audits = [a for a in detail.audits if a.version == version]
    if not audits:
        raise NotFoundError(
            f"{name}@{version} has no recorded audit to monitor against; audit it first with {{audit_again}}.",
            **advice("audit_again", label=f"{name}@{version}"),
        )
    known = {a.audit_id for a in audits}
    record = next((v for v in detail.versions if v.version == version), None)
    approvals = [
        a
        for a in detail.approvals
        if record is not None and a.version_id == record.id and a.decision == "approve"
    ]
    for approval in reversed(approvals):
        if approval.audit_id in known:
            return str(approval.audit_id)
    passed = [a for a in audits if a.verdict == "passed"]
    return max(passed or audits, key=lambda a: (a.recorded_at, a.id)).audit_id


def _baseline(register: Register, workspace: Workspace, name: str, version: str) -> _Baseline:
    from governance.audit.spec import pinned_spec
    from governance.compare.load import find_audit, load_recorded

    audit_id = approved_audit(register, name, version)
    audit = load_recorded(register, find_audit(register, audit_id))
    if audit.fairness.task != "binary":
        raise InputError(
            f"{name}@{version} was audited as a {audit.fairness.task} task; monitoring covers yes/no decisions "
            "(binary tasks) only."
        )
    spec = pinned_spec(workspace, name)
    sensitive = list(spec.sensitive) if spec is not None and spec.sensitive else list(audit.data.sensitive)
    return _Baseline(audit, audit_id, _policy(spec.policy if spec else None, audit, workspace), sensitive)


def _policy(pinned: str | None, audit: AuditResult, workspace: Workspace) -> LoadedPolicy:
    """The pinned policy, else the approved audit's (when its file is unchanged), else ``default``."""
    from governance.rules.load import load_policy

    candidates: list[tuple[str, str | None]] = []
    if pinned is not None:
        path = Path(pinned)
        relative = not path.is_absolute() and (path.suffix in {".yaml", ".yml"} or "/" in pinned)
        candidates.append((str(workspace.root / path) if relative else pinned, None))
    name = audit.policy.policy_path
    for candidate in (workspace.root / name, workspace.policies_dir / name, Path(name).stem):
        candidates.append((str(candidate), audit.policy.policy_sha256))
    for candidate, sha in candidates:
        try:
            loaded = load_policy(candidate, workspace_root=workspace.root)
        except (InputError, OSError):
            if sha is None:
                raise
            continue
        if sha is None or loaded.sha256 == sha:
            return loaded
    return load_policy("default", workspace_root=workspace.root)


def _read_log(request: MonitorRequest, baseline: _Baseline) -> tuple[pd.DataFrame, str | None, str]:
    from governance.intake.data import read_table, require_columns

    frame = read_table(request.data, field="data")
    source = Path(request.data).name
    require_columns(frame, [request.time_column], source=source, field="time_column")
    predictions = request.predictions or baseline.audit.model.predictions_column
    if predictions is None:
        raise InputError(
            "Say which column of the log holds the model's decisions with {predictions} (the approved audit ran the "
            "model itself, so it names none).",
            fields=["predictions"],
        )
    require_columns(frame, [predictions], source=source, field="predictions")
    require_columns(frame, baseline.sensitive, source=source, field="sensitive")
    target = request.target
    if target is not None:
        require_columns(frame, [target], source=source, field="target")
    elif baseline.audit.data.target in frame.columns:
        target = baseline.audit.data.target
    frame = _between(frame, request)
    return frame, target, predictions


def _between(frame: pd.DataFrame, request: MonitorRequest) -> pd.DataFrame:
    """Rows from ``since`` (inclusive) to ``until`` (exclusive); none there is an input error."""
    if request.since is None and request.until is None:
        return frame
    import pandas as pd

    from governance.monitor.windows import parse_times

    times = parse_times(frame[request.time_column], request.time_column)
    keep = np.ones(len(frame), dtype=bool)
    for bound, named_by in ((request.since, "since"), (request.until, "until")):
        if bound is None:
            continue
        try:
            moment = pd.Timestamp(bound)
        except (TypeError, ValueError):
            raise InputError(
                f"{{{named_by}}} {bound!r} is not a date; write it like 2026-03-01.", fields=[named_by]
            ) from None
        if moment.tzinfo is not None:
            moment = moment.tz_convert("UTC").tz_localize(None)
        keep &= (times >= moment).to_numpy() if named_by == "since" else (times < moment).to_numpy()
    if not keep.any():
        raise InputError(
            f"The log has no rows between {request.since or 'its start'} and {request.until or 'its end'}; widen "
            "{since} and {until}.",
            fields=["since", "until"],
        )
    return frame[keep]


def _compute(
    request: MonitorRequest,
    table: WindowTable,
    frame: pd.DataFrame,
    baseline: _Baseline,
    workspace: Workspace,
    unit: str,
    name: str,
    version: str,
) -> MonitoringResult:
    policy = baseline.policy.policy
    settings = policy.monitoring
    level = policy.confidence_level
    attrs = drift.attributes(table, baseline.audit)
    windows = drift.window_results(table, attrs, settings, level)
    notes: list[str] = []
    streams = _streams(table, attrs, windows, frame, baseline, workspace, notes)
    alerts, plan = drift.judge(streams, table, settings, level)
    psi = _psi_by_window(streams, len(windows))
    windows = [w.model_copy(update={"psi": psi[i]}) for i, w in enumerate(windows)]
    created = provenance.now()
    return MonitoringResult(
        run_id=f"{created.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}",
        model=name,
        version=version,
        approved_audit=baseline.audit_id,
        policy_name=policy.name,
        policy_sha256=baseline.policy.sha256,
        data_path=str(request.data),
        data_sha256=provenance.sha256_file(request.data),
        time_column=request.time_column,
        window={"D": "1D", "W": "1W", "M": "1M"}[unit],
        windows=windows,
        alerts=alerts,
        empty_windows=[w.start for w in windows if w.n_rows == 0],
        checks=plan.checks,
        false_alarm_rate=settings.false_alarm_rate,
        sustained_run=plan.run,
        confidence_level=level,
        notes=notes,
    )


def _streams(
    table: WindowTable,
    attrs: list[drift.Attribute],
    windows: list[Any],
    frame: pd.DataFrame,
    baseline: _Baseline,
    workspace: Workspace,
    notes: list[str],
) -> list[drift.Stream]:
    settings = baseline.policy.policy.monitoring
    rows = np.array([w.n_rows for w in windows])
    labelled = np.array([not w.provisional for w in windows])
    streams: list[drift.Stream] = []
    for rule in settings.alerts:
        for attr in attrs:
            if rule.kind == "fairness":
                eligible = rows > 0 if rule.metric == "selection_rate" else labelled
                streams += drift.fairness_streams(attr, rule, eligible, settings.min_window_rows)
            elif rule.kind == "performance":
                streams += drift.performance_streams(attr, rule, labelled, settings.min_window_rows)
            elif rule.metric == "group_shares":
                streams += drift.share_stream(attr, rule, rows > 0, settings.min_window_rows)
        if rule.kind == "population" and rule.metric == "inputs":
            binned = _binned_inputs(table, frame, baseline, workspace, notes)
            streams += drift.input_streams(rule, binned, rows > 0, settings.min_window_rows)
    if not labelled.any() and any(r.kind == "performance" for r in settings.alerts):
        notes.append(
            "No window has enough labels yet (label coverage below monitoring.min_label_coverage), so performance "
            "drift is not judged; the windows are marked provisional."
        )
    return streams


def _psi_by_window(streams: list[drift.Stream], n_windows: int) -> list[dict[str, float]]:
    out: list[dict[str, float]] = [{} for _ in range(n_windows)]
    for stream in streams:
        if stream.noise is None:
            continue
        for w in range(n_windows):
            if np.isfinite(stream.value[w]):
                out[w][stream.metric] = float(stream.value[w])
    return out


def _binned_inputs(
    table: WindowTable, frame: pd.DataFrame, baseline: _Baseline, workspace: Workspace, notes: list[str]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each model input's counts per (window, bin), binned on the approved audit's data, with that data's shares."""
    from governance.intake.data import read_table

    audit = baseline.audit
    path = Path(audit.data.path)
    path = path if path.is_absolute() else workspace.root / path
    features = [f for f in audit.data.features if f in frame.columns and f not in audit.data.sensitive]
    if not features:
        return {}
    if not path.is_file() or provenance.sha256_file(path) != audit.data.sha256:
        notes.append(
            f"Input drift is not checked: the approved audit's data ({audit.data.path}) is not in the workspace "
            "unchanged, and it is the baseline the inputs are compared with."
        )
        return {}
    reference = read_table(path, columns=features, field="baseline_data")
    out = {}
    for feature in features:
        edges_or_levels, base_codes = _bins(reference[feature])
        codes = _apply_bins(frame[feature], edges_or_levels)
        bins = int(max(base_codes.max(initial=0), codes.max(initial=0))) + 1
        baseline_counts = np.bincount(base_codes, minlength=bins)
        window = np.bincount(table.row_window * bins + codes, minlength=len(table.starts) * bins)
        out[feature] = (window.reshape(len(table.starts), bins), baseline_counts / baseline_counts.sum())
    return out


def _bins(values: pd.Series) -> tuple[Any, np.ndarray]:
    """Deciles of a numeric input (missing values their own bin), or the levels of a categorical one."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        edges = np.unique(np.nanquantile(values.to_numpy(float), np.linspace(0, 1, _BINS + 1)[1:-1]))
        return edges, _apply_bins(values, edges)
    levels = sorted(values.astype("string").fillna("(missing)").unique().tolist())
    return levels, _apply_bins(values, levels)


def _apply_bins(values: pd.Series, edges_or_levels: Any) -> np.ndarray:
    import pandas as pd

    if isinstance(edges_or_levels, np.ndarray):
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(float)
        codes = np.searchsorted(edges_or_levels, numbers, side="right")
        return np.where(np.isnan(numbers), len(edges_or_levels) + 1, codes).astype(np.int64)
    texts = values.astype("string").fillna("(missing)")
    codes = np.asarray(pd.Categorical(texts, categories=edges_or_levels).codes, dtype=np.int64)
    return np.where(codes < 0, len(edges_or_levels), codes)


def _record(register: Register, result: MonitoringResult, table: WindowTable, actor: str | None) -> None:
    from governance.register.monitoring import AlertEntry, RunFacts, WindowCounts, record_monitoring

    windows = [
        WindowCounts(w.start, w.end, w.n_rows, w.labelled, w.provisional, table.stored(i))
        for i, w in enumerate(result.windows)
    ]
    alerts = [
        AlertEntry(a.rule_id, a.kind, a.window_start, a.attribute, a.group, a.metric, a.message, a.reaudit)
        for a in result.alerts
    ]
    facts = RunFacts(
        run_id=result.run_id,
        window=result.window,
        time_column=result.time_column,
        data_path=register.relative_path(result.data_path),
        data_sha256=result.data_sha256,
        policy_sha256=result.policy_sha256,
        approved_audit_id=result.approved_audit,
    )
    record_monitoring(
        register,
        result.model,
        result.version,
        facts=facts,
        windows=windows,
        alerts=alerts,
        actor=provenance.resolve_actor(actor),
    )
