"""``Location`` on every ``201 Created``: where to read what was made (RFC 9110 §10.2.2).

An operation may name it itself (``write.respond(..., location=...)``). Otherwise it is
derived the way the OpenAPI links are (``shared.openapi_links``): ``POST /households``
made what ``GET /households/{household_id}`` reads, and the answer's ``household_id`` (or
``id``) fills the new parameter. Without a read of the one record, Location names where the
record is read back: the list at the create's own path (``POST /years/{year}/indicators`` →
``GET /years/{year}/indicators``), else the nearest record above it that shows it
(``POST /enrolments/{id}/income-assessments`` → ``GET /enrolments/{id}``).
"""

from __future__ import annotations

import json
import re
import weakref
from typing import Any
from urllib.parse import quote

from fastapi import params
from fastapi.dependencies.utils import get_flat_params
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAME = ""
"""The read is the create's own path: a one-per-parent record (a subject's self-evaluation), or
the list the new record is read back in."""
UP = "../"
"""Prefix of the answer "the read is this many segments up" (``../../`` is two)."""

# per application: the answers already worked out, per create's path
_answers: weakref.WeakKeyDictionary[Any, dict[str, str | None]] = weakref.WeakKeyDictionary()


def reads(app: Any) -> dict[str, bool]:
    """The app's GET operations as its OpenAPI document lists them (every route, however its
    routers were included; none left out of the schema): path → whether the read needs a query
    parameter. Read off the routing table: building the OpenAPI document for it would cost an
    application about half a CPU-second at its first creation."""
    found: dict[str, bool] = {}
    for route in iter_route_contexts(getattr(app, "routes", [])):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        if route.path_format is not None and "GET" in (route.methods or ()):
            found[route.path_format] = any(
                isinstance(field.field_info, params.Query) and field.field_info.is_required()
                for field in get_flat_params(route.dependant)
            )
    return found


def _read_parameter(app: Any, template: str) -> str | None:
    """The new path parameter of a GET route one segment below ``template``; :data:`SAME` when
    the create's own path is read (one record, or the list holding it); :data:`UP` times the
    number of segments up to the nearest read above; None when nothing reads what it made."""
    answers = _answers.setdefault(app, {})
    if template not in answers:
        paths = reads(app)  # once per create's path and app
        below = re.compile(re.escape(template) + r"/{(\w+)(?::\w+)?}")
        found = next((match.group(1) for path in paths if (match := below.fullmatch(path))), None)
        if found is None and template in paths:
            found = SAME
        parent = template
        while found is None and parent.count("/") > 1:
            parent = parent.rsplit("/", 1)[0]
            if parent in paths and not paths[parent]:  # a Location must work as it is
                found = UP * (template.count("/") - parent.count("/"))
        answers[template] = found
    return answers[template]


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
    if parameter.startswith(UP):
        above: str = path.rstrip("/").rsplit("/", parameter.count(UP))[0]
        return f"{root}{above}"
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
