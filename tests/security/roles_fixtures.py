"""Fixtures shared by the tests in which people act under their own database roles (import them by name).

A fresh PostgreSQL database, a small workspace with one model file, a test clock set for each test, the people
who act on it, and the steps every story starts with: a version registered, then audited.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "register"))
from register_support import Clock, People, fresh_postgres_database, record_audit_a1

from governance.provenance import set_clock
from governance.register import Register


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from fresh_postgres_database()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    (root / "models").mkdir()
    (root / "models" / "credit.skops").write_bytes(b"model bytes v1")
    return root


@pytest.fixture(autouse=True)
def clock() -> Iterator[Clock]:
    current = Clock()
    set_clock(current)
    yield current
    set_clock(None)


@pytest.fixture
def people(pg_url: str, workspace: Path) -> Iterator[People]:
    with People(pg_url, workspace) as found:
        yield found


def register_version(register: Register, workspace: Path) -> None:
    """credit-risk@1.0.0 registered as ds@x, from the workspace's model file."""
    register.add_model("credit-risk", owner="o@x", purpose="Decide on credit", actor="ds@x")
    register.add_version(
        "credit-risk", "1.0.0", artifact_path=workspace / "models" / "credit.skops", actor="ds@x"
    )


def record_audit(register: Register, workspace: Path, verdict: str = "passed") -> None:
    """Audit a1 of credit-risk@1.0.0 recorded as aud@x, with ``verdict``."""
    record_audit_a1(register, workspace, verdict=verdict)


def register_and_audit(registrant: Register, auditor: Register, workspace: Path) -> None:
    """credit-risk@1.0.0 registered by ``registrant`` (as ds@x) and audited, passing, by ``auditor`` (as aud@x)."""
    register_version(registrant, workspace)
    record_audit(auditor, workspace)
