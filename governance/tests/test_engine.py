"""The decision engine, rule by rule: one row per reason code and per oversight rule,
plus the order in which the least-privilege checks run. No database."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from governance.engine import (
    ActionTypePolicy,
    CatalogEntry,
    GrantPolicy,
    Outcome,
    PolicySnapshot,
    ProfilePolicy,
    Proposal,
    Reason,
    decide,
    split_data_source,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def action(key, impact="low", reversible=True, auto=True, group="Approvers", needed=1):
    return ActionTypePolicy(key, impact, reversible, auto, group, needed, 60)


PROFILE = ProfilePolicy(
    slug="sales",
    status="active",
    revision=3,
    expires_at=None,
    launcher_users=frozenset({7}),  # casey's user id
    launcher_groups=frozenset({"Sales"}),
    action_types=("crm.read_record", "crm.update_record", "mail.send", "fin.modify", "ticket.*"),
    always_ask=(),
    plugins=frozenset({"outreach"}),
    grants=(
        GrantPolicy("crm", ("account/*",), "read"),
        GrantPolicy("crm", ("opportunity/*",), "write"),
        GrantPolicy("mail", ("outbox/*",), "write"),
        GrantPolicy("wiki", ("page/*",), "read"),
    ),
)
SNAPSHOT = PolicySnapshot(
    revision=17,
    action_types={
        "crm.read_record": action("crm.read_record"),
        "crm.update_record": action("crm.update_record", "medium", auto=False),
        "mail.send": action("mail.send", "high", reversible=False, auto=False),
        "fin.modify": action("fin.modify", "critical", reversible=False, auto=False, group="Fin"),
    },
    profiles={"sales": PROFILE, "old": replace(PROFILE, slug="old", status="retired")},
    catalog={
        "crm": CatalogEntry("crm", "connector", "approved", "1.4.0"),
        "mail": CatalogEntry("mail", "connector", "approved", "3.2.1"),
        "hr": CatalogEntry("hr", "connector", "proposed", None),
        "outreach": CatalogEntry(
            "outreach", "plugin", "approved", "2.1.0", yanked_versions=frozenset({"1.9.0"})
        ),
        "notes": CatalogEntry("notes", "plugin", "deprecated", "0.1.0"),
        "enricher": CatalogEntry("enricher", "plugin", "approved", "1.0.0"),
        "wiki": CatalogEntry("wiki", "connector", "approved", "0.9.0"),
    },
    runtime_profiles={1: frozenset({"sales", "old", "ghost"})},
    default_approver_group="Governance admins",
    default_approval_ttl_minutes=45,
)


def proposal(**overrides) -> Proposal:
    base = dict(
        runtime_id=1,
        on_behalf_of="sam@corp.example",
        on_behalf_of_groups=frozenset({"Sales"}),
        profile="sales",
        action="crm.read_record",
        now=NOW,
        connector=None,
        data_sources=("crm:account/42",),
        plugin="outreach@2.1.0",
    )
    base.update(overrides)
    return Proposal(**base)


DENY_CASES = [
    ("runtime_not_allowed_profile", dict(runtime_id=2)),
    ("runtime_not_allowed_profile", dict(profile="finance")),
    ("unknown_profile", dict(profile="ghost")),
    ("profile_inactive", dict(profile="old")),
    ("launcher_not_allowed", dict(on_behalf_of_groups=frozenset({"Support"}))),
    ("unknown_catalog_item", dict(data_sources=("erp:ledger/1",))),
    ("unknown_catalog_item", dict(connector="erp")),
    ("unknown_catalog_item", dict(plugin="crm@1.4.0")),  # a connector named as a plugin
    ("catalog_item_not_approved", dict(data_sources=("hr:employee/1",))),
    ("catalog_item_not_approved", dict(plugin="notes@0.1.0")),
    ("version_yanked", dict(plugin="outreach@1.9.0")),
    ("version_not_pinned", dict(plugin="outreach@2.0.0")),
    ("plugin_version_missing", dict(plugin="outreach")),
    # An approved plugin that this profile does not list.
    ("plugin_not_in_profile", dict(plugin="enricher@1.0.0")),
    ("action_not_in_profile", dict(action="crm.delete_record")),
    ("data_source_out_of_scope", dict(data_sources=("crm:contact/7",))),
    ("data_source_out_of_scope", dict(data_sources=("mail:inbox/1",))),
    ("write_not_granted", dict(action="crm.update_record", connector="crm")),
    (
        "write_not_granted",
        dict(action="crm.update_record", connector="crm", data_sources=("crm:account/42",)),
    ),
]


@pytest.mark.parametrize(("reason", "overrides"), DENY_CASES)
def test_least_privilege_denies_with_its_reason_code(reason, overrides):
    verdict = decide(SNAPSHOT, proposal(**overrides))
    assert verdict.outcome is Outcome.DENY
    assert verdict.reason == reason
    assert verdict.message  # a sentence for a person


def test_profile_past_its_expiry_is_denied():
    snapshot = replace(
        SNAPSHOT, profiles={"sales": replace(PROFILE, expires_at=NOW - timedelta(seconds=1))}
    )
    verdict = decide(snapshot, proposal())
    assert (verdict.outcome, verdict.reason) == (Outcome.DENY, Reason.PROFILE_EXPIRED)


def test_profile_is_expired_at_the_very_instant_of_its_expiry():
    snapshot = replace(SNAPSHOT, profiles={"sales": replace(PROFILE, expires_at=NOW)})
    verdict = decide(snapshot, proposal())
    assert (verdict.outcome, verdict.reason) == (Outcome.DENY, Reason.PROFILE_EXPIRED)
    assert decide(snapshot, proposal(now=NOW - timedelta(microseconds=1))).outcome is Outcome.ALLOW


def test_profile_expiring_later_is_still_usable():
    snapshot = replace(
        SNAPSHOT, profiles={"sales": replace(PROFILE, expires_at=NOW + timedelta(minutes=1))}
    )
    assert decide(snapshot, proposal()).outcome is Outcome.ALLOW


def test_launcher_named_by_email_may_launch_without_the_group():
    verdict = decide(
        SNAPSHOT,
        proposal(
            on_behalf_of="casey@corp.example",
            on_behalf_of_user_id=7,
            on_behalf_of_groups=frozenset(),
        ),
    )
    assert verdict.outcome is Outcome.ALLOW
    assert verdict.facts["launcher"] == "user"


OVERSIGHT_CASES = [
    ("allow", "auto_execute_allowlisted", dict()),
    (
        "pending",
        "requires_human_approval",
        dict(action="crm.update_record", connector="crm", data_sources=("crm:opportunity/9",)),
    ),
    (
        "pending",
        "high_impact_or_irreversible",
        dict(action="mail.send", connector="mail", data_sources=("mail:outbox/1",)),
    ),
    ("pending", "high_impact_or_irreversible", dict(action="fin.modify", data_sources=())),
    ("pending", "unknown_action_type", dict(action="ticket.merge", data_sources=())),
]


@pytest.mark.parametrize(("outcome", "reason", "overrides"), OVERSIGHT_CASES)
def test_oversight_routes_by_impact_reversibility_and_allow_list(outcome, reason, overrides):
    verdict = decide(SNAPSHOT, proposal(**overrides))
    assert (verdict.outcome, verdict.reason) == (outcome, reason)


def test_allow_listed_action_the_profile_marks_always_ask_goes_to_a_person():
    snapshot = replace(SNAPSHOT, profiles={"sales": replace(PROFILE, always_ask=("crm.read_*",))})
    verdict = decide(snapshot, proposal())
    assert (verdict.outcome, verdict.reason) == (Outcome.PENDING, Reason.PROFILE_REQUIRES_APPROVAL)


def test_always_ask_is_the_reason_even_for_a_high_impact_action():
    """The profile's "always ask" comes before high impact in the rule table, so a
    high-impact action the profile always asks about gives the profile's reason."""
    snapshot = replace(SNAPSHOT, profiles={"sales": replace(PROFILE, always_ask=("mail.*",))})
    verdict = decide(
        snapshot, proposal(action="mail.send", connector="mail", data_sources=("mail:outbox/1",))
    )
    assert (verdict.outcome, verdict.reason) == (Outcome.PENDING, Reason.PROFILE_REQUIRES_APPROVAL)


