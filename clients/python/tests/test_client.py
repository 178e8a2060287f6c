"""The Python client against the running console, and its fail-closed errors."""

import json
import threading
import time

import pytest
from agent_governance import (
    ActionDenied,
    ApprovalPending,
    ConsoleHTTPError,
    ConsoleProtocolError,
    ConsoleRedirect,
    ConsoleTimeout,
    ConsoleUnavailable,
    GovernanceClient,
    GovernanceDenied,
    params_digest,
)
from fakes import HOSTILE, JSON, FakeConsole, decision_json, free_port, hostile_console

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


def scripted(answers) -> FakeConsole:
    """A console that gives these answers (status, body, delay) in turn, then 500s."""
    answers = list(answers)

    def respond(seen):
        status, body, delay = answers.pop(0) if answers else (500, b"", 0)
        return status, {}, body, delay

    return FakeConsole(respond)


DECISION = decision_json("r", decision_id="d")


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
    fake = scripted(answers)
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
    fake = scripted([(503, b"", 0), (502, b"", 0), (201, DECISION, 0)])
    try:
        client = GovernanceClient(fake.url, "token", timeout=2, retries=2)
        decision = client.decide(**READ, request_id="r")
    finally:
        fake.close()
    assert decision.allowed
    assert len(fake.seen) == 3
    assert {seen.body["request_id"] for seen in fake.seen} == {"r"}


def test_a_base_url_without_scheme_is_refused():
    with pytest.raises(ValueError):
        GovernanceClient("governance.corp.example", "token")


def redirecting(status: int, elsewhere) -> FakeConsole:
    """A console that redirects every request to the same path on another host."""
    return FakeConsole(lambda seen: (status, {"Location": f"{elsewhere.url}{seen.path}"}, b""))


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirected_decision_is_refused_and_the_token_stays_home(db, elsewhere, status):
    """A 3xx is a deny that says why; the other host never sees a request, so never the
    runtime's token, and its "allowed" is never read."""
    console = redirecting(status, elsewhere)
    try:
        with pytest.raises(ConsoleRedirect) as raised:
            GovernanceClient(console.url, "agc_rt_secret", timeout=2).decide(**READ)
    finally:
        console.close()
    assert elsewhere.seen == []
    assert raised.value.status == status and raised.value.location.startswith(elsewhere.url)
    assert "redirects are refused" in str(raised.value)
    assert raised.value.code == "console_redirect"
    assert len(console.seen) == 1  # a redirect is not retried either


@pytest.mark.parametrize("method", ["get", "report_outcome", "catalog_item", "runtime_profile"])
def test_every_request_refuses_a_redirect(db, elsewhere, method):
    console = redirecting(302, elsewhere)
    client = GovernanceClient(console.url, "agc_rt_secret", timeout=2)
    decision = client._decision(json.loads(decision_json("r", decision_id="d-1")))
    argument = decision if method == "report_outcome" else "d-1"
    try:
        with pytest.raises(ConsoleRedirect):
            getattr(client, method)(
                *([argument, "executed"] if method == "report_outcome" else [argument])
            )
    finally:
        console.close()
    assert elsewhere.seen == []


def test_an_allow_for_another_request_id_is_refused(db):
    console = FakeConsole(lambda seen: (201, JSON, decision_json("not-mine")))
    try:
        with pytest.raises(ConsoleProtocolError) as raised:
            GovernanceClient(console.url, "token", timeout=2).decide(**READ, request_id="mine")
    finally:
        console.close()
    assert "request_id 'not-mine', not 'mine'" in str(raised.value)


def test_a_403_decision_for_another_request_id_is_refused(db):
    console = FakeConsole(lambda seen: (403, JSON, decision_json("not-mine", status="denied")))
    try:
        with pytest.raises(ConsoleProtocolError):
            GovernanceClient(console.url, "token", timeout=2).decide(**READ, request_id="mine")
    finally:
        console.close()


@pytest.mark.parametrize("method", ["get", "report_outcome"])
def test_an_answer_about_another_decision_is_refused(db, method):
    console = FakeConsole(lambda seen: (200, JSON, decision_json("r", decision_id="d-2")))
    client = GovernanceClient(console.url, "token", timeout=2)
    asked = client._decision(json.loads(decision_json("r", decision_id="d-1")))
    try:
        with pytest.raises(ConsoleProtocolError) as raised:
            if method == "get":
                client.get("d-1")
            else:
                client.report_outcome(asked, "executed")
    finally:
        console.close()
    assert "decision 'd-2', not 'd-1'" in str(raised.value)


def test_an_id_cannot_change_the_path_it_is_put_into(db):
    console = FakeConsole(lambda seen: (404, JSON, b'{"detail": "no"}'))
    try:
        with pytest.raises(ConsoleHTTPError):
            GovernanceClient(console.url, "token", timeout=2).get("x/../../catalog/items/y?z#w")
    finally:
        console.close()
    assert console.seen[0].path == "/api/v1/decisions/x%2F..%2F..%2Fcatalog%2Fitems%2Fy%3Fz%23w"


@pytest.mark.parametrize("kind", [*HOSTILE, "unreachable"])
def test_decide_and_wait_fails_closed_on_every_hostile_answer(db, elsewhere, kind):
    """The same hostile consoles as the Claude Code hook's and the gateway's tests."""
    console = hostile_console(kind, elsewhere)
    url = console.url
    if kind == "unreachable":
        console.close()
    client = GovernanceClient(url, "agc_rt_secret", timeout=2, retries=0)
    try:
        with pytest.raises(GovernanceDenied) as raised:
            client.decide_and_wait(wait_timeout=1, **READ)
    finally:
        if kind != "unreachable":
            console.close()
    assert not isinstance(raised.value, ApprovalPending | ActionDenied)
    assert elsewhere.seen == []
