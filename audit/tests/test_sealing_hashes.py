"""The hashes behind tamper evidence, pinned byte for byte (audit/sealing.py).

A seal written today must verify in ten years: every byte that goes into an event's keyed
hash, a seal's hash or a purge's signature is part of the log's format. These tests
compute the expected values independently (literal JSON, hashlib, hmac) so that any change
to what is hashed, or how, fails here before it makes old logs unverifiable. No database."""

import hashlib
import hmac
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from audit.sealing import (
    PurgeBody,
    SealBody,
    canonical_json,
    digest,
    event_content_hash,
    events_hash,
    id_ranges,
    ids_of,
    seal_signature,
    signature_valid,
)

PARIS = timezone(timedelta(hours=1))
MOMENT = datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def mac(key: str, text: str) -> str:
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


# -- canonical JSON ---------------------------------------------------------------------------


def test_canonical_json_sorts_keys_has_no_spaces_and_keeps_unicode():
    value = {"b": [1, 2], "a": {"z": None, "y": True}, "é": "café"}
    assert canonical_json(value) == '{"a":{"y":true,"z":null},"b":[1,2],"é":"café"}'


def test_canonical_json_writes_other_values_as_their_text():
    assert canonical_json({"amount": Decimal("12.50")}) == '{"amount":"12.50"}'


def test_digest_is_sha256_of_the_canonical_json_in_utf8():
    assert digest({"b": 1, "a": "é"}) == sha256('{"a":"é","b":1}')


def test_digest_is_independent_of_key_order():
    assert digest({"a": 1, "b": 2}) == digest({"b": 2, "a": 1})


# -- an event's keyed hash --------------------------------------------------------------------


def test_event_content_hash_is_an_hmac_of_the_canonical_content():
    content = {"action": "crm.update", "params": {"x": 1}}
    expected = mac("key-1", '{"action":"crm.update","params":{"x":1}}')
    assert event_content_hash(content, "key-1") == expected


def test_event_content_hash_writes_timestamps_in_utc_whatever_their_zone(server_in_new_york):
    in_paris = MOMENT.astimezone(PARIS)
    expected = mac("k", '{"recorded_at":"2026-11-30T10:00:00+00:00"}')
    assert event_content_hash({"recorded_at": in_paris}, "k") == expected
    assert event_content_hash({"recorded_at": MOMENT}, "k") == expected


def test_event_content_hash_depends_on_the_key_and_on_every_field():
    content = {"action": "a", "actor_user_id": 7}
    base = event_content_hash(content, "k")
    assert event_content_hash(content, "other") != base
    assert event_content_hash({**content, "actor_user_id": 8}, "k") != base
    assert event_content_hash({"action": "a"}, "k") != base


# -- id ranges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "ranges"),
    [
        ([], []),
        ([5], [[5, 5]]),
        ([1, 2, 3, 7, 8], [[1, 3], [7, 8]]),
        ([1, 3, 5], [[1, 1], [3, 3], [5, 5]]),
        ([10, 11, 13, 14, 15, 20], [[10, 11], [13, 15], [20, 20]]),
    ],
)
def test_id_ranges_are_runs_of_consecutive_ids_and_round_trip(ids, ranges):
    assert id_ranges(ids) == ranges
    assert ids_of(ranges) == ids


def test_ids_of_includes_both_ends_of_each_range():
    assert ids_of([[3, 5], [9, 9]]) == [3, 4, 5, 9]


# -- a block's events --------------------------------------------------------------------------


def test_events_hash_is_sha256_over_id_colon_hash_lines():
    assert events_hash([(1, "aa"), (2, "bb")]) == sha256("1:aa\n2:bb\n")
    assert events_hash([]) == sha256("")


def test_events_hash_depends_on_order_ids_and_hashes():
    base = events_hash([(1, "aa"), (2, "bb")])
    assert events_hash([(2, "bb"), (1, "aa")]) != base
    assert events_hash([(1, "aa"), (3, "bb")]) != base
    assert events_hash([(1, "aa"), (2, "bc")]) != base


# -- seals --------------------------------------------------------------------------------------


def seal_body(**changes) -> SealBody:
    body = SealBody(
        first_event_id=1,
        last_event_id=4,
        event_count=3,
        id_ranges=[[1, 2], [4, 4]],
        events_hash="e" * 64,
        previous_hash="p" * 64,
        created_at=MOMENT.astimezone(PARIS),
    )
    return replace(body, **changes)


def test_a_seal_hash_is_the_digest_of_every_field_in_a_fixed_form(server_in_new_york):
    expected = sha256(
        '{"created_at":"2026-11-30T10:00:00+00:00","event_count":3,'
        f'"events_hash":"{"e" * 64}","first_event_id":1,"id_ranges":[[1,2],[4,4]],'
        f'"last_event_id":4,"previous_hash":"{"p" * 64}"}}'
    )
    assert seal_body().hash() == expected


@pytest.mark.parametrize("name", [f.name for f in fields(SealBody)])
def test_a_seal_hash_changes_when_any_field_changes(name):
    changed = {
        "first_event_id": 2,
        "last_event_id": 5,
        "event_count": 4,
        "id_ranges": [[1, 4]],
        "events_hash": "f" * 64,
        "previous_hash": "q" * 64,
        "created_at": MOMENT + timedelta(seconds=1),
    }
    assert seal_body(**{name: changed[name]}).hash() != seal_body().hash()


def purge_body(**changes) -> PurgeBody:
    body = PurgeBody(
        through_seal_id=9,
        through_seal_hash="h" * 64,
        before=datetime(2025, 1, 1, tzinfo=PARIS),
        deleted=120,
        actor="gina@corp.example",
        created_at=MOMENT,
    )
    return replace(body, **changes)


def test_a_purge_hash_is_the_digest_of_every_field_in_a_fixed_form(server_in_new_york):
    expected = sha256(
        '{"actor":"gina@corp.example","before":"2024-12-31T23:00:00+00:00",'
        '"created_at":"2026-11-30T10:00:00+00:00","deleted":120,'
        f'"through_seal_hash":"{"h" * 64}","through_seal_id":9}}'
    )
    assert purge_body().hash() == expected


@pytest.mark.parametrize("name", [f.name for f in fields(PurgeBody)])
def test_a_purge_hash_changes_when_any_field_changes(name):
    changed = {
        "through_seal_id": 10,
        "through_seal_hash": "i" * 64,
        "before": datetime(2025, 1, 2, tzinfo=UTC),
        "deleted": 121,
        "actor": "owen@corp.example",
        "created_at": MOMENT + timedelta(seconds=1),
    }
    assert purge_body(**{name: changed[name]}).hash() != purge_body().hash()


# -- signatures ----------------------------------------------------------------------------------


def test_a_signature_is_an_hmac_of_the_seal_hash():
    assert seal_signature("abc", "key-1") == mac("key-1", "abc")


def test_a_signature_verifies_with_the_current_or_a_retired_key_only():
    signature = seal_signature("abc", "old-key")
    assert signature_valid("abc", signature, ["new-key", "old-key"])
    assert signature_valid("abc", signature, ["old-key"])
    assert not signature_valid("abc", signature, ["new-key"])
    assert not signature_valid("abc", signature, [])
    assert not signature_valid("abd", signature, ["new-key", "old-key"])
    assert not signature_valid("abc", signature.upper(), ["old-key"])
