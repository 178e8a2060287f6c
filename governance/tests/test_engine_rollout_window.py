"""Rollout windows in the engine: a previous version stays allowed beside the pinned one
until its window ends, compared with the decision's own time. No database."""

from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType

import pytest

from governance.engine import Outcome, Reason, decide
from governance.tests.test_engine import NOW, SNAPSHOT, proposal

UNTIL = NOW + timedelta(days=14)


def with_window(until=UNTIL, version="2.0.0"):
    catalog = dict(SNAPSHOT.catalog)
    catalog["outreach"] = replace(
        catalog["outreach"], grace_versions=MappingProxyType({version: until})
    )
    return replace(SNAPSHOT, catalog=MappingProxyType(catalog))


def test_previous_version_is_allowed_inside_its_window_and_says_so():
    verdict = decide(with_window(), proposal(plugin="outreach@2.0.0", now=UNTIL - timedelta(1)))
    assert verdict.outcome is Outcome.ALLOW
    assert verdict.facts["rollout_window"] == {"version": "2.0.0", "until": UNTIL.isoformat()}
    assert verdict.facts["plugin"] == "outreach@2.0.0"


@pytest.mark.parametrize("after", [timedelta(0), timedelta(seconds=1), timedelta(days=30)])
def test_previous_version_is_refused_from_the_end_of_its_window(after):
    verdict = decide(with_window(), proposal(plugin="outreach@2.0.0", now=UNTIL + after))
    assert verdict.outcome is Outcome.DENY
    assert verdict.reason is Reason.VERSION_NOT_PINNED
    assert "rollout window ended" in verdict.message


def test_a_window_covers_only_its_own_version():
    verdict = decide(with_window(version="1.8.0"), proposal(plugin="outreach@2.0.0"))
    assert verdict.reason is Reason.VERSION_NOT_PINNED
    assert "rollout window" not in verdict.message


def test_a_yanked_version_is_refused_even_inside_a_window():
    verdict = decide(with_window(version="1.9.0"), proposal(plugin="outreach@1.9.0"))
    assert verdict.reason is Reason.VERSION_YANKED


def test_the_pinned_version_is_unaffected_by_a_window():
    verdict = decide(with_window(), proposal(plugin="outreach@2.1.0", now=UNTIL + timedelta(1)))
    assert verdict.outcome is Outcome.ALLOW
    assert "rollout_window" not in verdict.facts
