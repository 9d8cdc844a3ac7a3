"""Who is acting on a PostgreSQL register: one database role per person, and the SQL that gives it.

On PostgreSQL separation of duties compares the role each connection authenticated as (``current_user``), so
every person needs their own LOGIN role. The grants are the least a person needs to work: read every register
table, add rows, and change the three tables a change updates (models, versions, the chain head). Nobody but the
owner of the tables (the administrator who created them) may delete rows or rewrite events.

A team that truly shares one role records that once (``register.shared_role_allowed``, final); separation of
duties then compares only the typed ``--actor`` names, and ``verify``, ``register show`` and the site say so.
"""

from __future__ import annotations

from typing import Any

from governance.errors import InputError
from governance.register import schema as t
from governance.register.lifecycle import ROLES_GUIDE, describe_identity

GUIDE = ROLES_GUIDE  # where the guide explains roles, named in every message about them

SHARED_ROLE_KIND = "register.shared_role_allowed"

# What a person's role may do; anything else (DELETE, TRUNCATE, UPDATE of events, DDL) stays the owner's.
_INSERT = (
    t.models,
    t.versions,
    t.audits,
    t.approvals,
    t.checklist_answers,
    t.incidents,
    t.events,
)
_UPDATE = (t.models, t.versions, t.chain_head)
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
        f"GRANT UPDATE ON {qualified([table.name for table in _UPDATE])} TO {who};",
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


def shared_role_warning(seq: int, actor: str, at: str, payload: dict[str, Any], identity: str | None) -> str:
    """The warning every view of a register that allowed a shared role prints, in one sentence."""
    who = f"{actor} ({describe_identity(identity)})" if identity else actor
    reason = str(payload.get("reason") or "").strip() or "no reason given"
    return (
        f"Separation of duties does not compare database roles in this register: {who} allowed one shared role "
        f"at event {seq} on {at[:10]} ({reason}), so approvals rest on the typed --actor names only; to close this, "
        f"give each person their own role and start a new register ({GUIDE})."
    )
