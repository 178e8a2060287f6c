"""The policy editor: governance admins edit action types and profiles (conditions and
grants as rows) with checks as they type, a test box per condition, a preview through the
what-if simulator and a required reason; every other overseeing role reads the same page."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine

from audit.choices import EventType
from audit.models import AuditEvent
from governance.choices import Impact
from governance.models import ActionType, Decision, PermissionProfile, PolicyRevision
from governance.tests.factories import ActionTypeFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2031, 3, 12, 10, 0, tzinfo=UTC)
DENY_BIG = {
    "name": "big-refunds",
    "when": "params.amount > 10000",
    "effect": "deny",
    "mode": "enforce",
    "message": "Refunds above 10,000 are done by finance.",
}


@pytest.fixture
def refund(policy):
    """A low-impact, reversible, allow-listed refund the `sales` profile may propose."""
    action_type = ActionTypeFactory(
        key="billing.refund", impact=Impact.LOW, reversible=True, auto_execute=True
    )
    policy.profile.action_types = [*policy.profile.action_types, "billing.refund"]
    policy.profile.save()
    return action_type


@pytest.fixture
def admin(client, governance_admin):
    client.force_login(governance_admin)
    return client


def action_type_data(action_type, conditions=(), *, initial=None, **overrides):
    """The editor's POST for an action type: its fields as they are, plus `conditions`."""
    data = {
        "name": action_type.name,
        "description": action_type.description,
        "impact": action_type.impact,
        "approver_group": action_type.approver_group_id or "",
        "escalation_group": "",
        "approvals_needed": action_type.approvals_needed,
        "approval_ttl_minutes": action_type.approval_ttl_minutes,
        "approval_sla_minutes": "",
        "conditions-TOTAL_FORMS": len(conditions),
        "conditions-INITIAL_FORMS": len(action_type.conditions) if initial is None else initial,
        "preview": "1",
    }
    for flag in ("reversible", "auto_execute", "confirmable_by_launcher"):
        if getattr(action_type, flag):
            data[flag] = "on"
    for index, condition in enumerate(conditions):
        for key, value in condition.items():
            data[f"conditions-{index}-{key}"] = value
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def profile_data(profile, grants, conditions=(), **overrides):
    data = {
        "name": profile.name,
        "description": profile.description,
        "status": profile.status,
        "owner": profile.owner_id or "",
        "expires_at": "",
        "launcher_groups": [g.pk for g in profile.launcher_groups.all()],
        "launcher_users": [u.pk for u in profile.launcher_users.all()],
        "plugins": [p.pk for p in profile.plugins.all()],
        "action_types": ", ".join(profile.action_types),
        "always_ask": ", ".join(profile.always_ask),
        "grants-TOTAL_FORMS": len(grants),
        "grants-INITIAL_FORMS": profile.grants.count(),
        "conditions-TOTAL_FORMS": len(conditions),
        "conditions-INITIAL_FORMS": len(profile.conditions),
        "preview": "1",
    }
    for index, grant in enumerate(grants):
        for key, value in grant.items():
            data[f"grants-{index}-{key}"] = value
    for index, condition in enumerate(conditions):
        for key, value in condition.items():
            data[f"conditions-{index}-{key}"] = value
    data.update(overrides)
    return data


def existing_grants(profile):
    return [
        {"id": g.pk, "connector": g.connector.slug, "resources": ", ".join(g.resources)}
        | {"access": g.access}
        for g in profile.grants.select_related("connector").order_by("connector__slug", "id")
    ]


def preview_then_save(client, url, data, reason="Finance asked for a cap."):
    """Preview the change, then save it with the preview's fingerprint and a reason."""
    preview = client.post(url, data)
    assert preview.status_code == 200, preview.content.decode()[:2000]
    fingerprint = re.search(r'name="previewed" value="([0-9a-f]+)"', preview.content.decode())
    saved = {**data, "save": "1", "previewed": fingerprint.group(1), "reason": reason}
    saved.pop("preview")
    return client.post(url, saved)


