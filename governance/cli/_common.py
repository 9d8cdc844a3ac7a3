"""Helpers shared by commands: turning library errors into one line and an exit code."""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, TypeVar

import click

from governance.errors import GovernanceError
from governance.escaping import terminal_text
from governance.results.commands import COMMAND_OF_ACTION as COMMAND_OF_ACTION  # the one table of commands
from governance.results.commands import OPTION_OF_FIELD as OPTION_OF_FIELD
from governance.results.commands import cli_message as cli_message  # errors worded as the command line says
from governance.results.commands import option_of as option_of

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(function: F) -> F:
    """Print a ``GovernanceError`` as ``Error: <sentence>`` on stderr and exit with its code.

    An ``OSError`` (an output folder that cannot be created, a disk that is full) is an input error too: one
    sentence and exit 2, not a traceback.
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except GovernanceError as error:
            click.echo(f"Error: {terminal_text(cli_message(error, command_options()))}", err=True)
            raise SystemExit(error.exit_code) from None
        except (
            OSError
        ) as error:  # a folder that cannot be made, a file in the way, a full disk: the user's to fix
            where = f" {error.filename}" if error.filename else ""
            click.echo(
                f"Error: cannot write or read{terminal_text(where)} ({terminal_text(error.strerror or error)}); check "
                "the path, that its folder exists and that you may write there.",
                err=True,
            )
            raise SystemExit(2) from None

    return wrapper  # type: ignore[return-value]


def command_options() -> dict[str, str]:
    """The running command's options by the field each sets (``id_column`` is ``--id`` in ``audit``): the words
    an error uses for a field the user gave on this command line."""
    context = click.get_current_context(silent=True)
    if context is None:
        return {}
    return {
        param.name: param.opts[0]
        for param in context.command.params
        if isinstance(param, click.Option) and param.name and param.opts[0].startswith("--")
    }


def echo(message: object = "", *, err: bool = False, nl: bool = True, keep_newlines: bool = False) -> None:
    """``click.echo`` for text that may hold someone else's words: control characters are shown, not obeyed."""
    click.echo(terminal_text(message, keep_newlines=keep_newlines), err=err, nl=nl)


def secho(message: object = "", *, err: bool = False, nl: bool = True, **styles: Any) -> None:
    """``click.secho`` with the same escaping as :func:`echo`; the styles are the toolkit's own."""
    click.secho(terminal_text(message), err=err, nl=nl, **styles)


actor_option = click.option(
    "--actor",
    envvar="GOVERNANCE_ACTOR",
    help="Who is acting, as a name for the record (default: GOVERNANCE_ACTOR, then git user.email, then the OS "
    "user). The register also records who logged in: the PostgreSQL role, or the OS user on SQLite.",
)

workspace_option = click.option(
    "--workspace",
    "workspace_path",
    type=click.Path(file_okay=False, path_type=str),
    envvar="GOVERNANCE_WORKSPACE",
    help="Workspace folder (default: the nearest folder with governance.yaml, from here upwards).",
)

register_url_option = click.option(
    "--register-url",
    envvar="GOVERNANCE_REGISTER_URL",
    help="Register database URL (default: SQLite in .governance/ of the workspace; postgresql+psycopg://... for a team).",
)


def passed_on(*names: str) -> dict[str, Any]:
    """The running command's options that the library takes under the same name, unchanged.

    A command maps the rest by hand (a flag that negates, a path that becomes an object); this keeps the plain
    ones from being spelt twice, once as ``name=name``.
    """
    params = click.get_current_context().params
    return {name: params[name] for name in names}


def file_option(
    *names: str, help_text: str, required: bool = False, metavar: str | None = None
) -> Callable[[F], F]:
    """A path to a file (not a folder): data, a model, or a file to write."""
    return click.option(
        *names, type=click.Path(dir_okay=False), required=required, metavar=metavar, help=help_text
    )


def repeated_option(
    *names: str, help_text: str, required: bool = False, metavar: str | None = None
) -> Callable[[F], F]:
    """An option given once per value (``--sensitive a --sensitive b``), collected as a tuple."""
    return click.option(*names, multiple=True, required=required, metavar=metavar, help=help_text)


def seed_option(help_text: str) -> Callable[[F], F]:
    """--seed: a whole number, 0 by default; the help says what the seed makes repeatable in that command."""
    return click.option("--seed", type=int, default=0, show_default=True, help=help_text)


def no_explain_option(help_text: str) -> Callable[[F], F]:
    """--no-explain: skip the explanation part of an audit (the help says what that costs in that command)."""
    return click.option("--no-explain", is_flag=True, help=help_text)


