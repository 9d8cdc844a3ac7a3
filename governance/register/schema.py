"""The register's tables (SQLAlchemy Core), as the newest migration leaves them.

Every table name starts with ``gov_`` so that a database holding anything else is recognised as foreign
and left alone. The migrations in ``migrations/versions`` create these tables; this module only describes them
for queries, and a test checks that the two agree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

PREFIX = "gov_"
VERSION_TABLE = "gov_alembic_version"
GENESIS_HASH = "0" * 64

metadata = sa.MetaData()


def _table(name: str, *columns: sa.schema.SchemaItem) -> sa.Table:
    """A table of rows the log's events describe: numbered by ``id``, then its own columns."""
    return sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True), *columns)


def _required(name: str, kind: Any) -> sa.Column[Any]:
    """A column every row fills."""
    return sa.Column(name, kind, nullable=False)


def _sha256(name: str) -> sa.Column[str]:
    """A SHA-256 digest in hex (a file's, the data's, the policy's, an event's), always filled."""
    return _required(name, sa.String(64))


def _word(name: str) -> sa.Column[str]:
    """One short word from a fixed list (a state, a verdict, a decision, a severity)."""
    return _required(name, sa.String(16))


def _parent(column: str, table: str) -> sa.Column[int]:
    """The row this one belongs to (a model, a version, a monitoring run): never missing."""
    return sa.Column(column, sa.Integer, sa.ForeignKey(f"{table}.id"), nullable=False)


def _event_seq() -> sa.Column[int]:
    """The event whose after-image this row is (verify replays the log and compares)."""
    return _required("event_seq", sa.Integer)


def _recorded(at: str) -> tuple[sa.Column[str], sa.Column[str], sa.Column[int]]:
    """Who recorded the row, when (the column is ``at`` or ``recorded_at``), and by which event."""
    return (
        _required("actor", sa.String(320)),
        sa.Column(at, sa.String(32), nullable=False),
        _event_seq(),
    )


def _created() -> tuple[sa.Column[str], sa.Column[str], sa.Column[int]]:
    """When and by whom a model or version was created, and by which event."""
    return (
        _required("created_at", sa.String(32)),
        _required("created_by", sa.String(320)),
        _event_seq(),
    )


models = _table(
    "gov_models",
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    _required("owner", sa.String(320)),
    _required("purpose", sa.Text),
    sa.Column("intended_use", sa.Text),
    sa.Column("restrictions", sa.Text),
    sa.Column("decision_domain", sa.String(100)),
    sa.Column("risk_tier", sa.String(50)),
    sa.Column("is_aedt", sa.Boolean),
    sa.Column("is_annex_iii_high_risk", sa.Boolean),
    sa.Column("solely_automated", sa.Boolean),
    *_created(),
)

versions = _table(
    "gov_versions",
    _parent("model_id", "gov_models"),
    _required("version", sa.String(100)),
    _required("artifact_path", sa.Text),
    _sha256("sha256"),
    sa.Column("framework", sa.String(100)),
    sa.Column("features", sa.JSON),
    sa.Column("training_data_description", sa.Text),
    sa.Column("training_data_sha256", sa.String(64)),
    _word("state"),
    *_created(),
    # where a version came from when not a local file (an MLflow registry); NULL before revision 0005
    sa.Column("source", sa.JSON),
    sa.UniqueConstraint("model_id", "version", name="uq_gov_versions_model_version"),
)

audits = _table(
    "gov_audits",
    _parent("version_id", "gov_versions"),
    sa.Column("audit_id", sa.String(100), nullable=False, unique=True),
    _required("audit_json_path", sa.Text),
    _sha256("audit_json_sha256"),
    sa.Column(
        "files", sa.JSON
    ),  # {name: sha256} of every file of the audit folder; NULL before revision 0003
    _word("verdict"),
    _required("policy_name", sa.String(200)),
    _sha256("policy_sha256"),
    _sha256("data_sha256"),
    _sha256("artifact_sha256"),
    _required("tool_versions", sa.JSON),
    sa.Column("max_age_days", sa.Integer),
    *_recorded("recorded_at"),
)

