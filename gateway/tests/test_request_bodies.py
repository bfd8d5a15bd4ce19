"""Request bodies at the gateway: a trickle is cut off (408) and the service's connection
released; an over-limit chunked body is 413; limits per route. In-process gateway in front
of a small service of the test's own."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from gateway.config import GatewaySettings
from gateway.main import build_gateway
from platformctl.testing import ADMIN_PASSWORD, ADMIN_USERNAME, assert_problem, free_port


class Upstream:
    """Reads each request's body to its end and notes how each request ended."""

    def __init__(self) -> None:
        self.endings: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.endings.append("disconnected")
                return
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        self.endings.append("complete")
        payload = f'{{"received": {size}}}'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})


@pytest.fixture
async def upstream() -> AsyncIterator[tuple[str, Upstream]]:
    app = Upstream()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    await task


@contextlib.asynccontextmanager
async def gateway(database_url: str, service_url: str, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = GatewaySettings(
        database_url=database_url,
        appraisal_url=service_url,
        # the same first admin as every other test of the session (one is created when none exists)
        bootstrap_admin_username=ADMIN_USERNAME,
        bootstrap_admin_password=ADMIN_PASSWORD,
        **overrides,
    )
    app, api = build_gateway(settings)
    async with api.router.lifespan_context(api):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway.test", timeout=30
        ) as client:
            yield client


async def trickle(chunks: int, every: float) -> AsyncIterator[bytes]:
    for _ in range(chunks):
        yield b"x"
        await asyncio.sleep(every)


async def test_a_trickling_body_gets_408_and_the_service_connection_is_released(
    migrated_database: str, upstream: tuple[str, Upstream]
) -> None:
    url, service = upstream
    async with gateway(
        migrated_database, url, body_grace_seconds=0.5, min_body_rate_bytes_per_second=100
    ) as client:
        fast = await client.post("/api/appraisal/v1/echo", content=b"y" * 5000)
        assert fast.status_code == 200, fast.text
        slow = await client.post("/api/appraisal/v1/echo", content=trickle(100, 0.2))
        assert_problem(slow, 408)
        assert slow.headers["connection"] == "close"
    deadline = time.monotonic() + 5
    while service.endings[-1:] != ["disconnected"]:
        assert time.monotonic() < deadline, service.endings
        await asyncio.sleep(0.05)
    assert service.endings == ["complete", "disconnected"]


async def test_an_over_limit_chunked_body_is_413(
    migrated_database: str, upstream: tuple[str, Upstream]
) -> None:
    url, _ = upstream

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"z" * 1024

    async with gateway(migrated_database, url, max_body_bytes=4096) as client:
        response = await client.post("/api/appraisal/v1/echo", content=chunks())
        body = assert_problem(response, 413)
        assert "4096" in body["detail"]


async def test_body_limits_per_route(migrated_database: str, upstream: tuple[str, Upstream]) -> None:
    url, _ = upstream
    async with gateway(
        migrated_database,
        url,
        max_body_bytes=2048,
        route_body_limits={"/api/appraisal/v1/imports*": 16_384},
    ) as client:
        imported = await client.post("/api/appraisal/v1/imports/households", content=b"a" * 10_000)
        assert imported.status_code == 200, imported.text
        assert imported.json() == {"received": 10_000}
        assert_problem(await client.post("/api/appraisal/v1/imports/households", content=b"a" * 20_000), 413)
        assert_problem(await client.post("/api/appraisal/v1/echo", content=b"a" * 10_000), 413)
