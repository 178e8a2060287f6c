"""The what-if simulator against hand-computed expectations."""

import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.insights.simulator import change_parse, simulate
from governance.exceptions import ValidationFailed
from governance.models import Decision

pytestmark = pytest.mark.django_db


def test_simulation_matches_a_hand_computed_replay(waved_through, decide):
    decide()
    decide()
    window = dict(
        start=timezone.now() - timedelta(days=1), end=timezone.now() + timedelta(minutes=1)
    )
    result = simulate(
        change_parse({"kind": "allowlist_add", "action": "crm.update_record"}), **window
    )
    assert result.replayed == 3  # only crm.update_record requests can change
    assert simulate(result.change, scoped=False, **window).replayed == 8
    assert result.transitions == Counter({("pending", "allow"): 3})
    assert len(result.examples[("pending", "allow")]) == 3
    result = simulate(
        change_parse(
            {
                "kind": "grant_remove",
                "profile": "sales",
                "connector": "crm",
                "resources": "account/*",
                "access": "read",
            }
        ),
        **window,
    )
    assert result.transitions == Counter({("allow", "deny"): 2})
    result = simulate(
        change_parse(
            {"kind": "profile_action_remove", "profile": "sales", "action": "mail.send_external"}
        ),
        **window,
    )
    assert result.transitions == Counter({("pending", "deny"): 3})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "allowlist_add", "action": "nope.nope"}, "no action type"),
        ({"kind": "allowlist_add", "action": "mail.send_external"}, "irreversible"),
        ({"kind": "grant_add", "profile": "sales"}, "needs a connector"),
        (
            {"kind": "grant_remove", "profile": "sales", "connector": "crm", "resources": "x/*"},
            "no such grant",
        ),
        ({"kind": "teleport"}, "Choose what to change"),
    ],
)
def test_impossible_changes_are_refused_plainly(policy, data, message):
    with pytest.raises(ValidationFailed, match=message):
        change_parse(data)


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "allowlist_add", "action": "crm.update_record"},
        {"kind": "allowlist_remove", "action": "crm.read_record"},
        {"kind": "grant_remove", "profile": "sales", "connector": "crm",
         "resources": "account/*", "access": "read"},
        {"kind": "grant_add", "profile": "sales", "connector": "crm",
         "resources": "contact/*", "access": "read"},
        {"kind": "profile_action_remove", "profile": "sales", "action": "mail.send_external"},
    ],
)  # fmt: skip
def test_replaying_only_the_decisions_a_change_can_touch_loses_nothing(waved_through, decide, data):
    decide()
    decide(data_sources=["crm:contact/9"])
    window = dict(
        start=timezone.now() - timedelta(days=1), end=timezone.now() + timedelta(minutes=1)
    )
    change = change_parse(data)
    scoped, everything = simulate(change, **window), simulate(change, scoped=False, **window)
    assert scoped.transitions == everything.transitions
    assert scoped.transitions  # each of these changes does change something here
    assert scoped.replayed <= everything.replayed


def test_a_replay_over_the_limit_is_a_random_sample_scaled_to_the_whole(waved_through):
    window = dict(
        start=timezone.now() - timedelta(days=1), end=timezone.now() + timedelta(minutes=1)
    )
    change = change_parse({"kind": "allowlist_add", "action": "crm.update_record"})
    result = simulate(change, limit=2, **window)
    threshold = uuid.UUID(int=int(2 / 3 * 2**128))
    in_sample = Decision.objects.filter(action="crm.update_record", pk__lt=threshold).count()
    assert (result.in_scope, result.sampled, result.replayed) == (3, True, in_sample)
    assert result.changed == in_sample
    assert result.changed_estimate == round(in_sample * 3 / 2)
    exact = simulate(change, limit=3, **window)
    assert (exact.sampled, exact.replayed, exact.changed_estimate) == (False, 3, 3)
