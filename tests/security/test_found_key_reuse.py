"""Issue-10 review: signed events replayed from a copy of the register that uses the same key.

A staging copy of production's register (restored from a backup, same key) goes on with its own events: test
approvals, say. Someone with write access to production's database, without the key, copies those events and the
copy's head row over production's newest events. Every event links, every signature is valid for the key, so
``verify`` with the key says OK: production's history now tells the copy's story. A head kept outside the database
(the checkpoint in git) catches it; the key alone cannot, since both registers hold the same signatures. The guide
says to give every register its own key.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from governance.register import Register
from governance.register import schema as t

KEY = b"one key shared by production and its staging copy"


def story(root: Path, url: str) -> None:
    with Register(url, workspace_root=root, hmac_key=KEY) as register:
        register.add_model("m", owner="o@example.com", purpose="Decide", actor="ds@example.com")
        register.add_version("m", "1", artifact_path=root / "m.bin", actor="ds@example.com")


def replay(production: Path, staging: Path) -> None:
    """Copy staging's events after the common prefix, and its head, into production (raw SQL, no key)."""
    source = sa.create_engine(f"sqlite:///{staging}")
    target = sa.create_engine(f"sqlite:///{production}")
    with source.connect() as read, target.begin() as write:
        ours = {row.seq: row.hash for row in write.execute(sa.select(t.events))}
        theirs = {row.seq: row for row in read.execute(sa.select(t.events))}
        common = max(seq for seq in ours if seq in theirs and theirs[seq].hash == ours[seq])
        write.execute(sa.delete(t.events).where(t.events.c.seq > common))
        write.execute(sa.delete(t.incidents))
        for seq in sorted(theirs):
            if seq > common:
                write.execute(t.events.insert().values(**theirs[seq]._mapping))
        for row in read.execute(sa.select(t.incidents)):
            write.execute(t.incidents.insert().values(**row._mapping))
        head = read.execute(sa.select(t.chain_head)).one()
        write.execute(sa.update(t.chain_head).values(seq=head.seq, hash=head.hash, hmac=head.hmac))
    source.dispose()
    target.dispose()


@pytest.fixture
def registers(tmp_path: Path) -> tuple[Path, Path, Path]:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "m.bin").write_bytes(b"model")
    production = root / "prod.db"
    story(root, f"sqlite:///{production}")
    staging = tmp_path / "staging.db"
    shutil.copy(production, staging)
    with Register(f"sqlite:///{production}", workspace_root=root, hmac_key=KEY) as register:
        register.record_incident(
            "m", "1", title="real outage", description="", severity="high", actor="ops@x"
        )
    with Register(f"sqlite:///{staging}", workspace_root=root, hmac_key=KEY) as register:
        register.record_incident(
            "m", "1", title="staging drill", description="", severity="low", actor="qa@x"
        )
    return root, production, staging


def test_a_kept_head_catches_events_replayed_from_a_copy_with_the_same_key(
    registers: tuple[Path, Path, Path],
) -> None:
    root, production, staging = registers
    with Register(f"sqlite:///{production}", workspace_root=root, hmac_key=KEY) as register:
        kept = register.chain_head()[1]
    replay(production, staging)
    with Register(f"sqlite:///{production}", workspace_root=root, hmac_key=KEY) as register:
        assert [i.title for d in register.details() for i in d.incidents] == ["staging drill"]
        report = register.verify(expect_head=kept)
    assert not report.ok and report.problems[0].kind == "anchor"


@pytest.mark.xfail(
    strict=True,
    reason="HMAC signatures cannot tell two registers that share a key and a common history apart: events "
    "replayed from a staging copy verify with the key. Only a kept head (register-head.json in git) catches it; "
    "the guide says to give every register its own key. Binding signatures to one register would need an "
    "identity that a byte-for-byte copy does not share, which only an outside anchor provides.",
)
def test_the_key_alone_catches_events_replayed_from_a_copy_with_the_same_key(
    registers: tuple[Path, Path, Path],
) -> None:
    root, production, staging = registers
    replay(production, staging)
    with Register(f"sqlite:///{production}", workspace_root=root, hmac_key=KEY) as register:
        assert not register.verify(use_checkpoint=False).ok
