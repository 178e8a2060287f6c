"""The Claude Code command hook in-process (main() with its own stdin, stdout and
environment), against a FakeConsole, without a database. Whatever goes wrong (the console
slow, absent, redirected, erroring, answering garbage or another question, a status the
hook does not know, a broken configuration or input) the answer is a deny whose reason
starts with a stable code and says what happened. Also the decision answers themselves
(verdicts.py), the request the hook sends and its cache of the tool mappings.

These tests run once per mutant of claude_code.py, verdicts.py and client.py in `make
mutation` (tests/MUTATION.md); the subprocess test of the console script is in
test_claude_code.py (a mutant cannot be seen in another process)."""

import hashlib
import io
import json
import sys

import agent_governance.claude_code as hook_module
import pytest
from agent_governance.claude_code import main, outcome_of
from agent_governance.client import GovernanceClient
from agent_governance.models import Decision
from agent_governance.verdicts import call_refusal, decision_answer
from claude_code_events import BASH_RM_BUILD, CWD, SESSION, WRITE_IN_PROJECT, event, post
from fakes import JSON, FakeConsole, decision_json, free_port

NO_ANSWER = "Denied because the console gave no usable answer."
MAPPINGS = {
    "policy_revision": 4,
    "rules": [
        {"tool": "Bash", "action": "shell.exec"},
        {
            "tool": "Write",
            "action": "file.write",
            "connector": "repo",
            "data_sources": ["repo:{file_path}"],
        },
        {"tool": "mcp__git__*", "action": "git.{tool}", "data_sources": ["git:{repo_path}"]},
    ],
    "action_types": {
        "shell.exec": {"approver_group": "Approvers"},
        "git.create_branch": {"confirmable_by_launcher": True},
    },
    "mcp_annotations": {"notes": {"read_note": {"readOnlyHint": True}}},
}


def decision(request_id="r", status="allowed", **fields):
    """A decision as the console answers it (its reason: auto_execute_allowlisted when
    allowed, needs_a_person otherwise), with the message "Said so."."""
    body = json.loads(decision_json(request_id, status=status, params=fields.pop("params", {})))
    return {**body, "message": "Said so.", **fields}


def echo(status="allowed", **fields):
    """The answer to POST /api/v1/decisions, for the request_id asked."""
    return lambda seen: (201, decision(seen.body["request_id"], status=status, **fields))


class HookConsole:
    """A FakeConsole serving what the hook asks for: the tool mappings, decisions, the
    polls of a pending decision (`polls`, in turn, then `still`) and outcome relays. Each
    attribute is an answer (status, body) or (status, headers, body[, delay]), or a
    function of the request that returns one."""

    def __init__(self):
        self.mappings = (200, MAPPINGS)
        self.decide = echo()
        self.polls = []
        self.still = (200, decision(status="pending"))
        self.relay = (200, {})
        self.fake = FakeConsole(self.respond)
        self.url, self.seen = self.fake.url, self.fake.seen

    def respond(self, seen):
        path = seen.path.partition("?")[0]
        if path == "/api/v1/hooks/tool-mappings":
            answer = self.mappings
        elif path == "/api/v1/decisions":
            answer = self.decide
        elif path.startswith("/api/v1/decisions/"):
            answer = self.polls.pop(0) if self.polls else self.still
        elif path == "/api/v1/hooks/claude-code":
            answer = self.relay
        else:
            answer = (404, {"detail": "Not found."})
        if callable(answer):
            answer = answer(seen)
        if len(answer) == 2:
            answer = (answer[0], JSON, answer[1])
        status, headers, body, *delay = answer
        if isinstance(body, dict):
            body = json.dumps(body).encode()
        return (status, headers, body, *delay)

    def asked(self):
        """The decision requests received."""
        return [seen for seen in self.seen if seen.path == "/api/v1/decisions"]


@pytest.fixture
def console():
    console = HookConsole()
    yield console
    console.fake.close()


def environment(console, tmp_path, **env):
    values = {
        "AGC_URL": console.url,
        "AGC_TOKEN": "agc_rt_secret",
        "AGC_PROFILE": "code-assistant",
        "AGC_ON_BEHALF_OF": "devon@corp.example",
        "AGC_CACHE_DIR": str(tmp_path / "cache"),
        "AGC_TIMEOUT": "2",
        **env,
    }
    return {name: value for name, value in values.items() if value is not None}


