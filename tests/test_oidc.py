"""Single sign-on against a real OpenID provider (node-oidc-provider, tests/oidc_provider):
people created just in time from a verified e-mail, roles mapped from the provider's groups
at every sign-in, and the refusals — a bad signature, a wrong audience, a replayed state, an
unverified e-mail — each leaving nothing changed. And local passwords turned off."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from audit.choices import EventType
from audit.models import AuditEvent
from governance import oidc
from governance.models import User
from governance.settings import _role_map
from governance.tests.factories import GroupFactory, UserFactory
from tests.oidc_fixtures import callback_path, configure_console, running_provider

pytestmark = pytest.mark.django_db

CALLBACK = "http://testserver/oidc/callback/"
NIA = {
    "email": "Nia.New@Corp.Example",
    "email_verified": True,
    "groups": ["agc-approvers", "agc-leadership", "some-other-team"],
    "name": "Nia New",
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    with running_provider(tmp_path_factory.mktemp("oidc"), [CALLBACK]) as running:
        yield running


@pytest.fixture
def console(settings, provider):
    configure_console(settings, provider)
    provider.accounts_set({"nia": NIA})
    return provider


def sso(client: Client, provider, account: str):
    """Sign in through the provider as `account`; the console's answer to the callback."""
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302
    back = provider.sign_in_at_provider(start["Location"], account)
    assert back.startswith(CALLBACK)
    return client.get(callback_path(back))


def signed_in_as(client: Client) -> str | None:
    response = client.get("/", follow=False)
    return None if response.status_code == 302 else response.wsgi_request.user.email


def groups_of(user: User) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def events(event_type) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event_type).order_by("id"))


def test_the_authorization_request_uses_pkce_state_and_nonce(console, client):
    start = client.get("/oidc/authenticate/")
    location = start["Location"]
    assert location.startswith(f"{console.issuer}/auth?")
    for parameter in ("code_challenge=", "code_challenge_method=S256", "state=", "nonce="):
        assert parameter in location
    assert "scope=openid+email+profile+groups" in location


def test_sign_in_creates_the_person_with_the_mapped_roles(console, client):
    response = sso(client, console, "nia")

    assert response.status_code == 302
    assert response["Location"] == "/"
    nia = User.objects.get(email_key="nia.new@corp.example")
    assert nia.email == "nia.new@corp.example"  # canonical: the identity for SoD
    assert (nia.first_name, nia.last_name) == ("Nia", "New")
    assert not nia.has_usable_password()
    assert groups_of(nia) == {"Approvers", "Leadership"}
    assert signed_in_as(client) == "nia.new@corp.example"
    home = client.get("/").content.decode()
    assert "Approver" in home and "Leadership" in home

    (change,) = events(EventType.GROUP_MEMBERSHIP_CHANGED)
    assert change.actor == "system"
    assert change.detail["source"] == "oidc"
    assert change.detail["added"] == ["Approvers", "Leadership"]
    assert change.detail["removed"] == []
    assert change.changes == {
        "before": {"groups": []},
        "after": {"groups": ["Approvers", "Leadership"]},
    }
    (signed_in,) = events(EventType.LOGIN_SUCCEEDED)
    assert signed_in.actor == "user:nia.new@corp.example"
    assert signed_in.detail["method"] == "oidc"
    assert signed_in.detail["issuer"] == console.issuer


def test_the_verified_address_finds_the_existing_person(console, client):
    """Alex exists (local account, mixed-case address): the provider's address is the same
    person once canonicalised — no second account."""
    alex = UserFactory(username="alex", email="ALEX@corp.example")
    console.accounts_set({"alex": {**NIA, "email": "alex@CORP.example", "groups": ["agc-admins"]}})

    assert sso(client, console, "alex").status_code == 302

    assert User.objects.filter(email_key="alex@corp.example").count() == 1
    assert signed_in_as(client) == "ALEX@corp.example"
    assert groups_of(alex) == {"Governance admins"}