def edit_url(action_type):
    return f"/action-types/{action_type.pk}/edit/"


def state():
    """What a refused request must leave unchanged."""
    return (
        list(ActionType.objects.order_by("pk").values()),
        list(PermissionProfile.objects.order_by("pk").values()),
        PolicyRevision.objects.values_list("number", flat=True).first(),
        AuditEvent.objects.count(),
    )


# ---------------------------------------------------------------------------
# Saving, with a reason


def test_admin_adds_a_condition_with_a_reason_and_the_event_carries_it(
    admin, governance_admin, refund
):
    response = preview_then_save(admin, edit_url(refund), action_type_data(refund, [DENY_BIG]))
    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.conditions == [DENY_BIG]
    event = AuditEvent.objects.filter(object_type="governance.actiontype").latest("id")
    assert event.event_type == EventType.CONFIG_UPDATED
    assert event.actor_user == governance_admin
    assert event.detail["reason"] == "Finance asked for a cap."
    assert event.changes["before"]["conditions"] == []
    assert event.changes["after"]["conditions"] == [DENY_BIG]
    history = admin.get(f"/audit/history/governance.actiontype/{refund.pk}/").content.decode()
    assert "Finance asked for a cap." in history


def test_saving_without_a_reason_is_refused_in_place(admin, refund):
    before = state()
    response = preview_then_save(
        admin, edit_url(refund), action_type_data(refund, [DENY_BIG]), reason="  "
    )
    assert response.status_code == 400
    assert "Say why you make this change" in response.content.decode()
    assert state() == before


def test_saving_a_change_other_than_the_previewed_one_shows_its_preview_instead(admin, refund):
    data = action_type_data(refund, [DENY_BIG])
    before = state()
    response = admin.post(
        edit_url(refund),
        {**data, "save": "1", "previewed": "0" * 64, "reason": "Cap refunds."},
    )
    assert response.status_code == 200
    assert 'data-testid="preview-stale"' in response.content.decode()
    assert state() == before


def test_admin_creates_an_action_type(admin, governance_admin, policy):
    data = {
        "key": "billing.credit_note",
        "name": "Issue a credit note",
        "impact": "medium",
        "reversible": "on",
        "approvals_needed": 1,
        "approval_ttl_minutes": 60,
        "conditions-TOTAL_FORMS": 1,
        "conditions-INITIAL_FORMS": 0,
        "conditions-0-name": "small",
        "conditions-0-when": "params.amount < 100",
        "conditions-0-effect": "auto_execute",
        "conditions-0-mode": "shadow",
        "preview": "1",
    }
    response = preview_then_save(admin, "/action-types/new/", data, reason="New billing tool.")
    created = ActionType.objects.get(key="billing.credit_note")
    assert response.status_code == 302 and response.url == created.get_absolute_url()
    assert created.conditions[0]["effect"] == "auto_execute"
    event = AuditEvent.objects.filter(object_id=str(created.pk)).get()
    assert event.event_type == EventType.CONFIG_CREATED
    assert event.detail["reason"] == "New billing tool."


def test_adding_a_row_rerenders_with_a_blank_condition_and_saves_nothing(admin, refund):
    before = state()
    data = action_type_data(refund, [DENY_BIG], add_conditions="1")
    data.pop("preview")
    response = admin.post(edit_url(refund), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="conditions-TOTAL_FORMS" value="2"' in page
    assert "This field is required" not in page  # the new row is blank, not wrong
    assert state() == before


# ---------------------------------------------------------------------------
# Refusals, in place


def test_a_condition_that_does_not_compile_is_refused_with_its_position(admin, refund):
    before = state()
    bad = {**DENY_BIG, "when": "params.amount >"}
    response = admin.post(edit_url(refund), action_type_data(refund, [bad]))
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r"line 1, column \d+", page)
    assert 'data-testid="preview"' not in page
    assert state() == before


