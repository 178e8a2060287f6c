"""The approval inbox pages."""

from django.urls import path

from approvals import views

app_name = "approvals"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("decided/", views.decided, name="decided"),
    path("all/", views.everything, name="everything"),
    path("bulk-approve/", views.approval_bulk_approve_view, name="bulk_approve"),
    path("out-of-office/", views.delegation_list, name="delegation_list"),
    path("out-of-office/<int:pk>/end/", views.delegation_end_view, name="delegation_end"),
    path("webhooks/", views.webhook_delivery_list, name="webhook_delivery_list"),
    path(
        "webhooks/<int:pk>/retry/", views.webhook_delivery_retry_view, name="webhook_delivery_retry"
    ),
    path("<int:pk>/", views.approval_request_detail, name="approval_request_detail"),
    path("<int:pk>/vote/", views.approval_request_vote, name="approval_request_vote"),
]
