"""Claude Code, governed two ways: the command hook (agc-claude-hook) and the console's HTTP
hook endpoint (POST /api/v1/hooks/claude-code), each fed the same recorded events and
expected to give the same answers, against the running console (and without one)."""

import io
import json
import subprocess
import sys
import threading
import time
import urllib.request

import pytest
from agent_governance.claude_code import main
from agent_governance.tool_mapping import Rule, map_call
from claude_code_events import (
    BASH_PUSH,
    BASH_RM_BUILD,
    BRANCH,
    CWD,
    EDIT_OUTSIDE,
    READ_IN_PROJECT,
    WEBFETCH,
    WRITE_IN_PROJECT,
    event,
    post,
)
from fakes import free_port, hostile_console

from audit.models import AuditEvent
from audit.services import SYSTEM
from catalog.models import CatalogItem
from governance.hooks.services import tool_mapping_create, tool_mapping_delete
from governance.models import Decision, PermissionProfile, ToolMapping
from governance.services import profile_grant_update

pytestmark = pytest.mark.django_db(transaction=True)
VIA = ["command", "http"]


@pytest.fixture
def hook(console, settings, tmp_path):
    """Send an event through the command hook or the HTTP hook; return the answer."""
    settings.GOVERNANCE = {**settings.GOVERNANCE, "HOOK_WAIT_SECONDS": 0.5}
    settings.SITE_URL = console.url

    def send(via: str, data: dict, wait: float = 0.5, **env) -> dict:
        settings.GOVERNANCE = {**settings.GOVERNANCE, "HOOK_WAIT_SECONDS": wait}
        if via == "http":
            return http_hook(console, data)
        environment = {
            "AGC_URL": console.url,
            "AGC_TOKEN": console.tokens["claude-code"],
            "AGC_PROFILE": "code-assistant",
            "AGC_ON_BEHALF_OF": "devon@corp.example",
            "AGC_WAIT_SECONDS": str(wait),
            "AGC_CACHE_DIR": str(tmp_path / "cache"),
            **env,
        }
        out = io.StringIO()
        assert main(stdin=io.StringIO(json.dumps(data)), stdout=out, env=environment) == 0
        return json.loads(out.getvalue())

    return send


def http_hook(console, data, token=None, headers=None) -> dict:
    request = urllib.request.Request(
        f"{console.url}/api/v1/hooks/claude-code",
        data=data if isinstance(data, bytes) else json.dumps(data).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token or console.tokens['claude-code']}",
            "Content-Type": "application/json",
            "X-Agent-Profile": "code-assistant",
            "X-On-Behalf-Of": "devon@corp.example",
            **(headers or {}),
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return json.load(response)


def expect(decision: str, reason_start: str, updated=None) -> callable:
    def check(result: dict):
        output = result["hookSpecificOutput"]
        assert output["hookEventName"] == "PreToolUse"
        assert output["permissionDecision"] == decision, output
        assert output["permissionDecisionReason"].startswith(reason_start), output
        assert output.get("updatedInput") == updated
        assert set(result) == {"hookSpecificOutput"}

    return check


def decide_soon(console, action: str, verdict: str = "approve", body=None):
    def run():
        for _ in range(200):
            pending = console.approvals(action)
            if pending:
                console.vote(pending[0]["id"], verdict, body)
                return
            time.sleep(0.1)

    threading.Thread(target=run, daemon=True).start()


@pytest.mark.parametrize("via", VIA)
def test_write_inside_the_project_is_allowed(hook, via):
    expect("allow", "allowed (auto) auto_execute_allowlisted")(hook(via, WRITE_IN_PROJECT))


@pytest.mark.parametrize("via", VIA)
def test_edit_outside_the_project_is_denied(hook, via):
    expect("deny", "denied: unknown_catalog_item")(hook(via, EDIT_OUTSIDE))


@pytest.mark.parametrize("via", VIA)
def test_read_of_a_project_file_is_allowed(hook, via):
    expect("allow", "allowed")(hook(via, READ_IN_PROJECT))


@pytest.mark.parametrize("via", VIA)
def test_a_pending_call_is_denied_naming_who_must_approve_and_where(hook, console, via):
    """No local `ask` for an approval routed to someone else: a deny that names the group,
    links the request and says to retry."""
    result = hook(via, BASH_RM_BUILD)
    expect("deny", "approval_pending: shell.exec is waiting for Approvers to approve it (")(result)
    reason = result["hookSpecificOutput"]["permissionDecisionReason"]
    approval = console.approvals("shell.exec")[0]["id"]
    assert f"{console.url}/approvals/{approval}/" in reason
    assert "Retry the same call later" in reason


