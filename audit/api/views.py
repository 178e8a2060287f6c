"""Read-only audit API: the log (cursor-paginated) and streamed exports."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, renderers
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from audit.api.serializers import AuditEventSerializer
from audit.filters import StrictAuditEventFilterSet
from audit.selectors import audit_event_list, can_read_audit
from audit.views import streaming_export
from governance.api.authentication import UserTokenAuthentication


class CanReadAudit(BasePermission):
    message = "Only auditors, governance admins and leadership read the audit log."

    def has_permission(self, request, view) -> bool:
        return can_read_audit(request.user)


class NewestFirst(CursorPagination):
    ordering = "-id"
    page_size = 100
    max_page_size = 1000
    page_size_query_param = "page_size"

    def decode_cursor(self, request):
        """A cursor that cannot be read is bad input (400), not a missing page (404)."""
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound as error:
            raise exceptions.ValidationError({"cursor": ["Invalid cursor."]}) from error


class AuditEventListView(generics.ListAPIView):
    """The audit log, newest first, with the same filters as the page (query parameters)."""

    authentication_classes = [UserTokenAuthentication, SessionAuthentication]
    permission_classes = [CanReadAudit]
    serializer_class = AuditEventSerializer
    filterset_class = StrictAuditEventFilterSet
    pagination_class = NewestFirst
    queryset = audit_event_list()


class _Streamed(renderers.BaseRenderer):
    """Lets DRF's `?format=` negotiation accept csv/jsonl; the view streams itself."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class CSVRenderer(_Streamed):
    media_type = "text/csv"
    format = "csv"


class JSONLinesRenderer(_Streamed):
    media_type = "application/x-ndjson"
    format = "jsonl"


class AuditExportView(APIView):
    authentication_classes = [UserTokenAuthentication, SessionAuthentication]
    permission_classes = [CanReadAudit]
    renderer_classes = [CSVRenderer, JSONLinesRenderer, renderers.JSONRenderer]

    def perform_content_negotiation(self, request, force=False):
        if request.query_params.get("format", "csv") not in ("csv", "jsonl"):
            if force:  # rendering the error below: answer it as JSON
                return renderers.JSONRenderer(), renderers.JSONRenderer.media_type
            raise exceptions.ValidationError({"format": ["Use format=csv or format=jsonl."]})
        return super().perform_content_negotiation(request, force=True)

    def handle_exception(self, exc):
        """Refusals are answered as JSON, whatever format the export was asked in."""
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = renderers.JSONRenderer.media_type
        return super().handle_exception(exc)

    @extend_schema(
        parameters=[OpenApiParameter("format", str, enum=["csv", "jsonl"])],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/x-ndjson"): OpenApiTypes.STR,
        },
    )
    def get(self, request):
        """Export the filtered log (same filters as GET /api/v1/audit/events), streamed."""
        filterset = StrictAuditEventFilterSet(request.query_params, queryset=audit_event_list())
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        return streaming_export(filterset.qs, request.query_params.get("format", "csv"))
