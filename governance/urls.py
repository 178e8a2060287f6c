"""Root URL configuration: the console pages, the admin and the REST API."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.urls import include, path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from governance import oidc, views
from governance.metrics import metrics_view

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Single sign-on (OpenID Connect): 404 unless OIDC_ISSUER is set.
    path("oidc/authenticate/", oidc.AuthenticateView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", oidc.CallbackView.as_view(), name="oidc_authentication_callback"),
    path("admin/", admin.site.urls),
    path("", include("governance.ui_urls")),
    path("approvals/", include("approvals.urls")),
    path("audit/", include("audit.urls")),
    path("catalog/", include("catalog.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script from a URL (no inline script: Content-Security-Policy).
    # No Redoc page: its bundle loads its logo from a CDN and needs inline styles.
    # The docs are pages for people: signed out, they lead to the sign-in page and back.
    # The schema itself stays an API answer (401/403) for clients.
    path(
        "api/docs/",
        login_required(
            SpectacularSwaggerSplitView.as_view(
                url_name="schema", template_name="api/swagger_ui.html"
            )
        ),
        name="api-docs",
    ),
    path("api/v1/", include("governance.api.urls")),
    path("api/v1/", include("governance.hooks.urls")),
    path("api/v1/", include("approvals.api.urls")),
    path("api/v1/", include("audit.api.urls")),
    path("api/v1/", include("catalog.api.urls")),
]


def _api_aware(page_handler, status: int, code: str, detail: str, **extra):
    """Pages answer errors with a page; the API answers them in its JSON shape."""

    def handler(request, exception=None):
        if request.path.startswith("/api/"):
            return JsonResponse({"code": code, "detail": detail, **extra}, status=status)
        if exception is None:
            return page_handler(request)
        return page_handler(request, exception)

    return handler


handler404 = _api_aware(defaults.page_not_found, 404, "not_found", "No such resource.")
handler500 = _api_aware(
    defaults.server_error,
    503,
    "internal_error",
    "The console could not process this request; treat it as denied.",
    outcome="deny",
)
