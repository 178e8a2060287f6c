"""Console sign-in: lockout after repeated failures (django-axes) and its audit trail.

django-axes counts failed sign-ins per username and per client address and refuses
sign-in, before any password is compared, once either reaches AXES_FAILURE_LIMIT, for
AXES_COOLOFF_TIME after the last failure. Its handler is the one place that knows what
each attempt was (a failure, the failure that locked, a refusal while locked, a sign-in,
a sign-out), for every way in (the console's page, the admin's): `AuditedAxesHandler`
records each as an audit event there. No password ever reaches these records (Django
masks it in the credentials it reports)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone

from audit.choices import EventType
from audit.services import SYSTEM, audit_event_record, audit_refusal_record
from governance.middleware import client_address


class AuditedAxesHandler(AxesDatabaseHandler):
    """django-axes' database handler, plus one audit event per sign-in, failed sign-in,
    lockout and sign-out. Refusals while locked out are counted per address, one event a
    minute (audit_refusal_record), like refused API tokens."""

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        # AxesStandaloneBackend flags the request before Django reports the failure when it
        # refused a locked-out attempt without looking at the password.
        refused = bool(getattr(request, "axes_locked_out", False))
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None:
            return
        username = (get_client_username(request, credentials) or "")[:150]
        if refused:
            login_refusal_record(request=request, username=username)
            return
        login_failure_record(request=request, username=username)
        if request.axes_locked_out:
            login_lockout_record(request=request, username=username)

    def user_logged_in(self, sender, request, user, **kwargs):
        super().user_logged_in(sender, request, user, **kwargs)
        audit_event_record(
            event_type=EventType.LOGIN_SUCCEEDED,
            actor=user,
            outcome="allow",
            # How: the password form, or the provider (governance/oidc.py says so).
            detail={"method": "password", **_request_detail(request), **_sign_in_detail(request)},
        )

    def user_logged_out(self, sender, request, user, **kwargs):
        super().user_logged_out(sender, request, user, **kwargs)
        if user is not None:
            audit_event_record(
                event_type=EventType.LOGGED_OUT,
                actor=user,
                detail={**_request_detail(request), **_session_method(request)},
            )


def login_failure_record(*, request, username: str) -> None:
    """A wrong username or password: the console (SYSTEM) refused someone claiming to be
    `username`; the event is about that person when they exist."""
    audit_event_record(
        event_type=EventType.LOGIN_FAILED,
        actor=SYSTEM,
        target=_person(username),
        outcome="deny",
        reason="bad_credentials",
        detail={**_request_detail(request), "username": username},
    )


def login_lockout_record(*, request, username: str) -> None:
    """The failure that reached the limit: sign-in is locked for the username and the
    address until the cool-off is over."""
    cool_off = get_cool_off(request) or timedelta(0)
    audit_event_record(
        event_type=EventType.LOGIN_LOCKED_OUT,
        actor=SYSTEM,
        target=_person(username),
        outcome="deny",
        reason="too_many_failures",
        detail={
            **_request_detail(request),
            "username": username,
            "failures": request.axes_failures_since_start,
            "limit": get_failure_limit(request, None),
            "locked_until": (timezone.now() + cool_off).isoformat(),
        },
    )


def login_refusal_record(*, request, username: str) -> None:
    """A sign-in attempt while locked out, counted per address (one event a minute)."""
    audit_refusal_record(
        event_type=EventType.LOGIN_FAILED,
        source=client_address(request),
        reason="locked_out",
        detail={"path": request.path[:300], "username": username},
    )


def _request_detail(request) -> dict:
    return {"remote_addr": client_address(request), "path": request.path[:300]}


def _sign_in_detail(request) -> dict:
    return dict(getattr(request, "sign_in_detail", None) or {})


def _session_method(request) -> dict:
    session = getattr(request, "session", None)
    return {"method": session.get("sign_in_method", "password")} if session is not None else {}


def _person(username: str):
    if not username:
        return None
    return get_user_model().objects.filter(username=username).first()


def lockout_response(request, original_response=None, credentials=None):
    """The sign-in page, answering 429, saying that sign-in is locked and for how long
    (AXES_LOCKOUT_CALLABLE)."""
    minutes = max(1, math.ceil(lockout_remaining(request, credentials).total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    context = {
        "form": AuthenticationForm(request),
        "locked_message": (
            f"Too many failed sign-ins: this account is locked. Try again in {minutes} {unit}."
        ),
        "next": request.POST.get("next", "") or request.GET.get("next", ""),
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def lockout_remaining(request, credentials=None) -> timedelta:
    """How long until the lockout ends: the cool-off counted from the last failure of
    whichever of the username and the address reached the limit."""
    cool_off = get_cool_off(request) or timedelta(0)
    limit = get_failure_limit(request, credentials)
    handler = AxesProxyHandler.get_implementation()
    ends: list[datetime] = []
    for attempts in handler.get_user_attempts(request, credentials):
        totals = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        if (totals["failures"] or 0) >= limit and totals["last"] is not None:
            ends.append(totals["last"] + cool_off)
    if not ends:
        return cool_off
    return max(ends) - timezone.now()
