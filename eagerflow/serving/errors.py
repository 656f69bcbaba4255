"""Canonical error codes (``tensorflow.error.Code``) and their HTTP / gRPC mappings.

Every failure the server reports to a client is a :class:`ServingError`; the REST front end
turns it into ``{"error": message}`` with TF Serving's HTTP status and the gRPC front end
into the same canonical code.

Example:
    >>> err = ServingError.not_found("Servable not found for request: Latest(m)")
    >>> err.http_status
    404
"""

__all__ = ["ServingError", "CODE_NAMES", "HTTP_STATUS"]

OK, CANCELLED, UNKNOWN, INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND = 0, 1, 2, 3, 4, 5
ALREADY_EXISTS, PERMISSION_DENIED, RESOURCE_EXHAUSTED, FAILED_PRECONDITION = 6, 7, 8, 9
ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS = 10, 11, 12, 13, 14, 15
UNAUTHENTICATED = 16

CODE_NAMES = {
    OK: "OK", CANCELLED: "CANCELLED", UNKNOWN: "UNKNOWN", INVALID_ARGUMENT: "INVALID_ARGUMENT",
    DEADLINE_EXCEEDED: "DEADLINE_EXCEEDED", NOT_FOUND: "NOT_FOUND",
    ALREADY_EXISTS: "ALREADY_EXISTS", PERMISSION_DENIED: "PERMISSION_DENIED",
    RESOURCE_EXHAUSTED: "RESOURCE_EXHAUSTED", FAILED_PRECONDITION: "FAILED_PRECONDITION",
    ABORTED: "ABORTED", OUT_OF_RANGE: "OUT_OF_RANGE", UNIMPLEMENTED: "UNIMPLEMENTED",
    INTERNAL: "INTERNAL", UNAVAILABLE: "UNAVAILABLE", DATA_LOSS: "DATA_LOSS",
    UNAUTHENTICATED: "UNAUTHENTICATED",
}

# tensorflow_serving/model_servers/http_rest_api_handler's ToHTTPStatusCode.
HTTP_STATUS = {
    OK: 200, CANCELLED: 499, UNKNOWN: 500, INVALID_ARGUMENT: 400, DEADLINE_EXCEEDED: 504,
    NOT_FOUND: 404, ALREADY_EXISTS: 409, PERMISSION_DENIED: 403, RESOURCE_EXHAUSTED: 429,
    FAILED_PRECONDITION: 400, ABORTED: 409, OUT_OF_RANGE: 400, UNIMPLEMENTED: 501,
    INTERNAL: 500, UNAVAILABLE: 503, DATA_LOSS: 500, UNAUTHENTICATED: 401,
}


class ServingError(Exception):
    """A failed request or load, carrying a canonical ``tensorflow.error.Code``.

    Args:
        code: int, a ``tensorflow.error.Code`` value.
        message: str, the text clients see.
    """

    def __init__(self, code, message):
        super().__init__(message)
        self.code = int(code)
        self.message = str(message)

    @property
    def code_name(self):
        return CODE_NAMES.get(self.code, "UNKNOWN")

    @property
    def http_status(self):
        return HTTP_STATUS.get(self.code, 500)

    def __repr__(self):
        return f"ServingError({self.code_name}, {self.message!r})"

    @classmethod
    def invalid_argument(cls, message):
        return cls(INVALID_ARGUMENT, message)

    @classmethod
    def not_found(cls, message):
        return cls(NOT_FOUND, message)

    @classmethod
    def failed_precondition(cls, message):
        return cls(FAILED_PRECONDITION, message)

    @classmethod
    def unavailable(cls, message):
        return cls(UNAVAILABLE, message)

    @classmethod
    def internal(cls, message):
        return cls(INTERNAL, message)

    @classmethod
    def resource_exhausted(cls, message):
        return cls(RESOURCE_EXHAUSTED, message)
