"""The model page's trend after go-live (issue 15, point 4): monitoring windows and full audits on one figure,
the policy's bound and the approval dates drawn in; the register page flags models with open alerts."""

from __future__ import annotations

from pathlib import Path

from monitoring_support import audit, decision_log, decisions, make_workspace, run

from governance.register import Register
from tests.register.register_support import People


def _monitored(tmp_path: Path, register_url: str) -> Path:
    root = make_workspace(tmp_path / "ws", register_url, versions=("1",))
    audit(root, register_url, "1", decisions(3000, rate_a=0.5, rate_b=0.45, seed=1))
    with People(register_url, root) as people:
        people.register("risk").approve(
            "m", "1", role="risk-officer", actor="risk@example.com", risk_acceptance="Saved predictions."
        )
    with Register(register_url, workspace_root=root) as register:
        register.deploy("m", "1", actor="ops@example.com")
    log = decision_log(root / "log.csv", days=240, per_day=80, drift_from=150)
    assert run(root, register_url, "monitor", "m@1", "--data", str(log), "--time-column", "ts").exit_code == 1
    return root


def test_the_trend_figure_has_the_audits_the_policy_bound_and_the_approval(
    tmp_path: Path, register_url: str
) -> None:
    from governance.site.monitoring_section import audit_points, draw_trend_figure
    from governance.site.sources import collect
    from governance.workspace import Workspace

    root = _monitored(tmp_path, register_url)
    model = collect(Workspace(root=root), register_url=register_url).models["m"]
    points = audit_points(model)
    assert list(points) == ["group: B / A"]
    ((month, value, low, high),) = points["group: B / A"]
    assert low is not None and high is not None and low < value < high
    files = draw_trend_figure(model, tmp_path / "figures", "m-monitoring")
    svg = (tmp_path / "figures" / files[0]).read_text(encoding="utf-8")
    assert "full audit" in svg  # the legend names the audits' marker
    assert "policy bound (0.8)" in svg  # the four-fifths policy's bound, not a fixed line
    assert "approved" in svg  # the approval's month is marked
    assert month[5:7] + "/" + month[2:4] in svg


def test_the_register_page_flags_a_model_with_open_alerts(tmp_path: Path, register_url: str) -> None:
    from governance.site.register_page import render_register_page
    from governance.site.sources import collect
    from governance.workspace import Workspace

    root = _monitored(tmp_path, register_url)
    sources = collect(Workspace(root=root), register_url=register_url)
    page = render_register_page(
        sources,
        organisation="Test Co",
        model_links={"m": "models/m.md"},
        audit_links={r.result.audit_id: "a.md" for r in sources.models["m"].audits},
        extra_links=[],
        built_at="2026-11-29",
    )
    row = next(line for line in page.splitlines() if line.startswith("| [m]"))
    assert "open monitoring alert" in row and "models/m.md#monitoring-after-go-live" in row
