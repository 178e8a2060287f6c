"""Bearer-token authentication for agent runtimes (and, later, personal tokens)."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from governance.models import AgentRuntime, UserToken
from governance.tokens import RUNTIME_TOKEN, USER_TOKEN, kind_prefix, token_hash

RUNTIME_TOKEN_PREFIX = kind_prefix(RUNTIME_TOKEN)
USER_TOKEN_PREFIX = kind_prefix(USER_TOKEN)
# last_used_at is written at most this often, so that the decision path does not pay
# an UPDATE for every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def bearer_token(request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None when absent."""
    header = authentication.get_authorization_header(request).decode("latin-1")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    if not token or " " in token:
        raise exceptions.AuthenticationFailed("Malformed Authorization header.")
    return token


class RuntimeTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer agc_rt_...`: the runtime becomes `request.user`."""

    keyword = "Bearer"

    def authenticate(self, request):
        token = bearer_token(request)
        if token is None or token.startswith(USER_TOKEN_PREFIX):
            return None  # not ours: a later authenticator may know it
        runtime = AgentRuntime.objects.filter(token_hash=token_hash(token)).first()
        if runtime is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not runtime.is_active:
            raise exceptions.AuthenticationFailed("This runtime's token was revoked.")
        now = timezone.now()
        if runtime.last_used_at is None or now - runtime.last_used_at > LAST_USED_RESOLUTION:
            AgentRuntime.objects.filter(pk=runtime.pk).update(last_used_at=now)
        return runtime, token

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'


class UserTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer agc_ut_...`: a person's API token (chat-ops bots, scripts).
    The person becomes `request.user`, with exactly their own roles."""

    keyword = "Bearer"

    def authenticate(self, request):
        token = bearer_token(request)
        if token is None or token.startswith(RUNTIME_TOKEN_PREFIX):
            return None  # not ours: a later authenticator may know it
        found = (
            UserToken.objects.select_related("user").filter(token_hash=token_hash(token)).first()
        )
        if found is None or not found.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not found.is_active:
            raise exceptions.AuthenticationFailed("This token was revoked.")
        now = timezone.now()
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_RESOLUTION:
            UserToken.objects.filter(pk=found.pk).update(last_used_at=now)
        return found.user, found

    def authenticate_header(self, request) -> str:
        return f'{self.keyword} realm="api"'
