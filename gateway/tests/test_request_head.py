"""Limits on the request head (gateway.server): headers that trickle get 408, too many or
too large headers 431; ordinary and kept-alive requests pass."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from gateway import server
from gateway.server import GuardedHttpToolsProtocol, HeadLimits
from platformctl.testing import Platform, free_port


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
async def guarded() -> AsyncIterator[int]:
    server.configure(HeadLimits(timeout_seconds=0.5, max_count=20, max_bytes=2048))
    port = free_port()
    config = uvicorn.Config(
        hello, host="127.0.0.1", port=port, log_level="warning", http=GuardedHttpToolsProtocol
    )
    instance = uvicorn.Server(config)
    task = asyncio.create_task(instance.serve())
    while not instance.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    yield port
    instance.should_exit = True
    await task
    server.configure(HeadLimits())


async def exchange(port: int, *parts: bytes, pause: float = 0.0) -> bytes:
    """Send ``parts`` (``pause`` apart, until the server answers) and return its answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = asyncio.create_task(reader.read(65_536))
    try:
        for part in parts:
            if answer.done():
                break
            try:
                writer.write(part)
                await writer.drain()
            except OSError:
                break
            if pause:
                await asyncio.sleep(pause)
        return await asyncio.wait_for(answer, timeout=5)
    finally:
        writer.close()


async def test_trickled_headers_get_408_and_the_connection_closes(guarded: int) -> None:
    started = time.monotonic()
    parts = [b"GET / HTTP/1.1\r\nHost: gateway\r\n", *[b"X" for _ in range(40)]]
    answer = await exchange(guarded, *parts, pause=0.1)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert b"application/problem+json" in answer
    assert time.monotonic() - started < 4.0  # cut off, not served after the whole trickle


async def test_too_many_or_too_large_headers_get_431(guarded: int) -> None:
    many = b"".join(b"X-Filler-%d: 1\r\n" % n for n in range(30))
    answer = await exchange(guarded, b"GET / HTTP/1.1\r\nHost: gateway\r\n" + many + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431"), answer
    large = b"X-Large: " + b"a" * 3000 + b"\r\n"
    answer = await exchange(guarded, b"GET / HTTP/1.1\r\nHost: gateway\r\n" + large + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431"), answer
    answer = await exchange(guarded, b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\nHost: gateway\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 414"), answer


async def test_ordinary_and_kept_alive_requests_pass(guarded: int) -> None:
    request = b"GET / HTTP/1.1\r\nHost: gateway\r\n\r\n"
    reader, writer = await asyncio.open_connection("127.0.0.1", guarded)
    try:
        for _ in range(2):
            writer.write(request)
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            assert head.startswith(b"HTTP/1.1 200"), head
            assert await reader.readexactly(2) == b"ok"
            await asyncio.sleep(0.7)  # idle longer than the head timeout between requests is fine
    finally:
        writer.close()


async def test_the_platform_gateway_refuses_too_many_headers(platform: Platform) -> None:
    address = urlsplit(platform.url)
    many = b"".join(b"X-Filler-%d: 1\r\n" % n for n in range(150))
    request = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n" + many + b"\r\n"
    answer = await exchange(address.port or 80, request)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
