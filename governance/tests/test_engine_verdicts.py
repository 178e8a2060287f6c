"""Whole verdicts, field by field: what the caller stores and shows (the message a person
reads, the facts recorded with the decision, the routing of a pending decision). The rule
tests check outcome and reason; these pin everything else, so that a change to any of it
is a deliberate one (mutation testing found these fields unchecked). No database."""

from dataclasses import replace
from datetime import timedelta

import pytest

from governance.engine import CatalogEntry, GrantPolicy, Outcome, Reason, decide
from governance.tests.test_engine import NOW, PROFILE, SNAPSHOT, proposal

# (proposal overrides, outcome, reason, message, facts, impact, reversible, approver group,
#  approvals needed, approval ttl)
VERDICTS = [
    (
        {"runtime_id": 2},
        "deny",
        "runtime_not_allowed_profile",
        "This agent runtime may not use the profile 'sales'.",
        {"policy_revision": 17},
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"profile": "finance"},
        "deny",
        "runtime_not_allowed_profile",
        "This agent runtime may not use the profile 'finance'.",
        {"policy_revision": 17},
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"profile": "ghost"},
        "deny",
        "unknown_profile",
        "There is no profile 'ghost'.",
        {"policy_revision": 17},
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"profile": "old"},
        "deny",
        "profile_inactive",
        "Profile 'old' is retired, not active.",
        {"policy_revision": 17, "profile_revision": 3},
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"on_behalf_of_groups": frozenset({"Support"})},
        "deny",
        "launcher_not_allowed",
        "sam@corp.example may not launch the profile 'sales'.",
        {"policy_revision": 17, "profile_revision": 3},
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"data_sources": ("erp:ledger/1",)},
        "deny",
        "unknown_catalog_item",
        "There is no connector 'erp' in the approved catalog.",
        {"policy_revision": 17, "profile_revision": 3, "launcher": "group:Sales"},
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"connector": "erp"},
        "deny",
        "unknown_catalog_item",
        "There is no connector 'erp' in the approved catalog.",
        {"policy_revision": 17, "profile_revision": 3, "launcher": "group:Sales"},
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"plugin": "crm@1.4.0"},
        "deny",
        "unknown_catalog_item",
        "There is no plugin 'crm' in the approved catalog.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"crm": "1.4.0"},
        },
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"data_sources": ("hr:employee/1",)},
        "deny",
        "catalog_item_not_approved",
        "The connector 'hr' is proposed, not approved for use.",
        {"policy_revision": 17, "profile_revision": 3, "launcher": "group:Sales"},
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"plugin": "notes@0.1.0"},
        "deny",
        "catalog_item_not_approved",
        "The plugin 'notes' is deprecated, not approved for use.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"crm": "1.4.0"},
        },
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"plugin": "outreach@1.9.0"},
        "deny",
        "version_yanked",
        "Version 1.9.0 of 'outreach' was yanked from the catalog.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"crm": "1.4.0"},
        },
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"plugin": "outreach@2.0.0"},
        "deny",
        "version_not_pinned",
        "Version 2.0.0 of 'outreach' is not the pinned version (pinned: 2.1.0).",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"crm": "1.4.0"},
        },
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"plugin": "outreach"},
        "deny",
        "plugin_version_missing",
        "The plugin 'outreach' must be named with its version (slug@version).",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"crm": "1.4.0"},
        },
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"plugin": "enricher@1.0.0"},
        "deny",
        "plugin_not_in_profile",
        "Profile 'sales' does not allow the plugin 'enricher'.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"crm": "1.4.0"},
        },
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"action": "crm.delete_record"},
        "deny",
        "action_not_in_profile",
        "Profile 'sales' does not allow the action 'crm.delete_record'.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"crm": "1.4.0"},
            "plugin": "outreach@2.1.0",
        },
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"data_sources": ("crm:contact/7",)},
        "deny",
        "data_source_out_of_scope",
        "Profile 'sales' grants no read access to 'crm:contact/7'.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"crm": "1.4.0"},
            "plugin": "outreach@2.1.0",
        },
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"data_sources": ("mail:inbox/1",)},
        "deny",
        "data_source_out_of_scope",
        "Profile 'sales' grants no read access to 'mail:inbox/1'.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"mail": "3.2.1"},
            "plugin": "outreach@2.1.0",
        },
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"action": "crm.update_record", "connector": "crm"},
        "deny",
        "write_not_granted",
        "Profile 'sales' grants no write access to 'crm:account/42'.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"crm": "1.4.0"},
            "plugin": "outreach@2.1.0",
        },
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {"action": "crm.update_record", "connector": "crm", "data_sources": ("crm:account/42",)},
        "deny",
        "write_not_granted",
        "Profile 'sales' grants no write access to 'crm:account/42'.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"crm": "1.4.0"},
            "plugin": "outreach@2.1.0",
        },
        None,
        None,
        None,
        0,
        0,
    ),
    (
        {},
        "allow",
        "auto_execute_allowlisted",
        "'crm.read_record' is on the auto-execute allow-list.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"crm": "1.4.0"},
            "plugin": "outreach@2.1.0",
            "data_sources": {"crm:account/42": "read"},
            "impact": "low",
            "reversible": True,
            "auto_execute": True,
        },
        "low",
        True,
        None,
        0,
        0,
    ),
    (
        {"action": "crm.update_record", "connector": "crm", "data_sources": ("crm:opportunity/9",)},
        "pending",
        "requires_human_approval",
        "'crm.update_record' is not on the auto-execute allow-list, so a person must approve it.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"crm": "1.4.0"},
            "plugin": "outreach@2.1.0",
            "data_sources": {"crm:opportunity/9": "write"},
            "impact": "medium",
            "reversible": True,
            "auto_execute": False,
        },
        "medium",
        True,
        "Approvers",
        1,
        60,
    ),
    (
        {"action": "mail.send", "connector": "mail", "data_sources": ("mail:outbox/1",)},
        "pending",
        "high_impact_or_irreversible",
        "'mail.send' is irreversible, so a person must approve it.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {"mail": "3.2.1"},
            "plugin": "outreach@2.1.0",
            "data_sources": {"mail:outbox/1": "write"},
            "impact": "high",
            "reversible": False,
            "auto_execute": False,
        },
        "high",
        False,
        "Approvers",
        1,
        60,
    ),
    (
        {"action": "fin.modify", "data_sources": ()},
        "pending",
        "high_impact_or_irreversible",
        "'fin.modify' is irreversible, so a person must approve it.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {},
            "plugin": "outreach@2.1.0",
            "data_sources": {},
            "impact": "critical",
            "reversible": False,
            "auto_execute": False,
        },
        "critical",
        False,
        "Fin",
        2,
        60,
    ),
    (
        {"action": "ticket.merge", "data_sources": ()},
        "pending",
        "unknown_action_type",
        "'ticket.merge' is not a known action type, so a person must decide.",
        {
            "policy_revision": 17,
            "profile_revision": 3,
            "launcher": "group:Sales",
            "connector_versions": {},
            "plugin": "outreach@2.1.0",
            "data_sources": {},
        },
        None,
        None,
        "Governance admins",
        1,
        45,
    ),
]


