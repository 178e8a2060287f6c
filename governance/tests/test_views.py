"""Console pages: sign-in, a home page per role, and who may open which page."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

POLICY_PAGES = [
    "/decisions/",
    "/profiles/",
    "/profiles/sales/",
    "/action-types/",
]


def test_every_page_needs_a_sign_in(client, policy):
    for url in ["/", *POLICY_PAGES, "/runtimes/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_sign_in_and_out(client, governance_admin):
    response = client.post(reverse("login"), {"username": "gina", "password": "pw"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post(reverse("logout"))
    assert client.get("/").status_code == 302


def test_wrong_password_says_so(client, governance_admin):
    response = client.post(reverse("login"), {"username": "gina", "password": "nope"})
    assert "didn't match" in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "expected", "absent"),
    [
        ("governance_admin", ["Guardrails", "Profiles", "Runtimes"], []),
        ("approver", ["Approvals", "Decisions"], ["Guardrails", "Runtimes"]),
        ("auditor", ["Audit", "Runtimes"], ["Guardrails"]),
        ("leader", ["Leadership", "Last 30 days"], ["Guardrails", "Runtimes"]),
        ("connector_owner", ["Catalog items you own"], ["Guardrails"]),
        ("requester", ["My agents&#x27; decisions"], ["Profiles", "Guardrails", "Last 30 days"]),
    ],
)
def test_home_page_and_navigation_follow_the_role(
    client, request, policy, persona, expected, absent
):
    client.force_login(request.getfixturevalue(persona))
    content = client.get("/").content.decode()
    for text in expected:
        assert text in content
    for text in absent:
        assert text not in content


@pytest.mark.parametrize("url", POLICY_PAGES)
@pytest.mark.parametrize(
    ("persona", "status"),
    [("governance_admin", 200), ("auditor", 200), ("leader", 200), ("approver", 200)],
)
def test_overseeing_roles_open_the_policy_pages(client, request, policy, url, persona, status):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url).status_code == status


@pytest.mark.parametrize("url", ["/profiles/", "/profiles/sales/", "/action-types/", "/runtimes/"])
def test_people_without_a_role_are_refused_policy_pages(client, requester, policy, url):
    client.force_login(requester)
    response = client.get(url)
    assert response.status_code == 403
    assert b"ask a governance admin" in response.content


def test_people_see_only_decisions_made_on_their_behalf(client, decide, requester, outsider):
    decision_id = decide().json()["decision_id"]
    client.force_login(requester)
    assert decision_id in client.get("/decisions/").content.decode()
    assert client.get(f"/decisions/{decision_id}/").status_code == 200
    client.force_login(outsider)
    assert decision_id not in client.get("/decisions/").content.decode()
    assert client.get(f"/decisions/{decision_id}/").status_code == 404


def test_decision_page_shows_the_record_and_its_audit_trail(client, decide, auditor):
    decision_id = decide().json()["decision_id"]
    client.force_login(auditor)
    content = client.get(f"/decisions/{decision_id}/").content.decode()
    assert "auto_execute_allowlisted" in content
    assert "crm:account/42" in content
    assert "Decision made" in content


def test_decision_list_filters_by_status(client, decide, auditor):
    allowed = decide().json()["decision_id"]
    denied = decide(data_sources=["crm:contact/1"]).json()["decision_id"]
    client.force_login(auditor)
    content = client.get("/decisions/?status=denied").content.decode()
    assert f"/decisions/{denied}/" in content
    assert f"/decisions/{allowed}/" not in content
    everything = client.get("/decisions/").content.decode()
    assert f"/decisions/{allowed}/" in everything


def test_agent_text_is_escaped_on_the_page(client, decide, auditor):
    decision_id = decide(rationale="<script>alert(1)</script>").json()["decision_id"]
    client.force_login(auditor)
    content = client.get(f"/decisions/{decision_id}/").content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;" in content


def test_profile_referencing_an_unapproved_item_is_flagged(client, governance_admin, policy):
    policy.outreach.status = "retired"
    policy.outreach.save()
    client.force_login(governance_admin)
    content = client.get("/profiles/sales/").content.decode()
    assert 'data-testid="unusable-items"' in content
    assert "outreach (retired)" in content


def test_decision_list_query_count_does_not_grow_with_rows(
    client, decide, auditor, django_assert_max_num_queries
):
    for _ in range(5):
        decide()
    client.force_login(auditor)
    client.get("/decisions/")  # warm caches (roles)
    with django_assert_max_num_queries(12):
        client.get("/decisions/")


def test_healthz_answers_without_a_sign_in(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    "url",
    [
        "/decisions/?status=bogus",
        "/profiles/?status=bogus",
        "/action-types/?impact=huge",
        "/approvals/?impact=huge",
    ],
)
def test_an_invalid_filter_shows_its_error_and_no_rows(
    client, governance_admin, approver, decide, url
):
    decide()
    client.force_login(approver if url.startswith("/approvals") else governance_admin)
    response = client.get(url)
    assert response.status_code == 400
    content = response.content.decode()
    assert "Select a valid choice" in content
    assert "crm.read_record" not in content.split("<tbody>")[-1].split("</tbody>")[0]
