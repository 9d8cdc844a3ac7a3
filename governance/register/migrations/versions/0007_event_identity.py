"""On PostgreSQL, an event must name the role that writes it: a person with the granted rights cannot add a row
by hand that says another role (or nobody) wrote it, which would let them pass separation of duties.

A trigger compares each new event's ``identity`` with ``'pg:' || session_user`` (the role the connection logged in
as; ``SET ROLE`` does not change it). Only the owner of the tables can drop or disable it. SQLite has no roles:
nothing changes there.

Revision ID: 0007_event_identity
Revises: 0006_monitoring
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision: str = "0007_event_identity"
down_revision: str | None = "0006_monitoring"
branch_labels: str | None = None
depends_on: str | None = None

_FUNCTION = """
CREATE FUNCTION gov_events_identity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.identity IS DISTINCT FROM 'pg:' || session_user THEN
        RAISE EXCEPTION 'An event must name the role that writes it: you are connected as %, the event says %',
            session_user, coalesce(NEW.identity, 'nobody')
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTION)
    op.execute(
        "CREATE TRIGGER gov_events_identity BEFORE INSERT ON gov_events "
        "FOR EACH ROW EXECUTE FUNCTION gov_events_identity()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER gov_events_identity ON gov_events")
    op.execute("DROP FUNCTION gov_events_identity()")
