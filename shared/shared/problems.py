"""RFC 9457 problem+json: the one way every service and the gateway answer an error."""

from __future__ import annotations

import logging
import re
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


# Titles in Chinese for staff whose Accept-Language prefers zh (the English ones are the default)
_TITLES_ZH = {
    "Bad request": "请求格式错误",
    "Unauthorized": "未认证",
    "Forbidden": "无权访问",
    "Not found": "未找到",
    "Method not allowed": "不支持该请求方法",
    "Not acceptable": "无法提供所要求的格式",
    "Conflict": "冲突",
    "Precondition failed": "记录已被修改",
    "Payload too large": "请求内容过大",
    "Unsupported media type": "不支持的内容类型",
    "Invalid input": "输入无效",
    "Precondition required": "缺少 If-Match 请求头",
    "Too many requests": "请求过于频繁",
    "Internal server error": "服务器内部错误",
    "Bad gateway": "网关错误",
    "Service unavailable": "服务不可用",
    "Database unavailable": "数据库不可用",
    "Gateway timeout": "网关超时",
    "Error": "错误",
}
# Details of the platform's shared answers; a service's own detail stays as it wrote it
_DETAILS_ZH: dict[str, str] = {}
for _english, _chinese in (
    ("Not Found", "没有这个地址。"),
    ("Method Not Allowed", "该地址不支持这个请求方法。"),
    (
        "The record has changed since you read it; read it again and retry.",
        "记录在您读取之后已被修改，请重新读取后再试。",
    ),
    (
        "Updates need an If-Match header with the ETag of the version you read.",
        "修改需要带上 If-Match 请求头（您读取的版本的 ETag）。",
    ),
    ("The server could not complete the request; it has been logged.", "服务器未能完成请求，已记录日志。"),
    (
        "This Idempotency-Key was already used with a different request.",
        "该 Idempotency-Key 已用于另一个不同的请求。",
    ),
    ("The change breaks a rule of the stored data.", "该修改违反了已存数据的规则。"),
):
    _DETAILS_ZH[_english] = _chinese
_FIELD_MESSAGES_ZH = {
    "missing": "必填",
    "json_invalid": "不是合法的 JSON",
    "string_too_long": "太长",
    "string_too_short": "太短",
    "int_parsing": "应为整数",
    "uuid_parsing": "应为 UUID",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "extra_forbidden": "不接受此字段",
    "unknown_query_parameter": "此操作没有这个参数",
}


def prefers_chinese(request: Request | None) -> bool:
    """Whether the caller's Accept-Language ranks a Chinese tag above every other language."""
    if request is None:
        return False
    header = request.headers.get("accept-language", "")
    best, best_q = "", 0.0
    for index, part in enumerate(header.split(",")):
        language, _, parameters = part.strip().partition(";")
        q = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # equal weights: the first listed wins
        if language and (q > best_q or (q == best_q and not best)) and index >= 0:
            best, best_q = language.strip().lower(), q
    return best == "zh" or best.startswith("zh-")


def _in_chinese(body: dict[str, Any]) -> dict[str, Any]:
    body["title"] = _TITLES_ZH.get(body["title"], body["title"])
    detail = body.get("detail")
    if isinstance(detail, str):
        body["detail"] = _DETAILS_ZH.get(detail, detail)
    for error in body.get("errors") or []:
        translated = _FIELD_MESSAGES_ZH.get(error.get("type", ""))
        if translated is not None:
            error["message"] = translated
        elif "allowed" in error:
            error["message"] = "应为以下之一：" + "、".join(str(value) for value in error["allowed"])
    if body.get("errors") and body["status"] == 422:
        body["detail"] = "；".join(f"{e['field']}：{e['message']}" for e in body["errors"][:5])
    return body


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
    body = problem_body(status, detail, instance=instance, **kwargs)
    headers = dict(headers or {})
    if prefers_chinese(request):
        body = _in_chinese(body)
        headers["Content-Language"] = "zh-CN"
    else:
        headers["Content-Language"] = "en"
    headers["Vary"] = "Accept-Language"
    for error in body.get("errors") or []:
        error.pop("type", None)  # used for the translation only
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


_ALTERNATIVES = re.compile(r"^\^\(([\w|-]+)\)\$$")


def _location(loc: tuple[Any, ...] | list[Any], body: Any = None) -> str:
    """The field as the client sent it: a body path follows the sent JSON, so the tags pydantic
    adds for a union member (``body.dibao.per_capita_income``) are left out."""
    parts = list(loc)
    if parts[:1] == ["body"] and isinstance(body, dict | list):  # JSON (form data keeps its names)
        kept: list[Any] = ["body"]
        node = body
        for index, part in enumerate(parts[1:], start=1):
            if (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
            ):
                node = node[part]
            elif isinstance(node, dict) and index == len(parts) - 1:
                pass  # a field the client left out: named, not sent
            else:
                continue  # a union member's tag or name, not a field of the request
            kept.append(part)
        parts = kept
    return ".".join(str(part) for part in parts)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    errors = []
    body = getattr(exc, "body", None)
    for error in exc.errors():
        message = str(error.get("msg", "invalid"))
        message = message.removeprefix("Value error, ")
        kind = str(error.get("type", ""))
        entry: dict[str, Any] = {"field": _location(error.get("loc", ()), body), "type": kind}
        context = error.get("ctx") or {}
        allowed = _allowed_values(kind, context)
        if allowed is not None:
            entry["allowed"] = allowed
            if kind == "union_tag_invalid":  # the field that selects the kind, as the client sent it
                entry["field"] += "." + str(context.get("discriminator", "")).strip("'")
            message = "must be one of: " + ", ".join(allowed)
        entry["message"] = message
        errors.append(entry)
    return errors


def _allowed_values(kind: str, context: dict[str, Any]) -> list[str] | None:
    """The allowed values of an enum-like field, instead of a pattern or pydantic's prose."""
    if kind == "string_pattern_mismatch":
        match = _ALTERNATIVES.match(str(context.get("pattern", "")))
        return match.group(1).split("|") if match else None
    if kind in ("literal_error", "enum"):
        return re.findall(r"'([^']*)'", str(context.get("expected", ""))) or None
    if kind == "union_tag_invalid":
        return re.findall(r"'([^']*)'", str(context.get("expected_tags", ""))) or None
    return None


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
    malformed = [e for e in exc.errors() if e.get("type") == "json_invalid"]
    if malformed:
        # not JSON at all: a bad request (400), not an invalid value (422)
        where = malformed[0].get("loc", ("body", 0))[-1]
        reason = (malformed[0].get("ctx") or {}).get("error", "invalid JSON")
        return problem_response(
            400,
            f"The request body is not well-formed JSON ({reason} at character {where}).",
            request=request,
            type_suffix="malformed-json",
            errors=[{"field": "body", "message": f"{reason} at character {where}", "type": "json_invalid"}],
        )
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
                "properties": {
                    "field": {"type": "string", "description": "Where: body.x.y, query.x, path.x, header.x."},
                    "message": {"type": "string"},
                    "allowed": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "The values the field takes, when it takes only listed ones.",
                    },
                },
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
