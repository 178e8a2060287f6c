"""Tamper evidence: sealing, verification naming what fails, and retention purge."""

from dataclasses import replace
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.choices import EventType
from audit.models import AuditEvent, AuditPurge, AuditSeal
from audit.seal_services import audit_seal_new_events
from audit.services import SYSTEM, audit_event_record, audit_purge
from audit.verification import audit_verify, event_seal_status

pytestmark = [pytest.mark.django_db, pytest.mark.mutation]


def record(n: int, **fields) -> list[AuditEvent]:
    return [
        audit_event_record(
            event_type=EventType.CONFIG_UPDATED, actor=SYSTEM, action=f"x.e{i}", **fields
        )
        for i in range(n)
    ]


def seal_all(size: int = 5) -> list[AuditSeal]:
    return audit_seal_new_events(margin_seconds=0, max_events=size)


def test_events_are_sealed_in_order_in_blocks(db):
    events = record(12)
    seals = seal_all(size=5)
    assert [(s.first_event_id, s.last_event_id, s.event_count) for s in seals] == [
        (events[0].pk, events[4].pk, 5),
        (events[5].pk, events[9].pk, 5),
        (events[10].pk, events[11].pk, 2),
    ]
    assert seals[1].previous_hash == seals[0].seal_hash
    assert seal_all() == []  # nothing new: idempotent


def test_young_events_wait_for_the_margin(db):
    record(3)
    assert audit_seal_new_events(margin_seconds=60) == []
    later = timezone.now() + timedelta(seconds=61)
    assert len(audit_seal_new_events(now=later, margin_seconds=60)) == 1


def test_an_intact_log_verifies(db):
    record(7)
    seal_all()
    record(2)  # not sealed yet: reported, not a failure
    report = audit_verify()
    assert report.intact
    assert (report.seals, report.events, report.unsealed) == (2, 7, 2)


def test_a_changed_event_is_named(db, raw_sql):
    events = record(8)
    seal_all()
    raw_sql(
        "UPDATE audit_auditevent SET on_behalf_of = 'mallory@evil.example' WHERE id = %s",
        [events[6].pk],
    )
    problem = audit_verify().first_problem
    assert (problem.kind, problem.event_id) == ("event_changed", events[6].pk)


def test_a_changed_event_with_a_recomputed_plain_hash_is_still_named(db, raw_sql):
    """The content hash is keyed: an attacker without the key cannot make it match."""
    import hashlib

    events = record(4)
    seal_all()
    forged = hashlib.sha256(b"anything").hexdigest()
    raw_sql(
        "UPDATE audit_auditevent SET action = 'x.forged', content_hash = %s WHERE id = %s",
        [forged, events[1].pk],
    )
    problem = audit_verify().first_problem
    assert (problem.kind, problem.event_id) == ("event_changed", events[1].pk)


def test_a_removed_event_is_named(db, raw_sql):
    events = record(8)
    seal_all()
    raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [events[3].pk])
    problem = audit_verify().first_problem
    assert (problem.kind, problem.event_id) == ("event_removed", events[3].pk)


def test_an_inserted_event_is_named(db, raw_sql):
    events = record(6)
    # A gap, as a rolled-back transaction leaves one.
    raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    seal_all()
    assert audit_verify().intact  # gaps that were there at sealing time are fine
    copy = AuditEvent.objects.filter(pk=events[3].pk).values().get()
    columns = ", ".join(copy)
    values = [events[2].pk if name == "id" else copy[name] for name in copy]
    import json

    values = [json.dumps(v) if isinstance(v, list | dict) else v for v in values]
    placeholders = ", ".join(["%s"] * len(values))
    raw_sql(f"INSERT INTO audit_auditevent ({columns}) VALUES ({placeholders})", values)  # noqa: S608
    problem = audit_verify().first_problem
    assert (problem.kind, problem.event_id) == ("event_inserted", events[2].pk)


def test_an_altered_seal_is_named(db, raw_sql):
    record(10)
    first, second = seal_all()
    raw_sql("UPDATE audit_auditseal SET event_count = 4 WHERE id = %s", [second.pk])
    problem = audit_verify().first_problem
    assert (problem.kind, problem.seal_id) == ("seal_altered", second.pk)


def test_a_removed_seal_breaks_the_chain(db, raw_sql):
    record(15)
    seals = seal_all()
    raw_sql("DELETE FROM audit_auditseal WHERE id = %s", [seals[1].pk])
    problem = audit_verify().first_problem
    assert (problem.kind, problem.seal_id) == ("chain_broken", seals[2].pk)


def test_a_removed_seal_relinked_over_is_named_as_an_altered_seal(db, raw_sql):
    """The previous seal's hash is part of a seal's own hash: an attacker who removes a
    seal and re-links the next one to the seal before it cannot make the chain verify."""
    record(15)
    seals = seal_all()
    raw_sql("DELETE FROM audit_auditseal WHERE id = %s", [seals[1].pk])
    raw_sql(
        "UPDATE audit_auditseal SET previous_hash = %s WHERE id = %s",
        [seals[0].seal_hash, seals[2].pk],
    )
    problem = audit_verify().first_problem
    assert (problem.kind, problem.seal_id) == ("seal_altered", seals[2].pk)


