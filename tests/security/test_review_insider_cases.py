"""Issue-10 review: the insider cases that behaved, kept as regression tests.

Someone with write access to the database (raw SQL, no key) or to the workspace's files tries to change the
record without ``verify`` noticing. Each case must end in a break (``verify`` not OK), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from governance.errors import InputError
from governance.provenance import sha256_file
from governance.register import Register
from governance.register import schema as t
from tests.register.register_support import People, fresh_postgres_database

KEY = b"the register's secret key"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    else:
        yield from fresh_postgres_database()


@pytest.fixture
def people(register_url: str, tmp_path: Path) -> Iterator[People]:
    with People(register_url, tmp_path / "ws") as found:
        yield found


def audit_folder(root: Path, audit_id: str, verdict: str) -> Path:
    folder = root / "audits" / "m" / "1" / audit_id
    folder.mkdir(parents=True)
    (folder / "audit.json").write_text(
        json.dumps({"audit_id": audit_id, "verdict": verdict}), encoding="utf-8"
    )
    (folder / "report.md").write_text(f"Verdict: {verdict}\n", encoding="utf-8")
    return folder / "audit.json"


def story(register: Register, root: Path, approver: Register) -> None:
    """m@1 with a failed audit, then a passed one, then an approval with a risk acceptance (by ``approver``,
    connected as their own database role on PostgreSQL)."""
    register.add_model("m", owner="o@example.com", purpose="Decide", actor="ds@example.com")
    register.add_version("m", "1", artifact_path=root / "m.bin", actor="ds@example.com")
    for audit_id, verdict in (("a1", "failed"), ("a2", "passed")):
        path = audit_folder(root, audit_id, verdict)
        register.record_audit(
            "m", "1", audit_id=audit_id, audit_json_path=path, verdict=verdict, policy_name="default",
            policy_sha256=sha256_file(path), data_sha256="d" * 64,
            artifact_sha256=register.resolve_version("m", "1").sha256, tool_versions={},
            actor="aud@example.com", max_age_days=365,
        )  # fmt: skip
    approver.approve("m", "1", role="risk-officer", actor="boss@example.com", risk_acceptance="ticket 12")


def _opened(register_url: str, tmp_path: Path, people: People, *, signed: bool) -> Register:
    root = tmp_path / "ws"
    root.mkdir(exist_ok=True)
    (root / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    (root / "m.bin").write_bytes(b"model")
    key = KEY if signed else b""
    opened = Register(register_url, workspace_root=root, hmac_key=key)
    opened.hmac_key = key or None
    story(opened, root, people.register("boss", hmac_key=opened.hmac_key))
    assert opened.verify().ok
    return opened


@pytest.fixture(params=["unsigned", "signed"])
def register(
    request: pytest.FixtureRequest, register_url: str, tmp_path: Path, people: People
) -> Iterator[Register]:
    opened = _opened(register_url, tmp_path, people, signed=request.param == "signed")
    yield opened
    opened.close()


@pytest.fixture
def signed_register(register_url: str, tmp_path: Path, people: People) -> Iterator[Register]:
    opened = _opened(register_url, tmp_path, people, signed=True)
    yield opened
    opened.close()


def sql(register: Register, *statements: sa.Executable) -> None:
    with register.engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)


def _swap_manifests(register: Register) -> None:
    with register.engine.begin() as conn:
        a1, a2 = conn.execute(sa.select(t.audits).order_by(t.audits.c.id)).all()
        for row, other in ((a1, a2), (a2, a1)):
            conn.execute(sa.update(t.audits).where(t.audits.c.id == row.id).values(
                files=other.files, audit_json_sha256=other.audit_json_sha256, audit_json_path=other.audit_json_path
            ))  # fmt: skip


def _swap_event_signatures(register: Register) -> None:
    """The newest event carries the signature of the one before it (only a signed register has signatures)."""
    with register.engine.begin() as conn:
        last, before = conn.execute(sa.select(t.events).order_by(t.events.c.seq.desc()).limit(2)).all()
        conn.execute(sa.update(t.events).where(t.events.c.seq == last.seq).values(hmac=before.hmac))


def _swap_folders(register: Register) -> None:
    root = register.workspace_root
    assert root is not None
    folder = root / "audits" / "m" / "1"
    (folder / "a1").rename(folder / "tmp")
    (folder / "a2").rename(folder / "a1")
    (folder / "tmp").rename(folder / "a2")


def _delete_failed_audit_folder(register: Register) -> None:
    assert register.workspace_root is not None
    shutil.rmtree(register.workspace_root / "audits" / "m" / "1" / "a1")


CASES: dict[str, Callable[[Register], None]] = {
    "verdict of the failed audit set to passed": lambda r: sql(
        r, sa.update(t.audits).where(t.audits.c.audit_id == "a1").values(verdict="passed")
    ),
    "two audits' manifests swapped": _swap_manifests,
    "approval row deleted": lambda r: sql(r, sa.delete(t.approvals)),
    "approval row inserted": lambda r: sql(
        r,
        t.approvals.insert().values(
            version_id=1,
            role="cfo",
            decision="approve",
            actor="cfo@example.com",
            at="2026-11-23T10:00:00Z",
            event_seq=1,
        ),
    ),
    "risk acceptance removed from the approval": lambda r: sql(
        r, sa.update(t.approvals).values(risk_acceptance=None)
    ),
    "event payload edited": lambda r: sql(
        r, sa.update(t.events).where(t.events.c.kind == "audit.recorded").values(payload='{"rows": []}')
    ),
    "actor of an event edited": lambda r: sql(
        r,
        sa.update(t.events).where(t.events.c.kind == "approval.recorded").values(actor="someone@example.com"),
    ),
    "middle event deleted": lambda r: sql(
        r, sa.delete(t.events).where(t.events.c.kind == "version.registered")
    ),
    "head moved to another hash": lambda r: sql(r, sa.update(t.chain_head).values(hash="a" * 64)),
    "two audit folders swapped on disk": _swap_folders,
    "failed audit's folder deleted": _delete_failed_audit_folder,
    "version's pinned hash changed": lambda r: sql(r, sa.update(t.versions).values(sha256="e" * 64)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_insider_change_is_a_break(register: Register, case: str) -> None:
    CASES[case](register)
    report = register.verify()
    assert not report.ok and report.problems, case


def test_a_signature_moved_to_another_event_is_a_break(signed_register: Register) -> None:
    _swap_event_signatures(signed_register)
    report = signed_register.verify()
    assert not report.ok and report.problems


def test_a_checkpoint_of_another_register_is_a_break(register: Register, tmp_path: Path) -> None:
    assert register.workspace_root is not None
    (register.workspace_root / "register-head.json").write_text(json.dumps(
        {"format": "governance-register-head", "seq": 3, "hash": "b" * 64}
    ), encoding="utf-8")  # fmt: skip
    report = register.verify()
    assert not report.ok and report.problems[0].kind == "anchor"


def test_a_checkpoint_that_is_not_one_is_an_input_error(register: Register) -> None:
    assert register.workspace_root is not None
    (register.workspace_root / "register-head.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="is not a register checkpoint"):
        register.verify()
