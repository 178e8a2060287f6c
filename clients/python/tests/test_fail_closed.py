"""The Python client's fail-closed paths, without a database: a local FakeConsole answers
each request the way a test scripts it (fakes.py). No failure may turn into an allow: each
one raises its own GovernanceDenied subclass with a message saying what went wrong. Also
the requests the client sends (headers, bodies, paths), its retries and its backoff.

These tests run once per mutant of client.py in `make mutation` (tests/MUTATION.md), so
they keep to fast answers; time is a fake clock where the client sleeps or waits."""

import json
import socket
import threading
import urllib.error

import agent_governance.client as client_module
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
)
from fakes import JSON, FakeConsole, decision_json, free_port, jitter

ASK = dict(on_behalf_of="sam@corp.example", profile="account-summary", action="crm.read_record")


@pytest.fixture
def console():
    """A console that gives the scripted answers in turn; `console.script(...)` sets them.
    An answer is (status, body) or (status, headers, body[, delay]); a body that is a dict
    is sent as JSON; once the script is used up, every request gets a 500."""
    answers = []

    def respond(seen):
        answer = answers.pop(0) if answers else (500, b"script used up")
        if callable(answer):
            answer = answer(seen)
        if len(answer) == 2:
            answer = (answer[0], JSON, answer[1])
        status, headers, body, *delay = answer
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        return (status, headers, body, *delay)

    fake = FakeConsole(respond)
    fake.script = lambda *given: answers.extend(given)
    yield fake
    fake.close()


def decision(request_id="r-1", **fields):
    """A decision as the console answers it, as a dict (decision_json's fields)."""
    return {**json.loads(decision_json(request_id)), **fields}


def echo(status="allowed", **fields):
    """An answer to POST /api/v1/decisions for the request_id that was asked."""
    return lambda seen: (201, decision(seen.body["request_id"], status=status, **fields))


def client_of(console, **options):
    return GovernanceClient(console.url, "agc_rt_secret", **{"timeout": 2, **options})


# -- What the client sends --------------------------------------------------------------


def test_a_decision_request_carries_the_proposal_and_the_token(console):
    console.script(echo())
    client = GovernanceClient(console.url + "/", "agc_rt_secret", timeout=2)
    got = client.decide(
        **ASK,
        connector="crm",
        data_sources=(s for s in ["crm:account/42"]),
        plugin="sales-outreach@2.1.0",
        model="claude-x",
        params={"account_id": 42},
        rationale="Summary.",
        request_id="r-7",
    )
    (seen,) = console.seen
    assert (seen.method, seen.path) == ("POST", "/api/v1/decisions")
    assert seen.body == {
        "request_id": "r-7",
        **ASK,
        "data_sources": ["crm:account/42"],
        "model": "claude-x",
        "params": {"account_id": 42},
        "rationale": "Summary.",
        "connector": "crm",
        "plugin": "sales-outreach@2.1.0",
    }
    assert seen.headers["Authorization"] == "Bearer agc_rt_secret"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["User-Agent"] == "agent-governance-client/0.1"
    assert (got.request_id, got.decision_id, got.allowed) == ("r-7", "d-1", True)


def test_a_minimal_proposal_gets_its_own_request_id_and_empty_defaults(console):
    console.script(echo(), echo())
    client = client_of(console)
    first, second = client.decide(**ASK), client.decide(**ASK)
    bodies = [seen.body for seen in console.seen]
    assert bodies[0] == {
        "request_id": bodies[0]["request_id"],
        **ASK,
        "data_sources": [],
        "model": "",
        "params": {},
        "rationale": "",
    }
    ids = [body["request_id"] for body in bodies]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids) and ids[0] != ids[1]
    assert [first.request_id, second.request_id] == ids


def test_the_scheme_is_required_and_the_trailing_slash_dropped():
    with pytest.raises(ValueError, match="^base_url must start with http:// or https://$"):
        GovernanceClient("governance.corp.example", "token")
    client = GovernanceClient("https://corp.example/governance-X/", "t", timeout=3, retries=4)
    assert (client.base_url, client.token, client.timeout, client.retries) == (
        "https://corp.example/governance-X",
        "t",
        3,
        4,
    )
    assert (
        GovernanceClient("http://h", "t").timeout,
        GovernanceClient("http://h", "t").retries,
    ) == (
        10.0,
        2,
    )


