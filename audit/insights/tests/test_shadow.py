"""Conditions in shadow mode: what each would have done over a window (counted from the
decisions' recorded facts), its page with links to exactly those decisions in the audit
log, the tuning page's section, and promoting or deleting it from the page."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from audit.filters import AuditEventFilterSet
from audit.models import AuditEvent
from governance.models import ActionType, PermissionProfile, PolicyRevision
from governance.services import action_type_update, profile_update
from governance.shadow import ConditionRef, shadow_counts, would_outcome

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BIG = "has(params.amount) && params.amount > 10000"
UPDATE_CONDITIONS = [
    {"name": "big-update", "when": BIG, "effect": "deny", "mode": "shadow"},
    {
        "name": "small-update",
        "when": "has(params.amount) && params.amount < 100",
        "effect": "auto_execute",
        "mode": "shadow",
    },
]
READ_CONDITIONS = [
    {
        "name": "account-seven",
        "when": "params.account_id == 7",
        "effect": "require_approval",
        "mode": "shadow",
        "message": "Account 7 is under legal hold.",
    }
]
BIG_UPDATE = ConditionRef("action_type", "crm.update_record", "big-update")
SMALL_UPDATE = ConditionRef("action_type", "crm.update_record", "small-update")
ACCOUNT_SEVEN = ConditionRef("action_type", "crm.read_record", "account-seven")


def at(days_ago: float):
    return time_machine.travel(NOW - timedelta(days=days_ago), tick=False)


@pytest.fixture
def shadowed(policy, governance_admin, decide):
    """Shadow conditions on crm.update_record and crm.read_record, and decisions 40 days
    ago, 10 days ago and today; returns the decision ids by label."""
    for key, conditions in (
        ("crm.update_record", UPDATE_CONDITIONS),
        ("crm.read_record", READ_CONDITIONS),
    ):
        action_type_update(
            ActionType.objects.get(key=key), actor=governance_admin, conditions=conditions
        )

    def update(amount):
        params = {"stage": "won"} if amount is None else {"stage": "won", "amount": amount}
        return decide(
            action="crm.update_record",
            connector="crm",
            data_sources=["crm:opportunity/9"],
            params=params,
        ).json()["decision_id"]

    def read(account):
        return decide(params={"account_id": account}).json()["decision_id"]

    ids = {}
    with at(40):
        ids["old-big"], ids["old-seven"] = update(20000), read(7)
    with at(10):
        ids["big-1"], ids["small-1"], ids["middle"] = update(20000), update(50), update(500)
        ids["seven"], ids["other-read"] = read(7), read(42)
    with at(1 / 24):
        ids["big-2"], ids["small-2"], ids["no-amount"] = update(30000), update(20), update(None)
    return ids


def test_counts_are_what_each_condition_would_have_done_over_the_window(shadowed):
    with at(0):
        big = shadow_counts(BIG_UPDATE, days=30)
        small = shadow_counts(SMALL_UPDATE, days=30)
        seven = shadow_counts(ACCOUNT_SEVEN, days=30)
        big_90 = shadow_counts(BIG_UPDATE, days=90)
        today = shadow_counts(BIG_UPDATE, days=1)
    assert big.evaluated == 6  # every update in the window reached it
    assert dict(big.would) == {"deny": 2} and dict(big.changed) == {"deny": 2}
    # Not on the allow-list, so a person decided them: enforced, it would allow them.
    assert dict(small.would) == {"allow": 2} and small.total_changed == 2
    assert seven.evaluated == 2
    assert dict(seven.would) == {"pending": 1} and dict(seven.changed) == {"pending": 1}
    assert dict(big_90.would) == {"deny": 3}
    assert dict(today.would) == {"deny": 1} and today.evaluated == 3
    assert (big.start, big.end) == (NOW.date() - timedelta(days=29), NOW.date())


def test_the_audit_log_links_open_exactly_those_decisions(shadowed, client, governance_admin):
    client.force_login(governance_admin)
    with at(0):
        page = client.get(
            reverse(
                "audit:condition_shadow", args=["action-type", "crm.update_record", "big-update"]
            )
        )
        links = {row["would"]: row["link"] for row in page.context["rows"]}
        assert _decisions_behind(links["deny"]) == {shadowed["big-1"], shadowed["big-2"]}
        assert _decisions_behind(links["allow"]) == set()
        page = client.get(
            reverse(
                "audit:condition_shadow", args=["action-type", "crm.update_record", "small-update"]
            )
        )
        links = {row["would"]: row["link"] for row in page.context["rows"]}
        assert _decisions_behind(links["allow"]) == {shadowed["small-1"], shadowed["small-2"]}
        log = client.get(links["allow"]).content.decode()
    assert 'data-testid="event-count">2 events<' in log
    assert 'data-testid="link-allow"' in page.content.decode()
    assert 'data-testid="link-deny"' not in page.content.decode()  # nothing to open


def _decisions_behind(link: str) -> set[str]:
    """The decisions of the events the audit log's filters select for `link`."""
    query = QueryDict(urlsplit(link).query)
    assert query["event_type"] == "decision_made"
    filterset = AuditEventFilterSet(query, queryset=AuditEvent.objects.all())
    assert filterset.is_valid(), filterset.errors
    return {str(pk) for pk in filterset.qs.values_list("decision_id", flat=True)}


