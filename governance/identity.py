"""One identity per person, compared one way.

An agent names the person it acts for by e-mail (`on_behalf_of`). Two strings that a
database, a browser or a person would take for the same address must never be two people
in one check and one person in another: PostgreSQL's case-insensitive match folds the
dotless "ı" (U+0131) onto "i", Python's `str.lower()` does not, and the difference once let
someone approve a request made on their own behalf.

So every e-mail is canonicalised once, at the edge, with `email_key` (Unicode NFKC, then
case folding); people are stored with that key; and every check — the launcher check, the
separation of duties, the inbox, the audit record — compares people through
`same_person`, by user id where the address belongs to a user, else by key.

Unless `ALLOW_INTERNATIONAL_EMAIL` is on, an address whose canonical form is not plain
ASCII is refused outright: "ſam" (long s), "Kim" with a Kelvin sign or full-width
letters would otherwise canonicalise onto a real colleague's address, and a non-ASCII
look-alike such as "gına" would name a person nobody can recognise.

Pure functions: no Django, no database."""

from __future__ import annotations

import unicodedata


class IdentityError(ValueError):
    """An address that cannot name a person here; the message says why."""


def email_key(raw: str) -> str:
    """The canonical form of an e-mail address: stripped, NFKC-normalised, case-folded.

    Idempotent: `email_key(email_key(x)) == email_key(x)`."""
    return unicodedata.normalize("NFKC", raw.strip()).casefold()


def email_canonical(raw: str, *, allow_international: bool = False) -> str:
    """The canonical key of `raw`, or IdentityError when it may not name a person.

    Refused: anything but printable characters, more or less than one "@", an empty
    local part or domain, and — unless `allow_international` — any address that is not
    plain ASCII as written (the canonical form of a non-ASCII address differs from its
    ASCII form, which is exactly the look-alike case)."""
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in raw):
        raise IdentityError("The e-mail address contains control or invisible characters.")
    if not allow_international and not raw.strip().isascii():
        raise IdentityError(
            "The e-mail address contains non-ASCII characters; only plain ASCII addresses "
            "are accepted (look-alike letters such as 'ı', 'ſ' or 'K' could name someone else)."
        )
    key = email_key(raw)
    local, at, domain = key.rpartition("@")
    if not at or not local or not domain or "@" in local or any(ch.isspace() for ch in key):
        raise IdentityError("Give a single e-mail address such as name@corp.example.")
    return key


def same_person(
    user_id: int | None, user_key: str, *, other_user_id: int | None, other_key: str
) -> bool:
    """Are these the same person? By user id when both sides are known users, else by key.

    Keys are compared exactly: both were made by `email_key`, so there is no second way
    of comparing them."""
    if user_id is not None and other_user_id is not None:
        return user_id == other_user_id
    return bool(user_key) and user_key == other_key
