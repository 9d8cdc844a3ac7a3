"""Monitoring runs in the register: one row per run, one count table per window, one row per alert.

A run is appended in one transaction with one event that carries every row's after-image, so ``verify`` catches a
window or an alert edited by hand, and appending a year of daily windows costs one insert of 365 small rows.

An alert stays open until the version is audited again after it; a run whose alerts ask for a re-audit makes the
version due for audit now (``governance status`` lists it as overdue).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from governance import provenance
from governance.register import database, lifecycle
from governance.register import schema as t
from governance.register.actions import step
from governance.register.chain import Change
from governance.register.records import ModelDetail, StatusItem, open_alert_runs
from governance.results.common import Frozen

if TYPE_CHECKING:
    from governance.register.api import Register


@dataclass(frozen=True)
class WindowCounts:
    """One window's count table, as stored."""

    start: str
    end: str
    n_rows: int
    labelled: int
    provisional: bool
    counts: dict[str, Any]


@dataclass(frozen=True)
class AlertEntry:
    """One alert, as stored."""

    rule_id: str
    kind: str
    window_start: str
    attribute: str | None
    group: str | None
    metric: str
    message: str
    reaudit: bool


class RunFacts(Frozen):
    """What a run is about, apart from its windows and alerts."""

    run_id: str
    window: str
    time_column: str
    data_path: str
    data_sha256: str
    policy_sha256: str
    approved_audit_id: str | None


class MonitoringRunRecord(RunFacts):
    """A recorded monitoring run of a version: its facts, where it stands, and what its windows found."""

    id: int
    model_name: str
    version: str
    first_window: str
    last_window: str
    n_windows: int
    n_rows: int
    n_alerts: int
    reaudit: bool
    actor: str
    recorded_at: str
    alerts: list[str] = []  # the alerts' messages


def record_monitoring(
    register: Register,
    model_name: str,
    version: str,
    *,
    facts: RunFacts,
    windows: Sequence[WindowCounts],
    alerts: Sequence[AlertEntry],
    actor: str,
) -> MonitoringRunRecord:
    """Append a monitoring run with its windows and alerts (one transaction, one event)."""
    actor = lifecycle.checked_actor(actor)
    at = provenance.isoformat(provenance.now())
    reaudit = any(alert.reaudit for alert in alerts)
    with register._writing() as conn:
        row = register._version_row(conn, model_name, version)
        lifecycle.refuse_if_retired(row.state, f"{model_name}@{version}", "record monitoring of")
        seq = register._next_seq(conn)
        run_values = {
            "version_id": row.id,
            **facts.model_dump(),
            "first_window": windows[0].start if windows else "",
            "last_window": windows[-1].start if windows else "",
            "n_windows": len(windows),
            "n_rows": sum(w.n_rows for w in windows),
            "n_alerts": len(alerts),
            "reaudit": reaudit,
            "actor": actor,
            "recorded_at": at,
            "event_seq": seq,
        }
        run_row_id = register._insert(conn, t.monitoring_runs, run_values)
        if windows:
            conn.execute(
                t.monitoring_windows.insert(),
                [
                    {
                        "run_row_id": run_row_id,
                        "start": w.start,
                        "end": w.end,
                        "n_rows": w.n_rows,
                        "labelled": w.labelled,
                        "provisional": w.provisional,
                        "counts": w.counts,
                        "event_seq": seq,
                    }
                    for w in windows
                ],
            )
        if alerts:
            conn.execute(
                t.monitoring_alerts.insert(),
                [
                    {
                        "run_row_id": run_row_id,
                        "version_id": row.id,
                        "rule_id": a.rule_id[:100],
                        "kind": a.kind,
                        "window_start": a.window_start,
                        "attribute": None if a.attribute is None else a.attribute[:200],
                        "group_name": None if a.group is None else a.group[:200],
                        "metric": a.metric[:100],
                        "message": a.message,
                        "reaudit": a.reaudit,
                        "event_seq": seq,
                    }
                    for a in alerts
                ],
            )
        rows: list[tuple[sa.Table, Any]] = [
            (t.monitoring_runs, register._row(conn, t.monitoring_runs, run_row_id))
        ]
        for table in (t.monitoring_windows, t.monitoring_alerts):
            found = conn.execute(
                sa.select(table).where(table.c.run_row_id == run_row_id).order_by(table.c.id)
            )
            rows += [(table, r) for r in found]
        extra = {"reaudit_due": at} if reaudit else None
        register._append(
            conn, seq, Change(actor, "monitoring.recorded", model_name, version, at), rows, extra
        )
        return _record(rows[0][1], model_name, version, [a.message for a in alerts])