def test_an_auto_execute_condition_on_an_irreversible_action_type_is_refused(admin, policy):
    send = policy.action_types.send
    before = state()
    rule = {**DENY_BIG, "name": "internal", "effect": "auto_execute"}
    response = admin.post(edit_url(send), action_type_data(send, [rule]))
    assert response.status_code == 400
    assert "cannot apply to an irreversible or high-impact" in response.content.decode()
    assert state() == before


def test_allow_listing_a_high_impact_action_type_is_refused(admin, policy):
    send = policy.action_types.send
    before = state()
    response = admin.post(edit_url(send), action_type_data(send, [], auto_execute="on"))
    assert response.status_code == 400
    assert "Only reversible actions of low or medium impact" in response.content.decode()
    assert state() == before


def test_two_conditions_with_one_name_are_refused(admin, refund):
    before = state()
    response = admin.post(edit_url(refund), action_type_data(refund, [DENY_BIG, DENY_BIG]))
    assert response.status_code == 400
    assert "Another condition already has this name." in response.content.decode()
    assert state() == before


def test_a_grant_glob_outside_the_path_grammar_is_refused(admin, policy):
    profile = policy.profile
    grants = existing_grants(profile)
    grants[0]["resources"] = "account/../opportunity/*"
    before = state()
    response = admin.post(f"/profiles/{profile.slug}/edit/", profile_data(profile, grants))
    assert response.status_code == 400
    assert "has a &#x27;..&#x27; segment" in response.content.decode()
    assert state() == before


# ---------------------------------------------------------------------------
# Profiles: grants as rows


def test_admin_changes_a_profiles_grants_in_one_audited_change(admin, policy):
    profile = policy.profile
    grants = existing_grants(profile)
    kept_ids = {grants[0]["id"], grants[1]["id"]}
    grants[0]["resources"] = "account/*, contact/*"
    grants[2]["DELETE"] = "on"
    events = AuditEvent.objects.count()
    response = preview_then_save(
        admin, f"/profiles/{profile.slug}/edit/", profile_data(profile, grants), "Contacts too."
    )
    assert response.status_code == 302
    rows = {(g.connector.slug, tuple(g.resources), g.access) for g in profile.grants.all()}
    assert rows == {
        ("crm", ("account/*", "contact/*"), "read"),
        ("crm", ("opportunity/*",), "write"),
    }
    assert set(profile.grants.values_list("pk", flat=True)) == kept_ids
    new = AuditEvent.objects.order_by("id")[events:]
    assert [e.event_type for e in new] == [EventType.CONFIG_UPDATED]
    assert new[0].detail["reason"] == "Contacts too."
    profile.refresh_from_db()
    assert profile.revision == 2


def test_adding_a_grant_row_shows_a_blank_row_that_is_ignored_if_left_blank(admin, policy):
    profile = policy.profile
    data = profile_data(profile, existing_grants(profile), add_grants="1")
    data.pop("preview")
    page = admin.post(f"/profiles/{profile.slug}/edit/", data).content.decode()
    assert 'name="grants-TOTAL_FORMS" value="4"' in page
    assert "This field is required" not in page
    blank = {"connector": "", "resources": "", "access": "read"}
    data = profile_data(profile, [*existing_grants(profile), blank])
    response = admin.post(f"/profiles/{profile.slug}/edit/", data)
    assert response.status_code == 200
    assert 'data-testid="preview-changed">0<' in response.content.decode()


def test_admin_creates_a_profile_with_a_grant(admin, policy):
    data = {
        "slug": "refunds",
        "name": "Refunds",
        "status": "active",
        "action_types": "billing.refund",
        "grants-TOTAL_FORMS": 1,
        "grants-INITIAL_FORMS": 0,
        "grants-0-connector": "crm",
        "grants-0-resources": "account/*",
        "grants-0-access": "read",
        "conditions-TOTAL_FORMS": 0,
        "conditions-INITIAL_FORMS": 0,
        "launcher_groups": [policy.approvers.pk],
        "preview": "1",
    }
    response = preview_then_save(admin, "/profiles/new/", data, reason="Refund desk.")
    assert response.status_code == 302
    profile = PermissionProfile.objects.get(slug="refunds")
    assert list(profile.grants.values_list("resources", flat=True)) == [["account/*"]]
    assert list(profile.launcher_groups.all()) == [policy.approvers]
    event = AuditEvent.objects.get(object_type="governance.permissionprofile", object_id=profile.pk)
    assert event.detail["reason"] == "Refund desk."
    assert event.changes["after"]["grants"][0]["resources"] == ["account/*"]