def test_get_reads_the_decision_asked_for(console):
    console.script((200, decision(decision_id="7", status="approved")))
    got = client_of(console).get(7)
    assert (console.seen[0].method, console.seen[0].path) == ("GET", "/api/v1/decisions/7")
    assert console.seen[0].body is None and "Content-Length" not in console.seen[0].headers
    assert (got.decision_id, got.status) == ("7", "approved")


def test_report_outcome_sends_the_digest_and_a_bounded_detail(console):
    client = client_of(console)
    asked = client._decision(decision(params_digest="ab" * 32))
    console.script((200, decision(status="executed")), (200, decision(status="failed")))
    assert client.report_outcome(asked, "executed").status == "executed"
    assert client.report_outcome(asked, "failed", "x" * 5000).status == "failed"
    first, second = console.seen
    assert (first.method, first.path) == ("POST", "/api/v1/decisions/d-1/outcome")
    assert first.body == {"status": "executed", "params_digest": "ab" * 32, "detail": ""}
    assert second.body["detail"] == "x" * 4000


def test_catalog_items_and_profiles_are_read_with_ids_kept_in_one_segment(console):
    console.script((200, {"slug": "a/b"}), (200, {"slug": "p"}))
    client = client_of(console)
    assert client.catalog_item("a/b?c#d") == {"slug": "a/b"}
    assert client.runtime_profile("p q") == {"slug": "p"}
    assert [(s.method, s.path) for s in console.seen] == [
        ("GET", "/api/v1/catalog/items/a%2Fb%3Fc%23d"),
        ("GET", "/api/v1/runtime/profiles/p%20q"),
    ]


def test_the_hook_event_and_a_tool_change_are_passed_on(console):
    console.script((200, {}), (202, {"recorded": True}))
    client = client_of(console)
    assert client.hook_event({"tool_name": "Bash"}, profile="code", on_behalf_of="d@x") == {}
    assert client.tool_definitions_changed("git/x", version="1", found_digest="f") == {
        "recorded": True
    }
    hook, change = console.seen
    assert (hook.method, hook.path, hook.body) == (
        "POST",
        "/api/v1/hooks/claude-code",
        {"tool_name": "Bash"},
    )
    assert (hook.headers["X-Agent-Profile"], hook.headers["X-On-Behalf-Of"]) == ("code", "d@x")
    assert hook.headers["Authorization"] == "Bearer agc_rt_secret"
    assert (change.method, change.path, change.body) == (
        "POST",
        "/api/v1/catalog/items/git%2Fx/tool-definitions-changed",
        {"version": "1", "found_digest": "f"},
    )


@pytest.mark.parametrize(
    ("revision", "query"), [(None, ""), (3, "?revision=3"), (True, "?revision=1"), ("3", "")]
)
def test_tool_mappings_ask_whether_the_cached_revision_is_current(console, revision, query):
    console.script((200, {"policy_revision": 3, "unchanged": True}))
    assert client_of(console).tool_mappings(revision) == {"policy_revision": 3, "unchanged": True}
    assert console.seen[0].path == "/api/v1/hooks/tool-mappings" + query


@pytest.mark.parametrize(
    "body",
    [
        {"policy_revision": 3, "rules": []},
        {"policy_revision": 3, "unchanged": True},
        {"policy_revision": 3, "unchanged": False, "rules": [{"tool": "Bash"}]},
    ],
)
def test_tool_mappings_in_the_promised_form_are_taken(console, body):
    console.script((200, body))
    assert client_of(console).tool_mappings() == body


@pytest.mark.parametrize(
    "body",
    [
        {"rules": []},
        {"policy_revision": "3", "rules": []},
        {"policy_revision": 3},
        {"policy_revision": 3, "unchanged": False, "rules": {}},
    ],
)
def test_tool_mappings_in_another_form_are_refused(console, body):
    console.script((200, body))
    with pytest.raises(ConsoleProtocolError) as raised:
        client_of(console).tool_mappings(1)
    assert str(raised.value) == "The console's tool mappings are not in the promised form."


# -- Every failure is a deny that says what went wrong --------------------------------


