"""Conditions over the request: compiled when saved, evaluated by the engine in the
documented order, in shadow mode recorded but never enforced, and never an allow by error."""

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from governance.conditions import (
    Condition,
    ConditionError,
    Effect,
    Mode,
    condition_compile,
    conditions_parse,
)
from governance.engine import Outcome, Reason, decide
from governance.tests.test_engine import PROFILE, SNAPSHOT, proposal

# -- compiling --------------------------------------------------------------------------------

MUST_WORK = [
    "params.amount > 10000",
    "params.to.all(r, r.endsWith('@corp.example'))",
    "'owner' in params.roles",
    "data_sources.exists(s, s.startsWith('hr:'))",
    "now > timestamp('2026-01-01T00:00:00Z') && model.startsWith('claude')",
    "on_behalf_of == 'sam@corp.example' || profile == 'sales' || action == 'x' || connector == ''",
    "plugin.matches('^outreach@')",
]


@pytest.mark.parametrize("expression", MUST_WORK)
def test_the_documented_examples_compile(expression):
    condition_compile(Condition("c", expression, Effect.DENY))


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("params.amount >", "line 1, column 16: Syntax error"),
        ("amount > 10000", "line 1, column 1: undeclared reference to 'amount'"),
        ("model", "gives a string, not true or false"),
        ("params.x.all(a, params.y.exists(b, a == b))", "may not contain another one"),
        ("params.x.all(a, a == ')' || params.y.exists(b, true))", "may not contain another"),
        ("", "give the expression"),
        ("true || " * 300 + "true", "longer than 2000 characters"),
    ],
)
def test_a_condition_that_does_not_compile_is_refused_with_its_name_and_position(
    expression, message
):
    with pytest.raises(ConditionError, match="Condition 'big-refund'") as error:
        condition_compile(Condition("big-refund", expression, Effect.DENY))
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ("not a list", "must be a list"),
        ([{"name": "a", "when": "true"}], "missing effect"),
        ([{"name": "a", "when": "true", "effect": "deny", "extra": 1}], "unknown key(s) extra"),
        ([{"name": "a", "when": "true", "effect": "allow"}], "the effect is one of"),
        ([{"name": "a", "when": "true", "effect": "deny", "mode": "dry"}], "the mode one of"),
        ([{"name": "A b", "when": "true", "effect": "deny"}], "a name is"),
        (
            [{"name": "a", "when": "true", "effect": "deny"}] * 2,
            "Condition 'a': the name is used twice",
        ),
    ],
)
def test_a_stored_list_is_checked_whole(stored, message):
    with pytest.raises(ConditionError) as error:
        conditions_parse(stored, owner="action type 'x'")
    assert message in str(error.value)


# -- the engine -------------------------------------------------------------------------------


def compiled(name, when, effect, mode=Mode.ENFORCE, message=""):
    return condition_compile(Condition(name, when, Effect(effect), Mode(mode), message))


def snapshot_with(profile_conditions=(), action_conditions=(), key="crm.read_record", **at):
    base = SNAPSHOT.action_types[key]
    actions = dict(SNAPSHOT.action_types)
    actions[key] = replace(base, conditions=tuple(action_conditions), **at)
    profile = replace(PROFILE, conditions=tuple(profile_conditions))
    return replace(SNAPSHOT, action_types=actions, profiles={"sales": profile})


BIG = "params.amount > 10000"


def ask(snapshot, amount=20000, **overrides):
    return decide(snapshot, proposal(params={"amount": amount}, **overrides))


def test_a_deny_condition_that_holds_denies_and_names_itself():
    verdict = ask(
        snapshot_with(action_conditions=[compiled("big", BIG, "deny", message="Too big")])
    )
    assert (verdict.outcome, verdict.reason) == (Outcome.DENY, Reason.CONDITION_DENIED)
    assert "Too big" in verdict.message and "'big'" in verdict.message
    assert verdict.facts["conditions"] == [
        {"name": "big", "owner": "action_type", "effect": "deny", "mode": "enforce",
         "result": "match"}
    ]  # fmt: skip


def test_a_deny_condition_that_does_not_hold_changes_nothing():
    verdict = ask(snapshot_with(action_conditions=[compiled("big", BIG, "deny")]), amount=50)
    assert verdict.reason == Reason.AUTO_EXECUTE_ALLOWLISTED
    assert verdict.facts["conditions"][0]["result"] == "no_match"


def test_profile_conditions_come_before_the_action_types():
    snapshot = snapshot_with(
        profile_conditions=[compiled("profile-cap", BIG, "deny")],
        action_conditions=[compiled("type-cap", BIG, "deny")],
    )
    assert "'profile-cap'" in ask(snapshot).message


