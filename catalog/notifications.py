"""E-mail about intake requests: to the requester on every state change, to the reviewers
when a request enters (or waits too long in) their queue."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.choices import IntakeState
from catalog.models import IntakeRequest
from catalog.selectors import intake_reviewer_emails

TO_REVIEWERS = {"submit", "resubmit"}


def _url(intake: IntakeRequest) -> str:
    return settings.SITE_URL.rstrip("/") + intake.get_absolute_url()


def _message(intake: IntakeRequest, template: str, recipient: str, **context) -> tuple:
    context = {"intake": intake, "url": _url(intake), **context}
    subject = render_to_string(f"catalog/email/{template}_subject.txt", context).strip()
    body = render_to_string(f"catalog/email/{template}.txt", context)
    return (subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])


def intake_notify(intake_id: int, *, transition: str) -> int:
    intake = IntakeRequest.objects.select_related("item", "requester").get(pk=intake_id)
    messages = []
    if intake.requester.email and transition != "submit":
        messages.append(_message(intake, "state", intake.requester.email, transition=transition))
    if transition in TO_REVIEWERS:
        messages += [_message(intake, "review", email) for email in intake_reviewer_emails(intake)]
    return send_mass_mail(messages, fail_silently=False) if messages else 0


def intake_remind(*, older_than: datetime) -> int:
    """Remind once per reminder period: `reminded_at` is claimed by a conditional update
    so that two runs at once send one reminder."""
    waiting = IntakeRequest.objects.filter(
        state__in=[IntakeState.SUBMITTED, IntakeState.IN_REVIEW],
        state_changed_at__lte=older_than,
    ).filter(Q(reminded_at__isnull=True) | Q(reminded_at__lte=older_than))
    sent = 0
    for intake in waiting.select_related("item", "requester"):
        claimed = IntakeRequest.objects.filter(pk=intake.pk, reminded_at=intake.reminded_at).update(
            reminded_at=timezone.now()
        )
        if not claimed:
            continue
        messages = [
            _message(intake, "review", email, reminder=True)
            for email in intake_reviewer_emails(intake)
        ]
        sent += send_mass_mail(messages, fail_silently=False) if messages else 0
    return sent


def tool_change_notify(event_id: int) -> int:
    """Tell the owners (owner and owning group) of an MCP server that the gateway found
    its tools changed under a pinned version, and refuses it until they look."""
    from audit.models import AuditEvent
    from catalog.models import CatalogItem

    event = AuditEvent.objects.get(pk=event_id)
    item = CatalogItem.objects.select_related("owner", "owning_group").get(pk=event.object_id)
    recipients = {item.owner.email} if item.owner and item.owner.email else set()
    if item.owning_group:
        recipients |= set(
            item.owning_group.user_set.filter(is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    context = {
        "item": item,
        "detail": event.detail,
        "url": settings.SITE_URL.rstrip("/") + item.get_absolute_url(),
    }
    subject = render_to_string("catalog/email/tool_change_subject.txt", context).strip()
    body = render_to_string("catalog/email/tool_change.txt", context)
    messages = [(subject, body, settings.DEFAULT_FROM_EMAIL, [to]) for to in sorted(recipients)]
    return send_mass_mail(messages, fail_silently=False) if messages else 0
