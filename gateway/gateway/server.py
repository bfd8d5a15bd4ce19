"""The gateway's HTTP/1.1 server protocol: uvicorn's httptools protocol with limits on the
request head, which an ASGI app cannot enforce (it is called once the head has arrived).

- the request line and headers must arrive within ``header_timeout_seconds`` of the
  connection opening (or of the first byte of a following request on a kept-alive
  connection), else 408 and the connection is closed: a client cannot hold a connection
  by trickling its headers;
- at most ``max_header_count`` headers and ``max_header_bytes`` of request line and
  headers, else 431 Request Header Fields Too Large (RFC 6585) and the connection is closed.

Run the gateway with ``--http gateway.server:GuardedHttpToolsProtocol``; the limits come
from :class:`gateway.config.GatewaySettings` (set by the app factory before uvicorn serves).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from shared.problems import PROBLEM_MEDIA_TYPE, problem_body


@dataclass(frozen=True)
class HeadLimits:
    timeout_seconds: float = 10.0
    max_count: int = 100
    max_bytes: int = 16 * 1024


LIMITS = HeadLimits()


def configure(limits: HeadLimits) -> None:
    global LIMITS
    LIMITS = limits


def _raw_problem(status: int, reason: str, detail: str) -> bytes:
    payload = json.dumps(problem_body(status, detail), ensure_ascii=False).encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\n"
        f"content-type: {PROBLEM_MEDIA_TYPE}\r\n"
        f"content-length: {len(payload)}\r\n"
        "connection: close\r\n\r\n"
    ).encode() + payload


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits = LIMITS
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._head_count = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)

    def _arm(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self._limits.timeout_seconds, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        self._refuse(408, "Request Timeout", "The request's headers did not arrive in time.")

    def _refuse(self, status: int, reason: str, detail: str) -> None:
        self._refused = True
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(_raw_problem(status, reason, detail))
            self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._head_count = 0
        self._arm()

    def on_url(self, url: bytes) -> None:
        if self._refused:
            return
        self._head_bytes += len(url)
        if self._head_bytes > self._limits.max_bytes:
            self._refuse(
                414, "URI Too Long", f"The request line is longer than {self._limits.max_bytes} bytes."
            )
            return
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._refused:
            return
        self._head_count += 1
        self._head_bytes += len(name) + len(value) + 4
        if self._head_count > self._limits.max_count or self._head_bytes > self._limits.max_bytes:
            self._refuse(
                431,
                "Request Header Fields Too Large",
                f"At most {self._limits.max_count} headers and {self._limits.max_bytes} bytes of "
                "request line and headers.",
            )
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._disarm()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._refused:
            return
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        super().on_message_complete()
