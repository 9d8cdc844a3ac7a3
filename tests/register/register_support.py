"""Helpers shared by the register tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from governance.register import AuditRecord

POSTGRES_ENV = "GOVERNANCE_TEST_POSTGRES_URL"
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def server_url() -> sa.URL:
    """The PostgreSQL server's URL, or a skip that says how to get one."""
    raw = os.environ.get(POSTGRES_ENV)
    if not raw:
        pytest.skip(
            f'{POSTGRES_ENV} is not set: start a server with eval "$(bash scripts/postgres.sh start)"'
        )
    return sa.make_url(raw)


def fresh_postgres_database() -> Iterator[str]:
    """A fresh, empty schema on the test server (first on the search path), dropped afterwards.

    A schema per test instead of a database per test: creating a database costs a third of a second.
    """
    server = server_url()
    name = f"gov_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    try:
        yield server.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        admin.dispose()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.moment = START

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def write_audit_file(workspace: Path, audit_id: str, content: dict[str, Any] | None = None) -> Path:
    """An audit.json under audits/, as the audit command would leave it."""
    folder = workspace / "audits" / audit_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "audit.json"
    path.write_text(json.dumps(content or {"audit_id": audit_id, "verdict": "passed"}), encoding="utf-8")
    return path


AuditFn = Callable[..., AuditRecord]


def concurrent_worker(url: str, workspace: str, index: int, rounds: int, start: Any) -> None:
    """One of several processes registering, auditing and approving at the same moment (see test_concurrency)."""
    from governance.register import Register

    root = Path(workspace)
    register = Register(url, workspace_root=root)
    try:
        for number in range(rounds):
            start.wait(60)  # a barrier: every worker starts each round together, so their writes overlap
            name = f"model-{index}-{number}"
            register.add_model(name, owner="o@x", purpose="p", actor=f"ds{index}@x")
            artefact = root / f"{name}.bin"
            artefact.write_bytes(name.encode())
            version = register.add_version(name, "1", artifact_path=artefact, actor=f"ds{index}@x")
            report = write_audit_file(root, f"{name}-audit")
            register.record_audit(
                name,
                "1",
                audit_id=f"{name}-audit",
                audit_json_path=report,
                verdict="passed",
                policy_name="p",
                policy_sha256="p",
                data_sha256="d",
                artifact_sha256=version.sha256,
                tool_versions={},
                actor=f"aud{index}@x",
                max_age_days=90,
            )
            register.approve(name, "1", role="risk-officer", actor=f"boss{index}@x")
            register.approve("shared", "1", role=f"role-{index}-{number}", actor=f"boss{index}@x")
    finally:
        register.close()


def first_open_worker(url: str, index: int, start: Any) -> None:
    """Open a register that does not exist yet (migrating it) at the same moment as others, and add a model."""
    from governance.register import Register

    start.wait(60)
    with Register(url) as register:
        register.add_model(f"first-{index}", owner="o", purpose="p", actor="a")
