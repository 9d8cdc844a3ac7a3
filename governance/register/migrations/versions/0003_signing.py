"""Signed chain head and the authenticated identity of each event's writer.

``gov_chain_head.hmac`` signs the head (its number and hash), so that deleting the newest events and rewinding
the head is caught by ``verify`` with the key. ``gov_events.identity`` records who the database (or operating
system) says wrote the event, beside the ``actor`` label the user typed. Both are empty on older rows.

Revision ID: 0003_signing
Revises: 0002_checklists_incidents
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003_signing"
down_revision: str | None = "0002_checklists_incidents"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("gov_chain_head", sa.Column("hmac", sa.String(64)))
    op.add_column("gov_events", sa.Column("identity", sa.String(320)))
    op.create_index("ix_gov_events_kind", "gov_events", ["kind"])


def downgrade() -> None:
    op.drop_index("ix_gov_events_kind", "gov_events")
    with op.batch_alter_table("gov_events") as batch:
        batch.drop_column("identity")
    with op.batch_alter_table("gov_chain_head") as batch:
        batch.drop_column("hmac")
