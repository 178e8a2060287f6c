"""What verification reports, field by field, and the edges of sealing and the witness.

test_tamper_evidence.py shows that each attack is caught; this file pins what an auditor
then reads: the kind, the message, the seal and the event of each problem, how many
problems a run reports, the event page's status, the integrity page's overview, and the
boundaries (the margin, the unsealed limit, the chain across a gap in the ids)."""

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.test import TestCase
from django.utils import timezone

from audit.choices import EventType
from audit.models import AuditEvent, AuditPurge, AuditSeal
from audit.seal_services import (
    AuditForgedEventError,
    AuditIntegrityError,
    audit_seal_new_events,
    audit_witness_sync,
    lock_sealing,
)
from audit.sealing import seal_signature
from audit.services import SYSTEM, audit_event_record
from audit.verification import (
    Problem,
    audit_verify,
    event_seal_status,
    integrity_overview,
    seal_problems,
)
from audit.witness import WitnessEntry, witness_entries

pytestmark = [pytest.mark.django_db, pytest.mark.mutation]

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def record(n: int) -> list[AuditEvent]:
    return [
        audit_event_record(event_type=EventType.CONFIG_UPDATED, actor=SYSTEM, action=f"x.e{i}")
        for i in range(n)
    ]


def seal_all(size: int = 5) -> list[AuditSeal]:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return audit_seal_new_events(
            now=timezone.now() + timedelta(seconds=1), margin_seconds=0, max_events=size
        )


def change(raw_sql, event: AuditEvent) -> None:
    raw_sql("UPDATE audit_auditevent SET action = 'x.tampered' WHERE id = %s", [event.pk])


def copy_row_as(raw_sql, source: AuditEvent, new_id: int) -> None:
    """Insert a copy of an event's row under another id (a row the log never wrote)."""
    row = AuditEvent.objects.values().get(pk=source.pk)
    row["id"] = new_id
    columns = ", ".join(row)
    params = [json.dumps(v) if isinstance(v, list | dict) else v for v in row.values()]
    placeholders = ", ".join(["%s"] * len(params))
    raw_sql(f"INSERT INTO audit_auditevent ({columns}) VALUES ({placeholders})", params)  # noqa: S608


# --- each problem, in full ---------------------------------------------------------------


def test_an_altered_seal_is_reported_with_its_message_and_id(raw_sql):
    record(6)
    first, second = seal_all(size=3)
    raw_sql("UPDATE audit_auditseal SET event_count = 2 WHERE id = %s", [second.pk])
    assert audit_verify(limit=5).problems == [
        Problem(
            "seal_altered",
            f"Seal #{second.pk} was altered: its signature does not match.",
            second.pk,
        )
    ]


def test_a_seal_that_does_not_follow_its_predecessor_is_reported_in_full(raw_sql):
    record(9)
    first, second, third = seal_all(size=3)
    raw_sql("DELETE FROM audit_auditevent WHERE id BETWEEN %s AND %s", [4, 6])
    raw_sql("DELETE FROM audit_auditseal WHERE id = %s", [second.pk])
    assert audit_verify().problems == [
        Problem(
            "chain_broken",
            f"Seal #{third.pk} does not follow the seal before it: a seal was removed or inserted.",
            third.pk,
        )
    ]


def test_a_changed_event_is_reported_once_with_its_seal_and_id(raw_sql):
    """Even when more problems may be reported, a changed event is not also 'removed'."""
    events = record(5)
    (seal,) = seal_all()
    change(raw_sql, events[2])
    assert audit_verify(limit=10).problems == [
        Problem(
            "event_changed",
            f"Event #{events[2].pk} was changed after it was written.",
            seal.pk,
            events[2].pk,
        )
    ]


def test_removed_events_are_reported_with_their_seal_up_to_the_limit(raw_sql):
    events = record(5)
    (seal,) = seal_all()
    for event in events[1:4]:
        raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    removed = [
        Problem("event_removed", f"Event #{e.pk} was removed.", seal.pk, e.pk) for e in events[1:4]
    ]
    assert audit_verify().problems == removed[:1]  # one by default
    assert audit_verify(limit=2).problems == removed[:2]
    assert audit_verify(limit=10).problems == removed
    assert seal_problems(seal) == removed[:1]
    assert seal_problems(seal, limit=2) == removed[:2]


