"""The tamper-evident event log: each event's hash covers its content and the previous event's hash.

Changing, inserting or deleting an event breaks every hash after it. Someone with write access to the
database could recompute the whole chain; an HMAC-SHA256 with a key they do not have
(``GOVERNANCE_REGISTER_HMAC_KEY``) closes that gap. Once a register records that signing is on (a
``register.signing_enabled`` event naming the key's id), every later event and the chain head must carry a
valid signature, so the history can be neither unsigned nor cut short without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from typing import Any

from governance import provenance

# provenance.canonical_json's encoder, built once: the same bytes, without building an encoder per event
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)

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
