"""Who is acting on a PostgreSQL register: one database role per person, and the SQL that gives it.

On PostgreSQL separation of duties compares the role each connection logged in as (``session_user``: a ``SET
ROLE`` to another role does not change it), so every person needs their own LOGIN role; a trigger refuses an event
that names any other writer. The grants are the least a person needs to work: read every register table, add
rows, and change the columns a change updates (a model's description, a version's state, the chain head). Nobody
but the owner of the tables (the administrator who created them) may delete rows, rewrite events or allow a
shared role.

A team that truly shares one role records that once (``register.shared_role_allowed``, final); separation of
duties then compares only the typed ``--actor`` names, and ``verify``, ``register show`` and the site say so.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from governance.errors import InputError, RegisterError
from governance.register import schema as t
from governance.register.lifecycle import ROLES_GUIDE, describe_identity

GUIDE = ROLES_GUIDE  # where the guide explains roles, named in every message about them

SHARED_ROLE_KIND = "register.shared_role_allowed"

# What a person's role may do; anything else (DELETE, TRUNCATE, UPDATE of events, DDL) stays the owner's.
# Every table is append-only for a person, except the one-row chain head, which a change moves forward.
_INSERT = tuple(table for table in t.metadata.sorted_tables if table is not t.chain_head)
# The columns a change updates, and only those: a version's state; a model's description (and the event that
# last changed it); the chain head. Names, hashes, creators and the event a version was registered by stay put.
_FIXED_MODEL_COLUMNS = {"id", "name", "created_at", "created_by"}
_UPDATE: dict[Any, list[str]] = {
    t.models: [column.name for column in t.models.c if column.name not in _FIXED_MODEL_COLUMNS],
    t.versions: ["state"],
    t.chain_head: ["seq", "hash", "hmac"],
}
_NAME_LIMIT = 63  # PostgreSQL's identifier length


def quote_identifier(name: str) -> str:
    """A PostgreSQL identifier in double quotes (a quote inside is doubled), so any role name is safe in SQL."""
    return '"' + name.replace('"', '""') + '"'


def check_role_name(name: str) -> str:
    """A role name PostgreSQL accepts: 1 to 63 characters, no control characters."""
    text = (name or "").strip()
    if (
        not text
        or len(text.encode("utf-8")) > _NAME_LIMIT
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in text)
    ):
        raise InputError(
            f"The database role name {name!r} is not usable; give a name of 1 to 63 characters, e.g. alice."
        )
    return text


def _serial_sequences() -> list[str]:
    """The sequences behind the tables' ``id`` columns (``SERIAL``: ``<table>_id_seq``)."""
    return [
        f"{table.name}_id_seq"
        for table in t.metadata.sorted_tables
        if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement is not False
    ]


def grant_statements(role: str, schema: str) -> list[str]:
    """The SQL that lets database role ``role`` use the register whose tables are in ``schema``.

    Run by the tables' owner (or a superuser) after creating the role; again after an upgrade adds tables.
    """
    who = quote_identifier(check_role_name(role))

    def qualified(names: list[str]) -> str:
        return ", ".join(f"{quote_identifier(schema)}.{quote_identifier(name)}" for name in names)

    readable = [*sorted(table.name for table in t.metadata.sorted_tables), t.VERSION_TABLE]
    return [
        f"GRANT USAGE ON SCHEMA {quote_identifier(schema)} TO {who};",
        f"GRANT SELECT ON {qualified(readable)} TO {who};",
        f"GRANT INSERT ON {qualified([table.name for table in _INSERT])} TO {who};",
        *(
            f"GRANT UPDATE ({', '.join(quote_identifier(column) for column in columns)}) "
            f"ON {qualified([table.name])} TO {who};"
            for table, columns in _UPDATE.items()
        ),
        f"GRANT USAGE ON SEQUENCE {qualified(_serial_sequences())} TO {who};",
    ]


def grant_script(roles: list[str], schema: str) -> str:
    """The statements for every role, with a comment saying who runs them (what ``register grant-sql`` prints)."""
    if not roles:
        raise InputError("Name at least one database role, e.g. `governance register grant-sql alice bob`.")
    lines = [
        f"-- Give each person their own role on the register in schema {schema} ({GUIDE}).",
        "-- Run as the owner of the register's tables (or a superuser), e.g. psql -f grants.sql.",
        "-- Create a role first if needed: CREATE ROLE alice LOGIN PASSWORD '...';",
    ]
    for role in roles:
        lines += grant_statements(role, schema)
    return "\n".join(lines) + "\n"


def about_tables(conn: Connection, columns: str, joins: str = "") -> Any:
    """What PostgreSQL's catalogue says about the register's tables (their schema, their owner), asked of the
    events table: ``columns`` of ``pg_class c`` and of what ``joins`` adds. Fixed SQL text only, never input."""
    return conn.execute(
        sa.text(f"SELECT {columns} FROM pg_class c {joins} WHERE c.oid = to_regclass(:table)"),
        {"table": t.events.name},
    ).one()


def refuse_unless_owner(conn: Connection, doing: str) -> None:
    """Refuse ``doing`` unless the login role owns the register's tables (or is a member of the owner, or a
    superuser): a person must not switch off the check that tells them apart from their colleagues."""
    owner = about_tables(conn, "pg_get_userbyid(c.relowner), pg_has_role(session_user, c.relowner, 'MEMBER')")
    if not owner[1]:
        who = conn.execute(sa.text("SELECT session_user")).scalar_one()
        raise RegisterError(
            f"Only the owner of the register's tables ({owner[0]}) may {doing}; you are connected as database role "
            f"{who}, so ask the administrator to run it (see {GUIDE})."
        )


def shared_role_warning(seq: int, actor: str, at: str, payload: dict[str, Any], identity: str | None) -> str:
    """The warning every view of a register that allowed a shared role prints, in one sentence."""
    who = f"{actor} ({describe_identity(identity)})" if identity else actor
    reason = str(payload.get("reason") or "").strip() or "no reason given"
    return (
        f"Separation of duties does not compare database roles in this register: {who} allowed one shared role "
        f"at event {seq} on {at[:10]} ({reason}), so approvals rest on the typed --actor names only; to close this, "
        f"give each person their own role and start a new register ({GUIDE})."
    )
