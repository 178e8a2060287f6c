"""Console sign-in: lockout after repeated failures, per username and per address, with a
message saying for how long; every sign-in, failure, lockout and sign-out is audited."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from audit.choices import EventType
from audit.models import AuditEvent
from audit.services import audit_refusals_flush
from governance.management.commands.seed_demo import DEMO_PASSWORD
from governance.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MOMENT = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
PASSWORD = "pw"  # the factories' password
LOCKED = "Too many failed sign-ins: this account is locked. Try again in 15 minutes."


@pytest.fixture
def clock():
    with time_machine.travel(MOMENT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def demo(tmp_path, settings, clock):
    """The people `make demo` loads (no history), with their demo password."""
    settings.BASE_DIR = tmp_path  # seed_demo writes the demo runtimes' tokens there
    call_command("seed_demo", "--days", "0", "--quiet", stdout=StringIO())


@pytest.fixture
def people(db):
    """Alex and a few colleagues, with the factories' password."""
    for name in ("alex", "gina", "blake", "lee", "audrey", "owen", "sam"):
        UserFactory(username=name)


def sign_in(client: Client, username: str, password: str, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def signed_in_as(client: Client) -> str | None:
    response = client.get("/", follow=False)
    return None if response.status_code == 302 else response.wsgi_request.user.username


def events(event_type) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("id"))


def test_after_the_demo_twenty_wrong_passwords_lock_alex_for_fifteen_minutes(demo, clock):
    """The issue's acceptance check, on the people `make demo` loads."""
    client = Client()
    answers = [sign_in(client, "alex", f"guess-{i}") for i in range(20)]
    assert [a.status_code for a in answers[:4]] == [200] * 4
    assert "didn't match" in answers[0].content.decode()
    assert {a.status_code for a in answers[4:]} == {429}
    assert LOCKED in answers[-1].content.decode()
    assert answers[-1]["Retry-After"] == str(15 * 60)

    refused = sign_in(client, "alex", DEMO_PASSWORD)  # the right password, while locked
    assert refused.status_code == 429
    assert LOCKED in refused.content.decode()
    assert signed_in_as(client) is None

    clock.shift(timedelta(minutes=15, seconds=1))
    assert sign_in(client, "alex", DEMO_PASSWORD).status_code == 302
    assert signed_in_as(client) == "alex"


def test_the_message_counts_down_the_minutes_left(people, clock):
    client = Client()
    for i in range(5):
        sign_in(client, "alex", f"guess-{i}")
    clock.shift(timedelta(minutes=14))
    still = sign_in(client, "alex", PASSWORD)
    assert still.status_code == 429
    assert "Try again in 1 minute." in still.content.decode()
    assert signed_in_as(client) is None


def test_refusals_while_locked_do_not_extend_the_lockout(people, clock):
    client = Client()
    for i in range(5):
        sign_in(client, "alex", f"guess-{i}")
    clock.shift(timedelta(minutes=10))
    sign_in(client, "alex", "still-guessing")
    clock.shift(timedelta(minutes=5, seconds=1))
    assert sign_in(client, "alex", PASSWORD).status_code == 302


def test_one_address_guessing_many_usernames_is_locked_out(people, clock):
    client = Client()
    for name in ("gina", "blake", "lee", "audrey", "owen"):
        sign_in(client, name, "wrong")
    assert sign_in(client, "sam", PASSWORD).status_code == 429
    elsewhere = Client(REMOTE_ADDR="10.9.8.7")
    assert sign_in(elsewhere, "sam", PASSWORD).status_code == 302


def test_one_username_guessed_from_many_addresses_is_locked_out(people, clock):
    for i in range(5):
        sign_in(Client(REMOTE_ADDR=f"10.0.0.{i + 1}"), "alex", "wrong")
    assert sign_in(Client(REMOTE_ADDR="10.0.0.99"), "alex", PASSWORD).status_code == 429


def test_the_admin_sign_in_is_locked_by_the_same_counter(people, clock):
    client = Client()
    for i in range(5):
        client.post("/admin/login/", {"username": "gina", "password": f"guess-{i}"})
    assert sign_in(client, "gina", PASSWORD).status_code == 429


def test_the_limit_and_cool_off_come_from_the_settings(people, clock, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=3)
    client = Client()
    sign_in(client, "alex", "wrong")
    locked = sign_in(client, "alex", "wrong")
    assert locked.status_code == 429
    assert "Try again in 3 minutes." in locked.content.decode()


def test_each_failure_the_lockout_and_the_refusals_are_audited_without_passwords(people, clock):
    client = Client()
    for i in range(20):
        sign_in(client, "alex", f"secret-guess-{i}")
    failures = [e for e in events(EventType.LOGIN_FAILED) if e.reason == "bad_credentials"]
    assert len(failures) == 5
    assert {e.actor for e in failures} == {"system"}
    assert {e.object_repr for e in failures} == {"alex@corp.example"}
    assert failures[0].detail["username"] == "alex"
    assert failures[0].detail["remote_addr"] == "127.0.0.1"
    (lockout,) = events(EventType.LOGIN_LOCKED_OUT)
    assert lockout.reason == "too_many_failures"
    assert lockout.detail["failures"] == 5
    assert lockout.detail["locked_until"] == (MOMENT + timedelta(minutes=15)).isoformat()
    # The fifteen refusals while locked: counted per address, not one row each.
    clock.shift(timedelta(minutes=2))
    audit_refusals_flush()
    refusals = [e for e in events(EventType.LOGIN_FAILED) if e.reason == "locked_out"]
    assert len(refusals) == 2
    assert sum(e.detail["count"] for e in refusals) == 15
    everything = json.dumps([e.detail for e in AuditEvent.objects.all()])
    assert "secret-guess" not in everything


def test_sign_in_and_sign_out_are_audited_as_the_person(people, clock):
    client = Client()
    sign_in(client, "gina", PASSWORD)
    client.post("/accounts/logout/")
    (signed_in,) = events(EventType.LOGIN_SUCCEEDED)
    (signed_out,) = events(EventType.LOGGED_OUT)
    assert signed_in.actor == signed_out.actor == "user:gina@corp.example"
    assert signed_in.actor_user.username == "gina"
    assert signed_in.detail == {
        "method": "password",
        "remote_addr": "127.0.0.1",
        "path": "/accounts/login/",
    }
    assert signed_out.detail["method"] == "password"


def test_a_failure_for_an_unknown_username_is_audited_about_nobody(db, clock):
    sign_in(Client(), "nobody-here", "x")
    (failure,) = events(EventType.LOGIN_FAILED)
    assert failure.object_id == ""
    assert failure.detail["username"] == "nobody-here"


def test_a_locked_page_keeps_the_person_on_the_sign_in_form(db, clock):
    UserFactory(username="kim")
    client = Client()
    for _ in range(5):
        answer = sign_in(client, "kim", "wrong")
    page = answer.content.decode()
    assert 'data-testid="sign-in-locked"' in page
    assert 'name="password"' in page
