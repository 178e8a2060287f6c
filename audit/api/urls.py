"""Audit API routes."""

from audit.api import views
from governance.api.routes import api_path

app_name = "audit-api"

urlpatterns = [
    *api_path("audit/events", views.AuditEventListView.as_view(), "audit-event-list"),
    *api_path("audit/export", views.AuditExportView.as_view(), "audit-export"),
]