# ---------------------------------------------------------------------------
# The preview


@pytest.fixture
def refund_history(refund, decide):
    """Refunds decided over 40 days: two big ones and a small one in the last 30 days,
    a big one 40 days ago (outside the preview's window)."""
    ids = {}
    for label, days_ago, amount in [
        ("old_big", 40, 20000),
        ("big_1", 20, 20000),
        ("big_2", 2, 15000),
        ("small", 1, 50),
    ]:
        with time_machine.travel(NOW - timedelta(days=days_ago), tick=False):
            body = decide(action="billing.refund", params={"amount": amount}).json()
            assert body["outcome"] == "allow", body
            ids[label] = body["decision_id"]
    return ids


def test_the_preview_counts_the_decisions_the_change_would_have_changed(
    client, governance_admin, refund, refund_history
):
    with time_machine.travel(NOW, tick=False):
        client.force_login(governance_admin)
        response = client.post(edit_url(refund), action_type_data(refund, [DENY_BIG]))
        assert response.status_code == 200
        page = response.content.decode()
        summary = re.search(r'data-testid="preview-summary">(.*?)</p>', page, re.S).group(1)
        summary = re.sub(r"<[^>]+>|\s+", " ", summary)
        assert "would have changed 2 of the 3 recorded decisions" in re.sub(r" +", " ", summary)
        assert "2 allow → deny" in summary
        link = re.search(r'data-testid="preview-row">.*?href="([^"]+)"', page, re.S).group(1)
        link = link.replace("&amp;", "&")
        linked = parse_qs(urlparse(link).query)["decision"][0].split(",")
        assert set(linked) == {refund_history["big_1"], refund_history["big_2"]}
        audit_page = client.get(link).content.decode()
    assert refund_history["big_1"] in audit_page and refund_history["big_2"] in audit_page
    assert refund_history["small"] not in audit_page
    assert refund_history["old_big"] not in audit_page
    assert Decision.objects.filter(reason="condition_denied").count() == 0


# ---------------------------------------------------------------------------
# Checks as one types, and the test box


def htmx_post(client, url, data, trigger):
    return client.post(url, data, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER_NAME=trigger)


def test_a_condition_is_compiled_as_it_is_typed(admin, refund):
    bad = action_type_data(refund, [{**DENY_BIG, "when": "params.amount > 'x' +"}])
    response = htmx_post(admin, "/policy/check/", bad, "conditions-0-when")
    assert response.status_code == 400
    assert re.search(r"line 1, column \d+", response.content.decode())
    good = action_type_data(refund, [DENY_BIG])
    response = htmx_post(admin, "/policy/check/", good, "conditions-0-when")
    assert response.status_code == 200
    assert "Compiles." in response.content.decode()


def test_an_effect_is_checked_against_the_action_type_as_typed(admin, policy):
    send = policy.action_types.send
    rule = {**DENY_BIG, "effect": "auto_execute"}
    response = htmx_post(
        admin, "/policy/check/", action_type_data(send, [rule]), "conditions-0-effect"
    )
    assert response.status_code == 400
    assert "irreversible or high-impact" in response.content.decode()


