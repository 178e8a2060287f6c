"""Request correlation ids: one id per HTTP request, echoed in the response and
stored on the audit events written while serving it."""

import contextvars
import re
import uuid
from urllib.parse import parse_qsl

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string

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


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def unreadable_request_reason(path: str, query_string: str) -> str | None:
    """Why a request's address cannot be read as text, or None.

    A NUL or other control character has no place in a path, and a NUL none in a query
    value: PostgreSQL refuses NUL in text, so letting one through turns a filter or a
    lookup into a server error instead of an answer."""
    if _CONTROL.search(path):
        return "The address contains a control character (such as %00), which is not allowed."
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return f"The query parameter {name!r} contains a NUL character (%00)."
    return None


class RejectUnreadableRequestMiddleware:
    """Answers 400 (JSON on the API, a page elsewhere) to addresses with NUL or control
    characters, before any view, filter or query sees them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reason = unreadable_request_reason(request.path, request.META.get("QUERY_STRING", ""))
        if reason is None:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            body = {"code": "invalid", "detail": reason}
            if request.path.startswith("/api/v1/decisions"):
                body["outcome"] = "deny"
            return JsonResponse(body, status=400)
        return HttpResponseBadRequest(
            render_to_string("400.html", {"reason": reason}, request=request)
        )


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
