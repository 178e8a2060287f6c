"""Catalog API routes."""

from catalog.api import views
from governance.api.routes import api_path

app_name = "catalog-api"

urlpatterns = [
    *api_path("catalog/items", views.CatalogItemListView.as_view(), "catalog-item-list"),
    *api_path(
        "catalog/items/<slug:slug>", views.CatalogItemDetailView.as_view(), "catalog-item-detail"
    ),
    *api_path(
        "catalog/items/<slug:slug>/versions/<str:version>/pin",
        views.VersionPinView.as_view(),
        "catalog-version-pin",
    ),
    *api_path(
        "catalog/items/<slug:slug>/versions/<str:version>/blast-radius",
        views.VersionBlastRadiusView.as_view(),
        "catalog-version-blast-radius",
    ),
    *api_path(
        "catalog/items/<slug:slug>/versions/<str:version>/yank",
        views.VersionYankView.as_view(),
        "catalog-version-yank",
    ),
    *api_path(
        "catalog/items/<slug:slug>/tool-definitions-changed",
        views.ToolDefinitionsChangedView.as_view(),
        "catalog-tool-definitions-changed",
    ),
    *api_path("catalog/intake", views.IntakeListView.as_view(), "intake-request-list"),
    *api_path("catalog/intake/<int:pk>", views.IntakeDetailView.as_view(), "intake-request-detail"),
    *api_path(
        "catalog/intake/<int:pk>/reviews", views.IntakeReviewView.as_view(), "intake-request-review"
    ),
    *api_path(
        "catalog/intake/<int:pk>/start-review",
        views.start_review_view,
        "intake-request-start-review",
    ),
    *api_path("catalog/intake/<int:pk>/withdraw", views.withdraw_view, "intake-request-withdraw"),
    *api_path("catalog/intake/<int:pk>/reject", views.reject_view, "intake-request-reject"),
    *api_path(
        "catalog/intake/<int:pk>/blast-radius",
        views.IntakeBlastRadiusView.as_view(),
        "intake-request-blast-radius",
    ),
    *api_path(
        "catalog/intake/<int:pk>/publish",
        views.IntakePublishView.as_view(),
        "intake-request-publish",
    ),
]
