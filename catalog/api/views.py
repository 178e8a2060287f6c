"""Catalog API: read the catalog; owners pin and yank; file, read and withdraw my intake
requests; reviewers act through the same rules as the pages."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.views import APIView

from approvals.api.views import IsPerson
from catalog.api.serializers import (
    BlastRadiusSerializer,
    CatalogItemSerializer,
    CatalogVersionSerializer,
    IntakeRequestSerializer,
    NoteSerializer,
    PinSerializer,
    PublishSerializer,
    ReviewSerializer,
    ToolDefinitionsChangedSerializer,
    YankSerializer,
)
from catalog.filters import CatalogItemFilterSet, IntakeRequestFilterSet
from catalog.models import CatalogVersion, IntakeRequest
from catalog.permissions import can_manage_item, can_publish_intake, can_view_intake
from catalog.selectors import (
    catalog_item_list,
    catalog_pin_blast_radius,
    intake_publish_blast_radius,
    intake_request_list_visible_to,
)
from catalog.services import (
    catalog_tool_definitions_change_report,
    catalog_version_pin,
    catalog_version_yank,
)
from catalog.workflow import (
    intake_request_publish,
    intake_request_reject,
    intake_request_start_review,
    intake_request_submit,
    intake_request_withdraw,
    intake_review_add,
)
from governance.api.authentication import RuntimeTokenAuthentication, UserTokenAuthentication
from governance.exceptions import NotFound, PermissionDenied
from governance.permissions import IsAgentRuntime


class PersonView:
    authentication_classes = [UserTokenAuthentication, SessionAuthentication]
    permission_classes = [IsPerson]


class CatalogItemListView(generics.ListAPIView):
    """The catalog, for people and for agent runtimes (an MCP gateway reads connectors)."""

    authentication_classes = [
        UserTokenAuthentication,
        SessionAuthentication,
        RuntimeTokenAuthentication,
    ]
    serializer_class = CatalogItemSerializer
    filterset_class = CatalogItemFilterSet
    queryset = catalog_item_list().order_by("kind", "slug")


class CatalogItemDetailView(generics.RetrieveAPIView):
    authentication_classes = CatalogItemListView.authentication_classes
    serializer_class = CatalogItemSerializer
    queryset = catalog_item_list()
    lookup_field = "slug"


def _version(slug: str, version: str) -> CatalogVersion:
    return get_object_or_404(
        CatalogVersion.objects.select_related("item"), item__slug=slug, version=version
    )


class VersionPinView(PersonView, APIView):
    @extend_schema(request=PinSerializer, responses=CatalogVersionSerializer)
    def post(self, request, slug, version):
        """Pin this approved version (rolling back if it is older): owners and admins.
        `previous_allowed_until` keeps the version pinned until now allowed until then."""
        serializer = PinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pinned = catalog_version_pin(
            _version(slug, version), actor=request.user, **serializer.validated_data
        )
        return Response(CatalogVersionSerializer(pinned).data)


class VersionBlastRadiusView(PersonView, APIView):
    @extend_schema(responses=BlastRadiusSerializer)
    def get(self, request, slug, version):
        """Before pinning: the last 30 days' decisions that named the version pinned now, by
        runtime and profile, and how many pinning this one would refuse (the item's owners
        and governance admins)."""
        target = _version(slug, version)
        if not can_manage_item(request.user, target.item):
            raise PermissionDenied(f"Only the owners of {slug} may pin its versions.")
        return Response(BlastRadiusSerializer(catalog_pin_blast_radius(target.item, target)).data)


class VersionYankView(PersonView, APIView):
    @extend_schema(request=YankSerializer, responses=CatalogVersionSerializer)
    def post(self, request, slug, version):
        """Yank a version with a reason: decisions naming it are refused."""
        serializer = YankSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        yanked = catalog_version_yank(
            _version(slug, version), actor=request.user, **serializer.validated_data
        )
        return Response(CatalogVersionSerializer(yanked).data)


class IntakeListView(PersonView, generics.ListCreateAPIView):
    """My intake requests (and those I review); POST files a new one."""

    serializer_class = IntakeRequestSerializer
    filterset_class = IntakeRequestFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return IntakeRequest.objects.none()
        return (
            intake_request_list_visible_to(self.request.user)
            .prefetch_related("reviews__reviewer")
            .order_by("-created_at")
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        intake = intake_request_submit(actor=request.user, item=data.pop("item", None), **data)
        return Response(IntakeRequestSerializer(intake).data, status=status.HTTP_201_CREATED)


class IntakeMixin(PersonView):
    def get_intake(self, pk) -> IntakeRequest:
        intake = IntakeRequest.objects.select_related("item", "requester").filter(pk=pk).first()
        if intake is None or not can_view_intake(self.request.user, intake):
            raise NotFound("No such intake request.")
        return intake

    def answer(self, pk):
        return Response(IntakeRequestSerializer(self.get_intake(pk)).data)


class IntakeDetailView(IntakeMixin, APIView):
    @extend_schema(responses=IntakeRequestSerializer)
    def get(self, request, pk):
        return self.answer(pk)


class IntakeReviewView(IntakeMixin, APIView):
    @extend_schema(request=ReviewSerializer, responses=IntakeRequestSerializer)
    def post(self, request, pk):
        """Record a security or data review (checklist, verdict, comment)."""
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        intake_review_add(self.get_intake(pk), actor=request.user, **serializer.validated_data)
        return self.answer(pk)


def _action(service):
    class ActionView(IntakeMixin, APIView):
        @extend_schema(request=NoteSerializer, responses=IntakeRequestSerializer)
        def post(self, request, pk):
            serializer = NoteSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            service(self.get_intake(pk), request.user, serializer.validated_data["reason"])
            return self.answer(pk)

    ActionView.post.__doc__ = service.__doc__
    return ActionView.as_view()


def _start(intake, user, reason):
    """Take the request from the review queue."""
    intake_request_start_review(intake, actor=user)


def _withdraw(intake, user, reason):
    """The requester takes the request back."""
    intake_request_withdraw(intake, actor=user, reason=reason)


def _reject(intake, user, reason):
    """A reviewer rejects the request (reason required)."""
    intake_request_reject(intake, actor=user, reason=reason)


start_review_view = _action(_start)
withdraw_view = _action(_withdraw)
reject_view = _action(_reject)


class IntakePublishView(IntakeMixin, APIView):
    @extend_schema(request=PublishSerializer, responses=IntakeRequestSerializer)
    def post(self, request, pk):
        """Publish an approved request: the version (and item) is created, and pinned if
        asked (default: as the requester proposed)."""
        serializer = PublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        intake_request_publish(self.get_intake(pk), actor=request.user, **serializer.validated_data)
        return self.answer(pk)


class IntakeBlastRadiusView(IntakeMixin, APIView):
    @extend_schema(responses=BlastRadiusSerializer)
    def get(self, request, pk):
        """Before publishing: what pinning the request's version would refuse."""
        intake = self.get_intake(pk)
        if not can_publish_intake(request.user, intake):
            raise PermissionDenied("Only the item's owners (or governance admins) publish it.")
        return Response(BlastRadiusSerializer(intake_publish_blast_radius(intake)).data)


class ToolDefinitionsChangedView(APIView):
    """A governed MCP gateway reports that a connector's live tools differ from those of
    its pinned version (it refuses every call to it): an audit event, and the owners are
    e-mailed."""

    authentication_classes = [RuntimeTokenAuthentication]
    permission_classes = [IsAgentRuntime]

    @extend_schema(
        operation_id="catalog_tool_definitions_changed",
        request=ToolDefinitionsChangedSerializer,
        responses={202: None},
    )
    def post(self, request, slug):
        item = get_object_or_404(catalog_item_list(), slug=slug)
        serializer = ToolDefinitionsChangedSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        catalog_tool_definitions_change_report(
            item, actor=request.user, **serializer.validated_data
        )
        return Response({"recorded": True}, status=status.HTTP_202_ACCEPTED)