approvals = _table(
    "gov_approvals",
    _parent("version_id", "gov_versions"),
    _required("role", sa.String(100)),
    _word("decision"),
    sa.Column("comment", sa.Text),
    sa.Column("risk_acceptance", sa.Text),
    sa.Column("audit_id", sa.String(100)),
    *_recorded("at"),
    # a mitigated candidate's approval: the run it was chosen from and the alternatives (revision 0009)
    sa.Column("chosen_from", sa.JSON),
)

checklist_answers = _table(
    "gov_checklist_answers",
    _parent("model_id", "gov_models"),
    _required("framework", sa.String(100)),
    _required("item_id", sa.String(100)),
    _word("status"),
    _required("evidence", sa.Text),
    *_recorded("at"),
    sa.Index("ix_gov_checklist_answers_model", "model_id", "framework", "item_id"),
)

incidents = _table(
    "gov_incidents",
    _parent("version_id", "gov_versions"),
    _required("title", sa.String(300)),
    _required("description", sa.Text),
    _word("severity"),
    *_recorded("at"),
)

events = sa.Table(
    "gov_events",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    _required("at", sa.String(32)),
    _required("actor", sa.String(320)),
    _required("kind", sa.String(50)),
    sa.Column("model_name", sa.String(200)),
    sa.Column("version", sa.String(100)),
    _required("payload", sa.Text),
    _sha256("prev_hash"),
    _sha256("hash"),  # not unique by index: each hash covers its own seq (the key), see revision 0010
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
    _required("seq", sa.Integer),
    _sha256("hash"),
    sa.Column("hmac", sa.String(128)),
)

# Monitoring after go-live (revision 0006): one row per run of `governance monitor`, one count table per window.
monitoring_runs = _table(
    "gov_monitoring_runs",
    _parent("version_id", "gov_versions"),
    sa.Column("run_id", sa.String(100), nullable=False, unique=True),
    _word("window"),
    _required("time_column", sa.String(200)),
    _required("data_path", sa.Text),
    _sha256("data_sha256"),
    _sha256("policy_sha256"),
    sa.Column("approved_audit_id", sa.String(100)),
    _required("first_window", sa.String(32)),
    _required("last_window", sa.String(32)),
    _required("n_windows", sa.Integer),
    _required("n_rows", sa.Integer),
    _required("n_alerts", sa.Integer),
    _required("reaudit", sa.Boolean),  # an alert set the version's next audit date to now
    *_recorded("recorded_at"),
)

monitoring_windows = _table(
    "gov_monitoring_windows",
    _parent("run_row_id", "gov_monitoring_runs"),
    _required("start", sa.String(32)),
    _required("end", sa.String(32)),
    _required("n_rows", sa.Integer),
    _required("labelled", sa.Integer),
    _required("provisional", sa.Boolean),
    _required("counts", sa.JSON),  # the window's count table: cells x (label state, decision)
    _event_seq(),
    sa.Index("ix_gov_monitoring_windows_run", "run_row_id"),
)

monitoring_alerts = _table(
    "gov_monitoring_alerts",
    _parent("run_row_id", "gov_monitoring_runs"),
    _parent("version_id", "gov_versions"),
    _required("rule_id", sa.String(100)),
    _word("kind"),
    _required("window_start", sa.String(32)),
    sa.Column("attribute", sa.String(200)),
    sa.Column("group_name", sa.String(200)),
    _required("metric", sa.String(100)),
    _required("message", sa.Text),
    _required("reaudit", sa.Boolean),
    _event_seq(),
)

# Mitigation runs (revision 0009): one row per `governance mitigate`, its comparison files' hashes and candidates.
mitigation_runs = _table(
    "gov_mitigation_runs",
    _parent("version_id", "gov_versions"),
    sa.Column("run_id", sa.String(100), nullable=False, unique=True),
    _required("comparison_path", sa.Text),  # the comparison.json, relative to the workspace
    _required("files", sa.JSON),  # {name: sha256} of every file of the comparison folder
    sa.Column(
        "candidates", sa.JSON, nullable=False
    ),  # [{version, method, verdict, audit_id}], original first
    *_recorded("recorded_at"),
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