@pytest.mark.parametrize("row", VERDICTS, ids=lambda row: row[2])
def test_the_whole_verdict(row):
    overrides, *expected = row
    verdict = decide(SNAPSHOT, proposal(**overrides))
    assert [
        verdict.outcome.value,
        verdict.reason.value,
        verdict.message,
        dict(verdict.facts),
        verdict.impact,
        verdict.reversible,
        verdict.approver_group,
        verdict.approvals_needed,
        verdict.approval_ttl_minutes,
    ] == expected


def test_an_expired_profile_says_when_it_expired():
    at = NOW - timedelta(hours=1)
    snapshot = replace(SNAPSHOT, profiles={"sales": replace(PROFILE, expires_at=at)})
    verdict = decide(snapshot, proposal())
    assert verdict.message == f"Profile 'sales' expired at {at.isoformat()}."
    assert dict(verdict.facts) == {"policy_revision": 17, "profile_revision": 3}


def test_a_plugin_with_no_pinned_version_says_none_is_pinned():
    catalog = dict(SNAPSHOT.catalog)
    catalog["outreach"] = CatalogEntry("outreach", "plugin", "approved", None)
    verdict = decide(replace(SNAPSHOT, catalog=catalog), proposal())
    assert verdict.reason == Reason.VERSION_NOT_PINNED
    assert verdict.message == (
        "Version 2.1.0 of 'outreach' is not the pinned version (pinned: none)."
    )