def test_the_condition_filter_refuses_a_malformed_name(client, auditor):
    client.force_login(auditor)
    response = client.get(reverse("audit:event_list"), {"condition": "big-update"})
    assert response.status_code == 400
    assert "action_type:&lt;key&gt;:&lt;name&gt;" in response.content.decode()


def test_a_condition_added_later_counts_nothing_before_it_existed(shadowed, governance_admin):
    strict = {"name": "strict", "when": "params.amount > 10000", "effect": "deny", "mode": "shadow"}
    action = ActionType.objects.get(key="crm.update_record")
    action_type_update(action, actor=governance_admin, conditions=[*UPDATE_CONDITIONS, strict])
    counts = shadow_counts(ConditionRef("action_type", "crm.update_record", "strict"), days=90)
    assert counts.evaluated == 0  # recorded from now on: the history is not rewritten


@pytest.mark.parametrize(
    ("effect", "result", "outcome", "reason", "would"),
    [
        ("deny", "match", "allow", "auto_execute_allowlisted", "deny"),
        ("deny", "error", "pending", "requires_human_approval", "deny"),
        ("deny", "no_match", "allow", "auto_execute_allowlisted", None),
        ("require_approval", "match", "allow", "auto_execute_allowlisted", "pending"),
        ("require_approval", "error", "allow", "auto_execute_allowlisted", "pending"),
        ("require_approval", "match", "deny", "condition_denied", "deny"),
        ("auto_execute", "match", "pending", "requires_human_approval", "allow"),
        ("auto_execute", "match", "allow", "auto_execute_allowlisted", "allow"),
        ("auto_execute", "match", "pending", "profile_requires_approval", "pending"),
        ("auto_execute", "match", "pending", "condition_requires_approval", "pending"),
        ("auto_execute", "match", "deny", "condition_denied", "deny"),
        ("auto_execute", "error", "pending", "requires_human_approval", None),
    ],
)
def test_what_an_enforced_condition_would_have_made_of_a_decision(
    effect, result, outcome, reason, would
):
    assert would_outcome({"effect": effect, "result": result}, outcome, reason) == would


def test_errors_of_a_shadow_deny_condition_would_have_denied(policy, governance_admin, decide):
    strict = {"name": "strict", "when": "params.amount > 10000", "effect": "deny", "mode": "shadow"}
    action_type_update(
        ActionType.objects.get(key="crm.read_record"), actor=governance_admin, conditions=[strict]
    )
    with at(1):
        decide(params={"account_id": 1})  # no amount: the evaluation fails
        decide(params={"account_id": 1, "amount": 5})
    with at(0):
        counts = shadow_counts(ConditionRef("action_type", "crm.read_record", "strict"))
    assert counts.evaluated == 2
    assert dict(counts.would) == {"deny": 1} and dict(counts.changed) == {"deny": 1}


