"""The forked workers of an explanation (governance.audit.explain.trees) end at once when the command is stopped:
``kill`` on the command makes its pool send SIGTERM to each worker, and a worker that inherited the command's
handler (SIGTERM raises, as Ctrl-C does) would only raise once shap's C code returned from its chunk, holding the
command's exit back by up to a chunk's time."""

from __future__ import annotations

import signal

import numpy as np

from governance.audit.explain.trees import can_fork, run_chunks
from governance.cli.main import _stop_on_sigterm


def _default_sigterm(rows: np.ndarray) -> np.ndarray:
    """Run in a worker: whether SIGTERM ends it on the spot there."""
    return np.full(len(rows), signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)


def test_a_forked_worker_ends_on_sigterm_at_once() -> None:
    assert can_fork()  # Linux, where the suite runs
    restore = _stop_on_sigterm()  # as the command line does
    try:
        parts = run_chunks(
            _default_sigterm, np.zeros((4, 1)), chunk_rows=2, workers=2, deadline=None, per_row=0.0
        )
    finally:
        restore()
    assert len(parts) == 2 and all(part.all() for part in parts)
