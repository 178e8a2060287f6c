"""Tamper evidence without blind spots: each attack on the log is detected and named.

The attacker writes to the database directly: raw SQL on SQLite, and on PostgreSQL raw SQL
with the triggers off (a superuser's `session_replication_role = replica`, the `raw_sql`
fixture), since the triggers refuse it otherwise. The witness file is the one thing out of
the attacker's reach."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.utils import timezone

from audit.choices import EventType
from audit.models import HASH_VERSION, AuditEvent, AuditSeal
from audit.seal_services import (
    AuditForgedEventError,
    AuditIntegrityError,
    audit_seal_new_events,
    audit_witness_sync,
)
from audit.sealing import event_content_hash
from audit.services import SYSTEM, audit_event_record, audit_purge
from audit.verification import audit_verify, event_seal_status
from audit.witness import witness_entries

pytestmark = [pytest.mark.django_db, pytest.mark.mutation]

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # a Thursday


@pytest.fixture(autouse=True)
def clock():
    """History is built at a fixed moment; tests move the clock on explicitly."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def record(n: int, **fields) -> list[AuditEvent]:
    return [
        audit_event_record(
            event_type=EventType.CONFIG_UPDATED, actor=SYSTEM, action=f"x.e{i}", **fields
        )
        for i in range(n)
    ]


def seal_all(size: int = 5) -> list[AuditSeal]:
    """Seal everything (a second after the frozen clock, so that even events written
    just now are sealed), then run what waits for the commit (the witness write)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return audit_seal_new_events(now=later(), margin_seconds=0, max_events=size)


def later():
    return timezone.now() + timedelta(seconds=1)


def first_problem():
    return audit_verify().first_problem


def overwrite(raw_sql, event_id: int, values: dict) -> None:
    """Write `values` over an event's columns, as an attacker with SQL access would."""
    columns = [name for name in values if name != "id"]
    params = [
        json.dumps(values[n]) if isinstance(values[n], list | dict) else values[n] for n in columns
    ]
    assignments = ", ".join(f"{name} = %s" for name in columns)
    raw_sql(f"UPDATE audit_auditevent SET {assignments} WHERE id = %s", [*params, event_id])  # noqa: S608


# --- the content hash covers every column --------------------------------------------


def test_every_column_of_an_event_is_hashed_or_documented_as_not_evidence():
    columns = {field.attname for field in AuditEvent._meta.concrete_fields}
    hashed = set(AuditEvent.HASHED_FIELDS)
    assert columns == hashed | set(AuditEvent.NOT_HASHED)
    assert not hashed & set(AuditEvent.NOT_HASHED)


