"""Fixtures for the checklist tests: the shipped checklists and a factory of real ``AuditResult`` objects."""

from __future__ import annotations

import pytest
from checklist_support import AuditFactory, build_audit

from governance.checklists import Checklist, load_checklists
from governance.paths import bundled_policies


@pytest.fixture(scope="session")
def shipped_checklists() -> list[Checklist]:
    return load_checklists(bundled_policies() / "checklists")


@pytest.fixture
def audit_factory() -> AuditFactory:
    return build_audit