def test_grant_globs_are_checked_as_they_are_typed(admin, policy):
    grants = existing_grants(policy.profile)
    grants[0]["resources"] = "account/*, contact//7"
    data = profile_data(policy.profile, grants)
    response = htmx_post(admin, "/policy/check/", data, "grants-0-resources")
    assert response.status_code == 400
    assert "empty segment" in response.content.decode()
    grants[0]["resources"] = "account/*, contact/%20x"
    data = profile_data(policy.profile, grants)
    response = htmx_post(admin, "/policy/check/", data, "grants-0-resources")
    assert response.status_code == 200 and "Valid paths." in response.content.decode()


@pytest.mark.parametrize(
    "params, expected",
    [
        ('{"amount": 20000}', "Matched</strong>: the decision is denied (condition_denied)"),
        ('{"amount": 50}', "Not matched</strong>: this condition changes nothing"),
        ('{"currency": "EUR"}', "Evaluation error</strong>"),
    ],
)
def test_the_test_box_says_what_the_condition_gives(admin, refund, params, expected):
    data = action_type_data(refund, [{**DENY_BIG, "test_params": params}])
    before = state()
    response = htmx_post(admin, "/policy/test/", data, "conditions-0-test")
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert state() == before


def test_the_test_box_refuses_params_that_are_not_a_json_object(admin, refund):
    data = action_type_data(refund, [{**DENY_BIG, "test_params": "[1, 2"}])
    response = htmx_post(admin, "/policy/test/", data, "conditions-0-test")
    assert response.status_code == 400
    assert "Not JSON" in response.content.decode()


def test_an_error_in_a_deny_condition_denies_in_the_test_box(admin, refund):
    data = action_type_data(refund, [{**DENY_BIG, "test_params": "{}"}])
    response = htmx_post(admin, "/policy/test/", data, "conditions-0-test")
    assert "a deny condition that fails denies (condition_error)" in response.content.decode()


# ---------------------------------------------------------------------------
# Permissions


READERS = ["approver", "auditor", "leader", "connector_owner"]


@pytest.mark.parametrize("persona", READERS)
def test_other_roles_read_the_editor_without_a_form(client, request, persona, refund, policy):
    client.force_login(request.getfixturevalue(persona))
    for url in (edit_url(refund), f"/profiles/{policy.profile.slug}/edit/"):
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert 'data-testid="read-only"' in page
        assert 'id="editor"' not in page and "hx-post" not in page
        assert "Save the change" not in page and "Add a condition" not in page
    assert 'name="name" value="Refunds"' not in page  # the profile page, not a blank form


@pytest.mark.parametrize("persona", READERS)
def test_other_roles_cannot_post_to_the_editor(client, request, persona, refund, policy):
    client.force_login(request.getfixturevalue(persona))
    before = state()
    data = action_type_data(refund, [DENY_BIG])
    responses = [
        client.post(edit_url(refund), {**data, "save": "1", "reason": "x"}),
        client.post(f"/profiles/{policy.profile.slug}/edit/", {"preview": "1"}),
        client.post("/action-types/new/", data),
        client.get("/action-types/new/"),
        client.get("/profiles/new/"),
        htmx_post(client, "/policy/check/", data, "conditions-0-when"),
        htmx_post(client, "/policy/test/", data, "conditions-0-test"),
    ]
    assert [r.status_code for r in responses] == [403] * len(responses)
    assert state() == before


def test_people_without_an_overseeing_role_get_no_editor(client, outsider, refund):
    client.force_login(outsider)
    assert client.get(edit_url(refund)).status_code == 403


def test_the_editor_needs_the_csrf_token(governance_admin, refund):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(governance_admin)
    before = state()
    response = client.post(edit_url(refund), action_type_data(refund, [DENY_BIG]))
    assert response.status_code == 403
    assert state() == before


def test_admins_find_the_editor_from_the_pages_they_know(admin, refund, policy):
    assert "/action-types/new/" in admin.get("/action-types/").content.decode()
    assert "/profiles/new/" in admin.get("/profiles/").content.decode()
    detail = admin.get(refund.get_absolute_url()).content.decode()
    assert f"/action-types/{refund.pk}/edit/" in detail and ">Edit<" in detail
    editor = admin.get(f"/profiles/{policy.profile.slug}/edit/").content.decode()
    assert 'hx-post="/policy/check/"' in editor and 'id="editor"' in editor


