"""The approver's journey on the request page (issue 14): errors in place, 1 of 2, what
changed, approve and open the next, the inbox row summary, the reason limit."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from approvals.models import ApprovalRequest, ApprovalVote
from approvals.services import approval_vote_cast
from audit.models import AuditEvent
from governance.models import Decision

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def vote_url(approval) -> str:
    return reverse("approvals:approval_request_vote", args=[approval.pk])


def nothing_recorded(approval) -> bool:
    approval.refresh_from_db()
    return (
        approval.status == "pending"
        and not ApprovalVote.objects.filter(request=approval).exists()
        and not AuditEvent.objects.filter(event_type="approval_vote_cast").exists()
    )


# Vote errors in place ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("post", "field_error"),
    [
        ({"verdict": "approve", "params": "{not json"}, 'data-testid="params-error"'),
        ({"verdict": "reject", "comment": ""}, 'data-testid="comment-error"'),
    ],
)
def test_an_htmx_vote_error_comes_back_as_the_panel_with_the_error_beside_its_field(
    client, approver, pending, post, field_error
):
    client.force_login(approver)
    response = client.post(vote_url(pending), post, **HTMX)
    assert response.status_code == 400
    content = response.content.decode()
    assert content.lstrip().startswith('<section class="card vote-panel"')
    assert field_error in content
    assert "<html" not in content  # swapped into the panel; the rest of the page stays
    assert 'id="approval-status" data-testid="approval-status" hx-swap-oob="true"' in content
    assert nothing_recorded(pending)


def test_the_field_in_error_is_marked_invalid_and_points_at_its_message(client, approver, pending):
    client.force_login(approver)
    content = client.post(
        vote_url(pending), {"verdict": "approve", "params": "{not json"}, **HTMX
    ).content.decode()
    assert 'aria-invalid="true" aria-describedby="params-error"' in content
    assert 'id="params-error"' in content


def test_a_refused_vote_by_someone_without_an_inbox_carries_no_badge(client, requester, pending):
    client.force_login(requester)
    response = client.post(vote_url(pending), {"verdict": "approve"}, **HTMX)
    assert response.status_code == 403
    content = response.content.decode()
    assert "You cannot decide a request made on your own behalf." in content
    assert "nav-badge-inbox" not in content
    assert nothing_recorded(pending)


@pytest.mark.parametrize(
    "post",
    [{"verdict": "approve", "params": "{not json"}, {"verdict": "reject", "comment": ""}],
)
def test_a_vote_error_without_htmx_is_the_whole_page_with_navigation(
    client, approver, pending, post
):
    client.force_login(approver)
    response = client.post(vote_url(pending), post)
    assert response.status_code == 400
    content = response.content.decode()
    assert 'aria-label="Main"' in content  # navigation
    assert "The agent's rationale" in content  # the request
    assert 'class="error" role="alert"' in content
    assert nothing_recorded(pending)


def test_the_page_loads_htmx_without_the_debug_helper_that_replaces_pages_on_4xx(
    client, approver, pending, settings
):
    settings.DEBUG = True
    client.force_login(approver)
    content = client.get(pending.get_absolute_url()).content.decode()
    assert "django_htmx/htmx-2.min.js" in content
    assert "django-htmx.js" not in content


# 1 of 2 approvals -------------------------------------------------------------------


def test_after_the_first_of_two_approvals_the_panel_says_who_and_that_a_second_is_needed(
    client, approver, second_approver, make_pending
):
    critical = make_pending("critical")
    client.force_login(approver)
    response = client.post(vote_url(critical), {"verdict": "approve"}, **HTMX)
    content = response.content.decode()
    assert "1 of 2 approvals — waiting for a second approver" in content
    assert "(approved by alex@corp.example)" in content
    assert "Approved finance" not in content  # not "Approved" while still pending
    assert "Your approval of finance.modify_record for sam@corp.example is recorded." in content
    critical.refresh_from_db()
    assert critical.status == "pending"
    # Without htmx the message, read in the inbox, carries the progress itself.
    other = make_pending("critical")
    inbox = client.post(vote_url(other), {"verdict": "approve"}, follow=True).content.decode()
    assert "is recorded: 1 of 2 approvals — waiting for a second approver." in inbox
    # Another approver sees the same state before voting.
    client.force_login(second_approver)
    page = client.get(critical.get_absolute_url()).content.decode()
    assert "1 of 2 approvals — waiting for a second approver" in page
    assert '<small class="muted">1 of 2 approvals</small>' in page


def test_after_a_vote_the_heading_status_and_the_inbox_badge_are_swapped_out_of_band(
    client, approver, make_pending
):
    first, _second = make_pending("send"), make_pending("update")
    client.force_login(approver)
    assert 'data-testid="nav-badge-inbox">2<' in client.get("/approvals/").content.decode()
    content = client.post(vote_url(first), {"verdict": "approve"}, **HTMX).content.decode()
    status = content[content.index('id="approval-status"') :]
    assert 'hx-swap-oob="true"' in status[:120]
    assert "status-approved" in status[:400]
    badge = content[content.index('id="nav-badge-inbox"') :]
    assert badge.startswith('id="nav-badge-inbox" hx-swap-oob="true">')
    assert 'data-testid="nav-badge-inbox">1<' in badge


def test_the_badge_slot_is_swapped_empty_when_the_inbox_is_emptied(client, approver, pending):
    client.force_login(approver)
    content = client.post(vote_url(pending), {"verdict": "approve"}, **HTMX).content.decode()
    assert '<span id="nav-badge-inbox" hx-swap-oob="true"></span>' in content


# What changed -----------------------------------------------------------------------


def test_the_request_page_shows_what_the_approver_changed(client, approver, pending):
    edited = {"to": "buyer@customer.example", "body": "standard pricing", "cc": "me@corp.example"}
    approval_vote_cast(pending.pk, voter=approver, verdict="approve", edited_params=edited)
    client.force_login(approver)
    content = client.get(pending.get_absolute_url()).content.decode()
    diff = content[content.index('data-testid="params-diff"') :]
    assert '<code>body</code> <span class="status status-changed">changed</span>' in diff
    assert "<del>20% off</del>" in diff and "<ins>standard pricing</ins>" in diff
    assert '<code>cc</code> <span class="status status-added">added</span>' in diff
    assert "<code>to</code>" not in diff[: diff.index("</ul>")]  # unchanged: not listed


def test_the_audit_event_detail_shows_the_params_diff(client, approver, auditor, pending):
    edited = {"to": "other@customer.example", "body": "20% off"}
    approval_vote_cast(pending.pk, voter=approver, verdict="approve", edited_params=edited)
    event = AuditEvent.objects.get(event_type="decision_approved")
    client.force_login(auditor)
    content = client.get(reverse("audit:event_detail", args=[event.pk])).content.decode()
    assert "Proposed and approved params" in content
    assert "<del>buyer@customer.example</del>" in content
    assert "<ins>other@customer.example</ins>" in content


def test_an_approval_as_proposed_shows_no_diff(client, approver, pending):
    approval_vote_cast(pending.pk, voter=approver, verdict="approve")
    client.force_login(approver)
    assert (
        'data-testid="params-diff"' not in client.get(pending.get_absolute_url()).content.decode()
    )


# Approve and open the next request --------------------------------------------------


def test_approve_and_open_the_next_request_goes_to_the_most_urgent_one_left(
    client, approver, make_pending
):
    later = make_pending("send")  # 240 minutes
    sooner = make_pending("update")  # 60 minutes
    client.force_login(approver)
    response = client.post(vote_url(sooner), {"verdict": "approve_next"})
    assert response.status_code == 302
    assert response["Location"] == later.get_absolute_url()
    assert ApprovalRequest.objects.get(pk=sooner.pk).status == "approved"
    assert Decision.objects.get(pk=sooner.decision_id).approval == "human:alex@corp.example"


def test_approve_and_open_the_next_request_with_htmx_navigates_the_whole_page(
    client, approver, make_pending
):
    later, sooner = make_pending("send"), make_pending("update")
    client.force_login(approver)
    response = client.post(vote_url(sooner), {"verdict": "approve_next"}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == later.get_absolute_url()


def test_approve_and_open_the_next_on_the_last_request_returns_to_the_inbox(
    client, approver, pending
):
    client.force_login(approver)
    response = client.post(vote_url(pending), {"verdict": "approve_next"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("approvals:inbox")
    assert "That was the last request in your inbox." in response.content.decode()
    assert ApprovalRequest.objects.get(pk=pending.pk).status == "approved"


def test_approve_and_open_the_next_with_bad_params_stays_with_the_error(
    client, approver, make_pending
):
    make_pending("send")
    sooner = make_pending("update")
    client.force_login(approver)
    response = client.post(vote_url(sooner), {"verdict": "approve_next", "params": "[1]"})
    assert response.status_code == 400
    assert "must be a JSON object" in response.content.decode()
    assert nothing_recorded(sooner)


# The inbox row ----------------------------------------------------------------------


def test_each_inbox_row_says_the_params_that_matter_and_the_rationale(
    client, approver, make_pending
):
    make_pending(
        "send",
        params={"to": "buyer@customer.example", "subject": "Renewal", "body": "x" * 500},
        rationale="The customer asked for the renewal quote by Friday.",
    )
    client.force_login(approver)
    content = client.get("/approvals/").content.decode()
    assert "to: buyer@customer.example · subject: Renewal" in content
    assert "x" * 100 not in content  # the body is not the summary
    assert "The customer asked for the renewal quote by Friday." in content


# The reason limit -------------------------------------------------------------------


def test_the_form_says_the_limit_and_sets_no_maxlength_that_would_cut_silently(
    client, approver, pending
):
    client.force_login(approver)
    content = client.get(pending.get_absolute_url()).content.decode()
    assert "at most 2,000 characters" in content
    assert "maxlength" not in content


def test_a_reason_over_2000_characters_is_refused_with_a_message(client, approver, pending):
    client.force_login(approver)
    response = client.post(vote_url(pending), {"verdict": "reject", "comment": "y" * 5000}, **HTMX)
    assert response.status_code == 400
    content = response.content.decode()
    assert "This is 5,000 characters long; the limit is 2,000." in content
    assert "y" * 5000 in content  # given back whole to shorten, not cut
    assert "5,000 of 2,000 characters" in content
    assert nothing_recorded(pending)


def test_a_reason_of_exactly_2000_characters_is_kept_whole(client, approver, pending):
    client.force_login(approver)
    client.post(vote_url(pending), {"verdict": "reject", "comment": "z" * 2000})
    assert ApprovalVote.objects.get(request=pending).comment == "z" * 2000


def test_the_service_and_the_api_refuse_a_longer_reason_too(approver, pending):
    from governance.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed, match="limit is 2,000"):
        approval_vote_cast(pending.pk, voter=approver, verdict="reject", comment="w" * 2001)
    api = APIClient()
    api.force_authenticate(approver)
    response = api.post(
        f"/api/v1/approvals/{pending.pk}/reject", {"reason": "w" * 2001}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    assert nothing_recorded(pending)
