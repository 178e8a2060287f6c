"""Pure hashing functions of the audit log: the content hash of one event.

Canonical JSON (sorted keys, no spaces, UTF-8) makes the hash independent of dict
order and of the database that stored the event."""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(value: object) -> str:
    """SHA-256 hex digest of a value's canonical JSON (used for params digests too)."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def event_content_hash(content: Mapping[str, object]) -> str:
    """Hash of an event's content fields; timestamps hashed in ISO 8601 UTC."""
    normalised = {
        key: value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value
        for key, value in content.items()
    }
    return digest(normalised)
