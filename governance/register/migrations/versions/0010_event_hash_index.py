"""No unique index on ``gov_events.hash``: the chain already gives what it promised, for half the cost of a write.

Nothing looks an event up by its hash (events are found by number, or by kind), and two events cannot share a
hash unless SHA-256 collides: each hash covers the event's own number, which is the primary key, and ``verify``
recomputes every hash, so a copied or forged one is reported either way. Keeping the index cost each event row
about as much as the rest of its insert (SQLite: 16-17 us with it, 7-12 us without). On SQLite the constraint is
part of the table's definition, so the table is rebuilt (copied once, in the migration's transaction).

Revision ID: 0010_event_hash_index
Revises: 0009_mitigation_runs
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010_event_hash_index"
down_revision: str | None = "0009_mitigation_runs"
branch_labels: str | None = None
depends_on: str | None = None


def _events(*, unique: bool) -> sa.Table:
    """``gov_events`` as revisions 0008-0009 left it, with or without the unique hash (SQLite's rebuild)."""
    return sa.Table(
        "gov_events",
        sa.MetaData(),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("model_name", sa.String(200)),
        sa.Column("version", sa.String(100)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=unique),
        sa.Column("hmac", sa.String(128)),
        sa.Column("identity", sa.String(320)),
        sa.Index("ix_gov_events_kind", "kind"),
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("gov_events_hash_key", "gov_events", type_="unique")
        return
    with op.batch_alter_table("gov_events", recreate="always", copy_from=_events(unique=False)):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_unique_constraint("gov_events_hash_key", "gov_events", ["hash"])
        return
    with op.batch_alter_table("gov_events", recreate="always", copy_from=_events(unique=True)):
        pass
