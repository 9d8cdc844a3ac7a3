"""A test-only hook: hold the process at a named point so that a test can ``kill -9`` it exactly there.

Set ``GOVERNANCE_TEST_PAUSE_AT`` to a point and ``GOVERNANCE_TEST_PAUSE_FILE`` to a path: on reaching the point
the process creates the file and waits while it exists (at most ``MAX_WAIT_SECONDS``, then it carries on).
Points in an audit: ``figures`` (figures written, ``audit.json`` not yet), ``before-rename`` (the hidden staging
folder is complete), ``before-commit`` (the folder is in place, the register has not recorded it yet). In the
register: ``register-commit`` (a change's rows and event are written, its transaction not yet committed).

Without both variables this does nothing. It is for the crash tests only; never set these variables elsewhere.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PAUSE_AT = "GOVERNANCE_TEST_PAUSE_AT"
PAUSE_FILE = "GOVERNANCE_TEST_PAUSE_FILE"
MAX_WAIT_SECONDS = 120.0


def pause_at(point: str) -> None:
    """Wait at ``point`` while the pause file exists, if the test asked for this point."""
    if os.environ.get(PAUSE_AT) != point or not os.environ.get(PAUSE_FILE):
        return
    signal_file = Path(os.environ[PAUSE_FILE])
    signal_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
    deadline = time.monotonic() + MAX_WAIT_SECONDS
    while signal_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