@pytest.mark.parametrize("via", VIA)
def test_the_call_retried_after_its_approval_runs(hook, console, via):
    expect("deny", "approval_pending")(hook(via, BASH_RM_BUILD))
    console.vote(console.approvals("shell.exec")[0]["id"], "approve")
    expect("allow", "approved (human:alex@corp.example)")(hook(via, BASH_RM_BUILD))
    assert Decision.objects.filter(action="shell.exec").count() == 1


@pytest.mark.parametrize("via", VIA)
def test_an_approval_with_edited_params_becomes_updated_input(hook, console, via):
    edited = {"command": "git push origin main", "description": "Push"}
    expect("deny", "approval_pending")(hook(via, BASH_PUSH))
    console.vote(console.approvals("shell.exec")[0]["id"], "approve", {"params": edited})
    expect("allow", "approved (human:alex@corp.example)", edited)(hook(via, BASH_PUSH))


@pytest.mark.parametrize("via", VIA)
def test_a_rejection_is_a_deny_with_the_reason(hook, console, via):
    expect("deny", "approval_pending")(hook(via, BASH_PUSH))
    console.vote(console.approvals("shell.exec")[0]["id"], "reject", {"reason": "No force"})
    expect("deny", "rejected: high_impact_or_irreversible")(hook(via, BASH_PUSH))


def test_the_command_hook_waits_for_the_person_and_runs_what_they_edited(hook, console):
    edited = {"command": "git push origin main", "description": "Push"}
    decide_soon(console, "shell.exec", body={"params": edited})
    expect("allow", "approved (human:alex@corp.example)", edited)(
        hook("command", BASH_PUSH, wait=20)
    )


@pytest.mark.postgres
def test_the_http_hook_holds_a_pending_call_until_a_person_decides(hook, console):
    """Long-poll: the answer comes when the approver decides, not at the end of the wait
    (PostgreSQL: the live server serves the vote while the hook request waits)."""
    decide_soon(console, "shell.exec", "reject", {"reason": "No force pushes"})
    started = time.monotonic()
    expect("deny", "rejected: high_impact_or_irreversible")(hook("http", BASH_PUSH, wait=30))
    assert time.monotonic() - started < 25


@pytest.mark.parametrize("via", VIA)
def test_an_mcp_tool_maps_through_the_console_mapping(hook, via, tmp_path):
    data = event("mcp__git__git_status", {"repo_path": str(tmp_path)})
    expect("allow", "allowed (auto) auto_execute_allowlisted: 'git.status'")(hook(via, data))


@pytest.mark.parametrize("via", VIA)
def test_an_unmapped_tool_goes_to_a_person(hook, via):
    result = hook(via, WEBFETCH)
    expect("deny", "approval_pending: unmapped.other is waiting for Approvers")(result)
    assert Decision.objects.get(action="unmapped.other").reason == "high_impact_or_irreversible"


@pytest.mark.parametrize("via", VIA)
def test_the_launcher_is_asked_only_where_policy_allows_it(hook, via):
    """git.branch is confirmable by the launcher: `ask`, at once, without waiting."""
    started = time.monotonic()
    expect("ask", "launcher_may_confirm: the policy lets the person who launched the agent")(
        hook(via, BRANCH, wait=20)
    )
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("via", VIA)
def test_the_same_call_twice_is_one_decision(hook, via):
    hook(via, WRITE_IN_PROJECT)
    hook(via, WRITE_IN_PROJECT)
    assert Decision.objects.filter(action="file.write").count() == 1


@pytest.mark.parametrize("via", VIA)
def test_the_outcome_is_recorded_with_its_params_digest(hook, via):
    hook(via, WRITE_IN_PROJECT)
    assert hook(via, post(WRITE_IN_PROJECT, {"success": True})) == {}
    decision = Decision.objects.get(action="file.write")
    assert decision.status == "executed"
    assert decision.audit_events.filter(event_type="outcome_reported").get().params_digest == (
        decision.params_digest
    )


@pytest.mark.parametrize("via", VIA)
def test_a_failed_tool_is_recorded_as_failed(hook, via):
    hook(via, READ_IN_PROJECT)
    hook(via, post(READ_IN_PROJECT, {"error": "No such file"}, name="PostToolUseFailure"))
    assert Decision.objects.get(action="file.read").status == "failed"


