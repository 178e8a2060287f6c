"""Data sources cannot climb out of a grant: only paths in normal form are accepted."""

import fnmatch
import posixpath
import re
from urllib.parse import unquote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from governance.paths import PathError, data_source_split, resource_pattern_check


@pytest.mark.parametrize(
    "source",
    [
        "crm:account/42",
        "crm:account/42/notes",
        "drive:docs/Q3%20plan.pdf",
        "drive:docs/caf%C3%A9",
        "mail:outbox/followup-211",
        "repo:src/app.py",
        "repo:.github/workflows/ci.yml",  # a dot that is part of a name is fine
        "crm:account/a:b@c",
    ],
)
def test_paths_in_normal_form_are_accepted(source):
    assert data_source_split(source)[0] == source.split(":")[0]


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("crm:account/../opportunity/5100", "'..' segment"),
        ("crm:account/./42", "'.' segment"),
        ("crm:account//42", "empty segment"),
        ("crm:/account/42", "empty segment"),
        ("crm:account/42/", "empty segment"),
        ("crm:", "empty"),
        ("crm:account\\..\\opportunity", "backslash"),
        ("crm:account/4\x002", "control character U+0000"),
        ("crm:account/4\n2", "control character U+000A"),
        ("crm:account/%2e%2e/opportunity", "upper-case hex"),
        ("crm:account/%2E%2E/opportunity", "percent-encodes %2E"),
        ("crm:account%2F..%2Fopportunity", "percent-encodes %2F"),
        ("crm:account/%5C", "percent-encodes %5C"),
        ("crm:account/%00", "percent-encodes %00"),
        ("crm:account/%252E%252E", "percent-encodes %25"),
        ("crm:account/%41", "percent-encodes %41"),
        ("crm:account/%4", "two upper-case hex digits"),
        ("crm:account/*", "'*'"),
        ("crm:account/a b", "space"),
        ("crm:account/caf\u00e9", "non-ASCII"),
        ("crm account/42", "connector"),
        ("account/42", "connector:resource/path"),
        ("crm:" + "a" * 501, "longer than 500"),
    ],
)
def test_paths_outside_the_grammar_are_refused_with_the_reason(source, why):
    with pytest.raises(PathError, match=re.escape(why)):
        data_source_split(source)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "crm:account//42",
            "The resource path 'account//42' has an empty segment (a leading, trailing or "
            "double '/').",
        ),
        ("crm:account/../x", "The resource path 'account/../x' has a '..' segment."),
        ("crm:account/./x", "The resource path 'account/./x' has a '.' segment."),
        ("crm:", "The resource path is empty."),
        ("crm:" + "a" * 501, "The resource path is longer than 500 characters."),
        ("crm:a\\b", "The resource path 'a\\\\b' contains a backslash, which is not allowed."),
        ("crm:a b", "The resource path 'a b' contains a space (write %20), which is not allowed."),
        (
            "crm:a\x7fb",
            "The resource path 'a\\x7fb' contains the control character U+007F, which is not "
            "allowed.",
        ),
        (
            "crm:a\tb",
            "The resource path 'a\\tb' contains the control character U+0009, which is not "
            "allowed.",
        ),
        (
            "crm:caf\u00e9",
            "The resource path 'caf\\xe9' contains the non-ASCII character U+00E9 "
            "(percent-encode its UTF-8 bytes), which is not allowed.",
        ),
        ("crm:a*b", "The resource path 'a*b' contains '*', which is not allowed."),
        (
            "crm:a%2e",
            "The resource path 'a%2e' has a '%' that is not followed by two upper-case hex digits.",
        ),
        (
            "crm:a%41",
            "The resource path 'a%41' percent-encodes %41, which must be written as itself or "
            "not at all.",
        ),
        ("cr m:x", "'cr m' is not a connector slug (letters, digits, '-' and '_')."),
        ("account", "'account' is not of the form connector:resource/path."),
    ],
)
def test_each_refusal_says_what_is_wrong_and_where(source, message):
    """The message is what an agent's developer reads in the 400: the path as received
    (escaped once, so invisible characters show), the rule it breaks, and what to write."""
    with pytest.raises(PathError) as refused:
        data_source_split(source)
    assert str(refused.value) == message


def test_a_long_path_is_shortened_in_the_message():
    source = "crm:" + "x" * 90 + "/../y"
    with pytest.raises(PathError) as refused:
        data_source_split(source)
    assert str(refused.value) == f"The resource path '{'x' * 77}...' has a '..' segment."


def test_a_path_is_shown_whole_up_to_80_characters():
    at_limit = "x" * 77 + "/.."  # 80 characters
    with pytest.raises(PathError) as refused:
        data_source_split("crm:" + at_limit)
    assert str(refused.value) == f"The resource path '{at_limit}' has a '..' segment."
    over = "x" * 78 + "/.."  # 81 characters
    with pytest.raises(PathError) as refused:
        data_source_split("crm:" + over)
    assert str(refused.value) == f"The resource path '{'x' * 77}...' has a '..' segment."


