"""The "monitoring" evidence kind: post-market monitoring items are met by recorded monitoring runs of the
deployed version, within the item's window, with no alert still open (issue 15, point 5)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from checklist_support import model_fields

from governance.checklists import Checklist, ChecklistItem, Evidence, evaluate_status
from governance.checklists.loading import load_checklists
from governance.paths import bundled_policies
from governance.provenance import set_clock

MONITORING = Evidence(type="monitoring", max_age_days=31)


def _checklists() -> list[Checklist]:
    item = ChecklistItem(
        id="t.monitored",
        title="monitored",
        requirement="r",
        source="s",
        applies_when=["always"],
        evidence=MONITORING,
        guidance="g",
        framework="t",
    )
    return [
        Checklist(
            schema_version="1.0", framework="t", title="T", source="s", as_of="2026-11-22", description="d",
            items=[item],
        )
    ]  # fmt: skip


def _event(kind: str, table: str, version: str, record: dict[str, Any], seq: int) -> dict[str, Any]:
    """An event as the register's detail carries it: its row's after-image under ``payload.rows``."""
    return {
        "seq": seq,
        "kind": kind,
        "version": version,
        "at": record["recorded_at"],
        "payload": {"rows": [{"table": table, "record": record}]},
    }


def _run(version: str, recorded_at: str, n_alerts: int = 0, *, seq: int = 5) -> dict[str, Any]:
    """A ``monitoring.recorded`` event."""
    record = {"run_id": f"m-{recorded_at[:10]}", "recorded_at": recorded_at, "n_alerts": n_alerts}
    return _event("monitoring.recorded", "gov_monitoring_runs", version, record, seq)


def _audit(audit_id: str, version: str, recorded_at: str, *, seq: int) -> dict[str, Any]:
    """An ``audit.recorded`` event."""
    record = {"audit_id": audit_id, "recorded_at": recorded_at}
    return _event("audit.recorded", "gov_audits", version, record, seq)


FIRST_AUDIT = _audit("a1", "2.0.0", "2026-01-10T00:00:00Z", seq=1)


def _judge(events: list[dict[str, Any]], audits: list[dict[str, Any]] | None = None, state: str = "deployed"):  # type: ignore[no-untyped-def]
    """The item's status for a register whose history holds ``audits`` (audit events; default: one in January)
    and ``events``; the detail's audit list is made from the audit events, as the register makes both."""
    audits = audits if audits is not None else [FIRST_AUDIT]
    model = model_fields(
        versions=[{"version": "1.0.0", "state": "retired"}, {"version": "2.0.0", "state": state}],
        audits=[{**event["payload"]["rows"][0]["record"], "version": event["version"]} for event in audits],
        events=sorted([*audits, *events], key=lambda event: event["seq"]),
    )
    found = evaluate_status(_checklists(), model=model, answers=[], latest_audit=None).item("t.monitored")
    assert found is not None
    return found


@pytest.fixture(autouse=True)
def _clock():  # type: ignore[no-untyped-def]
    set_clock(lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))
    yield
    set_clock(None)


def test_a_recent_run_without_alerts_meets_the_item() -> None:
    found = _judge([_run("2.0.0", "2026-11-15T08:00:00Z")])
    assert found.state == "met"
    assert found.origin == "monitoring"
    assert "2.0.0" in found.reason and "2026-11-15" in found.reason


def test_no_run_is_not_met_and_says_which_command_to_run() -> None:
    found = _judge([])
    assert found.state == "not_met"
    assert "governance monitor credit@2.0.0" in found.reason


def test_a_run_of_a_retired_version_does_not_count() -> None:
    assert _judge([_run("1.0.0", "2026-11-15T08:00:00Z")]).state == "not_met"


def test_a_run_older_than_the_window_is_not_met() -> None:
    found = _judge([_run("2.0.0", "2026-09-01T08:00:00Z")])
    assert found.state == "not_met"
    assert "31 days" in found.reason


def test_an_open_alert_is_not_met_until_the_version_is_audited_again() -> None:
    events = [
        _run("2.0.0", "2026-11-01T08:00:00Z", n_alerts=2, seq=5),
        _run("2.0.0", "2026-11-15T08:00:00Z", seq=7),
    ]
    found = _judge(events)
    assert found.state == "not_met"
    assert "2 open monitoring alerts" in found.reason and "audit" in found.reason
    audited_after = [FIRST_AUDIT, _audit("a2", "2.0.0", "2026-11-05T00:00:00Z", seq=6)]
    assert _judge(events, audits=audited_after).state == "met"


def test_an_audit_closes_the_alerts_recorded_before_it_in_the_history_not_by_the_clock() -> None:
    """The history's order decides, as in `governance status`: the clocks of two machines (or one second holding
    both) must not reopen alerts an audit closed, nor close alerts raised after it."""
    alerted = _run("2.0.0", "2026-11-10T08:00:00Z", n_alerts=2, seq=5)
    clock_behind = _audit("a2", "2.0.0", "2026-11-09T08:00:00Z", seq=6)  # audited after the run, clock behind
    assert _judge([alerted], audits=[FIRST_AUDIT, clock_behind]).state == "met"
    audited_first = _audit("a2", "2.0.0", "2026-11-12T08:00:00Z", seq=5)
    alerted_later = _run("2.0.0", "2026-11-10T08:00:00Z", n_alerts=2, seq=6)  # recorded after, clock behind
    found = _judge([alerted_later], audits=[FIRST_AUDIT, audited_first])
    assert found.state == "not_met"
    assert "2 open monitoring alerts" in found.reason