@pytest.mark.parametrize("via", VIA)
def test_a_tool_that_ran_without_a_decision_is_recorded(hook, via):
    hook(via, post(BASH_RM_BUILD, {"stdout": ""}))
    event_ = AuditEvent.objects.get(event_type="tool_ran_unapproved")
    assert event_.detail["why"] == "No decision was asked for this call."
    assert event_.detail["tool_name"] == "Bash"


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("bad", [[], {"tool_name": 3}, {"tool_name": "Bash"}])
def test_unreadable_input_denies(hook, via, bad):
    expect("deny", "hook_input_invalid")(hook(via, bad))


@pytest.mark.parametrize("via", VIA)
def test_a_mapping_that_cannot_apply_denies(hook, via):
    expect("deny", "mapping_incomplete: Write: the tool's input has no file_path")(
        hook(via, event("Write", {"content": "x"}))
    )


def test_http_hook_answers_a_bad_token_with_a_200_deny(console):
    expect("deny", "hook_unauthenticated")(
        http_hook(console, BASH_RM_BUILD, token="agc_rt_not-a-token")
    )


def test_http_hook_answers_garbage_with_a_200_deny(console):
    expect("deny", "hook_input_invalid")(http_hook(console, b"\xff{not json"))


def test_http_hook_without_profile_headers_denies(console):
    expect("deny", "hook_not_configured")(
        http_hook(console, BASH_RM_BUILD, headers={"X-Agent-Profile": ""})
    )


def test_http_hook_answers_an_internal_error_with_a_200_deny(console, monkeypatch):
    def broken():
        raise RuntimeError("database on fire")

    monkeypatch.setattr("governance.hooks.claude.tool_mapping_rules", broken)
    expect("deny", "hook_error")(http_hook(console, WRITE_IN_PROJECT))


def test_the_command_hook_keeps_the_mapping_until_the_policy_revision_moves(hook, tmp_path):
    hook("command", WRITE_IN_PROJECT)
    cache = next((tmp_path / "cache").glob("tool-mappings-*.json"))
    first = json.loads(cache.read_text())
    tool_mapping_create(actor=SYSTEM, tool="WebFetch", action="file.read")
    expect("allow", "allowed (auto) auto_execute_allowlisted: 'file.read'")(
        hook("command", WEBFETCH)
    )
    assert json.loads(cache.read_text())["policy_revision"] > first["policy_revision"]


def test_annotations_of_an_unmapped_mcp_tool_set_its_default(hook):
    """Reviewed annotations (the pinned version's tool definitions): read-only runs,
    destructive waits for a person."""
    version = CatalogItem.objects.get(slug="time").versions.get(is_pinned=True)
    version.tool_definitions = [
        {"name": "tick", "inputSchema": {}, "annotations": {"readOnlyHint": True}},
        {"name": "wipe", "inputSchema": {}, "annotations": {"destructiveHint": True}},
        {"name": "poke", "inputSchema": {}},
    ]
    version.save()
    tool_mapping_delete(ToolMapping.objects.get(tool="mcp__time__*"), actor=SYSTEM)
    grant = PermissionProfile.objects.get(slug="code-assistant").grants.get(connector__slug="time")
    profile_grant_update(grant, actor=SYSTEM, access="write")
    for via in VIA:
        expect("allow", "allowed (auto) auto_execute_allowlisted: 'unmapped.read_only'")(
            hook(via, event("mcp__time__tick", {}))
        )
        expect("deny", "approval_pending: unmapped.destructive is waiting for Approvers")(
            hook(via, event("mcp__time__wipe", {}))
        )
        expect("deny", "approval_pending: unmapped.other is waiting for Approvers")(
            hook(via, event("mcp__time__poke", {}))
        )
    wipe = Decision.objects.get(action="unmapped.destructive")
    assert (wipe.reason, wipe.impact, wipe.reversible) == (
        "high_impact_or_irreversible",
        "high",
        False,
    )


def test_an_unreachable_console_denies(db):
    env = {
        "AGC_URL": f"http://127.0.0.1:{free_port()}",
        "AGC_TOKEN": "t",
        "AGC_PROFILE": "p",
        "AGC_ON_BEHALF_OF": "a@b.example",
    }
    out = io.StringIO()
    assert main(stdin=io.StringIO(json.dumps(BASH_RM_BUILD)), stdout=out, env=env) == 0
    expect("deny", "console_unavailable")(json.loads(out.getvalue()))


