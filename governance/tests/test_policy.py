"""Policy as code: import validates everything first, prints a diff, is idempotent and
audited; export round-trips."""

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from audit.services import SYSTEM
from catalog.models import CatalogItem, CatalogVersion
from governance.exceptions import PermissionDenied, ValidationFailed
from governance.models import ActionType, PermissionProfile
from governance.policy import policy_export, policy_import, policy_parse
from governance.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DOCUMENT = """
groups: [Sales, Approvers]
action_types:
  - key: crm.read_record
    name: Read a CRM record
    impact: low
    reversible: true
    auto_execute: true
  - key: mail.send_external
    name: Send an external e-mail
    impact: high
    reversible: false
    auto_execute: false
    approver_group: Approvers
    approval_ttl_minutes: 240
catalog:
  - slug: crm
    kind: connector
    name: CRM
    owner: dana@corp.example
    data_classes: [confidential, pii]
    status: approved
    versions:
      - {version: "1.4.0", pinned: true}
  - slug: sales-outreach
    kind: plugin
    name: Sales outreach
    status: approved
    versions:
      - {version: "2.0.0"}
      - {version: "2.1.0", pinned: true}
profiles:
  - slug: account-summary
    name: Summarize a customer account
    status: active
    launchers: {groups: [Sales], users: [j.rivera@corp.example]}
    action_types: [crm.read_record]
    plugins: [sales-outreach]
    grants:
      - {connector: crm, resources: ["account/*"], access: read}
"""


@pytest.fixture
def people(db):
    UserFactory(username="dana")
    UserFactory(username="j.rivera")


def load(text=DOCUMENT):
    return policy_parse(text)


def test_import_creates_everything_and_audits_it(people):
    result = policy_import(load(), actor=SYSTEM)
    assert result.applied
    assert ActionType.objects.count() == 2
    assert CatalogVersion.objects.get(item__slug="crm", is_pinned=True).version == "1.4.0"
    profile = PermissionProfile.objects.get(slug="account-summary")
    assert [g.connector.slug for g in profile.grants.all()] == ["crm"]
    assert sorted(u.email for u in profile.launcher_users.all()) == ["j.rivera@corp.example"]
    assert "+ actiontype mail.send_external" in result.changes
    assert AuditEvent.objects.filter(event_type="policy_imported").count() == 1


def test_importing_the_same_document_twice_changes_nothing(people):
    policy_import(load(), actor=SYSTEM)
    events = AuditEvent.objects.count()
    result = policy_import(load(), actor=SYSTEM)
    assert result.changes == []
    assert AuditEvent.objects.count() == events


def test_dry_run_prints_the_diff_and_writes_nothing(people):
    result = policy_import(load(), actor=SYSTEM, dry_run=True)
    assert not result.applied
    assert "+ permissionprofile account-summary" in result.changes
    assert not ActionType.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_change_shows_as_before_and_after(people):
    policy_import(load(), actor=SYSTEM)
    changed = DOCUMENT.replace(
        "auto_execute: false", "auto_execute: false\n    approvals_needed: 2"
    )
    result = policy_import(load(changed), actor=SYSTEM, dry_run=True)
    assert result.changes == ["~ actiontype mail.send_external: approvals_needed: 1 -> 2"]


def test_grants_listed_in_the_document_replace_the_profiles_grants(people):
    policy_import(load(), actor=SYSTEM)
    changed = DOCUMENT.replace('resources: ["account/*"]', 'resources: ["account/*", "contact/*"]')
    policy_import(load(changed), actor=SYSTEM)
    grants = PermissionProfile.objects.get(slug="account-summary").grants.all()
    assert [g.resources for g in grants] == [["account/*", "contact/*"]]


def test_every_error_is_reported_with_its_path_and_nothing_is_written(people):
    bad = (
        DOCUMENT.replace("impact: high", "impact: huge")
        .replace("owner: dana@corp.example", "owner: nobody@corp.example")
        .replace("access: read", "access: admin")
        .replace("plugins: [sales-outreach]", "plugins: [crm]")
    )
    with pytest.raises(ValidationFailed) as error:
        policy_import(load(bad), actor=SYSTEM)
    lines = error.value.extra["errors"]
    assert any(line.startswith("action_types[1].impact:") for line in lines)
    assert any(line.startswith("profiles[0].grants[0].access:") for line in lines)
    assert not ActionType.objects.exists()