def test_a_role_removed_upstream_is_lost_at_the_next_sign_in(console, client):
    """Only the groups the map targets follow the provider; others are left alone."""
    finance = GroupFactory(name="Finance approvers")
    alex = UserFactory(username="alex", email="alex@corp.example")
    alex.groups.add(finance, Group.objects.get(name="Auditors"))
    account = {**NIA, "email": "alex@corp.example", "groups": ["agc-approvers"]}
    console.accounts_set({"alex": account})

    sso(client, console, "alex")
    assert groups_of(alex) == {"Approvers", "Finance approvers"}  # Auditors: not granted

    client.post("/accounts/logout/")
    console.accounts_set({"alex": {**account, "groups": []}})
    sso(client, console, "alex")

    assert groups_of(alex) == {"Finance approvers"}
    first, second = events(EventType.GROUP_MEMBERSHIP_CHANGED)
    assert (first.detail["added"], first.detail["removed"]) == (["Approvers"], ["Auditors"])
    assert (second.detail["added"], second.detail["removed"]) == ([], ["Approvers"])
    assert second.changes["after"] == {"groups": ["Finance approvers"]}
    assert signed_in_as(client) == "alex@corp.example"
    # Signing in again with the same groups changes nothing and records no change.
    client.post("/accounts/logout/")
    sso(client, console, "alex")
    assert len(events(EventType.GROUP_MEMBERSHIP_CHANGED)) == 2


def test_sign_out_is_audited_as_a_provider_session(console, client):
    sso(client, console, "nia")
    client.post("/accounts/logout/")
    (signed_out,) = events(EventType.LOGGED_OUT)
    assert signed_out.actor == "user:nia.new@corp.example"
    assert signed_out.detail["method"] == "oidc"
    assert signed_in_as(client) is None


# -- refusals: each one leaves no person, no role, no session -----------------------------------


def assert_refused(client, response, reason: str, status: int = 403):
    assert response.status_code == status
    assert response.context["sso_error"]
    assert not User.objects.exists()
    assert not events(EventType.GROUP_MEMBERSHIP_CHANGED)
    assert not events(EventType.LOGIN_SUCCEEDED)
    assert signed_in_as(client) is None
    (failure,) = events(EventType.LOGIN_FAILED)
    assert failure.reason == reason
    assert failure.outcome == "deny"
    assert failure.detail["method"] == "oidc"
    return failure


def test_an_id_token_signed_with_another_key_is_refused(console, client):
    """The provider's answer re-signed with a key it never published (same key id)."""
    console.accounts_set({"nia": {**NIA, "id_token": "foreign-key"}})
    response = sso(client, console, "nia")
    assert_refused(client, response, "oidc_bad_signature")
    assert "could not be verified" in response.content.decode()


