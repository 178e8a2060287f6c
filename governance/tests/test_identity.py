"""One identity, compared one way: look-alike addresses never let a person approve a
request made on their own behalf, on the API or on the page."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from approvals.models import ApprovalRequest
from governance.identity import IdentityError, email_canonical, email_key, same_person
from governance.models import Decision
from governance.tests.factories import UserFactory

DOTLESS_I = "g\u0131na@corp.example"  # "gına": U+0131 LATIN SMALL LETTER DOTLESS I
LONG_S = "\u017fam@corp.example"  # "ſam": U+017F LATIN SMALL LETTER LONG S
KELVIN = "\u212aim@corp.example"  # "Kim" with U+212A KELVIN SIGN
FULL_WIDTH = "\uff47\uff49\uff4e\uff41@corp.example"  # "ｇｉｎａ"
MIXED_CASE = "GiNa@Corp.Example"
LOOK_ALIKES = [DOTLESS_I, LONG_S, KELVIN, FULL_WIDTH]


# -- the pure functions ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (MIXED_CASE, "gina@corp.example"),
        (FULL_WIDTH, "gina@corp.example"),
        (LONG_S, "sam@corp.example"),
        (KELVIN, "kim@corp.example"),
        (DOTLESS_I, "g\u0131na@corp.example"),  # case folding keeps the dotless i
        ("  sam@corp.example ", "sam@corp.example"),
    ],
)
def test_email_key_is_nfkc_then_casefold(raw, key):
    assert email_key(raw) == key
    assert email_key(key) == key


@pytest.mark.parametrize("raw", LOOK_ALIKES)
def test_non_ascii_addresses_are_refused_by_default(raw):
    with pytest.raises(IdentityError, match="non-ASCII"):
        email_canonical(raw)


@pytest.mark.parametrize(
    "raw",
    ["sam\u200b@corp.example", "sam\x00@corp.example", "sam@corp.example\n", "a@b@c", "@corp", ""],
)
def test_invisible_characters_and_malformed_addresses_are_refused(raw):
    with pytest.raises(IdentityError):
        email_canonical(raw, allow_international=True)


@pytest.mark.parametrize(
    "ch",
    ["\x07", "\u200b", "\ud800", "\ue000", "\u0378", "\u2028", "\u2029"],
    ids=["Cc control", "Cf format", "Cs surrogate", "Co private use", "Cn unassigned",
         "Zl line separator", "Zp paragraph separator"],
)  # fmt: skip
def test_every_kind_of_invisible_character_is_refused_by_name(ch):
    with pytest.raises(IdentityError) as error:
        email_canonical(f"sam{ch}@corp.example", allow_international=True)
    assert str(error.value) == "The e-mail address contains control or invisible characters."


def test_the_refusals_say_what_to_do():
    with pytest.raises(IdentityError) as error:
        email_canonical(LONG_S)
    assert str(error.value) == (
        "The e-mail address contains non-ASCII characters; only plain ASCII addresses are "
        "accepted (look-alike letters such as 'ı', 'ſ' or 'K' could name someone else)."
    )
    with pytest.raises(IdentityError) as error:
        email_canonical("a@b@c")
    assert str(error.value) == "Give a single e-mail address such as name@corp.example."


def test_international_addresses_canonicalise_when_allowed():
    assert email_canonical(FULL_WIDTH, allow_international=True) == "gina@corp.example"
    assert email_canonical(DOTLESS_I, allow_international=True) != "gina@corp.example"


def test_same_person_compares_user_ids_when_both_are_known_and_keys_otherwise():
    assert same_person(1, "a@x", other_user_id=1, other_key="b@x")
    assert not same_person(1, "a@x", other_user_id=2, other_key="a@x")
    assert same_person(1, "a@x", other_user_id=None, other_key="a@x")
    assert not same_person(1, "", other_user_id=None, other_key="")


# -- through the API and the pages ------------------------------------------------------


@pytest.fixture
def gina(policy):
    """Gina approves e-mails and is a sales rep herself: she may launch `sales`."""
    return UserFactory(username="gina", groups=["Approvers", "Sales"])


@pytest.fixture
def kim(policy):
    """Kim approves e-mails and is a sales rep too."""
    return UserFactory(username="kim", groups=["Approvers", "Sales"])


def send_mail(decide, on_behalf_of):
    return decide(
        on_behalf_of=on_behalf_of,
        action="mail.send_external",
        connector="mail",
        data_sources=["mail:outbox/1"],
        params={"to": "buyer@customer.example"},
    )


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("address", LOOK_ALIKES)
def test_a_look_alike_address_is_a_400_naming_the_field(decide, gina, kim, address):
    response = send_mail(decide, address)
    assert response.status_code == 400, response.content
    assert "on_behalf_of" in response.json()["fields"]
    assert not Decision.objects.exists()


def test_a_mixed_case_address_is_the_person_and_cannot_be_approved_by_them(
    decide, gina, client, approver
):
    body = send_mail(decide, MIXED_CASE).json()
    assert body["outcome"] == "pending"
    decision = Decision.objects.get(pk=body["decision_id"])
    assert decision.on_behalf_of == "gina@corp.example"
    assert decision.on_behalf_of_user_id == gina.pk
    approval = ApprovalRequest.objects.get(decision=decision)

    refused = as_user(gina).post(f"/api/v1/approvals/{approval.pk}/approve", {}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "own_request"
    client.force_login(gina)
    page = client.post(
        reverse("approvals:approval_request_vote", args=[approval.pk]), {"verdict": "approve"}
    )
    assert page.status_code == 403
    assert approval.get_absolute_url() not in client.get("/approvals/").content.decode()
    decision.refresh_from_db()
    assert decision.status == "pending"
    assert not approval.votes.exists()
    # Someone else may decide it, and the record names gina canonically.
    assert (
        as_user(approver)
        .post(f"/api/v1/approvals/{approval.pk}/approve", {}, format="json")
        .status_code
        == 200
    )


@pytest.mark.parametrize(
    ("address", "person"),
    [(FULL_WIDTH, "gina"), (KELVIN, "kim"), (MIXED_CASE, "gina"), (LONG_S, "sam")],
)
def test_with_international_addresses_allowed_a_look_alike_is_still_its_person(
    settings, decide, gina, kim, requester, policy, client, address, person
):
    settings.GOVERNANCE = {**settings.GOVERNANCE, "ALLOW_INTERNATIONAL_EMAIL": True}
    requester.groups.add(policy.approvers)
    user = {"gina": gina, "kim": kim, "sam": requester}[person]
    body = send_mail(decide, address).json()
    approval = ApprovalRequest.objects.get(pk=body["approval_id"])
    assert approval.decision.on_behalf_of_user_id == user.pk

    refused = as_user(user).post(f"/api/v1/approvals/{approval.pk}/approve", {}, format="json")
    assert refused.status_code == 403
    client.force_login(user)
    url = reverse("approvals:approval_request_vote", args=[approval.pk])
    assert client.post(url, {"verdict": "approve"}).status_code == 403
    approval.refresh_from_db()
    assert approval.status == "pending"


def test_with_international_addresses_allowed_the_dotless_i_is_nobody_we_know(
    settings, decide, gina
):
    """'gına' is not gina: it gets none of her groups, so it may not launch her profile
    (PostgreSQL's case-insensitive match used to lend it her groups), and it is not hers
    to approve either."""
    settings.GOVERNANCE = {**settings.GOVERNANCE, "ALLOW_INTERNATIONAL_EMAIL": True}
    body = send_mail(decide, DOTLESS_I).json()
    assert body["outcome"] == "deny"
    assert body["reason"] == "launcher_not_allowed"
    decision = Decision.objects.get(pk=body["decision_id"])
    assert decision.on_behalf_of_user_id is None
    assert not ApprovalRequest.objects.exists()


def test_a_user_cannot_be_saved_with_a_look_alike_address(policy):
    from django.core.exceptions import ValidationError

    user = UserFactory.build(username="mallory", email=DOTLESS_I)
    with pytest.raises(ValidationError) as error:
        user.full_clean()
    assert "email" in error.value.message_dict


def test_two_spellings_of_one_address_are_one_person(policy):
    from django.db import IntegrityError, transaction

    UserFactory(username="dana", email="dana@corp.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="dana2", email="DANA@Corp.Example")
