"""Single sign-on with an OpenID Connect provider (mozilla-django-oidc), and local passwords.

The flow is the authorization code flow with PKCE (S256): the sign-in link stores a fresh
state, nonce and code verifier in the session (`AuthenticateView`); the callback
(`CallbackView`) accepts a state only once, exchanges the code with the verifier, and
`ConsoleOIDCBackend` verifies the ID token — its RS256 signature against the provider's
JWKS, its issuer, its audience (this console's client id), its expiry and the nonce —
before anything is read from it.

The person is the verified e-mail address: canonicalised with `identity.email_canonical`,
found by `email_key` (the identity of the separation of duties) or created just in time.
An address the provider does not say is verified is refused. At every sign-in the console
groups that OIDC_ROLE_MAP targets are set to exactly those the provider's groups claim maps
to; other groups are left alone. Every sign-in, refusal and role change is an audit event.

Endpoints are discovered from the issuer at the first sign-in, never at import.

`LocalPasswordBackend` is Django's password backend, refusing everyone but superusers
when LOCAL_PASSWORDS is off (break-glass)."""

from __future__ import annotations

import logging
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from audit.choices import EventType
from audit.services import SYSTEM, audit_config_change, audit_event_record
from governance.identity import IdentityError, email_canonical
from governance.middleware import client_address
from governance.models import User

logger = logging.getLogger(__name__)

BACKEND = "governance.oidc.ConsoleOIDCBackend"
# The most provider groups read from one claim (a claim is the provider's to fill).
MAX_GROUPS = 500


class Refused(Exception):
    """A sign-in through the provider that the console refuses: `reason` is the audit
    reason code, `message` what the person reads, `status` the HTTP answer."""

    def __init__(self, reason: str, message: str, *, status: int = 403, detail=None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status
        self.detail = detail or {}


def oidc_enabled() -> bool:
    return bool(getattr(settings, "OIDC_ISSUER", "") and settings.OIDC_RP_CLIENT_ID)


# -- discovery --------------------------------------------------------------------------------

_DISCOVERED: dict[str, dict] = {}
_ENDPOINTS = {
    "authorization_endpoint": "OIDC_OP_AUTHORIZATION_ENDPOINT",
    "token_endpoint": "OIDC_OP_TOKEN_ENDPOINT",
    "userinfo_endpoint": "OIDC_OP_USER_ENDPOINT",
    "jwks_uri": "OIDC_OP_JWKS_ENDPOINT",
}


def provider_endpoints() -> dict[str, str]:
    """The provider's endpoints: those set in the settings, the others from the issuer's
    discovery document (fetched once per process and issuer, at the first sign-in)."""
    explicit = {name: getattr(settings, setting, "") for name, setting in _ENDPOINTS.items()}
    if all(explicit.values()):
        return explicit
    issuer = settings.OIDC_ISSUER
    document = _DISCOVERED.get(issuer)
    if document is None:
        url = f"{issuer}/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as error:
            logger.warning("OpenID provider discovery failed at %s: %s", url, error)
            raise Refused(
                "oidc_provider_unreachable",
                f"{settings.OIDC_PROVIDER_NAME} cannot be reached: try again later.",
                status=502,
                detail={"error": str(error)[:300]},
            ) from error
        if str(document.get("issuer", "")).rstrip("/") != issuer:
            raise Refused(
                "oidc_issuer_mismatch",
                f"{settings.OIDC_PROVIDER_NAME} is misconfigured: its issuer does not match.",
                status=502,
                detail={"discovered_issuer": str(document.get("issuer", ""))[:300]},
            )
        _DISCOVERED[issuer] = document
    return {name: explicit[name] or str(document.get(name, "")) for name in _ENDPOINTS}


# -- backends ---------------------------------------------------------------------------------


class LocalPasswordBackend(ModelBackend):
    """Username and password; with LOCAL_PASSWORDS off, superusers only (break-glass)."""

    def user_can_authenticate(self, user) -> bool:
        if not super().user_can_authenticate(user):
            return False
        return settings.LOCAL_PASSWORDS or user.is_superuser


class ConsoleOIDCBackend(OIDCAuthenticationBackend):
    """The provider's ID token and user info, verified, as a console user with roles.

    Django's `authenticate()` never signs anyone in through here (the password form calls
    every backend): only the callback view does, through `sign_in`."""

    def __init__(self, *args, **kwargs):
        # mozilla-django-oidc reads the endpoints here; they are discovered at sign-in.
        self.UserModel = User
        self.request = None

    def authenticate(self, request, **kwargs):
        return None

    def get_user(self, user_id):
        return ModelBackend.get_user(self, user_id)  # an inactive person is signed out

    def sign_in(self, request, *, nonce: str, code_verifier: str | None) -> User:
        endpoints = provider_endpoints()
        self.OIDC_OP_TOKEN_ENDPOINT = endpoints["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = endpoints["userinfo_endpoint"]
        self.OIDC_OP_JWKS_ENDPOINT = endpoints["jwks_uri"]
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = getattr(settings, "OIDC_RP_IDP_SIGN_KEY", None)
        try:
            user = super().authenticate(request, nonce=nonce, code_verifier=code_verifier)
        except requests.RequestException as error:
            raise Refused(
                "oidc_token_exchange_failed",
                f"{settings.OIDC_PROVIDER_NAME} did not accept the sign-in: try again.",
                status=502,
                detail={"error": str(error)[:300]},
            ) from error
        except SuspiciousOperation as error:
            raise Refused(
                "oidc_invalid_id_token", _INVALID, detail={"error": str(error)}
            ) from error
        if user is None:
            raise Refused("oidc_no_user", _INVALID)
        return user

    # The ID token ------------------------------------------------------------------------

    def verify_token(self, token, **kwargs):
        if not token:
            raise Refused("oidc_invalid_id_token", _INVALID, detail={"error": "no ID token"})
        try:
            key = self.OIDC_RP_IDP_SIGN_KEY or self.retrieve_matching_jwk(token)
        except SuspiciousOperation as error:  # no published key has the token's kid
            raise Refused("oidc_bad_signature", _INVALID, detail={"error": str(error)}) from error
        except (jwt.PyJWTError, KeyError, ValueError) as error:
            raise Refused(
                "oidc_invalid_id_token", _INVALID, detail={"error": str(error)}
            ) from error
        payload = self._verify_jws(token, key)
        if "nonce" in kwargs and payload.get("nonce") != kwargs["nonce"]:
            raise Refused("oidc_nonce_mismatch", _INVALID)
        return payload

    def _verify_jws(self, payload, key):
        """Signature, algorithm, issuer, audience, expiry: all verified, all required."""
        try:
            claims = jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER or None,
                leeway=60,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
            )
        except jwt.InvalidAudienceError as error:
            raise Refused("oidc_wrong_audience", _INVALID, detail={"error": str(error)}) from error
        except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError) as error:
            raise Refused("oidc_bad_signature", _INVALID, detail={"error": str(error)}) from error
        except jwt.PyJWTError as error:
            raise Refused(
                "oidc_invalid_id_token", _INVALID, detail={"error": str(error)}
            ) from error
        azp = claims.get("azp")
        if azp and azp != self.OIDC_RP_CLIENT_ID:
            raise Refused("oidc_wrong_audience", _INVALID, detail={"azp": str(azp)[:200]})
        return claims

    # The person --------------------------------------------------------------------------

    def get_or_create_user(self, access_token, id_token, payload):
        """The person the verified address names, found or created, with mapped roles."""
        userinfo = self.get_userinfo(access_token, id_token, payload) if access_token else {}
        if not isinstance(userinfo, dict):
            userinfo = {}
        if userinfo.get("sub") not in (None, payload.get("sub")):
            raise Refused("oidc_subject_mismatch", _INVALID)
        claims = {**payload, **userinfo}
        key = _verified_email_key(claims)
        detail = {"sub": str(claims.get("sub", ""))[:200], "email": key}
        with transaction.atomic():
            user = User.objects.by_email(key).select_for_update().first()
            if user is None:
                user = _person_create(key, claims)
            elif not user.is_active:
                raise Refused("oidc_account_disabled", "This account is disabled.", detail=detail)
            else:
                _names_update(user, claims)
            provider_roles_apply(user, claims)
        return user


