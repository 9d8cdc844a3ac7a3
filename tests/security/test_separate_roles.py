"""Issue 10, point 7: on PostgreSQL separation of duties rests on database roles by default, not on typed names.

Real roles on the test server: each person logs in as their own LOGIN role, given the rights by the SQL that
`governance register grant-sql` prints. A team that shares one role says so once, for good, and every view warns.
"""

# ruff: noqa: F811  (the shared fixtures are imported by name, then taken as arguments)
from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "register"))
from register_support import People
from roles_fixtures import clock, people, pg_url, register_and_audit, workspace  # noqa: F401  (fixtures, used by name)

from governance.cli.main import cli
from governance.errors import GuardError, RegisterError
from governance.register import Register

ROLES_GUIDE = "docs/guide/register.md#roles"


def invoke(*args: str, url: str, workspace: Path) -> Result:
    return CliRunner().invoke(
        cli, [*args, "--register-url", url, "--workspace", str(workspace)], catch_exceptions=False
    )


@pytest.mark.postgres
def test_one_role_cannot_approve_what_it_audited_under_another_name(pg_url: str, workspace: Path) -> None:
    with Register(pg_url, workspace_root=workspace) as register:
        register_and_audit(register, register, workspace)
        role = register.engine.url.username
        with pytest.raises(GuardError) as refused:
            register.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x")
        assert register.resolve_version("credit-risk", "1.0.0").state == "audited"
    assert str(refused.value) == (
        "Guard 'separation of duties' refused the approval of credit-risk@1.0.0: you are connected as database "
        f"role {role}, which recorded the audit it relies on (a1), whatever name actor gives; connect as your "
        f"own database role; see {ROLES_GUIDE}."
    )


@pytest.mark.postgres
def test_the_registrant_cannot_approve_under_another_name_on_the_command_line(
    people: People, workspace: Path
) -> None:
    with people.register("ds") as ds, people.register("auditor") as auditor:
        register_and_audit(ds, auditor, workspace)
    refused = invoke(
        "register",
        "approve",
        "credit-risk@1.0.0",
        "--role",
        "risk-officer",
        "--actor",
        "boss@x",
        url=people.url("ds"),
        workspace=workspace,
    )
    assert refused.exit_code == 1
    assert refused.stderr == (
        "Error: Guard 'separation of duties' refused the approval of credit-risk@1.0.0: you are connected as "
        f"database role {people.role('ds')}, which registered this version, whatever name --actor gives; connect "
        f"as your own database role; see {ROLES_GUIDE}.\n"
    )


@pytest.mark.postgres
def test_two_people_with_their_own_roles_may_approve(people: People, workspace: Path) -> None:
    with people.register("ds") as ds:
        register_and_audit(ds, ds, workspace)
    with people.register("boss") as boss:
        approved = boss.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x")
        assert approved.decision == "approve"
        assert [event.identity for event in boss.history()][-1] == f"pg:{people.role('boss')}"
        report = boss.verify()
    assert report.ok and report.warnings == []


