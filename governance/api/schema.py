"""OpenAPI details: bearer auth for runtimes, and one path per endpoint in the schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class RuntimeTokenScheme(OpenApiAuthenticationExtension):
    target_class = "governance.api.authentication.RuntimeTokenAuthentication"
    name = "runtimeToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An agent runtime's token (manage.py create_runtime prints it once).",
        }


class UserTokenScheme(OpenApiAuthenticationExtension):
    target_class = "governance.api.authentication.UserTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A person's API token (manage.py create_user_token prints it once).",
        }


def hide_trailing_slash_aliases(endpoints, **kwargs):
    """Every API route is also served with a trailing slash; document it once."""
    return [e for e in endpoints if not (e[0].startswith("/api/v1/") and e[0].endswith("/"))]


# What Redoc (styled-components) needs beyond the console's Content-Security-Policy, on the
# /api/redoc/ page only: empty <style> elements that it fills through the CSS object model
# (the hash of the empty string; an empty element styles nothing) and one fixed stylesheet
# of its bundle (that text's hash). A new drf-spectacular-sidecar release may change the
# second: the browser's CSP test then fails and Chromium's message names the new hash.
REDOC_CSP = {
    "style-src": [
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
        "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    ]
}