def test_changed_events_stop_at_the_limit(raw_sql):
    events = record(5)
    (seal,) = seal_all()
    for event in events[:3]:
        change(raw_sql, event)
    assert [p.event_id for p in seal_problems(seal, limit=2)] == [e.pk for e in events[:2]]
    assert [p.event_id for p in audit_verify(limit=2).problems] == [e.pk for e in events[:2]]


def gap_then_seal(raw_sql) -> tuple[AuditSeal, AuditSeal, int]:
    """Two seals with a hole in the ids between them (a rolled-back insert)."""
    record(3)
    (first,) = seal_all()
    (lost,) = record(1)
    raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [lost.pk])
    record(3)
    (second,) = seal_all()
    assert second.first_event_id == lost.pk + 1
    return first, second, lost.pk


def test_an_event_inserted_between_two_seals_is_reported_with_the_later_seal(raw_sql):
    first, second, hole = gap_then_seal(raw_sql)
    assert audit_verify().intact
    copy_row_as(raw_sql, AuditEvent.objects.get(pk=second.first_event_id), hole)
    expected = Problem(
        "event_inserted", f"Event #{hole} was inserted into sealed history.", second.pk, hole
    )
    assert audit_verify(limit=5).problems == [expected]
    assert seal_problems(second, after_id=first.last_event_id) == [expected]


def test_a_seal_checked_on_its_own_starts_at_its_first_event():
    """Without the previous seal (the event page), the events before the seal's first id
    belong to other seals: they are not reported."""
    record(6)
    first, second = seal_all(size=3)
    assert second.first_event_id == first.last_event_id + 1
    assert seal_problems(second, limit=5) == []


def test_two_seals_with_problems_report_no_more_than_the_limit(raw_sql):
    events = record(6)
    seal_all(size=3)
    for event in (events[0], events[3], events[4]):
        change(raw_sql, event)
    assert [p.event_id for p in audit_verify(limit=2).problems] == [events[0].pk, events[3].pk]
    assert len(audit_verify(limit=10).problems) == 3


def test_events_reordered_is_reported_in_full(raw_sql):
    events = record(4)
    (seal,) = seal_all()
    rows = {
        r["id"]: r for r in AuditEvent.objects.filter(pk__in=[e.pk for e in events[:2]]).values()
    }
    for target, source in ((events[0].pk, events[1].pk), (events[1].pk, events[0].pk)):
        values = dict(rows[source])
        values.pop("id")
        assignments = ", ".join(f"{name} = %s" for name in values)
        params = [json.dumps(v) if isinstance(v, list | dict) else v for v in values.values()]
        raw_sql(f"UPDATE audit_auditevent SET {assignments} WHERE id = %s", [*params, target])  # noqa: S608
    assert audit_verify().problems == [
        Problem(
            "events_reordered",
            f"The events of seal #{seal.pk} (#{seal.first_event_id} to #{seal.last_event_id}) "
            "each match their own hash but are not the events sealed under those ids: events "
            "were swapped, reordered or replaced by copies.",
            seal.pk,
        )
    ]


def test_an_event_inserted_into_a_purged_range_is_reported_in_full(raw_sql):
    from audit.services import audit_purge

    with time_machine.travel(START - timedelta(days=400), tick=False):
        old = record(3)
    record(2)
    seals = seal_all(size=3)
    audit_purge(before=START - timedelta(days=365), actor=SYSTEM)
    copy_row_as(raw_sql, AuditEvent.objects.get(event_type=EventType.AUDIT_PURGED), old[2].pk)
    assert audit_verify(limit=5).problems == [
        Problem(
            "event_inserted",
            f"Event #{old[2].pk} is in a range purged by retention: it was inserted afterwards.",
            seals[0].pk,
            old[2].pk,
        )
    ]


def test_an_event_inserted_into_a_purged_range_is_reported_once(raw_sql):
    """Each purged seal's range is checked from the previous seal's last event on, so an
    event inserted into the first purged range is not reported again for the second."""
    from audit.services import audit_purge

    with time_machine.travel(START - timedelta(days=400), tick=False):
        old = record(6)
    first, second = seal_all(size=3)
    audit_purge(before=START - timedelta(days=365), actor=SYSTEM)
    copy_row_as(raw_sql, AuditEvent.objects.get(event_type=EventType.AUDIT_PURGED), old[1].pk)
    assert [(p.kind, p.seal_id, p.event_id) for p in audit_verify(limit=5).problems] == [
        ("event_inserted", first.pk, old[1].pk)
    ]


