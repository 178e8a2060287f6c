"""PostgreSQL: only the purge role may delete audit events, and only sealed ones.

Each test creates its own login roles, as an operator would (README, "Database roles"):
an application-like role with ordinary rights on every table, and a purge login that is a
member of agc_audit_purger. They connect with psycopg, so the data must be committed
(transactional tests)."""

import uuid
from datetime import timedelta
from io import StringIO

import psycopg
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from audit.choices import EventType
from audit.models import AuditEvent, AuditPurge
from audit.seal_services import audit_seal_new_events
from audit.services import SYSTEM, AuditPurgeNotPermitted, audit_event_record, audit_purge
from audit.verification import audit_verify

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def superuser_sql(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.fixture
def make_role():
    """Create login roles for this test (dropped afterwards); returns their URLs."""
    created = []

    def make(grants: str) -> str:
        name = f"agc_test_{uuid.uuid4().hex[:10]}"
        created.append(name)
        superuser_sql(f"CREATE ROLE {name} LOGIN")
        superuser_sql(grants.format(role=name))
        db = connection.settings_dict
        return f"postgresql://{name}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"

    yield make
    for name in created:
        superuser_sql(f"DROP OWNED BY {name}; DROP ROLE {name}")


@pytest.fixture
def app_role(make_role):
    """Like the application's role: every ordinary right on every table, no more."""
    return make_role(
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};"
        "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"
    )


@pytest.fixture
def purge_login(make_role):
    """The operator's purge login: a member of agc_audit_purger."""
    return make_role("GRANT agc_audit_purger TO {role}")


@pytest.fixture
def sealed_history():
    """Six events written 400 days ago, sealed in two blocks; two recent, unsealed."""
    with time_machine.travel(timezone.now() - timedelta(days=400)):
        old = [
            audit_event_record(event_type=EventType.CONFIG_UPDATED, actor=SYSTEM, action="x.y")
            for _ in range(6)
        ]
    seals = audit_seal_new_events(margin_seconds=0, max_events=3)
    new = [audit_event_record(event_type=EventType.CONFIG_UPDATED, actor=SYSTEM) for _ in range(2)]
    return old, seals, new


def run_as(url: str, *statements: tuple[str, list]) -> None:
    with psycopg.connect(url) as conn:
        for sql, params in statements:
            conn.execute(sql, params)


def test_the_application_role_cannot_purge_by_setting_the_old_switch(app_role, sealed_history):
    old, _, _ = sealed_history
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        run_as(
            app_role,
            ("SET agc.audit_purge = 'on'", []),
            ("DELETE FROM audit_auditevent WHERE id = %s", [old[0].pk]),
        )
    assert AuditEvent.objects.filter(pk=old[0].pk).exists()


def test_the_application_role_may_not_call_the_purge_function(app_role, sealed_history):
    _, seals, _ = sealed_history
    call = "SELECT audit_purge_through_seal(%s, now(), 3, 'x', now(), '')"
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        run_as(app_role, (call, [seals[0].pk]))
    assert AuditEvent.objects.count() == 8


def test_the_application_role_may_not_record_a_purge(app_role, sealed_history):
    _, seals, _ = sealed_history
    insert = (
        'INSERT INTO audit_auditpurge (through_seal_id, "before", deleted, actor, created_at, '
        "signature) VALUES (%s, now(), 3, 'x', now(), '')"
    )
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="purge role"):
        run_as(app_role, (insert, [seals[0].pk]))


def test_purge_audit_as_the_application_role_is_refused_with_the_setup_to_do(
    app_role, sealed_history, settings
):
    settings.AUDIT_PURGE_DATABASE_URL = app_role
    before = (timezone.now() - timedelta(days=365)).date().isoformat()
    with pytest.raises(CommandError, match="only members of the agc_audit_purger role may"):
        call_command("purge_audit", "--before", before, stdout=StringIO())
    assert AuditEvent.objects.count() == 8
    assert not AuditPurge.objects.exists()


def test_the_purge_login_purges_sealed_events_and_the_log_still_verifies(
    purge_login, sealed_history, settings
):
    old, seals, new = sealed_history
    settings.AUDIT_PURGE_DATABASE_URL = purge_login
    purge = audit_purge(before=timezone.now() - timedelta(days=365), actor=SYSTEM)
    assert (purge.deleted, purge.through_seal_id) == (6, seals[-1].pk)
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditEvent.objects.filter(pk__in=[e.pk for e in new]).count() == 2
    assert AuditEvent.objects.filter(event_type=EventType.AUDIT_PURGED).count() == 1
    report = audit_verify()
    assert report.intact and report.purged_seals == 2


def test_even_the_purge_role_cannot_delete_an_unsealed_event(purge_login, sealed_history):
    _, _, new = sealed_history
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not sealed"):
        run_as(
            purge_login,
            ("SET ROLE agc_audit_purger", []),
            ("DELETE FROM audit_auditevent WHERE id = %s", [new[0].pk]),
        )
    assert AuditEvent.objects.filter(pk=new[0].pk).exists()


def test_the_purge_function_refuses_a_range_that_is_not_sealed(purge_login, sealed_history):
    call = "SELECT audit_purge_through_seal(%s, now(), 2, 'x', now(), '')"
    with pytest.raises(psycopg.errors.RaiseException, match="only sealed events can be purged"):
        run_as(purge_login, (call, [999_999]))
    assert AuditEvent.objects.count() == 8


def test_the_purge_function_refuses_events_newer_than_the_date(purge_login, sealed_history):
    _, seals, _ = sealed_history
    call = "SELECT audit_purge_through_seal(%s, now() - interval '500 days', 3, 'x', now(), '')"
    with pytest.raises(psycopg.errors.RaiseException, match="not all older"):
        run_as(purge_login, (call, [seals[0].pk]))
    assert AuditEvent.objects.count() == 8


def test_purging_on_the_applications_own_connection_names_the_missing_setup(
    app_role, sealed_history, settings
):
    """Without AUDIT_PURGE_DATABASE_URL the purge runs on the application's connection; a
    role that is not a purger is told what to configure."""
    settings.AUDIT_PURGE_DATABASE_URL = ""
    name = app_role.split("//")[1].split("@")[0]
    superuser_sql(f"SET ROLE {name}")
    try:
        with pytest.raises(AuditPurgeNotPermitted, match="DATABASE_URL may not purge"):
            audit_purge(before=timezone.now() - timedelta(days=365), actor=SYSTEM)
    finally:
        superuser_sql("RESET ROLE")
    assert AuditEvent.objects.count() == 8
