"""Root URL configuration: the console pages, the admin and the REST API."""

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from governance import views
from governance.api.schema import REDOC_CSP

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("governance.ui_urls")),
    path("approvals/", include("approvals.urls")),
    path("audit/", include("audit.urls")),
    path("catalog/", include("catalog.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script from a URL (no inline script: Content-Security-Policy).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        csp_update(REDOC_CSP)(
            SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html")
        ),
        name="api-redoc",
    ),
    path("api/v1/", include("governance.api.urls")),
    path("api/v1/", include("approvals.api.urls")),
    path("api/v1/", include("audit.api.urls")),
    path("api/v1/", include("catalog.api.urls")),
]