def test_a_policy_change_between_preview_and_save_asks_for_a_fresh_preview(
    admin, refund, policy, governance_admin
):
    from governance.services import action_type_update

    data = action_type_data(refund, [DENY_BIG])
    preview = admin.post(edit_url(refund), data).content.decode()
    fingerprint = re.search(r'name="previewed" value="([0-9a-f]+)"', preview).group(1)
    action_type_update(policy.action_types.update, actor=governance_admin, approvals_needed=2)
    data = {**data, "save": "1", "previewed": fingerprint, "reason": "Cap refunds."}
    response = admin.post(edit_url(refund), data)
    assert response.status_code == 200
    assert 'data-testid="preview-stale"' in response.content.decode()
    refund.refresh_from_db()
    assert refund.conditions == []


# ---------------------------------------------------------------------------
# The services themselves


def test_the_services_refuse_people_who_are_not_governance_admins(approver, refund, policy):
    from governance.exceptions import PermissionDenied
    from governance.services import action_type_save, profile_save

    before = state()
    with pytest.raises(PermissionDenied):
        action_type_save(refund, actor=approver, reason="x", conditions=[DENY_BIG])
    with pytest.raises(PermissionDenied):
        profile_save(policy.profile, actor=approver, reason="x", grants=[], name="y")
    assert state() == before


def test_the_services_need_a_reason(governance_admin, refund):
    from governance.exceptions import ValidationFailed
    from governance.services import action_type_save

    before = state()
    with pytest.raises(ValidationFailed) as refused:
        action_type_save(refund, actor=governance_admin, reason="", conditions=[DENY_BIG])
    assert "reason" in refused.value.extra["fields"]
    assert state() == before


@pytest.mark.parametrize("trigger", ["impact", "reversible", "auto_execute"])
def test_the_allow_list_is_checked_as_impact_and_reversibility_change(admin, refund, trigger):
    high = action_type_data(refund, [], impact="high")
    response = htmx_post(admin, "/policy/check/", high, trigger)
    assert response.status_code == 400
    assert "Only reversible actions of low or medium impact" in response.content.decode()
    response = htmx_post(admin, "/policy/check/", action_type_data(refund, []), trigger)
    assert response.status_code == 200


def test_action_type_patterns_are_checked_as_they_are_typed(admin, policy):
    grants = existing_grants(policy.profile)
    data = profile_data(policy.profile, grants, action_types="crm.read_record, CRM.Read")
    response = htmx_post(admin, "/policy/check/", data, "action_types")
    assert response.status_code == 400
    assert "is not an action type key or glob" in response.content.decode()
    data = profile_data(policy.profile, grants)
    assert htmx_post(admin, "/policy/check/", data, "action_types").status_code == 200


def test_the_profile_preview_counts_reads_a_narrower_grant_would_deny(
    client, governance_admin, policy, decide
):
    with time_machine.travel(NOW - timedelta(days=3), tick=False):
        for account in (1, 2):
            assert decide(data_sources=[f"crm:account/{account}"]).json()["outcome"] == "allow"
        assert decide(data_sources=["crm:account/vip/7"]).json()["outcome"] == "allow"
    grants = existing_grants(policy.profile)
    grants[0]["resources"] = "account/vip/*"
    with time_machine.travel(NOW, tick=False):
        client.force_login(governance_admin)
        response = client.post(
            f"/profiles/{policy.profile.slug}/edit/", profile_data(policy.profile, grants)
        )
    page = re.sub(r"<[^>]+>|\s+", " ", response.content.decode())
    assert response.status_code == 200
    assert "would have changed 2 of the 3 recorded decisions" in re.sub(r" +", " ", page)
    assert "2 allow → deny" in page
    assert list(policy.profile.grants.values_list("resources", flat=True).order_by("id"))[0] == [
        "account/*"
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"conditions-TOTAL_FORMS": "many"},
        {"conditions-0-effect": "allow_everything"},
        {"approver_group": "999999"},
        {"impact": "catastrophic"},
        {"approval_ttl_minutes": "-5"},
        {"conditions-0-when": "x" * 3000},
        {"conditions-0-name": "Big Refunds!"},
    ],
)
def test_bad_input_to_the_editor_is_a_400_and_changes_nothing(admin, refund, overrides):
    before = state()
    response = admin.post(edit_url(refund), action_type_data(refund, [DENY_BIG], **overrides))
    assert response.status_code == 400
    assert state() == before