def _record(row: Any, model_name: str, version: str, alerts: list[str]) -> MonitoringRunRecord:
    values = {k: v for k, v in row._mapping.items() if k not in ("version_id", "event_seq")}
    return MonitoringRunRecord(model_name=model_name, version=version, alerts=alerts, **values)


def monitoring_runs(
    register: Register, model_name: str, version: str | None = None
) -> list[MonitoringRunRecord]:
    """A model's (or one version's) monitoring runs, oldest first, with their alerts' messages."""
    with database.read_transaction(register.engine) as conn:
        model = register._model_row(conn, model_name)
        query = (
            sa.select(t.monitoring_runs, t.versions.c.version)
            .join(t.versions, t.versions.c.id == t.monitoring_runs.c.version_id)
            .where(t.versions.c.model_id == model.id)
            .order_by(t.monitoring_runs.c.id)
        )
        if version is not None:
            query = query.where(t.versions.c.version == version)
        runs = conn.execute(query).all()
        alerts: dict[int, list[str]] = {}
        ids = [r.id for r in runs]
        if ids:
            for alert in conn.execute(
                sa.select(t.monitoring_alerts.c.run_row_id, t.monitoring_alerts.c.message)
                .where(t.monitoring_alerts.c.run_row_id.in_(ids))
                .order_by(t.monitoring_alerts.c.id)
            ):
                alerts.setdefault(alert.run_row_id, []).append(alert.message)
    records = []
    for run in runs:
        values = {k: v for k, v in run._mapping.items() if k not in ("version_id", "event_seq", "version")}
        records.append(
            MonitoringRunRecord(
                model_name=model.name, version=run.version, alerts=alerts.get(run.id, []), **values
            )
        )
    return records


def window_counts(register: Register, run_id: str) -> list[WindowCounts]:
    """The stored count tables of one run's windows, in time order."""
    with database.read_transaction(register.engine) as conn:
        run = conn.execute(
            sa.select(t.monitoring_runs.c.id).where(t.monitoring_runs.c.run_id == run_id)
        ).first()
        if run is None:
            from governance.errors import NotFoundError

            raise NotFoundError(f"No monitoring run with the id {run_id!r} is recorded.")
        rows = conn.execute(
            sa.select(t.monitoring_windows)
            .where(t.monitoring_windows.c.run_row_id == run.id)
            .order_by(t.monitoring_windows.c.id)
        ).all()
    return [WindowCounts(r.start, r.end, r.n_rows, r.labelled, bool(r.provisional), r.counts) for r in rows]


def alert_items(register: Register, details: Sequence[ModelDetail]) -> list[StatusItem]:
    """Status items: versions with open monitoring alerts, and versions an alert made due for audit now."""
    with database.read_transaction(register.engine) as conn:
        runs = conn.execute(
            sa.select(t.monitoring_runs)
            .where(t.monitoring_runs.c.n_alerts > 0)
            .order_by(t.monitoring_runs.c.id)
        ).all()
        # "audited again after the run" by the history's order, not the clock (both can fall in one second)
        audited_seq = dict(
            conn.execute(
                sa.select(t.audits.c.version_id, sa.func.max(t.audits.c.event_seq)).group_by(
                    t.audits.c.version_id
                )
            ).all()
        )
    if not runs:
        return []
    items: list[StatusItem] = []
    for detail in details:
        for version in detail.versions:
            if version.state == "retired":
                continue
            own = [r for r in runs if r.version_id == version.id]
            open_runs = open_alert_runs(own, audited_seq.get(version.id), lambda r: int(r.event_seq))
            if open_runs:
                items += _items_for(detail.model.name, version.version, open_runs)
    return items


def _items_for(model_name: str, version: str, runs: Sequence[Any]) -> list[StatusItem]:
    label = f"{model_name}@{version}"
    count = sum(r.n_alerts for r in runs)
    last = runs[-1]
    history = step("monitor_history", model=model_name, version=version, label=label)
    items = [
        StatusItem(
            category="alerts",
            model_name=model_name,
            version=version,
            message=f"{label} has {count} open monitoring alert{'s' if count != 1 else ''} (newest run {last.run_id} "
            f"on {last.recorded_at[:10]}); read them with {history.said} and audit it again to close them.",
            steps=[history],
        )
    ]
    triggered = [r for r in runs if r.reaudit]
    if triggered:
        first = triggered[0]
        again = step("audit_again", label=label)
        items.append(
            StatusItem(
                category="overdue",
                model_name=model_name,
                version=version,
                due=first.recorded_at,
                message=f"{label} is due for audit now: monitoring run {first.run_id} on {first.recorded_at[:10]} "
                f"raised alerts that set its next audit date to that day; audit it again with {again.said}.",
                steps=[again],
            )
        )
    return items