def test_problems_found_before_the_chain_are_kept_when_purged_seals_are_walked(witness):
    from audit.services import audit_purge

    with time_machine.travel(START - timedelta(days=400), tick=False):
        record(3)
    seal_all(size=3)
    audit_purge(before=START - timedelta(days=365), actor=SYSTEM)
    witness.unlink()
    report = audit_verify(limit=5)
    assert [p.kind for p in report.problems] == ["witness_missing"]
    assert report.purged_seals == 1


def test_a_forged_purge_record_is_reported_in_full(raw_sql):
    record(6)
    seals = seal_all(size=3)
    raw_sql("DELETE FROM audit_auditevent WHERE id <= %s", [seals[0].last_event_id])
    raw_sql(
        'INSERT INTO audit_auditpurge (through_seal_id, "before", deleted, actor, created_at, '
        "signature) VALUES (%s, %s, 3, 'system', %s, %s)",
        [seals[0].pk, START, START, "0" * 64],
    )
    purge_id = AuditPurge.objects.get().pk
    assert audit_verify().problems == [
        Problem(
            "purge_forged",
            f"Purge record #{purge_id} (through seal #{seals[0].pk}) is not signed with the "
            "audit key: it was forged or altered, perhaps to hide deleted events.",
            seals[0].pk,
        )
    ]


def test_every_genuine_purge_counts_not_just_the_first():
    from audit.services import audit_purge

    with time_machine.travel(START - timedelta(days=400), tick=False):
        record(3)
    with time_machine.travel(START - timedelta(days=200), tick=False):
        record(3)
    record(1)
    seal_all(size=3)
    assert audit_purge(before=START - timedelta(days=365), actor=SYSTEM).deleted == 3
    assert audit_purge(before=START - timedelta(days=100), actor=SYSTEM).deleted == 3
    report = audit_verify(limit=5)
    assert report.intact, report.problems
    assert (report.purged_seals, report.events) == (2, 1)


def test_a_forged_unsealed_event_is_reported_in_full(raw_sql):
    events = record(3)
    change(raw_sql, events[1])
    assert audit_verify(limit=5).problems == [
        Problem(
            "event_forged",
            f"Event #{events[1].pk} (not sealed yet) does not match its keyed hash: it was "
            "forged or changed.",
            event_id=events[1].pk,
        )
    ]


# --- sealing has stopped -------------------------------------------------------------------


def test_sealing_stopped_names_the_oldest_unsealed_event_in_utc(
    settings, clock, server_in_new_york
):
    settings.AUDIT_MAX_UNSEALED_MINUTES = 60
    events = record(2)
    clock.shift(timedelta(minutes=5))
    record(1)
    clock.shift(timedelta(minutes=56))
    report = audit_verify()
    assert report.oldest_unsealed == START
    assert report.problems == [
        Problem(
            "sealing_stopped",
            f"Event #{events[0].pk}, written 2026-11-26 09:00 UTC, is still not sealed more "
            "than 60 minutes later: sealing has stopped (is Celery beat running? "
            "`manage.py seal_audit` seals by hand).",
            event_id=events[0].pk,
        )
    ]


def test_sealing_is_late_only_after_the_limit_has_passed(settings, clock):
    settings.AUDIT_MAX_UNSEALED_MINUTES = 60
    record(1)
    clock.shift(timedelta(minutes=60))
    report = audit_verify()
    assert report.intact and report.oldest_unsealed == START
    clock.shift(timedelta(microseconds=1))
    assert audit_verify().first_problem.kind == "sealing_stopped"


# --- the witness ----------------------------------------------------------------------------


def test_a_lost_witness_is_reported_in_full(witness):
    record(6)
    seal_all(size=3)
    witness.unlink()
    assert audit_verify().problems == [
        Problem(
            "witness_missing",
            f"The witness {witness} holds no seal but the database has 2: the witness was "
            "lost or emptied (if it was only just configured, `manage.py seal_audit` writes it).",
        )
    ]


def test_without_a_witness_the_report_says_what_it_cannot_see(settings):
    settings.AUDIT_WITNESS_PATH = ""
    record(2)
    seal_all()
    report = audit_verify()
    assert report.intact and report.witness == ""
    assert report.warnings == [
        "No witness is configured (AUDIT_WITNESS_PATH): if the newest seals and the events "
        "they cover were deleted, nothing would show it."
    ]


