"""Signed webhooks telling a runtime that one of its pending decisions was resolved.

Body: JSON. Headers: `X-Signature-Timestamp: <unix seconds>` and
`X-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the runtime's callback
secret>`. Delivery is at least once (a receiver dedupes by decision_id); every attempt is
recorded."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from approvals.choices import DeliveryStatus
from approvals.models import WebhookAttempt, WebhookDelivery
from audit.choices import EventType
from audit.services import SYSTEM, audit_event_record
from governance.models import Decision

TIMEOUT_SECONDS = 10
USER_AGENT = "agent-governance-console-webhook/1"


class WebhookFailed(Exception):
    """An attempt did not get a 2xx answer (the task retries it)."""


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def webhook_signature_verify(secret: str, timestamp: int, body: bytes, signature: str) -> bool:
    """What a receiver does (and the tests): constant-time comparison."""
    return hmac.compare_digest(webhook_signature(secret, timestamp, body), signature)


def _payload(decision: Decision) -> dict:
    from governance.api.serializers import DecisionSerializer

    data = DecisionSerializer(decision).data
    data["status_url"] = settings.SITE_URL.rstrip("/") + data["status_url"]
    return {"event": "decision.resolved", "decision": data}


def webhook_delivery_queue(decision: Decision) -> WebhookDelivery | None:
    """Inside the resolving transaction: record the delivery, send it after commit."""
    runtime = decision.runtime
    if not runtime.callback_url:
        return None
    delivery = WebhookDelivery.objects.create(
        decision=decision, runtime=runtime, url=runtime.callback_url, payload=_payload(decision)
    )
    from approvals.tasks import deliver_webhook

    transaction.on_commit(lambda: deliver_webhook.delay(delivery.pk))
    return delivery


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer that is not 2xx: retried, not followed


_opener = urllib.request.build_opener(_NoRedirects)


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def webhook_delivery_attempt(delivery_id: int) -> WebhookDelivery:
    """Make one attempt; raise WebhookFailed unless the receiver answered 2xx.

    A delivered or failed delivery is left alone, so a duplicate task is harmless."""
    delivery = WebhookDelivery.objects.select_related("runtime").get(pk=delivery_id)
    if delivery.status != DeliveryStatus.PENDING:
        return delivery
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Signature-Timestamp": str(timestamp),
        "X-Signature": webhook_signature(delivery.runtime.callback_secret, timestamp, body),
        "X-Delivery-Id": str(delivery.pk),
    }
    started = time.monotonic()
    status_code, error = None, ""
    try:
        status_code = _post(delivery.url, body, headers)
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except urllib.error.URLError as exc:  # refused, DNS, TLS
        reason = exc.reason
        error = (
            f"{type(reason).__name__}: {reason}" if isinstance(reason, Exception) else str(reason)
        )
    except (OSError, ValueError) as exc:  # timeout, bad URL
        error = f"{type(exc).__name__}: {exc}"
    _attempt_record(delivery, status_code, error, int((time.monotonic() - started) * 1000))
    if error:
        raise WebhookFailed(error)
    return delivery


def _attempt_record(delivery: WebhookDelivery, status_code, error: str, duration_ms: int) -> None:
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
        delivery.refresh_from_db(fields=["attempts"])
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            attempted_at=now,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
        )
        if error:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(last_error=error)
        else:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.DELIVERED, delivered_at=now, last_error=""
            )


def webhook_delivery_fail(delivery_id: int, *, error: str) -> None:
    """Give up after the last retry: mark the delivery failed and record it in the audit
    log (the runtime can still poll GET /api/v1/decisions/{id})."""
    with transaction.atomic():
        updated = WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING
        ).update(status=DeliveryStatus.FAILED, last_error=error)
        if not updated:
            return
        delivery = WebhookDelivery.objects.select_related("decision", "runtime").get(pk=delivery_id)
        audit_event_record(
            event_type=EventType.WEBHOOK_FAILED,
            actor=SYSTEM,
            decision=delivery.decision,
            detail={
                "runtime": delivery.runtime.name,
                "url": delivery.url,
                "attempts": delivery.attempts,
                "error": error,
            },
        )


def webhook_delivery_retry(delivery_id: int, *, actor) -> WebhookDelivery:
    """An admin asks for another try of a failed delivery."""
    from approvals.tasks import deliver_webhook
    from governance.exceptions import Conflict, PermissionDenied
    from governance.permissions import is_governance_admin

    if not is_governance_admin(actor):
        raise PermissionDenied("Only governance admins may retry webhook deliveries.")
    with transaction.atomic():
        updated = WebhookDelivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.FAILED
        ).update(status=DeliveryStatus.PENDING)
        if not updated:
            raise Conflict("Only a failed delivery can be retried.")
        transaction.on_commit(lambda: deliver_webhook.delay(delivery_id))
    return WebhookDelivery.objects.get(pk=delivery_id)
