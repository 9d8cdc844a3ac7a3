"""Found by the issue-10 review: a vouching written into the database by hand made the next audit run the file.

The attack: someone with write access to the database and the workspace, but not the register's key (a database
administrator), places a pickle in the workspace, inserts a version row for it and appends a ``version.vouched``
event naming it, unsigned. ``verify`` would catch the event afterwards, but the auditor's
``governance audit NAME@VERSION`` trusted the event and unpickled the file first: the code ran under the auditor's
account. On a signed register a vouching counts only if its event is in the chain and carries the key's signature.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from security_support import evil_pickle, make_workspace

from governance.cli.main import cli
from governance.provenance import canonical_json, sha256_file
from governance.register import Register
from governance.register import schema as t
from governance.register.chain import event_hash
from governance.register.queries import VOUCHED, row_image
from tests.register.register_support import fresh_postgres_database

KEY = "the register's secret key"
AUDIT = ("--data", "holdout.csv", "--target", "label", "--sensitive", "group", "--no-explain", "--no-figures",
         "--n-boot", "20", "--policy", "nyc-ll144")  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    else:
        yield from fresh_postgres_database()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, register_url: str) -> Path:
    root = make_workspace(tmp_path / "ws")
    monkeypatch.chdir(root)
    monkeypatch.setenv("GOVERNANCE_REGISTER_HMAC_KEY", KEY)
    monkeypatch.setenv("GOVERNANCE_REGISTER_URL", register_url)
    with Register(register_url, workspace_root=root, hmac_key=KEY.encode()) as register:
        register.add_model(
            "credit", owner="ana@example.com", purpose="Scores applications", actor="ana@example.com"
        )
        register.add_version("credit", "1.0", artifact_path=root / "model.skops", actor="ana@example.com")
    return root


def run(workspace: Path, *args: str, actor: str = "ds@example.com") -> Result:
    """``governance ARGS`` in ``workspace`` as ``actor``, on the test's register, with its key."""
    env = {"GOVERNANCE_ACTOR": actor, "GOVERNANCE_WORKSPACE": str(workspace)}
    return CliRunner().invoke(cli, list(args), env=env)


def plant(root: Path, url: str, *, careful: bool = False) -> Path:
    """What the administrator does with raw SQL: a version row for evil.pkl and an unsigned vouching event
    (``careful``: with its true hash, the version row in its payload, and the chain head moved to it)."""
    marker = root / "marker"
    evil = evil_pickle(root / "evil.pkl", marker)
    digest = sha256_file(evil)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # the administrator switches off the event-writer trigger first
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        head = conn.execute(sa.select(t.chain_head)).one()
        model_id = conn.execute(sa.select(t.models.c.id)).scalar_one()
        conn.execute(t.versions.insert().values(
            model_id=model_id, version="2.0", artifact_path="evil.pkl", sha256=digest, state="draft",
            created_at="2026-11-23T10:00:00Z", created_by="ana@example.com", event_seq=head.seq + 1,
        ))  # fmt: skip
        row = conn.execute(sa.select(t.versions).where(t.versions.c.version == "2.0")).one()
        payload = {
            "rows": [{"table": "gov_versions", "record": row_image(row)}] if careful else [],
            "sha256": digest,
            "file_kind": "pickle",
            "untrusted_types": [],
            "artifact_path": "evil.pkl",
        }
        payload = json.loads(canonical_json(payload))
        fields = dict(
            seq=head.seq + 1,
            at="2026-11-23T10:00:00Z",
            actor="ana@example.com",
            kind=VOUCHED,
            model_name="credit",
            version="2.0",
            payload=payload,
            prev_hash=head.hash,
        )
        digest_of_event = event_hash(**fields) if careful else "f" * 64  # type: ignore[arg-type]
        conn.execute(
            t.events.insert().values(
                **{**fields, "payload": canonical_json(payload)}, hash=digest_of_event, hmac=None
            )
        )
        if careful:
            conn.execute(sa.update(t.chain_head).values(seq=head.seq + 1, hash=digest_of_event, hmac=None))
    engine.dispose()
    return marker


@pytest.mark.parametrize("careful", [False, True], ids=["raw-insert", "hash-recomputed"])
def test_a_vouching_inserted_without_the_key_never_runs_the_file(
    workspace: Path, register_url: str, careful: bool
) -> None:
    marker = plant(workspace, register_url, careful=careful)
    result = run(workspace, "audit", "credit@2.0", *AUDIT, actor="carl@example.com")
    assert not marker.exists(), "the forged vouching made the audit unpickle the file"
    assert result.exit_code == 4, result.output
    assert "vouch" in result.output, result.output


def test_a_genuine_signed_vouching_still_loads_the_file(workspace: Path, register_url: str) -> None:
    import pickle

    from security_support import credit_frame, fitted

    (workspace / "honest.pkl").write_bytes(pickle.dumps(fitted(credit_frame())))
    digest = sha256_file(workspace / "honest.pkl")
    registered = run(workspace, "register", "version", "credit", "--version", "3.0", "--model", "honest.pkl",
                     "--trust", digest)  # fmt: skip
    assert registered.exit_code == 0, registered.output
    result = run(workspace, "audit", "credit@3.0", *AUDIT, actor="carl@example.com")
    assert result.exit_code in (0, 1, 3), result.output
    assert "ds@example.com" in result.output  # the audit names who vouched
