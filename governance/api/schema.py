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
