"""Audit manifests: the SHA-256 of every file of an audit folder, not only of audit.json.

Audits recorded before this revision keep ``files`` empty (NULL): only their ``audit.json`` is vouched for.

Revision ID: 0004_audit_manifest
Revises: 0003_signing
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004_audit_manifest"
down_revision: str | None = "0003_signing"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("gov_audits", sa.Column("files", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gov_audits") as batch:
        batch.drop_column("files")