# -- the page ---------------------------------------------------------------------------------

PAGE = ("action-type", "crm.update_record", "big-update")


def page_url(*args):
    return reverse("audit:condition_shadow", args=args or PAGE)


def act_url(action, *args):
    return reverse("audit:condition_act", args=[*(args or PAGE), action])


@pytest.mark.parametrize(
    ("persona", "status", "buttons"),
    [
        ("governance_admin", 200, True),
        ("leader", 200, False),
        ("auditor", 200, False),
        ("approver", 200, False),
        ("connector_owner", 200, False),
        ("outsider", 403, False),
    ],
)
def test_who_sees_the_page_and_its_buttons(shadowed, client, request, persona, status, buttons):
    client.force_login(request.getfixturevalue(persona))
    with at(0):
        response = client.get(page_url())
    assert response.status_code == status
    html = response.content.decode()
    assert ('data-testid="promote"' in html) is buttons
    assert ('data-testid="delete"' in html) is buttons
    if status == 200:
        assert 'data-testid="total">2<' in html
        assert "has(params.amount) &amp;&amp; params.amount &gt; 10000" in html  # escaped


def test_anonymous_visitors_are_sent_to_sign_in(shadowed, client):
    response = client.get(page_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.post(act_url("promote"), {"reason": "x"}).status_code == 302
    assert _stored("big-update")["mode"] == "shadow"


@pytest.mark.parametrize("persona", ["leader", "auditor", "approver", "outsider"])
@pytest.mark.parametrize("action", ["promote", "delete"])
def test_only_governance_admins_may_promote_or_delete(shadowed, client, request, persona, action):
    client.force_login(request.getfixturevalue(persona))
    before = _everything()
    assert client.post(act_url(action), {"reason": "Because."}).status_code == 403
    assert _everything() == before


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (("action-type", "crm.update_record", "ghost"), 404),
        (("action-type", "nope.nope", "big-update"), 404),
        (("person", "crm.update_record", "big-update"), 404),
        (("profile", "crm.update_record", "big-update"), 404),
    ],
)
def test_an_unknown_condition_is_a_404(shadowed, client, governance_admin, args, status):
    client.force_login(governance_admin)
    assert client.get(page_url(*args)).status_code == status
    assert client.post(act_url("promote", *args), {"reason": "x"}).status_code == status


def test_a_bad_window_is_a_400_in_place(shadowed, client, leader):
    client.force_login(leader)
    response = client.get(page_url(), {"days": "forever"})
    assert response.status_code == 400
    assert "days must be a whole number" in response.content.decode()


