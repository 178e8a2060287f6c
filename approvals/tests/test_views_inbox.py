"""The inbox pages: who sees what, and deciding through the UI (with and without htmx)."""

import json

import pytest
from django.urls import reverse

from approvals.models import ApprovalRequest
from audit.models import AuditEvent
from governance.models import Decision
from governance.services import params_digest

pytestmark = pytest.mark.django_db


def vote_url(approval) -> str:
    return reverse("approvals:approval_request_vote", args=[approval.pk])


def test_inbox_lists_requests_routed_to_my_groups(client, approver, pending):
    client.force_login(approver)
    content = client.get("/approvals/").content.decode()
    assert pending.get_absolute_url() in content
    assert "mail.send_external" in content


def test_inbox_hides_requests_of_other_groups(client, auditor, pending, make_pending):
    critical = make_pending("critical")
    client.force_login(auditor)
    content = client.get("/approvals/").content.decode()
    assert pending.get_absolute_url() not in content
    assert critical.get_absolute_url() not in content


def test_inbox_hides_my_own_requests(client, requester, pending, policy):
    policy.approvers.user_set.add(requester)
    client.force_login(requester)
    assert pending.get_absolute_url() not in client.get("/approvals/").content.decode()


def test_inbox_is_ordered_most_urgent_first(client, approver, make_pending):
    later = make_pending("send")  # 240 minutes
    sooner = make_pending("update")  # 60 minutes
    client.force_login(approver)
    content = client.get("/approvals/").content.decode()
    assert content.index(sooner.get_absolute_url()) < content.index(later.get_absolute_url())


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("action=crm.update_record", "update"),
        ("impact=high", "send"),
        ("connector=mail", "send"),
        ("connector=crm", "update"),
        ("profile=sales", "both"),
        ("requester=SAM@corp.example", "both"),
        ("age=1h", "none"),
    ],
)
def test_inbox_filters(client, approver, make_pending, query, shown):
    send, update = make_pending("send"), make_pending("update")
    client.force_login(approver)
    content = client.get(f"/approvals/?{query}").content.decode()
    assert (send.get_absolute_url() in content) == (shown in ("send", "both"))
    assert (update.get_absolute_url() in content) == (shown in ("update", "both"))


def test_navigation_shows_the_inbox_count(client, approver, make_pending):
    make_pending("send")
    make_pending("update")
    client.force_login(approver)
    content = client.get("/").content.decode()
    assert 'data-testid="nav-badge-inbox">2<' in content


def test_detail_shows_everything_needed_to_decide(client, approver, pending):
    client.force_login(approver)
    content = client.get(pending.get_absolute_url()).content.decode()
    for text in [
        "sales-agent",
        "sam@corp.example",
        "sales",
        "irreversible",
        "mail:outbox/1",
        "outreach@2.1.0",
        "claude-sonnet-4-5",
        "Follow-up &lt;b&gt;after&lt;/b&gt; the call.",  # escaped, not rendered
        "buyer@customer.example",
        "left",
        "How similar requests were decided",
    ]:
        assert text in content, text


def test_detail_outside_my_scope_is_404(client, outsider, pending):
    client.force_login(outsider)
    assert client.get(pending.get_absolute_url()).status_code == 404
    assert client.post(vote_url(pending), {"verdict": "approve"}).status_code == 404


def test_requester_may_look_at_their_request_but_not_decide_it(client, requester, pending):
    client.force_login(requester)
    content = client.get(pending.get_absolute_url()).content.decode()
    assert "You cannot decide a request made on your own behalf." in content
    response = client.post(vote_url(pending), {"verdict": "approve"})
    assert response.status_code == 403
    assert Decision.objects.get(pk=pending.decision_id).status == "pending"


def test_approving_through_the_page(client, approver, pending):
    client.force_login(approver)
    response = client.post(vote_url(pending), {"verdict": "approve", "params": ""})
    assert response.status_code == 302
    decision = Decision.objects.get(pk=pending.decision_id)
    assert decision.status == "approved"
    assert decision.approval == "human:alex@corp.example"


def test_approving_with_edited_params(client, approver, pending):
    client.force_login(approver)
    edited = {"to": "buyer@customer.example", "body": "standard pricing"}
    client.post(vote_url(pending), {"verdict": "approve", "params": json.dumps(edited)})
    decision = Decision.objects.get(pk=pending.decision_id)
    assert decision.effective_params == edited
    event = AuditEvent.objects.get(event_type="decision_approved")
    assert event.approved_params_digest == params_digest(edited) != event.params_digest


