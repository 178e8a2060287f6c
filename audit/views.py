"""The audit log pages: the log, one event, exports, the integrity check and the change
history of a configured object."""

from datetime import datetime

from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from approvals.models import ApprovalVote
from audit.filters import AuditEventFilterSet, StrictAuditEventFilterSet
from audit.models import AuditEvent, AuditPurge, AuditSeal
from audit.selectors import (
    EXPORTERS,
    audit_event_count,
    audit_event_list,
    audit_event_page,
    can_read_audit,
    export_rows,
    object_history,
    sealing_state,
    sink_status_list,
)
from audit.verification import audit_verify, event_seal_status, integrity_overview
from governance import permissions
from governance.views import role_required

CURSORS = ("older_than", "newer_than")
# The integrity page lists up to this many problems (the command: 1, or 100 with --all).
INTEGRITY_PROBLEMS = 20


def _cursor(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


def _filters_query(request) -> str:
    query = request.GET.copy()
    for name in CURSORS:
        query.pop(name, None)
    return query.urlencode()


def _filtered(request) -> AuditEventFilterSet:
    return AuditEventFilterSet(request.GET, queryset=audit_event_list())


def _shown(field, value) -> str:
    """A filter's value as a person reads it: a choice's label, a time in local time."""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    choices = dict(getattr(field, "choices", None) or ())
    return str(choices.get(value, value))


def active_filters(filterset, request) -> list[dict]:
    """Every filter in force, as a label, its value and the URL without it: one entry per
    value of a multi-valued filter. Shown above the results, so that a filter that came
    with a link (a chart click) is as visible as one typed in the form."""
    active = []
    for name, value in filterset.form.cleaned_data.items():
        if value in (None, "", []):
            continue
        field = filterset.form.fields[name]
        for one in value if isinstance(value, list) else [value]:
            query = request.GET.copy()
            for cursor in CURSORS:
                query.pop(cursor, None)
            query.setlist(name, [v for v in query.getlist(name) if v != str(one)])
            if not isinstance(value, list):
                query.pop(name, None)
            active.append(
                {
                    "name": name,
                    "label": field.label or name.replace("_", " ").capitalize(),
                    "value": _shown(field, one),
                    "remove_url": f"?{query.urlencode()}",
                }
            )
    return active


@role_required(can_read_audit)
def event_list(request):
    """Newest first, filtered, keyset-paginated; every filter is a shareable URL."""
    filterset = _filtered(request)
    if not filterset.is_valid():
        return render(request, "audit/event_list.html", {"filter": filterset}, status=400)
    queryset = filterset.qs.select_related("decision")
    page = audit_event_page(
        queryset,
        older_than=_cursor(request, "older_than"),
        newer_than=_cursor(request, "newer_than"),
    )
    filtered = any(value for name, value in filterset.form.cleaned_data.items() if value)
    return render(
        request,
        "audit/event_list.html",
        {
            "filter": filterset,
            "page": page,
            "count": audit_event_count(filterset.qs, filtered=filtered),
            "query": _filters_query(request),
            "active": active_filters(filterset, request),
            "can_check_integrity": permissions.can_check_integrity(request.user),
            "sealing": sealing_state(),
        },
    )


@role_required(can_read_audit)
def event_detail(request, pk):
    event = get_object_or_404(
        AuditEvent.objects.select_related("decision", "decision__runtime"), pk=pk
    )
    votes = (
        ApprovalVote.objects.filter(request__decision_id=event.decision_id).select_related("voter")
        if event.decision_id
        else []
    )
    return render(
        request,
        "audit/event_detail.html",
        {
            "event": event,
            "votes": votes,
            "seal_status": event_seal_status(event),
            "sealing": sealing_state(),
            "record_fields": _record(event),
        },
    )


def _record(event: AuditEvent) -> list[tuple[str, object]]:
    """The hashed fields as stored (timestamps in ISO 8601, as they are hashed)."""
    fields = [name for name in AuditEvent.HASHED_FIELDS if name != "changes"]
    values = [getattr(event, name) for name in fields]
    return [
        (n, v.isoformat() if hasattr(v, "isoformat") else (None if v in ([], {}) else v))
        for n, v in zip(fields, values, strict=True)
    ]


@role_required(can_read_audit)
def export(request):
    """The filtered view as CSV or JSON Lines, streamed (flat memory)."""
    kind = request.GET.get("format", "csv")
    if kind not in EXPORTERS:
        return HttpResponseBadRequest("format must be csv or jsonl.")
    filterset = StrictAuditEventFilterSet(request.GET, queryset=audit_event_list())
    if not filterset.is_valid():
        return HttpResponseBadRequest(
            f"Invalid filters: {filterset.errors.as_text()}", content_type="text/plain"
        )
    return streaming_export(filterset.qs, kind)


def streaming_export(queryset, kind: str) -> StreamingHttpResponse:
    writer, content_type = EXPORTERS[kind]
    response = StreamingHttpResponse(writer(export_rows(queryset)), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{kind}"'
    return response


@role_required(permissions.can_check_integrity)
def integrity(request):
    """The seals and the witness, and on request a verification of the whole log."""
    report = audit_verify(limit=INTEGRITY_PROBLEMS) if request.method == "POST" else None
    if report is not None:
        level = messages.SUCCESS if report.intact else messages.ERROR
        text = "The audit log is intact." if report.intact else report.first_problem.message
        messages.add_message(request, level, text)
    return render(
        request,
        "audit/integrity.html",
        {
            "sealing": sealing_state(),
            "report": report,
            "overview": integrity_overview(),
            "recent_seals": AuditSeal.objects.order_by("-id")[:10],
            "purges": AuditPurge.objects.order_by("-id")[:10],
            "sinks": sink_status_list(),
        },
    )


# The kinds of object with a History tab, and who may read each one's history: the
# people who may see the object's own page.
HISTORY_MODELS = {
    "governance.actiontype": permissions.can_view_policy,
    "governance.permissionprofile": permissions.can_view_policy,
    "governance.agentruntime": permissions.can_view_runtimes,
    "governance.user": permissions.can_view_runtimes,
    "catalog.catalogitem": permissions.can_view_policy,
    "catalog.catalogversion": permissions.can_view_policy,
}


@role_required(permissions.can_view_policy)
def history(request, object_type: str, object_id: str):
    """Who changed this configured object, when, from what to what."""
    if object_type not in HISTORY_MODELS:
        raise Http404("No history for this kind of object.")
    if not HISTORY_MODELS[object_type](request.user):
        raise PermissionDenied("Only governance admins and auditors see this history.")
    model = apps.get_model(object_type)
    try:
        obj = model.objects.filter(pk=model._meta.pk.to_python(object_id)).first()
    except ValidationError:
        obj = None  # not an id of this kind of object; its history (if any) is by text
    events = list(object_history(object_type, object_id)[:200])
    if obj is None and not events:
        raise Http404("No such object.")
    return render(
        request,
        "audit/object_history.html",
        {
            "object": obj,
            "label": str(obj) if obj else events[0].object_repr,
            "events": events,
            # Owners, approvers and reviewers read histories but not the log itself.
            "can_open_events": can_read_audit(request.user),
        },
    )
