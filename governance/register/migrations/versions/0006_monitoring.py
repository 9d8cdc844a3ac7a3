"""Monitoring after go-live: monitoring runs of a version, one count table per time window, and their alerts.

Revision ID: 0006_monitoring
Revises: 0005_mlflow_source
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006_monitoring"
down_revision: str | None = "0005_mlflow_source"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "gov_monitoring_runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("gov_versions.id"), nullable=False),
        sa.Column("run_id", sa.String(100), nullable=False, unique=True),
        sa.Column("window", sa.String(16), nullable=False),
        sa.Column("time_column", sa.String(200), nullable=False),
        sa.Column("data_path", sa.Text, nullable=False),
        sa.Column("data_sha256", sa.String(64), nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
        sa.Column("approved_audit_id", sa.String(100)),
        sa.Column("first_window", sa.String(32), nullable=False),
        sa.Column("last_window", sa.String(32), nullable=False),
        sa.Column("n_windows", sa.Integer, nullable=False),
        sa.Column("n_rows", sa.Integer, nullable=False),
        sa.Column("n_alerts", sa.Integer, nullable=False),
        sa.Column("reaudit", sa.Boolean, nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
    )
    op.create_table(
        "gov_monitoring_windows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_row_id", sa.Integer, sa.ForeignKey("gov_monitoring_runs.id"), nullable=False),
        sa.Column("start", sa.String(32), nullable=False),
        sa.Column("end", sa.String(32), nullable=False),
        sa.Column("n_rows", sa.Integer, nullable=False),
        sa.Column("labelled", sa.Integer, nullable=False),
        sa.Column("provisional", sa.Boolean, nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
        sa.Index("ix_gov_monitoring_windows_run", "run_row_id"),
    )
    op.create_table(
        "gov_monitoring_alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_row_id", sa.Integer, sa.ForeignKey("gov_monitoring_runs.id"), nullable=False),
        sa.Column("version_id", sa.Integer, sa.ForeignKey("gov_versions.id"), nullable=False),
        sa.Column("rule_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("window_start", sa.String(32), nullable=False),
        sa.Column("attribute", sa.String(200)),
        sa.Column("group_name", sa.String(200)),
        sa.Column("metric", sa.String(100), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("reaudit", sa.Boolean, nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gov_monitoring_alerts")
    op.drop_table("gov_monitoring_windows")
    op.drop_table("gov_monitoring_runs")