@pytest.mark.parametrize("status", [300, 301, 302, 303, 307, 308, 399])
def test_a_redirect_is_refused_not_followed_nor_retried(console, elsewhere, status):
    console.script(lambda seen: (status, {"Location": f"{elsewhere.url}{seen.path}"}, b"moved"))
    with pytest.raises(ConsoleRedirect) as raised:
        client_of(console, retries=2).decide(**ASK)
    assert str(raised.value).startswith(
        f"HTTP {status}: {console.url}/api/v1/decisions redirected to "
        f"{elsewhere.url}/api/v1/decisions; redirects are refused"
    )
    assert (raised.value.status, raised.value.location) == (
        status,
        f"{elsewhere.url}/api/v1/decisions",
    )
    assert len(console.seen) == 1 and elsewhere.seen == []


def test_a_redirect_without_a_location_is_refused_too(console):
    console.script((302, {}, b""))
    with pytest.raises(ConsoleRedirect) as raised:
        client_of(console).get("d-1")
    assert str(raised.value).startswith(
        f"HTTP 302: {console.url}/api/v1/decisions/d-1 redirected; redirects are refused"
    )
    assert raised.value.location is None


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_console_that_could_not_decide_is_unavailable(console, clock, status):
    console.script((status, b"<html>bad gateway</html>"))
    with pytest.raises(ConsoleUnavailable) as raised:
        client_of(console, retries=0).decide(**ASK)
    assert str(raised.value) == f"HTTP {status}: the console could not decide"
    assert clock.slept == []


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (
            401,
            {"code": "authentication_failed", "detail": "Invalid token."},
            "HTTP 401 authentication_failed: Invalid token.",
        ),
        (400, {"detail": "Bad."}, "HTTP 400 : Bad."),
        (404, b"no such page", "HTTP 404 : no such page"),
        (500, b"\xffoops", "HTTP 500 : \ufffdoops"),
        (501, b"", "HTTP 501 :"),
        (505, b"", "HTTP 505 :"),
    ],
)
def test_another_error_status_is_refused_at_once_with_its_detail(
    console, clock, status, body, message
):
    console.script((status, body))
    with pytest.raises(ConsoleHTTPError) as raised:
        client_of(console, retries=2).decide(**ASK)
    assert (str(raised.value), raised.value.status) == (message, status)
    assert len(console.seen) == 1 and clock.slept == []


def test_a_long_error_page_is_kept_to_500_characters(console):
    console.script((500, b"e" * 600))
    with pytest.raises(ConsoleHTTPError) as raised:
        client_of(console).get("d-1")
    assert raised.value.body == "e" * 500


@pytest.mark.parametrize(
    "body",
    [b"<html>Sign in to the proxy</html>", b"[]", b'"allowed"', b"\xff\xfe", b""],
)
def test_an_answer_that_is_not_a_json_object_is_refused(console, body):
    console.script((200, {"Content-Type": "text/html"}, body))
    with pytest.raises(ConsoleProtocolError) as raised:
        client_of(console).decide(**ASK)
    assert str(raised.value) == "The console's answer is not a JSON object."


@pytest.mark.parametrize(
    "field", ["decision_id", "request_id", "outcome", "status", "reason", "params_digest"]
)
def test_an_answer_without_a_field_it_must_have_is_refused(console, field):
    def answer(seen):
        body = decision(seen.body["request_id"])
        del body[field]
        return 201, body

    console.script(answer)
    with pytest.raises(ConsoleProtocolError) as raised:
        client_of(console).decide(**ASK)
    assert str(raised.value) == f"The console's answer lacks '{field}'."


@pytest.mark.parametrize("params", [5, "ab"])
def test_an_answer_whose_params_are_not_an_object_is_refused(console, params):
    console.script(echo(params=params))
    with pytest.raises(ConsoleProtocolError) as raised:
        client_of(console).decide(**ASK)
    assert str(raised.value).startswith("The console's answer lacks ")


def test_an_allow_for_another_request_is_refused(console):
    console.script((201, decision("someone-else")))
    with pytest.raises(ConsoleProtocolError) as raised:
        client_of(console).decide(**ASK, request_id="mine")
    assert str(raised.value) == (
        "The console answered for request_id 'someone-else', not 'mine' as asked."
    )


