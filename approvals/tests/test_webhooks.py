"""Signed webhooks to the runtime on resolution, retried, every attempt recorded.
The receiver is a real HTTP server on localhost."""

import http.server
import json
import threading

import pytest
from rest_framework.test import APIClient

from approvals.models import WebhookDelivery
from approvals.services import approval_vote_cast
from approvals.tasks import WEBHOOK_MAX_RETRIES
from approvals.webhooks import webhook_delivery_retry, webhook_signature, webhook_signature_verify
from audit.models import AuditEvent
from governance.exceptions import Conflict, PermissionDenied
from governance.services import runtime_callback_set

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP server that records requests and answers the statuses it is given."""

    def __init__(self, statuses: list[int]):
        self.statuses = list(statuses)
        self.requests: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/agc"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():
    started = []

    def start(statuses=()):
        receiver = Receiver(list(statuses))
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.close()


@pytest.fixture
def no_backoff(monkeypatch):
    """Celery runs tasks inline in tests; retries then happen at once, without waiting.

    Celery only loops over an inline task's retries when it does not propagate the task's
    exceptions (with propagation on, as elsewhere in the tests, the first `Retry` escapes
    instead), so these tests of the retry policy turn it off; what each attempt did is
    asserted below, and the real worker test (tests/test_celery_worker.py) retries too."""
    from governance.celery import app

    monkeypatch.setattr("approvals.tasks.get_exponential_backoff_interval", lambda **kw: 0)
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)


def callback(policy, governance_admin, url) -> str:
    return runtime_callback_set(policy.runtime, actor=governance_admin, url=url)


def test_resolution_is_posted_signed_to_the_runtime(
    receiver_factory,
    policy,
    governance_admin,
    pending,
    approver,
    django_capture_on_commit_callbacks,
):
    receiver = receiver_factory()
    secret = callback(policy, governance_admin, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        approval_vote_cast(
            pending.pk, voter=approver, verdict="approve", edited_params={"to": "a@b.example"}
        )
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    timestamp = int(request["headers"]["X-Signature-Timestamp"])
    assert webhook_signature_verify(
        secret, timestamp, request["body"], request["headers"]["X-Signature"]
    )
    payload = json.loads(request["body"])
    assert payload["event"] == "decision.resolved"
    assert payload["decision"]["decision_id"] == str(pending.decision_id)
    assert payload["decision"]["status"] == "approved"
    assert payload["decision"]["params"] == {"to": "a@b.example"}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_failed_attempts_are_retried_and_each_is_recorded(
    receiver_factory, policy, governance_admin, pending, approver, no_backoff,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    receiver = receiver_factory([500, 503])
    callback(policy, governance_admin, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        approval_vote_cast(pending.pk, voter=approver, verdict="reject", comment="no")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered"
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 503, 200]
    assert len(receiver.requests) == 3
    # Every attempt carries the same body, freshly signed.
    assert len({r["body"] for r in receiver.requests}) == 1


def test_giving_up_marks_the_delivery_failed_and_audits_it(
    receiver_factory, policy, governance_admin, pending, approver, no_backoff,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    receiver = receiver_factory([500] * 20)
    callback(policy, governance_admin, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        approval_vote_cast(pending.pk, voter=approver, verdict="approve")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert delivery.attempts == WEBHOOK_MAX_RETRIES + 1
    assert delivery.last_error == "HTTP 500"
    event = AuditEvent.objects.get(event_type="webhook_failed")
    assert event.detail["attempts"] == WEBHOOK_MAX_RETRIES + 1


def test_an_unreachable_receiver_is_recorded_as_an_error(
    policy, governance_admin, pending, approver, no_backoff, django_capture_on_commit_callbacks
):
    callback(policy, governance_admin, "http://127.0.0.1:9/unreachable")
    with django_capture_on_commit_callbacks(execute=True):
        approval_vote_cast(pending.pk, voter=approver, verdict="approve")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed"
    assert "ConnectionRefusedError" in delivery.attempt_log.first().error


def test_a_runtime_without_callback_gets_no_webhook(
    pending, approver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        approval_vote_cast(pending.pk, voter=approver, verdict="approve")
    assert not WebhookDelivery.objects.exists()


def test_admin_retries_a_failed_delivery(
    receiver_factory, policy, governance_admin, approver, pending, no_backoff,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    receiver = receiver_factory([500] * (WEBHOOK_MAX_RETRIES + 1))
    callback(policy, governance_admin, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        approval_vote_cast(pending.pk, voter=approver, verdict="approve")
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(PermissionDenied):
        webhook_delivery_retry(delivery.pk, actor=approver)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_retry(delivery.pk, actor=governance_admin)
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    with pytest.raises(Conflict):
        webhook_delivery_retry(delivery.pk, actor=governance_admin)


def test_signature_changes_with_body_timestamp_and_secret():
    base = webhook_signature("s", 1, b"{}")
    assert base.startswith("sha256=")
    assert base != webhook_signature("s", 2, b"{}")
    assert base != webhook_signature("s", 1, b"{ }")
    assert base != webhook_signature("t", 1, b"{}")
    assert not webhook_signature_verify("s", 1, b"{}", "sha256=00")


def test_setting_a_callback_through_the_api_shows_the_secret_once(governance_admin, policy):
    client = APIClient()
    client.force_authenticate(governance_admin)
    response = client.post(
        "/api/v1/runtimes/sales-agent/callback",
        {"url": "https://agent.example/hook"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["secret"].startswith("whsec_")
    listed = client.get("/api/v1/runtimes/sales-agent").json()
    assert listed["callback_url"] == "https://agent.example/hook"
    assert "secret" not in json.dumps(listed)
    event = AuditEvent.objects.get(event_type="runtime_callback_set")
    assert response.json()["secret"] not in json.dumps(event.changes)


def test_a_callback_that_is_not_http_is_refused(governance_admin, policy):
    client = APIClient()
    client.force_authenticate(governance_admin)
    response = client.post(
        "/api/v1/runtimes/sales-agent/callback", {"url": "file:///etc/passwd"}, format="json"
    )
    assert response.status_code == 400
    policy.runtime.refresh_from_db()
    assert (policy.runtime.callback_url, policy.runtime.callback_secret) == ("", "")
    assert not AuditEvent.objects.filter(object_repr__contains="sales-agent").exists()


def test_webhook_delivery_page_is_for_admins_and_auditors(
    client, governance_admin, auditor, approver
):
    for person, status in ((governance_admin, 200), (auditor, 200), (approver, 403)):
        client.force_login(person)
        assert client.get("/approvals/webhooks/").status_code == status
