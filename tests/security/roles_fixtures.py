"""Fixtures shared by the tests in which people act under their own database roles (import them by name).

A fresh PostgreSQL database, a small workspace with one model file, and a test clock set for each test.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "register"))
from register_support import Clock, fresh_postgres_database

from governance.provenance import set_clock


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