_INVALID = "The sign-in answer could not be verified. Sign in again."


def _verified_email_key(claims: dict) -> str:
    """The canonical key of the address the provider vouches for (`email_verified`), or
    Refused: the address becomes the person's identity for the separation of duties."""
    email = str(claims.get("email") or "")
    detail = {"sub": str(claims.get("sub", ""))[:200], "email": email[:254]}
    if not email:
        raise Refused(
            "oidc_no_email",
            f"{settings.OIDC_PROVIDER_NAME} did not give an e-mail address.",
            detail=detail,
        )
    if claims.get("email_verified") not in (True, "true"):
        raise Refused(
            "oidc_email_not_verified",
            f"{settings.OIDC_PROVIDER_NAME} has not verified the e-mail address {email}: "
            "it cannot name a person here.",
            detail=detail,
        )
    try:
        return email_canonical(
            email, allow_international=settings.GOVERNANCE["ALLOW_INTERNATIONAL_EMAIL"]
        )
    except IdentityError as error:
        raise Refused("oidc_email_not_accepted", str(error), detail=detail) from error


def _person_create(key: str, claims: dict) -> User:
    username = key[:150]
    suffix = 1
    while User.objects.filter(username=username).exists():
        suffix += 1
        username = f"{key[: 150 - len(str(suffix)) - 1]}-{suffix}"
    user = User(username=username, email=key)
    _names_set(user, claims)
    user.set_unusable_password()
    user.save()
    return user


def _names_set(user: User, claims: dict) -> None:
    given, family = claims.get("given_name"), claims.get("family_name")
    if not given and not family and claims.get("name"):
        given, _, family = str(claims["name"]).partition(" ")
    user.first_name = str(given or "")[:150]
    user.last_name = str(family or "")[:150]


