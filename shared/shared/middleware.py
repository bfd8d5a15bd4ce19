"""Pure-ASGI middleware: request id, access log, request metrics.

One pass per request: accept or generate ``X-Request-ID``, make it visible to logs,
return it on the response, count the request and time it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.citizen_ids import CITIZEN_ID
from shared.logs import request_id_var

REQUEST_ID_HEADER = b"x-request-id"
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
    def __init__(self, app: ASGIApp, service: str, *, log_requests: bool = True) -> None:
        self.app = app
        self.service = service
        self.log_requests = log_requests

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
                headers = [h for h in message.get("headers", []) if h[0] != REQUEST_ID_HEADER]
                headers.append((REQUEST_ID_HEADER, request_id.encode("ascii")))
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
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                }
                if client_id := scope["state"].get("client_id"):  # the gateway's proxy sets it
                    fields["client_id"] = client_id
                access_log.info("request", extra=fields)
            request_id_var.reset(token)
