"""Catalog pages and API: browsing, safe descriptions, version management, intake."""

import pytest
from rest_framework.test import APIClient

from catalog.markup import render_description
from catalog.models import CatalogVersion, IntakeRequest
from catalog.tests.conftest import DATA, DIGEST, SECURITY

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src=x onerror="alert(1)">', "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
        ('<a href="javascript:alert(1)">x</a>', "javascript:"),
        ("<iframe src=https://evil.example></iframe>", "<iframe"),
        ('<p style="background:url(x)">x</p>', "style="),
    ],
)
def test_descriptions_never_run_stored_html_or_script(text, forbidden):
    assert forbidden not in render_description(text)


def test_descriptions_keep_the_safe_markdown():
    html = render_description("**bold** and [docs](https://docs.example)\n\n- a\n- b")
    assert "<strong>bold</strong>" in html
    assert 'href="https://docs.example"' in html and 'rel="noopener noreferrer nofollow"' in html
    assert "<li>a</li>" in html


def test_everyone_signed_in_browses_and_filters_the_catalog(client, outsider, policy):
    client.force_login(outsider)
    content = client.get("/catalog/?kind=plugin").content.decode()
    assert "/catalog/outreach/" in content and "/catalog/crm/" not in content
    assert client.get("/catalog/?data_class=internal").status_code == 200
    assert client.get("/catalog/?kind=bogus").status_code == 400


def test_item_page_shows_exposure_versions_profiles_and_stats(client, outsider, policy, decide):
    decide()
    decide(plugin="outreach@2.0.0")
    policy.outreach.description = "<script>alert('x')</script> **Drafts** follow-ups"
    policy.outreach.save()
    client.force_login(outsider)
    content = client.get("/catalog/outreach/").content.decode()
    assert "<strong>Drafts</strong>" in content and "<script>alert" not in content
    assert 'data-testid="version-2.1.0"' in content and "pinned" in content
    # The profile is named, not linked: a person without a policy role may not open it.
    assert "sales" in content and "/profiles/sales/" not in content
    assert "/audit/history/" not in content
    assert 'data-testid="stat-allowed">1<' in content
    assert 'data-testid="stat-denied">1<' in content
    assert "Roll back" not in content  # not an owner


def test_owner_rolls_back_and_yanks_from_the_item_page(client, connector_owner, outreach_owned):
    client.force_login(connector_owner)
    older = CatalogVersion.objects.get(item=outreach_owned, version="2.0.0")
    content = client.get("/catalog/outreach/").content.decode()
    assert "Roll back…" in content
    client.post(f"/catalog/outreach/versions/{older.pk}/pin/", {"pin": "now"})
    assert CatalogVersion.objects.get(pk=older.pk).is_pinned
    newer = CatalogVersion.objects.get(item=outreach_owned, version="2.1.0")
    response = client.post(
        f"/catalog/outreach/versions/{newer.pk}/yank/", {"reason": ""}, follow=True
    )
    assert "Give a reason" in response.content.decode()
    client.post(f"/catalog/outreach/versions/{newer.pk}/yank/", {"reason": "CVE-2026-1"})
    assert CatalogVersion.objects.get(pk=newer.pk).is_yanked


def test_someone_else_cannot_pin_from_the_page(client, other_owner, outreach_owned):
    older = CatalogVersion.objects.get(item=outreach_owned, version="2.0.0")
    client.force_login(other_owner)
    assert client.get(f"/catalog/outreach/versions/{older.pk}/pin/").status_code == 403
    response = client.post(f"/catalog/outreach/versions/{older.pk}/pin/", {"pin": "now"})
    assert response.status_code == 403
    assert not CatalogVersion.objects.get(pk=older.pk).is_pinned


def test_filing_through_the_page_and_its_errors(client, requester, outreach_owned):
    client.force_login(requester)
    response = client.post(
        "/catalog/intake/new/",
        {
            "item": "outreach",
            "version": "2.2.0",
            "artifact_digest": "bad",
            "vendor": "x",
            "reach": "read",
            "justification": "y",
        },
    )
    assert response.status_code == 400
    assert "sha256" in response.content.decode()
    response = client.post(
        "/catalog/intake/new/",
        {
            "item": "outreach",
            "version": "2.2.0",
            "artifact_digest": DIGEST,
            "vendor": "x",
            "reach": "read",
            "justification": "y",
        },
    )
    intake = IntakeRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == intake.get_absolute_url()


def test_intake_request_is_hidden_from_people_who_are_not_involved(
    client, outsider, version_request
):
    client.force_login(outsider)
    assert client.get(version_request.get_absolute_url()).status_code == 404