def _changed(value):
    """A different value of the same type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    if isinstance(value, list | dict):
        return {"tampered": True}
    if value is None:
        return "x"
    return ("Y" if value[:1] == "X" else "X") + value[1:]


@pytest.fixture
def full_event(make_pending, approver, policy):
    """An event with a value in every column (a user actor, a runtime, a decision, a
    configured object, before/after and detail)."""
    decision = make_pending("send").decision
    return audit_event_record(
        event_type=EventType.DECISION_APPROVED,
        actor=approver,
        decision=decision,
        actor_runtime=decision.runtime,
        target=policy.profile,
        changes={"before": {"a": 1}, "after": {"a": 2}},
        detail={"note": "n"},
        outcome="approved",
        approval="human:alex@corp.example",
        correlation_id="c-1",
    )


@pytest.mark.parametrize("column", AuditEvent.HASHED_FIELDS)
def test_a_change_to_any_hashed_column_of_an_unsealed_event_is_named(full_event, raw_sql, column):
    """Including actor_user_id and recorded_at, which the issue feared were outside."""
    assert audit_verify().intact
    stored = AuditEvent.objects.filter(pk=full_event.pk).values(column).get()[column]
    if column in ("decision_id", "actor_user_id", "actor_runtime_id"):
        tampered = None  # a foreign key: unlink it (another id would need another row)
    elif column == "event_type":
        tampered = EventType.DECISION_REJECTED
    else:
        tampered = _changed(stored)
    overwrite(raw_sql, full_event.pk, {column: tampered})
    problem = first_problem()
    assert (problem.kind, problem.event_id) == ("event_forged", full_event.pk)


def test_new_events_carry_the_current_hash_version():
    (event,) = record(1)
    assert AuditEvent.objects.get(pk=event.pk).hash_version == HASH_VERSION == 2


def test_events_hashed_before_version_2_still_verify_and_seal(raw_sql, settings):
    """Events written before migration 0010 keep their version 1 hash (no recorded_at)."""
    (event,) = record(1)
    stored = AuditEvent.objects.get(pk=event.pk)
    v1 = {name: getattr(stored, name) for name in AuditEvent.HASHED_FIELDS_V1}
    legacy_hash = event_content_hash(v1, settings.AUDIT_SIGNING_KEY)
    overwrite(raw_sql, event.pk, {"hash_version": 1, "content_hash": legacy_hash})
    assert audit_verify().intact
    assert len(seal_all()) == 1
    assert audit_verify().intact


def test_an_event_claiming_an_unknown_hash_version_is_named(raw_sql):
    (event,) = record(1)
    overwrite(raw_sql, event.pk, {"hash_version": 7})
    assert (first_problem().kind, first_problem().event_id) == ("event_forged", event.pk)


# --- attacks on sealed events ---------------------------------------------------------


def test_swapping_the_contents_of_two_sealed_events_is_named(raw_sql):
    """Each row still matches its own hash, but not the id it was sealed under."""
    events = record(10)
    seals = seal_all()
    rows = {
        row["id"]: row
        for row in AuditEvent.objects.filter(pk__in=[events[6].pk, events[8].pk]).values()
    }
    overwrite(raw_sql, events[6].pk, rows[events[8].pk])
    overwrite(raw_sql, events[8].pk, rows[events[6].pk])
    problem = first_problem()
    assert (problem.kind, problem.seal_id) == ("events_reordered", seals[1].pk)
    assert f"#{events[5].pk} to #{events[9].pk}" in problem.message


def test_an_event_inserted_into_a_purged_range_is_named(raw_sql):
    with time_machine.travel(START - timedelta(days=400), tick=False):
        old = record(3)
    seal_all()
    audit_purge(before=START - timedelta(days=365), actor=SYSTEM)
    # The purge itself wrote an event: copy its row under a purged id.
    copy = AuditEvent.objects.values().get(event_type=EventType.AUDIT_PURGED)
    copy["id"] = old[1].pk
    columns = ", ".join(copy)
    params = [json.dumps(v) if isinstance(v, list | dict) else v for v in copy.values()]
    placeholders = ", ".join(["%s"] * len(params))
    raw_sql(f"INSERT INTO audit_auditevent ({columns}) VALUES ({placeholders})", params)  # noqa: S608
    problem = first_problem()
    assert (problem.kind, problem.event_id) == ("event_inserted", old[1].pk)


def test_a_forged_purge_record_hiding_deleted_events_is_named(raw_sql):
    """Deleting sealed events and adding a purge record for them is not a purge."""
    record(6)
    seals = seal_all(size=3)
    last = seals[0].last_event_id
    raw_sql("DELETE FROM audit_auditevent WHERE id <= %s", [last])
    raw_sql(
        'INSERT INTO audit_auditpurge (through_seal_id, "before", deleted, actor, created_at, '
        "signature) VALUES (%s, %s, 3, 'system', %s, %s)",
        [seals[0].pk, START, START, "0" * 64],
    )
    problem = first_problem()
    assert (problem.kind, problem.seal_id) == ("purge_forged", seals[0].pk)
    kinds = {p.kind for p in audit_verify(limit=10).problems}
    assert "event_removed" in kinds  # and the events count as removed, not purged


def test_a_genuine_purge_record_verifies():
    with time_machine.travel(START - timedelta(days=400), tick=False):
        record(3)
    seal_all()
    purge = audit_purge(before=START - timedelta(days=365), actor=SYSTEM)
    assert len(purge.signature) == 64
    assert audit_verify().intact


# --- seals, the tail and the witness --------------------------------------------------


def test_each_seal_is_written_to_the_witness(witness):
    record(7)
    seals = seal_all()
    lines = [json.loads(line) for line in witness.read_text().splitlines()]
    assert lines == [
        {
            "seal_id": seal.pk,
            "last_event_id": seal.last_event_id,
            "seal_hash": seal.seal_hash,
            "created_at": "2026-11-26T09:00:01+00:00",
        }
        for seal in seals
    ]
    report = audit_verify()
    assert report.intact and report.witnessed == 2 and not report.warnings


def test_the_witness_is_only_written_once_the_seals_are_committed(witness):
    record(2)
    with TestCase.captureOnCommitCallbacks(execute=False):
        audit_seal_new_events(now=later(), margin_seconds=0)
    assert not witness.exists()  # rolled back: nothing witnessed that the database lacks


def test_deleting_the_newest_seal_is_named(witness, raw_sql):
    record(12)
    seals = seal_all()
    raw_sql("DELETE FROM audit_auditseal WHERE id = %s", [seals[-1].pk])
    problem = first_problem()
    assert (problem.kind, problem.seal_id) == ("seal_missing", seals[-1].pk)
    assert f"events up to #{seals[-1].last_event_id}" in problem.message


def test_truncating_the_tail_with_its_seal_is_named(witness, raw_sql):
    events = record(12)
    seals = seal_all()
    raw_sql("DELETE FROM audit_auditevent WHERE id >= %s", [seals[-1].first_event_id])
    raw_sql("DELETE FROM audit_auditseal WHERE id = %s", [seals[-1].pk])
    assert not AuditEvent.objects.filter(pk=events[-1].pk).exists()
    problem = first_problem()
    assert (problem.kind, problem.seal_id) == ("seal_missing", seals[-1].pk)


def test_deleting_all_seals_names_the_first(witness, raw_sql):
    record(12)
    seals = seal_all()
    raw_sql("DELETE FROM audit_auditseal")
    problem = first_problem()
    assert (problem.kind, problem.seal_id) == ("seal_missing", seals[0].pk)


def test_a_replaced_seal_is_named_from_the_witness(witness, raw_sql):
    record(12)
    seals = seal_all()
    raw_sql("UPDATE audit_auditseal SET seal_hash = %s WHERE id = %s", ["f" * 64, seals[1].pk])
    problem = first_problem()
    assert (problem.kind, problem.seal_id) == ("seal_altered", seals[1].pk)
    assert "witness" in problem.message


def test_without_a_witness_verification_says_what_it_cannot_see():
    record(3)
    seal_all()
    report = audit_verify()
    assert report.intact
    assert "No witness is configured" in report.warnings[0]


def test_sealing_refuses_to_continue_a_chain_whose_witnessed_head_is_gone(witness, raw_sql):
    """Else a new chain, sealed over deleted history, would verify again."""
    record(6)
    seals = seal_all()
    raw_sql("DELETE FROM audit_auditseal")
    record(2)
    with pytest.raises(AuditIntegrityError, match=f"Seal #{seals[-1].pk}.*missing"):
        seal_all()
    assert not AuditSeal.objects.exists()


def test_a_lost_witness_is_named_and_seal_audit_rewrites_it(witness, settings):
    record(3)
    seal_all()
    witness.unlink()
    assert first_problem().kind == "witness_missing"
    call_command("seal_audit", "--margin-seconds", "0", stdout=StringIO())
    assert len(witness_entries(witness)) == 1
    assert audit_verify().intact


def test_seals_missed_by_the_witness_are_caught_up_at_the_next_run(witness):
    record(3)
    seal_all()
    record(3)
    with TestCase.captureOnCommitCallbacks(execute=False):
        audit_seal_new_events(now=later(), margin_seconds=0)  # committed, but the write was lost
    report = audit_verify()
    assert report.intact and "not in the witness yet" in report.warnings[0]
    record(2)
    seal_all()
    assert [e.seal_id for e in witness_entries(witness)] == list(
        AuditSeal.objects.values_list("id", flat=True)
    )


def test_a_witness_that_cannot_be_written_fails_the_sealing_run_loudly(settings, tmp_path):
    settings.AUDIT_WITNESS_PATH = str(tmp_path / "no-such-directory" / "witness.jsonl")
    record(2)
    with pytest.raises(AuditIntegrityError, match="Cannot write the witness"):
        seal_all()


def test_an_altered_seal_is_never_witnessed(witness, raw_sql):
    record(6)
    seals = seal_all(size=3)
    with witness.open("w") as handle:  # as if the write of the second seal had been lost
        handle.write(witness_entries_line(seals[0]))
    raw_sql("UPDATE audit_auditseal SET previous_hash = %s WHERE id = %s", ["0" * 64, seals[1].pk])
    with pytest.raises(AuditIntegrityError, match="does not follow the last witnessed seal"):
        audit_witness_sync()
    assert [e.seal_id for e in witness_entries(witness)] == [seals[0].pk]


def witness_entries_line(seal) -> str:
    return (
        json.dumps(
            {
                "seal_id": seal.pk,
                "last_event_id": seal.last_event_id,
                "seal_hash": seal.seal_hash,
                "created_at": seal.created_at.isoformat(),
            }
        )
        + "\n"
    )


def test_an_unreadable_witness_is_named(witness):
    record(2)
    seal_all()
    with witness.open("a") as handle:
        handle.write("not json\n")
    problem = first_problem()
    assert problem.kind == "witness_unreadable" and "Line 2" in problem.message


# --- events after the last seal -------------------------------------------------------


def test_a_forged_unsealed_event_is_named(raw_sql):
    events = record(6)
    seal_all()
    later = record(3)
    overwrite(raw_sql, later[1].pk, {"on_behalf_of": "mallory@evil.example"})
    problem = first_problem()
    assert (problem.kind, problem.event_id) == ("event_forged", later[1].pk)
    assert events  # the sealed ones are fine


def test_an_inserted_unsealed_row_with_a_made_up_hash_is_named(raw_sql):
    (event,) = record(1)
    values = AuditEvent.objects.filter(pk=event.pk).values().get()
    values.update(id=event.pk + 100, action="x.forged", content_hash="0" * 64)
    columns = ", ".join(values)
    params = [json.dumps(v) if isinstance(v, list | dict) else v for v in values.values()]
    placeholders = ", ".join(["%s"] * len(params))
    raw_sql(f"INSERT INTO audit_auditevent ({columns}) VALUES ({placeholders})", params)  # noqa: S608
    problem = first_problem()
    assert (problem.kind, problem.event_id) == ("event_forged", event.pk + 100)


def test_sealing_stops_before_a_forged_event_and_names_it(raw_sql):
    events = record(8)
    overwrite(raw_sql, events[5].pk, {"action": "x.forged"})
    with pytest.raises(AuditForgedEventError, match=f"Event #{events[5].pk}") as error:
        seal_all(size=3)
    assert error.value.event_id == events[5].pk
    assert AuditSeal.objects.order_by("-id").first().last_event_id == events[4].pk
    assert [s.last_event_id for s in error.value.seals] == [events[2].pk, events[4].pk]


def test_seal_audit_command_fails_naming_the_forged_event(raw_sql, clock):
    events = record(3)
    overwrite(raw_sql, events[0].pk, {"action": "x.forged"})
    clock.shift(timedelta(seconds=1))
    with pytest.raises(CommandError, match=f"Event #{events[0].pk} does not match"):
        call_command("seal_audit", "--margin-seconds", "0", stdout=StringIO())
    assert not AuditSeal.objects.exists()


def test_verification_fails_when_sealing_has_stopped(clock, settings):
    settings.AUDIT_MAX_UNSEALED_MINUTES = 60
    events = record(2)
    clock.shift(timedelta(minutes=59))
    assert audit_verify().intact
    clock.shift(timedelta(minutes=2))
    problem = first_problem()
    assert (problem.kind, problem.event_id) == ("sealing_stopped", events[0].pk)
    assert "sealing has stopped" in problem.message
    seal_all()
    assert audit_verify().intact


def test_event_page_names_a_forged_unsealed_event(client, auditor, raw_sql):
    (event,) = record(1)
    overwrite(raw_sql, event.pk, {"action": "x.forged"})
    assert event_seal_status(AuditEvent.objects.get(pk=event.pk)).problem.kind == "event_forged"
    client.force_login(auditor)
    content = client.get(f"/audit/events/{event.pk}/").content.decode()
    assert "does not verify" in content and "forged" in content


# --- the integrity page ---------------------------------------------------------------


def verify_page(client) -> str:
    return client.post("/audit/integrity/", follow=True).content.decode()


def test_integrity_page_names_a_seal_missing_from_the_witness(client, auditor, witness, raw_sql):
    record(6)
    seals = seal_all()
    raw_sql("DELETE FROM audit_auditseal WHERE id = %s", [seals[-1].pk])
    client.force_login(auditor)
    content = verify_page(client)
    assert f"Seal #{seals[-1].pk} (events up to #{seals[-1].last_event_id}" in content
    assert "missing from the database" in content


def test_integrity_page_names_a_forged_unsealed_event(client, auditor, raw_sql):
    (event,) = record(1)
    overwrite(raw_sql, event.pk, {"action": "x.forged"})
    client.force_login(auditor)
    content = verify_page(client)
    assert f"Event #{event.pk} (not sealed yet) does not match its keyed hash" in content


def test_integrity_page_says_when_sealing_has_stopped(client, auditor, clock):
    (event,) = record(1)
    clock.shift(timedelta(hours=3))
    client.force_login(auditor)
    assert "Sealing has stopped" in client.get("/audit/integrity/").content.decode()
    assert f"Event #{event.pk}, written 2026-11-26 09:00 UTC" in verify_page(client)


def test_integrity_page_shows_the_witness_or_its_absence(client, auditor, witness, settings):
    record(2)
    (seal,) = seal_all()
    client.force_login(auditor)
    content = client.get("/audit/integrity/").content.decode()
    assert f"the last seal written there is #{seal.pk}" in content
    settings.AUDIT_WITNESS_PATH = ""
    assert "No witness is configured" in client.get("/audit/integrity/").content.decode()
    assert "No witness is configured" in verify_page(client)


def test_verify_command_prints_the_warnings_and_still_passes():
    record(1)
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "Warning: No witness is configured" in out.getvalue()
    assert "intact" in out.getvalue()
