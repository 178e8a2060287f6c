"""One exception handler for the whole API: every refusal is a 4xx with a message.

- ApplicationError (services) -> its status code, with `code` and `detail`.
- DRF validation errors -> 400 with field-by-field messages.
- Authentication failures -> 401, counted in the audit log (one event a minute per source).
- Rate limits -> 429 with Retry-After (and outcome "deny" for runtimes).
- Anything unexpected -> 503 with outcome "deny": the decision path fails closed."""

import logging

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from audit.choices import EventType
from audit.services import audit_refusal_record
from governance.api.authentication import bearer_token
from governance.exceptions import ApplicationError
from governance.middleware import client_address
from governance.models import AgentRuntime
from governance.ratelimit import rate_limited_response

logger = logging.getLogger("governance.api")


def exception_handler(exc, context):
    request = context.get("request")
    if isinstance(exc, ApplicationError):
        body = {"code": exc.code, "detail": exc.message, **exc.extra}
        return Response(body, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        exc = exceptions.ValidationError({"non_field_errors": ["The request body is too large."]})
    if isinstance(exc, ObjectDoesNotExist):
        exc = Http404()
    if isinstance(exc, exceptions.Throttled):
        deny = isinstance(getattr(request, "user", None), AgentRuntime)
        return rate_limited_response(exc.wait or 1, deny=deny)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        _audit_auth_failure(request, exc)
    response = drf_exception_handler(exc, context)
    if response is not None:
        _add_code(response, exc)
        return response
    logger.exception("Unexpected error in %s", getattr(request, "path", "?"), exc_info=exc)
    return Response(
        {
            "code": "internal_error",
            "outcome": "deny",
            "detail": "The console could not process this request; treat it as denied.",
        },
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
    )


def _add_code(response, exc) -> None:
    if not isinstance(response.data, dict):
        response.data = {"detail": response.data}
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"code": "invalid", "detail": "Invalid request.", "fields": response.data}
    elif isinstance(exc, exceptions.APIException):
        response.data.setdefault("code", exc.default_code)


def _audit_auth_failure(request, exc) -> None:
    """Record a refused credential: path, address and token prefix, never the token.
    Counted per address and reason, one audit event a minute (audit_refusal_record), so
    that a flood of bad requests cannot flood the append-only log."""
    if request is None:
        return
    try:
        token = bearer_token(request)
    except exceptions.AuthenticationFailed:
        token = "malformed"  # noqa: S105 - a label, not a credential
    try:
        audit_refusal_record(
            event_type=EventType.API_AUTH_FAILED,
            source=client_address(request),
            reason="missing_token" if not token else "invalid_token",
            detail={
                "path": request.path[:300],
                "method": request.method,
                "token_prefix": (token or "")[:14],
                "message": str(exc.detail),
            },
        )
    except Exception:  # the refusal stands even if the log is unavailable
        logger.exception("Could not audit an authentication failure")
