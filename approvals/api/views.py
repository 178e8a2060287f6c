"""The approvals API for chat-ops bots: the same rules as the inbox, through the same
service. People authenticate with their session or a personal token."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from approvals.api.serializers import ApprovalRequestSerializer, ApproveSerializer, RejectSerializer
from approvals.choices import Verdict
from approvals.filters import ApprovalRequestFilterSet
from approvals.models import ApprovalRequest
from approvals.selectors import approval_request_list_decidable_by, approval_request_list_visible_to
from approvals.services import approval_vote_cast
from governance.api.authentication import UserTokenAuthentication
from governance.exceptions import NotFound
from governance.permissions import _is_person

REFUSALS = {
    403: OpenApiResponse(description="Not yours to decide: own_request or not_in_group."),
    404: OpenApiResponse(description="No such request, or outside what you may see."),
    409: OpenApiResponse(description="already_voted, already_resolved or expired."),
}


class IsPerson(BasePermission):
    message = "Sign in, or send a personal token (Authorization: Bearer agc_ut_...)."

    def has_permission(self, request, view) -> bool:
        return _is_person(request.user) and request.user.is_active


class PersonAPIMixin:
    authentication_classes = [UserTokenAuthentication, SessionAuthentication]
    permission_classes = [IsPerson]
    rate_limit_scope = "approvals"

    def get_visible(self, pk):
        approval = approval_request_list_visible_to(self.request.user).filter(pk=pk).first()
        if approval is None:
            raise NotFound("No such approval request.")
        return approval

    def answer(self, approval):
        approval = self.get_visible(approval.pk)
        return Response(ApprovalRequestSerializer(approval, context={"request": self.request}).data)


class ApprovalListView(PersonAPIMixin, generics.ListAPIView):
    """The requests I may decide, most urgent first (filterable like the inbox)."""

    serializer_class = ApprovalRequestSerializer
    filterset_class = ApprovalRequestFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation, no person
            return ApprovalRequest.objects.none()
        return approval_request_list_decidable_by(self.request.user).prefetch_related(
            "votes__voter"
        )


class ApprovalDetailView(PersonAPIMixin, APIView):
    @extend_schema(responses={200: ApprovalRequestSerializer, 404: REFUSALS[404]})
    def get(self, request, pk):
        """One request I may see (routed to my groups, on my behalf, or everything for
        governance admins and auditors)."""
        return self.answer(self.get_visible(pk))


class ApprovalApproveView(PersonAPIMixin, APIView):
    @extend_schema(
        request=ApproveSerializer, responses={200: ApprovalRequestSerializer, **REFUSALS}
    )
    def post(self, request, pk):
        """Approve, optionally with edited params: the agent then acts on those."""
        approval = self.get_visible(pk)
        serializer = ApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        approval = approval_vote_cast(
            approval.pk,
            voter=request.user,
            verdict=Verdict.APPROVE,
            comment=serializer.validated_data["comment"],
            edited_params=serializer.validated_data.get("params"),
        )
        return self.answer(approval)


class ApprovalRejectView(PersonAPIMixin, APIView):
    @extend_schema(request=RejectSerializer, responses={200: ApprovalRequestSerializer, **REFUSALS})
    def post(self, request, pk):
        """Reject with a reason: the request is resolved as rejected at once."""
        approval = self.get_visible(pk)
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        approval = approval_vote_cast(
            approval.pk,
            voter=request.user,
            verdict=Verdict.REJECT,
            comment=serializer.validated_data["reason"],
        )
        return self.answer(approval)
