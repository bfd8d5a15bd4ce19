"""What the gateway answers itself: 404/413/422/429/503/504, request ids, the merged OpenAPI."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from gateway.config import GatewaySettings
from gateway.main import build_gateway
from platformctl.testing import Platform, assert_problem, free_port

AUDIT = "/api/welfare/v1/audit-log"


async def test_unknown_service_and_path_are_404_problems(platform: Platform) -> None:
    async with platform.client(headers=await platform.admin_headers()) as client:
        body = assert_problem(await client.get("/api/no-such-service/v1/x"), 404)
        assert "no-such-service" in body["detail"]
        assert_problem(await client.get("/api/welfare/v1/no-such-thing"), 404)
        assert_problem(await client.get("/no-such-page"), 404)


async def test_oversize_body_is_413_before_reaching_the_service(platform: Platform) -> None:
    too_big = b"x" * (10 * 1024 * 1024 + 1)
    async with platform.client(headers=await platform.admin_headers()) as client:
        response = await client.post(AUDIT, content=too_big, headers={"Content-Type": "application/json"})
        assert_problem(response, 413)
        own = await client.post("/auth/token", content=too_big)
        assert_problem(own, 413)


async def test_invalid_input_is_422_with_field_errors(platform: Platform) -> None:
    async with platform.client(headers=await platform.admin_headers()) as client:
        response = await client.post(
            "/auth/admin/accounts",
            json={
                "username": "x",
                "display_name": "",
                "password": "short",
                "scopes": ["nope:read"],
            },
        )
    body = assert_problem(response, 422)
    fields = {error["field"] for error in body["errors"]}
    assert {"body.username", "body.password", "body.scopes", "body.display_name"} <= fields
    async with platform.client(headers=await platform.admin_headers()) as client:
        page = await client.get(AUDIT, params={"limit": 100_000})
    body = assert_problem(page, 422)
    assert body["errors"][0]["field"] == "query.limit"


async def test_rate_limit_per_client_answers_429_with_retry_after(platform: Platform) -> None:
    client_id = f"limited-{uuid.uuid4().hex[:8]}"
    async with platform.client(headers=await platform.admin_headers()) as client:
        created = await client.post(
            "/auth/admin/clients",
            json={
                "client_id": client_id,
                "name": "Limited",
                "scopes": ["welfare:admin"],
                "jurisdictions": ["211100"],
                "rate_limit_per_minute": 3,
            },
        )
        assert created.status_code == 201
        token = (
            await client.post(
                "/auth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": created.json()["client_secret"],
                },
            )
        ).json()["access_token"]
    async with platform.client(headers={"Authorization": f"Bearer {token}"}) as client:
        # the gateway re-reads client limits every second in tests; on a busy machine later:
        # probe until its RateLimit-Policy names the client's quota (each probe counts)
        for _ in range(60):
            probe = await client.get(AUDIT)
            if probe.headers.get("RateLimit-Policy", "").startswith('"per-minute";q=3;'):
                break
            await asyncio.sleep(0.5)
        else:
            raise AssertionError(f"the client's limit was not applied: {probe.headers}")
        remaining = int(probe.headers["RateLimit"].split("r=")[1].split(";")[0])
        statuses = [(await client.get(AUDIT)).status_code for _ in range(remaining + 2)]
        response = await client.get(AUDIT)
        assert statuses == [200] * remaining + [429, 429], (probe.headers, statuses)
        assert_problem(response, 429)
        assert int(response.headers["Retry-After"]) >= 1
    # the limit is per client: the admin is not affected
    async with platform.client(headers=await platform.admin_headers()) as client:
        assert (await client.get(AUDIT)).status_code == 200


async def test_request_id_travels_end_to_end(platform: Platform) -> None:
    request_id = f"trace-{uuid.uuid4().hex}"
    async with platform.client(headers=await platform.admin_headers()) as client:
        response = await client.get("/api/welfare/v1/no-such-thing", headers={"X-Request-ID": request_id})
        assert response.headers["X-Request-ID"] == request_id
        # the problem body is written by the service itself: it saw the same id
        assert response.json()["request_id"] == request_id
        generated = await client.get(AUDIT)
        assert len(generated.headers["X-Request-ID"]) >= 16
        assert generated.headers.get_list("date")
        assert len(generated.headers.get_list("date")) == 1


async def test_merged_openapi_lists_every_service(platform: Platform) -> None:
    async with platform.client() as client:
        document = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    paths = document["paths"]
    assert "/auth/token" in paths
    assert "/auth/admin/accounts" in paths
    for service in ("appraisal", "welfare", "eldercare", "renewal"):
        assert f"/api/{service}/v1/audit-log" in paths, service
    assert "x-unavailable-services" not in document
    operation_ids = [
        operation["operationId"]
        for operations in paths.values()
        for operation in operations.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    assert len(operation_ids) == len(set(operation_ids))
    assert "Problem" in document["components"]["schemas"]
    assert "WelfareAuditRecord" in document["components"]["schemas"]


async def test_readyz_reports_every_component(platform: Platform) -> None:
    async with platform.client() as client:
        body = (await client.get("/readyz")).json()
    assert body["status"] == "ok"
    assert set(body["components"]) == {"database", "appraisal", "welfare", "eldercare", "renewal"}


@pytest.fixture
async def slow_service() -> AsyncIterator[str]:
    """A service that takes 5 s to answer, for the timeout path (let go at the end: the server's
    stop waits for the requests under way)."""
    app = FastAPI()
    released = asyncio.Event()

    @app.get("/api/appraisal/v1/slow")
    async def slow() -> dict[str, str]:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(released.wait(), 5)
        return {"status": "late"}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    released.set()
    server.should_exit = True
    await task


async def test_upstream_down_is_503_and_slow_is_504(
    migrated_database: str, platform: Platform, slow_service: str
) -> None:
    settings = GatewaySettings(
        database_url=migrated_database,
        welfare_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        appraisal_url=slow_service,
        upstream_timeout_seconds=0.5,
    )
    app, api = build_gateway(settings)
    headers = await platform.admin_headers()
    async with api.router.lifespan_context(api):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            down = await client.get(AUDIT, headers=headers)
            assert_problem(down, 503)
            slow = await client.get("/api/appraisal/v1/slow", headers=headers)
            assert_problem(slow, 504)
            ready = await client.get("/readyz")
            body = assert_problem(ready, 503)
            assert body["components"]["welfare"].startswith("down")


async def test_a_made_up_x_forwarded_for_does_not_escape_the_sign_in_throttle(platform: Platform) -> None:
    """With no trusted proxies, the gateway's uvicorn believes no X-Forwarded-For: each attempt
    claiming another address still counts against the caller's own (10 free failures per name
    and address, then lock-outs; the per-name cap, 30, lies far beyond)."""
    username = f"throttled-{uuid.uuid4().hex[:8]}"
    await platform.account(username, scopes=["welfare:read"], jurisdictions=["211102"])
    statuses = []
    async with platform.client() as client:
        for n in range(12):
            answer = await client.post(
                "/auth/token",
                data={"grant_type": "password", "username": username, "password": f"guess-{n}"},
                headers={"X-Forwarded-For": f"192.0.2.{n + 1}"},
            )
            statuses.append(answer.status_code)
    assert statuses == [400] * 11 + [429], statuses


def test_the_gateway_believes_forwarded_headers_only_from_trusted_proxies() -> None:
    from platformctl.supervisor import Child, gateway_proxy_options

    assert gateway_proxy_options({}) == ["--no-proxy-headers"]
    assert gateway_proxy_options({"GATEWAY_TRUSTED_PROXIES": "[]"}) == ["--no-proxy-headers"]
    assert gateway_proxy_options({"GATEWAY_TRUSTED_PROXIES": '["10.0.0.0/8", "192.0.2.7"]'}) == [
        "--proxy-headers",
        "--forwarded-allow-ips",
        "10.0.0.0/8,192.0.2.7",
    ]
    assert "--no-proxy-headers" in Child("gateway", 8000, "127.0.0.1", env={}).command()
    trusted = Child("gateway", 8000, "127.0.0.1", env={"GATEWAY_TRUSTED_PROXIES": '["10.0.0.0/8"]'})
    assert trusted.command()[-2:] == ["--forwarded-allow-ips", "10.0.0.0/8"]


async def test_a_trailing_slash_is_a_404_problem_and_no_internal_address_leaks(platform: Platform) -> None:
    async with platform.client(headers=await platform.admin_headers()) as client:
        for path in ("/api/welfare/v1/households/", "/api/eldercare/v1/audit-log/", "/api/renewal/v1/plans/"):
            answer = await client.get(path)
            assert_problem(answer, 404)
            assert "location" not in answer.headers, answer.headers


def test_a_service_location_never_names_an_internal_address() -> None:
    from gateway.proxy.forwarder import _public_locations

    answered = _public_locations(
        [
            (b"location", b"http://127.0.0.1:8002/api/welfare/v1/households?limit=5"),
            (b"content-location", b"//welfare.internal:8002/api/welfare/v1/jobs/1"),
            (b"location", b"http://10.0.0.5:8002/"),
            (b"location", b"/api/welfare/v1/jobs/2"),
            (b"etag", b'"x"'),
        ]
    )
    assert answered == [
        (b"location", b"/api/welfare/v1/households?limit=5"),
        (b"content-location", b"/api/welfare/v1/jobs/1"),
        (b"location", b"/api/welfare/v1/jobs/2"),
        (b"etag", b'"x"'),
    ]
