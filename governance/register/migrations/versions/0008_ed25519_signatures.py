"""Room for Ed25519 signatures: an event's and the chain head's signature column holds 128 hex digits (an
HMAC-SHA256 takes 64, an Ed25519 signature 128). Nothing else changes; existing signatures stay as they are.

Revision ID: 0008_ed25519_signatures
Revises: 0007_event_identity
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008_ed25519_signatures"
down_revision: str | None = "0007_event_identity"
branch_labels: str | None = None
depends_on: str | None = None

_TABLES = ("gov_events", "gov_chain_head")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:  # SQLite copies the table; PostgreSQL alters the column
            batch.alter_column("hmac", existing_type=sa.String(64), type_=sa.String(128))


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("hmac", existing_type=sa.String(128), type_=sa.String(64))