def test_the_report_names_the_witness_and_the_seals_not_in_it_yet(witness):
    record(3)
    (first,) = seal_all()
    record(3)
    with TestCase.captureOnCommitCallbacks(execute=False):
        audit_seal_new_events(now=timezone.now() + timedelta(seconds=1), margin_seconds=0)
    report = audit_verify()
    assert report.intact
    assert (report.witness, report.witnessed) == (str(witness), 1)
    assert report.warnings == [
        f"1 seal(s) after seal #{first.pk} are not in the witness yet; the next sealing run "
        "writes them."
    ]


def test_sealing_refuses_when_the_witnessed_head_is_missing_from_the_database(witness, raw_sql):
    record(3)
    (seal,) = seal_all()
    raw_sql("DELETE FROM audit_auditseal WHERE id = %s", [seal.pk])
    record(2)
    with pytest.raises(AuditIntegrityError) as refused:
        seal_all()
    assert str(refused.value) == (
        f"Seal #{seal.pk}, the last one written to the witness, is missing from the database: "
        "sealing refused until the log is investigated (`manage.py verify_audit`)."
    )


def test_a_seal_missing_from_the_database_is_reported_with_when_it_was_sealed(witness, raw_sql):
    record(3)
    (seal,) = seal_all()
    raw_sql("DELETE FROM audit_auditseal WHERE id = %s", [seal.pk])
    assert audit_verify().problems == [
        Problem(
            "seal_missing",
            f"Seal #{seal.pk} (events up to #{seal.last_event_id}, sealed 2026-11-26 09:00:01 "
            "UTC) is in the witness but missing from the database: it was deleted, with or "
            "without the events it covered.",
            seal.pk,
        )
    ]


def test_a_replaced_seal_is_reported_with_when_it_was_witnessed(witness, raw_sql):
    record(3)
    (seal,) = seal_all()
    raw_sql("UPDATE audit_auditseal SET seal_hash = %s WHERE id = %s", ["0" * 64, seal.pk])
    assert audit_verify().problems[0] == Problem(
        "seal_altered",
        f"Seal #{seal.pk} in the database differs from the one written to the witness "
        "(2026-11-26 09:00:01 UTC): it was replaced.",
        seal.pk,
    )


def test_witness_entries_are_written_in_utc(witness, server_in_new_york):
    record(2)
    (seal,) = seal_all()
    assert witness_entries(witness) == [
        WitnessEntry(
            seal_id=seal.pk,
            last_event_id=seal.last_event_id,
            seal_hash=seal.seal_hash,
            created_at="2026-11-26T09:00:01+00:00",
        )
    ]


def test_without_a_witness_syncing_writes_nothing(settings):
    settings.AUDIT_WITNESS_PATH = ""
    record(2)
    seal_all()
    assert audit_witness_sync() == 0


def test_syncing_reports_how_many_seals_it_wrote(witness):
    record(6)
    with TestCase.captureOnCommitCallbacks(execute=False):
        audit_seal_new_events(now=timezone.now() + timedelta(seconds=1), margin_seconds=0)
        audit_seal_new_events(now=timezone.now() + timedelta(seconds=1), margin_seconds=0)
    assert audit_witness_sync() == 1  # one seal of 6 events
    assert audit_witness_sync() == 0


def relink_signed(raw_sql, seal: AuditSeal) -> None:
    """Point a seal at another predecessor and sign it again with the key ("k"): someone
    holding the key, rewriting history."""
    from audit.verification import _body

    body = replace(_body(seal), previous_hash="f" * 64)
    seal_hash = body.hash()
    raw_sql(
        "UPDATE audit_auditseal SET previous_hash = %s, seal_hash = %s, signature = %s "
        "WHERE id = %s",
        [body.previous_hash, seal_hash, seal_signature(seal_hash, "k"), seal.pk],
    )


