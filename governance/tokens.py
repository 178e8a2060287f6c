"""Bearer tokens: random, shown once, stored only as a SHA-256 hash.

Tokens carry 256 bits of randomness, so a fast hash is enough (there is nothing to
brute-force as there would be with a password) and lets a lookup by hash stay one
indexed read on the hot path."""

import hashlib
import secrets
from dataclasses import dataclass

# Token kinds: the plaintext starts with agc_<kind>_ so that a token says what it is for.
RUNTIME_TOKEN = "rt"  # noqa: S105 - a kind, not a secret
USER_TOKEN = "ut"  # noqa: S105 - a kind, not a secret


def kind_prefix(kind: str) -> str:
    return f"agc_{kind}_"


@dataclass(frozen=True)
class IssuedToken:
    plaintext: str  # shown once to the person who created it, never stored
    prefix: str  # stored, to recognise a token in lists ("agc_rt_3fa9c1")
    hash: str  # stored


def token_issue(kind: str) -> IssuedToken:
    """A new token such as `agc_rt_<43 url-safe characters>` (kind "rt" or "ut")."""
    plaintext = kind_prefix(kind) + secrets.token_urlsafe(32)
    return IssuedToken(plaintext=plaintext, prefix=plaintext[:14], hash=token_hash(plaintext))


def token_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()
