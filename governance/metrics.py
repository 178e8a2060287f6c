"""Prometheus metrics for operators: `GET /metrics` (see the README, "Running in production").

Two kinds of figures:

- **Counted where they happen**, in each process: decisions by outcome and reason (every
  decision recorded, through the API or the Claude Code hook) and the decision API's latency.
  Under gunicorn with several workers, set `PROMETHEUS_MULTIPROC_DIR` to an empty directory:
  each worker then writes its counts to a file there and a scrape adds them up
  (prometheus_client's multiprocess mode; gunicorn.conf.py clears the directory at start and
  marks exited workers).
- **Read from the database at scrape time**, so every worker reports the same: pending
  approvals by approver group and age, approvals past their SLA, the age of the oldest
  unsealed audit event (seal lag), the outbox's depth and failures by topic, webhook
  deliveries pending or failed. A few indexed aggregate queries per scrape.

The endpoint is off unless `METRICS_TOKEN` (a bearer token) or `METRICS_ALLOWED_NETWORKS`
(addresses allowed without a token) is set; the demo allows localhost."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Min, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

DECISIONS = Counter(
    "agc_decisions",
    "Decisions recorded (API and hooks), by outcome and reason code; replays not counted.",
    ["outcome", "reason"],
)
DECISION_API_SECONDS = Histogram(
    "agc_decision_api_seconds",
    "Time to answer POST /api/v1/decisions in the application, by HTTP status.",
    ["status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
# Pending approvals by how long they have waited (the label's value is the bucket).
AGE_BUCKETS = (
    ("under_1h", timedelta(0), timedelta(hours=1)),
    ("1h_to_4h", timedelta(hours=1), timedelta(hours=4)),
    ("4h_to_24h", timedelta(hours=4), timedelta(hours=24)),
    ("over_24h", timedelta(hours=24), None),
)


def decision_counted(outcome: str, reason: str) -> None:
    """Count one recorded decision (never raises: metrics must not fail a decision)."""
    try:
        DECISIONS.labels(outcome=outcome, reason=reason).inc()
    except Exception:  # pragma: no cover - a full disk under the multiprocess directory
        logger.exception("Could not count a decision")


def decision_api_timed(status: int, seconds: float) -> None:
    """Record how long the decision API took to answer (never raises)."""
    try:
        DECISION_API_SECONDS.labels(status=str(status)).observe(seconds)
    except Exception:  # pragma: no cover - as above
        logger.exception("Could not time a decision")


class ConsoleStateCollector(Collector):
    """Figures read from the database at each scrape."""

    def collect(self):
        now = timezone.now()
        up = GaugeMetricFamily(
            "agc_metrics_database_up", "1 when the database answered this scrape's queries."
        )
        try:
            families = list(_state_families(now))
        except DatabaseError:
            logger.exception("Metrics: the database did not answer")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def _state_families(now):
    from approvals.choices import DeliveryStatus
    from approvals.models import ApprovalRequest, WebhookDelivery
    from audit.models import OutboxMessage
    from audit.selectors import sealing_state

    pending = GaugeMetricFamily(
        "agc_approvals_pending",
        "Pending approval requests by approver group and by how long they have waited.",
        labels=["group", "age"],
    )
    aggregates = {
        name: Count("id", filter=_age_filter(now, low, high)) for name, low, high in AGE_BUCKETS
    }
    aggregates["past_sla"] = Count("id", filter=Q(sla_due_at__lt=now))
    rows = (
        ApprovalRequest.objects.pending()
        .values("group__name")
        .annotate(**aggregates)
        .order_by("group__name")
    )
    past_sla = GaugeMetricFamily(
        "agc_approvals_past_sla",
        "Pending approval requests past their SLA (sla_due_at), by approver group.",
        labels=["group"],
    )
    for row in rows:
        for name, _, _ in AGE_BUCKETS:
            pending.add_metric([row["group__name"], name], row[name])
        past_sla.add_metric([row["group__name"]], row["past_sla"])
    yield pending
    yield past_sla

    sealing = sealing_state(now=now)
    lag = GaugeMetricFamily(
        "agc_audit_seal_lag_seconds",
        "Age of the oldest audit event not sealed yet (0 when everything is sealed).",
    )
    oldest = sealing.oldest_unsealed_at
    lag.add_metric([], max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
    yield lag
    last_seal = GaugeMetricFamily(
        "agc_audit_last_seal_timestamp_seconds",
        "When the newest audit seal was made (Unix time; absent before the first seal).",
    )
    if sealing.last_seal is not None:
        last_seal.add_metric([], sealing.last_seal.created_at.timestamp())
    yield last_seal

    depth = GaugeMetricFamily(
        "agc_outbox_depth",
        "Outbox messages waiting to be delivered, by topic.",
        labels=["topic"],
    )
    oldest_waiting = GaugeMetricFamily(
        "agc_outbox_oldest_age_seconds",
        "Age of the oldest outbox message waiting to be delivered, by topic.",
        labels=["topic"],
    )
    waiting = (
        OutboxMessage.objects.filter(delivered_at__isnull=True, failed_at__isnull=True)
        .values("topic")
        .annotate(count=Count("id"), oldest=Min("created_at"))
        .order_by("topic")
    )
    for row in waiting:
        depth.add_metric([row["topic"]], row["count"])
        oldest_waiting.add_metric([row["topic"]], max(0.0, (now - row["oldest"]).total_seconds()))
    yield depth
    yield oldest_waiting
    failed = GaugeMetricFamily(
        "agc_outbox_failed",
        "Outbox messages that gave up after their last attempt, by topic.",
        labels=["topic"],
    )
    for row in (
        OutboxMessage.objects.filter(failed_at__isnull=False)
        .values("topic")
        .annotate(count=Count("id"))
        .order_by("topic")
    ):
        failed.add_metric([row["topic"]], row["count"])
    yield failed

    webhooks = GaugeMetricFamily(
        "agc_webhook_deliveries",
        "Webhook deliveries to agent runtimes still pending or failed, by status.",
        labels=["status"],
    )
    counts = dict(
        WebhookDelivery.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED])
        .values_list("status")
        .annotate(count=Count("id"))
        .order_by()
    )
    for status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
        webhooks.add_metric([status.value], counts.get(status.value, 0))
    yield webhooks


def _age_filter(now, low: timedelta, high: timedelta | None) -> Q:
    """Waiting at least `low` and less than `high`."""
    condition = Q(created_at__lte=now - low)
    if high is not None:
        condition &= Q(created_at__gt=now - high)
    return condition


_state_registry = CollectorRegistry(auto_describe=False)
_state_registry.register(ConsoleStateCollector())


def metrics_text() -> bytes:
    """The exposition: this process's (or, in multiprocess mode, every worker's) counters,
    then the database figures."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
    else:
        registry = REGISTRY
    return generate_latest(registry) + generate_latest(_state_registry)


def metrics_access(request: HttpRequest) -> tuple[int, str] | None:
    """None when the caller may read the metrics, else (status, message)."""
    config = settings.METRICS
    token, networks = config["TOKEN"], config["ALLOWED_NETWORKS"]
    if not token and not networks:
        return 404, "Metrics are off: set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS."
    if networks and _address_in(request.META.get("REMOTE_ADDR", ""), networks):
        return None
    if token:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return None
        return 401, "A valid metrics token is required (Authorization: Bearer …)."
    return 403, "This address may not read the metrics."


def _address_in(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    refused = metrics_access(request)
    if refused is not None:
        status, message = refused
        response = HttpResponse(message + "\n", status=status, content_type="text/plain")
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    else:
        response = HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
