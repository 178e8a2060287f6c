"""The decision API (for agent runtimes) and the configuration API (for governance admins)."""

import logging

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from approvals.services import approval_request_expire
from governance.api.authentication import RuntimeTokenAuthentication
from governance.api.decision_endpoint import decision_create_serve
from governance.api.serializers import (
    DecisionRequestSerializer,
    DecisionSerializer,
    OutcomeReportSerializer,
    RuntimeProfileSerializer,
)
from governance.choices import DecisionStatus
from governance.exceptions import NotFound
from governance.permissions import IsAgentRuntime
from governance.selectors import decision_list_for_runtime
from governance.services import decision_outcome_report

logger = logging.getLogger("governance.decisions")


class RuntimeAPIView(APIView):
    """Base of the endpoints agent runtimes call with their bearer token."""

    authentication_classes = [RuntimeTokenAuthentication]
    permission_classes = [IsAgentRuntime]
    rate_limit_scope = "decisions"

    def get_decision(self, decision_id):
        decision = (
            decision_list_for_runtime(self.request.user)
            .select_related("approval_request")
            .filter(pk=decision_id)
            .first()
        )
        if decision is None:
            raise NotFound("No such decision for this runtime.")
        return decision


class RuntimeProfileView(RuntimeAPIView):
    @extend_schema(operation_id="runtime_profile_retrieve", responses=RuntimeProfileSerializer)
    def get(self, request, slug):
        """A profile this runtime may use: what it allows (an MCP gateway hides the tools a
        profile can never use). Any other profile is a 404."""
        profile = (
            request.user.profiles.filter(slug=slug)
            .prefetch_related("grants__connector", "plugins")
            .first()
        )
        if profile is None:
            raise NotFound("No such profile for this runtime.")
        return Response(RuntimeProfileSerializer(profile).data)


class DecisionCreateView(RuntimeAPIView):
    """POST /api/v1/decisions. Documented here like every endpoint; served by
    `decision_endpoint.decision_create_serve`, which skips DRF's request machinery (the
    decision path is the product's hot path; see that module)."""

    @extend_schema(
        operation_id="decisions_create",
        summary="Ask before acting",
        request=DecisionRequestSerializer,
        responses={
            200: DecisionSerializer,
            201: DecisionSerializer,
            400: OpenApiResponse(description="Invalid request, field by field."),
            401: OpenApiResponse(description="Missing or invalid runtime token."),
            403: OpenApiResponse(
                response=DecisionSerializer,
                description="The runtime may not use this profile (a deny).",
            ),
            409: OpenApiResponse(description="request_id reused for a different request."),
            415: OpenApiResponse(description="The body is not application/json."),
            503: OpenApiResponse(description="Internal error: treat as deny."),
        },
    )
    def post(self, request):
        """Decide a proposed action: `allow`, `deny` (with a reason) or `pending` a person.

        201 for a new decision, 200 when the same `request_id` is sent again (the first
        decision is returned and nothing new is recorded)."""
        return decision_create_serve(request._request)

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            return decision_create_serve(request)
        return super().dispatch(request, *args, **kwargs)


class DecisionDetailView(RuntimeAPIView):
    @extend_schema(operation_id="decisions_retrieve", responses=DecisionSerializer)
    def get(self, request, decision_id):
        """The decision's current state and the params to act on (edited ones if a person
        edited them). A pending approval whose time is up is expired on read."""
        decision = self.get_decision(decision_id)
        pending = decision.status == DecisionStatus.PENDING
        if pending and approval_request_expire(decision.approval_request.pk):
            decision = self.get_decision(decision_id)
        return Response(DecisionSerializer(decision, context={"request": request}).data)


class DecisionOutcomeView(RuntimeAPIView):
    @extend_schema(
        operation_id="decisions_outcome",
        request=OutcomeReportSerializer,
        responses={200: DecisionSerializer, 409: OpenApiResponse(description="Refused.")},
    )
    def post(self, request, decision_id):
        """Report what the agent did: `executed`, `failed` or `skipped`, with the digest of
        the params it acted on (must match the approved params)."""
        decision = self.get_decision(decision_id)
        serializer = OutcomeReportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = decision_outcome_report(
            decision, runtime=request.user, **serializer.validated_data
        )
        return Response(DecisionSerializer(decision, context={"request": request}).data)
