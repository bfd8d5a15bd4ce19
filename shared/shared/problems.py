"""RFC 9457 problem+json: the one way every service and the gateway answer an error."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared.errors import ProblemError
from shared.logs import mask_citizen_ids, request_id_var

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://civic-platform.example/problems/"
logger = logging.getLogger("shared.problems")

_STATUS_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid input",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def problem_body(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type_suffix: str | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    title = title or _STATUS_TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + (type_suffix or title.lower().replace(" ", "-")),
        "title": title,
        "status": status,
        "detail": detail,
        # the request path, with any citizen ID number in it masked (paths are echoed and logged)
        "instance": mask_citizen_ids(instance) if instance else instance,
    }
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return body


def problem_response(
    status: int,
    detail: str,
    *,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> JSONResponse:
    instance = request.url.path if request is not None else None
    return JSONResponse(
        problem_body(status, detail, instance=instance, **kwargs),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    for error in exc.errors():
        message = str(error.get("msg", "invalid"))
        message = message.removeprefix("Value error, ")
        errors.append({"field": _location(error.get("loc", ())), "message": message})
    return errors


async def _handle_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.detail,
        request=request,
        title=exc.title,
        type_suffix=exc.type_suffix,
        errors=exc.errors if exc.errors is not None or exc.status != 422 else [],
        extra=exc.extra,
        headers=exc.headers,
    )


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc)
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5]) or "invalid input"
    return problem_response(422, detail, request=request, type_suffix="invalid-input", errors=errors)


def _allowed_methods(request: Request) -> str:
    """Every method any route of the app answers on this path (Starlette names only one route's)."""
    methods: set[str] = set()
    for route in request.app.routes:
        match, _ = route.matches({"type": "http", "path": request.url.path, "method": ""})
        if match != Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    return ", ".join(sorted(methods))


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _STATUS_TITLES.get(exc.status_code, "")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return problem_response(exc.status_code, detail, request=request, headers=headers)


async def _handle_integrity(request: Request, exc: Exception) -> JSONResponse:
    """A constraint the service did not turn into its own answer: never a 500.

    The write path (``shared.writes``) names collisions itself; this is the net under every
    other flush and commit. A collision (unique or exclusion) is 409; a reference to a record
    that is gone or still referenced is 409; any other constraint refused the input (422).
    The message names the constraint, never the values (they may be personal data).
    """
    from shared.writes import collision_detail, sqlstate_of

    assert isinstance(exc, IntegrityError)
    sqlstate = sqlstate_of(exc) or ""
    if sqlstate in ("23505", "23P01"):
        return problem_response(409, collision_detail(exc), request=request, type_suffix="conflict")
    if sqlstate == "23503":
        return problem_response(
            409,
            "The change refers to a record that does not exist, or removes one still referred to.",
            request=request,
            type_suffix="conflict",
        )
    logger.warning("constraint refused a write", extra={"sqlstate": sqlstate, "path": request.url.path})
    return problem_response(
        422,
        "The change breaks a rule of the stored data.",
        request=request,
        type_suffix="invalid-input",
        errors=[],
    )


async def _handle_stale(request: Request, exc: Exception) -> JSONResponse:
    """A compare-and-set UPDATE matched no row: someone else's change committed first."""
    return problem_response(
        412,
        "The record has changed since you read it; read it again and retry.",
        request=request,
        type_suffix="precondition-failed",
    )


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(
        500,
        "The server could not complete the request; it has been logged.",
        request=request,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _handle_problem)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(IntegrityError, _handle_integrity)
    app.add_exception_handler(StaleDataError, _handle_stale)
    app.add_exception_handler(Exception, _handle_unexpected)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": ["string", "null"]},
        "request_id": {"type": "string", "description": "Quote it when asking for support."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries declaring problem+json errors."""
    return {
        status: {
            "description": _STATUS_TITLES.get(status, "Error"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
