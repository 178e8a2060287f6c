"""The approval inbox. Thin: selectors scope, forms parse, services decide.

Actions post plain forms (they work without JavaScript); with htmx loaded, the vote panel
and inbox rows are swapped in place instead of reloading the page."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from approvals.choices import ApprovalStatus, Verdict
from approvals.filters import ApprovalRequestFilterSet
from approvals.forms import BulkApproveForm, DelegationForm, VoteForm
from approvals.models import WebhookDelivery
from approvals.permissions import stand_in_for, vote_refusal
from approvals.selectors import (
    approval_context_get,
    approval_delegation_list_for_user,
    approval_progress_get,
    approval_request_list_decidable_by,
    approval_request_list_decided_by,
    approval_request_list_visible_to,
    approval_request_next_for,
    inbox_count,
)
from approvals.services import (
    approval_bulk_approve,
    approval_delegation_create,
    approval_delegation_end,
    approval_vote_cast,
)
from approvals.webhooks import webhook_delivery_retry
from governance import permissions
from governance.exceptions import ApplicationError
from governance.views import filtered_page, role_required

PAGE_SIZE = 50
MODES = {
    "inbox": ("My inbox", "Requests waiting for your decision, most urgent first."),
    "decided": ("Decided by me", "Requests you voted on."),
    "all": ("All requests", "Every approval request, for governance admins."),
}


def _list(request, mode: str, queryset):
    filterset = ApprovalRequestFilterSet(request.GET, queryset=queryset)
    if mode == "inbox":
        filterset.form.fields.pop("status")  # everything in the inbox is pending
    page, status = filtered_page(request, filterset)
    title, help_text = MODES[mode]
    bulk_ids = [
        a.pk
        for a in page
        if mode == "inbox" and a.decision.impact == "low" and a.decision.reversible
    ]
    return render(
        request,
        "approvals/approval_request_list.html",
        {
            "filter": filterset,
            "page": page,
            "mode": mode,
            "title": title,
            "help_text": help_text,
            "bulk_ids": bulk_ids,
            "show_admin_tabs": permissions.is_governance_admin(request.user),
        },
        status=status,
    )


@login_required
def inbox(request):
    return _list(request, "inbox", approval_request_list_decidable_by(request.user))


@login_required
def decided(request):
    return _list(request, "decided", approval_request_list_decided_by(request.user))


@role_required(permissions.is_governance_admin)
def everything(request):
    return _list(request, "all", approval_request_list_visible_to(request.user))


def _visible(request, pk):
    approval = approval_request_list_visible_to(request.user).filter(pk=pk).first()
    if approval is None:
        raise Http404("No such approval request.")
    return approval


def _detail(request, approval, form=None, status=200, error=None):
    """The request page; for htmx, its vote panel plus the parts a vote changes elsewhere
    on the page (the heading's status, the inbox badge) as out-of-band swaps."""
    decision = approval.decision
    if form is None:
        form = VoteForm(initial={"params": json.dumps(decision.effective_params, indent=2)})
    template = (
        "approvals/includes/_vote_panel_htmx.html"
        if request.htmx
        else "approvals/approval_request_detail.html"
    )
    return render(
        request,
        template,
        {
            "approval": approval,
            "decision": decision,
            "votes": approval.votes.select_related("voter"),
            "progress": approval_progress_get(approval),
            "history": approval_context_get(approval) if not request.htmx else None,
            "refusal": vote_refusal(request.user, approval),
            "stand_in_for": stand_in_for(request.user, approval),
            "form": form,
            "error": error,
            "inbox_badge": inbox_count(request.user)
            if request.htmx and permissions.is_approver(request.user)
            else None,
        },
        status=status,
    )


@login_required
def approval_request_detail(request, pk):
    return _detail(request, _visible(request, pk))


@login_required
@require_POST
def approval_request_vote(request, pk):
    """Approve (as proposed or with edited params) or reject with a reason; "Approve and
    open the next request" then opens the next request of the inbox."""
    approval = _visible(request, pk)
    form = VoteForm(request.POST, proposed=approval.decision.effective_params)
    if not form.is_valid():
        return _detail(request, approval, form=form, status=400)
    data = form.cleaned_data
    try:
        approval = approval_vote_cast(
            approval.pk,
            voter=request.user,
            verdict=data["verdict"],
            comment=data["comment"],
            edited_params=data["params"],
        )
    except ApplicationError as error:
        return _detail(
            request, _visible(request, pk), form=form, status=error.status_code, error=error.message
        )
    # The panel itself shows the progress; a message read on another page says it.
    progress_elsewhere = form.open_next or not request.htmx
    messages.success(request, _voted_message(approval, data["verdict"], progress_elsewhere))
    if form.open_next:
        return _open_next(request, approval)
    if request.htmx:
        return _detail(request, _visible(request, pk))
    return redirect(reverse("approvals:inbox"))


def _voted_message(approval, verdict: str, with_progress: bool) -> str:
    decision = approval.decision
    subject = f"{decision.action} for {decision.on_behalf_of}"
    if verdict == Verdict.REJECT:
        return f"Rejected {subject}."
    if approval.status == ApprovalStatus.PENDING:
        if not with_progress:
            return f"Your approval of {subject} is recorded."
        return f"Your approval of {subject} is recorded: {approval_progress_get(approval).summary}."
    return f"Approved {subject}."


def _open_next(request, approval):
    following = approval_request_next_for(request.user, after=approval)
    if following is None:
        messages.info(request, "That was the last request in your inbox.")
    url = following.get_absolute_url() if following else reverse("approvals:inbox")
    # htmx would swap a redirect's target into the panel: ask for a full navigation.
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_POST
def approval_bulk_approve_view(request):
    """Approve the selected low-impact, reversible requests of my inbox."""
    decidable = list(approval_request_list_decidable_by(request.user).values_list("pk", flat=True))
    form = BulkApproveForm(request.POST, choices=decidable)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(reverse("approvals:inbox"))
    result = approval_bulk_approve(
        form.cleaned_data["approval_ids"], voter=request.user, comment=form.cleaned_data["comment"]
    )
    if result.approved:
        messages.success(request, f"Approved {len(result.approved)} request(s).")
    for pk, reason in result.refused.items():
        messages.error(request, f"Request #{pk} was not approved: {reason}")
    return redirect(reverse("approvals:inbox"))


@role_required(lambda u: permissions.is_governance_admin(u) or permissions.is_auditor(u))
def webhook_delivery_list(request):
    deliveries = WebhookDelivery.objects.select_related("runtime", "decision").prefetch_related(
        "attempt_log"
    )
    status = request.GET.get("status")
    if status:
        deliveries = deliveries.filter(status=status)
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "approvals/webhook_delivery_list.html",
        {
            "page": page,
            "status": status,
            "show_retry": permissions.is_governance_admin(request.user),
        },
    )


@role_required(permissions.is_governance_admin)
@require_POST
def webhook_delivery_retry_view(request, pk):
    try:
        webhook_delivery_retry(pk, actor=request.user)
        messages.success(request, f"Delivery #{pk} queued again.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(reverse("approvals:webhook_delivery_list"))


@role_required(permissions.is_approver)
def delegation_list(request):
    """Out of office: name a stand-in for a date range; see and end delegations."""
    form = DelegationForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                delegation = approval_delegation_create(actor=request.user, **form.cleaned_data)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"{delegation}.")
                return redirect(reverse("approvals:delegation_list"))
        status = 400
    return render(
        request,
        "approvals/delegation_list.html",
        {
            "form": form,
            "delegations": approval_delegation_list_for_user(request.user),
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
@require_POST
def delegation_end_view(request, pk):
    delegation = approval_delegation_list_for_user(request.user).filter(pk=pk).first()
    if delegation is None:
        raise Http404("No such delegation.")
    try:
        approval_delegation_end(delegation.pk, actor=request.user)
        messages.success(request, f"Ended: {delegation}.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(reverse("approvals:delegation_list"))
