"""WSGI entry point (gunicorn governance.wsgi).

Agents call the decision API before every consequential action, so its requests skip the
middleware that only pages need (sessions, CSRF, the signed-in user, messages, htmx,
static files): they pass through a handler of their own with a slim stack
(`AGENT_API_MIDDLEWARE`). Everything else gets the full stack of settings.MIDDLEWARE. The
agent API authenticates by bearer token only, so nothing it does needs what was left out."""

import os
import threading

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

# The endpoints agent runtimes call (the decision API and the agent hooks).
AGENT_API_PREFIXES = ("/api/v1/decisions", "/api/v1/hooks/")
AGENT_API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "governance.middleware.RequestIdMiddleware",
    "governance.middleware.RejectUnreadableRequestMiddleware",
]
_loading = threading.Lock()


class AgentAPIHandler(WSGIHandler):
    """A WSGI handler whose middleware chain is AGENT_API_MIDDLEWARE."""

    def load_middleware(self, is_async=False):
        # Django builds the chain from settings.MIDDLEWARE; swap the list in for the time
        # it takes to build ours (once, when the process starts) and put it back.
        from django.conf import settings

        with _loading:
            full = settings.MIDDLEWARE
            settings.MIDDLEWARE = AGENT_API_MIDDLEWARE
            try:
                super().load_middleware(is_async)
            finally:
                settings.MIDDLEWARE = full


pages = get_wsgi_application()
agent_api = AgentAPIHandler()


def application(environ, start_response):
    """Route agent API requests to the slim handler, everything else to the full one."""
    handler = agent_api if environ.get("PATH_INFO", "").startswith(AGENT_API_PREFIXES) else pages
    return handler(environ, start_response)