def test_deny_conditions_come_before_require_approval_conditions():
    snapshot = snapshot_with(
        profile_conditions=[compiled("ask-first", BIG, "require_approval")],
        action_conditions=[compiled("deny-later", BIG, "deny")],
    )
    assert ask(snapshot).reason == Reason.CONDITION_DENIED


def test_a_require_approval_condition_sends_an_allow_listed_action_to_its_group():
    snapshot = snapshot_with(action_conditions=[compiled("big", BIG, "require_approval")])
    verdict = ask(snapshot)
    assert (verdict.outcome, verdict.reason) == (
        Outcome.PENDING,
        Reason.CONDITION_REQUIRES_APPROVAL,
    )
    assert verdict.approver_group == "Approvers"


def test_require_approval_conditions_come_before_the_high_impact_rule():
    snapshot = snapshot_with(
        action_conditions=[compiled("big", BIG, "require_approval")],
        key="mail.send",
    )
    verdict = decide(
        snapshot,
        proposal(
            action="mail.send",
            connector="mail",
            data_sources=("mail:outbox/1",),
            params={"amount": 20000},
        ),
    )
    assert verdict.reason == Reason.CONDITION_REQUIRES_APPROVAL


def test_an_auto_execute_condition_allows_a_reversible_action_off_the_allow_list():
    snapshot = snapshot_with(
        action_conditions=[compiled("small", "params.amount < 100", "auto_execute")],
        key="crm.update_record",
    )
    small = decide(
        snapshot,
        proposal(action="crm.update_record", connector="crm", data_sources=("crm:opportunity/1",),
                 params={"amount": 50}),
    )  # fmt: skip
    assert (small.outcome, small.reason) == (Outcome.ALLOW, Reason.CONDITION_AUTO_EXECUTE)
    large = decide(
        snapshot,
        proposal(action="crm.update_record", connector="crm", data_sources=("crm:opportunity/1",),
                 params={"amount": 500}),
    )  # fmt: skip
    assert (large.outcome, large.reason) == (Outcome.PENDING, Reason.REQUIRES_HUMAN_APPROVAL)


def test_an_auto_execute_condition_never_overrides_always_ask():
    snapshot = snapshot_with(profile_conditions=[compiled("any", "true", "auto_execute")])
    profile = replace(snapshot.profiles["sales"], always_ask=("crm.read_record",))
    verdict = ask(replace(snapshot, profiles={"sales": profile}))
    assert verdict.reason == Reason.PROFILE_REQUIRES_APPROVAL


def test_a_profile_auto_execute_condition_never_allows_a_high_impact_action():
    snapshot = snapshot_with(profile_conditions=[compiled("any", "true", "auto_execute")])
    verdict = decide(
        snapshot,
        proposal(action="mail.send", connector="mail", data_sources=("mail:outbox/1",)),
    )
    assert (verdict.outcome, verdict.reason) == (
        Outcome.PENDING,
        Reason.HIGH_IMPACT_OR_IRREVERSIBLE,
    )


def test_a_shadow_condition_is_recorded_and_changes_nothing():
    snapshot = snapshot_with(action_conditions=[compiled("big", BIG, "deny", mode="shadow")])
    verdict = ask(snapshot)
    assert verdict.reason == Reason.AUTO_EXECUTE_ALLOWLISTED
    assert verdict.facts["conditions"] == [
        {"name": "big", "owner": "action_type", "effect": "deny", "mode": "shadow",
         "result": "match"}
    ]  # fmt: skip


MISSING = "params.nope > 1"


@pytest.mark.parametrize(
    ("effect", "outcome", "reason"),
    [
        ("deny", Outcome.DENY, Reason.CONDITION_ERROR),
        ("require_approval", Outcome.PENDING, Reason.CONDITION_ERROR),
        ("auto_execute", Outcome.ALLOW, Reason.AUTO_EXECUTE_ALLOWLISTED),  # not applied
    ],
)
def test_a_condition_that_fails_to_evaluate_never_allows_by_itself(effect, outcome, reason):
    verdict = ask(snapshot_with(action_conditions=[compiled("broken", MISSING, effect)]))
    assert (verdict.outcome, verdict.reason) == (outcome, reason)
    assert verdict.facts["conditions"][0]["result"] == "error"
    assert "nope" in verdict.facts["conditions"][0]["error"]


def test_a_failing_auto_execute_condition_leaves_the_action_to_a_person():
    snapshot = snapshot_with(
        action_conditions=[compiled("broken", MISSING, "auto_execute")], key="crm.update_record"
    )
    verdict = decide(
        snapshot,
        proposal(action="crm.update_record", connector="crm", data_sources=("crm:opportunity/1",)),
    )
    assert verdict.reason == Reason.REQUIRES_HUMAN_APPROVAL


