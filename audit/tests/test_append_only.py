"""The audit log is append-only: in the ORM everywhere, and in PostgreSQL itself."""

import pytest
from django.db import DatabaseError, connection, transaction

from audit.choices import EventType
from audit.models import AppendOnlyError, AuditEvent
from audit.services import SYSTEM, audit_event_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return audit_event_record(event_type=EventType.CONFIG_CREATED, actor=SYSTEM, action="x.y")


def test_saving_an_existing_event_is_refused(event):
    event.action = "x.z"
    with pytest.raises(AppendOnlyError):
        event.save()


def test_deleting_an_event_is_refused(event):
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_queryset_update_and_delete_are_refused(event):
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x.z")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "x.y"


def test_content_hash_covers_the_record_and_survives_a_round_trip(event):
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.content_hash == stored.compute_content_hash()
    stored.on_behalf_of = "someone@else.example"
    assert stored.content_hash != stored.compute_content_hash()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditevent SET action = 'tampered'",
        "DELETE FROM audit_auditevent",
    ],
)
def test_postgresql_trigger_refuses_raw_sql_changes(event, sql):
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.get(pk=event.pk).action == "x.y"


@pytest.fixture
def truncate_guard(transactional_db):
    """The TRUNCATE guard, on for this test only (see conftest.django_db_setup)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_truncate")
    yield
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_truncate")


@pytest.mark.postgres
def test_postgresql_trigger_refuses_truncate(truncate_guard):
    audit_event_record(event_type=EventType.CONFIG_CREATED, actor=SYSTEM, action="x.y")
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute("TRUNCATE audit_auditevent CASCADE")
    assert AuditEvent.objects.count() == 1


@pytest.mark.postgres
def test_postgresql_trigger_allows_inserts(event):
    audit_event_record(event_type=EventType.CONFIG_UPDATED, actor=SYSTEM)
    assert AuditEvent.objects.count() == 2