def test_a_console_holding_another_key_refuses_the_providers_tokens(console, client, settings):
    """A genuine token, but the key the console trusts is not the one that signed it."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    settings.OIDC_RP_IDP_SIGN_KEY = other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert_refused(client, sso(client, console, "nia"), "oidc_bad_signature")


def test_an_id_token_for_another_client_is_refused(console, client):
    console.accounts_set({"nia": {**NIA, "id_token": "wrong-audience"}})
    failure = assert_refused(client, sso(client, console, "nia"), "oidc_wrong_audience")
    assert "audience" in failure.detail["error"].lower()


def test_a_replayed_state_is_refused(console, client):
    start = client.get("/oidc/authenticate/")
    back = console.sign_in_at_provider(start["Location"], "nia")
    assert client.get(callback_path(back)).status_code == 302
    client.post("/accounts/logout/")
    people = User.objects.count()
    changes = len(events(EventType.GROUP_MEMBERSHIP_CHANGED))

    replay = client.get(callback_path(back))

    assert replay.status_code == 400
    assert "already been used" in replay.content.decode()
    assert signed_in_as(client) is None
    assert User.objects.count() == people
    assert len(events(EventType.GROUP_MEMBERSHIP_CHANGED)) == changes
    assert events(EventType.LOGIN_FAILED)[-1].reason == "oidc_unknown_state"


def test_a_callback_from_another_browser_is_refused(console, client):
    """The state belongs to the session that asked for it (login CSRF)."""
    start = client.get("/oidc/authenticate/")
    back = console.sign_in_at_provider(start["Location"], "nia")
    other = Client()
    assert_refused(other, other.get(callback_path(back)), "oidc_unknown_state", status=400)


def test_an_unverified_email_is_refused(console, client):
    console.accounts_set({"nia": {**NIA, "email_verified": False}})
    response = sso(client, console, "nia")
    failure = assert_refused(client, response, "oidc_email_not_verified")
    assert "has not verified the e-mail address" in response.content.decode()
    assert failure.detail["email"] == "Nia.New@Corp.Example"


def test_a_look_alike_address_is_refused(console, client):
    console.accounts_set({"nia": {**NIA, "email": "nıa@corp.example"}})  # dotless ı
    assert_refused(client, sso(client, console, "nia"), "oidc_email_not_accepted")


def test_a_disabled_person_may_not_sign_in_through_the_provider(console, client):
    alex = UserFactory(username="alex", email="alex@corp.example", is_active=False)
    console.accounts_set({"alex": {**NIA, "email": "alex@corp.example"}})
    response = sso(client, console, "alex")
    assert response.status_code == 403
    assert signed_in_as(client) is None
    assert groups_of(alex) == set()


def test_a_sign_in_cancelled_at_the_provider_is_refused_and_its_state_spent(console, client):
    start = client.get("/oidc/authenticate/")
    state = start["Location"].split("state=")[1].split("&")[0]
    cancelled = client.get(f"/oidc/callback/?error=access_denied&state={state}")
    assert_refused(client, cancelled, "oidc_provider_error")
    assert "did not sign you in (access_denied)" in cancelled.content.decode()
    assert state not in client.session.get("oidc_states", {})


def test_next_leads_back_into_the_console_only(console, client):
    start = client.get("/oidc/authenticate/?next=/approvals/")
    back = console.sign_in_at_provider(start["Location"], "nia")
    assert client.get(callback_path(back))["Location"] == "/approvals/"
    client.post("/accounts/logout/")

    start = client.get("/oidc/authenticate/?next=https://evil.example/")
    back = console.sign_in_at_provider(start["Location"], "nia")
    assert client.get(callback_path(back))["Location"] == "/"


# -- the sign-in page and the configuration ------------------------------------------------------


def test_the_sign_in_page_offers_the_provider_when_configured(console, client):
    page = Client().get("/accounts/login/?next=/approvals/").content.decode()
    assert "Sign in with Test provider" in page
    assert 'href="/oidc/authenticate/?next=/approvals/"' in page


def test_without_a_provider_there_is_no_single_sign_on(client, settings):
    settings.OIDC_ISSUER = ""
    assert "Sign in with" not in client.get("/accounts/login/").content.decode()
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_discovery_happens_at_the_first_sign_in_and_is_kept(console, client):
    oidc._DISCOVERED.pop(console.issuer, None)
    client.get("/oidc/authenticate/")
    assert oidc._DISCOVERED[console.issuer]["issuer"] == console.issuer


def test_an_unreachable_provider_is_a_clear_error(client, settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"
    settings.OIDC_RP_CLIENT_ID = "agc-console"
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 502
    assert "cannot be reached" in response.content.decode()
    assert events(EventType.LOGIN_FAILED)[-1].reason == "oidc_provider_unreachable"


# -- local passwords -------------------------------------------------------------------------------


def password_sign_in(client, username, path="/accounts/login/"):
    return client.post(path, {"username": username, "password": "pw"})


def test_with_local_passwords_off_only_a_superuser_signs_in_with_a_password(client, settings):
    settings.LOCAL_PASSWORDS = False
    UserFactory(username="alex")
    UserFactory(username="root", is_superuser=True, is_staff=True)

    refused = password_sign_in(client, "alex")
    assert refused.status_code == 200
    assert "Password sign-in is turned off here" in refused.content.decode()
    assert signed_in_as(client) is None
    assert events(EventType.LOGIN_FAILED)[-1].detail["username"] == "alex"
    assert not events(EventType.LOGIN_SUCCEEDED)

    admin_page = Client()
    assert password_sign_in(admin_page, "alex", "/admin/login/").status_code == 200
    assert signed_in_as(admin_page) is None

    assert password_sign_in(client, "root").status_code == 302
    assert signed_in_as(client) == "root@corp.example"
    assert events(EventType.LOGIN_SUCCEEDED)[-1].detail["method"] == "password"


def test_with_local_passwords_on_everyone_signs_in_with_a_password(client, settings):
    settings.LOCAL_PASSWORDS = True
    UserFactory(username="alex")
    assert password_sign_in(client, "alex").status_code == 302
    assert signed_in_as(client) == "alex@corp.example"


def test_turning_passwords_off_ends_password_sessions_of_others(client, settings):
    alex = UserFactory(username="alex")
    client.force_login(alex, backend="governance.oidc.LocalPasswordBackend")
    settings.LOCAL_PASSWORDS = False
    assert signed_in_as(client) is None


def test_the_role_map_is_read_from_the_environment_and_a_typo_stops_the_start(monkeypatch):
    monkeypatch.setenv(
        "OIDC_ROLE_MAP",
        " agc-admins = Governance admins, agc-fin=Approvers, agc-fin=Finance approvers,",
    )
    assert _role_map("OIDC_ROLE_MAP") == {
        "agc-admins": ["Governance admins"],
        "agc-fin": ["Approvers", "Finance approvers"],
    }
    monkeypatch.setenv("OIDC_ROLE_MAP", "agc-admins:Governance admins")
    with pytest.raises(ImproperlyConfigured, match="is not provider-group=Console group"):
        _role_map("OIDC_ROLE_MAP")
