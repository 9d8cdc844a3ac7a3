"""Checklist answers and incidents.

Revision ID: 0002_checklists_incidents
Revises: 0001_initial
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002_checklists_incidents"
down_revision: str | None = "0001_initial"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "gov_checklist_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model_id", sa.Integer, sa.ForeignKey("gov_models.id"), nullable=False),
        sa.Column("framework", sa.String(100), nullable=False),
        sa.Column("item_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_gov_checklist_answers_model", "gov_checklist_answers", ["model_id", "framework", "item_id"]
    )
    op.create_table(
        "gov_incidents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("gov_versions.id"), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gov_incidents")
    op.drop_index("ix_gov_checklist_answers_model", table_name="gov_checklist_answers")
    op.drop_table("gov_checklist_answers")