@pytest.mark.postgres
def test_the_printed_grants_really_let_a_new_role_work_and_nothing_more(pg_url: str, workspace: Path) -> None:
    """What an administrator does, from the guide: create the role, run what grant-sql prints, hand out a URL."""
    role = f"alice_{uuid.uuid4().hex[:8]}"
    with Register(pg_url, workspace_root=workspace) as register:
        register_and_audit(register, register, workspace)
    printed = invoke("register", "grant-sql", role, url=pg_url, workspace=workspace)
    assert printed.exit_code == 0, printed.output
    admin = sa.create_engine(sa.make_url(pg_url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    alice_url = sa.make_url(pg_url).set(username=role).render_as_string(hide_password=False)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
            connection.exec_driver_sql(printed.stdout)  # the whole script, comments and all, as psql -f would
        approved = invoke(
            "register",
            "approve",
            "credit-risk@1.0.0",
            "--role",
            "risk-officer",
            "--actor",
            "alice@x",
            url=alice_url,
            workspace=workspace,
        )
        assert approved.exit_code == 0, approved.output
        alice = sa.create_engine(sa.make_url(alice_url), poolclass=sa.pool.NullPool)
        for statement in (
            "DELETE FROM gov_events",
            "UPDATE gov_events SET actor = 'someone'",
            "TRUNCATE gov_approvals",
            "DROP TABLE gov_incidents",
        ):
            with alice.connect() as connection, pytest.raises(sa.exc.ProgrammingError, match=r"denied|owner"):
                connection.exec_driver_sql(statement)
        alice.dispose()
        assert invoke("register", "verify", url=pg_url, workspace=workspace).exit_code == 0
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
            connection.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


@pytest.mark.postgres
def test_a_shared_role_is_allowed_only_on_the_record_and_every_view_warns(
    pg_url: str, workspace: Path
) -> None:
    with Register(pg_url, workspace_root=workspace) as register:
        register_and_audit(register, register, workspace)
    no_reason = invoke("register", "allow-shared-role", "--actor", "admin@x", url=pg_url, workspace=workspace)
    assert no_reason.exit_code == 2
    allowed = invoke(
        "register",
        "allow-shared-role",
        "--actor",
        "admin@x",
        "--reason",
        "one service account for the whole team",
        url=pg_url,
        workspace=workspace,
    )
    assert allowed.exit_code == 0, allowed.output
    assert allowed.stdout.startswith(
        "From event 4 on, separation of duties compares only the typed --actor names"
    )
    again = invoke(
        "register",
        "allow-shared-role",
        "--actor",
        "admin@x",
        "--reason",
        "again",
        url=pg_url,
        workspace=workspace,
    )
    assert (again.exit_code, again.stdout) == (
        0,
        "A shared database role was already allowed; nothing to do.\n",
    )
    approve = ["register", "approve", "credit-risk@1.0.0", "--role", "risk-officer", "--actor", "boss@x"]
    assert invoke(*approve, url=pg_url, workspace=workspace).exit_code == 0
    warning = "Warning: Separation of duties does not compare database roles in this register: admin@x"
    verified = invoke("register", "verify", url=pg_url, workspace=workspace)
    assert verified.exit_code == 0 and warning in verified.stdout
    assert "(one service account for the whole team)" in verified.stdout
    shown = invoke("register", "show", "credit-risk", url=pg_url, workspace=workspace)
    assert warning in shown.stdout
    final = invoke("register", "require-roles", "--actor", "admin@x", url=pg_url, workspace=workspace)
    assert final.exit_code == 2
    assert final.stderr.startswith(
        "Error: This register allowed one shared database role at event 4, which is final"
    )
    assert "Separation of duties does not compare database roles in this register" in front_page(
        pg_url, workspace
    )


def front_page(url: str, workspace: Path) -> str:
    from governance.site.register_page import render_register_page
    from governance.site.sources import collect
    from governance.workspace import find_workspace

    sources = collect(find_workspace(workspace), register_url=url)
    return render_register_page(
        sources,
        organisation="Test Co",
        model_links={name: f"{name}.md" for name in sources.models},
        audit_links={record.result.audit_id: "a.md" for record in sources.audits},
        extra_links=[],
        built_at="2026-11-23",
    )


@pytest.mark.postgres
def test_require_roles_rules_out_a_shared_role_later(pg_url: str, workspace: Path) -> None:
    with Register(pg_url, workspace_root=workspace) as register:
        assert register.require_roles(actor="admin@x") == 1
        with pytest.raises(RegisterError, match="requires one database role per person since event 1"):
            register.allow_shared_role(actor="admin@x", reason="easier")


def test_require_roles_on_sqlite_compares_operating_system_users(workspace: Path) -> None:
    import os
    import pwd

    url = f"sqlite:///{workspace / 'register.db'}"
    with Register(url, workspace_root=workspace) as register:
        register_and_audit(register, register, workspace)
        assert register.require_roles(actor="admin@x") == 4
        with pytest.raises(GuardError) as refused:
            register.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x")
        with pytest.raises(RegisterError, match="no shared database role to allow"):
            register.allow_shared_role(actor="admin@x", reason="easier")
    user = pwd.getpwuid(os.geteuid()).pw_name
    assert str(refused.value) == (
        "Guard 'separation of duties' refused the approval of credit-risk@1.0.0: you are logged in as OS user "
        f"{user}, which recorded the audit it relies on (a1), whatever name actor gives; log in as your own "
        f"operating-system user; see {ROLES_GUIDE}."
    )


def test_without_require_roles_sqlite_compares_the_typed_names_only(workspace: Path) -> None:
    url = f"sqlite:///{workspace / 'register.db'}"
    with Register(url, workspace_root=workspace) as register:
        register_and_audit(register, register, workspace)
        assert (
            register.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x").decision
            == "approve"
        )


def test_grant_sql_is_refused_on_sqlite(workspace: Path) -> None:
    url = f"sqlite:///{workspace / 'register.db'}"
    Register(url).close()
    result = invoke("register", "grant-sql", "alice", url=url, workspace=workspace)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: This register is a SQLite file, which has no database roles")


def test_grant_statements_quote_role_names() -> None:
    from governance.register.roles import grant_statements

    statements = grant_statements('we"ird', "public")
    assert all(statement.endswith(' TO "we""ird";') for statement in statements)