def run(console, tmp_path, data, **env) -> dict:
    """Run the hook on `data` (an event, or the raw text of standard input)."""
    out = io.StringIO()
    text = data if isinstance(data, str) else json.dumps(data)
    status = main(stdin=io.StringIO(text), stdout=out, env=environment(console, tmp_path, **env))
    assert status == 0
    assert out.getvalue().endswith("}\n")
    return json.loads(out.getvalue())


def verdict(result: dict) -> tuple:
    """(permissionDecision, permissionDecisionReason, updatedInput or None)."""
    assert set(result) == {"hookSpecificOutput"}
    output = result["hookSpecificOutput"]
    assert output["hookEventName"] == "PreToolUse"
    assert set(output) <= {
        "hookEventName",
        "permissionDecision",
        "permissionDecisionReason",
        "updatedInput",
    }
    return (
        output["permissionDecision"],
        output["permissionDecisionReason"],
        output.get("updatedInput"),
    )


# -- No usable answer: a deny with the error's code and message ---------------------------


def wrong_request_id(seen):
    return 201, decision("someone-elses", status="allowed")


def without_status(seen):
    body = decision(seen.body["request_id"])
    del body["status"]
    return 201, body


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            (302, {"Location": "http://elsewhere.example/x"}, b""),
            "console_redirect: HTTP 302: {url}/api/v1/decisions redirected to "
            "http://elsewhere.example/x; redirects are refused (the runtime's token is sent to "
            "the configured console only). Set the console's URL to the address that answers "
            "directly (scheme, host and port).",
        ),
        (
            (401, {"code": "authentication_failed", "detail": "Invalid token."}),
            "console_http_error: HTTP 401 authentication_failed: Invalid token.",
        ),
        ((500, b"<html>oops</html>"), "console_http_error: HTTP 500 : <html>oops</html>"),
        ((503, b""), "console_unavailable: HTTP 503: the console could not decide"),
        (
            (200, {"Content-Type": "text/html"}, b"<html>Sign in</html>"),
            "console_protocol_error: The console's answer is not a JSON object.",
        ),
        (
            wrong_request_id,
            "console_protocol_error: The console answered for request_id 'someone-elses', "
            "not '{request_id}' as asked.",
        ),
        (without_status, "console_protocol_error: The console's answer lacks 'status'."),
        (
            (201, JSON, b"{}", 1.0),
            "console_timeout: No answer from {url} within 0.3 s",
        ),
    ],
)
def test_no_usable_answer_to_the_decision_is_a_deny_saying_why(
    console, tmp_path, clock, answer, reason
):
    console.decide = answer
    result = run(console, tmp_path, BASH_RM_BUILD, AGC_TIMEOUT="0.3")
    expected = reason.format(url=console.url, request_id=hook_module.request_id_for(BASH_RM_BUILD))
    assert verdict(result) == ("deny", f"{expected} {NO_ANSWER}", None)


def test_an_absent_console_is_a_deny(tmp_path, clock):
    url = f"http://127.0.0.1:{free_port()}"
    env = {"AGC_URL": url, "AGC_TOKEN": "t", "AGC_PROFILE": "p", "AGC_ON_BEHALF_OF": "a@b.example"}
    out = io.StringIO()
    main(stdin=io.StringIO(json.dumps(BASH_RM_BUILD)), stdout=out, env=env)
    decision_, reason, _ = verdict(json.loads(out.getvalue()))
    assert decision_ == "deny"
    assert reason.startswith(f"console_unavailable: Cannot reach {url}: [Errno 111]")
    assert reason.endswith(NO_ANSWER)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (
            (200, {"rules": []}),
            "console_protocol_error: The console's tool mappings are not in the promised form.",
        ),
        ((404, {"detail": "Not found."}), "console_http_error: HTTP 404 : Not found."),
    ],
)
def test_no_usable_tool_mapping_is_a_deny_and_nothing_is_asked(console, tmp_path, answer, reason):
    console.mappings = answer
    assert verdict(run(console, tmp_path, BASH_RM_BUILD)) == ("deny", f"{reason} {NO_ANSWER}", None)
    assert console.asked() == []


