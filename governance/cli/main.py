"""Entry point: a lazy Click group, so ``governance --help`` does not import pandas, shap or SQLAlchemy.

Each command lives in its own module and is imported only when it is run or listed.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import importlib.util
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from governance.stops import Terminated as Terminated  # re-exported: where the command line's stops are read
from governance.stops import done_before, forget_terminated, note_terminated
from governance.stops import stopped_after as stopped_after  # re-exported: cli/audit.py marks its stops
from governance.version import __version__

# command name -> "module:attribute"; each module imports heavy libraries inside its functions.
COMMANDS: dict[str, str] = {
    "init": "governance.cli.init:init_command",
    "audit": "governance.cli.audit:audit_command",
    "explain": "governance.cli.explain:explain_command",
    "policy": "governance.cli.policy:policy_group",
    "register": "governance.cli.register:register_group",
    "status": "governance.cli.status:status_command",
    "monitor": "governance.cli.monitor:monitor_command",
    "checklist": "governance.cli.checklist:checklist_group",
    "site": "governance.cli.site:site_group",
    "demo": "governance.cli.demo:demo_command",
    "mitigate": "governance.cli.mitigate:mitigate_command",
}


def _module_exists(module_name: str) -> bool:
    return importlib.util.find_spec(module_name) is not None


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, target in COMMANDS.items() if _module_exists(target.split(":")[0]))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Ctrl-C ends any command with exit code 130 and one sentence: Click's own "Aborted!" exits 1, which
        here means a failed blocking rule, so an interrupted CI gate would read as a model that failed."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as stop:
            _say_stopped(stop)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        """The same while the command line is read, before any command runs (Click would say "Aborted!")."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except KeyboardInterrupt as stop:
            _say_stopped(stop)


def _say_stopped(stop: KeyboardInterrupt) -> NoReturn:
    """One sentence, and the exit code of the signal (Click's Exit: its own clean-up still runs)."""
    terminated = isinstance(stop, Terminated)
    _forget_unhandled_interrupt()
    done = done_before(stop)
    if done is not None:  # the work was done: running the command again would do it twice
        click.echo(f"{'Stopped (SIGTERM)' if terminated else 'Interrupted (Ctrl-C)'} after {done}", err=True)
    else:
        click.echo(TERMINATED if terminated else INTERRUPTED, err=True)
    raise click.exceptions.Exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)


def _forget_unhandled_interrupt() -> None:
    """Undo CPython's note that a ^C went unhandled when it was raised in code run from a string (the dataclasses
    module makes each class's methods so, during imports): the note outlives our handling, and a process started
    as ``python -m governance`` then ends by SIGINT after our sentence, not with 130. Running any string clears it
    first thing (``run_eval_code_obj`` in Python/pythonrun.c); tests/test_interrupt.py."""
    exec("")  # an empty, constant string: nothing runs


EXIT_INTERRUPTED = 130  # the shell's code for a process stopped by SIGINT
EXIT_TERMINATED = 143  # ... and by SIGTERM
TERMINATED = (
    "Stopped (SIGTERM): the command stopped before it finished and left nothing half-written; run it again, "
    "after `governance register history` if it was changing the register."
)
INTERRUPTED = (
    "Interrupted (Ctrl-C): the command stopped before it finished and left nothing half-written; run it again, "
    "after `governance register history` if it was changing the register."
)


@click.group(
    cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="governance")
def cli() -> None:
    """Audit models for bias and explainability, keep a model register, and publish a policy site.

    \b
    Exit codes:
      0  passed, or reported (a policy without a pass mark, such as nyc-ll144: the tables are the output)
      1  failed a blocking rule, or a check (verify, status --fail-on, a lifecycle guard) failed
      2  usage or input error (a wrong column, an unreadable file, a policy typo)
      3  inconclusive: the evidence is too thin to pass or fail (use --strict to treat as failed)
      4  refused input: unsafe to load (an untrusted pickle) or a corrupt register
      130  interrupted (Ctrl-C) before the command finished
      143  stopped by SIGTERM (kill, a cancelled CI job) before the command finished

    Start with `governance demo`, or `governance init` in a new folder.
    """


def main(argv: list[str] | None = None) -> Any:
    """Run the command line (the console script and ``python -m governance``).

    The process ends right after the command, so the objects it made are frozen out of the garbage collector
    when it exits (an ``atexit`` handler, before the interpreter's own): Python's last collections at exit would
    otherwise walk and free them one by one (0.1-0.15 s after an audit, as long as the whole fairness
    computation; benchmarks/engine). Files and connections are closed by the commands themselves, and the other
    ``atexit`` handlers still run."""
    _freeze_at_exit()
    forget_terminated()  # an earlier command's SIGTERM, in a process that calls main() again
    restore = _stop_on_sigterm()
    try:
        return cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="governance")
    finally:
        restore()  # main() called in a caller's process: its own handler back


def _stop_on_sigterm() -> Callable[[], None]:
    """SIGTERM raises :class:`Terminated` in the main thread (Python's default ends the process on the spot,
    with no clean-up: an audit's query left running on the PostgreSQL server, exit code -15 and no sentence).

    Only the first, and not while Ctrl-C is being handled: a second stop would cut short the clean-up the first
    one started (a temporary file left, a rollback half-done). A process told to ignore SIGTERM (its supervisor's
    choice) keeps ignoring it. Gives back a function that puts the caller's handler back."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    if previous == signal.SIG_IGN:
        return lambda: None
    stopping: list[bool] = []

    def stop(_signum: int, _frame: Any) -> None:
        if not stopping and not isinstance(
            sys.exc_info()[1], KeyboardInterrupt
        ):  # not while Ctrl-C cleans up
            stopping.append(True)
            note_terminated()
            raise Terminated

    signal.signal(signal.SIGTERM, stop)
    if previous is None:  # a handler set outside Python: the default is the nearest
        previous = signal.SIG_DFL

    def restore() -> None:
        signal.signal(signal.SIGTERM, previous)

    return restore


_freezing: list[bool] = []


def _freeze_at_exit() -> None:
    """Freeze when the process exits, not when a command ends: ``main()`` called again in one process (a
    notebook, a test runner) would otherwise keep every cycle of the calls before out of the collector."""
    if not _freezing:
        _freezing.append(True)
        atexit.register(gc.freeze)  # runs before the interpreter's last collections
