"""How the process was asked to stop: Ctrl-C (``KeyboardInterrupt``) or SIGTERM (:class:`Terminated`), also when a
library turned the signal into an error of its own (DuckDB: ``Query interrupted``), which would otherwise read as
a failed query (exit 2, "check the SQL") instead of a stop (130 or 143, "run it again")."""

from __future__ import annotations


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a CI job cancelled, a container stopped), raised where Ctrl-C would be, so that the same
    clean-up runs: a write rolled back, a query sent to a database server cancelled (a process that just died
    would leave it running there)."""


_terminated: list[bool] = []  # SIGTERM came (the command line's handler says so before it raises Terminated)


def note_terminated() -> None:
    """Remember that SIGTERM came, for a stop a library reports as its own error (:func:`stop_behind`)."""
    _terminated.append(True)


def stop_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """The stop behind an engine's error, or ``None``: DuckDB answers a signal during its work by ending the query
    with its own ``InterruptException`` ("Query interrupted"), the signal's exception gone."""
    interrupted = type(exc).__name__ == "InterruptException" or (
        isinstance(exc, RuntimeError) and str(exc).strip() == "Query interrupted"
    )
    if not interrupted:
        return None
    return Terminated() if _terminated else KeyboardInterrupt()