def test_a_post_without_the_csrf_token_is_refused(shadowed, governance_admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(governance_admin)
    before = _everything()
    assert client.post(act_url("promote"), {"reason": "Quiet."}).status_code == 403
    assert _everything() == before


@pytest.mark.parametrize("action", ["promote", "delete"])
def test_a_missing_reason_is_refused_in_place(shadowed, client, governance_admin, action):
    client.force_login(governance_admin)
    before = _everything()
    with at(0):
        response = client.post(act_url(action), {"reason": "  "})
    assert response.status_code == 400
    assert "a reason is required" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert _everything() == before


def test_promoting_from_the_page_enforces_it_with_the_reason(shadowed, client, governance_admin):
    client.force_login(governance_admin)
    revision = PolicyRevision.objects.get(id=1).number
    response = client.post(act_url("promote"), {"reason": "Two quiet weeks."})
    assert response.status_code == 302 and response["Location"] == page_url()
    assert _stored("big-update")["mode"] == "enforce"
    assert PolicyRevision.objects.get(id=1).number > revision
    event = AuditEvent.objects.filter(event_type="config_updated").latest("id")
    assert event.detail["reason"] == "Two quiet weeks."
    page = client.get(page_url()).content.decode()
    assert 'data-testid="promote"' not in page and 'data-testid="delete"' in page


def test_deleting_from_the_page_removes_it_with_the_reason(shadowed, client, governance_admin):
    client.force_login(governance_admin)
    response = client.post(act_url("delete"), {"reason": "Too noisy."})
    assert response.status_code == 302 and response["Location"] == reverse("audit:tuning")
    assert _stored("big-update") is None
    event = AuditEvent.objects.filter(event_type="config_updated").latest("id")
    assert event.detail == {
        "reason": "Too noisy.",
        "condition": "big-update",
        "change": "condition_delete",
    }
    assert client.get(page_url()).status_code == 404


# -- the tuning page --------------------------------------------------------------------------


def test_the_tuning_page_lists_every_shadow_condition_with_its_counts(shadowed, client, leader):
    client.force_login(leader)
    with at(0):
        html = client.get(reverse("audit:tuning")).content.decode()
    section = html[html.index('data-testid="shadow-conditions"') :]
    for ref in (BIG_UPDATE, SMALL_UPDATE, ACCOUNT_SEVEN):
        assert f'href="{page_url(ref.url_kind, ref.owner, ref.name)}"' in section
    row = section[section.index('data-testid="shadow-crm.update_record-big-update"') :]
    row = row[: row.index("</tr>")]
    cells = [c.split(">")[-1] for c in row.split("</td>")[:-1]]
    # evaluated, would deny, would send to a person, would allow, would change
    assert cells[-5:] == ["6", "2", "0", "0", "2"]


def test_the_tuning_page_says_when_no_condition_is_in_shadow_mode(policy, client, leader):
    client.force_login(leader)
    html = client.get(reverse("audit:tuning")).content.decode()
    assert "No condition is in shadow mode." in html


def _stored(name):
    conditions = ActionType.objects.get(key="crm.update_record").conditions
    return next((c for c in conditions if c["name"] == name), None)


def _everything():
    return (
        ActionType.objects.get(key="crm.update_record").conditions,
        PolicyRevision.objects.get(id=1).number,
        AuditEvent.objects.count(),
    )


def test_a_profile_condition_has_its_page_and_counts(policy, governance_admin, decide, client):
    profile = PermissionProfile.objects.get(slug="sales")
    shadow = {"name": "big", "when": BIG, "effect": "require_approval", "mode": "shadow"}
    profile_update(profile, actor=governance_admin, conditions=[shadow])
    with at(2):
        decide(params={"account_id": 1, "amount": 50000})  # an allowed read
        decide(params={"account_id": 1, "amount": 5})
    client.force_login(governance_admin)
    with at(0):
        response = client.get(page_url("profile", "sales", "big"))
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts.evaluated == 2
    assert dict(counts.would) == {"pending": 1} and dict(counts.changed) == {"pending": 1}
    assert 'href="/profiles/sales/"' in response.content.decode()


def test_an_admin_can_replay_the_condition_enforced_before_promoting_it(
    shadowed, client, governance_admin
):
    client.force_login(governance_admin)
    with at(0):
        page = client.get(page_url(*PAGE[:2], "small-update"))
        link = page.context["simulate_link"]
        assert f'href="{link.replace("&", "&amp;")}"' in page.content.decode()
        simulation = client.get(link).context["simulation"]
    # The 30-day replay agrees with the page: the two small updates would have been allowed.
    assert dict(simulation.transitions) == {("pending", "allow"): 2}
    assert ActionType.objects.get(key="crm.update_record").conditions == UPDATE_CONDITIONS


def test_the_would_filter_alone_is_refused_rather_than_ignored(client, auditor):
    client.force_login(auditor)
    response = client.get(reverse("audit:event_list"), {"condition_would": "deny"})
    assert response.status_code == 400
    assert "Name the condition too" in response.content.decode()


def test_the_audit_api_filters_by_condition_too(shadowed, auditor):
    api = APIClient()
    api.force_authenticate(auditor)
    answer = api.get(
        "/api/v1/audit/events",
        {"condition": str(SMALL_UPDATE), "condition_would": "allow", "event_type": "decision_made"},
    )
    assert answer.status_code == 200
    decisions = {event["decision_id"] for event in answer.json()["results"]}
    assert decisions == {shadowed["small-1"], shadowed["small-2"]}
    assert api.get("/api/v1/audit/events", {"condition": "nonsense"}).status_code == 400
