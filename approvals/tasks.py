"""Celery tasks of the approval workflow: each loads by id and calls one service."""

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.utils import timezone

from approvals.notifications import approval_notify
from approvals.selectors import approval_request_ids_due_to_expire, approval_request_ids_past_sla
from approvals.services import approval_request_escalate, approval_request_expire
from approvals.webhooks import WebhookFailed, webhook_delivery_attempt, webhook_delivery_fail

WEBHOOK_MAX_RETRIES = 6


@shared_task
def expire_approvals() -> int:
    """Resolve every pending request past its expiry as expired (beat, every minute)."""
    now = timezone.now()
    return sum(
        approval_request_expire(pk, now=now) for pk in approval_request_ids_due_to_expire(now)
    )


@shared_task
def escalate_approvals() -> int:
    """Escalate every pending request past its SLA and remind its approvers (beat)."""
    now = timezone.now()
    return sum(approval_request_escalate(pk, now=now) for pk in approval_request_ids_past_sla(now))


@shared_task
def notify_approvers(approval_id: int, reason: str) -> int:
    """E-mail the people who may decide a request (new, or escalated)."""
    return approval_notify(approval_id, reason=reason)


@shared_task(bind=True, max_retries=WEBHOOK_MAX_RETRIES, acks_late=True)
def deliver_webhook(self, delivery_id: int) -> None:
    """Deliver one webhook; retry with exponential backoff (30 s, 1 min, ... up to 1 h, with
    jitter), then give up through a service that records the failure."""
    try:
        webhook_delivery_attempt(delivery_id)
    except WebhookFailed as error:
        if self.request.retries >= self.max_retries:
            webhook_delivery_fail(delivery_id, error=str(error))
            return
        countdown = get_exponential_backoff_interval(
            factor=30, retries=self.request.retries, maximum=3600, full_jitter=True
        )
        raise self.retry(exc=error, countdown=countdown) from error
