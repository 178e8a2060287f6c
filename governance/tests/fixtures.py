"""Persona and policy fixtures shared by every app's tests (a pytest plugin)."""

import uuid
from types import SimpleNamespace

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from approvals.models import ApprovalRequest
from catalog.choices import ItemKind
from catalog.tests.factories import CatalogItemFactory, CatalogVersionFactory
from governance.choices import Impact, Role
from governance.selectors import policy_snapshot_clear
from governance.tests.factories import (
    ActionTypeFactory,
    AgentRuntimeFactory,
    GroupFactory,
    PermissionProfileFactory,
    ProfileGrantFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Personas get passwords; a slow hasher would dominate the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_policy_cache():
    """Each test starts without a cached policy snapshot (its data is rolled back)."""
    from governance.api.decision_endpoint import last_used_forget

    policy_snapshot_clear()
    last_used_forget()
    yield
    policy_snapshot_clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with empty rate-limit counters (the local-memory cache outlives
    the test's rolled-back data)."""
    from django.core.cache import cache

    from governance import ratelimit

    cache.clear()
    ratelimit._cache_down_until = 0.0
    yield


@pytest.fixture
def governance_admin(db):
    """Gina, who owns profiles, action types, the allow-list and the catalog."""
    return UserFactory(username="gina", groups=[Role.GOVERNANCE_ADMIN.value], is_staff=True)


@pytest.fixture
def connector_owner(db):
    """Owen, who owns the CRM connector and reviews its versions."""
    return UserFactory(username="owen", groups=[Role.CONNECTOR_OWNER.value, "CRM owners"])


@pytest.fixture
def other_owner(db):
    """Priya, who owns other catalog items, not the CRM."""
    return UserFactory(username="priya", groups=[Role.CONNECTOR_OWNER.value])


@pytest.fixture
def approver(db):
    """Alex, who works the approval inbox (and approves finance entries)."""
    return UserFactory(username="alex", groups=[Role.APPROVER.value, "Finance approvers"])


@pytest.fixture
def second_approver(db):
    """Blake, the second approver that critical actions need."""
    return UserFactory(username="blake", groups=[Role.APPROVER.value, "Finance approvers"])


@pytest.fixture
def leader(db):
    """Lee, from leadership, who reads dashboards and nothing else."""
    return UserFactory(username="lee", groups=[Role.LEADERSHIP.value])


@pytest.fixture
def auditor(db):
    """Audrey, who reads and exports the audit log."""
    return UserFactory(username="audrey", groups=[Role.AUDITOR.value])


@pytest.fixture
def outsider(db):
    """Oscar, signed in but with no governance role and no agent activity."""
    return UserFactory(username="oscar")


@pytest.fixture
def requester(db):
    """Sam, a sales rep on whose behalf agents act."""
    return UserFactory(username="sam", groups=["Sales"])


@pytest.fixture
def policy(db, requester):
    """A small, complete policy: two connectors, a plugin with pinned/yanked versions,
    four action types from auto-executable to critical, and the `sales` profile."""
    approvers = GroupFactory(name=Role.APPROVER.value)
    finance_approvers = GroupFactory(name="Finance approvers")
    GroupFactory(name=Role.GOVERNANCE_ADMIN.value)
    crm = CatalogItemFactory(slug="crm", kind=ItemKind.CONNECTOR)
    mail = CatalogItemFactory(slug="mail", kind=ItemKind.CONNECTOR)
    CatalogVersionFactory(item=crm, version="1.4.0", is_pinned=True)
    outreach = CatalogItemFactory(slug="outreach", kind=ItemKind.PLUGIN)
    CatalogVersionFactory(item=outreach, version="2.0.0")
    CatalogVersionFactory(item=outreach, version="2.1.0", is_pinned=True)
    CatalogVersionFactory(item=outreach, version="1.9.0", yanked_at=timezone.now())
    action_types = SimpleNamespace(
        read=ActionTypeFactory(key="crm.read_record", impact=Impact.LOW, auto_execute=True),
        update=ActionTypeFactory(
            key="crm.update_record",
            impact=Impact.MEDIUM,
            auto_execute=False,
            approver_group=approvers,
        ),
        send=ActionTypeFactory(
            key="mail.send_external",
            impact=Impact.HIGH,
            reversible=False,
            auto_execute=False,
            approver_group=approvers,
            approval_ttl_minutes=240,
        ),
        finance=ActionTypeFactory(
            key="finance.modify_record",
            impact=Impact.CRITICAL,
            reversible=False,
            auto_execute=False,
            approver_group=finance_approvers,
        ),
    )
    profile = PermissionProfileFactory(
        slug="sales",
        launcher_groups=["Sales"],
        plugins=[outreach],
        action_types=[
            "crm.read_record",
            "crm.update_record",
            "mail.send_external",
            "finance.modify_record",
            "ticket.*",
        ],
    )
    ProfileGrantFactory(profile=profile, connector=crm, resources=["account/*"], access="read")
    ProfileGrantFactory(profile=profile, connector=crm, resources=["opportunity/*"], access="write")
    ProfileGrantFactory(profile=profile, connector=mail, resources=["outbox/*"], access="write")
    runtime = AgentRuntimeFactory(name="sales-agent", profiles=[profile])
    return SimpleNamespace(
        crm=crm,
        mail=mail,
        outreach=outreach,
        profile=profile,
        runtime=runtime,
        action_types=action_types,
        approvers=approvers,
        finance_approvers=finance_approvers,
        requester=requester,
    )


@pytest.fixture
def runtime_client(policy):
    """An API client holding the `sales-agent` runtime's bearer token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {policy.runtime.token}")
    client.runtime = policy.runtime
    return client


@pytest.fixture
def proposal(policy):
    """A factory of decision requests: a read of an account unless told otherwise."""

    def make(**overrides):
        body = {
            "request_id": uuid.uuid4().hex,
            "on_behalf_of": policy.requester.email,
            "profile": "sales",
            "action": "crm.read_record",
            "data_sources": ["crm:account/42"],
            "plugin": "outreach@2.1.0",
            "model": "claude-sonnet-4-5",
            "params": {"account_id": 42},
            "rationale": "Summarise the account.",
        }
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not ...}

    return make


@pytest.fixture
def decide(runtime_client, proposal):
    """POST a decision request as the runtime; returns the response."""

    def post(**overrides):
        return runtime_client.post("/api/v1/decisions", proposal(**overrides), format="json")

    return post


@pytest.fixture
def make_pending(decide):
    """POST a decision that goes to a person; return its ApprovalRequest."""

    def make(kind: str = "send", **overrides) -> ApprovalRequest:
        kinds = {
            "send": dict(
                action="mail.send_external",
                connector="mail",
                data_sources=["mail:outbox/1"],
                params={"to": "buyer@customer.example", "body": "20% off"},
                rationale="Follow-up <b>after</b> the call.",
            ),
            "update": dict(
                action="crm.update_record",
                connector="crm",
                data_sources=["crm:opportunity/9"],
                params={"stage": "won"},
            ),
            "critical": dict(
                action="finance.modify_record", data_sources=[], params={"amount": 900}
            ),
            "unknown": dict(action="ticket.merge", data_sources=[], params={"into": 7}),
        }
        body = decide(**{**kinds[kind], **overrides}).json()
        return ApprovalRequest.objects.get(pk=body["approval_id"])

    return make


@pytest.fixture
def pending(make_pending):
    """A high-impact, irreversible e-mail waiting for the Approvers group."""
    return make_pending("send")


@pytest.fixture
def security_reviewer(db):
    """Sasha, from the security team, who may give the security review of any request."""
    return UserFactory(username="sasha", groups=["Security reviewers"])


@pytest.fixture
def outreach_owned(policy, connector_owner):
    """The outreach plugin, owned by Owen and the CRM owners group."""
    from django.contrib.auth.models import Group

    policy.outreach.owner = connector_owner
    policy.outreach.owning_group = Group.objects.get(name="CRM owners")
    policy.outreach.save()
    return policy.outreach