def test_a_seal_hash_covers_the_previous_hash(db):
    from audit.sealing import SealBody

    record(10)
    first, second = seal_all()
    body = SealBody(
        first_event_id=second.first_event_id,
        last_event_id=second.last_event_id,
        event_count=second.event_count,
        id_ranges=second.id_ranges,
        events_hash=second.events_hash,
        previous_hash=second.previous_hash,
        created_at=second.created_at,
    )
    assert body.hash() == second.seal_hash
    assert replace(body, previous_hash="").hash() != second.seal_hash
    assert replace(body, previous_hash="0" * 64).hash() != second.seal_hash


def test_a_rotated_key_still_verifies_old_events(db, settings):
    record(3)
    seal_all()
    old = settings.AUDIT_SIGNING_KEY
    settings.AUDIT_SIGNING_KEY = "a-brand-new-key-0123456789abcdefghijklmnopqrstuv"
    assert not audit_verify().intact
    settings.AUDIT_PREVIOUS_SIGNING_KEYS = [old]
    assert audit_verify().intact


def test_event_page_status_knows_the_seal(db, raw_sql):
    events = record(3)
    assert event_seal_status(events[0]).seal is None
    seal_all()
    assert event_seal_status(events[0]).verified
    raw_sql("UPDATE audit_auditevent SET action = 'x.y' WHERE id = %s", [events[1].pk])
    assert event_seal_status(events[0]).problem.event_id == events[1].pk


def test_purge_removes_old_sealed_events_and_the_chain_still_verifies(db):
    old = record(6, timestamp=timezone.now() - timedelta(days=400))
    new = record(4)
    seals = seal_all(size=3)
    purge = audit_purge(before=timezone.now() - timedelta(days=365), actor=SYSTEM)
    assert purge.deleted == 6
    assert purge.through_seal == seals[1]
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditEvent.objects.filter(pk__in=[e.pk for e in new]).count() == 4
    assert AuditSeal.objects.count() == len(seals)
    report = audit_verify()
    assert report.intact
    assert report.purged_seals == 2
    event = AuditEvent.objects.get(event_type="audit_purged")
    assert event.detail["deleted"] == 6


def test_purge_never_takes_unsealed_or_newer_events(db):
    record(3, timestamp=timezone.now() - timedelta(days=400))
    assert audit_purge(before=timezone.now(), actor=SYSTEM) is None  # nothing sealed
    assert AuditEvent.objects.count() == 3


def test_purge_refuses_to_remove_evidence_that_fails_verification(db, raw_sql):
    from audit.seal_services import AuditIntegrityError

    events = record(3, timestamp=timezone.now() - timedelta(days=400))
    seal_all()
    raw_sql("UPDATE audit_auditevent SET action = 'x.y' WHERE id = %s", [events[0].pk])
    with pytest.raises(AuditIntegrityError, match="does not verify"):
        audit_purge(before=timezone.now(), actor=SYSTEM)
    assert not AuditPurge.objects.exists()


def test_seals_are_append_only(db):
    """The model-level guards (the only ones on SQLite): an existing seal cannot be saved,
    deleted, updated or deleted in bulk, and nothing about it changes."""
    from audit.models import AppendOnlyError

    record(2)
    (seal,) = seal_all()
    before = list(AuditSeal.objects.values())
    with pytest.raises(AppendOnlyError):
        seal.delete()
    with pytest.raises(AppendOnlyError):
        AuditSeal.objects.update(event_count=1)
    with pytest.raises(AppendOnlyError):
        AuditSeal.objects.all().delete()
    seal.event_count = 1
    with pytest.raises(AppendOnlyError):
        seal.save()
    assert list(AuditSeal.objects.values()) == before
    assert audit_verify().intact


@pytest.mark.postgres
def test_postgresql_refuses_a_delete_outside_the_purge(db):
    from django.db import DatabaseError, connection, transaction

    events = record(2)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[0].pk])
    (seal,) = seal_all()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditseal SET event_count = 9 WHERE id = %s", [seal.pk])


def test_commands_seal_verify_and_purge(db, raw_sql):
    events = record(4, timestamp=timezone.now() - timedelta(days=400))
    out = StringIO()
    call_command("seal_audit", "--margin-seconds", "0", stdout=out)
    assert "1 new seal" in out.getvalue()
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "intact" in out.getvalue()
    call_command(
        "purge_audit",
        "--before",
        (timezone.now() - timedelta(days=365)).date().isoformat(),
        stdout=StringIO(),
    )
    assert not AuditEvent.objects.filter(pk=events[0].pk).exists()
    call_command("verify_audit", stdout=StringIO())  # still intact after the purge


def test_verify_command_exits_non_zero_and_names_the_event(db, raw_sql):
    events = record(3)
    seal_all()
    raw_sql("UPDATE audit_auditevent SET action = 'x.y' WHERE id = %s", [events[2].pk])
    err = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_audit", stdout=StringIO(), stderr=err)
    assert exit_info.value.code == 1
    assert f"Event #{events[2].pk} was changed" in err.getvalue()


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "3000-01-01"])
def test_purge_command_refuses_bad_dates(db, value):
    with pytest.raises(CommandError):
        call_command("purge_audit", "--before", value)