@pytest.mark.parametrize("trigger", ["", "conditions-9-when", "key", "grants-0-connector"])
def test_checks_of_unknown_or_missing_fields_are_400(admin, refund, trigger):
    response = htmx_post(admin, "/policy/check/", action_type_data(refund, []), trigger)
    assert response.status_code == 400


def test_a_grant_naming_an_unknown_connector_is_refused(admin, policy):
    grants = existing_grants(policy.profile)
    grants[0]["connector"] = "nowhere"
    before = state()
    data = profile_data(policy.profile, grants)
    response = admin.post(f"/profiles/{policy.profile.slug}/edit/", data)
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert state() == before


def test_saving_an_untouched_editor_records_no_change(admin, policy, refund):
    """What a browser does to the text (CRLF line ends) and the form's precision (no
    sub-second expiry) must not show up as a change nobody made."""
    profile = policy.profile
    profile.description = "Follow up on deals.\nNever e-mail a customer twice a day.\n"
    profile.expires_at = datetime(2031, 12, 31, 23, 59, 59, 123456, tzinfo=UTC)
    profile.conditions = [{**DENY_BIG, "when": "params.amount >\n  10000 "}]
    profile.save()
    refund.description = "Refund a charge.\n"
    refund.save()
    before = settings_state()
    typed = {
        "description": profile.description.replace("\n", "\r\n"),
        "expires_at": timezone_local(profile.expires_at),
    }
    conditions = [{**DENY_BIG, "when": "params.amount >\r\n  10000"}]
    data = profile_data(profile, existing_grants(profile), conditions, **typed)
    response = preview_then_save(admin, f"/profiles/{profile.slug}/edit/", data, "No change.")
    assert response.status_code == 302
    data = action_type_data(refund, [], description="Refund a charge.\r\n")
    assert preview_then_save(admin, edit_url(refund), data, "No change.").status_code == 302
    assert settings_state() == before
    page = admin.get(response.url).content.decode()
    assert "Nothing changed" in page


def settings_state():
    """The settings, the revision and the log, without the rows' saved-at times."""
    at, profiles, revision, events = state()
    for row in [*at, *profiles]:
        row.pop("updated_at")
    return at, profiles, revision, events


def timezone_local(moment):
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M:%S")


def test_the_test_box_takes_data_sources_too(admin, policy):
    rule = {
        "name": "hr-data",
        "when": "data_sources.exists(s, s.startsWith('hr:'))",
        "effect": "require_approval",
        "mode": "shadow",
        "message": "",
        "test_data_sources": "crm:account/1, hr:employee/7",
    }
    data = profile_data(policy.profile, existing_grants(policy.profile), [rule])
    response = htmx_post(admin, "/policy/test/", data, "conditions-0-test")
    page = response.content.decode()
    assert "Matched</strong>: a person decides (condition_requires_approval)" in page
    assert "In shadow mode it is only recorded." in page


def test_a_shadow_condition_links_to_its_shadow_page_from_the_detail_page(client, auditor, refund):
    refund.conditions = [{**DENY_BIG, "mode": "shadow"}]
    refund.save()
    client.force_login(auditor)
    page = client.get(refund.get_absolute_url()).content.decode()
    url = f"/audit/tuning/conditions/action-type/billing.refund/{DENY_BIG['name']}/"
    assert url in page
    assert client.get(url).status_code == 200
