"""Catalog pages."""

from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.catalog_item_list_view, name="catalog_item_list"),
    path("intake/", views.intake_request_list, name="intake_request_list"),
    path("intake/new/", views.intake_request_create, name="intake_request_create"),
    path(
        "intake/new/server-json/",
        views.intake_request_from_server_json,
        name="intake_request_from_server_json",
    ),
    path("intake/<int:pk>/", views.intake_request_detail, name="intake_request_detail"),
    path(
        "intake/<int:pk>/resubmit/",
        views.intake_request_resubmit_view,
        name="intake_request_resubmit",
    ),
    path(
        "intake/<int:pk>/reviews/<str:kind>/",
        views.intake_request_review,
        name="intake_request_review",
    ),
    path(
        "intake/<int:pk>/publish/",
        views.intake_request_publish_view,
        name="intake_request_publish",
    ),
    path("intake/<int:pk>/<str:action>/", views.intake_request_act, name="intake_request_act"),
    path("<slug:slug>/", views.catalog_item_detail, name="catalog_item_detail"),
    path(
        "<slug:slug>/versions/<int:pk>/pin/",
        views.catalog_version_pin_view,
        name="catalog_version_pin",
    ),
    path(
        "<slug:slug>/versions/<int:pk>/end-window/",
        views.catalog_version_window_end_view,
        name="catalog_version_window_end",
    ),
    path(
        "<slug:slug>/versions/<int:pk>/yank/",
        views.catalog_version_yank_view,
        name="catalog_version_yank",
    ),
]