def test_a_signed_seal_that_does_not_follow_the_witness_is_not_witnessed(
    witness, raw_sql, settings
):
    """Signed with the key, yet not chained to the last witnessed seal: refused, and the
    seals before it that do follow are still written."""
    settings.AUDIT_SIGNING_KEY = "k"
    record(3)
    (first,) = seal_all()
    record(6)
    with TestCase.captureOnCommitCallbacks(execute=False):
        second, third = audit_seal_new_events(
            now=timezone.now() + timedelta(seconds=1), margin_seconds=0, max_events=3
        )
    relink_signed(raw_sql, third)
    with pytest.raises(AuditIntegrityError) as refused:
        audit_witness_sync()
    assert str(refused.value) == (
        f"Seal #{third.pk} is not signed or does not follow the last witnessed seal; it was "
        "not written to the witness (`manage.py verify_audit`)."
    )
    assert [e.seal_id for e in witness_entries(witness)] == [first.pk, second.pk]


def test_a_signed_first_seal_that_does_not_follow_the_witness_head_is_refused(
    witness, raw_sql, settings
):
    settings.AUDIT_SIGNING_KEY = "k"
    record(3)
    (first,) = seal_all()
    record(3)
    with TestCase.captureOnCommitCallbacks(execute=False):
        (second,) = audit_seal_new_events(
            now=timezone.now() + timedelta(seconds=1), margin_seconds=0
        )
    relink_signed(raw_sql, second)
    with pytest.raises(AuditIntegrityError, match=f"Seal #{second.pk} is not signed"):
        audit_witness_sync()
    assert [e.seal_id for e in witness_entries(witness)] == [first.pk]


def test_an_unsigned_seal_that_follows_is_not_witnessed(witness, raw_sql):
    record(3)
    (first,) = seal_all()
    record(3)
    with TestCase.captureOnCommitCallbacks(execute=False):
        (second,) = audit_seal_new_events(
            now=timezone.now() + timedelta(seconds=1), margin_seconds=0
        )
    raw_sql("UPDATE audit_auditseal SET signature = %s WHERE id = %s", ["0" * 64, second.pk])
    with pytest.raises(AuditIntegrityError, match=f"Seal #{second.pk} is not signed"):
        audit_witness_sync()


def test_sealing_refuses_when_the_witnessed_head_differs_in_the_database(witness, raw_sql):
    record(3)
    (seal,) = seal_all()
    raw_sql("UPDATE audit_auditseal SET seal_hash = %s WHERE id = %s", ["0" * 64, seal.pk])
    record(2)
    with pytest.raises(AuditIntegrityError) as refused:
        seal_all()
    assert str(refused.value) == (
        f"Seal #{seal.pk}, the last one written to the witness, differs in the database: "
        "sealing refused until the log is investigated (`manage.py verify_audit`)."
    )
    assert AuditSeal.objects.count() == 1


def test_sealing_refuses_when_the_witness_cannot_be_read(witness):
    record(3)
    seal_all()
    witness.write_text("not json\n")
    record(2)
    with pytest.raises(AuditIntegrityError) as refused:
        seal_all()
    assert str(refused.value).startswith(f"The witness {witness} cannot be read (")
    assert str(refused.value).endswith("): sealing refused.")
    assert AuditSeal.objects.count() == 1


# --- sealing's edges ------------------------------------------------------------------------


def test_the_margin_comes_from_the_settings_by_default(settings, clock):
    settings.AUDIT_SEALING = {**settings.AUDIT_SEALING, "MARGIN_SECONDS": 30}
    record(2)
    clock.shift(timedelta(seconds=29))
    assert audit_seal_new_events() == []
    clock.shift(timedelta(seconds=2))
    assert len(audit_seal_new_events()) == 1


def test_an_event_exactly_at_the_margin_waits(clock):
    record(1)
    assert audit_seal_new_events(now=START + timedelta(seconds=60), margin_seconds=60) == []
    moment = START + timedelta(seconds=60, microseconds=1)
    assert len(audit_seal_new_events(now=moment, margin_seconds=60)) == 1


def test_the_forged_event_error_says_how_far_sealing_went():
    nothing = AuditForgedEventError(7, [])
    assert str(nothing) == (
        "Event #7 does not match its keyed hash: it was forged or changed. Sealing sealed "
        "nothing and stopped before it; run `manage.py verify_audit`."
    )
    seals = [SimpleNamespace(last_event_id=n) for n in (3, 4, 6)]
    some = AuditForgedEventError(7, seals)
    assert str(some) == (
        "Event #7 does not match its keyed hash: it was forged or changed. Sealing sealed up "
        "to event #6 and stopped before it; run `manage.py verify_audit`."
    )
    assert (some.event_id, some.seals) == (7, seals)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_sealer_at_a_time_on_postgresql():
    """The advisory lock that serialises sealing and purging is held until commit."""
    import psycopg
    from django.db import transaction

    settings_dict = connection.settings_dict
    other = psycopg.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        password=settings_dict["PASSWORD"] or None,
        autocommit=True,
    )
    try:
        query = "SELECT pg_try_advisory_lock(hashtext('agc.audit_sealing'))"
        with transaction.atomic():
            lock_sealing()
            assert other.execute(query).fetchone()[0] is False
        assert other.execute(query).fetchone()[0] is True
    finally:
        other.close()


