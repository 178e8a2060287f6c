"""Root URL configuration: the console pages, the admin and the REST API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from governance import views

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
    # The docs are pages for people: signed out, they lead to the sign-in page and back.
    # The schema itself stays an API answer (401/403) for clients.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerView.as_view(url_name="schema")),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        login_required(SpectacularRedocView.as_view(url_name="schema")),
        name="api-redoc",
    ),
    path("api/v1/", include("governance.api.urls")),
    path("api/v1/", include("approvals.api.urls")),
    path("api/v1/", include("audit.api.urls")),
    path("api/v1/", include("catalog.api.urls")),
]
