"""Decision API and configuration API routes. Paths have no trailing slash; each is
also served with one (api_path)."""

from governance.api import config_views, views
from governance.api.routes import api_path

app_name = "governance-api"

DETAIL = {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
LIST = {"get": "list", "post": "create"}

urlpatterns = [
    *api_path("decisions", views.DecisionCreateView.as_view(), "decision-list"),
    *api_path(
        "decisions/<uuid:decision_id>", views.DecisionDetailView.as_view(), "decision-detail"
    ),
    *api_path(
        "decisions/<uuid:decision_id>/outcome",
        views.DecisionOutcomeView.as_view(),
        "decision-outcome",
    ),
    *api_path(
        "runtime/profiles/<slug:slug>", views.RuntimeProfileView.as_view(), "runtime-profile"
    ),
    *api_path("action-types", config_views.ActionTypeViewSet.as_view(LIST), "action-type-list"),
    *api_path(
        "action-types/<str:key>",
        config_views.ActionTypeViewSet.as_view(DETAIL),
        "action-type-detail",
    ),
    *api_path("profiles", config_views.ProfileViewSet.as_view(LIST), "profile-list"),
    *api_path(
        "profiles/<slug:slug>", config_views.ProfileViewSet.as_view(DETAIL), "profile-detail"
    ),
    *api_path("grants", config_views.GrantViewSet.as_view(LIST), "grant-list"),
    *api_path("grants/<int:pk>", config_views.GrantViewSet.as_view(DETAIL), "grant-detail"),
    *api_path("runtimes", config_views.RuntimeViewSet.as_view(LIST), "runtime-list"),
    *api_path(
        "runtimes/<slug:name>",
        config_views.RuntimeViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update"}
        ),
        "runtime-detail",
    ),
    *api_path(
        "runtimes/<slug:name>/revoke", config_views.RuntimeRevokeView.as_view(), "runtime-revoke"
    ),
    *api_path(
        "runtimes/<slug:name>/rotate-token",
        config_views.RuntimeRotateTokenView.as_view(),
        "runtime-rotate-token",
    ),
    *api_path(
        "runtimes/<slug:name>/callback",
        config_views.RuntimeCallbackView.as_view(),
        "runtime-callback",
    ),
    *api_path("policy", config_views.PolicyView.as_view(), "policy"),
]
