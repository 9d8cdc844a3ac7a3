"""Initial register: models, versions, audits, approvals, the event log and its head.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "gov_models",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("owner", sa.String(320), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("intended_use", sa.Text),
        sa.Column("restrictions", sa.Text),
        sa.Column("decision_domain", sa.String(100)),
        sa.Column("risk_tier", sa.String(50)),
        sa.Column("is_aedt", sa.Boolean),
        sa.Column("is_annex_iii_high_risk", sa.Boolean),
        sa.Column("solely_automated", sa.Boolean),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
    )
    op.create_table(
        "gov_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("model_id", sa.Integer, sa.ForeignKey("gov_models.id"), nullable=False),
        sa.Column("version", sa.String(100), nullable=False),
        sa.Column("artifact_path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("framework", sa.String(100)),
        sa.Column("features", sa.JSON),
        sa.Column("training_data_description", sa.Text),
        sa.Column("training_data_sha256", sa.String(64)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
        sa.UniqueConstraint("model_id", "version", name="uq_gov_versions_model_version"),
    )
    op.create_table(
        "gov_audits",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("gov_versions.id"), nullable=False),
        sa.Column("audit_id", sa.String(100), nullable=False, unique=True),
        sa.Column("audit_json_path", sa.Text, nullable=False),
        sa.Column("audit_json_sha256", sa.String(64), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("policy_name", sa.String(200), nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
        sa.Column("data_sha256", sa.String(64), nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=False),
        sa.Column("tool_versions", sa.JSON, nullable=False),
        sa.Column("max_age_days", sa.Integer),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
    )
    op.create_table(
        "gov_approvals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("gov_versions.id"), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("risk_acceptance", sa.Text),
        sa.Column("audit_id", sa.String(100)),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
    )
    op.create_table(
        "gov_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("model_name", sa.String(200)),
        sa.Column("version", sa.String(100)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("hmac", sa.String(64)),
    )
    head = op.create_table(
        "gov_chain_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    for table in (
        "gov_chain_head",
        "gov_events",
        "gov_approvals",
        "gov_audits",
        "gov_versions",
        "gov_models",
    ):
        op.drop_table(table)
