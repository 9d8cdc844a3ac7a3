"""Mitigation runs and the choice among their candidates.

``gov_mitigation_runs``: one row per ``governance mitigate`` run, with the SHA-256 of every file of its
comparison folder (so the site publishes the comparison only while it is what was recorded) and each candidate's
version, method and verdict. ``gov_approvals.chosen_from``: when a mitigated candidate is approved, the run it was
chosen from and the alternatives with their verdicts (NULL for every other approval, and for those before).

Revision ID: 0009_mitigation_runs
Revises: 0008_ed25519_signatures
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009_mitigation_runs"
down_revision: str | None = "0008_ed25519_signatures"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "gov_mitigation_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("gov_versions.id"), nullable=False),
        sa.Column("run_id", sa.String(100), nullable=False, unique=True),
        sa.Column("comparison_path", sa.Text, nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("candidates", sa.JSON, nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
    )
    op.add_column("gov_approvals", sa.Column("chosen_from", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gov_approvals") as batch:
        batch.drop_column("chosen_from")
    op.drop_table("gov_mitigation_runs")