def test_a_tool_mapping_the_hook_cannot_read_is_a_deny(console, tmp_path):
    console.mappings = (200, {"policy_revision": 4, "rules": [{"tool": "Bash"}]})
    assert verdict(run(console, tmp_path, BASH_RM_BUILD)) == (
        "deny",
        "hook_error: KeyError: 'action'",
        None,
    )
    assert console.asked() == []


@pytest.mark.parametrize(
    "status", ["denied", "rejected", "expired", "executed", "failed", "quarantined", "ALLOWED"]
)
def test_every_status_but_allowed_and_approved_is_a_deny(console, tmp_path, status):
    console.decide = echo(status, edited=True, params={"command": "ls"}, outcome="allow")
    assert verdict(run(console, tmp_path, BASH_RM_BUILD)) == (
        "deny",
        f"{status}: needs_a_person: Said so.",
        None,
    )


def test_a_pending_decision_is_a_deny_unless_the_launcher_may_confirm_it():
    pending = dict(status="pending", reason="needs_a_person", message="M.", action="a.b")
    assert decision_answer(**pending)["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert decision_answer(**pending, confirmable=True) == {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "ask",
            "permissionDecisionReason": "launcher_may_confirm: the policy lets the person who "
            "launched the agent confirm a.b here. needs_a_person: M.",
        }
    }


def test_call_refusal_lets_only_an_allow_or_an_approval_through():
    def of(status):
        return Decision.from_json(decision(status=status, reason="why"))

    assert call_refusal(of("allowed")) is None and call_refusal(of("approved")) is None
    assert call_refusal(of("pending")) == "approval_pending: why: Said so."
    for status in ("denied", "rejected", "expired", "executed", "quarantined", "Approved"):
        assert call_refusal(of(status)) == f"{status}: why: Said so."


# -- Broken configuration or input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("not json", "hook_input_invalid: Expecting value: line 1 column 1 (char 0)"),
        ("[]", "hook_input_invalid: the hook input is not a JSON object."),
        ({"tool_input": {}}, "hook_input_invalid: the hook input has no tool_name."),
        (
            {"tool_name": 3, "tool_input": {}},
            "hook_input_invalid: the hook input has no tool_name.",
        ),
        (
            {"tool_name": "", "tool_input": {}},
            "hook_input_invalid: the hook input has no tool_name.",
        ),
        ({"tool_name": "Bash"}, "hook_input_invalid: the hook input has no tool_input object."),
        (
            {"tool_name": "Bash", "tool_input": []},
            "hook_input_invalid: the hook input has no tool_input object.",
        ),
        (
            {"tool_name": "Bash", "tool_input": {}, "session_id": 5},
            "hook_input_invalid: session_id is not a string.",
        ),
    ],
)
def test_unreadable_input_is_a_deny_and_nothing_is_asked(console, tmp_path, data, reason):
    assert verdict(run(console, tmp_path, data)) == ("deny", reason, None)
    assert console.seen == []


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        (["AGC_URL"], "AGC_URL"),
        (["AGC_TOKEN", "AGC_ON_BEHALF_OF"], "AGC_TOKEN, AGC_ON_BEHALF_OF"),
        (["AGC_PROFILE"], "AGC_PROFILE"),
    ],
)
def test_a_missing_setting_is_a_deny_naming_it(console, tmp_path, unset, named):
    env = {name: None for name in unset}
    if "AGC_PROFILE" in unset:
        env["AGC_PROFILE"] = ""  # empty counts as missing
    assert verdict(run(console, tmp_path, BASH_RM_BUILD, **env)) == (
        "deny",
        f"hook_not_configured: set {named} for the governance hook.",
        None,
    )
    assert console.seen == []


def test_a_broken_setting_is_a_deny(console, tmp_path):
    assert verdict(run(console, tmp_path, BASH_RM_BUILD, AGC_TIMEOUT="soon")) == (
        "deny",
        "hook_error: ValueError: could not convert string to float: 'soon'",
        None,
    )


def test_a_mapping_that_cannot_apply_is_a_deny(console, tmp_path):
    assert verdict(run(console, tmp_path, event("Write", {"content": "x"}))) == (
        "deny",
        "mapping_incomplete: Write: the tool's input has no file_path (the mapping needs it).",
        None,
    )
    assert console.asked() == []


