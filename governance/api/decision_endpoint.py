"""POST /api/v1/decisions, served lean: agents call it before every consequential action
(with the Claude Code hook, before every tool call), so everything around the engine is
kept to what the answer needs.

- the runtime is found by its token's hash in the per-process policy cache (no read);
- the body is parsed strictly (api/parsers.py) and validated by api/decision_input.py
  (the serializer's rules and messages, without its machinery);
- the service writes the decision in one round trip (decision_store.py);
- the answer is a plain dict (`decision_answer`), the serializer's fields exactly.

Any failure is an answer a client reads as deny: 400/401/403/409/429 with a reason, and
anything unexpected a 503 with `"outcome": "deny"`; never a 5xx page, never an allow."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from rest_framework import exceptions

from governance.api.authentication import bearer_token
from governance.api.decision_input import decision_request_parse
from governance.api.parsers import JSONRejected, json_loads_strict
from governance.engine import Reason
from governance.exceptions import ApplicationError, Unauthenticated, UnsupportedMediaType
from governance.metrics import decision_api_timed
from governance.models import AgentRuntime, Decision
from governance.ratelimit import rate_limit_hit, rate_limit_key, rate_limited_response
from governance.selectors import PolicyCache, RuntimeEntry, policy_cache_get
from governance.services import decision_create
from governance.tokens import token_hash

logger = logging.getLogger("governance.decisions")
INTERNAL_ERROR = {
    "code": "internal_error",
    "outcome": "deny",
    "detail": "The console could not process this request; treat it as denied.",
}
# last_used_at is written at most once a minute per runtime and process.
LAST_USED_EVERY = 60.0
_last_used_written: dict[int, float] = {}


def last_used_forget() -> None:
    """Forget when runtimes were last recorded as seen (tests start afresh)."""
    _last_used_written.clear()


def decision_create_serve(request: HttpRequest) -> HttpResponse:
    """Answer one POST /api/v1/decisions (see the module docstring)."""
    started = time.perf_counter()
    try:
        response = _serve(request)
    except ApplicationError as error:
        response = _json(
            {"code": error.code, "detail": error.message, **error.extra}, error.status_code
        )
    except Exception:
        logger.exception("Unexpected error while deciding")
        response = _json(INTERNAL_ERROR, 503)
    decision_api_timed(response.status_code, time.perf_counter() - started)
    return response


def _serve(request: HttpRequest) -> HttpResponse:
    runtime = _authenticate(request)
    wait = rate_limit_hit("decisions", rate_limit_key(runtime))
    if wait is not None:
        return rate_limited_response(wait, deny=True)
    data = _body(request)
    validated = decision_request_parse(data)
    decision, created = decision_create(runtime=runtime, **validated)
    body = decision_answer(decision, request=request)
    if decision.reason == Reason.RUNTIME_NOT_ALLOWED_PROFILE:
        return _json(body, 403)
    return _json(body, 201 if created else 200)


def _authenticate(request: HttpRequest) -> AgentRuntime:
    """The runtime holding the bearer token, from the cache; 401 (audited) otherwise.

    A token the cache does not know may belong to a runtime created since the cache was
    built: the cache is checked against the current revision (one read) before refusing."""
    try:
        token = bearer_token(request)
    except exceptions.AuthenticationFailed as error:
        _refuse_credentials(request, error)
    if token is None:
        _refuse_credentials(
            request, exceptions.NotAuthenticated("Authentication credentials were not provided.")
        )
    digest = token_hash(token)
    entry = _runtime_entry(policy_cache_get(verify=False), digest)
    if entry is None:
        entry = _runtime_entry(policy_cache_get(verify=True), digest)
    if entry is None or not entry.active:
        message = "Invalid token." if entry is None else "This runtime's token was revoked."
        _refuse_credentials(request, exceptions.AuthenticationFailed(message))
    runtime = entry.as_model()
    _touch(runtime)
    return runtime


def _runtime_entry(cache: PolicyCache, digest: str) -> RuntimeEntry | None:
    return cache.runtimes.get(digest)


def _refuse_credentials(request: HttpRequest, error: exceptions.APIException) -> None:
    from governance.api.exceptions import _audit_auth_failure

    _audit_auth_failure(request, error)
    raise Unauthenticated(str(error.detail), code=error.default_code)


def _touch(runtime: AgentRuntime) -> None:
    """Record when the runtime was last seen, at most once a minute (not on every call)."""
    now = time.monotonic()
    if now - _last_used_written.get(runtime.pk, -LAST_USED_EVERY) < LAST_USED_EVERY:
        return
    _last_used_written[runtime.pk] = now
    AgentRuntime.objects.filter(pk=runtime.pk).update(last_used_at=timezone.now())


def _body(request: HttpRequest) -> Any:
    content_type = request.content_type or ""
    if content_type != "application/json":
        raise UnsupportedMediaType(f'Unsupported media type "{content_type}" in request.')
    try:
        raw = request.body
    except RequestDataTooBig as error:
        raise _invalid({"non_field_errors": ["The request body is too large."]}) from error
    try:
        return json_loads_strict(raw)
    except JSONRejected as error:
        raise ApplicationError(str(error), code="parse_error") from error


def _invalid(fields: dict) -> ApplicationError:
    return ApplicationError("Invalid request.", code="invalid", extra={"fields": fields})


def _json(body: dict, status: int) -> HttpResponse:
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    response = HttpResponse(text, status=status, content_type="application/json")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _when(value) -> str | None:
    """A date-time as the API writes it (DRF's format: ISO 8601, UTC as Z)."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def decision_answer(decision: Decision, *, request: HttpRequest | None = None) -> dict:
    """A decision as its runtime sees it: the fields of `DecisionSerializer`, built
    directly (a test holds the two to the same output)."""
    approval = decision.approval_request if decision.outcome == "pending" else None
    path = reverse("governance-api:decision-detail", args=[decision.pk])
    return {
        "decision_id": str(decision.pk),
        "request_id": decision.request_id,
        "outcome": decision.outcome,
        "status": decision.status,
        "reason": decision.reason,
        "message": decision.message,
        "policy_revision": decision.policy_revision,
        "on_behalf_of": decision.on_behalf_of,
        "profile": decision.profile_slug,
        "action": decision.action,
        "connector": decision.connector,
        "data_sources": decision.data_sources,
        "plugin": decision.plugin,
        "model": decision.model,
        "params": decision.effective_params,
        "params_digest": decision.effective_params_digest,
        "proposed_params_digest": decision.params_digest,
        "edited": decision.approved_params is not None
        and decision.approved_params_digest != decision.params_digest,
        "approval": decision.approval or None,
        "approval_id": approval.pk if approval else None,
        "expires_at": approval.expires_at.isoformat() if approval else None,
        "created_at": _when(decision.created_at),
        "resolved_at": _when(decision.resolved_at),
        "reported_at": _when(decision.reported_at),
        "status_url": request.build_absolute_uri(path) if request else path,
    }
