"""The periodic work, as Celery beat runs it: every scheduled name is a registered task, and
the sealing and rollup tasks do their work against the real code (inline, with task
exceptions propagated: CELERY_TASK_EAGER_PROPAGATES is on in the tests)."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from audit.insights.tasks import refresh_rollups
from audit.models import AuditEvent, AuditSeal, DecisionRollup
from audit.seal_services import AuditForgedEventError
from audit.tasks import seal_audit_events
from audit.verification import audit_verify
from governance.celery import app


def registered_tasks() -> set[str]:
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery
    return set(app.tasks)


def test_every_task_in_the_beat_schedule_is_a_registered_task():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule, "the beat schedule is empty"
    registered = registered_tasks()
    missing = {
        name: entry["task"] for name, entry in schedule.items() if entry["task"] not in registered
    }
    assert missing == {}, f"beat would send tasks no worker knows: {missing}"


def test_the_celery_app_reads_the_beat_schedule_and_propagates_in_tests():
    assert app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE
    assert app.conf.task_eager_propagates is True
    assert app.conf.task_always_eager is True


def test_sealing_and_rollups_are_on_the_schedule():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"audit.tasks.seal_audit_events", "audit.insights.tasks.refresh_rollups"} <= tasks


@pytest.mark.django_db
def test_the_sealing_task_seals_the_log_once_the_margin_has_passed(decide):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        decide()
        decide(data_sources=["crm:contact/1"])
        events = AuditEvent.objects.count()
        assert events >= 2
        assert seal_audit_events.delay().get() == 0  # too young: waits for the margin
        clock.move_to(start + timedelta(seconds=settings.AUDIT_SEALING["MARGIN_SECONDS"] + 1))
        assert seal_audit_events.delay().get() >= 1
        report = audit_verify()
        assert report.intact
        assert (report.events, report.unsealed) == (events, 0)
        assert seal_audit_events.delay().get() == 0  # idempotent
        assert AuditSeal.objects.count() >= 1


@pytest.mark.django_db
def test_a_failing_sealing_task_fails_loudly(decide):
    """A forged event stops the sealing: the task raises (and here fails the caller)."""
    from django.db import connection

    decide()
    event = AuditEvent.objects.order_by("id").first()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE audit_auditevent SET action = %s WHERE id = %s", ["x.forged", event.pk]
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
    later = timezone.now() + timedelta(hours=1)
    with time_machine.travel(later, tick=False), pytest.raises(AuditForgedEventError):
        seal_audit_events.delay()
    assert not AuditSeal.objects.exists()


@pytest.mark.django_db
def test_the_rollup_task_counts_the_days_and_refreshes_recommendations(decide):
    decide()
    decide()
    decide(data_sources=["crm:contact/1"])
    assert refresh_rollups.delay().get() >= 1
    counted = {
        (row.category, row.action, row.reason): row.count for row in DecisionRollup.objects.all()
    }
    allowed = [n for (cat, action, _), n in counted.items() if action == "crm.read_record"]
    assert sum(allowed) == 3
    assert sum(counted.values()) == 3
    refresh_rollups.delay()  # again: the same counts, not twice as many
    assert sum(DecisionRollup.objects.values_list("count", flat=True)) == 3
