"""The tamper-evident event log: each event's hash covers its content and the previous event's hash.

Changing, inserting or deleting an event breaks every hash after it. Someone with write access to the
database could recompute the whole chain; an HMAC-SHA256 with a key they do not have
(``GOVERNANCE_REGISTER_HMAC_KEY``) closes that gap. Once a register records that signing is on (a
``register.signing_enabled`` event naming the key's id), every later event and the chain head must carry a
valid signature, so the history can be neither unsigned nor cut short without the key. Optionally the key is an
Ed25519 pair (:class:`Ed25519Key`, the ``cryptography`` package): writers sign with the private key and a verifier
needs only the public one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance import provenance

# provenance.canonical_json's encoder, built once: the same bytes, without building an encoder per event
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
_encode_string = json.encoder.encode_basestring  # what that encoder writes for a string (ensure_ascii off)
# a string as the canonical encoder writes it: JSON's own C function, called directly
encode_text = _encode_string

HMAC_ENV = "GOVERNANCE_REGISTER_HMAC_KEY"
SIGNING_KIND = "register.signing_enabled"
ROLES_KIND = "register.roles_required"


@dataclass(frozen=True)
class Change:
    """Who changes what, and when: the fields every event of one change carries (its hash covers them)."""

    actor: str
    kind: str
    model_name: str | None = None
    version: str | None = None
    at: str = field(default_factory=lambda: provenance.isoformat(provenance.now()))


def event_hash(
    *,
    seq: int,
    at: str,
    actor: str,
    kind: str,
    model_name: str | None,
    version: str | None,
    payload: dict[str, Any],
    prev_hash: str,
    identity: str | None = None,
) -> str:
    """SHA-256 of the event's canonical JSON (sorted keys, no spaces), which includes ``prev_hash``.

    ``identity`` (who the database says wrote it) is covered when recorded; older events without one keep
    the hash they were written with.
    """
    fields: dict[str, Any] = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "kind": kind,
        "model_name": model_name,
        "version": version,
        "payload": payload,
        "prev_hash": prev_hash,
    }
    if identity is not None:
        fields["identity"] = identity
    return hashlib.sha256(_CANONICAL.encode(fields).encode("utf-8")).hexdigest()


HASHED_COLUMNS = ("seq", "at", "actor", "kind", "model_name", "version", "prev_hash", "identity")
"""The columns of a stored event that its hash covers, beside its payload (see :func:`event_hash`)."""


def stored_event_hash(event: Any, payload: dict[str, Any]) -> str:
    """:func:`event_hash` of an event as stored (a row with the event's columns), over its payload as read."""
    return event_hash(payload=payload, **{column: getattr(event, column) for column in HASHED_COLUMNS})


def event_hash_of_text(
    seq: int,
    change: tuple[str, str, str, str | None, str | None],
    payload_text: str,
    prev_hash: str,
    identity: str | None,
) -> str:
    """:func:`event_hash` with the payload given as its canonical JSON text (``change``: actor, at, kind, model
    name, version), spliced in instead of encoded again: the same bytes whenever the text is canonical, which is
    how the register writes it. A text that is not canonical gives another hash; ``verify`` then hashes the parsed
    payload as :func:`event_hash` does before it reports anything."""
    actor, at, kind, model_name, version = change
    who = "" if identity is None else f'"identity":{_json(identity)},'
    text = (
        f'{{"actor":{_json(actor)},"at":{_json(at)},{who}"kind":{_json(kind)},"model_name":{_json(model_name)},'
        f'"payload":{payload_text},"prev_hash":{_json(prev_hash)},"seq":{_json(seq)},"version":{_json(version)}}}'
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chained_hashes(
    change: tuple[str, str, str, str | None, str | None],
    identity: str | None,
    first: tuple[int, str],
    payload_texts: list[str],
) -> list[str]:
    """The hashes of consecutive events of one change (as :func:`event_hash_of_text` gives them one at a time), the
    first numbered ``first[0]`` and chained to the hash ``first[1]``, each to the one before it: one loop, no
    function call of ours per event (a batch of checklist answers hashes hundreds)."""
    actor, at, kind, model_name, version = change
    who = "" if identity is None else f'"identity":{_json(identity)},'
    head = (
        f'{{"actor":{_json(actor)},"at":{_json(at)},{who}"kind":{_json(kind)},"model_name":{_json(model_name)},'
        '"payload":'
    )
    tail = f'"version":{_json(version)}}}'
    digests: list[str] = []
    sha256, add = hashlib.sha256, digests.append
    prev = _encode_string(first[1])  # as read from the head; the hashes made here are hex digits
    for seq, text in enumerate(payload_texts, start=int(first[0])):
        digest = sha256(f'{head}{text},"prev_hash":{prev},"seq":{seq},{tail}'.encode()).hexdigest()
        add(digest)
        prev = f'"{digest}"'
    return digests


def _json(value: Any) -> str:
    """One value as the canonical encoder writes it (strings and numbers without building an encoder's dict)."""
    if type(value) is str:
        return _encode_string(value)
    if type(value) is int:
        return str(value)
    if value is None:
        return "null"
    return _CANONICAL.encode(value)


def sign(key: bytes, digest: str) -> str:
    """HMAC-SHA256 of an event hash."""
    return hmac.new(key, digest.encode("ascii"), hashlib.sha256).hexdigest()


def signature_matches(key: bytes, digest: str, signature: str) -> bool:
    """Constant-time check of a signature."""
    return hmac.compare_digest(sign(key, digest), signature)


def sign_head(key: bytes, seq: int, digest: str) -> str:
    """HMAC-SHA256 of the chain head (the newest event's number and hash), kept apart from event signatures."""
    return sign(key, f"governance-register-head:{seq}:{digest}")


def head_signature_matches(key: bytes, seq: int, digest: str, signature: str | None) -> bool:
    """Constant-time check of the head's signature (a missing one never matches)."""
    return signature is not None and hmac.compare_digest(sign_head(key, seq, digest), signature)


def key_id(key: bytes) -> str:
    """A public fingerprint of the key (an HMAC of a fixed text): tells keys apart without revealing them."""
    return sign(key, "governance-register-key-id")[:16]


def key_from_environment() -> bytes | None:
    """The HMAC key from ``GOVERNANCE_REGISTER_HMAC_KEY``, or ``None`` when it is not set."""
    value = os.environ.get(HMAC_ENV, "")
    return value.encode("utf-8") if value else None


# ---------------------------------------------------------------------- keys

ED25519_KEY_ENV = "GOVERNANCE_REGISTER_ED25519_KEY"  # a PEM private key file: the writers'
ED25519_PUBLIC_ENV = "GOVERNANCE_REGISTER_ED25519_PUBLIC_KEY"  # a PEM public key file: enough to verify
ED25519 = "ed25519"


class HmacKey:
    """The register's shared secret (HMAC-SHA256): whoever verifies with it could sign with it too."""

    algorithm = "hmac-sha256"
    env = writer_env = HMAC_ENV  # where verifiers and writers put it
    can_sign = True

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.id = key_id(secret)

    def sign(self, digest: str) -> str:
        return sign(self.secret, digest)

    def sign_head(self, seq: int, digest: str) -> str:
        return sign_head(self.secret, seq, digest)

    def matches(self, digest: str, signature: str) -> bool:
        return signature_matches(self.secret, digest, signature)

    def head_matches(self, seq: int, digest: str, signature: str | None) -> bool:
        return head_signature_matches(self.secret, seq, digest, signature)

    def setting(self) -> dict[str, Any]:
        """What the ``register.signing_enabled`` event records about the key (never the key)."""
        return {"key_id": self.id}


class Ed25519Key:
    """An Ed25519 key pair, or its public half alone: writers sign with the private key; verifying needs only the
    public key, which signs nothing. Signatures are 128 hex digits. Needs the ``cryptography`` package."""

    algorithm = ED25519
    env, writer_env = ED25519_PUBLIC_ENV, ED25519_KEY_ENV

    def __init__(self, public: Any, private: Any = None) -> None:
        from cryptography.hazmat.primitives import serialization

        self.public, self.private = public, private
        self.raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.id = hashlib.sha256(self.raw).hexdigest()[:16]
        self.can_sign = private is not None

    @classmethod
    def from_private(cls, private: Any) -> Ed25519Key:
        return cls(private.public_key(), private)

    def sign(self, digest: str) -> str:
        return str(self.private.sign(digest.encode("ascii")).hex())

    def sign_head(self, seq: int, digest: str) -> str:
        return self.sign(f"governance-register-head:{seq}:{digest}")

    def matches(self, digest: str, signature: str) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            self.public.verify(bytes.fromhex(signature), digest.encode("ascii"))
        except (InvalidSignature, ValueError):
            return False
        return True

    def head_matches(self, seq: int, digest: str, signature: str | None) -> bool:
        return signature is not None and self.matches(f"governance-register-head:{seq}:{digest}", signature)

    def setting(self) -> dict[str, Any]:
        return {"key_id": self.id, "algorithm": ED25519, "public_key": self.raw.hex()}


SigningKey = HmacKey | Ed25519Key


def signing_key(secret: bytes | None) -> SigningKey | None:
    """The key this process signs or verifies with: the HMAC secret the register was given (or found in
    ``GOVERNANCE_REGISTER_HMAC_KEY``), else an Ed25519 private key file (``GOVERNANCE_REGISTER_ED25519_KEY``), else
    an Ed25519 public key file (``GOVERNANCE_REGISTER_ED25519_PUBLIC_KEY``: verify only), else ``None``."""
    if secret:
        return HmacKey(secret)
    for env, private in ((ED25519_KEY_ENV, True), (ED25519_PUBLIC_ENV, False)):
        path = os.environ.get(env, "")
        if path:
            return _load_ed25519(env, path, private=private)
    return None


def _load_ed25519(env: str, path: str, *, private: bool) -> Ed25519Key:
    from governance.errors import InputError

    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as exc:
        raise InputError(
            f"{env} is set, but Ed25519 signatures need the cryptography package; install governance[signing]."
        ) from exc
    what = "private" if private else "public"
    fix = (
        "make one with `openssl genpkey -algorithm ed25519 -out KEY.pem`"
        if private
        else "make one with `openssl pkey -in KEY.pem -pubout -out KEY.pub.pem`"
    )
    try:
        data = Path(path).read_bytes()
        loaded: Any = (
            serialization.load_pem_private_key(data, password=None)
            if private
            else serialization.load_pem_public_key(data)
        )
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(
            f"{env} names {path}, which is not an Ed25519 {what} key in PEM form; {fix}."
        ) from exc
    if private and isinstance(loaded, ed25519.Ed25519PrivateKey):
        return Ed25519Key.from_private(loaded)
    if not private and isinstance(loaded, ed25519.Ed25519PublicKey):
        return Ed25519Key(loaded)
    raise InputError(f"{env} names {path}, which is not an Ed25519 {what} key in PEM form; {fix}.")


def recorded_key_id(setting: dict[str, Any]) -> str:
    return str(setting.get("key_id", ""))


def recorded_env(setting: dict[str, Any], *, writing: bool) -> str:
    """The variable that holds the key a register's signing event names (its algorithm says which)."""
    if setting.get("algorithm") == ED25519:
        return ED25519_KEY_ENV if writing else ED25519_PUBLIC_ENV
    return HMAC_ENV
