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
from django.views.decorators.http import require_POST

from approvals.filters import ApprovalRequestFilterSet
from approvals.forms import BulkApproveForm, VoteForm
from approvals.models import WebhookDelivery
from approvals.permissions import vote_refusal
from approvals.selectors import (
    approval_context_get,
    approval_request_list_decidable_by,
    approval_request_list_decided_by,
    approval_request_list_visible_to,
)
from approvals.services import approval_bulk_approve, approval_vote_cast
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
    decision = approval.decision
    if form is None:
        form = VoteForm(initial={"params": json.dumps(decision.effective_params, indent=2)})
    template = (
        "approvals/includes/_vote_panel.html"
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
            "history": approval_context_get(approval) if not request.htmx else None,
            "refusal": vote_refusal(request.user, approval),
            "form": form,
            "error": error,
        },
        status=status,
    )


@login_required
def approval_request_detail(request, pk):
    return _detail(request, _visible(request, pk))


@login_required
@require_POST
def approval_request_vote(request, pk):
    """Approve (as proposed or with edited params) or reject with a reason."""
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
    verb = "Approved" if data["verdict"] == "approve" else "Rejected"
    messages.success(
        request, f"{verb} {approval.decision.action} for {approval.decision.on_behalf_of}."
    )
    if request.htmx:
        return _detail(request, _visible(request, pk))
    return redirect(reverse("approvals:inbox"))


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