def test_an_audit_in_the_same_second_as_the_run_closes_it_when_it_comes_after_it() -> None:
    moment = "2026-11-10T08:00:00Z"
    alerted = _run("2.0.0", moment, n_alerts=1, seq=5)
    assert _judge([alerted], audits=[FIRST_AUDIT, _audit("a2", "2.0.0", moment, seq=6)]).state == "met"
    assert _judge([alerted], audits=[FIRST_AUDIT, _audit("a2", "2.0.0", moment, seq=4)]).state == "not_met"


def test_a_model_with_no_deployed_version_says_so() -> None:
    found = _judge([_run("2.0.0", "2026-11-15T08:00:00Z")], state="approved")
    assert found.state == "not_met"
    assert "deployed" in found.reason


@pytest.mark.parametrize(
    "item_id", ["eu-ai-act.art72.monitoring-runs", "nist-ai-rmf.manage-4-1", "iso-42001.a6-2-6-monitoring"]
)
def test_the_shipped_post_market_items_are_evidenced_by_monitoring_runs(item_id: str) -> None:
    items = {i.id: i for c in load_checklists(bundled_policies() / "checklists") for i in c.items}
    assert items[item_id].evidence.type == "monitoring"
    assert items[item_id].evidence.max_age_days


def test_the_monitoring_template_states_window_kpis_and_alert_rules(tmp_path: Path) -> None:
    from governance.documents import load_policy_template, render_policy

    template = load_policy_template(
        bundled_policies() / "templates" / "monitoring-and-performance-evaluation.md"
    )
    config = {
        "monitoring": {"window": "1W", "every_days": 7, "kpis": ["selection rate", "approval rate of women"]}
    }
    text = render_policy(template, config)
    assert "1W" in text and "every 7 days" in text
    assert "approval rate of women" in text
    for rule_id in ("impact-ratio-drift", "accuracy-drift", "group-shares-drift", "input-drift"):
        assert rule_id in text
    for item_id in (
        "eu-ai-act.art72.monitoring-runs",
        "nist-ai-rmf.manage-4-1",
        "iso-42001.a6-2-6-monitoring",
    ):
        assert item_id in text


def test_a_wrong_monitoring_setting_is_one_sentence_naming_it() -> None:
    from governance.documents import load_policy_template, render_policy
    from governance.errors import PolicyError

    template = load_policy_template(
        bundled_policies() / "templates" / "monitoring-and-performance-evaluation.md"
    )
    with pytest.raises(PolicyError, match=r"monitoring in governance\.yaml must give every_days"):
        render_policy(template, {"monitoring": {"every_days": "monthly"}})
    with pytest.raises(PolicyError, match="alerts as the alert rules"):
        render_policy(template, {"monitoring": {"alerts": [{"id": "x", "kind": "weather"}]}})


def test_status_and_the_checklist_agree_when_the_clock_runs_behind_the_history(tmp_path: Path) -> None:
    """A real register: an audit recorded after an alerting run, on a machine whose clock is a day behind,
    closes the alerts for `governance status` and for the checklist alike."""
    import json

    from governance.checklists.sources import status_from_register
    from governance.register import Register
    from governance.register.monitoring import AlertEntry, RunFacts, record_monitoring

    today = ["2026-11-01"]
    set_clock(lambda: datetime.fromisoformat(f"{today[0]}T10:00:00+00:00"))
    (tmp_path / "m.skops").write_bytes(b"model bytes")
    register = Register(f"sqlite:///{tmp_path / 'register.db'}", workspace_root=tmp_path)

    def audit(audit_id: str) -> None:
        folder = tmp_path / "audits" / audit_id
        folder.mkdir(parents=True)
        (folder / "audit.json").write_text(json.dumps({"audit_id": audit_id}), encoding="utf-8")
        sha256 = register.resolve_version("credit", "2.0.0").sha256
        register.record_audit(
            "credit", "2.0.0", audit_id=audit_id, audit_json_path=folder / "audit.json", verdict="passed",
            policy_name="p", policy_sha256="p" * 64, data_sha256="d" * 64, artifact_sha256=sha256,
            tool_versions={}, actor="auditor@example.com", max_age_days=365,
        )  # fmt: skip

    register.add_model("credit", owner="o@example.com", purpose="Scores credit", actor="ds@example.com")
    register.add_version("credit", "2.0.0", artifact_path=tmp_path / "m.skops", actor="ds@example.com")
    audit("a1")
    register.approve("credit", "2.0.0", role="risk-officer", actor="ro@example.com")
    register.deploy("credit", "2.0.0", actor="ops@example.com")
    facts = RunFacts(
        run_id="m-1", window="1D", time_column="at", data_path="log.csv", data_sha256="d" * 64,
        policy_sha256="p" * 64, approved_audit_id="a1",
    )  # fmt: skip
    alert = AlertEntry(
        "drift", "metric", "2026-11-11", "sex", "F", "selection_rate", "Selection rate fell.", False
    )
    today[0] = "2026-11-12"
    record_monitoring(register, "credit", "2.0.0", facts=facts, windows=[], alerts=[alert], actor="ops@x")
    today[0] = "2026-11-11"  # the next audit: after the run in the history, a day behind by the clock
    audit("a2")
    set_clock(lambda: datetime(2026, 11, 20, 12, tzinfo=UTC))
    try:
        alerts = [item for item in register.status(within_days=0).items if item.category == "alerts"]
        found = status_from_register(register, "credit", _checklists()).item("t.monitored")
    finally:
        register.close()
    assert alerts == []
    assert found is not None and found.state == "met", found
