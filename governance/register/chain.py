"""The tamper-evident event log: each event's hash covers its content and the previous event's hash.

Changing, inserting or deleting an event breaks every hash after it. Someone with write access to the
database could recompute the whole chain; an HMAC with a key they do not have (``GOVERNANCE_REGISTER_HMAC_KEY``)
closes that gap.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from governance.provenance import sha256_json

HMAC_ENV = "GOVERNANCE_REGISTER_HMAC_KEY"


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
) -> str:
    """SHA-256 of the event's canonical JSON (sorted keys, no spaces), which includes ``prev_hash``."""
    return sha256_json(
        {
            "seq": seq,
            "at": at,
            "actor": actor,
            "kind": kind,
            "model_name": model_name,
            "version": version,
            "payload": payload,
            "prev_hash": prev_hash,
        }
    )


def sign(key: bytes, digest: str) -> str:
    """HMAC-SHA256 of an event hash."""
    return hmac.new(key, digest.encode("ascii"), hashlib.sha256).hexdigest()


def signature_matches(key: bytes, digest: str, signature: str) -> bool:
    """Constant-time check of a signature."""
    return hmac.compare_digest(sign(key, digest), signature)


def key_from_environment() -> bytes | None:
    """The HMAC key from ``GOVERNANCE_REGISTER_HMAC_KEY``, or ``None`` when it is not set."""
    value = os.environ.get(HMAC_ENV, "")
    return value.encode("utf-8") if value else None