def test_unchanged_params_are_an_approval_as_proposed(client, approver, pending):
    client.force_login(approver)
    proposed = json.dumps(Decision.objects.get(pk=pending.decision_id).params, indent=4)
    client.post(vote_url(pending), {"verdict": "approve", "params": proposed})
    decision = Decision.objects.get(pk=pending.decision_id)
    assert decision.approved_params is None


@pytest.mark.parametrize(
    ("params", "message"),
    [("{not json", "Not valid JSON"), ("[1, 2]", "must be a JSON object")],
)
def test_bad_params_are_shown_back_with_the_error(client, approver, pending, params, message):
    client.force_login(approver)
    response = client.post(vote_url(pending), {"verdict": "approve", "params": params})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Decision.objects.get(pk=pending.decision_id).status == "pending"


def test_rejecting_needs_a_reason_on_the_page(client, approver, pending):
    client.force_login(approver)
    response = client.post(vote_url(pending), {"verdict": "reject", "comment": ""})
    assert response.status_code == 400
    assert "Give a reason" in response.content.decode()
    client.post(vote_url(pending), {"verdict": "reject", "comment": "Wrong customer"})
    assert Decision.objects.get(pk=pending.decision_id).status == "rejected"


def test_htmx_vote_answers_the_panel_only(client, approver, pending):
    client.force_login(approver)
    response = client.post(vote_url(pending), {"verdict": "approve"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith("<section")
    assert "approved" in content
    assert "<html" not in content


def test_second_vote_on_a_resolved_request_says_why(client, approver, second_approver, pending):
    client.force_login(approver)
    client.post(vote_url(pending), {"verdict": "approve"})
    client.force_login(second_approver)
    response = client.post(vote_url(pending), {"verdict": "reject", "comment": "late"})
    assert response.status_code == 409
    assert "already approved" in response.content.decode()


def test_bulk_approve_takes_only_low_impact_reversible_requests(
    client, approver, make_pending, policy
):
    policy.action_types.update.impact = "low"
    policy.action_types.update.save()
    from governance.services import policy_revision_bump

    policy_revision_bump()
    low = make_pending("update")
    high = make_pending("send")
    client.force_login(approver)
    page = client.get("/approvals/").content.decode()
    assert f'name="approval_ids" value="{low.pk}"' in page
    assert f'name="approval_ids" value="{high.pk}"' not in page
    response = client.post(
        "/approvals/bulk-approve/", {"approval_ids": [low.pk, high.pk]}, follow=True
    )
    assert ApprovalRequest.objects.get(pk=low.pk).status == "approved"
    assert ApprovalRequest.objects.get(pk=high.pk).status == "pending"
    content = response.content.decode()
    assert "Approved 1 request" in content
    assert f"Request #{high.pk} was not approved" in content


def test_bulk_approve_refuses_requests_outside_my_inbox(client, auditor, make_pending):
    low = make_pending("update")
    client.force_login(auditor)
    response = client.post("/approvals/bulk-approve/", {"approval_ids": [low.pk]}, follow=True)
    assert "no longer in your inbox" in response.content.decode()
    assert ApprovalRequest.objects.get(pk=low.pk).status == "pending"


def test_decided_list_shows_what_i_voted_on(client, approver, pending):
    client.force_login(approver)
    client.post(vote_url(pending), {"verdict": "approve"})
    assert pending.get_absolute_url() in client.get("/approvals/decided/").content.decode()
    assert pending.get_absolute_url() not in client.get("/approvals/").content.decode()


def test_everything_view_is_for_governance_admins(client, governance_admin, approver, pending):
    client.force_login(approver)
    assert client.get("/approvals/all/").status_code == 403
    client.force_login(governance_admin)
    assert pending.get_absolute_url() in client.get("/approvals/all/").content.decode()


def test_inbox_query_count_does_not_grow_with_requests(
    client, approver, make_pending, django_assert_max_num_queries
):
    for _ in range(6):
        make_pending("send")
    client.force_login(approver)
    client.get("/approvals/")
    with django_assert_max_num_queries(14):
        client.get("/approvals/")


def test_inbox_needs_a_sign_in(client):
    response = client.get("/approvals/")
    assert response.status_code == 302
