"""The project's one application error type and its main subclasses.

Services raise these; the API's exception handler and the UI views map them to a
4xx answer with the message, so that a refused operation never becomes a 500."""


class ApplicationError(Exception):
    """A refusal the user can understand and act on."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra or {}


class ValidationFailed(ApplicationError):
    """Input that does not describe a valid thing (field errors in `extra`)."""

    status_code = 400
    code = "invalid"


class Unauthenticated(ApplicationError):
    """The credentials are not (or no longer) valid."""

    status_code = 401
    code = "invalid_token"


class UnsupportedMediaType(ApplicationError):
    """A body in a format this endpoint does not read."""

    status_code = 415
    code = "unsupported_media_type"


class PermissionDenied(ApplicationError):
    """A visible object on which this person may not do this."""

    status_code = 403
    code = "forbidden"


class NotFound(ApplicationError):
    """Missing, or outside the caller's scope (the same answer, on purpose)."""

    status_code = 404
    code = "not_found"


class Conflict(ApplicationError):
    """The operation clashes with the object's state (already decided, wrong state, ...)."""

    status_code = 409
    code = "conflict"
