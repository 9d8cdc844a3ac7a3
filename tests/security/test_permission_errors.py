"""Issue 10, point 8, for PostgreSQL roles: a role without the register's grants got a database traceback (or a
sentence blaming the URL, exit 2). Now it is one sentence, exit 4: which table, which role, and the fix."""

# ruff: noqa: F811  (the shared fixtures are imported by name, then taken as arguments)
from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "register"))
from roles_fixtures import clock, pg_url, register_and_audit, workspace  # noqa: F401  (fixtures, used by name)

from governance.cli.main import cli
from governance.register import Register


@pytest.fixture
def role(pg_url: str) -> Iterator[str]:
    """A real LOGIN role that may use the register's schema, and nothing else until a test grants it."""
    name = f"carol_{uuid.uuid4().hex[:8]}"
    schema = str(sa.make_url(pg_url).query["options"]).partition("=")[2]
    admin = sa.create_engine(sa.make_url(pg_url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE ROLE "{name}" LOGIN')
        connection.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO "{name}"')
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP OWNED BY "{name}"')
            connection.exec_driver_sql(f'DROP ROLE "{name}"')
        admin.dispose()


def as_role(url: str, role: str) -> str:
    return sa.make_url(url).set(username=role).render_as_string(hide_password=False)


def admin_sql(url: str, *statements: str) -> None:
    engine = sa.create_engine(sa.make_url(url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
    engine.dispose()


def invoke(url: str, workspace: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--register-url", url, "--workspace", str(workspace)])


def audited_version(url: str, workspace: Path) -> None:
    with Register(url, workspace_root=workspace) as register:
        register_and_audit(register, register, workspace)


def fix(role: str) -> str:
    return f"ask the register's administrator to run the SQL from `governance register grant-sql {role}`."


@pytest.mark.postgres
def test_a_role_without_grants_gets_one_sentence_and_exit_4(pg_url: str, workspace: Path, role: str) -> None:
    audited_version(pg_url, workspace)
    for command in (["register", "verify"], ["register", "list"], ["register", "show", "credit-risk"]):
        result = invoke(as_role(pg_url, role), workspace, *command)
        assert result.exit_code == 4, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert result.output == (
            f"Error: Database role {role} may not use the register's table gov_alembic_version (permission "
            f"denied); {fix(role)}\n"
        )


@pytest.mark.postgres
def test_a_grant_missing_on_one_table_names_that_table_and_writes_nothing(
    pg_url: str, workspace: Path, role: str
) -> None:
    audited_version(pg_url, workspace)
    with Register(pg_url) as register:
        script = register.grant_sql([role])
    admin_sql(pg_url, script, f'REVOKE INSERT ON gov_approvals FROM "{role}"')
    approve = ["register", "approve", "credit-risk@1.0.0", "--role", "risk-officer", "--actor", "carol@x"]
    result = invoke(as_role(pg_url, role), workspace, *approve)
    assert result.exit_code == 4, result.output
    assert result.output == (
        f"Error: Database role {role} may not use the register's table gov_approvals (permission denied); "
        f"{fix(role)}\n"
    )
    with Register(pg_url, workspace_root=workspace) as register:
        assert register.resolve_version("credit-risk", "1.0.0").state == "audited"
        assert register.verify().ok
    admin_sql(pg_url, f'GRANT INSERT ON gov_approvals TO "{role}"')  # the fix the sentence names works
    assert invoke(as_role(pg_url, role), workspace, *approve).exit_code == 0


@pytest.mark.postgres
def test_a_person_cannot_upgrade_the_tables_and_is_told_who_can(
    pg_url: str, workspace: Path, role: str
) -> None:
    with Register(pg_url, _migrate_to="0006_monitoring") as previous:  # left by the previous release
        script = previous.grant_sql([role])
    admin_sql(pg_url, script)
    result = invoke(as_role(pg_url, role), workspace, "register", "list")
    assert result.exit_code == 4, result.output
    assert result.output.startswith(f"Error: Database role {role} may not upgrade the register at "), (
        result.output
    )
    assert result.output.endswith(
        "to this version of governance (only the owner of its tables may); ask the register's administrator to "
        "open it once as that owner, e.g. with `governance register verify`.\n"
    )
