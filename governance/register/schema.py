"""The register's tables (SQLAlchemy Core), as the newest migration leaves them.

Every table name starts with ``gov_`` so that a database holding anything else is recognised as foreign
and left alone. The migrations in ``migrations/versions`` create these tables; this module only describes them
for queries, and a test checks that the two agree.
"""

from __future__ import annotations

import sqlalchemy as sa

PREFIX = "gov_"
VERSION_TABLE = "gov_alembic_version"
GENESIS_HASH = "0" * 64

metadata = sa.MetaData()

models = sa.Table(
    "gov_models",
    metadata,
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

versions = sa.Table(
    "gov_versions",
    metadata,
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
    # where a version came from when not a local file (an MLflow registry); NULL before revision 0005
    sa.Column("source", sa.JSON),
    sa.UniqueConstraint("model_id", "version", name="uq_gov_versions_model_version"),
)

audits = sa.Table(
    "gov_audits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("gov_versions.id"), nullable=False),
    sa.Column("audit_id", sa.String(100), nullable=False, unique=True),
    sa.Column("audit_json_path", sa.Text, nullable=False),
    sa.Column("audit_json_sha256", sa.String(64), nullable=False),
    sa.Column(
        "files", sa.JSON
    ),  # {name: sha256} of every file of the audit folder; NULL before revision 0003
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

approvals = sa.Table(
    "gov_approvals",
    metadata,
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
    # a mitigated candidate's approval: the run it was chosen from and the alternatives (revision 0009)
    sa.Column("chosen_from", sa.JSON),
)

checklist_answers = sa.Table(
    "gov_checklist_answers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("model_id", sa.Integer, sa.ForeignKey("gov_models.id"), nullable=False),
    sa.Column("framework", sa.String(100), nullable=False),
    sa.Column("item_id", sa.String(100), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("event_seq", sa.Integer, nullable=False),
    sa.Index("ix_gov_checklist_answers_model", "model_id", "framework", "item_id"),
)

incidents = sa.Table(
    "gov_incidents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("gov_versions.id"), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("event_seq", sa.Integer, nullable=False),
)

events = sa.Table(
    "gov_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("model_name", sa.String(200)),
    sa.Column("version", sa.String(100)),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hmac", sa.String(128)),  # HMAC-SHA256 (64 hex digits) or Ed25519 (128), revision 0008
    # who the database (PostgreSQL: the role) or the operating system says wrote it: "pg:NAME" or "os:NAME"
    sa.Column("identity", sa.String(320)),
    sa.Index("ix_gov_events_kind", "kind"),
)

# One row (id 1): the sequence number and hash of the newest event, signed once signing is on. Writers lock
# it; verify compares it, which is what catches the newest events being deleted.
chain_head = sa.Table(
    "gov_chain_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("hmac", sa.String(128)),
)

# Monitoring after go-live (revision 0006): one row per run of `governance monitor`, one count table per window.
monitoring_runs = sa.Table(
    "gov_monitoring_runs",
    metadata,
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
    sa.Column("reaudit", sa.Boolean, nullable=False),  # an alert set the version's next audit date to now
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("event_seq", sa.Integer, nullable=False),
)

monitoring_windows = sa.Table(
    "gov_monitoring_windows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("run_row_id", sa.Integer, sa.ForeignKey("gov_monitoring_runs.id"), nullable=False),
    sa.Column("start", sa.String(32), nullable=False),
    sa.Column("end", sa.String(32), nullable=False),
    sa.Column("n_rows", sa.Integer, nullable=False),
    sa.Column("labelled", sa.Integer, nullable=False),
    sa.Column("provisional", sa.Boolean, nullable=False),
    sa.Column("counts", sa.JSON, nullable=False),  # the window's count table: cells x (label state, decision)
    sa.Column("event_seq", sa.Integer, nullable=False),
    sa.Index("ix_gov_monitoring_windows_run", "run_row_id"),
)

monitoring_alerts = sa.Table(
    "gov_monitoring_alerts",
    metadata,
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

# Mitigation runs (revision 0009): one row per `governance mitigate`, its comparison files' hashes and candidates.
mitigation_runs = sa.Table(
    "gov_mitigation_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("version_id", sa.Integer, sa.ForeignKey("gov_versions.id"), nullable=False),
    sa.Column("run_id", sa.String(100), nullable=False, unique=True),
    sa.Column("comparison_path", sa.Text, nullable=False),  # the comparison.json, relative to the workspace
    sa.Column("files", sa.JSON, nullable=False),  # {name: sha256} of every file of the comparison folder
    sa.Column(
        "candidates", sa.JSON, nullable=False
    ),  # [{version, method, verdict, audit_id}], original first
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("event_seq", sa.Integer, nullable=False),
)

# Tables whose rows are after-images recorded in events; verify replays the log and compares them.
ENTITY_TABLES: dict[str, sa.Table] = {
    table.name: table
    for table in (
        models,
        versions,
        audits,
        approvals,
        checklist_answers,
        incidents,
        monitoring_runs,
        monitoring_windows,
        monitoring_alerts,
        mitigation_runs,
    )
}
