"""Pure functions of the audit log's tamper evidence (no database, no settings).

- Each event carries a content hash: HMAC-SHA256, keyed with the server's audit signing key,
  over the canonical JSON of its content. Without the key, nobody who can write to the
  database can make a changed event look intact, so verification names the changed event.
- Seals chain blocks of events: the exact ids sealed (as ranges, since rolled-back
  transactions leave gaps), their count, a hash over the (id, content hash) pairs in id
  order, and the previous seal's hash. A seal's own hash covers all of that; its signature
  is an HMAC of that hash with the same key. A removed or inserted event changes the ids or
  the count; an altered seal breaks its signature or the chain.
- A retention purge record is signed the same way (PurgeBody), since verification skips
  the events of purged seals.

Canonical JSON (sorted keys, no spaces, UTF-8) makes every hash independent of dict order
and of the database that stored the values."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(value: object) -> str:
    """SHA-256 hex digest of a value's canonical JSON (used for params digests too)."""
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def _mac(key: str, message: str) -> str:
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def event_content_hash(content: Mapping[str, object], key: str) -> str:
    """Keyed hash of an event's content fields; timestamps in ISO 8601 UTC."""
    normalised = {
        name: value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value
        for name, value in content.items()
    }
    return _mac(key, canonical_json(normalised))


def id_ranges(ids: Sequence[int]) -> list[list[int]]:
    """Sorted ids as [first, last] runs: [1, 2, 3, 7, 8] -> [[1, 3], [7, 8]]."""
    ranges: list[list[int]] = []
    for event_id in ids:
        if ranges and event_id == ranges[-1][1] + 1:
            ranges[-1][1] = event_id
        else:
            ranges.append([event_id, event_id])
    return ranges


def ids_of(ranges: Iterable[Sequence[int]]) -> list[int]:
    return [event_id for first, last in ranges for event_id in range(first, last + 1)]


def events_hash(pairs: Iterable[tuple[int, str]]) -> str:
    """Hash over (id, content hash) pairs in id order."""
    hasher = hashlib.sha256()
    for event_id, content_hash in pairs:
        hasher.update(f"{event_id}:{content_hash}\n".encode())
    return hasher.hexdigest()


@dataclass(frozen=True)
class SealBody:
    """What a seal's hash covers."""

    first_event_id: int
    last_event_id: int
    event_count: int
    id_ranges: list[list[int]]
    events_hash: str
    previous_hash: str
    created_at: datetime

    def hash(self) -> str:
        return digest(
            {
                "first_event_id": self.first_event_id,
                "last_event_id": self.last_event_id,
                "event_count": self.event_count,
                "id_ranges": self.id_ranges,
                "events_hash": self.events_hash,
                "previous_hash": self.previous_hash,
                "created_at": self.created_at.astimezone(UTC).isoformat(),
            }
        )


@dataclass(frozen=True)
class PurgeBody:
    """What a retention purge's signature covers: which seal it ran through (by id and
    hash), the date given, how many events it removed, who ran it and when. Verification
    skips the events of purged seals, so an unsigned purge record would hide deletions."""

    through_seal_id: int
    through_seal_hash: str
    before: datetime
    deleted: int
    actor: str
    created_at: datetime

    def hash(self) -> str:
        return digest(
            {
                "through_seal_id": self.through_seal_id,
                "through_seal_hash": self.through_seal_hash,
                "before": self.before.astimezone(UTC).isoformat(),
                "deleted": self.deleted,
                "actor": self.actor,
                "created_at": self.created_at.astimezone(UTC).isoformat(),
            }
        )


def seal_signature(seal_hash: str, key: str) -> str:
    return _mac(key, seal_hash)


def signature_valid(seal_hash: str, signature: str, keys: Sequence[str]) -> bool:
    """True if any of the keys (current first, then retired ones) signed this hash."""
    return any(hmac.compare_digest(seal_signature(seal_hash, key), signature) for key in keys)
