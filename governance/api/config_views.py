"""The configuration API for governance admins (readable by the overseeing roles).

Thin viewsets: serializers validate, services write and audit."""

from django.utils.cache import add_never_cache_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, parsers, renderers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.api.config_serializers import (
    ActionTypeSerializer,
    CallbackSerializer,
    GrantSerializer,
    ProfileSerializer,
    RevokeSerializer,
    RuntimeCreatedSerializer,
    RuntimeSerializer,
)
from governance.api.parsers import StrictJSONParser
from governance.exceptions import ValidationFailed
from governance.filters import (
    ActionTypeFilterSet,
    GrantFilterSet,
    ProfileFilterSet,
    RuntimeFilterSet,
)
from governance.models import ActionType, AgentRuntime, PermissionProfile, ProfileGrant
from governance.permissions import (
    CanViewPolicyOrAdmin,
    CanViewRuntimesOrAdmin,
    IsGovernanceAdmin,
)
from governance.policy import policy_dump_yaml, policy_export, policy_import, policy_parse
from governance.services import (
    action_type_create,
    action_type_delete,
    action_type_update,
    profile_create,
    profile_delete,
    profile_grant_add,
    profile_grant_remove,
    profile_grant_update,
    profile_update,
    runtime_callback_set,
    runtime_create,
    runtime_revoke,
    runtime_token_rotate,
    runtime_update,
)


def secret_response(body: dict, status: int = status.HTTP_200_OK) -> Response:
    """An answer that carries a token or secret: no browser, proxy or cache may keep it."""
    response = Response(body, status=status)
    add_never_cache_headers(response)
    return response


class ServiceViewSet(viewsets.ModelViewSet):
    """A ModelViewSet whose writes go through services named in the subclass."""

    permission_classes = [CanViewPolicyOrAdmin]
    create_service = update_service = delete_service = None

    def perform_create(self, serializer):
        serializer.instance = type(self).create_service(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = type(self).update_service(
            serializer.instance, actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        type(self).delete_service(instance, actor=self.request.user)


class ActionTypeViewSet(ServiceViewSet):
    """Action types: impact, reversibility, the auto-execute allow-list and approvers."""

    queryset = ActionType.objects.select_related("approver_group", "escalation_group")
    serializer_class = ActionTypeSerializer
    filterset_class = ActionTypeFilterSet
    lookup_field = "key"
    create_service = staticmethod(action_type_create)
    update_service = staticmethod(action_type_update)
    delete_service = staticmethod(action_type_delete)


class ProfileViewSet(ServiceViewSet):
    """Task-scoped permission profiles (grants are listed; change them under /grants)."""

    queryset = PermissionProfile.objects.select_related("owner").prefetch_related(
        "launcher_groups", "launcher_users", "plugins", "grants__connector"
    )
    serializer_class = ProfileSerializer
    filterset_class = ProfileFilterSet
    lookup_field = "slug"
    create_service = staticmethod(profile_create)
    update_service = staticmethod(profile_update)
    delete_service = staticmethod(profile_delete)


class GrantViewSet(ServiceViewSet):
    """Data access grants of profiles: connector, resource globs, read or write."""

    queryset = ProfileGrant.objects.select_related("profile", "connector")
    serializer_class = GrantSerializer
    filterset_class = GrantFilterSet
    create_service = staticmethod(profile_grant_add)
    update_service = staticmethod(profile_grant_update)
    delete_service = staticmethod(profile_grant_remove)


class RuntimeViewSet(ServiceViewSet):
    """Agent runtimes. Creating one answers its token, once; it is stored only as a hash."""

    queryset = AgentRuntime.objects.prefetch_related("profiles")
    permission_classes = [CanViewRuntimesOrAdmin]
    serializer_class = RuntimeSerializer
    filterset_class = RuntimeFilterSet
    lookup_field = "name"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    @extend_schema(responses={201: RuntimeCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        runtime, token = runtime_create(actor=request.user, **serializer.validated_data)
        body = RuntimeCreatedSerializer(runtime).data
        body["token"] = token
        return secret_response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = runtime_update(
            serializer.instance, actor=self.request.user, **serializer.validated_data
        )


class RuntimeRevokeView(APIView):
    permission_classes = [IsGovernanceAdmin]

    @extend_schema(request=RevokeSerializer, responses=RuntimeSerializer)
    def post(self, request, name):
        """Revoke a runtime's token for good."""
        runtime = AgentRuntime.objects.get(name=name)
        serializer = RevokeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        runtime = runtime_revoke(runtime, actor=request.user, **serializer.validated_data)
        return Response(RuntimeSerializer(runtime).data)


class RuntimeRotateTokenView(APIView):
    permission_classes = [IsGovernanceAdmin]

    @extend_schema(request=None, responses=RuntimeCreatedSerializer)
    def post(self, request, name):
        """Issue a new token; the old one stops working at once."""
        runtime = AgentRuntime.objects.get(name=name)
        token = runtime_token_rotate(runtime, actor=request.user)
        body = RuntimeCreatedSerializer(runtime).data
        body["token"] = token
        return secret_response(body)


class RuntimeCallbackView(APIView):
    permission_classes = [IsGovernanceAdmin]

    @extend_schema(request=CallbackSerializer, responses=CallbackSerializer)
    def post(self, request, name):
        """Set (or clear, with an empty url) the runtime's webhook URL. The answer carries
        the new signing secret: the only time it is shown."""
        runtime = AgentRuntime.objects.get(name=name)
        serializer = CallbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        secret = runtime_callback_set(
            runtime, actor=request.user, url=serializer.validated_data["url"]
        )
        return secret_response({"url": runtime.callback_url, "secret": secret})


class YAMLRenderer(renderers.BaseRenderer):
    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return policy_dump_yaml(data).encode("utf-8")


class YAMLParser(parsers.BaseParser):
    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            text = stream.read().decode("utf-8")
        except UnicodeDecodeError as error:
            raise exceptions.ParseError("The request body is not UTF-8.") from error
        return policy_parse(text)


class PolicyView(APIView):
    """The whole governance configuration as one document (policy as code)."""

    permission_classes = [CanViewPolicyOrAdmin]
    renderer_classes = [renderers.JSONRenderer, YAMLRenderer]
    parser_classes = [StrictJSONParser, YAMLParser]

    @extend_schema(
        summary="Export the policy (JSON, or YAML with Accept: application/yaml)",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        return Response(policy_export())

    @extend_schema(
        summary="Import the policy (JSON or YAML body); validated whole before any write",
        parameters=[
            OpenApiParameter("dry_run", bool, description="Show the diff, change nothing.")
        ],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT},
    )
    def put(self, request):
        if not isinstance(request.data, dict):
            raise ValidationFailed("Send the policy document as a JSON or YAML mapping.")
        dry_run = request.query_params.get("dry_run", "").lower() in ("1", "true", "yes")
        result = policy_import(dict(request.data), actor=request.user, dry_run=dry_run)
        return Response(
            {
                "applied": result.applied,
                "dry_run": dry_run,
                "changes": result.changes,
                "unmanaged": result.unmanaged,
            }
        )