def _names_update(user: User, claims: dict) -> None:
    before = (user.first_name, user.last_name)
    _names_set(user, claims)
    if (user.first_name, user.last_name) != before and any((user.first_name, user.last_name)):
        user.save(update_fields=["first_name", "last_name"])
    else:
        user.first_name, user.last_name = before


def provider_groups(claims: dict) -> list[str]:
    """The provider's groups from OIDC_GROUPS_CLAIM: a list of names, or one name."""
    value = claims.get(settings.OIDC_GROUPS_CLAIM)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [str(group) for group in value[:MAX_GROUPS] if isinstance(group, (str, int))]


def provider_roles_apply(user: User, claims: dict) -> dict[str, list[str]]:
    """Give `user` exactly the mapped console groups their provider groups grant, among the
    groups OIDC_ROLE_MAP targets; audit the change. Returns {"added": [...], "removed": [...]}."""
    mapping: dict[str, list[str]] = settings.OIDC_ROLE_MAP
    targets = {name for names in mapping.values() for name in names}
    upstream = provider_groups(claims)
    wanted = {name for group in upstream for name in mapping.get(group, [])}
    existing = {group.name: group for group in Group.objects.filter(name__in=targets)}
    if wanted - existing.keys():
        logger.warning(
            "OIDC_ROLE_MAP grants groups that do not exist here: %s",
            ", ".join(sorted(wanted - existing.keys())),
        )
    current = set(user.groups.filter(name__in=targets).values_list("name", flat=True))
    added = sorted((wanted & existing.keys()) - current)
    removed = sorted(current - wanted)
    if added or removed:
        before = sorted(user.groups.values_list("name", flat=True))
        user.groups.add(*(existing[name] for name in added))
        user.groups.remove(*(existing[name] for name in removed))
        after = sorted(user.groups.values_list("name", flat=True))
        audit_config_change(
            actor=SYSTEM,
            target=user,
            before={"groups": before},
            after={"groups": after},
            event_type=EventType.GROUP_MEMBERSHIP_CHANGED,
            detail={
                "source": "oidc",
                "issuer": settings.OIDC_ISSUER,
                "added": added,
                "removed": removed,
                "provider_groups": upstream[:50],
                "missing_groups": sorted(wanted - existing.keys()),
            },
        )
    return {"added": added, "removed": removed}


# -- views ------------------------------------------------------------------------------------


class AuthenticateView(OIDCAuthenticationRequestView):
    """GET /oidc/authenticate/?next=...: to the provider, with a new state, nonce and PKCE
    challenge kept in the session."""

    def __init__(self, *args, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        if not oidc_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_endpoints()["authorization_endpoint"]
        except Refused as refused:
            return sign_in_refused(request, refused)
        return super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    """GET /oidc/callback/?code=...&state=...: a state is accepted once, from the session
    that asked for it; then the backend verifies everything else."""

    def get(self, request):
        if not oidc_enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            self.user = self._sign_in(request)
        except Refused as refused:
            return sign_in_refused(request, refused)
        request.sign_in_detail = {"method": "oidc", "issuer": settings.OIDC_ISSUER}
        auth.login(request, self.user, backend=BACKEND)
        request.session["sign_in_method"] = "oidc"
        return self.login_success()

    def _sign_in(self, request) -> User:
        if request.GET.get("error"):
            self._state_take(request)
            raise Refused(
                "oidc_provider_error",
                f"{settings.OIDC_PROVIDER_NAME} did not sign you in "
                f"({request.GET['error'][:100]}).",
                detail={"error": request.GET["error"][:100]},
            )
        if not request.GET.get("code") or not request.GET.get("state"):
            raise Refused("oidc_bad_callback", _AGAIN, status=400)
        entry = self._state_take(request)
        if entry is None:
            raise Refused("oidc_unknown_state", _AGAIN, status=400)
        return ConsoleOIDCBackend().sign_in(
            request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier")
        )

    @staticmethod
    def _state_take(request) -> dict | None:
        """The stored nonce and verifier of the callback's state, removed from the session
        (and saved at once) so that the same state is never accepted twice."""
        states = request.session.get("oidc_states") or {}
        entry = states.pop(request.GET.get("state", ""), None)
        if entry is not None:
            request.session["oidc_states"] = states
            request.session.save()
        return entry


_AGAIN = "This sign-in link has already been used or has expired. Sign in again."


def sign_in_refused(request, refused: Refused):
    """The sign-in page with the reason, and the refusal in the audit log."""
    audit_event_record(
        event_type=EventType.LOGIN_FAILED,
        actor=SYSTEM,
        outcome="deny",
        reason=refused.reason,
        detail={
            "remote_addr": client_address(request),
            "path": request.path[:300],
            "method": "oidc",
            "issuer": settings.OIDC_ISSUER,
            **refused.detail,
        },
    )
    context: dict[str, Any] = {"sso_error": refused.message, "next": ""}
    return render(request, "registration/login.html", context, status=refused.status)
