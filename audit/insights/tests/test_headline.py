"""The dashboard's headline, its one definition of a window (shared with Home), the time
of the last refresh, and the printable summary."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from approvals.services import approval_request_expire, approval_vote_cast
from audit.insights.charts import PLOTLY_JS
from audit.insights.dashboard import window_parse
from audit.insights.headline import approvals_at_risk, metrics
from audit.insights.rollups import rollups_refresh
from audit.insights.tests.scenarios import SEND, UPDATE, approve_all
from audit.models import RollupState

pytestmark = pytest.mark.django_db

# A Thursday mid-morning; the previous 7-day period is Nov 12–18, the current Nov 19–25.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def at(days_ago: float):
    return time_machine.travel(NOW - timedelta(days=days_ago), tick=False)


@pytest.fixture
def two_weeks(decide, approver):
    """Previous week: 1 read allowed, 3 updates (all approved). This week: 3 reads allowed,
    1 denial, 1 update approved, 1 e-mail rejected and 1 left to expire (two near-misses)."""
    with at(10):
        decide()
        for _ in range(3):
            decide(**UPDATE)
        approve_all(approver, "crm.update_record")
    with at(2):
        for _ in range(3):
            decide()
        decide(data_sources=["crm:contact/1"])
        decide(**UPDATE)
        approve_all(approver, "crm.update_record")
        rejected = decide(**SEND).json()["approval_id"]
        approval_vote_cast(rejected, voter=approver, verdict="reject", comment="no")
        expiring = decide(**SEND).json()["approval_id"]
    with at(1):
        approval_request_expire(expiring, now=NOW)
    with at(0):
        rollups_refresh(full=True)


def by_key(found) -> dict:
    return {m.key: m for m in found}


def test_each_headline_number_stands_beside_the_previous_period_of_the_same_length(two_weeks):
    with at(0):
        found = by_key(metrics(window_parse({"days": "7"})))
    assert (found["automation"].value, found["automation"].previous) == (
        pytest.approx(100 * 3 / 7),
        pytest.approx(100 * 1 / 4),
    )
    assert found["automation"].change_text == "▲ 18 pts"
    assert (found["approval"].value, found["approval"].previous) == (
        pytest.approx(100 / 3),
        100,
    )
    assert (found["denials"].value, found["denials"].previous) == (1, 0)
    assert found["denials"].change_text == "▲ 1"
    assert (found["near_misses"].value, found["near_misses"].previous) == (2, 0)
    assert found["sla"].value is not None and found["median"].value is not None


def test_the_near_misses_link_opens_exactly_those_events(client, auditor, two_weeks):
    with at(0):
        link = by_key(metrics(window_parse({"days": "7"})))["near_misses"].link
        client.force_login(auditor)
        page = client.get(link).content.decode()
    assert 'data-testid="event-count">2 events<' in page
    assert "reversible=false" in link


def test_pending_approvals_expiring_soon_or_past_their_sla_are_at_risk(make_pending):
    with at(0):
        calm = make_pending("send")  # TTL 4 h, SLA 2 h: not at risk now
        count, shown = approvals_at_risk(now=NOW + timedelta(minutes=30))
        assert count == 0
        count, shown = approvals_at_risk(now=NOW + timedelta(hours=2, minutes=1))
        assert (count, shown) == (1, [calm])  # past its SLA
        assert approvals_at_risk(now=NOW + timedelta(hours=5))[0] == 0  # expired: no more


def test_home_and_dashboard_count_the_same_last_30_days(client, leader, decide):
    """A decision on Oct 26 at noon is in a rolling "now minus 30 days" but not in the 30
    calendar days Oct 27 – Nov 25: both pages must leave it out (and say which days they
    count)."""
    with at(29 + 22 / 24):  # Oct 26, 12:00
        decide()
    with at(29 - 9 / 24):  # Oct 27, 19:00: the window's first day
        decide()
        decide(data_sources=["crm:contact/1"])
    with at(0):
        rollups_refresh(full=True)
        client.force_login(leader)
        home = client.get("/").content.decode()
        dashboard = client.get("/audit/dashboard/?days=30").content.decode()
    for page in (home, dashboard):
        assert "Oct 27 – Nov 25, 2026: 30 calendar days" in page
        assert 'data-testid="refreshed-at">Nov 25, 10:00<' in page
    assert 'data-testid="stat-auto">1<' in home and 'data-testid="glance-allowed">1<' in dashboard
    assert 'data-testid="stat-denied">1<' in home and 'data-testid="glance-denied">1<' in dashboard


def test_pages_say_when_the_rollups_stopped_refreshing(client, leader, decide):
    with at(1):
        decide()
        rollups_refresh(full=True)
    client.force_login(leader)
    with at(1 - 10 / 24 / 60):  # ten minutes later: fresh
        assert 'data-testid="stale"' not in client.get("/audit/dashboard/").content.decode()
    with at(0):  # a day later: the periodic refresh has stopped
        page = client.get("/audit/dashboard/").content.decode()
        assert 'data-testid="stale"' in page and "Not refreshed for 1" in page
        assert 'data-testid="stale"' in client.get("/").content.decode()


def test_without_any_refresh_the_pages_say_nothing_is_counted(client, leader, policy):
    RollupState.objects.all().delete()
    client.force_login(leader)
    assert "never been refreshed" in client.get("/audit/dashboard/").content.decode()


def test_the_printable_summary_has_the_headline_on_one_page(client, leader, two_weeks):
    client.force_login(leader)
    with at(0):
        response = client.get("/audit/dashboard/summary/?days=7")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="metric-near_misses"' in page and 'data-testid="summary-totals"' in page
    assert "Data outside the profile&#x27;s grants" in page  # reasons in words
    assert PLOTLY_JS not in page  # numbers and tables, no charts to wait for
    assert client.get("/audit/dashboard/summary/?days=13").status_code == 400


def test_home_links_leadership_to_the_quarterly_review(client, leader, policy):
    client.force_login(leader)
    assert 'data-testid="home-quarterly"' in client.get("/").content.decode()


def test_a_catalog_items_last_30_days_are_the_same_calendar_days(client, leader, decide):
    with at(29 + 22 / 24):  # Oct 26, 12:00: outside Oct 27 – Nov 25
        decide()
    with at(29 - 9 / 24):
        decide()
    with at(0):
        client.force_login(leader)
        page = client.get("/catalog/crm/").content.decode()
    assert 'data-testid="stat-allowed">1<' in page