def test_conditions_are_not_evaluated_when_least_privilege_denies():
    snapshot = snapshot_with(action_conditions=[compiled("big", BIG, "require_approval")])
    verdict = ask(snapshot, data_sources=("crm:contact/1",))
    assert verdict.reason == Reason.DATA_SOURCE_OUT_OF_SCOPE
    assert "conditions" not in verdict.facts


# -- property: on irreversible or high-impact action types, conditions only tighten -----------

EXPRESSIONS = st.sampled_from(["true", "false", MISSING, BIG, "params.amount < 100"])
CONDITIONS = st.lists(
    st.tuples(
        EXPRESSIONS,
        st.sampled_from(["deny", "require_approval", "auto_execute"]),
        st.sampled_from(["enforce", "shadow"]),
    ),
    max_size=4,
)


@given(
    CONDITIONS,
    CONDITIONS,
    st.sampled_from([("high", True), ("critical", False), ("low", False), ("medium", False)]),
    st.integers(0, 30000),
)
def test_on_a_high_impact_or_irreversible_action_conditions_never_allow(
    on_profile, on_action, kind, amount
):
    impact, reversible = kind
    make = lambda items, tag: [  # noqa: E731
        compiled(f"{tag}{i}", when, effect, mode)
        for i, (when, effect, mode) in enumerate(items)
        if not (tag == "a" and effect == "auto_execute")  # refused when saved on these
    ]
    snapshot = snapshot_with(
        profile_conditions=make(on_profile, "p"),
        action_conditions=make(on_action, "a"),
        impact=impact,
        reversible=reversible,
        auto_execute=False,
    )
    verdict = ask(snapshot, amount=amount)
    assert verdict.outcome in (Outcome.PENDING, Outcome.DENY)


# -- saved through the configuration, used by decisions -----------------------------------------

pytestmark_db = pytest.mark.django_db


def as_admin(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytestmark_db
def test_a_condition_saved_through_the_api_decides_the_next_request(
    governance_admin, policy, decide
):
    response = as_admin(governance_admin).patch(
        "/api/v1/action-types/crm.read_record",
        {"conditions": [{"name": "many", "when": "params.account_id > 10000", "effect": "deny",
                         "message": "Only small accounts"}]},
        format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    big = decide(params={"account_id": 20000}).json()
    assert (big["outcome"], big["reason"]) == ("deny", "condition_denied")
    assert "Only small accounts" in big["message"]
    assert decide(params={"account_id": 50}).json()["outcome"] == "allow"


@pytestmark_db
def test_a_condition_that_does_not_compile_is_a_400_naming_it(governance_admin, policy):
    response = as_admin(governance_admin).patch(
        "/api/v1/action-types/crm.read_record",
        {"conditions": [{"name": "many", "when": "params.account_id >", "effect": "deny"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "Condition 'many': line 1, column 20" in str(response.json())


@pytestmark_db
def test_an_auto_execute_condition_on_an_irreversible_action_type_is_refused(
    governance_admin, policy
):
    response = as_admin(governance_admin).patch(
        "/api/v1/action-types/mail.send_external",
        {"conditions": [{"name": "small", "when": "true", "effect": "auto_execute"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "irreversible" in str(response.json())
    from governance.models import ActionType

    assert ActionType.objects.get(key="mail.send_external").conditions in ([], None)


@pytestmark_db
def test_conditions_round_trip_through_the_policy_yaml(governance_admin, policy):
    from governance.policy import policy_dump_yaml, policy_export, policy_import, policy_parse

    document = policy_export()
    send = next(a for a in document["action_types"] if a["key"] == "mail.send_external")
    send["conditions"] = [
        {"name": "outside", "when": "params.to.exists(r, !r.endsWith('@corp.example'))",
         "effect": "require_approval", "mode": "shadow", "message": "Leaves the company"}
    ]  # fmt: skip
    result = policy_import(policy_parse(policy_dump_yaml(document)), actor=governance_admin)
    assert result.applied
    exported = policy_export()
    again = next(a for a in exported["action_types"] if a["key"] == "mail.send_external")
    assert again["conditions"] == send["conditions"]
    assert not policy_import(exported, actor=governance_admin).changes  # a round trip is silent


@pytestmark_db
def test_the_yaml_refuses_a_condition_with_an_unknown_key(governance_admin, policy):
    from governance.exceptions import ValidationFailed
    from governance.policy import policy_export, policy_import

    document = policy_export()
    document["profiles"][0]["conditions"] = [
        {"name": "x", "when": "true", "effect": "deny", "severity": "high"}
    ]
    with pytest.raises(ValidationFailed) as error:
        policy_import(document, actor=governance_admin)
    assert "unknown key(s) severity" in str(error.value.extra)
