"""Security headers: a Content-Security-Policy with nothing inline, a Permissions-Policy,
and `Cache-Control: no-store` on every answer that carries a token or a secret."""

import re

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from governance.choices import Role

pytestmark = pytest.mark.django_db

CONSOLE_PAGES = [
    "/",
    "/decisions/",
    "/profiles/",
    "/profiles/sales/",
    "/action-types/",
    "/runtimes/",
    "/approvals/",
    "/approvals/decided/",
    "/approvals/all/",
    "/approvals/webhooks/",
    "/audit/",
    "/audit/integrity/",
    "/audit/dashboard/",
    "/audit/tuning/",
    "/audit/tuning/simulate/",
    "/audit/quarterly/",
    "/catalog/",
    "/catalog/crm/",
    "/catalog/intake/",
    "/catalog/intake/new/",
    "/accounts/login/",
]
# Markup the policy would block: inline <script> (a JSON data block is not a script),
# <style> elements, style="" attributes and on...= event handlers.
INLINE = [
    re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle=", re.I),
    re.compile(r"\son[a-z]+=", re.I),
]


@pytest.fixture
def gina_sees_everything(client, governance_admin, pending, decide):
    for role in (Role.AUDITOR, Role.LEADERSHIP, Role.APPROVER):
        governance_admin.groups.add(Group.objects.get_or_create(name=role.value)[0])
    decide()
    client.force_login(governance_admin)
    return client


def policy_of(response) -> dict[str, list[str]]:
    directives = [d.strip().split() for d in response["Content-Security-Policy"].split(";")]
    return {d[0]: d[1:] for d in directives if d}


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_console_pages_carry_a_policy_without_inline_code_and_contain_none(
    gina_sees_everything, path
):
    response = gina_sees_everything.get(path)
    assert response.status_code == 200
    policy = policy_of(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any(
        source in ("'unsafe-inline'", "'unsafe-eval'")
        for sources in policy.values()
        for source in sources
    )
    page = response.content.decode()
    for pattern in INLINE:
        assert not pattern.search(page), f"{path}: {pattern.search(page)[0]}"


def test_only_the_chart_page_allows_plotlys_stylesheet_by_hash(gina_sees_everything):
    dashboard = policy_of(gina_sees_everything.get("/audit/dashboard/"))
    assert dashboard["style-src"][0] == "'self'"
    assert len(dashboard["style-src"]) == 2
    assert all(s.startswith("'sha256-") for s in dashboard["style-src"][1:])
    assert policy_of(gina_sees_everything.get("/audit/"))["style-src"] == ["'self'"]


def test_every_answer_carries_a_permissions_policy(client, db):
    header = client.get("/accounts/login/")["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in header


def test_the_api_answers_json_only(governance_admin, policy):
    client = APIClient()
    client.force_authenticate(governance_admin)
    response = client.get("/api/v1/profiles", HTTP_ACCEPT="text/html")
    assert not response["Content-Type"].startswith("text/html")


# -- Cache-Control: no-store where a token or a secret is shown --------------------------


def assert_not_stored(response):
    assert "no-store" in response["Cache-Control"], response.get("Cache-Control")
    assert "private" in response["Cache-Control"]


def as_admin(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_created_runtimes_token_is_not_stored(governance_admin, policy):
    response = as_admin(governance_admin).post(
        "/api/v1/runtimes", {"name": "ops-agent", "profiles": ["sales"]}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["token"]
    assert_not_stored(response)


def test_a_rotated_token_is_not_stored(governance_admin, policy):
    response = as_admin(governance_admin).post("/api/v1/runtimes/sales-agent/rotate-token")
    assert response.status_code == 200
    assert response.json()["token"]
    assert_not_stored(response)


def test_a_webhook_secret_is_not_stored_on_the_api(governance_admin, policy):
    response = as_admin(governance_admin).post(
        "/api/v1/runtimes/sales-agent/callback",
        {"url": "https://agent.example/hook"},
        format="json",
    )
    assert response.json()["secret"].startswith("whsec_")
    assert_not_stored(response)


def test_a_webhook_secret_shown_in_the_admin_is_not_stored_and_never_in_a_cookie(
    client, governance_admin, policy
):
    client.force_login(governance_admin)
    url = f"/admin/governance/agentruntime/{policy.runtime.pk}/change/"
    form = {
        "description": "",
        "profiles": [policy.profile.pk],
        "callback_url": "https://agent.example/hook",
    }
    saved = client.post(url, form)
    assert saved.status_code == 302
    assert_not_stored(saved)
    assert "whsec_" not in str(saved.cookies)  # messages wait in the session, not a cookie
    shown = client.get(saved["Location"])
    assert "whsec_" in shown.content.decode()
    assert_not_stored(shown)