def test_the_launcher_fact_names_the_first_matching_group():
    snapshot = replace(
        SNAPSHOT,
        profiles={"sales": replace(PROFILE, launcher_groups=frozenset({"Sales", "Ops", "Zed"}))},
    )
    verdict = decide(snapshot, proposal(on_behalf_of_groups=frozenset({"Zed", "Ops"})))
    assert verdict.outcome is Outcome.ALLOW
    assert verdict.facts["launcher"] == "group:Ops"


def test_a_person_who_is_not_a_launcher_user_needs_the_group():
    verdict = decide(SNAPSHOT, proposal(on_behalf_of_user_id=99, on_behalf_of_groups=frozenset()))
    assert verdict.reason == Reason.LAUNCHER_NOT_ALLOWED
    assert verdict.message == "sam@corp.example may not launch the profile 'sales'."


def test_verdicts_are_read_only():
    verdict = decide(SNAPSHOT, proposal(runtime_id=2))
    with pytest.raises(TypeError):
        verdict.facts["policy_revision"] = 1


# -- conditions: the whole verdict, the facts recorded and the variables they see ---------


class Fixed:
    """A compiled condition with a fixed result that records the variables it was given."""

    def __init__(self, name, effect, result, *, mode="enforce", message="", error="boom"):
        from governance.conditions import Condition, Effect, Mode

        self.condition = Condition(name, "true", Effect(effect), Mode(mode), message)
        self.result, self.error, self.seen = result, error, []

    def evaluate(self, variables):
        self.seen.append(variables)
        if self.result == "error":
            raise ValueError(self.error)
        return self.result == "match"


def with_conditions(profile_conditions=(), action_conditions=(), **action_changes):
    actions = dict(SNAPSHOT.action_types)
    read = actions["crm.read_record"]
    actions["crm.read_record"] = replace(
        read, conditions=tuple(action_conditions), **action_changes
    )
    return replace(
        SNAPSHOT,
        action_types=actions,
        profiles={"sales": replace(PROFILE, conditions=tuple(profile_conditions))},
    )


def test_conditions_see_the_request_as_documented():
    seen = Fixed("look", "deny", "no_match")
    decide(
        with_conditions([seen]),
        proposal(connector="crm", plugin=None, model="m-1", action="crm.update_record",
                 data_sources=("crm:opportunity/9",), params={"amount": 5}),
    )  # fmt: skip
    assert seen.seen == [
        {
            "params": {"amount": 5},
            "data_sources": ["crm:opportunity/9"],
            "on_behalf_of": "sam@corp.example",
            "profile": "sales",
            "action": "crm.update_record",
            "connector": "crm",
            "plugin": "",
            "model": "m-1",
            "now": NOW,
        }
    ]
    other = Fixed("look", "deny", "no_match")
    decide(with_conditions([other]), proposal())
    assert (other.seen[0]["connector"], other.seen[0]["plugin"], other.seen[0]["model"]) == (
        "",
        "outreach@2.1.0",
        "",
    )


