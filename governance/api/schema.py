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


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every refusal: a stable code, a sentence, and field errors for bad input.",
    "properties": {
        "code": {"type": "string", "example": "invalid"},
        "detail": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": True},
        "outcome": {
            "type": "string",
            "enum": ["deny"],
            "description": "On the decision path: treat the answer as a deny.",
        },
    },
    "required": ["detail"],
    "additionalProperties": True,
}
ERRORS = {
    "400": "Bad input: malformed JSON, wrong types, unknown fields or filters (field by field).",
    "401": "Missing, invalid or revoked credentials.",
    "403": "Authenticated, but not allowed to do this.",
    "404": "No such object, or outside what the caller may see.",
    "409": "Refused because of the object's state (already decided, wrong state, ...).",
    "429": "Too many requests: wait for the Retry-After header's seconds.",
}
WRITES = {"post", "put", "patch", "delete"}


def add_error_responses(result, generator, request, public):
    """Document the refusals every operation can answer, in one shape (`Error`), so that
    clients (and the schema fuzzing in the test suite) know them: 400, 401, 403, 404 where
    the path names an object, 409 on writes, 429 everywhere."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                if status == "404" and "{" not in path:
                    continue
                if status == "409" and method not in WRITES:
                    continue
                answer = responses.setdefault(status, {"description": description})
                answer.setdefault("content", {})["application/json"] = {"schema": reference}
            if "503" in responses:
                responses["503"].setdefault("content", {})["application/json"] = {
                    "schema": reference
                }
    return result
