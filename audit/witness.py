"""The witness: each seal's hash, also written outside the database.

Seals chain the audit log, but the chain lives in the same database as the events: someone
who can delete rows there can delete the newest seals (and the events they cover) and leave
a chain that still verifies. So every seal is also appended to a JSON Lines file at
`AUDIT_WITNESS_PATH`, one line per seal (its id, last event id, hash and time), flushed and
fsynced; verification compares the database with it and names the first seal that is
missing or different. The file should live where the database's users cannot rewrite it
(another volume or host, an append-only file attribute, a log shipper): see README,
"Tamper evidence".

File I/O only; which seals to write is decided by `audit.seal_services.audit_witness_sync`."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from django.conf import settings

Appender = Callable[[Iterable["WitnessEntry"]], None]


class WitnessError(Exception):
    """The witness file cannot be read as a witness (a line that is not a seal)."""


@dataclass(frozen=True)
class WitnessEntry:
    seal_id: int
    last_event_id: int
    seal_hash: str
    created_at: str  # ISO 8601, UTC

    def line(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":")) + "\n"

    @classmethod
    def parse(cls, line: str, number: int) -> WitnessEntry:
        try:
            data = json.loads(line)
            return cls(
                seal_id=int(data["seal_id"]),
                last_event_id=int(data["last_event_id"]),
                seal_hash=str(data["seal_hash"]),
                created_at=str(data["created_at"]),
            )
        except (ValueError, TypeError, KeyError) as error:
            raise WitnessError(f"Line {number} of the witness is not a seal record.") from error


def witness_path() -> Path | None:
    """The configured witness file, or None when there is none."""
    value = settings.AUDIT_WITNESS_PATH
    return Path(value) if value else None


@contextmanager
def _locked(path: Path, mode: str, lock: int) -> Iterator[IO[str]]:
    """The file, opened and locked (shared for readers, exclusive for the writer), so
    that a reader never sees half a line and two sealers never write the same seal."""
    with path.open(mode, encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), lock)
        try:
            yield handle
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def witness_entries(path: Path) -> list[WitnessEntry]:
    """Every seal in the witness, in the order written ([] when the file does not exist)."""
    if not path.exists():
        return []
    with _locked(path, "r", fcntl.LOCK_SH) as handle:
        return [
            WitnessEntry.parse(line, number)
            for number, line in enumerate(handle, 1)
            if line.strip()
        ]


def _last_line(handle: IO[str]) -> tuple[str, int] | None:
    """The last non-empty line and its number; reads the whole file, which holds one short
    line per seal (about 2 MB for ten million events)."""
    last = None
    for number, line in enumerate(handle, 1):
        if line.strip():
            last = (line, number)
    return last


@contextmanager
def witness_appender(path: Path) -> Iterator[tuple[WitnessEntry | None, Appender]]:
    """Under an exclusive lock: the witness's last entry, and a function that appends
    entries (written, flushed and fsynced before it returns)."""
    created = not path.exists()
    with _locked(path, "a+", fcntl.LOCK_EX) as handle:
        handle.seek(0)
        last = _last_line(handle)
        head = WitnessEntry.parse(*last) if last else None

        def append(entries: Iterable[WitnessEntry]) -> None:
            handle.write("".join(entry.line() for entry in entries))
            handle.flush()
            os.fsync(handle.fileno())

        yield head, append
    if created:
        _fsync_directory(path.parent)


def witness_head(path: Path) -> WitnessEntry | None:
    """The last seal written to the witness, or None."""
    if not path.exists():
        return None
    with _locked(path, "r", fcntl.LOCK_SH) as handle:
        last = _last_line(handle)
    return WitnessEntry.parse(*last) if last else None


def _fsync_directory(directory: Path) -> None:
    """Make the new file's directory entry durable too."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
