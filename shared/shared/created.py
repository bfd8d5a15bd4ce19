"""``Location`` on every ``201 Created``: where to read what was made (RFC 9110 §10.2.2).

An operation may name it itself (``write.respond(..., location=...)``). Otherwise it is
derived the way the OpenAPI links are (``shared.openapi_links``): ``POST /households``
made what ``GET /households/{household_id}`` reads, and the answer's ``household_id`` (or
``id``) fills the new parameter. A 201 without such a read keeps no Location.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_cache: dict[tuple[int, str], str | None] = {}
SAME = ""
"""The read is the create's own path: a one-per-parent record (a subject's self-evaluation)."""
_LIST_PROPERTIES = frozenset({"items", "total"})


def _read_parameter(app: Any, template: str) -> str | None:
    """The new path parameter of a GET route one segment below ``template``; :data:`SAME` when
    the create's own path reads one record (not a list); None when nothing reads what it made."""
    key = (id(app), template)
    if key not in _cache:
        below = re.compile(re.escape(template) + r"/{(\w+)(?::\w+)?}")
        # the app's own OpenAPI paths: every route, however its routers were included
        document = app.openapi() if hasattr(app, "openapi") else {}
        paths = document.get("paths", {})
        found = next(
            (
                match.group(1)
                for path, item in paths.items()
                if "get" in item and (match := below.fullmatch(path))
            ),
            None,
        )
        if (
            found is None
            and "get" in paths.get(template, {})
            and not _is_list(document, paths[template]["get"])
        ):
            found = SAME
        _cache[key] = found
    return _cache[key]


def _is_list(document: dict[str, Any], operation: dict[str, Any]) -> bool:
    answer = operation.get("responses", {}).get("200", {})
    schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
    while "$ref" in schema:
        schema = document.get("components", {}).get("schemas", {}).get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema.get("type") == "array" or set(schema.get("properties", {})) >= _LIST_PROPERTIES


class CreatedLocationMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_with_location(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                has_location = any(name.lower() == b"location" for name, _ in message.get("headers", []))
                if message["status"] != 201 or has_location:
                    await send(message)
                    return
                start = message
                return
            if start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            location = _location(scope, body)
            if location is not None:
                start["headers"] = [*start.get("headers", []), (b"location", location.encode("latin-1"))]
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, send_with_location)


def _location(scope: Scope, body: bytes) -> str | None:
    route = scope.get("route")
    template = getattr(route, "path", None)
    if template is None:
        return None
    parameter = _read_parameter(scope.get("app"), template)
    root = scope.get("root_path", "")
    if parameter is None:
        return None
    # the path as it came on the wire (percent-encoded), not the decoded one
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else quote(scope["path"])
    if parameter == SAME:
        return f"{root}{path}"
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    value = answer.get(parameter)
    if value is None and parameter.endswith("_id"):
        value = answer.get("id")
    if value is None or isinstance(value, dict | list):
        return None
    return f"{root}{path.rstrip('/')}/{quote(str(value), safe='')}"
