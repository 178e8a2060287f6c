"""The transactional outbox: after-commit work that must not be lost.

A change that needs something done afterwards (e-mail the approvers of a new request)
writes an `OutboxMessage` in its own transaction: if it rolls back, nothing is sent; if it
commits, the message is there even when the broker, the mail server or this process is
not. The periodic `deliver_outbox` task claims due messages (PostgreSQL: FOR UPDATE SKIP
LOCKED, so several workers share the work) and hands each to its topic's handler; a
failure is retried with exponential backoff up to MAX_ATTEMPTS, then recorded as failed.

Delivery is at least once: a handler must tolerate a repeat (a worker can die between the
handler's work and the commit that marks the message delivered)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from audit.choices import OutboxTopic
from audit.models import OutboxMessage

logger = logging.getLogger(__name__)

# Each topic's handler, called with the message's payload as keyword arguments. Named by
# path so that the audit app (the floor) does not import the apps above it.
HANDLERS = {
    OutboxTopic.APPROVAL_NOTIFY: "approvals.notifications.approval_notify",
}
MAX_ATTEMPTS = 8
BATCH = 100


def outbox_message_build(*, topic: OutboxTopic, now: datetime, **payload: Any) -> OutboxMessage:
    """An unsaved message (the decision path writes it in its own single statement)."""
    return OutboxMessage(topic=topic, payload=payload, created_at=now, available_at=now)


def outbox_message_add(*, topic: OutboxTopic, **payload: Any) -> OutboxMessage:
    """Add a message inside the caller's transaction."""
    message = outbox_message_build(topic=topic, now=timezone.now(), **payload)
    message.save(force_insert=True)
    return message


def outbox_deliver(*, now: datetime | None = None, limit: int = BATCH) -> int:
    """Deliver the due messages, each in a transaction of its own; returns how many were
    delivered. Safe to run in several workers at once."""
    delivered = 0
    for _ in range(limit):
        outcome = _deliver_next(now or timezone.now())
        if outcome is None:
            break
        delivered += outcome
    return delivered


def _deliver_next(now: datetime) -> bool | None:
    """Claim and deliver one due message: True if delivered, False if it failed, None if
    there was nothing to do."""
    with transaction.atomic():
        due = OutboxMessage.objects.filter(
            delivered_at__isnull=True, failed_at__isnull=True, available_at__lte=now
        ).order_by("available_at", "id")
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        message = due.first()
        if message is None:
            return None
        try:
            with transaction.atomic():
                import_string(HANDLERS[OutboxTopic(message.topic)])(**message.payload)
        except Exception as error:  # noqa: BLE001 - any failure is retried, then recorded
            _failed(message, error, now)
            return False
        message.attempts += 1
        message.delivered_at = now
        message.save(update_fields=["attempts", "delivered_at"])
        return True


def _failed(message: OutboxMessage, error: Exception, now: datetime) -> None:
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.failed_at = now
        logger.error("Outbox message %s failed for good: %s", message.pk, message.last_error)
    else:
        message.available_at = now + timedelta(seconds=min(3600, 15 * 2 ** (message.attempts - 1)))
        logger.warning("Outbox message %s failed, retrying: %s", message.pk, message.last_error)
    message.save(update_fields=["attempts", "last_error", "failed_at", "available_at"])
