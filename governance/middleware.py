"""Request correlation ids: one id per HTTP request, echoed in the response and
stored on the audit events written while serving it."""

import contextvars
import re
import uuid

from django.conf import settings

_correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def current_correlation_id() -> str:
    """The id of the request being served, or "" outside a request (tasks, commands)."""
    return _correlation_id.get()


class RequestIdMiddleware:
    """Takes a well-formed X-Request-ID from the caller (or makes one) for tracing."""

    header = "HTTP_X_REQUEST_ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.META.get(self.header, "")
        correlation_id = supplied if _VALID.match(supplied) else uuid.uuid4().hex
        request.correlation_id = correlation_id
        token = _correlation_id.set(correlation_id)
        try:
            response = self.get_response(request)
        finally:
            _correlation_id.reset(token)
        response["X-Request-ID"] = correlation_id
        return response


def client_address(request) -> str:
    """The client's address: the connection's own, or behind TRUSTED_PROXY_COUNT proxies
    the address the outermost of them saw (an attacker can prepend to X-Forwarded-For,
    never append past our own proxies). Lockouts and refusal counts are kept per this."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= hops and forwarded[-hops]:
            return forwarded[-hops][:64]
    return request.META.get("REMOTE_ADDR", "")[:64]
