"""Approvals API routes (no trailing slash; one is accepted too)."""

from approvals.api import views
from governance.api.routes import api_path

app_name = "approvals-api"

urlpatterns = [
    *api_path("approvals", views.ApprovalListView.as_view(), "approval-list"),
    *api_path("approvals/<int:pk>", views.ApprovalDetailView.as_view(), "approval-detail"),
    *api_path(
        "approvals/<int:pk>/approve", views.ApprovalApproveView.as_view(), "approval-approve"
    ),
    *api_path("approvals/<int:pk>/reject", views.ApprovalRejectView.as_view(), "approval-reject"),
]
