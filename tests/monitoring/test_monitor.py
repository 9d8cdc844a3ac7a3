"""``governance monitor``: windows of a decision log against the approved audit, alerts, the register, status."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from monitoring_support import audit, decision_log, decisions, make_workspace, run

from governance.register import Register
from governance.register import schema as t
from governance.register.monitoring import monitoring_runs, window_counts


def _workspace(tmp_path: Path, register_url: str) -> Path:
    root = make_workspace(tmp_path / "ws", register_url, versions=("1",))
    audit(root, register_url, "1", decisions(3000, rate_a=0.5, rate_b=0.45, seed=1))
    return root


def test_a_drifting_group_raises_an_alert_that_is_recorded_and_listed_by_status(
    tmp_path: Path, register_url: str
) -> None:
    root = _workspace(tmp_path, register_url)
    log = decision_log(root / "log.csv", days=240, per_day=80, drift_from=150)
    result = run(
        root, register_url, "monitor", "m@1", "--data", str(log), "--time-column", "ts", "--window", "1M"
    )
    assert result.exit_code == 1, result.output
    assert "8 window(s) of 1M from 2026-01-01 to 2026-08-01" in result.output
    assert "[impact-ratio-drift] group: the ratio of selection_rate of B" in result.output
    assert "lower than the approved" in result.output
    with Register(register_url, workspace_root=root) as register:
        runs = monitoring_runs(register, "m", "1")
        assert len(runs) == 1 and runs[0].n_windows == 8 and runs[0].n_alerts >= 1 and runs[0].reaudit
        stored = window_counts(register, runs[0].run_id)
        assert [w.start[:10] for w in stored][:2] == ["2026-01-01", "2026-02-01"]
        assert sum(sum(sum(row) for row in w.counts["counts"]) for w in stored) == 240 * 80
        assert register.verify().ok
    status = run(root, register_url, "status")
    assert "Open monitoring alerts (1):" in status.output
    assert "m@1 is due for audit now: monitoring run" in status.output
    failing = run(root, register_url, "status", "--fail-on", "alerts")
    assert failing.exit_code == 1
    events = run(root, register_url, "register", "history", "m")
    assert (
        f"recorded monitoring run {runs[0].run_id} of m@1: 8 windows of 1M from 2026-01-01" in events.output
    )
    assert "The next audit is due now." in events.output
    history = run(root, register_url, "monitor", "m@1", "--history")
    assert runs[0].run_id in history.output and "lower than the approved" in history.output
    # a new audit answers the alerts
    audit(root, register_url, "1", decisions(3000, rate_a=0.5, rate_b=0.45, seed=3), name="again")
    after = run(root, register_url, "status")
    assert "Open monitoring alerts" not in after.output and "due for audit now" not in after.output


def test_stable_decisions_raise_no_alert_and_late_labels_make_windows_provisional(
    tmp_path: Path, register_url: str
) -> None:
    root = _workspace(tmp_path, register_url)
    log = decision_log(root / "log.csv", days=120, per_day=60, unlabelled_after=90)
    result = run(
        root,
        register_url,
        "monitor",
        "m@1",
        "--data",
        str(log),
        "--time-column",
        "ts",
        "--window",
        "1W",
        "--json",
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["alerts"] == []
    windows = found["windows"]
    assert windows[0]["start"].startswith("2025-12-29")  # weeks start on Monday
    assert not windows[0]["provisional"] and windows[-1]["provisional"]
    assert windows[-1]["label_coverage"] == 0.0
    group_b = next(g for g in windows[0]["groups"] if g["group"] == "B")
    assert (
        group_b["selection_rate"]["low"]
        < group_b["selection_rate"]["value"]
        < group_b["selection_rate"]["high"]
    )
    assert group_b["impact_ratio"]["low"] < group_b["impact_ratio"]["value"] < group_b["impact_ratio"]["high"]
    assert "accuracy" in group_b["metrics"]
    assert found["sustained_run"] >= 2 and found["checks"] > len(windows)


def test_daily_windows_and_a_record_free_look(tmp_path: Path, register_url: str) -> None:
    root = _workspace(tmp_path, register_url)
    log = decision_log(root / "log.csv", days=30, per_day=40)
    result = run(
        root,
        register_url,
        "monitor",
        "m@1",
        "--data",
        str(log),
        "--time-column",
        "ts",
        "--window",
        "1D",
        "--no-record",
        "--windows",
    )
    assert result.exit_code == 0, result.output
    assert "30 window(s) of 1D" in result.output and "2026-01-30  n=40" in result.output
    with Register(register_url, workspace_root=root) as register:
        assert monitoring_runs(register, "m") == []


def _state(register_url: str, root: Path) -> tuple[int, int]:
    with Register(register_url, workspace_root=root) as register:
        head = register.chain_head()[0]
        with register.engine.connect() as conn:
            runs = conn.execute(sa.select(sa.func.count()).select_from(t.monitoring_runs)).scalar_one()
    return head, runs


def test_bad_inputs_are_one_sentence_exit_2_and_nothing_is_written(tmp_path: Path, register_url: str) -> None:
    root = _workspace(tmp_path, register_url)
    log = decision_log(root / "log.csv", days=20, per_day=20)
    bad_times = root / "bad-times.csv"
    frame = pd.read_csv(log)
    frame.loc[3, "ts"] = "next tuesday"
    frame.to_csv(bad_times, index=False)
    many = root / "many.csv"
    frame = pd.read_csv(log)
    frame.loc[0, "pred"] = 2
    frame.to_csv(many, index=False)
    before = _state(register_url, root)
    cases = [
        (["m@1", "--data", str(log), "--time-column", "when"], "'when'"),
        (
            ["m@1", "--data", str(bad_times), "--time-column", "ts"],
            "cannot be read as a date or time (the first is 'next tuesday')",
        ),
        (
            ["m@1", "--data", str(log), "--time-column", "ts", "--since", "2027-01-01"],
            "The log has no rows between 2027-01-01",
        ),
        (
            ["m@1", "--data", str(log), "--time-column", "ts", "--window", "5Y"],
            "--window '5Y' is not understood",
        ),
        (["m@9", "--data", str(log), "--time-column", "ts"], "m has no version '9'"),
        (["nobody@1", "--data", str(log), "--time-column", "ts"], "No model named 'nobody' is registered"),
        (["m@1", "--data", str(root / "none.csv"), "--time-column", "ts"], "does not exist"),
        (["m@1", "--data", str(many), "--time-column", "ts"], "holds more than two values"),
        (["m@1", "--data", str(log), "--time-column", "ts", "--predictions", "decision"], "'decision'"),
        (["m@1", "--data", str(log)], "--time-column is needed"),
        (
            ["m@1", "--data", str(log), "--time-column", "ts", "--since", "someday"],
            "--since 'someday' is not a date",
        ),
    ]
    for args, words in cases:
        result = run(root, register_url, "monitor", *args)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output, (args, result.output)
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) <= 2, result.output
    assert _state(register_url, root) == before


def test_a_version_without_an_audit_cannot_be_monitored(tmp_path: Path, register_url: str) -> None:
    root = make_workspace(tmp_path / "ws", register_url, versions=("1",))
    log = decision_log(root / "log.csv", days=10, per_day=10)
    result = run(root, register_url, "monitor", "m@1", "--data", str(log), "--time-column", "ts")
    assert result.exit_code == 2
    assert "m@1 has no recorded audit to monitor against" in result.output


def test_verify_catches_a_window_count_table_edited_by_hand(tmp_path: Path, register_url: str) -> None:
    root = _workspace(tmp_path, register_url)
    log = decision_log(root / "log.csv", days=60, per_day=30)
    assert run(root, register_url, "monitor", "m@1", "--data", str(log), "--time-column", "ts").exit_code == 0
    with Register(register_url, workspace_root=root) as register:
        with register.engine.begin() as conn:
            conn.execute(
                sa.update(t.monitoring_windows).where(t.monitoring_windows.c.id == 1).values(n_rows=1)
            )
        report = register.verify()
    assert not report.ok
    assert any("monitoring window row 1 differs" in p.message for p in report.problems)


def test_the_model_overview_and_so_the_site_names_the_open_alert(tmp_path: Path, register_url: str) -> None:
    root = _workspace(tmp_path, register_url)
    log = decision_log(root / "log.csv", days=240, per_day=80, drift_from=150)
    assert run(root, register_url, "monitor", "m@1", "--data", str(log), "--time-column", "ts").exit_code == 1
    with Register(register_url, workspace_root=root) as register:
        attention = register.overview("m").attention
    assert any(item.category == "alerts" for item in attention)
    assert any(item.category == "overdue" and "monitoring run" in item.message for item in attention)


def test_a_monitoring_section_with_a_wrong_metric_is_a_policy_error_naming_the_line(tmp_path: Path) -> None:
    from governance.errors import PolicyError
    from governance.rules.load import parse_policy

    text = "name: p\nmonitoring:\n  alerts:\n    - id: a\n      kind: population\n      metric: accuracy\n"
    try:
        parse_policy(text, source="p.yaml")
    except PolicyError as error:
        assert "line 4" in str(error) and "does not fit alert kind 'population'" in str(error)
    else:
        raise AssertionError("the policy was accepted")
    policy = parse_policy("name: p\nmonitoring:\n  diff_tolerance: 0.1\n", source="p.yaml")
    assert policy.monitoring.diff_tolerance == 0.1 and len(policy.monitoring.alerts) == 4


def test_the_model_page_shows_the_runs_alerts_and_monthly_trend(tmp_path: Path, register_url: str) -> None:
    from collections import defaultdict

    from governance.site.model_page import render_model_page
    from governance.site.sources import collect
    from governance.workspace import Workspace

    root = _workspace(tmp_path, register_url)
    log = decision_log(root / "log.csv", days=240, per_day=80, drift_from=150)
    assert run(root, register_url, "monitor", "m@1", "--data", str(log), "--time-column", "ts").exit_code == 1
    model = collect(Workspace(root=root), register_url=register_url).models["m"]
    links: dict[str, str] = defaultdict(lambda: "audit.md")
    page = render_model_page(
        model, audit_links=links, figure=None, checklist_link=None, ll144_link=None, min_cell_size=0
    )
    section = page[page.index("## Monitoring after go-live") : page.index("## Considerations")]
    assert "| 1M | 2026-01-01 to 2026-08-01 | 19,200 |" in section.replace("&#46;", ".")
    assert "Alerts of the newest run" in section and "lower than the approved" in section
    assert "Impact ratio of group against A, by month (95 % interval); the policy" in section
    months = [line for line in section.splitlines() if re.match(r"^\| 2026-\d\d \|", line)]
    assert len(months) == 8 and "(" in months[0]
    from governance.site.monitoring_section import draw_trend_figure

    files = draw_trend_figure(model, tmp_path / "figures", "m-monitoring")
    assert files == ["m-monitoring.svg", "m-monitoring.png"]
    svg = (tmp_path / "figures" / "m-monitoring.svg").read_text(encoding="utf-8")
    assert "Impact ratios by month after go-live" in svg and "08/26" in svg and "group: B / A" in svg
    with_figure = render_model_page(
        model,
        audit_links=links,
        figure=None,
        checklist_link=None,
        ll144_link=None,
        min_cell_size=0,
        monitoring_figure=files[0],
    )
    assert "](figures/m-monitoring.svg)" in with_figure


def test_a_month_without_decisions_is_reported_as_empty_and_never_judged(
    tmp_path: Path, register_url: str
) -> None:
    root = _workspace(tmp_path, register_url)
    log = decision_log(root / "log.csv", days=90, per_day=40)
    frame = pd.read_csv(log)
    frame = frame[~frame["ts"].str.startswith(("2026-02", "2026-03-01"))]
    frame["ts"] = frame["ts"].str.replace("Z", "+02:00", regex=False)  # another zone: read and kept in UTC
    frame.to_csv(log, index=False)
    result = run(
        root,
        register_url,
        "monitor",
        "m@1",
        "--data",
        str(log),
        "--time-column",
        "ts",
        "--window",
        "1M",
        "--json",
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert [w["start"][:10] for w in found["windows"]] == [
        "2025-12-01",
        "2026-01-01",
        "2026-02-01",
        "2026-03-01",
    ]
    assert found["empty_windows"] == ["2026-02-01T00:00:00"]
    assert found["windows"][2]["groups"] == []


def test_the_register_page_lists_the_open_alert_under_needs_attention(
    tmp_path: Path, register_url: str
) -> None:
    from collections import defaultdict

    from governance.site.attention_page import AttentionLinks, attention_items
    from governance.site.sources import collect
    from governance.workspace import Workspace

    root = _workspace(tmp_path, register_url)
    log = decision_log(root / "log.csv", days=240, per_day=80, drift_from=150)
    assert run(root, register_url, "monitor", "m@1", "--data", str(log), "--time-column", "ts").exit_code == 1
    sources = collect(Workspace(root=root), register_url=register_url)
    links = AttentionLinks(models={"m": "models/m.md"}, audits=defaultdict(lambda: "a.md"), checklists={})
    items = attention_items(sources, {}, links)
    kinds = [kind for kind, _line in items]
    assert "alerts" in kinds and kinds.index("overdue") < kinds.index("alerts")
    line = next(text for kind, text in items if kind == "alerts")
    assert line.startswith("**Open monitoring alerts** — [m](models/m.md): m&#64;1 has")


def test_a_person_with_the_granted_role_can_record_a_monitoring_run(
    tmp_path: Path, register_url: str
) -> None:
    """On PostgreSQL each person has the grants `register grant-sql` prints: they cover the monitoring tables."""
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "register"))
    from register_support import People

    root = _workspace(tmp_path, register_url)
    log = decision_log(root / "log.csv", days=60, per_day=40)
    with People(register_url, root) as people:
        result = run(
            root,
            people.url("monitor"),
            "monitor",
            "m@1",
            "--data",
            str(log),
            "--time-column",
            "ts",
            "--window",
            "1M",
        )
        assert result.exit_code in (0, 1), result.output
        assert "recorded" in result.output.lower() or "run" in result.output.lower()
    with Register(register_url, workspace_root=root) as register:
        assert len(monitoring_runs(register, "m", "1")) == 1
        assert register.verify().ok