# --- the event page and the integrity page ----------------------------------------------------


def test_event_status_of_an_intact_unsealed_and_a_forged_unsealed_event(raw_sql):
    events = record(3)
    assert event_seal_status(events[1]) == event_seal_status(events[1]).__class__(None, None)
    change(raw_sql, events[1])
    status = event_seal_status(events[1])
    assert status.seal is None
    assert status.problem == Problem(
        "event_forged",
        f"Event #{events[1].pk} does not match its keyed hash: it was forged or changed.",
        event_id=events[1].pk,
    )
    assert event_seal_status(events[0]).problem is None  # only the event itself counts
    assert event_seal_status(events[2]).problem is None


def test_event_status_of_an_event_whose_row_is_gone_checks_nothing_else(raw_sql):
    """The event page of a removed, unsealed event: nothing to check, and the next event
    (forged) is not mistaken for it."""
    events = record(3)
    raw_sql("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    change(raw_sql, events[2])
    assert event_seal_status(events[1]) == event_seal_status(events[1]).__class__(None, None)


def test_event_status_of_a_row_inserted_between_two_seals_has_no_seal(raw_sql):
    first, second, hole = gap_then_seal(raw_sql)
    copy_row_as(raw_sql, AuditEvent.objects.get(pk=second.first_event_id), hole)
    assert event_seal_status(AuditEvent.objects.get(pk=hole)).seal is None


def test_event_status_finds_the_seal_that_covers_the_event():
    events = record(9)
    seals = seal_all(size=3)
    for index, event in enumerate(events):
        status = event_seal_status(event)
        assert status.seal == seals[index // 3]
        assert status.verified


def test_event_status_checks_the_seal_chain_and_the_gap_before_it(raw_sql):
    first, second, hole = gap_then_seal(raw_sql)
    event = AuditEvent.objects.get(pk=second.last_event_id)
    assert event_seal_status(event).verified
    copy_row_as(raw_sql, event, hole)
    assert event_seal_status(event).problem == Problem(
        "event_inserted", f"Event #{hole} was inserted into sealed history.", second.pk, hole
    )


def test_event_status_names_a_seal_that_no_longer_follows_its_predecessor(raw_sql):
    record(6)
    first, second = seal_all(size=3)
    raw_sql("UPDATE audit_auditseal SET seal_hash = %s WHERE id = %s", ["0" * 64, first.pk])
    event = AuditEvent.objects.get(pk=second.first_event_id)
    assert event_seal_status(event).problem == Problem(
        "chain_broken",
        f"Seal #{second.pk} does not follow the seal before it: a seal was removed or inserted.",
        second.pk,
    )


def test_the_integrity_overview_counts_what_the_page_shows(witness, clock):
    record(4)
    seals = seal_all(size=2)
    clock.shift(timedelta(minutes=3))
    record(3)
    overview = integrity_overview()
    assert overview.seal_count == 2
    assert overview.last_seal == seals[-1]
    assert overview.unsealed == 3
    assert overview.oldest_unsealed == START + timedelta(minutes=3)
    assert overview.witness == str(witness)
    assert overview.witness_head.seal_id == seals[-1].pk
    assert overview.witness_error == ""


def test_the_integrity_overview_without_seals_counts_every_event(settings):
    settings.AUDIT_WITNESS_PATH = ""
    record(2)
    overview = integrity_overview()
    assert (overview.seal_count, overview.last_seal, overview.unsealed) == (0, None, 2)
    assert (overview.witness, overview.witness_head, overview.witness_error) == ("", None, "")


def test_the_integrity_overview_says_why_the_witness_cannot_be_read(witness):
    witness.write_text("not json\n")
    overview = integrity_overview()
    assert overview.witness_head is None
    assert overview.witness_error.startswith("Line 1")
