"""The what-if simulator with conditions: a condition added, changed or removed in the
proposal is replayed on the recorded requests (their params), and only the requests it
reads differently change outcome."""

from collections import Counter
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.insights.simulator import change_parse, simulate
from audit.insights.tuning import change_apply
from governance.exceptions import ValidationFailed
from governance.models import ActionType, Decision
from governance.services import action_type_update

pytestmark = pytest.mark.django_db

BIG_DENY = {"name": "big-amount", "when": "params.amount > 10000", "effect": "deny"}


def _form(**overrides):
    return {
        "condition_name": "big-amount",
        "when": "params.amount > 10000",
        "effect": "deny",
        "mode": "enforce",
        **overrides,
    }


def _form_static():
    return {"condition_name": "broken", "when": "params.amount >", "effect": "deny"}


def window():
    now = timezone.now()
    return dict(start=now - timedelta(days=1), end=now + timedelta(minutes=1))


@pytest.fixture
def reads(decide):
    """Four allowed reads with amounts 50, 9000, 20000 and 75000, and one without amount."""
    ids = {}
    for amount in (50, 9000, 20000, 75000):
        body = decide(params={"account_id": 42, "amount": amount}).json()
        assert body["outcome"] == "allow"
        ids[amount] = body["decision_id"]
    decide(params={"account_id": 42})
    return ids


def test_an_added_deny_condition_turns_allow_into_deny_for_big_amounts_only(reads):
    change = change_parse({"kind": "condition_set", "action": "crm.read_record", **_form()})
    result = simulate(change, **window())
    # The read without an amount fails to evaluate: a deny condition then denies too.
    assert result.transitions == Counter({("allow", "deny"): 3})
    denied = set(result.examples[("allow", "deny")])
    assert {reads[20000], reads[75000]} <= denied
    assert not {reads[50], reads[9000]} & denied
    assert result.replayed == 5
    assert Decision.objects.count() == 5  # nothing was written


def test_a_condition_that_guards_a_missing_field_changes_only_the_big_amounts(reads):
    form = _form(when="has(params.amount) && params.amount > 10000")
    result = simulate(
        change_parse({"kind": "condition_set", "action": "crm.read_record", **form}), **window()
    )
    assert result.transitions == Counter({("allow", "deny"): 2})
    assert set(result.examples[("allow", "deny")]) == {reads[20000], reads[75000]}


def test_changing_a_condition_in_place_moves_the_threshold(reads, governance_admin):
    action = ActionType.objects.get(key="crm.read_record")
    guarded = {**BIG_DENY, "when": "has(params.amount) && params.amount > 10000"}
    action_type_update(action, actor=governance_admin, conditions=[guarded])
    lower = _form(when="has(params.amount) && params.amount > 5000")
    result = simulate(
        change_parse({"kind": "condition_set", "action": "crm.read_record", **lower}), **window()
    )
    # Replayed against the policy in force (which already denies above 10,000): only the
    # 9,000 read changes.
    assert result.transitions == Counter({("allow", "deny"): 1})
    assert result.examples[("allow", "deny")] == [reads[9000]]


def test_removing_a_condition_lifts_its_denials(reads, governance_admin):
    guarded = {**BIG_DENY, "when": "has(params.amount) && params.amount > 10000"}
    action_type_update(
        ActionType.objects.get(key="crm.read_record"), actor=governance_admin, conditions=[guarded]
    )
    change = change_parse(
        {"kind": "condition_remove", "action": "crm.read_record", "condition_name": "big-amount"}
    )
    result = simulate(change, **window())
    assert result.transitions == Counter({("deny", "allow"): 2})


def test_a_shadow_condition_in_the_proposal_changes_nothing(reads):
    form = _form(mode="shadow")
    result = simulate(
        change_parse({"kind": "condition_set", "action": "crm.read_record", **form}), **window()
    )
    assert result.replayed == 5
    assert result.changed == 0


def test_a_profile_condition_is_replayed_on_the_profiles_requests(reads, decide):
    decide(
        action="crm.update_record",
        connector="crm",
        data_sources=["crm:opportunity/9"],
        params={"amount": 30000},
    )
    change = change_parse(
        {
            "kind": "condition_set",
            "profile": "sales",
            "condition": {
                "name": "big-anything",
                "when": "has(params.amount) && params.amount > 10000",
                "effect": "require_approval",
            },
        }
    )
    result = simulate(change, **window())
    assert result.transitions == Counter({("allow", "pending"): 2})  # the update was pending
    everything = simulate(change, scoped=False, **window())
    assert everything.transitions == result.transitions


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"kind": "condition_set", "action": "crm.read_record", **_form_static()},
            "line 1, column 16",
        ),
        (
            {
                "kind": "condition_set",
                "action": "mail.send_external",
                "condition_name": "quick",
                "when": "true",
                "effect": "auto_execute",
            },
            "cannot apply to an irreversible or high-impact action type",
        ),
        (
            {"kind": "condition_remove", "action": "crm.read_record", "condition_name": "ghost"},
            "has no condition 'ghost'",
        ),
        ({"kind": "condition_set", "action": "nope.nope", **_form_static()}, "no action type"),
        ({"kind": "condition_set", "profile": "nope", **_form_static()}, "no profile"),
        ({"kind": "condition_set", "action": "crm.read_record"}, "Name the condition"),
    ],
)
def test_impossible_condition_changes_are_refused_plainly(policy, data, message):
    with pytest.raises(ValidationFailed, match=message):
        change_parse(data)


def test_the_simulate_page_replays_a_condition_and_applies_it(client, governance_admin, reads):
    client.force_login(governance_admin)
    query = {
        "kind": "condition_set",
        "action": "crm.read_record",
        "days": "7",
        **_form(when="has(params.amount) && params.amount > 10000"),
    }
    page = client.get(reverse("audit:simulate"), query)
    assert page.status_code == 200
    assert "big-amount" in page.content.decode()
    bad = client.get(reverse("audit:simulate"), {**query, "when": "params.amount >"})
    assert bad.status_code == 400
    assert "line 1, column 16" in bad.content.decode()
    client.post(reverse("audit:simulate"), {**query, "apply": "1"})
    stored = ActionType.objects.get(key="crm.read_record").conditions
    assert [c["name"] for c in stored] == ["big-amount"]


def test_applying_a_condition_change_goes_through_the_configuration_service(
    reads, governance_admin
):
    change = change_parse({"kind": "condition_set", "action": "crm.read_record", **_form()})
    change_apply(change, actor=governance_admin)
    assert ActionType.objects.get(key="crm.read_record").conditions == [
        {"name": "big-amount", "when": "params.amount > 10000", "effect": "deny", "mode": "enforce"}
    ]