def test_reference_errors_are_reported_with_their_path(people):
    bad = DOCUMENT.replace("owner: dana@corp.example", "owner: nobody@corp.example").replace(
        "plugins: [sales-outreach]", "plugins: [crm]"
    )
    with pytest.raises(ValidationFailed) as error:
        policy_import(load(bad), actor=SYSTEM)
    lines = error.value.extra["errors"]
    assert "catalog[0].owner: there is no user with the e-mail 'nobody@corp.example'." in lines
    assert "profiles[0].plugins[0]: 'crm' is not a plugin in the catalog." in lines


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("action_types: [", "not valid YAML"),
        ("- just a list", "must be a mapping"),
    ],
)
def test_unreadable_documents_are_refused_clearly(text, message):
    with pytest.raises(ValidationFailed, match=message):
        policy_parse(text)


def test_unknown_keys_are_refused(people):
    with pytest.raises(ValidationFailed) as error:
        policy_import(load(DOCUMENT + "runtimes: []\n"), actor=SYSTEM)
    assert "runtimes: Unknown field." in error.value.extra["errors"]


def test_allow_listing_an_irreversible_action_is_refused(people):
    bad = DOCUMENT.replace(
        "reversible: false\n    auto_execute: false", "reversible: false\n    auto_execute: true"
    )
    with pytest.raises(ValidationFailed):
        policy_import(load(bad), actor=SYSTEM)


def test_only_governance_admins_import(approver, people):
    with pytest.raises(PermissionDenied):
        policy_import(load(), actor=approver)


def test_mcp_server_reference_is_validated(people):
    bad = DOCUMENT.replace("kind: connector", "kind: connector\n    mcp_server: {url: ftp://x}")
    with pytest.raises(ValidationFailed) as error:
        policy_import(load(bad), actor=SYSTEM)
    assert any(line.startswith("catalog[0].mcp_server:") for line in error.value.extra["errors"])
    good = DOCUMENT.replace(
        "kind: connector", "kind: connector\n    mcp_server: {command: [uvx, mcp-server-time]}"
    )
    policy_import(load(good), actor=SYSTEM)
    assert CatalogItem.objects.get(slug="crm").mcp_server == {"command": ["uvx", "mcp-server-time"]}


def test_export_round_trips_through_import(people):
    policy_import(load(), actor=SYSTEM)
    exported = policy_export()
    assert policy_import(exported, actor=SYSTEM).changes == []
    assert exported["catalog"][0]["versions"][0] == {
        "version": "1.4.0",
        "pinned": True,
        "artifact_digest": "",
        "review_state": "approved",
        "yanked": False,
        "yank_reason": "",
        "notes": "",
    }


def test_demo_policy_file_is_valid(db):
    from governance.management.commands.seed_demo import PEOPLE, email_of

    for username, *_ in PEOPLE:
        UserFactory(username=username, email=email_of(username))
    path = Path(__file__).resolve().parents[1] / "demo" / "policy.yaml"
    result = policy_import(policy_parse(path.read_text()), actor=SYSTEM, dry_run=True)
    assert len(result.changes) > 30


def test_commands_import_and_export(tmp_path, people):
    path = tmp_path / "policy.yaml"
    path.write_text(DOCUMENT)
    out = StringIO()
    call_command("import_policy", str(path), "--dry-run", stdout=out)
    assert "Would apply" in out.getvalue()
    assert not CatalogItem.objects.exists()
    call_command("import_policy", str(path), stdout=StringIO())
    exported = StringIO()
    call_command("export_policy", stdout=exported)
    assert yaml.safe_load(exported.getvalue())["profiles"][0]["slug"] == "account-summary"


def test_import_command_prints_every_error(tmp_path, people):
    path = tmp_path / "policy.yaml"
    path.write_text(DOCUMENT.replace("impact: high", "impact: huge"))
    err = StringIO()
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_policy", str(path), stderr=err)
    assert "action_types[1].impact" in err.getvalue()


def test_import_command_reports_a_missing_file():
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_policy", "/nonexistent/policy.yaml")
