"""Register fixtures: every test that takes ``register_url`` runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``GOVERNANCE_TEST_POSTGRES_URL`` (``eval "$(bash scripts/postgres.sh start)"``); each test
gets a fresh database on that server, dropped afterwards. Without the variable those tests are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from register_support import AuditFn, Clock, People, fresh_postgres_database, write_audit_file

from governance.provenance import set_clock, sha256_file
from governance.register import AuditRecord, Register


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty register location: a SQLite file in the workspace, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    else:
        yield from fresh_postgres_database()


@pytest.fixture
def backend(register_url: str) -> str:
    return "sqlite" if register_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace folder with a governance.yaml and a model file."""
    root = tmp_path / "ws"
    root.mkdir(exist_ok=True)
    (root / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    (root / "models").mkdir()
    (root / "models" / "credit.skops").write_bytes(b"model bytes v1")
    return root


@pytest.fixture
def clock() -> Iterator[Clock]:
    current = Clock()
    set_clock(current)
    yield current
    set_clock(None)


@pytest.fixture
def register(register_url: str, workspace: Path, clock: Clock) -> Iterator[Register]:
    opened = Register(register_url, workspace_root=workspace)
    yield opened
    opened.close()


@pytest.fixture
def people(register_url: str, workspace: Path) -> Iterator[People]:
    """Other people on the same register: their own database role each on PostgreSQL (see ``People``)."""
    with People(register_url, workspace) as found:
        yield found


@pytest.fixture
def approver(people: People) -> Register:
    """The register as the approver sees it: on PostgreSQL connected as their own database role, so that
    separation of duties lets them approve what the ``register`` fixture's role registered and audited."""
    return people.register("approver")


@pytest.fixture
def audit(register: Register, workspace: Path) -> AuditFn:
    """Record an audit of a version (passing, 180 days, by the auditor) unless told otherwise."""
    counter = iter(range(1, 10_000))

    def record(
        model: str = "credit-risk",
        version: str = "1.0.0",
        *,
        verdict: str = "passed",
        actor: str = "auditor@example.com",
        max_age_days: int | None = 180,
        artifact_sha256: str | None = None,
        audit_id: str | None = None,
    ) -> AuditRecord:
        identifier = audit_id or f"audit-{next(counter)}"
        path = write_audit_file(workspace, identifier)
        sha = artifact_sha256 or register.resolve_version(model, version).sha256
        return register.record_audit(
            model,
            version,
            audit_id=identifier,
            audit_json_path=path,
            verdict=verdict,
            policy_name="default",
            policy_sha256=sha256_file(path),
            data_sha256="d" * 64,
            artifact_sha256=sha,
            tool_versions={"governance": "0.1.0"},
            actor=actor,
            max_age_days=max_age_days,
        )

    return record


@pytest.fixture
def drafted(register: Register, workspace: Path) -> Register:
    """A register with credit-risk@1.0.0 registered by the data scientist (state draft)."""
    register.add_model(
        "credit-risk",
        owner="owner@example.com",
        purpose="Decide on credit applications",
        actor="ds@example.com",
    )
    register.add_version(
        "credit-risk",
        "1.0.0",
        artifact_path=workspace / "models" / "credit.skops",
        actor="ds@example.com",
        framework="scikit-learn",
        features=["age", "income"],
    )
    return register
