"""Pure-ASGI middleware: request id, access log, request metrics.

One pass per request: accept or generate ``X-Request-ID``, make it visible to logs,
return it on the response with the trace id (``X-Trace-ID``), count the request and time it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import BEARER_CHALLENGE, TokenVerifier
from shared.citizen_ids import CITIZEN_ID
from shared.errors import Unauthorized
from shared.logs import request_id_var
from shared.problems import problem_response
from shared.tracing import TRACE_ID_HEADER, current_trace_id

REQUEST_ID_HEADER = b"x-request-id"
ROUTE_HEADER = b"x-route-template"
"""A service tells the gateway which of its routes answered (``/api/welfare/v1/households/{household_id}``),
so that the gateway counts proxied requests per route template; the gateway drops it from the answer."""
_VALID_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("access")

REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def incoming_request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is a plain token; otherwise (or when it has the shape
    of a citizen ID number, which must not travel through logs and answers) a new one."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER and _VALID_REQUEST_ID.match(value):
            request_id = str(value.decode("ascii"))
            if not CITIZEN_ID.match(request_id.upper()):
                return request_id
    return uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, service: str, *, log_requests: bool = True, tell_route: bool = False
    ) -> None:
        self.app = app
        self.service = service
        self.log_requests = log_requests
        self.tell_route = tell_route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope)
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    h
                    for h in message.get("headers", [])
                    if h[0] not in (REQUEST_ID_HEADER, TRACE_ID_HEADER, ROUTE_HEADER)
                ]
                headers.append((REQUEST_ID_HEADER, request_id.encode("ascii")))
                template = getattr(scope.get("route"), "path", None)
                if self.tell_route and isinstance(template, str):
                    headers.append((ROUTE_HEADER, template.encode("latin-1")))
                trace_id = current_trace_id()
                if trace_id is not None:  # the W3C trace this answer belongs to (shared.tracing)
                    headers.append((TRACE_ID_HEADER, trace_id.encode("ascii")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            REQUESTS.labels(self.service, scope["method"], template, str(status)).inc()
            LATENCY.labels(self.service, scope["method"], template).observe(elapsed)
            if self.log_requests:
                fields = {
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                }
                if client_id := scope["state"].get("client_id"):  # the gateway's proxy sets it
                    fields["client_id"] = client_id
                access_log.info("request", extra=fields)
            request_id_var.reset(token)


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyGuard:
    """A service refuses a request body before reading it whole: without a valid bearer token
    (401, the token checked here, before the framework reads the body) or larger than
    ``max_bytes`` (413: by ``Content-Length`` at once, a chunked body as soon as it passes).

    The verified principal is left in the request state, so the route's own token check
    does not verify it twice.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, verifier: Callable[[], TokenVerifier]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length in (None, b"0") and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body to guard
            return
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("A bearer token is required.")
            principal = await self.verifier().verify(token.strip())
        except Unauthorized as exc:
            response = problem_response(401, exc.detail, headers=BEARER_CHALLENGE)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            status = 413 if length.isdigit() else 400
            await problem_response(status, self._too_large() if status == 413 else "Bad Content-Length.")(
                scope, receive, send
            )
            return
        received = 0
        refused = False
        started = False

        async def counted() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    if not started:
                        await problem_response(413, self._too_large())(scope, receive, guarded_send)
                    return {"type": "http.disconnect"}  # the route stops reading; its answer is dropped
            return message

        async def guarded_send(message: Message) -> None:
            await send(message)

        async def app_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, app_send)
        except Exception:
            if not refused:
                raise
            # the route failed on the body it was refused (a disconnect); the 413 is answered

    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."
