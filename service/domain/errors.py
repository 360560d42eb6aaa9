"""Failures the domain reports; the HTTP layer turns each into OpenAI's error body."""


class ApiError(Exception):
    """An error with OpenAI's fields: message, type, param, code, and the HTTP status."""

    status = 400
    type = "invalid_request_error"
    # Extra response headers, such as Retry-After.
    headers: dict[str, str] | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


class InvalidRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404


def not_found(kind: str, object_id: str, param: str) -> NotFound:
    """OpenAI's words for an object that does not exist (for this project): "No thread found
    with id '...'."."""
    return NotFound(f"No {kind} found with id '{object_id}'.", param=param)
