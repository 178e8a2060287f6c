"""Decision API and configuration API routes (no trailing slash; one is accepted too)."""

from django.urls import re_path

from governance.api import config_views, views

app_name = "governance-api"

urlpatterns = [
    re_path(r"^decisions/?$", views.DecisionCreateView.as_view(), name="decision-list"),
    re_path(
        r"^decisions/(?P<decision_id>[0-9a-f-]{36})/?$",
        views.DecisionDetailView.as_view(),
        name="decision-detail",
    ),
    re_path(
        r"^decisions/(?P<decision_id>[0-9a-f-]{36})/outcome/?$",
        views.DecisionOutcomeView.as_view(),
        name="decision-outcome",
    ),
    re_path(
        r"^action-types/?$",
        config_views.ActionTypeViewSet.as_view({"get": "list", "post": "create"}),
        name="action-type-list",
    ),
    re_path(
        r"^action-types/(?P<key>[a-z0-9_.]+)/?$",
        config_views.ActionTypeViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="action-type-detail",
    ),
    re_path(
        r"^profiles/?$",
        config_views.ProfileViewSet.as_view({"get": "list", "post": "create"}),
        name="profile-list",
    ),
    re_path(
        r"^profiles/(?P<slug>[-a-zA-Z0-9_]+)/?$",
        config_views.ProfileViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="profile-detail",
    ),
    re_path(
        r"^grants/?$",
        config_views.GrantViewSet.as_view({"get": "list", "post": "create"}),
        name="grant-list",
    ),
    re_path(
        r"^grants/(?P<pk>[0-9]+)/?$",
        config_views.GrantViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="grant-detail",
    ),
    re_path(
        r"^runtimes/?$",
        config_views.RuntimeViewSet.as_view({"get": "list", "post": "create"}),
        name="runtime-list",
    ),
    re_path(
        r"^runtimes/(?P<name>[-a-zA-Z0-9_]+)/?$",
        config_views.RuntimeViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update"}
        ),
        name="runtime-detail",
    ),
    re_path(
        r"^runtimes/(?P<name>[-a-zA-Z0-9_]+)/revoke/?$",
        config_views.RuntimeRevokeView.as_view(),
        name="runtime-revoke",
    ),
    re_path(
        r"^runtimes/(?P<name>[-a-zA-Z0-9_]+)/rotate-token/?$",
        config_views.RuntimeRotateTokenView.as_view(),
        name="runtime-rotate-token",
    ),
    re_path(r"^policy/?$", config_views.PolicyView.as_view(), name="policy"),
]