def test_allow_listed_action_that_is_irreversible_still_goes_to_a_person():
    """Default-to-human holds even if the allow-list flag was set on a risky action."""
    actions = dict(SNAPSHOT.action_types)
    actions["crm.read_record"] = action("crm.read_record", "low", reversible=False, auto=True)
    verdict = decide(replace(SNAPSHOT, action_types=actions), proposal())
    assert verdict.outcome is Outcome.PENDING
    assert verdict.reason == Reason.HIGH_IMPACT_OR_IRREVERSIBLE


def test_critical_action_needs_two_distinct_approvers_even_if_configured_for_one():
    verdict = decide(SNAPSHOT, proposal(action="fin.modify", data_sources=()))
    assert verdict.approvals_needed == 2
    assert verdict.approver_group == "Fin"


def test_unknown_action_type_goes_to_the_default_group_with_the_default_ttl():
    verdict = decide(SNAPSHOT, proposal(action="ticket.merge", data_sources=()))
    assert verdict.approver_group == "Governance admins"
    assert verdict.approval_ttl_minutes == 45
    assert verdict.approvals_needed == 1


ORDER_CASES = [
    # Each row breaks two rules; the earlier one in DESIGN.md's order must win.
    ("runtime_not_allowed_profile", dict(runtime_id=9, on_behalf_of_groups=frozenset())),
    ("profile_inactive", dict(profile="old", on_behalf_of_groups=frozenset())),
    ("launcher_not_allowed", dict(on_behalf_of_groups=frozenset(), plugin="outreach@2.0.0")),
    ("version_not_pinned", dict(plugin="outreach@2.0.0", action="crm.delete_record")),
    ("catalog_item_not_approved", dict(data_sources=("hr:x/1",), action="crm.delete_record")),
    ("action_not_in_profile", dict(action="crm.delete_record", data_sources=("crm:contact/1",))),
    (
        "data_source_out_of_scope",
        dict(action="crm.update_record", connector="crm", data_sources=("crm:contact/1",)),
    ),
]


