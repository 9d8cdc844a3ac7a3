"""Suite-wide settings: a fixed clock, and in CI no silent skipping of tests that need a server or a browser."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from governance.provenance import set_clock

FIXED_NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C handled as Python handles it by default, even when the suite was started in the background by a
    shell without job control (``bash -c 'pytest &'``): SIGINT then comes ignored, every process the tests start
    inherits that, and the tests of Ctrl-C (sent to the suite's own process or to a command it started) would see
    nothing happen (eleven failed so, in a fresh clone run started that way)."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without the developer's GOVERNANCE_* settings (register URL, workspace, clock, key,
    actor), so that a shell set up for real work cannot change a result; the test harness's own
    GOVERNANCE_TEST_* variables stay."""
    for name in list(os.environ):
        if name.startswith("GOVERNANCE_") and not name.startswith("GOVERNANCE_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def fixed_clock() -> Iterator[datetime]:
    """Freeze the toolkit's clock for reproducible ids and timestamps."""
    set_clock(lambda: FIXED_NOW)
    yield FIXED_NOW
    set_clock(None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    needs_service = any(item.get_closest_marker(name) for name in ("postgres", "browser", "spark"))
    if report.skipped and needs_service and os.environ.get("GOVERNANCE_TEST_REQUIRE_SERVICES"):
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} was skipped, but CI requires PostgreSQL, Chromium and Spark: {report.longrepr}"
        )


@pytest.fixture
def saved_canvases(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every figure the house charts save while the test runs, as (file stem, canvas), in order: counted work."""
    from governance.report.charts import Canvas

    saved: list[tuple[str, Any]] = []
    real_save = Canvas.save

    def recorded(canvas: Canvas, folder: Path, stem: str) -> str:
        saved.append((stem, canvas))
        return real_save(canvas, folder, stem)

    monkeypatch.setattr(Canvas, "save", recorded)
    return saved