def test_the_process_streams_and_environment_are_the_defaults(console, tmp_path, monkeypatch):
    for name, value in environment(console, tmp_path).items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(WRITE_IN_PROJECT)))
    monkeypatch.setattr(sys, "stdout", out)
    assert main() == 0
    assert verdict(json.loads(out.getvalue()))[0] == "allow"
    assert out.getvalue().endswith("}\n")


# -- What is asked, and the answers ------------------------------------------------------------


def expected_request_id(data: dict) -> str:
    def sha(text):
        return hashlib.sha256(text.encode()).hexdigest()

    call = json.dumps(
        [data["tool_name"], data["tool_input"]],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return f"cc-{sha(data.get('session_id', ''))[:16]}-{sha(call)[:40]}"


def test_the_decision_request_describes_the_call(console, tmp_path):
    # Keys out of order and a non-ASCII path: the request id hashes canonical JSON.
    data = event("Write", {"file_path": f"{CWD}/src/é.py", "content": "x = 1\n"})
    result = run(console, tmp_path, data, AGC_MODEL="claude-x")
    (asked,) = console.asked()
    assert asked.body == {
        "request_id": expected_request_id(data),
        "on_behalf_of": "devon@corp.example",
        "profile": "code-assistant",
        "action": "file.write",
        "connector": "repo",
        "data_sources": ["repo:src/%C3%A9.py"],
        "model": "claude-x",
        "params": data["tool_input"],
        "rationale": f"Claude Code runs Write in {CWD}.",
    }
    assert asked.headers["Authorization"] == "Bearer agc_rt_secret"
    assert verdict(result) == ("allow", "allowed (auto) auto_execute_allowlisted: Said so.", None)
    assert len(console.seen) == 2  # the mappings and the decision: no wait for an allow


def test_the_same_call_gets_the_same_request_id_in_its_session_only(console, tmp_path):
    other_session = {**BASH_RM_BUILD, "session_id": "another"}
    no_session = {k: v for k, v in BASH_RM_BUILD.items() if k != "session_id"}
    for data in (BASH_RM_BUILD, BASH_RM_BUILD, other_session, no_session):
        run(console, tmp_path, data)
    ids = [seen.body["request_id"] for seen in console.asked()]
    assert ids[0] == ids[1] == expected_request_id(BASH_RM_BUILD)
    assert ids[2] == expected_request_id(other_session) != ids[0]
    assert ids[3] == expected_request_id(no_session)
    assert ids[0].startswith("cc-" + hashlib.sha256(SESSION.encode()).hexdigest()[:16] + "-")


def test_without_a_cwd_the_hook_maps_paths_from_its_own(console, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = {k: v for k, v in event("Write", {"file_path": "x.py"}).items() if k != "cwd"}
    run(console, tmp_path, data)
    (asked,) = console.asked()
    assert asked.body["data_sources"] == ["repo:x.py"]
    assert asked.body["rationale"] == "Claude Code runs Write in ?."
    assert "model" in asked.body and asked.body["model"] == ""


def test_an_approval_runs_the_params_a_person_edited(console, tmp_path):
    edited = {"command": "rm -rf build/tmp", "description": "Remove"}
    console.decide = echo(
        "approved", approval="human:alex@corp.example", edited=True, params=edited
    )
    assert verdict(run(console, tmp_path, BASH_RM_BUILD)) == (
        "allow",
        "approved (human:alex@corp.example) needs_a_person: Said so.",
        edited,
    )


def test_an_allow_without_an_edit_keeps_the_input(console, tmp_path):
    console.decide = echo("allowed", edited=False, params={"command": "other"})
    assert verdict(run(console, tmp_path, BASH_RM_BUILD))[2] is None


def test_a_pending_call_waits_then_is_denied_naming_who_and_where(console, tmp_path, clock):
    console.decide = echo("pending", approval_id=12, action="shell.exec")
    console.still = (200, decision(status="pending", approval_id=12, action="shell.exec"))
    result = run(console, tmp_path, BASH_RM_BUILD, AGC_WAIT_SECONDS="30")
    assert verdict(result) == (
        "deny",
        f"approval_pending: shell.exec is waiting for Approvers to approve it ({console.url}"
        "/approvals/12/). Retry the same call later: once it is approved it runs. "
        "needs_a_person: Said so.",
        None,
    )
    assert clock.now - 1000 == 30
    assert {seen.path for seen in console.seen[2:]} == {"/api/v1/decisions/d-1"}


def test_a_pending_call_waits_two_minutes_by_default(console, tmp_path, clock):
    console.decide = echo("pending", action="shell.exec")
    console.still = (200, decision(status="pending", action="shell.exec"))
    verdict_ = verdict(run(console, tmp_path, BASH_RM_BUILD))
    assert verdict_[1].startswith(
        "approval_pending: shell.exec is waiting for Approvers to approve it. Retry"
    )
    assert clock.now - 1000 == 120


def test_a_pending_call_without_an_approver_group_waits_for_a_person(console, tmp_path, clock):
    console.decide = echo("pending", action="file.write")
    console.still = (200, decision(status="pending", action="file.write"))
    result = run(console, tmp_path, WRITE_IN_PROJECT, AGC_WAIT_SECONDS="1")
    assert verdict(result)[1].startswith(
        "approval_pending: file.write is waiting for a person to approve it. Retry the same"
    )


def test_a_call_approved_while_the_hook_waits_runs(console, tmp_path, clock):
    console.decide = echo("pending")
    console.polls = [(200, decision(status="pending")), (200, decision(status="approved"))]
    assert verdict(run(console, tmp_path, BASH_RM_BUILD, AGC_WAIT_SECONDS="30")) == (
        "allow",
        "approved (auto) needs_a_person: Said so.",
        None,
    )


def test_the_launcher_is_asked_at_once_where_the_policy_allows_it(console, tmp_path, clock):
    console.decide = echo("pending", action="git.create_branch")
    data = event("mcp__git__git_create_branch", {"repo_path": CWD, "branch_name": "fix"})
    assert verdict(run(console, tmp_path, data)) == (
        "ask",
        "launcher_may_confirm: the policy lets the person who launched the agent confirm "
        "git.create_branch here. needs_a_person: Said so.",
        None,
    )
    assert clock.slept == [] and len(console.seen) == 2
    assert console.asked()[0].body["action"] == "git.create_branch"


def test_an_unmapped_mcp_tool_maps_by_its_annotations(console, tmp_path):
    run(console, tmp_path, event("mcp__notes__read_note", {"name": "a"}))
    run(console, tmp_path, event("mcp__notes__purge", {}))
    run(console, tmp_path, event("mcp__other__tool", {}))
    asked = [(s.body["action"], s.body.get("connector")) for s in console.asked()]
    assert asked == [
        ("unmapped.read_only", None),
        ("unmapped.other", "notes"),
        ("unmapped.other", "other"),
    ]


def test_the_client_is_the_configured_one(console, tmp_path, monkeypatch):
    made = []

    class Spy(GovernanceClient):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(hook_module, "GovernanceClient", Spy)
    run(console, tmp_path, BASH_RM_BUILD, AGC_TIMEOUT=None)
    run(console, tmp_path, BASH_RM_BUILD, AGC_TIMEOUT="3.5")
    assert [(c.base_url, c.token, c.timeout) for c in made] == [
        (console.url, "agc_rt_secret", 10.0),
        (console.url, "agc_rt_secret", 3.5),
    ]


# -- After the tool ran ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["PostToolUse", "PostToolUseFailure"])
def test_an_outcome_is_passed_on_to_the_console(console, tmp_path, name):
    data = post(BASH_RM_BUILD, {"stdout": ""}, name=name)
    assert run(console, tmp_path, data) == {}
    (relayed,) = console.seen
    assert (relayed.method, relayed.path, relayed.body) == (
        "POST",
        "/api/v1/hooks/claude-code",
        data,
    )
    assert relayed.headers["X-Agent-Profile"] == "code-assistant"
    assert relayed.headers["X-On-Behalf-Of"] == "devon@corp.example"


def test_an_outcome_that_cannot_be_recorded_is_said_on_stderr(console, tmp_path, capsys, clock):
    console.relay = (500, {"detail": "Down."})
    assert run(console, tmp_path, post(BASH_RM_BUILD, {})) == {}
    assert capsys.readouterr().err == (
        "agc-claude-hook: the outcome was not recorded: HTTP 500 : Down.\n"
    )


@pytest.mark.parametrize(
    ("name", "response", "outcome"),
    [
        ("PostToolUseFailure", {"success": True}, "failed"),
        ("PostToolUse", {"success": False}, "failed"),
        ("PostToolUse", {"is_error": True}, "failed"),
        ("PostToolUse", {"isError": True}, "failed"),
        ("PostToolUse", {"interrupted": True}, "failed"),
        ("PostToolUse", {"success": True}, "executed"),
        (
            "PostToolUse",
            {"success": 0, "is_error": 1, "isError": "yes", "interrupted": 1},
            "executed",
        ),
        ("PostToolUse", "done", "executed"),
        ("PostToolUse", None, "executed"),
    ],
)
def test_the_outcome_of_a_tool(name, response, outcome):
    assert outcome_of({"hook_event_name": name, "tool_response": response}) == outcome


# -- The cached tool mappings ------------------------------------------------------------------


def cache_file(folder, url):
    return folder / f"tool-mappings-{hashlib.sha256(url.encode()).hexdigest()[:16]}.json"


def mapping_requests(console):
    return [s.path for s in console.seen if s.path.startswith("/api/v1/hooks/tool-mappings")]


def test_the_mapping_is_kept_while_its_revision_is_current(console, tmp_path):
    run(console, tmp_path, BASH_RM_BUILD)
    cached = cache_file(tmp_path / "cache", console.url)
    assert json.loads(cached.read_text()) == MAPPINGS
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]
    console.mappings = (200, {"policy_revision": 4, "unchanged": True})
    run(console, tmp_path, BASH_RM_BUILD)
    assert mapping_requests(console) == [
        "/api/v1/hooks/tool-mappings",
        "/api/v1/hooks/tool-mappings?revision=4",
    ]
    assert [s.body["action"] for s in console.asked()] == ["shell.exec", "shell.exec"]
    assert json.loads(cached.read_text()) == MAPPINGS


def test_a_new_revision_replaces_the_cached_mapping(console, tmp_path):
    run(console, tmp_path, BASH_RM_BUILD)
    newer = {"policy_revision": 5, "rules": [{"tool": "Bash", "action": "shell.run"}]}
    console.mappings = (200, newer)
    run(console, tmp_path, BASH_RM_BUILD)
    assert [s.body["action"] for s in console.asked()] == ["shell.exec", "shell.run"]
    assert json.loads(cache_file(tmp_path / "cache", console.url).read_text()) == newer


def test_unchanged_for_another_revision_is_a_deny(console, tmp_path):
    run(console, tmp_path, BASH_RM_BUILD)
    console.mappings = (200, {"policy_revision": 9, "unchanged": True})
    assert verdict(run(console, tmp_path, BASH_RM_BUILD)) == (
        "deny",
        "hook_error: KeyError: 'rules'",
        None,
    )


@pytest.mark.parametrize("content", ["not json", "[4]", '{"rules": []}'])
def test_an_unreadable_cache_is_fetched_again(console, tmp_path, content):
    cached = cache_file(tmp_path / "cache", console.url)
    cached.parent.mkdir()
    cached.write_text(content)
    assert verdict(run(console, tmp_path, BASH_RM_BUILD))[0] == "allow"
    assert mapping_requests(console) == ["/api/v1/hooks/tool-mappings"]
    assert json.loads(cached.read_text()) == MAPPINGS


def test_a_cache_that_cannot_be_written_costs_only_a_download(console, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    for _ in range(2):
        assert verdict(run(console, tmp_path, BASH_RM_BUILD, AGC_CACHE_DIR=str(blocked)))[0] == (
            "allow"
        )
    assert mapping_requests(console) == ["/api/v1/hooks/tool-mappings"] * 2


def test_the_cache_is_written_beside_its_final_place(console, tmp_path, monkeypatch):
    """Written to a temporary file in the cache's folder, then renamed: atomic, and never
    through the system's temporary folder (another filesystem, where a rename fails)."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    run(console, tmp_path, BASH_RM_BUILD)
    assert json.loads(cache_file(tmp_path / "cache", console.url).read_text()) == MAPPINGS


def test_the_cache_lives_in_the_home_directory_by_default(console, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    run(console, tmp_path, BASH_RM_BUILD, AGC_CACHE_DIR=None)
    folder = tmp_path / ".cache" / "agent-governance"
    assert json.loads(cache_file(folder, console.url).read_text()) == MAPPINGS