def test_a_path_of_exactly_the_limit_is_accepted():
    assert data_source_split("crm:" + "a" * 500) == ("crm", "a" * 500)


@pytest.mark.parametrize(
    ("source", "why"),
    [
        ("crm:a%20*", "contains '*'"),
        ("crm:a%20%2E", "percent-encodes %2E"),
        ("crm:%20%20/..", "'..' segment"),
        ("crm:a%20\\b", "backslash"),
    ],
)
def test_every_character_after_an_escape_is_checked_too(source, why):
    with pytest.raises(PathError, match=re.escape(why)):
        data_source_split(source)


def test_escapes_that_must_be_escaped_are_accepted_anywhere_in_a_segment():
    assert data_source_split("drive:%20a%20b%20/c%C3%A9%3F") == ("drive", "%20a%20b%20/c%C3%A9%3F")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "The resource pattern is empty."),
        ("a/../*", "The resource pattern 'a/../*' has a '..' segment."),
        ("a\\*", "The resource pattern 'a\\\\*' contains a backslash, which is not allowed."),
        (
            "a/%2E/*",
            "The resource pattern 'a/%2E/*' percent-encodes %2E, which must be written as itself "
            "or not at all.",
        ),
    ],
)
def test_pattern_refusals_name_the_pattern(pattern, message):
    with pytest.raises(PathError) as refused:
        resource_pattern_check(pattern)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    "pattern", ["account/*", "account/[0-9]*", "account/[!0-9]*", "docs/?", "*"]
)
def test_grant_patterns_may_use_globs(pattern):
    resource_pattern_check(pattern)


@pytest.mark.parametrize("pattern", ["account/../*", "account//*", "./*", "a\\*", "a/%2E%2E/*"])
def test_grant_patterns_follow_the_same_grammar(pattern):
    with pytest.raises(PathError):
        resource_pattern_check(pattern)


# -- property: anything accepted is already its own normal form ----------------------------

_UNRESERVED = re.compile(r"%([0-9A-Fa-f]{2})")


def rfc3986_normalise(path: str) -> str:
    """A deliberately independent normaliser: decode percent-encoded unreserved characters,
    upper-case the other escapes, turn backslashes into slashes, drop empty and '.'
    segments and resolve '..' (RFC 3986 6.2.2)."""

    def decode(match):
        char = chr(int(match.group(1), 16))
        if char.isascii() and (char.isalnum() or char in "-._~"):
            return char
        return "%" + match.group(1).upper()

    path = _UNRESERVED.sub(decode, path).replace("\\", "/")
    normal = posixpath.normpath("/" + path).lstrip("/")
    return "" if normal == "." else normal


def fully_decoded(path: str) -> str:
    """What a careless server would read: every escape decoded, repeatedly."""
    for _ in range(5):
        decoded = unquote(path)
        if decoded == path:
            break
        path = decoded
    return path


TOKENS = ["a", "b", "42", "account", "..", ".", "", "%2e", "%2E", "%2F", "%5C", "%00", "%25"]
TOKENS += ["%252E", "\\", "\x00", "%20", "*", "x y", "%41", "%C3%A9", "~", "a.b", "%", "%G1"]
segments = st.lists(st.sampled_from(TOKENS) | st.text(min_size=0, max_size=4), max_size=6)
paths = segments.map("/".join)
PATTERNS = ["account/*", "account/4?", "*", "a/*", "[ab]/*", "account/42", "*/42"]


@given(paths)
@example("account/../opportunity/5100")
@example("account/%2E%2E/opportunity")
def test_a_path_is_refused_or_matched_exactly_as_its_normal_form(resource):
    try:
        data_source_split(f"crm:{resource}")
    except PathError:
        return
    assert rfc3986_normalise(resource) == resource
    decoded = fully_decoded(resource)
    assert decoded.split("/").__len__() == resource.split("/").__len__()
    assert not {".", ".."} & set(decoded.split("/"))
    assert "\\" not in decoded and "\x00" not in decoded
    for pattern in PATTERNS:
        assert fnmatch.fnmatchcase(resource, pattern) == fnmatch.fnmatchcase(
            rfc3986_normalise(resource), pattern
        )


# -- at the API -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_decision_api_refuses_a_climbing_path_with_a_field_error(decide):
    response = decide(data_sources=["crm:account/42", "crm:account/../opportunity/5100"])
    assert response.status_code == 400
    errors = response.json()["fields"]["data_sources"]
    assert "'..' segment" in str(errors["1"] if isinstance(errors, dict) else errors)


@pytest.mark.django_db
def test_a_grant_with_a_climbing_pattern_is_refused(governance_admin, policy):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(governance_admin)
    response = client.post(
        "/api/v1/grants",
        {"profile": "sales", "connector": "crm", "resources": ["account/../*"], "access": "read"},
        format="json",
    )
    assert response.status_code == 400, response.content
    from governance.models import ProfileGrant

    assert sorted(g.resources for g in ProfileGrant.objects.filter(profile__slug="sales")) == [
        ["account/*"],
        ["opportunity/*"],
        ["outbox/*"],
    ]
    assert "'..' segment" in str(response.json())
