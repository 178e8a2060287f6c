"""Single sign-on in a browser: "Sign in with <provider>" on the sign-in page, the real
provider's sign-in page (tests/oidc_provider), and back on the console with the role the
provider's group grants."""

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from governance.choices import Role
from governance.models import User
from tests.oidc_fixtures import configure_console, running_provider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def provider(tmp_path, live_server, settings):
    for role in Role:  # a transactional test starts from empty tables
        Group.objects.get_or_create(name=role.value)
    accounts = {
        "nia": {
            "email": "nia@corp.example",
            "email_verified": True,
            "groups": ["agc-approvers"],
            "name": "Nia New",
        }
    }
    callback = f"{live_server.url}/oidc/callback/"
    with running_provider(tmp_path, [callback], accounts) as running:
        configure_console(settings, running)
        yield running


def test_sign_in_with_the_provider_lands_on_the_console_with_the_mapped_role(page, provider):
    page.goto("/approvals/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/approvals/"))

    page.get_by_role("link", name="Sign in with Test provider").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(provider.issuer)}/interaction/"))
    page.fill("#login", "nia")
    page.click("button[type=submit]")

    page.wait_for_url("**/approvals/")
    expect(page.locator("header")).to_contain_text("Nia New")
    expect(page.locator("header")).to_contain_text("Approver")
    nia = User.objects.get(email_key="nia@corp.example")
    assert list(nia.groups.values_list("name", flat=True)) == ["Approvers"]
