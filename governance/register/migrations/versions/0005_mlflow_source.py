"""Where a version came from when it is not a local file: an MLflow registry (URI, run id, model file).

Versions registered before this revision, and every version with a local model file, keep ``source`` empty (NULL).

Revision ID: 0005_mlflow_source
Revises: 0004_audit_manifest
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005_mlflow_source"
down_revision: str | None = "0004_audit_manifest"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("gov_versions", sa.Column("source", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gov_versions") as batch:
        batch.drop_column("source")