@pytest.mark.parametrize(("reason", "overrides"), ORDER_CASES)
def test_first_failed_check_wins_in_design_order(reason, overrides):
    assert decide(SNAPSHOT, proposal(**overrides)).reason == reason


def test_verdict_records_the_facts_it_used():
    verdict = decide(SNAPSHOT, proposal())
    assert verdict.facts["policy_revision"] == 17
    assert verdict.facts["profile_revision"] == 3
    assert verdict.facts["plugin"] == "outreach@2.1.0"
    assert verdict.facts["data_sources"] == {"crm:account/42": "read"}
    assert verdict.facts["connector_versions"] == {"crm": "1.4.0"}


def test_write_grant_covers_reads_of_the_same_resources():
    verdict = decide(SNAPSHOT, proposal(data_sources=("crm:opportunity/9",)))
    assert verdict.outcome is Outcome.ALLOW
    assert verdict.facts["data_sources"] == {"crm:opportunity/9": "read"}


def test_every_data_source_on_the_changed_connector_needs_write():
    """Naming a read-only resource of the connector being changed is refused: the
    engine cannot tell which of them the action writes to."""
    verdict = decide(
        SNAPSHOT,
        proposal(
            action="crm.update_record",
            connector="crm",
            data_sources=("crm:opportunity/9", "crm:account/1"),
        ),
    )
    assert (verdict.outcome, verdict.reason) == (Outcome.DENY, Reason.WRITE_NOT_GRANTED)
    assert "crm:account/1" in verdict.message


def test_changing_a_connector_without_naming_a_resource_needs_some_write_grant_on_it():
    """The profile only reads the wiki: an action that changes the wiki but names no wiki
    resource is refused; on crm, where the profile has a write grant, it is not."""
    verdict = decide(SNAPSHOT, proposal(action="crm.update_record", connector="wiki"))
    assert (verdict.outcome, verdict.reason) == (Outcome.DENY, Reason.WRITE_NOT_GRANTED)
    assert "'wiki'" in verdict.message
    allowed = decide(
        SNAPSHOT, proposal(action="crm.update_record", connector="crm", data_sources=())
    )
    assert allowed.reason == Reason.REQUIRES_HUMAN_APPROVAL


def test_globs_are_shell_style_over_the_resource_path():
    snapshot = replace(
        SNAPSHOT,
        profiles={"sales": replace(PROFILE, grants=(GrantPolicy("crm", ("account/1?",), "read"),))},
    )
    assert decide(snapshot, proposal(data_sources=("crm:account/12",))).outcome is Outcome.ALLOW
    verdict = decide(snapshot, proposal(data_sources=("crm:account/123",)))
    assert verdict.reason == Reason.DATA_SOURCE_OUT_OF_SCOPE


def test_the_same_inputs_always_give_the_same_verdict():
    assert decide(SNAPSHOT, proposal()) == decide(SNAPSHOT, proposal())


def test_engine_module_does_not_import_django():
    import governance.engine as engine_module

    with open(engine_module.__file__) as handle:
        source = handle.read()
    assert "django" not in source.replace("Django", "")


@pytest.mark.parametrize("bad", ["crm", ":x", "crm:", "nocolon/path"])
def test_data_source_without_connector_and_resource_is_rejected(bad):
    with pytest.raises(ValueError):
        split_data_source(bad)


def test_launcher_is_recognised_by_user_id_not_by_the_address_string():
    """An address that reads like casey's but is not casey (no user id) is not a launcher."""
    verdict = decide(
        SNAPSHOT,
        proposal(on_behalf_of="casey@corp.example", on_behalf_of_groups=frozenset()),
    )
    assert verdict.reason == "launcher_not_allowed"


def test_every_least_privilege_reason_code_has_a_deny_case():
    check_one = {reason.value for reason in Reason} & {
        "runtime_not_allowed_profile",
        "unknown_profile",
        "profile_inactive",
        "launcher_not_allowed",
        "unknown_catalog_item",
        "catalog_item_not_approved",
        "plugin_not_in_profile",
        "plugin_version_missing",
        "version_yanked",
        "version_not_pinned",
        "action_not_in_profile",
        "data_source_out_of_scope",
        "write_not_granted",
    }
    assert len(check_one) == 13  # profile_expired has its own tests above
    assert check_one <= {reason for reason, _ in DENY_CASES}
