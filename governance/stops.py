"""How the process was asked to stop: Ctrl-C (``KeyboardInterrupt``) or SIGTERM (:class:`Terminated`), also when a
library turned the signal into an error of its own (DuckDB: ``Query interrupted``), which would otherwise read as
a failed query (exit 2, "check the SQL") instead of a stop (130 or 143, "run it again")."""

from __future__ import annotations

from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, a CI job cancelled, a container stopped), raised where Ctrl-C would be, so that the same
    clean-up runs: a write rolled back, a query sent to a database server cancelled (a process that just died
    would leave it running there)."""


_terminated: list[bool] = []  # SIGTERM came (the command line's handler says so before it raises Terminated)


def note_terminated() -> None:
    """Remember that SIGTERM came, for a stop a library reports as its own error (:func:`stop_behind`)."""
    _terminated.append(True)


def forget_terminated() -> None:
    """A new command starts (``main()`` called again in one process): an earlier command's SIGTERM is over."""
    _terminated.clear()


def stop_behind(exc: BaseException) -> KeyboardInterrupt | None:
    """The stop behind an engine's error, or ``None``: DuckDB answers a signal during its work by ending the query
    with its own ``InterruptException`` ("Query interrupted"), the signal's exception gone."""
    interrupted = type(exc).__name__ == "InterruptException" or (
        isinstance(exc, RuntimeError) and str(exc).strip() == "Query interrupted"
    )
    if not interrupted:
        return None
    return Terminated() if _terminated else KeyboardInterrupt()


_DONE = "governance_done"


def stopped_after(stop: KeyboardInterrupt, done: str) -> KeyboardInterrupt:
    """``stop``, marked as coming after the command's work was done and kept: its sentence says ``done`` (what is
    kept, and what to do instead of running the command again) rather than "run it again"."""
    setattr(stop, _DONE, done)
    return stop


def done_before(stop: KeyboardInterrupt) -> str | None:
    """What :func:`stopped_after` says was done and kept before ``stop``, or ``None``."""
    done = getattr(stop, _DONE, None)
    return done if isinstance(done, str) else None


def kept_audit(result: Any, folder: Any, missing: str = "its printed summary or JSON copy") -> str:
    """What a stop after an audit was saved keeps, in the words of the stop's sentence (``missing``: what the
    stop may have cut short)."""
    verdict = result.policy.verdict.upper()
    if folder is None:
        return f"the audit was complete (verdict {verdict}) but was not saved; run it again to keep it."
    return (
        f"the audit {result.audit_id} was complete and saved in {folder} (verdict {verdict}); only {missing} "
        "may be missing: do not run the audit again, read its report.md and audit.json there."
    )
