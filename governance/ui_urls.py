"""Console pages of the policy domain (governance/urls.py is the project's root URLconf,
so the app's own page routes live here)."""

from django.urls import path

from governance import editor_views, views
from governance.hooks import views as hook_views

app_name = "governance"

urlpatterns = [
    path("decisions/", views.decision_list, name="decision_list"),
    path("decisions/<uuid:pk>/", views.decision_detail, name="decision_detail"),
    path("profiles/", views.profile_list, name="profile_list"),
    # Before profiles/<slug>/: "new" is refused as a profile's slug.
    path("profiles/new/", editor_views.profile_create, name="profile_create"),
    path("profiles/<slug:slug>/", views.profile_detail, name="profile_detail"),
    path("profiles/<slug:slug>/edit/", editor_views.profile_edit, name="profile_edit"),
    path("action-types/", views.action_type_list, name="action_type_list"),
    path("action-types/new/", editor_views.action_type_create, name="action_type_create"),
    path("action-types/<int:pk>/", views.action_type_detail, name="action_type_detail"),
    path("action-types/<int:pk>/edit/", editor_views.action_type_edit, name="action_type_edit"),
    path("policy/check/", editor_views.policy_field_check, name="policy_field_check"),
    path("policy/test/", editor_views.condition_test, name="condition_test"),
    path("runtimes/", views.runtime_list, name="runtime_list"),
    path(
        "runtimes/<slug:name>/claude-settings/",
        hook_views.runtime_claude_settings,
        name="runtime_claude_settings",
    ),
    path("tool-mappings/", hook_views.tool_mapping_list, name="tool_mapping_list"),
    path("tool-mappings/<int:pk>/", hook_views.tool_mapping_edit, name="tool_mapping_edit"),
    path(
        "tool-mappings/<int:pk>/delete/",
        hook_views.tool_mapping_delete_view,
        name="tool_mapping_delete",
    ),
]
