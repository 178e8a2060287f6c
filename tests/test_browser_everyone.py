"""Every person's pages lead somewhere: each link shown opens for the person it is shown to
(no 403 or 404 behind a link), and the API docs send a signed-out person to sign in."""

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from audit.seal_services import audit_seal_new_events
from catalog.services import catalog_version_pin
from catalog.workflow import intake_request_submit
from governance.services import action_type_update

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Links that change something, or leave the console, are not followed.
SKIP = re.compile(r"^/(accounts/logout|admin/)|format=(csv|jsonl)|/export/")


@pytest.fixture
def activity(policy, decide, connector_owner, outreach_owned, governance_admin, requester):
    """Decisions, a configuration change, a re-pinned version and an open intake request."""
    decide()
    decide(data_sources=["crm:contact/7"])
    action_type_update(policy.action_types.update, actor=governance_admin, approval_ttl_minutes=90)
    older = outreach_owned.versions.get(version="2.0.0")
    catalog_version_pin(older, actor=connector_owner)
    intake_request_submit(
        actor=requester,
        item=outreach_owned,
        version="2.2.0",
        artifact_digest="sha256:" + "ab" * 32,
        vendor="Internal",
        justification="Calendar",
    )
    audit_seal_new_events(margin_seconds=0)


def sign_in_on(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def dead_links(page, path: str) -> list[tuple[str, int]]:
    """Open `path`, then follow every link of its main content and navigation with the
    person's session: the ones that answer 403 or 404."""
    page.goto(path)
    hrefs = page.eval_on_selector_all(
        "header a[href], main a[href]", "links => links.map(a => a.getAttribute('href'))"
    )
    dead = []
    for href in dict.fromkeys(hrefs):
        url = urlparse(href)
        if url.scheme or href.startswith("#"):
            continue
        target = href if href.startswith("/") else page.url.split("?")[0] + href
        if SKIP.search(target):
            continue
        status = page.request.get(target, max_redirects=0).status
        if status in (403, 404):
            dead.append((href, status))
    return dead


@pytest.mark.parametrize(
    ("persona", "username", "paths"),
    [
        ("leader", "lee", ["/", "/audit/", "/audit/quarterly/", "/audit/dashboard/summary/"]),
        ("auditor", "audrey", ["/", "/audit/"]),
        ("connector_owner", "owen", ["/", "/catalog/outreach/", "HISTORY"]),
        ("approver", "alex", ["/", "HISTORY"]),
        ("requester", "sam", ["/", "/catalog/", "/catalog/outreach/"]),
    ],
)
def test_no_link_shown_to_a_person_refuses_them(
    page, activity, request, outreach_owned, persona, username, paths
):
    request.getfixturevalue(persona)
    sign_in_on(page, username)
    history = f"/audit/history/catalog.catalogitem/{outreach_owned.pk}/"
    found = {}
    for path in paths:
        found[path] = dead_links(page, history if path == "HISTORY" else path)
    assert {path: links for path, links in found.items() if links} == {}


def test_a_sales_rep_sees_a_catalog_item_without_links_to_what_he_may_not_open(
    page, activity, requester
):
    sign_in_on(page, "sam")
    page.goto("/catalog/outreach/")
    expect(page.get_by_role("navigation", name="Item").get_by_role("link")).to_have_count(1)
    expect(page.get_by_text(re.compile(r"^sales \(active\)"))).to_be_visible()  # named
    expect(page.get_by_role("link", name="sales", exact=True)).to_have_count(0)


def test_history_names_events_it_cannot_open_for_an_owner(page, activity, outreach_owned):
    sign_in_on(page, "owen")
    page.goto(f"/audit/history/catalog.catalogitem/{outreach_owned.pk}/")
    expect(page.get_by_text(re.compile(r"event #\d+")).first).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"event #"))).to_have_count(0)


def test_signed_out_the_api_docs_lead_to_sign_in_and_back(page, leader):
    page.goto("/api/docs/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/api/docs/"))
    page.fill("#id_username", "lee")
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/api/docs/$"))
    expect(page.locator("#swagger-ui")).to_be_attached()