@pytest.mark.parametrize("method", ["get", "report_outcome"])
def test_an_answer_about_another_decision_is_refused(console, method):
    console.script((200, decision(decision_id="d-2", status="approved")))
    client = client_of(console)
    with pytest.raises(ConsoleProtocolError) as raised:
        if method == "get":
            client.get("d-1")
        else:
            client.report_outcome(client._decision(decision()), "executed")
    assert str(raised.value) == "The console answered for decision 'd-2', not 'd-1' as asked."


def test_a_403_that_carries_a_decision_is_that_decision(console):
    console.script(lambda seen: (403, decision(seen.body["request_id"], status="denied")))
    got = client_of(console).decide(**ASK)
    assert (got.status, got.allowed) == ("denied", False)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, decision("someone-else", status="allowed"), ConsoleProtocolError),
        (403, {"code": "permission_denied", "detail": "No."}, ConsoleHTTPError),
        (403, b"decision_id", ConsoleHTTPError),
        (401, decision("r", status="allowed"), ConsoleHTTPError),
    ],
)
def test_no_other_error_answer_is_read_as_a_decision(console, status, body, error):
    console.script((status, body))
    with pytest.raises(error):
        client_of(console).decide(**ASK, request_id="r")


def test_a_console_too_slow_to_answer_is_a_timeout(console, clock):
    console.script((201, JSON, decision("r"), 1.0))
    with pytest.raises(ConsoleTimeout) as raised:
        client_of(console, timeout=0.2, retries=0).decide(**ASK, request_id="r")
    assert str(raised.value) == f"No answer from {console.url} within 0.2 s"


def test_a_connection_that_times_out_is_a_timeout(console, monkeypatch):
    def open_(request, timeout):
        raise urllib.error.URLError(TimeoutError("timed out"))

    monkeypatch.setattr(client_module._OPENER, "open", open_)
    with pytest.raises(ConsoleTimeout) as raised:
        client_of(console, timeout=0.3, retries=0).get("d-1")
    assert str(raised.value) == f"No answer from {console.url} within 0.3 s"


def test_a_refused_connection_is_unavailable_after_the_retries(clock):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ConsoleUnavailable) as raised:
        GovernanceClient(url, "t", timeout=1, retries=1).decide(**ASK)
    assert str(raised.value).startswith(f"Cannot reach {url}: [Errno 111]")
    assert "refused" in str(raised.value)
    assert clock.slept == [0.2]


