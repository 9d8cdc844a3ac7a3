"""Found attacking the site build's memory changes: a slim cache whose lines were swapped blamed the audits.

The site's cache of slim audit copies (``.governance/site-slim-audits.jsonl``) is found by each ``audit.json``'s
digest. Two lines whose copies were swapped (edited by hand, restored from another workspace) made the site refuse
to publish two intact audits: "The audit file ... says it is audit s2 ... but the register recorded that folder as
audit s1", although ``register verify`` said OK and the files were untouched. A cached copy that disagrees with
the register is now made again from the checked bytes; only the audit file itself can be blamed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.test_found_site_vouching import build, published, record, register_url, workspace
from tests.site.conftest import make_audit, write_audit

__all__ = ["register_url", "workspace"]  # the fixtures


def test_swapped_slim_cache_lines_do_not_make_intact_audits_unverified(
    workspace: Path, register_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVERNANCE_NOW", "2026-11-29T12:00:00Z")  # the pages say when they were built
    record(workspace, register_url, workspace / "audits" / "scorer" / "1.0" / "s1")
    second = write_audit(
        workspace,
        make_audit("scorer", "1.0", "s2", created_at="2026-11-21T10:00:00Z", verdict="failed", ratio=0.7),
    )
    record(workspace, register_url, second, audit_id="s2")
    first = build(workspace)
    assert first.exit_code == 0, first.output
    before = published(workspace)
    cache = workspace / ".governance" / "site-slim-audits.jsonl"
    head, one, two = cache.read_bytes().splitlines()
    cache.write_bytes(b"\n".join([head, one[:65] + two[65:], two[:65] + one[65:]]) + b"\n")

    again = build(workspace)
    assert again.exit_code == 0, again.output
    assert published(workspace) == before
    assert build(workspace).exit_code == 0  # the cache was written right again
