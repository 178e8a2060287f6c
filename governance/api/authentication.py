"""Bearer-token authentication for agent runtimes (and, later, personal tokens)."""

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from governance.models import AgentRuntime
from governance.tokens import token_hash

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
        if token is None:
            return None
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
