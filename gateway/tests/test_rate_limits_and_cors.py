"""Rate limiters (memory and Redis) and CORS of the gateway, without the rest of the platform."""

from __future__ import annotations

import socket
import uuid

import httpx
import pytest

from gateway.config import GatewaySettings
from gateway.main import build_gateway
from gateway.openapi_merge import merge_openapi
from gateway.proxy.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


async def exhaust(limiter: RateLimiter) -> list[bool]:
    key = f"test:{uuid.uuid4().hex}"
    return [(await limiter.hit(key, 3)).allowed for _ in range(5)]


async def test_memory_limiter_counts_per_key() -> None:
    limiter = MemoryRateLimiter()
    assert await exhaust(limiter) == [True, True, True, False, False]
    verdict = await limiter.hit(f"other:{uuid.uuid4().hex}", 3)
    assert verdict.allowed
    assert 1 <= verdict.retry_after <= 61


@pytest.mark.skipif(not redis_reachable(), reason="no Redis on 127.0.0.1:6379 (REDIS_URL deployments only)")
async def test_redis_limiter_shares_counts_between_replicas() -> None:
    first, second = RedisRateLimiter(REDIS_URL), RedisRateLimiter(REDIS_URL)
    key = f"test:{uuid.uuid4().hex}"
    try:
        allowed = [(await limiter.hit(key, 3)).allowed for limiter in (first, second, first, second)]
        assert allowed == [True, True, True, False]
    finally:
        await first.close()
        await second.close()


async def test_cors_preflight_for_configured_origins(migrated_database: str) -> None:
    settings = GatewaySettings(database_url=migrated_database, cors_origins=["https://portal.example.gov.cn"])
    app, _ = build_gateway(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway.test"
    ) as client:
        allowed = await client.options(
            "/auth/token",
            headers={"Origin": "https://portal.example.gov.cn", "Access-Control-Request-Method": "POST"},
        )
        assert allowed.headers["access-control-allow-origin"] == "https://portal.example.gov.cn"
        refused = await client.options(
            "/auth/token",
            headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in refused.headers


def test_merge_renames_colliding_schemas_and_keeps_problem_once() -> None:
    problem = {"type": "object"}
    service = {
        "paths": {
            "/api/welfare/v1/x": {
                "get": {
                    "operationId": "x-get",
                    "responses": {
                        "200": {
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}
                        }
                    },
                }
            },
            "/healthz": {"get": {}},
        },
        "components": {
            "schemas": {
                "Page": {
                    "title": "Page",
                    "discriminator": {"propertyName": "kind", "mapping": {"a": "#/components/schemas/Page"}},
                },
                "Problem": problem,
            }
        },
    }
    merged = merge_openapi(
        {"paths": {}, "components": {"schemas": {"Problem": problem}}}, {"welfare": service}
    )
    assert "/healthz" not in merged["paths"]
    operation = merged["paths"]["/api/welfare/v1/x"]["get"]
    assert operation["operationId"] == "welfare-x-get"
    assert (
        operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        == "#/components/schemas/WelfarePage"
    )
    assert set(merged["components"]["schemas"]) == {"Problem", "WelfarePage"}
    mapping = merged["components"]["schemas"]["WelfarePage"]["discriminator"]["mapping"]
    assert mapping == {"a": "#/components/schemas/WelfarePage"}
