"""The Python client against the running console, and its fail-closed errors."""

import http.server
import json
import socket
import threading
import time

import pytest
from agent_governance import (
    ActionDenied,
    ApprovalPending,
    ConsoleHTTPError,
    ConsoleProtocolError,
    ConsoleTimeout,
    ConsoleUnavailable,
    GovernanceClient,
    GovernanceDenied,
    params_digest,
)

from governance.models import Decision

pytestmark = pytest.mark.django_db(transaction=True)

READ = dict(
    on_behalf_of="sam@corp.example",
    profile="account-summary",
    action="crm.read_record",
    data_sources=["crm:account/42"],
    plugin="sales-outreach@2.1.0",
    params={"account_id": 42},
)
SEND = dict(
    on_behalf_of="sam@corp.example",
    profile="sales-followup",
    action="mail.send_external",
    connector="mail",
    data_sources=["mail:outbox/1"],
    plugin="sales-outreach@2.1.0",
    params={"to": "buyer@customer.example", "body": "20% off"},
)


@pytest.fixture
def client(console):
    return GovernanceClient(console.url, console.tokens["cowork-sales"], timeout=5)


def approve_soon(console, action, body=None, verdict="approve"):
    def run():
        for _ in range(100):
            pending = console.approvals(action)
            if pending:
                console.vote(pending[0]["id"], verdict, body)
                return
            time.sleep(0.1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_decide_allows_an_allow_listed_read(client):
    decision = client.decide(**READ)
    assert (decision.outcome, decision.status, decision.allowed) == ("allow", "allowed", True)
    assert decision.params_digest == params_digest({"account_id": 42})


def test_decide_reports_a_deny_with_its_reason(client):
    decision = client.decide(**{**READ, "data_sources": ["crm:opportunity/9"]})
    assert decision.refused and decision.reason == "data_source_out_of_scope"


def test_a_profile_the_runtime_may_not_use_is_a_decision_too(client):
    decision = client.decide(**{**READ, "profile": "finance-close"})
    assert decision.reason == "runtime_not_allowed_profile"


def test_wait_returns_when_a_person_decides(client, console):
    decision = client.decide(**SEND)
    assert decision.pending
    approve_soon(console, "mail.send_external")
    resolved = client.wait(decision.decision_id, timeout=20, poll_interval=0.2)
    assert resolved.status == "approved"


def test_wait_gives_up_after_its_timeout_still_pending(client):
    decision = client.decide(**SEND)
    started = time.monotonic()
    assert client.wait(decision.decision_id, timeout=0.5, poll_interval=0.1).pending
    assert time.monotonic() - started < 5


def test_report_outcome_is_recorded(client):
    decision = client.decide(**READ)
    assert client.report_outcome(decision, "executed", "ok").status == "executed"


def test_guarded_runs_with_the_edited_params_and_reports(client, console):
    calls = []

    @client.guarded(
        action="mail.send_external",
        profile="sales-followup",
        on_behalf_of="sam@corp.example",
        connector="mail",
        data_sources=lambda params: [f"mail:outbox/{params['to']}"],
        plugin="sales-outreach@2.1.0",
        wait_timeout=20,
    )
    def send(to, body):
        calls.append((to, body))
        return "sent"

    approve_soon(
        console,
        "mail.send_external",
        {"params": {"to": "buyer@customer.example", "body": "standard"}},
    )
    assert send(to="buyer@customer.example", body="20% off") == "sent"
    assert calls == [("buyer@customer.example", "standard")]
    decision = Decision.objects.get(action="mail.send_external")
    assert decision.status == "executed"
    assert decision.approved_params == {"to": "buyer@customer.example", "body": "standard"}


def test_guarded_never_runs_a_rejected_action(client, console):
    ran = []

    @client.guarded(
        action="mail.send_external",
        profile="sales-followup",
        on_behalf_of="sam@corp.example",
        connector="mail",
        data_sources=["mail:outbox/1"],
        wait_timeout=20,
    )
    def send(to):
        ran.append(to)

    approve_soon(console, "mail.send_external", {"reason": "wrong customer"}, verdict="reject")
    with pytest.raises(ActionDenied) as error:
        send(to="x@y.example")
    assert error.value.decision.status == "rejected"
    assert ran == []


def test_guarded_reports_a_failure_and_reraises(client):
    @client.guarded(
        action="crm.read_record",
        profile="account-summary",
        on_behalf_of="sam@corp.example",
        data_sources=["crm:account/1"],
    )
    def read(account_id):
        raise RuntimeError("CRM down")

    with pytest.raises(RuntimeError):
        read(account_id=1)
    decision = Decision.objects.get(action="crm.read_record")
    assert (decision.status, decision.outcome_detail) == ("failed", "RuntimeError: CRM down")


def test_guarded_raises_approval_pending_when_nobody_decides(client):
    @client.guarded(
        action="mail.send_external",
        profile="sales-followup",
        on_behalf_of="sam@corp.example",
        connector="mail",
        data_sources=["mail:outbox/1"],
        wait_timeout=0.3,
    )
    def send(to):
        raise AssertionError("must not run")

    with pytest.raises(ApprovalPending):
        send(to="x@y.example")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeConsole:
    """A local HTTP server that answers what a test tells it to, recording requests."""

    def __init__(self, answers):
        self.answers, self.bodies = list(answers), []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                fake.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                status, body, delay = fake.answers.pop(0) if fake.answers else (500, b"", 0)
                time.sleep(delay)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


DECISION = json.dumps(
    {
        "decision_id": "d",
        "request_id": "r",
        "outcome": "allow",
        "status": "allowed",
        "reason": "auto_execute_allowlisted",
        "params_digest": "x",
    }
).encode()


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        (
            [(401, b'{"code": "authentication_failed", "detail": "Invalid token."}', 0)],
            ConsoleHTTPError,
        ),
        ([(200, b"<html>proxy login</html>", 0)], ConsoleProtocolError),
        ([(200, b"[]", 0)], ConsoleProtocolError),
        ([(200, b'{"outcome": "allow"}', 0)], ConsoleProtocolError),
        ([(503, b"", 0)] * 3, ConsoleUnavailable),
        ([(200, DECISION, 3)], ConsoleTimeout),
    ],
)
def test_every_failure_is_a_deny_with_its_own_type(db, answers, error):
    fake = FakeConsole(answers)
    client = GovernanceClient(
        fake.url, "token", timeout=1, retries=0 if error is not ConsoleUnavailable else 2
    )
    try:
        with pytest.raises(error) as raised:
            client.decide(**READ)
        assert isinstance(raised.value, GovernanceDenied)
    finally:
        fake.close()


def test_an_unreachable_console_is_a_deny(db):
    client = GovernanceClient(f"http://127.0.0.1:{free_port()}", "token", timeout=1, retries=1)
    with pytest.raises(ConsoleUnavailable):
        client.decide(**READ)


def test_retries_reuse_the_same_request_id(db):
    fake = FakeConsole([(503, b"", 0), (502, b"", 0), (201, DECISION, 0)])
    try:
        decision = GovernanceClient(fake.url, "token", timeout=2, retries=2).decide(**READ)
    finally:
        fake.close()
    assert decision.allowed
    assert len(fake.bodies) == 3
    assert len({body["request_id"] for body in fake.bodies}) == 1


def test_a_base_url_without_scheme_is_refused():
    with pytest.raises(ValueError):
        GovernanceClient("governance.corp.example", "token")
