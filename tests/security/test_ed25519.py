"""Issue 10, point 1, "optionally": Ed25519 signatures, so that a verifier needs only the public key.

With HMAC every verifier holds the secret that signs; with Ed25519 the writers hold the private key and a
reviewer, an auditor or CI verifies with the public key alone, which signs nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "register"))
from register_support import fresh_postgres_database

from governance.cli.main import cli
from governance.provenance import canonical_json
from governance.register import Register
from governance.register import schema as t
from governance.register.chain import event_hash

PRIVATE_ENV = "GOVERNANCE_REGISTER_ED25519_KEY"
PUBLIC_ENV = "GOVERNANCE_REGISTER_ED25519_PUBLIC_KEY"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'register.db'}"
    else:
        yield from fresh_postgres_database()


def key_pair(folder: Path, name: str) -> tuple[Path, Path]:
    """A private and a public key as PEM files, as `openssl genpkey -algorithm ed25519` writes them."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private, public = folder / f"{name}.pem", folder / f"{name}.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    return key_pair(tmp_path, "register-key")


@pytest.fixture(autouse=True)
def no_hmac(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the workspace: no audits/ of anyone else's
    monkeypatch.delenv("GOVERNANCE_REGISTER_HMAC_KEY", raising=False)
    monkeypatch.delenv(PRIVATE_ENV, raising=False)
    monkeypatch.delenv(PUBLIC_ENV, raising=False)


def write_history(url: str, private: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as writer:
        writer.setenv(PRIVATE_ENV, str(private))
        with Register(url) as register:
            register.add_model("credit-risk", owner="o@x", purpose="Decide on credit", actor="ds@x")
            register.update_model("credit-risk", actor="ds@x", purpose="Decide on credit, carefully")


def verify(url: str, **env: str) -> Result:
    return CliRunner().invoke(cli, ["register", "verify", "--register-url", url], env=env)


def test_writers_sign_with_the_private_key_and_anyone_verifies_with_the_public_key(
    register_url: str, keys: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    private, public = keys
    write_history(register_url, private, monkeypatch)
    checked = verify(register_url, **{PUBLIC_ENV: str(public)})
    assert checked.exit_code == 0, checked.output
    assert "signatures checked" in checked.output
    unchecked = verify(register_url)
    assert unchecked.exit_code == 3, unchecked.output
    assert "GOVERNANCE_REGISTER_ED25519_PUBLIC_KEY" in unchecked.output
    engine = sa.create_engine(register_url)
    with engine.connect() as conn:
        first = conn.execute(sa.select(t.events).order_by(t.events.c.seq)).first()
        signatures = conn.execute(sa.select(t.events.c.hmac)).scalars().all()
    engine.dispose()
    assert first is not None and first.kind == "register.signing_enabled"
    assert json.loads(first.payload)["algorithm"] == "ed25519"
    assert all(signature is not None and len(signature) == 128 for signature in signatures)


def test_a_history_rewritten_and_signed_with_another_key_is_a_break(
    register_url: str, keys: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attacker can write the database and has a key pair of their own: they change who registered the model,
    put their own public key into the signing event, recompute every hash and sign everything again."""
    from cryptography.hazmat.primitives import serialization

    private, public = keys
    write_history(register_url, private, monkeypatch)
    forged_private, _forged_public = key_pair(tmp_path, "attacker")
    attacker = serialization.load_pem_private_key(forged_private.read_bytes(), password=None)
    from governance.register.chain import Ed25519Key

    forged = Ed25519Key.from_private(attacker)  # type: ignore[arg-type]
    engine = sa.create_engine(register_url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        previous = t.GENESIS_HASH
        for event in conn.execute(sa.select(t.events).order_by(t.events.c.seq)).all():
            payload = json.loads(event.payload)
            if event.kind == "register.signing_enabled":
                payload = forged.setting()
            actor = "someone-else@x" if event.kind == "model.registered" else event.actor
            fields = {
                k: getattr(event, k) for k in ("seq", "at", "kind", "model_name", "version", "identity")
            }
            digest = event_hash(**fields, actor=actor, payload=payload, prev_hash=previous)
            conn.execute(
                sa.update(t.events)
                .where(t.events.c.seq == event.seq)
                .values(
                    actor=actor,
                    payload=canonical_json(payload),
                    prev_hash=previous,
                    hash=digest,
                    hmac=forged.sign(digest),
                )
            )
            previous = digest
        head = conn.execute(sa.select(t.chain_head)).one()
        conn.execute(sa.update(t.chain_head).values(hash=previous, hmac=forged.sign_head(head.seq, previous)))
    engine.dispose()
    result = verify(register_url, **{PUBLIC_ENV: str(public)})
    assert result.exit_code == 1, result.output
    assert result.output.startswith("BROKEN: The key given is not the key this register is signed with")


def test_stripped_signatures_are_a_break(
    register_url: str, keys: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    private, public = keys
    write_history(register_url, private, monkeypatch)
    engine = sa.create_engine(register_url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.execute(sa.update(t.events).where(t.events.c.seq == 3).values(hmac=None))
    engine.dispose()
    result = verify(register_url, **{PUBLIC_ENV: str(public)})
    assert result.exit_code == 1, result.output
    assert result.output.startswith(
        "BROKEN: Event 3 is not signed although signing was switched on at event 1"
    )


def test_a_writer_with_only_the_public_key_is_refused_in_one_sentence(
    tmp_path: Path, keys: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    private, public = keys
    url = f"sqlite:///{tmp_path / 'register.db'}"
    write_history(url, private, monkeypatch)
    result = CliRunner().invoke(
        cli,
        ["register", "add", "other", "--owner", "o@x", "--purpose", "p", "--register-url", url],
        env={PUBLIC_ENV: str(public), "GOVERNANCE_ACTOR": "ds@x"},
    )
    assert result.exit_code == 2, result.output
    assert result.output.startswith(
        "Error: This register is signed with Ed25519 (since event 1), so every change must be signed too: set "
        f"{PRIVATE_ENV} to its private key file"
    )
    assert len(result.output.splitlines()) == 1


def test_an_unreadable_key_file_is_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("not a key", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'register.db'}"
    result = verify(url, **{PUBLIC_ENV: str(bad)})
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"Error: {PUBLIC_ENV} names {bad}, which is not an Ed25519 public key in PEM form; make one with "
        "`openssl pkey -in KEY.pem -pubout -out KEY.pub.pem`.\n"
    )