def test_reviewing_through_the_page(client, connector_owner, security_reviewer, version_request):
    client.force_login(security_reviewer)
    url = f"/catalog/intake/{version_request.pk}/reviews/security/"
    response = client.post(
        url,
        {
            "security-kind": "security",
            "security-verdict": "approve",
            "security-checklist": ["source_verified"],
        },
    )
    assert response.status_code == 400
    assert "Tick every checklist item" in response.content.decode()
    client.post(
        url,
        {
            "security-kind": "security",
            "security-verdict": "approve",
            "security-checklist": sorted(SECURITY),
        },
    )
    client.force_login(connector_owner)
    assert (
        f"/catalog/intake/{version_request.pk}/" in client.get("/catalog/intake/").content.decode()
    )
    client.post(
        f"/catalog/intake/{version_request.pk}/reviews/data/",
        {"data-kind": "data", "data-verdict": "approve", "data-checklist": sorted(DATA)},
    )
    assert IntakeRequest.objects.get(pk=version_request.pk).state == "approved"
    client.post(f"/catalog/intake/{version_request.pk}/publish/", {"pin": "now"})
    assert IntakeRequest.objects.get(pk=version_request.pk).state == "published"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_reads_the_catalog_for_people_and_runtimes(outsider, runtime_client, policy):
    body = api(outsider).get("/api/v1/catalog/items?kind=plugin").json()
    assert [item["slug"] for item in body["results"]] == ["outreach"]
    assert runtime_client.get("/api/v1/catalog/items/crm").json()["pinned_version"] == "1.4.0"


def test_api_intake_journey(requester, connector_owner, security_reviewer, outreach_owned, decide):
    filed = api(requester).post(
        "/api/v1/catalog/intake",
        {
            "item": "outreach",
            "version": "2.2.0",
            "artifact_digest": DIGEST,
            "vendor": "x",
            "justification": "y",
        },
        format="json",
    )
    assert filed.status_code == 201, filed.json()
    pk = filed.json()["id"]
    assert (
        api(requester)
        .post(
            f"/api/v1/catalog/intake/{pk}/reviews",
            {"kind": "data", "verdict": "approve", "checklist": sorted(DATA)},
            format="json",
        )
        .status_code
        == 403
    )
    api(security_reviewer).post(
        f"/api/v1/catalog/intake/{pk}/reviews",
        {"kind": "security", "verdict": "approve", "checklist": sorted(SECURITY)},
        format="json",
    )
    response = api(connector_owner).post(
        f"/api/v1/catalog/intake/{pk}/reviews",
        {"kind": "data", "verdict": "approve", "checklist": sorted(DATA)},
        format="json",
    )
    assert response.json()["state"] == "approved"
    response = api(connector_owner).post(
        f"/api/v1/catalog/intake/{pk}/publish", {"pin": True}, format="json"
    )
    assert (response.json()["state"], response.json()["published_version"]) == (
        "published",
        "2.2.0",
    )
    assert decide(plugin="outreach@2.2.0").json()["outcome"] == "allow"


def test_api_refusals(requester, connector_owner, outsider, version_request):
    pk = version_request.pk
    assert api(outsider).get(f"/api/v1/catalog/intake/{pk}").status_code == 404
    response = api(connector_owner).post(f"/api/v1/catalog/intake/{pk}/withdraw")
    assert response.status_code == 403
    assert (
        api(requester).post(f"/api/v1/catalog/intake/{pk}/withdraw").json()["state"] == "withdrawn"
    )
    response = api(requester).post(f"/api/v1/catalog/intake/{pk}/withdraw")
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"
    bad = api(requester).post(
        "/api/v1/catalog/intake", {"state": "published", "version": "9"}, format="json"
    )
    assert bad.status_code == 400 and "state" in bad.json()["fields"]


def test_api_pin_and_yank_for_owners_only(connector_owner, other_owner, outreach_owned):
    assert (
        api(other_owner).post("/api/v1/catalog/items/outreach/versions/2.0.0/pin").status_code
        == 403
    )
    assert (
        api(connector_owner)
        .post("/api/v1/catalog/items/outreach/versions/2.0.0/pin")
        .json()["is_pinned"]
        is True
    )
    response = api(connector_owner).post(
        "/api/v1/catalog/items/outreach/versions/2.1.0/yank", {}, format="json"
    )
    assert response.status_code == 400
    response = api(connector_owner).post("/api/v1/catalog/items/outreach/versions/9.9.9/pin")
    assert response.status_code == 404
