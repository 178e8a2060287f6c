"""Whole verdicts, field by field: what the caller stores and shows (the message a person
reads, the facts recorded with the decision, the routing of a pending decision). The rule
tests check outcome and reason; these pin everything else, so that a change to any of it
is a deliberate one (mutation testing found these fields unchecked). No database."""

from dataclasses import replace
from datetime import timedelta

import pytest

from governance.engine import CatalogEntry, Outcome, Reason, decide
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
