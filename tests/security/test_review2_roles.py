"""Review 2: getting around separation of duties by database role on PostgreSQL, as an insider with a granted role.

Each person logs in as their own role, given the rights by the SQL that `governance register grant-sql` prints
(see tests/register/register_support.People). The attacks: acting as a role one is a member of (``SET ROLE``, or
``options=-crole=...`` in the URL), writing rows by hand under another person's identity, switching the role
check off without being the administrator, and the table rights the grants leave open.
"""

# ruff: noqa: F811  (the shared fixtures are imported by name, then taken as arguments)
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "register"))
from register_support import People, _admin
from roles_fixtures import clock, people, pg_url, register_and_audit, workspace  # noqa: F401  (fixtures, used by name)

from governance.errors import GuardError, RegisterError
from governance.register import Register

pytestmark = pytest.mark.postgres


def url_with_role(url: str, role: str) -> str:
    """``url`` with ``-crole=ROLE`` added to its options: the connection runs ``SET ROLE`` as it starts."""
    parsed = sa.make_url(url)
    options = f"{parsed.query.get('options') or ''} -crole={role}".strip()
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


def test_a_role_set_at_connection_is_not_another_person(people: People, workspace: Path) -> None:
    """The registrant, a member of a team role with the grants, connects as that team role and approves."""
    with people.register("ds") as ds, people.register("auditor") as auditor:
        register_and_audit(ds, auditor, workspace)
    team = people.role("team")  # a role with the printed grants, as administrators give them to a group
    with _admin(people.base) as connection:
        connection.exec_driver_sql(f'GRANT "{team}" TO "{people.role("ds")}"')
    with Register(url_with_role(people.url("ds"), team), workspace_root=workspace) as as_team:
        with pytest.raises(GuardError, match="registered this version"):
            as_team.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x")
        assert as_team.resolve_version("credit-risk", "1.0.0").state == "audited"


def test_set_role_inside_a_session_is_the_login_role(people: People) -> None:
    from governance.register import database

    team = people.role("team")
    ds = people.role("ds")
    with _admin(people.base) as connection:
        connection.exec_driver_sql(f'GRANT "{team}" TO "{ds}"')
    engine = sa.create_engine(sa.make_url(people.url("ds")), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'SET ROLE "{team}"')
            assert database.session_identity(connection) == f"pg:{ds}"
    finally:
        engine.dispose()


def _insert_event(url: str, identity: str | None) -> None:
    engine = sa.create_engine(sa.make_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            seq = connection.exec_driver_sql("SELECT seq FROM gov_chain_head").scalar_one() + 1
            connection.exec_driver_sql(
                "INSERT INTO gov_events (seq, at, actor, kind, payload, prev_hash, hash, identity) VALUES "
                "(%(seq)s, '2026-11-23T10:00:00Z', 'boss@x', 'approval', '{}', 'x', 'y', %(identity)s)",
                {"seq": seq, "identity": identity},
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize("forged", ["pg:{boss}", None, "os:{ds}"])
def test_a_person_cannot_write_an_event_under_another_identity(
    people: People, workspace: Path, forged: str | None
) -> None:
    """With INSERT on the events, a role writes a row by hand naming another role (or none) as its writer."""
    with people.register("ds") as ds:
        ds.add_model("credit-risk", owner="o@x", purpose="Decide on credit", actor="ds@x")
    identity = forged.format(boss=people.role("boss"), ds=people.role("ds")) if forged else None
    with pytest.raises(sa.exc.DBAPIError, match="must name the role that writes it"):
        _insert_event(people.url("ds"), identity)


def test_the_register_still_records_the_login_role_after_the_check(people: People, workspace: Path) -> None:
    with people.register("ds") as ds, people.register("auditor") as auditor:
        register_and_audit(ds, auditor, workspace)
    with people.register("boss") as boss:
        boss.approve("credit-risk", "1.0.0", role="risk-officer", actor="boss@x")
        assert [event.identity for event in boss.history()][-1] == f"pg:{people.role('boss')}"
        assert boss.verify().ok


def test_only_the_administrator_may_allow_a_shared_role(people: People, workspace: Path) -> None:
    """A person with the grants switches the role comparison off, then approves what they registered."""
    with people.register("ds") as ds:
        register_and_audit(ds, ds, workspace)
        with pytest.raises(RegisterError, match="owner of the register's tables"):
            ds.allow_shared_role(actor="ds@x", reason="easier")
        assert ds.role_warnings() == []
    with Register(people.base, workspace_root=workspace) as admin:  # the owner may
        assert admin.allow_shared_role(actor="admin@x", reason="one service account") is not None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE gov_versions SET sha256 = 'f' || substr(sha256, 2)",
        "UPDATE gov_versions SET event_seq = 1",
        "UPDATE gov_models SET name = 'other'",
        "UPDATE gov_chain_head SET id = 2",
        "ALTER TABLE gov_events DISABLE TRIGGER ALL",
        "ALTER TABLE gov_events ADD COLUMN x int",
        "CREATE TRIGGER t BEFORE INSERT ON gov_events FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()",
        "TRUNCATE gov_events",
        "DELETE FROM gov_approvals",
        "UPDATE gov_events SET identity = NULL",
    ],
)
def test_a_granted_role_cannot_rewrite_what_it_does_not_need(
    people: People, workspace: Path, statement: str
) -> None:
    with people.register("ds") as ds:
        register_and_audit(ds, ds, workspace)
    engine = sa.create_engine(sa.make_url(people.url("ds")), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection, pytest.raises(sa.exc.ProgrammingError, match=r"denied|owner"):
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()
