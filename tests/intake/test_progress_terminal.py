"""The progress bar as a terminal shows it (a pseudo-terminal: click draws nothing on a pipe)."""

from __future__ import annotations

import os
import re
import sys

import pytest

from governance.cli._common import ProgressBars


def _drawn(monkeypatch: pytest.MonkeyPatch, calls: list[tuple[str, int, int]]) -> str:
    """What the bars wrote to a terminal for ``calls``."""
    main, side = os.openpty()
    with os.fdopen(side, "w", encoding="utf-8") as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        with ProgressBars(enabled=True) as bars:
            for call in calls:
                bars(*call)
        terminal.flush()
        written = os.read(main, 1 << 16).decode()
    os.close(main)
    return written


def test_a_bar_whose_total_shrinks_to_what_was_done_ends_at_100_percent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Scoring reports one row more than scored until the scan ends (a query may give more rows than it counted),
    then the rows scored as the total: the bar ends full (before: it stayed at 99%, nothing redrew it)."""
    written = _drawn(monkeypatch, [("scoring", 1000, 2001), ("scoring", 2000, 2001), ("scoring", 2000, 2000)])
    shown = re.findall(r"(\d+)%", written)
    assert shown[-1] == "100", shown
