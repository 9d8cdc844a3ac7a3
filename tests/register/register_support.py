"""Helpers shared by the register tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from governance.register import AuditRecord, Register

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


class People:
    """Separate people on one register, as separation of duties tells them apart.

    On PostgreSQL each person gets their own LOGIN role on the test server (named after the test's schema),
    given the rights by running the SQL that `governance register grant-sql` prints; on SQLite everyone shares
    the file (and the operating-system user). ``register(person)`` is a register opened as that person.
    """

    def __init__(self, url: str, workspace: Path | None = None) -> None:
        self.base = url
        self.workspace = workspace
        self.is_postgres = sa.make_url(url).get_backend_name() == "postgresql"
        self._roles: dict[str, str] = {}
        self._opened: list[Register] = []

    def role(self, person: str) -> str:
        """The database role ``person`` logs in as (created and granted on first use)."""
        if person not in self._roles:
            schema = _search_path(self.base) or f"p{uuid.uuid4().hex[:8]}"
            role = f"{schema}_{person}"
            with Register(self.base) as register:  # create the tables first: the grants name them
                script = register.grant_sql([role])
            with _admin(self.base) as connection:
                connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
                for statement in script.splitlines():
                    if statement and not statement.startswith("--"):
                        connection.exec_driver_sql(statement)
            self._roles[person] = role
        return self._roles[person]

    def url(self, person: str) -> str:
        """The register URL ``person`` connects with (the same file on SQLite)."""
        if not self.is_postgres:
            return self.base
        return sa.make_url(self.base).set(username=self.role(person)).render_as_string(hide_password=False)

    def register(self, person: str, *, hmac_key: bytes | None = None) -> Register:
        """The register opened as ``person`` (closed by :meth:`close`)."""
        opened = Register(self.url(person), workspace_root=self.workspace, hmac_key=hmac_key)
        self._opened.append(opened)
        return opened

    def close(self) -> None:
        """Close what was opened, then drop the roles (first their grants in this database)."""
        for opened in self._opened:
            opened.close()
        if self._roles:
            with _admin(self.base) as connection:
                for role in self._roles.values():
                    connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
                    connection.exec_driver_sql(f'DROP ROLE "{role}"')

    def __enter__(self) -> People:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _search_path(url: str) -> str | None:
    options = str(sa.make_url(url).query.get("options") or "")
    found = re.search(r"-csearch_path=([A-Za-z0-9_]+)", options)
    return found.group(1) if found else None


@contextmanager
def _admin(url: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(sa.make_url(url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


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


def concurrent_worker(
    url: str, approver_url: str, workspace: str, index: int, rounds: int, start: Any
) -> None:
    """One of several processes registering, auditing and approving at the same moment (see test_concurrency);
    the approvals go through ``approver_url`` (the approver's own database role on PostgreSQL)."""
    from governance.register import Register

    root = Path(workspace)
    register = Register(url, workspace_root=root)
    approver = Register(approver_url, workspace_root=root)
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
            approver.approve(name, "1", role="risk-officer", actor=f"boss{index}@x")
            approver.approve("shared", "1", role=f"role-{index}-{number}", actor=f"boss{index}@x")
    finally:
        register.close()
        approver.close()


def first_open_worker(url: str, index: int, start: Any) -> None:
    """Open a register that does not exist yet (migrating it) at the same moment as others, and add a model."""
    from governance.register import Register

    start.wait(60)
    with Register(url) as register:
        register.add_model(f"first-{index}", owner="o", purpose="p", actor="a")


def record_audit_a1(register: Any, workspace: Path, *, verdict: str = "passed", actor: str = "aud@x") -> None:
    """Audit a1 of credit-risk@1.0.0 recorded as ``actor`` with ``verdict``: what `governance audit` does at its end."""
    from governance.provenance import sha256_file

    path = write_audit_file(workspace, "a1")
    register.record_audit(
        "credit-risk",
        "1.0.0",
        audit_id="a1",
        audit_json_path=path,
        verdict=verdict,
        policy_name="default",
        policy_sha256=sha256_file(path),
        data_sha256="d" * 64,
        artifact_sha256=register.resolve_version("credit-risk", "1.0.0").sha256,
        tool_versions={},
        actor=actor,
        max_age_days=30,
    )
