"""The insights' pages, included by audit/urls.py under the same `audit:` namespace."""

from django.urls import path

from audit.insights import shadow_views, views

urlpatterns = [
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("dashboard/summary/", views.summary_view, name="dashboard_summary"),
    path("dashboard/charts/<str:name>.json", views.chart_json, name="chart_json"),
    path("tuning/", views.tuning_view, name="tuning"),
    path("tuning/simulate/", views.simulate_view, name="simulate"),
    path("tuning/<int:pk>/", views.recommendation_detail, name="recommendation_detail"),
    path("tuning/<int:pk>/<str:action>/", views.recommendation_act, name="recommendation_act"),
    path(
        "tuning/conditions/<str:owner_kind>/<str:owner>/<str:name>/",
        shadow_views.condition_shadow,
        name="condition_shadow",
    ),
    path(
        "tuning/conditions/<str:owner_kind>/<str:owner>/<str:name>/<str:action>/",
        shadow_views.condition_act,
        name="condition_act",
    ),
    path("quarterly/", views.quarterly_view, name="quarterly"),
    path("quarterly/sign-off/", views.quarterly_signoff_view, name="quarterly_signoff"),
]