def test_a_console_that_hangs_up_without_answering_is_unavailable(clock):
    """A connection closed before any answer (a crashed worker, a proxy that gives up)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []

    def hang_up():
        for _ in range(2):
            connection, _ = listener.accept()
            connection.recv(65536)
            accepted.append(connection)
            connection.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with pytest.raises(ConsoleUnavailable) as raised:
            GovernanceClient(url, "t", timeout=2, retries=1).get("d-1")
    finally:
        thread.join(5)
        listener.close()
    assert str(raised.value).startswith(f"Cannot reach {url}: Remote end closed connection")
    assert len(accepted) == 2


# -- Retries and backoff ------------------------------------------------------------


def test_transient_failures_are_retried_with_the_same_request_id(console, clock):
    console.script((503, b""), (502, b""), echo())
    got = client_of(console, retries=2).decide(**ASK, request_id="r-1")
    assert got.allowed
    assert [seen.body["request_id"] for seen in console.seen] == ["r-1"] * 3
    assert clock.slept == [0.2, 0.4]


def test_the_backoff_doubles_up_to_two_seconds_then_gives_up(console, clock):
    console.script(*[(504, b"")] * 6, echo())
    with pytest.raises(ConsoleUnavailable):
        client_of(console, retries=5).decide(**ASK)
    assert len(console.seen) == 6
    assert clock.slept == [0.2, 0.4, 0.8, 1.6, 2.0]


def test_a_timeout_is_retried_too(console, clock):
    console.script((201, JSON, decision("r"), 1.0), echo())
    got = client_of(console, timeout=0.3, retries=1).decide(**ASK, request_id="r")
    assert got.request_id == "r" and len(console.seen) == 2


def test_without_retries_one_attempt(console, clock):
    console.script((503, b""), echo())
    with pytest.raises(ConsoleUnavailable):
        client_of(console, retries=0).decide(**ASK)
    assert len(console.seen) == 1 and clock.slept == []


# -- Waiting for a person -------------------------------------------------------------


def pending_then(*statuses):
    """Answers to GET: pending for each "pending", then the statuses given."""
    return [(200, decision(status=status)) for status in statuses]


def test_wait_polls_with_growing_intervals_until_its_timeout(console, clock):
    console.script(*pending_then(*["pending"] * 6))
    polls = []
    got = client_of(console).wait(
        "d-1", 9, poll_interval=1, on_poll=lambda d, waited: polls.append((d.status, waited))
    )
    assert got.pending
    assert clock.slept == [1, 1.5, 2.25, 3.375, 0.875]
    assert polls == [
        ("pending", 0.0),
        ("pending", 1.0),
        ("pending", 2.5),
        ("pending", 4.75),
        ("pending", 8.125),
        ("pending", 9.0),
    ]


def test_wait_intervals_grow_to_ten_seconds_by_default(console, clock):
    console.script(*pending_then(*["pending"] * 3, "approved"))
    assert client_of(console).wait("d-1", 100, poll_interval=8).status == "approved"
    assert clock.slept == [8, 10, 10]


def test_the_jitter_shortens_the_intervals_at_its_low_end(console, clock, monkeypatch):
    """0.8 to 1.2 times the interval while waiting, 0.5 to 1.5 times the backoff."""
    jitter(monkeypatch, 0.0)
    console.script(*pending_then(*["pending"] * 3, "approved"), *[(503, b"")] * 3)
    client = client_of(console, retries=2)
    assert client.wait("d-1", 100, poll_interval=1).status == "approved"
    assert clock.slept == pytest.approx([1, 1.2, 1.44])
    with pytest.raises(ConsoleUnavailable):
        client.get("d-1")
    assert clock.slept[3:] == pytest.approx([0.1, 0.2])


def test_wait_intervals_stop_growing_at_the_maximum(console, clock):
    console.script(*pending_then(*["pending"] * 5, "approved"))
    got = client_of(console).wait("d-1", 100, poll_interval=1, max_interval=2)
    assert got.status == "approved"
    assert clock.slept == [1, 1.5, 2, 2, 2]
    assert [s.path for s in console.seen] == ["/api/v1/decisions/d-1"] * 6


def test_wait_returns_as_soon_as_a_person_decides(console, clock):
    console.script(*pending_then("pending", "rejected"))
    got = client_of(console).wait("d-1", 30)
    assert got.status == "rejected" and clock.slept == [1.0]


def test_wait_does_not_sleep_for_a_decision_already_taken(console, clock):
    console.script(*pending_then("approved"))
    assert client_of(console).wait("d-1", 30).status == "approved"
    assert clock.slept == []


def test_decide_and_wait_returns_an_allow_at_once(console, clock):
    console.script(echo())
    assert client_of(console).decide_and_wait(wait_timeout=5, **ASK).allowed
    assert len(console.seen) == 1


def test_decide_and_wait_waits_for_the_person(console, clock):
    console.script(echo("pending"), *pending_then("pending", "approved"))
    got = client_of(console).decide_and_wait(wait_timeout=5, **ASK)
    assert got.status == "approved" and clock.slept == [1.0]


def test_decide_and_wait_raises_while_still_pending(console, clock):
    console.script(echo("pending"), *pending_then(*["pending"] * 10))
    with pytest.raises(ApprovalPending) as raised:
        client_of(console).decide_and_wait(wait_timeout=2, **ASK)
    assert str(raised.value) == "Still waiting for a person to approve x.y (d-1)."
    assert sum(clock.slept) == 2


@pytest.mark.parametrize(
    "answers",
    [[echo("denied")], [echo("pending"), *pending_then("rejected")], [echo("expired")]],
)
def test_decide_and_wait_raises_on_a_refusal(console, clock, answers):
    console.script(*answers)
    with pytest.raises(ActionDenied) as raised:
        client_of(console).decide_and_wait(wait_timeout=5, **ASK)
    assert raised.value.decision.refused


# -- The decorator --------------------------------------------------------------------


def guarded_send(client, calls, **options):
    @client.guarded(
        action="mail.send_external",
        profile="sales-followup",
        on_behalf_of=lambda params: f"{params['sender']}@corp.example",
        connector="mail",
        data_sources=lambda params: [f"mail:outbox/{params['to']}"],
        plugin="sales-outreach@2.1.0",
        model="m",
        rationale="Follow-up.",
        **options,
    )
    def send(sender, to, body="hello"):
        """Send a mail."""
        calls.append((sender, to, body))
        if body == "boom":
            raise RuntimeError("SMTP down")
        if body == "inner":
            raise ConsoleTimeout("inner call refused")
        return "sent"

    return send


def test_guarded_asks_runs_with_the_allowed_params_and_reports(console, clock):
    edited = {"sender": "sam", "to": "b@c", "body": "reviewed"}
    console.script(
        echo("pending"),
        (200, decision(status="approved", params=edited, params_digest="e" * 64)),
        (200, decision(status="executed")),
    )
    calls = []
    send = guarded_send(client_of(console), calls, wait_timeout=7)
    assert send.__name__ == "send" and send.__doc__ == "Send a mail."
    assert send("sam", to="b@c") == "sent"
    assert calls == [("sam", "b@c", "reviewed")]
    ask, poll, report = console.seen
    assert {k: ask.body[k] for k in ask.body if k != "request_id"} == {
        "on_behalf_of": "sam@corp.example",
        "profile": "sales-followup",
        "action": "mail.send_external",
        "connector": "mail",
        "data_sources": ["mail:outbox/b@c"],
        "plugin": "sales-outreach@2.1.0",
        "model": "m",
        "params": {"sender": "sam", "to": "b@c"},
        "rationale": "Follow-up.",
    }
    assert poll.path == "/api/v1/decisions/d-1"
    assert (report.path, report.body) == (
        "/api/v1/decisions/d-1/outcome",
        {"status": "executed", "params_digest": "e" * 64, "detail": ""},
    )


def test_guarded_takes_plain_values_too(console, clock):
    console.script(echo(params={"to": "x"}), (200, decision(status="executed")))

    @client_of(console).guarded(
        action="a.b", profile="p", on_behalf_of="sam@corp.example", data_sources=["s:1"]
    )
    def act(to):
        return to

    assert act("x") == "x"
    ask = console.seen[0].body
    assert (ask["on_behalf_of"], ask["data_sources"], ask["params"]) == (
        "sam@corp.example",
        ["s:1"],
        {"to": "x"},
    )
    assert (ask["model"], ask["rationale"]) == ("", "")
    assert "connector" not in ask and "plugin" not in ask


def test_guarded_waits_five_minutes_for_a_person_by_default(console, clock):
    console.script(echo("pending"), *pending_then(*["pending"] * 60))

    @client_of(console).guarded(action="a.b", profile="p", on_behalf_of="sam@corp.example")
    def act():
        raise AssertionError("must not run")

    with pytest.raises(ApprovalPending):
        act()
    assert clock.now - 1000 == 300


def test_guarded_reports_a_failure_and_reraises(console, clock):
    console.script(echo(params={"sender": "s", "to": "t", "body": "boom"}), (200, decision()))
    calls = []
    with pytest.raises(RuntimeError, match="SMTP down"):
        guarded_send(client_of(console), calls)("s", "t", body="boom")
    assert console.seen[1].body["status"] == "failed"
    assert console.seen[1].body["detail"] == "RuntimeError: SMTP down"


def test_a_refusal_inside_the_guarded_function_is_not_reported(console, clock):
    console.script(echo(params={"sender": "s", "to": "t", "body": "inner"}))
    with pytest.raises(ConsoleTimeout, match="inner call refused"):
        guarded_send(client_of(console), [])("s", "t", body="inner")
    assert len(console.seen) == 1


@pytest.mark.parametrize("status", ["denied", "pending"])
def test_guarded_never_runs_what_is_not_allowed(console, clock, status):
    console.script(echo(status), *pending_then(*["pending"] * 5))
    calls = []
    with pytest.raises(ActionDenied if status == "denied" else ApprovalPending):
        guarded_send(client_of(console), calls, wait_timeout=1)("s", "t")
    assert calls == []
    assert not [seen for seen in console.seen if seen.path.endswith("/outcome")]


def test_a_report_that_fails_does_not_undo_what_ran(console, clock):
    console.script(echo(params={"sender": "s", "to": "t", "body": "hello"}), (500, b""))
    assert guarded_send(client_of(console, retries=0), [])("s", "t") == "sent"
    assert console.seen[1].path.endswith("/outcome")
