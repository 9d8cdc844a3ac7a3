"""Alembic environment: runs on the connection the register passes in (no alembic.ini, no logging setup)."""

from __future__ import annotations

from alembic import context

from governance.register.schema import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