def n_boot_option(help_text: str) -> Callable[[F], F]:
    """--n-boot: bootstrap resamples for the intervals (default: the policy's)."""
    return click.option("--n-boot", type=int, help=help_text)


def seconds_option(*names: str, default: float, help_text: str, kind: Any = float) -> Callable[[F], F]:
    """A time budget in seconds with a default shown in --help (``kind`` may narrow the range)."""
    return click.option(*names, type=kind, default=default, show_default=True, help=help_text)


def choice_option(name: str, choices: list[str], *, help_text: str) -> Callable[[F], F]:
    """One of a few words, the first being the default (shown in --help)."""
    return click.option(
        name, type=click.Choice(choices), default=choices[0], show_default=True, help=help_text
    )


class ProgressBars:
    """The one progress bar: a bar per stage of long work on a terminal, nothing otherwise (CI logs stay clean).

    The library reports ``progress(stage, done, total)`` (``governance.audit.run.Progress``); pass an instance as
    that callback and close it (or use it as a context manager) when the work ends or fails.
    """

    LABELS: ClassVar[dict[str, str]] = {
        "scoring": "Scoring the table's rows",
        "fairness": "Bootstrap intervals",
        "explain": "Explaining the model",
        "reasons": "Explaining rows",
    }

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bars: dict[str, Any] = {}
        self.done: dict[str, int] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        if stage not in self.bars:
            bar = click.progressbar(length=total, label=self.LABELS.get(stage, stage), file=sys.stderr)
            bar.__enter__()
            self.bars[stage], self.done[stage] = bar, 0
        bar, step = self.bars[stage], done - self.done[stage]
        bar.length = total  # the work may turn out longer or shorter than first said (a table's rows)
        if step:
            bar.update(step)
        else:
            bar.render_progress()  # a new total alone: click redraws only after a step
        self.done[stage] = done
        if done >= total:
            self.close(stage)

    def close(self, stage: str | None = None) -> None:
        """End one stage's bar (or every bar still open)."""
        for name in [stage] if stage else list(self.bars):
            bar = self.bars.pop(name, None)
            if bar is not None:
                bar.__exit__(None, None, None)

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def table_options(function: F) -> F:
    """--table, --query, --connection and --query-timeout: audit rows where they live (DuckDB, PostgreSQL, Spark)."""
    options = [
        click.option(
            "--table",
            help="Audit this table where it lives (schema.table), read through --connection instead of --data.",
        ),
        click.option(
            "--query", help="Audit the rows of this SQL query (run by --connection) instead of a table."
        ),
        click.option(
            "--connection",
            envvar="GOVERNANCE_CONNECTION",
            help="Where --table or --query runs: duckdb:// (the default: files and DuckDB databases), "
            "postgresql://USER@HOST/DATABASE, or spark://local[2]. Default: GOVERNANCE_CONNECTION, which keeps a "
            "password out of the command line; passwords are never written to any output.",
        ),
        click.option(
            "--query-timeout",
            type=float,
            metavar="SECONDS",
            help="Stop a PostgreSQL query that runs longer than this (default: no limit).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def redacted_command_line(connection: str | None) -> str:
    """The command as typed, for provenance, with the connection URL's password replaced by ***."""
    import shlex
    import sys

    from governance.intake.engine import redact_text

    return redact_text(shlex.join(["governance", *sys.argv[1:]]), connection)


@contextlib.contextmanager
def libraries_loading() -> Iterator[None]:
    """Load a command's libraries with the garbage collector off, then put what they made in its oldest
    generation without walking it.

    Importing numpy, pydantic and the audit's modules makes a few hundred thousand objects (modules, classes,
    functions) that live until the process ends; the collector walked each of them twice on the way to its oldest
    generation, about a hundred collections and 25-60 ms of processor time while a table audit's query runs in
    the engine beside it (issue 14, benchmarks/engine). ``gc.freeze()`` then ``gc.unfreeze()`` moves every
    object there at once: nothing is kept from the collector (its next full collection sees them all), and a
    caller's own frozen objects (``main()`` in a process that froze some) are left as they were. Only when
    something was loaded: ``main()`` called again in one process loads nothing, and moving each call's young
    objects there (the collector's counts back to zero) kept every call's cycles from the collector for good."""
    if not gc.isenabled():
        yield
        return
    modules = len(sys.modules)
    gc.disable()
    try:
        yield
    finally:
        try:
            if gc.get_freeze_count() == 0 and len(sys.modules) > modules:
                gc.freeze()
                gc.unfreeze()
        finally:  # a stop between these steps still turns it back on
            gc.enable()
