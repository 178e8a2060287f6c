"""The console side of "enforcement where agents already are": tool mappings as governed
configuration (pages, test box, policy YAML), the managed settings for Claude Code
(validated against the schema written from Claude Code's documentation) and the
launcher-confirmable flag of action types."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import SYSTEM
from catalog.models import CatalogItem
from governance.exceptions import ValidationFailed
from governance.hooks.claude_settings import (
    claude_settings_build,
    managed_mcp_build,
    settings_validate,
)
from governance.hooks.services import tool_mapping_create
from governance.models import ActionType, ToolMapping
from governance.policy import policy_export, policy_import
from governance.selectors import policy_revision_current
from governance.services import action_type_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def mappings(policy):
    """Bash and Write mapped; the sales profile allows neither shell.exec nor file.write."""
    tool_mapping_create(actor=SYSTEM, tool="Bash", action="shell.exec")
    tool_mapping_create(
        actor=SYSTEM,
        tool="Write",
        action="file.write",
        connector="repo",
        data_sources=["repo:{file_path}"],
    )
    tool_mapping_create(actor=SYSTEM, tool="mcp__crm__*", action="crm.{tool}")
    return policy


def build(policy, **kwargs):
    return claude_settings_build(
        runtime=policy.runtime, profile="sales", base_url="https://gov.corp.example/", **kwargs
    )


@pytest.mark.parametrize("hook", ["command", "http"])
def test_generated_settings_are_valid_and_lock_the_hooks_in(mappings, hook):
    document = build(mappings, hook=hook)
    assert settings_validate(document, "managed-settings") == []
    assert document["allowManagedHooksOnly"] is True
    assert document["allowManagedPermissionRulesOnly"] is True
    for event in ("PreToolUse", "PostToolUse"):
        (group,) = document["hooks"][event]
        assert group["matcher"] == "*"
        assert group["hooks"][0]["type"] == hook
        assert group["hooks"][0]["onFailure"] == "block"


def test_the_http_hook_references_secrets_and_never_writes_them(mappings):
    document = build(mappings, hook="http")
    text = json.dumps(document)
    assert mappings.runtime.token not in text
    entry = document["hooks"]["PreToolUse"][0]["hooks"][0]
    assert entry["url"] == "https://gov.corp.example/api/v1/hooks/claude-code"
    assert entry["headers"]["Authorization"] == "Bearer ${AGC_TOKEN}"
    assert entry["headers"]["X-On-Behalf-Of"] == "${AGC_ON_BEHALF_OF}"
    assert entry["headers"]["X-Agent-Profile"] == "sales"
    assert entry["allowedEnvVars"] == ["AGC_TOKEN", "AGC_ON_BEHALF_OF"]
    assert document["allowedHttpHookUrls"] == ["https://gov.corp.example/api/v1/hooks/*"]


def test_tools_no_action_type_of_the_profile_allows_are_denied(mappings):
    deny = build(mappings)["permissions"]["deny"]
    assert {"Bash", "Write", "WebFetch"} <= set(deny)
    mappings.profile.action_types = [*mappings.profile.action_types, "shell.exec"]
    mappings.profile.save()
    assert "Bash" not in build(mappings)["permissions"]["deny"]


def test_the_profiles_mcp_servers_run_through_the_gateway(mappings):
    CatalogItem.objects.filter(slug="crm").update(
        mcp_server={"command": ["crm-mcp"], "env": {"CRM_KEY": "${CRM_KEY}"}}
    )
    assert build(mappings)["allowedMcpServers"] == [{"serverName": "crm"}]
    mcp = managed_mcp_build(runtime=mappings.runtime, profile="sales", base_url="https://g.example")
    assert settings_validate(mcp, "managed-mcp") == []
    crm = mcp["mcpServers"]["crm"]
    assert crm["command"] == "agc-mcp-gateway"
    assert crm["args"][-2:] == ["--connector", "crm"]
    assert crm["env"] == {"AGC_TOKEN": "${AGC_TOKEN}", "CRM_KEY": "${CRM_KEY}"}


def test_the_schema_refuses_what_claude_code_would_not_read(mappings):
    document = build(mappings)
    document["hooks"]["PreToolUse"][0]["hooks"][0]["type"] = "commnd"
    document["allowManagedHookOnly"] = True
    errors = settings_validate(document, "managed-settings")
    assert any("allowManagedHookOnly" in e for e in errors)
    assert any(e.startswith("hooks/PreToolUse/0/hooks/0") for e in errors)


def test_a_profile_the_runtime_may_not_use_is_refused(mappings):
    with pytest.raises(ValidationFailed):
        claude_settings_build(runtime=mappings.runtime, profile="nope", base_url="https://x")


def test_admins_download_the_settings_from_the_runtime_page(client, governance_admin, mappings):
    client.force_login(governance_admin)
    page = client.get(reverse("governance:runtime_list")).content.decode()
    url = reverse("governance:runtime_claude_settings", args=["sales-agent"])
    assert f"{url}?profile=sales" in page
    response = client.get(url, {"profile": "sales", "hook": "http"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="managed-settings.json"'
    assert settings_validate(json.loads(response.content), "managed-settings") == []
    assert client.get(url, {"profile": "nope"}).status_code == 400


def test_only_governance_admins_download_settings(client, auditor, mappings):
    client.force_login(auditor)
    url = reverse("governance:runtime_claude_settings", args=["sales-agent"])
    assert client.get(url, {"profile": "sales"}).status_code == 403


def test_export_claude_settings_command(mappings, tmp_path, capsys):
    call_command(
        "export_claude_settings", "sales-agent", "--profile", "sales",
        "--mcp-output", str(tmp_path / "managed-mcp.json"),
    )  # fmt: skip
    document = json.loads(capsys.readouterr().out)
    assert settings_validate(document, "managed-settings") == []
    assert json.loads((tmp_path / "managed-mcp.json").read_text()) == {"mcpServers": {}}
    with pytest.raises(CommandError, match="no agent runtime"):
        call_command("export_claude_settings", "ghost", "--profile", "sales")


def test_a_mapping_added_on_the_page_is_audited_and_moves_the_revision(
    client, governance_admin, policy
):
    client.force_login(governance_admin)
    before = policy_revision_current()[0]
    response = client.post(
        reverse("governance:tool_mapping_list"),
        {"tool": "Edit", "action": "file.write", "connector": "repo",
         "data_sources": "repo:{file_path}", "description": ""},
    )  # fmt: skip
    assert response.status_code == 302
    mapping = ToolMapping.objects.get(tool="Edit")
    assert mapping.data_sources == ["repo:{file_path}"]
    event = AuditEvent.objects.get(
        event_type="config_created", object_type="governance.toolmapping"
    )
    assert event.changes["after"]["action"] == "file.write"
    assert policy_revision_current()[0] > before


def test_a_bad_mapping_is_a_400_with_the_field_error(client, governance_admin, policy):
    client.force_login(governance_admin)
    response = client.post(
        reverse("governance:tool_mapping_list"),
        {"tool": "Edit", "action": "Not A Key", "data_sources": "nocolon"},
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) >= {"action", "data_sources"}
    assert not ToolMapping.objects.exists()


def test_only_admins_change_mappings(client, auditor, mappings):
    client.force_login(auditor)
    assert client.get(reverse("governance:tool_mapping_list")).status_code == 200
    response = client.post(reverse("governance:tool_mapping_list"), {"tool": "X", "action": "x"})
    assert response.status_code == 403
    bash = ToolMapping.objects.get(tool="Bash")
    assert client.post(reverse("governance:tool_mapping_delete", args=[bash.pk])).status_code == 403


def test_the_test_box_says_what_a_tool_call_maps_to(client, auditor, mappings):
    client.force_login(auditor)
    response = client.get(
        reverse("governance:tool_mapping_list"),
        {"tool_name": "Write", "tool_input": '{"file_path": "/p/src/a.py"}', "cwd": "/p",
         "profile": "sales"},
    )  # fmt: skip
    result = response.context["test"]
    assert (result["mapped"].action, result["mapped"].data_sources) == (
        "file.write",
        ["repo:src/a.py"],
    )
    assert result["allowed"] is False
    assert "does not allow it: denied" in response.content.decode()
    missing = client.get(
        reverse("governance:tool_mapping_list"),
        {"tool_name": "Write", "tool_input": "{}", "cwd": "/"},
    )
    assert "has no file_path" in missing.context["test"]["error"]


def test_tool_mappings_round_trip_through_the_policy_document(mappings, governance_admin):
    document = policy_export()
    assert {"tool": "Bash", "action": "shell.exec", "connector": "", "data_sources": [],
            "description": ""} in document["tool_mappings"]  # fmt: skip
    assert policy_import(document, actor=governance_admin).changes == []
    document["tool_mappings"].append({"tool": "Read", "action": "bad key!"})
    with pytest.raises(ValidationFailed) as error:
        policy_import(document, actor=governance_admin)
    assert any(e.startswith("tool_mappings[3].action") for e in error.value.extra["errors"])


def test_critical_actions_cannot_be_confirmed_by_the_launcher(policy, governance_admin):
    with pytest.raises(ValidationFailed):
        action_type_update(
            policy.action_types.finance, actor=governance_admin, confirmable_by_launcher=True
        )
    action_type_update(
        policy.action_types.update, actor=governance_admin, confirmable_by_launcher=True
    )
    assert ActionType.objects.get(key="crm.update_record").confirmable_by_launcher


def test_the_mapping_download_is_keyed_by_the_policy_revision(runtime_client, mappings):
    body = runtime_client.get("/api/v1/hooks/tool-mappings").json()
    assert {r["tool"] for r in body["rules"]} == {"Bash", "Write", "mcp__crm__*"}
    assert body["action_types"]["crm.update_record"] == {
        "approver_group": "Approvers",
        "confirmable_by_launcher": False,
    }
    again = runtime_client.get(f"/api/v1/hooks/tool-mappings?revision={body['policy_revision']}")
    assert again.json() == {"policy_revision": body["policy_revision"], "unchanged": True}
    tool_mapping_create(actor=SYSTEM, tool="Read", action="file.read")
    fresh = runtime_client.get(f"/api/v1/hooks/tool-mappings?revision={body['policy_revision']}")
    assert "Read" in {r["tool"] for r in fresh.json()["rules"]}


def test_a_mapping_added_in_the_admin_is_audited(client, governance_admin, policy):
    client.force_login(governance_admin)
    response = client.post(
        "/admin/governance/toolmapping/add/",
        {"tool": "Grep", "action": "file.read", "connector": "", "data_sources": "[]",
         "description": ""},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(
        event_type="config_created", object_type="governance.toolmapping"
    )
    assert event.actor == "user:gina@corp.example"
