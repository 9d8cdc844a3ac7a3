"""Helpers shared by commands: turning library errors into one line and an exit code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from governance.errors import GovernanceError

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(function: F) -> F:
    """Print a ``GovernanceError`` as ``Error: <sentence>`` on stderr and exit with its code."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except GovernanceError as error:
            click.echo(f"Error: {error}", err=True)
            raise SystemExit(error.exit_code) from None

    return wrapper  # type: ignore[return-value]


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
