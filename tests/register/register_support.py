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
        pytest.skip(f'{POSTGRES_ENV} is not set: start a server with eval "$(bash scripts/postgres.sh start)"')
    return sa.make_url(raw)


def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database on the test server, yield its URL, drop it afterwards."""
    server = server_url()
    name = f"gov_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
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


