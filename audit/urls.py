"""The audit log pages, then the insights' pages (audit/insights/urls.py) under the same
`audit:` namespace."""

from django.urls import include, path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("export/", views.export, name="export"),
    path("integrity/", views.integrity, name="integrity"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
    path("history/<str:object_type>/<str:object_id>/", views.history, name="object_history"),
    path("", include("audit.insights.urls")),
]