def test_each_condition_is_evaluated_on_its_own_and_recorded_with_its_owner():
    first, second = Fixed("a", "deny", "no_match"), Fixed("b", "deny", "match")
    shadow_one, shadow_two = (
        Fixed("s1", "deny", "match", mode="shadow"),
        Fixed("s2", "auto_execute", "error", mode="shadow", error="x" * 400),
    )
    verdict = decide(with_conditions([first, shadow_one], [second, shadow_two]), proposal())
    assert (verdict.outcome, verdict.reason) == (Outcome.DENY, Reason.CONDITION_DENIED)
    assert verdict.message == "Condition 'b' holds and denies this action."
    assert verdict.facts["conditions"] == [
        {"name": "a", "owner": "profile", "effect": "deny", "mode": "enforce",
         "result": "no_match"},
        {"name": "b", "owner": "action_type", "effect": "deny", "mode": "enforce",
         "result": "match"},
        {"name": "s1", "owner": "profile", "effect": "deny", "mode": "shadow", "result": "match"},
        {"name": "s2", "owner": "action_type", "effect": "auto_execute", "mode": "shadow",
         "error": "x" * 300, "result": "error"},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("effect", "outcome", "message"),
    [
        ("deny", "deny", "Condition 'c' holds and denies this action."),
        ("require_approval", "pending", "Condition 'c' holds and sends this action to a person."),
        ("auto_execute", "allow", "Condition 'c' holds and lets this action run without a person."),
    ],
)
def test_a_condition_without_a_message_says_what_it_does(effect, outcome, message):
    snapshot = with_conditions([Fixed("c", effect, "match")], auto_execute=False)
    verdict = decide(snapshot, proposal())
    assert (verdict.outcome.value, verdict.message) == (outcome, message)
    assert verdict.facts["conditions"][-1]["result"] == "match"


@pytest.mark.parametrize(
    ("effect", "outcome", "message"),
    [
        ("deny", "deny", "Condition 'c' could not be evaluated, so the action is denied."),
        ("require_approval", "pending",
         "Condition 'c' could not be evaluated, so a person must decide."),
    ],
)  # fmt: skip
def test_a_condition_that_fails_says_so(effect, outcome, message):
    verdict = decide(with_conditions([Fixed("c", effect, "error")]), proposal())
    assert (verdict.outcome.value, verdict.reason, verdict.message) == (
        outcome,
        Reason.CONDITION_ERROR,
        message,
    )


def test_a_condition_asking_about_an_unknown_action_routes_it_by_default():
    snapshot = with_conditions([Fixed("ask", "require_approval", "match", message="Ask.")])
    verdict = decide(snapshot, proposal(action="ticket.merge", data_sources=()))
    assert [
        verdict.outcome, verdict.reason, verdict.message, verdict.approver_group,
        verdict.approvals_needed, verdict.approval_ttl_minutes, verdict.impact,
        verdict.facts["policy_revision"],
    ] == [
        Outcome.PENDING, Reason.CONDITION_REQUIRES_APPROVAL, "Ask. (condition 'ask')",
        "Governance admins", 1, 45, None, 17,
    ]  # fmt: skip


def test_an_action_type_without_its_own_group_goes_to_the_default_group():
    asked = with_conditions(
        [Fixed("ask", "require_approval", "match")], approver_group=None, auto_execute=True
    )
    assert decide(asked, proposal()).approver_group == "Governance admins"
    not_listed = with_conditions(approver_group=None, auto_execute=False)
    assert decide(not_listed, proposal()).approver_group == "Governance admins"


def test_an_allow_by_condition_keeps_its_facts():
    snapshot = with_conditions([Fixed("ok", "auto_execute", "match")], auto_execute=False)
    verdict = decide(snapshot, proposal())
    assert verdict.reason == Reason.CONDITION_AUTO_EXECUTE
    assert verdict.facts["plugin"] == "outreach@2.1.0"
    assert (verdict.impact, verdict.reversible) == ("low", True)


def test_a_high_impact_reversible_action_is_called_high_impact():
    actions = dict(SNAPSHOT.action_types)
    actions["crm.read_record"] = replace(actions["crm.read_record"], impact="high")
    verdict = decide(replace(SNAPSHOT, action_types=actions), proposal())
    assert verdict.message == "'crm.read_record' is high impact, so a person must approve it."


def test_only_the_first_colon_separates_the_connector():
    snapshot = replace(
        SNAPSHOT,
        profiles={"sales": replace(PROFILE, grants=(GrantPolicy("crm", ("a*",), "read"),))},
    )
    verdict = decide(snapshot, proposal(data_sources=("crm:account/1:2",)))
    assert verdict.outcome is Outcome.ALLOW
    assert verdict.facts["data_sources"] == {"crm:account/1:2": "read"}
    with pytest.raises(ValueError, match="'crm' is not of the form connector:resource/path"):
        decide(SNAPSHOT, proposal(data_sources=("crm",)))
