"""The audit log pages."""

from django.urls import path

from audit import insight_views, views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("export/", views.export, name="export"),
    path("integrity/", views.integrity, name="integrity"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
    path("history/<str:object_type>/<str:object_id>/", views.history, name="object_history"),
    path("dashboard/", insight_views.dashboard_view, name="dashboard"),
    path("dashboard/charts/<str:name>.json", insight_views.chart_json, name="chart_json"),
    path("tuning/", insight_views.tuning_view, name="tuning"),
    path("tuning/simulate/", insight_views.simulate_view, name="simulate"),
    path("tuning/<int:pk>/", insight_views.recommendation_detail, name="recommendation_detail"),
    path(
        "tuning/<int:pk>/<str:action>/", insight_views.recommendation_act, name="recommendation_act"
    ),
    path("quarterly/", insight_views.quarterly_view, name="quarterly"),
    path("quarterly/sign-off/", insight_views.quarterly_signoff_view, name="quarterly_signoff"),
]
