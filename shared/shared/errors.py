"""One exception hierarchy for every service, rendered as RFC 9457 problem+json.

Routers and services raise these; ``shared.problems`` turns them into responses.
Never raise ``HTTPException`` with a bare string.
"""

from __future__ import annotations

from typing import Any


class ProblemError(Exception):
    """An error that has a precise HTTP meaning for the caller."""

    status: int = 400
    title: str = "Bad request"
    type_suffix: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}


class Unauthorized(ProblemError):
    status = 401
    title = "Unauthorized"
    type_suffix = "unauthorized"


class Forbidden(ProblemError):
    status = 403
    title = "Forbidden"
    type_suffix = "forbidden"


class NotFound(ProblemError):
    status = 404
    title = "Not found"
    type_suffix = "not-found"


class NotAcceptable(ProblemError):
    """406: the Accept header names no format the resource is available in (listed in the detail
    and in ``available``)."""

    status = 406
    title = "Not acceptable"
    type_suffix = "not-acceptable"


class Conflict(ProblemError):
    status = 409
    title = "Conflict"
    type_suffix = "conflict"


class PreconditionFailed(ProblemError):
    status = 412
    title = "Precondition failed"
    type_suffix = "precondition-failed"


class PreconditionRequired(ProblemError):
    status = 428
    title = "Precondition required"
    type_suffix = "precondition-required"


class PayloadTooLarge(ProblemError):
    status = 413
    title = "Payload too large"
    type_suffix = "payload-too-large"


class UnsupportedMediaType(ProblemError):
    status = 415
    title = "Unsupported media type"
    type_suffix = "unsupported-media-type"


class InvalidInput(ProblemError):
    """422 with field-level ``errors``: ``[{"field": "body.month", "message": "..."}]``."""

    status = 422
    title = "Invalid input"
    type_suffix = "invalid-input"

    @classmethod
    def field(cls, field: str, message: str) -> InvalidInput:
        return cls(f"{field}: {message}", errors=[{"field": field, "message": message}])


class TooManyRequests(ProblemError):
    status = 429
    title = "Too many requests"
    type_suffix = "too-many-requests"


class UpstreamUnavailable(ProblemError):
    status = 503
    title = "Service unavailable"
    type_suffix = "service-unavailable"


class DatabaseUnavailable(ProblemError):
    """The database cannot be reached now (down, restarting, refusing connections).

    Raised by the engine (``shared.db``) for connection-level failures. The request was
    not answered as done; if the connection broke during its commit the write may still
    have been stored, so a retried POST should carry the same ``Idempotency-Key``.
    """

    status = 503
    title = "Database unavailable"
    type_suffix = "database-unavailable"
    retry_after_seconds = 2

    def __init__(self, detail: str = "The database is not reachable at the moment; retry shortly.") -> None:
        super().__init__(detail, headers={"Retry-After": str(self.retry_after_seconds)})


class UpstreamTimeout(ProblemError):
    status = 504
    title = "Gateway timeout"
    type_suffix = "gateway-timeout"


class PackError(ValueError):
    """A policy pack file that fails its checks: names the file, the field and the problem."""

    def __init__(self, file: str, field: str, problem: str) -> None:
        super().__init__(f"{file}: {field}: {problem}")
        self.file = file
        self.field = field
        self.problem = problem
