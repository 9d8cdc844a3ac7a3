"""The reports of ``verify`` and ``status`` say their exit code; the command line only passes it on."""

from __future__ import annotations

from governance.register.records import StatusItem, StatusReport, VerifyReport


def _verify(**fields: object) -> VerifyReport:
    base: dict[str, object] = {
        "ok": True,
        "events_checked": 1,
        "rows_checked": 1,
        "audit_files_checked": 0,
        "signed": False,
        "problems": [],
    }
    return VerifyReport.model_validate(base | fields)


def test_verify_says_0_intact_1_broken_3_not_checked() -> None:
    assert _verify().exit_code == 0
    assert _verify(ok=False).exit_code == 1
    assert _verify(ok=False, inconclusive=True, signing_since=1).exit_code == 3


def test_status_fails_only_on_the_categories_asked_for() -> None:
    item = StatusItem.model_validate(
        {"category": "overdue", "model_name": "m", "version": "1", "message": "overdue"}
    )
    report = StatusReport(generated_at="2026-11-29T00:00:00Z", within_days=30, items=[item])
    assert report.failing({"overdue", "unapproved"}) == ["overdue"]
    assert report.failing({"expiring"}) == []
