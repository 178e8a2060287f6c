"""The what-if simulator's result, broken down by outcome before -> after, the unchanged
outcomes included, and saying why nothing changed when nothing did (history built with a
frozen clock)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.insights.simulator import change_parse, simulate

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
# crm.update_record on an account: the sales profile grants accounts read-only.
DENIED_UPDATE = {
    "action": "crm.update_record",
    "connector": "crm",
    "data_sources": ["crm:account/42"],
}
PENDING_UPDATE = {
    "action": "crm.update_record",
    "connector": "crm",
    "data_sources": ["crm:opportunity/9"],
}
ALLOWLIST_UPDATE = {"kind": "allowlist_add", "action": "crm.update_record"}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def make_history(clock, decide, *, denied: int, pending: int) -> None:
    for day in range(denied):
        clock.move_to(NOW - timedelta(days=day + 1))
        assert decide(**DENIED_UPDATE).json()["reason"] == "write_not_granted"
    for day in range(pending):
        clock.move_to(NOW - timedelta(days=day + 1, hours=3))
        assert decide(**PENDING_UPDATE).json()["outcome"] == "pending"
    clock.move_to(NOW)


def last_week() -> dict:
    return {"start": timezone.now() - timedelta(days=7), "end": timezone.now()}


def test_breakdown_counts_every_outcome_the_unchanged_ones_too(clock, decide):
    make_history(clock, decide, denied=3, pending=2)
    result = simulate(change_parse(ALLOWLIST_UPDATE), **last_week())
    assert (result.replayed, result.changed) == (5, 2)
    rows = [(r["before"], r["after"], r["changed"], r["count"]) for r in result.breakdown()]
    assert rows == [("pending", "allow", True, 2), ("deny", "deny", False, 3)]
    unchanged = result.breakdown()[1]
    assert unchanged["reasons"] == [("write_not_granted", "No write access granted", 3)]
    assert len(unchanged["examples"]) == 3
    assert result.why_unchanged() == ""


def test_when_nothing_changes_it_says_all_are_denied_under_both_policies_and_why(clock, decide):
    make_history(clock, decide, denied=4, pending=0)
    result = simulate(change_parse(ALLOWLIST_UPDATE), **last_week())
    assert (result.replayed, result.changed) == (4, 0)
    why = result.why_unchanged()
    assert why.startswith(
        "all denied under both policies, because: no write access granted (4). "
        "The allow-list decides only for requests that pass the least-privilege checks"
    )


def test_an_empty_window_says_there_was_nothing_to_replay(clock, policy):
    result = simulate(change_parse(ALLOWLIST_UPDATE), **last_week())
    assert result.replayed == 0
    assert "No recorded request in the window" in result.why_unchanged()


def test_the_simulate_page_shows_the_breakdown_and_the_explanation(
    client, clock, decide, governance_admin
):
    make_history(clock, decide, denied=4, pending=0)
    client.force_login(governance_admin)
    page = client.get(
        "/audit/tuning/simulate/?kind=allowlist_add&action=crm.update_record&days=7"
    ).content.decode()
    assert 'data-testid="sim-changed">0<' in page
    assert 'data-testid="sim-count-deny-deny">4<' in page
    assert "unchanged (deny)" in page
    assert "Nothing would change: all denied under both policies" in page
    assert 'title="write_not_granted">No write access granted</span> (4)' in page


def test_a_partly_changed_page_lists_changed_and_unchanged_rows(
    client, clock, decide, governance_admin
):
    make_history(clock, decide, denied=1, pending=2)
    client.force_login(governance_admin)
    page = client.get(
        "/audit/tuning/simulate/?kind=allowlist_add&action=crm.update_record&days=7"
    ).content.decode()
    assert 'data-testid="sim-count-pending-allow">2<' in page
    assert 'data-testid="sim-count-deny-deny">1<' in page
    assert 'data-testid="sim-why"' not in page
