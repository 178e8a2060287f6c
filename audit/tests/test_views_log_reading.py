"""Reading the log as a person: every filter in force visible and kept, the columns that
matter, values rather than Python reprs, and what is sealed said truthfully."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from audit.models import AuditEvent
from audit.seal_services import audit_seal_new_events

pytestmark = pytest.mark.django_db

# What a dashboard link carries: the day's bounds as ISO timestamps with an offset.
CHART_LINK = (
    "/audit/?decided_after=2026-11-03T00%3A00%3A00%2B00%3A00"
    "&decided_before=2026-11-04T00%3A00%3A00%2B00%3A00&event_type=decision_made"
)


def test_a_date_from_a_chart_link_is_shown_in_the_form_and_above_the_results(client, auditor, db):
    client.force_login(auditor)
    page = client.get(CHART_LINK).content.decode()
    # A datetime-local field can show this value (no offset), so the next search keeps it.
    assert 'name="decided_after" value="2026-11-03T00:00"' in page
    assert 'name="decided_before" value="2026-11-04T00:00"' in page
    assert 'data-testid="active-decided_after">Proposed from: <strong>2026-11-03 00:00' in page
    assert 'data-testid="active-event_type">Event type: <strong>Decision made' in page


def test_what_the_form_sends_back_means_the_same_instant(client, auditor, decide):
    with time_machine.travel(datetime(2026, 11, 3, 12, tzinfo=UTC), tick=False):
        decide()
    with time_machine.travel(datetime(2026, 11, 5, 12, tzinfo=UTC), tick=False):
        decide()
    client.force_login(auditor)
    linked = client.get(CHART_LINK).content.decode()
    # The browser sends the field's value back, plus the filter the person added.
    resent = client.get(
        "/audit/?decided_after=2026-11-03T00:00&decided_before=2026-11-04T00:00"
        "&event_type=decision_made&action=crm.read_record"
    ).content.decode()
    assert 'data-testid="event-count">1 event<' in linked
    assert 'data-testid="event-count">1 event<' in resent


def test_removing_one_filter_keeps_the_others(client, auditor, db):
    client.force_login(auditor)
    page = client.get(CHART_LINK + "&event_type=decision_approved").content.decode()
    assert (
        'href="?decided_after=2026-11-03T00%3A00%3A00%2B00%3A00'
        "&amp;decided_before=2026-11-04T00%3A00%3A00%2B00%3A00"
        '&amp;event_type=decision_approved" aria-label="Remove the filter Event type: '
        'Decision made"'
    ) in page


def test_irreversible_actions_can_be_filtered(client, auditor, log):
    client.force_login(auditor)
    page = client.get("/audit/?reversible=false&event_type=decision_approved").content.decode()
    assert 'data-testid="event-count">1 event<' in page  # the approved external e-mail
    page = client.get("/audit/?reversible=true&event_type=decision_approved").content.decode()
    assert 'data-testid="event-count">0 events<' in page


def test_the_log_shows_who_approved_and_why_in_words(client, auditor, log):
    client.force_login(auditor)
    page = client.get("/audit/?event_type=decision_approved").content.decode()
    assert 'data-testid="approval">alex@corp.example<' in page
    assert 'title="high_impact_or_irreversible">High impact or irreversible<' in page


def test_the_event_page_shows_values_not_python_reprs(client, auditor, decide):
    decide(data_sources=["crm:account/1", "crm:account/2"])
    event = AuditEvent.objects.get(event_type="decision_made")
    client.force_login(auditor)
    page = client.get(event.get_absolute_url()).content.decode()
    assert "<code>crm:account/1, crm:account/2</code>" in page
    assert "<dt>reversible</dt><dd><code>yes</code>" in page
    assert "[&#x27;" not in page and ">True<" not in page and "<code>{}</code>" not in page


def test_leadership_is_not_offered_the_integrity_check_it_may_not_open(
    client, leader, auditor, log
):
    client.force_login(leader)
    assert "/audit/integrity/" not in client.get("/audit/").content.decode()
    client.force_login(auditor)
    assert "/audit/integrity/" in client.get("/audit/").content.decode()


def test_pages_say_when_the_last_seal_was_made_and_when_sealing_stopped(client, auditor, decide):
    start = datetime(2026, 11, 3, 12, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        decide()
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        audit_seal_new_events()
        decide()
    event = AuditEvent.objects.order_by("-id").first()
    client.force_login(auditor)
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        page = client.get(event.get_absolute_url()).content.decode()
        assert "Last seal <time" in page and "Nov 3, 12:02" in page
        assert "sealed about a minute after" in page and "sealing-stalled" not in page
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        for url in (event.get_absolute_url(), "/audit/", "/audit/integrity/"):
            assert 'data-testid="sealing-stalled"' in client.get(url).content.decode()