def test_a_missing_configuration_denies_and_says_what_is_missing(db):
    out = io.StringIO()
    main(stdin=io.StringIO(json.dumps(BASH_RM_BUILD)), stdout=out, env={"AGC_URL": "http://x"})
    expect("deny", "hook_not_configured: set AGC_TOKEN, AGC_PROFILE, AGC_ON_BEHALF_OF")(
        json.loads(out.getvalue())
    )


def test_the_installed_console_script_speaks_the_protocol(console, tmp_path):
    """As Claude Code runs it: a process, JSON on stdin, JSON on stdout, exit 0."""
    script = [sys.executable, "-m", "agent_governance.claude_code"]
    env = {
        "AGC_URL": console.url,
        "AGC_TOKEN": console.tokens["claude-code"],
        "AGC_PROFILE": "code-assistant",
        "AGC_ON_BEHALF_OF": "devon@corp.example",
        "AGC_CACHE_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    data = json.dumps(event("Write", {"file_path": f"{CWD}/b.py", "content": ""}))
    done = subprocess.run(script, input=data, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    expect("allow", "allowed")(json.loads(done.stdout))


@pytest.mark.parametrize(
    ("tool", "tool_input", "expected"),
    [
        ("Write", {"file_path": f"{CWD}/src/x.py"}, ("file.write", "repo", ["repo:src/x.py"])),
        ("Write", {"file_path": "docs/y.md"}, ("file.write", "repo", ["repo:docs/y.md"])),
        ("Edit", {"file_path": "/tmp/z"}, ("file.write", "repo", ["fs:tmp/z"])),
        ("Edit", {"file_path": f"{CWD}/../x"}, ("file.write", "repo", ["fs:home/devon/src/x"])),
        ("Bash", {"command": "ls"}, ("shell.exec", None, [])),
        (
            "mcp__git__git_commit",
            {"repo_path": "/r", "message": "m"},
            ("git.commit", "git", ["git:r"]),
        ),
        ("mcp__git__git_log", {"repo_path": "/r"}, ("git.log", None, ["git:r"])),
        ("mcp__time__get_current_time", {}, ("time.get_current_time", None, [])),
        ("WebFetch", {"url": "x"}, ("unmapped.other", None, [])),
        ("mcp__notes__read", {}, ("unmapped.other", "notes", [])),
    ],
)
def test_the_demo_mapping(tool, tool_input, expected):
    from governance.management.commands.seed_demo import POLICY_FILE
    from governance.policy import policy_parse

    rules = [Rule.from_json(r) for r in policy_parse(POLICY_FILE.read_text())["tool_mappings"]]
    mapped = map_call(rules, tool, tool_input, cwd=CWD)
    assert (mapped.action, mapped.connector, mapped.data_sources) == expected


REFUSED_WITH = {
    "redirect": "console_redirect",
    "wrong_request_id": "console_protocol_error",
    "wrong_decision_id": "console_protocol_error",
    "poll_redirect": "console_redirect",
    "garbage": "console_protocol_error",
    "unreachable": "console_unavailable",
}


def hostile_with_mappings(kind, elsewhere):
    """A hostile console that still serves an (empty) tool mapping."""
    mappings = json.dumps({"policy_revision": 1, "rules": [], "action_types": {}}).encode()

    def extra(seen):
        if seen.path.startswith("/api/v1/hooks/tool-mappings"):
            return 200, {"Content-Type": "application/json"}, mappings
        return 404, {}, b"{}"

    return hostile_console(kind, elsewhere, extra=extra)


@pytest.mark.parametrize("kind", list(REFUSED_WITH))
def test_a_hostile_or_absent_console_is_a_deny(db, elsewhere, kind, tmp_path):
    """The same hostile consoles as the client's and the gateway's tests: each is a deny
    naming what went wrong, and the other host never sees the token."""
    console = hostile_with_mappings(kind, elsewhere)
    if kind == "unreachable":
        console.close()
    env = {
        "AGC_URL": console.url,
        "AGC_TOKEN": "agc_rt_secret",
        "AGC_PROFILE": "code-assistant",
        "AGC_ON_BEHALF_OF": "devon@corp.example",
        "AGC_WAIT_SECONDS": "1",
        "AGC_TIMEOUT": "2",
        "AGC_CACHE_DIR": str(tmp_path),
    }
    out = io.StringIO()
    try:
        status = main(stdin=io.StringIO(json.dumps(BASH_RM_BUILD)), stdout=out, env=env)
    finally:
        if kind != "unreachable":
            console.close()
    assert status == 0
    expect("deny", REFUSED_WITH[kind])(json.loads(out.getvalue()))
    assert elsewhere.seen == []
