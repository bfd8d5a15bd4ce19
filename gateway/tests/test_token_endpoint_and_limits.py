"""``/auth/token`` under attack: throttled per (name, address) with a per-name cap, the
hashing queue bounded, answers alike for unknown and known names, and OAuth2 client
authentication with HTTP Basic. The gateway runs in-process against the test database."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from gateway.config import GatewaySettings
from gateway.iam.throttle import Limit, MemoryAttempts, RedisAttempts, SignInThrottle
from gateway.main import build_gateway
from platformctl.testing import ADMIN_PASSWORD, ADMIN_USERNAME, free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
PASSWORD = "a-long-test-password"


@contextlib.asynccontextmanager
async def gateway(database_url: str, **overrides: Any) -> AsyncIterator[Any]:
    settings = GatewaySettings(
        database_url=database_url,
        bootstrap_admin_username=ADMIN_USERNAME,
        bootstrap_admin_password=ADMIN_PASSWORD,
        password_hash_memory_kib=8_192,
        password_hash_time_cost=1,
        **overrides,
    )
    app, api = build_gateway(settings)
    async with api.router.lifespan_context(api):
        yield app


def client(app: Any, address: str = "198.51.100.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40_000))
    return httpx.AsyncClient(transport=transport, base_url="http://gateway.test", timeout=30)


async def sign_in(http: httpx.AsyncClient, username: str, password: str, **headers: str) -> httpx.Response:
    return await http.post(
        "/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
        headers=headers,
    )


async def new_account(app: Any, *, scopes: list[str] | None = None) -> str:
    username = f"clerk-{uuid.uuid4().hex[:8]}"
    async with client(app, "127.0.0.1") as http:
        token = (await sign_in(http, ADMIN_USERNAME, ADMIN_PASSWORD)).json()["access_token"]
        created = await http.post(
            "/auth/admin/accounts",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "username": username,
                "display_name": username,
                "password": PASSWORD,
                "roles": ["staff"],
                "scopes": scopes or ["welfare:read"],
                "jurisdictions": ["211102"],
            },
        )
        assert created.status_code == 201, created.text
    return username


async def test_guessing_is_cut_off_before_hashing(migrated_database: str) -> None:
    async with gateway(
        migrated_database, signin_failures_per_address=3, signin_lockout_base_seconds=60
    ) as app:
        victim = await new_account(app)
        async with client(app) as http:
            answers = await asyncio.gather(*(sign_in(http, victim, f"guess-{n}") for n in range(20)))
            statuses = sorted(a.status_code for a in answers)
            # three free attempts and the one that starts the lock-out were checked; the rest never hashed
            assert statuses == [400] * 4 + [429] * 16, statuses
            throttled = next(a for a in answers if a.status_code == 429)
            assert throttled.headers["content-type"].startswith("application/problem+json")
            assert throttled.headers["cache-control"] == "no-store"
            assert 1 <= int(throttled.headers["retry-after"]) <= 60
            # the right password is refused too while locked: guessing cannot probe through
            assert (await sign_in(http, victim, PASSWORD)).status_code == 429


async def test_lock_outs_double_with_each_further_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1_000_000.0]
    monkeypatch.setattr("gateway.iam.throttle.time.time", lambda: clock[0])
    store = MemoryAttempts()
    limit = Limit(free=2, base_seconds=1, max_seconds=8, window_seconds=900)
    waits = []
    for _ in range(7):
        assert await store.attempt("pair", limit) == 0  # allowed: the lock-out of the last one has passed
        waits.append(await store.attempt("pair", limit))  # at once again: locked
        clock[0] += max(waits[-1], 0) + 0.01
    assert waits == pytest.approx([0, 1, 2, 4, 8, 8, 8])


async def test_unknown_and_known_names_get_the_same_answers(migrated_database: str) -> None:
    async with gateway(
        migrated_database, signin_failures_per_address=2, signin_lockout_base_seconds=60
    ) as app:
        known = await new_account(app)
        unknown = f"nobody-{uuid.uuid4().hex[:8]}"
        async with client(app) as http:
            for_known = [await sign_in(http, known, f"wrong-{n}") for n in range(5)]
            for_unknown = [await sign_in(http, unknown, f"wrong-{n}") for n in range(5)]
    assert (
        [a.status_code for a in for_known]
        == [a.status_code for a in for_unknown]
        == [400, 400, 400, 429, 429]
    )
    for a, b in zip(for_known, for_unknown, strict=True):
        assert a.json()["detail"] == b.json()["detail"]
        assert {k: v for k, v in a.json().items() if k != "request_id"} == {
            k: v for k, v in b.json().items() if k != "request_id"
        }


async def test_colleagues_behind_the_same_address_still_sign_in(migrated_database: str) -> None:
    async with gateway(
        migrated_database, signin_failures_per_address=2, signin_lockout_base_seconds=60
    ) as app:
        typist, colleague = await new_account(app), await new_account(app)
        async with client(app, "203.0.113.10") as office, client(app, "203.0.113.99") as home:
            for n in range(6):
                await sign_in(office, typist, f"typo-{n}")
            assert (await sign_in(office, typist, PASSWORD)).status_code == 429
            assert (await sign_in(office, colleague, PASSWORD)).status_code == 200  # same NAT address
            assert (await sign_in(home, typist, PASSWORD)).status_code == 200  # same clerk elsewhere


async def test_the_per_name_cap_stops_guessing_from_many_addresses(migrated_database: str) -> None:
    async with gateway(
        migrated_database,
        signin_failures_per_address=100,
        signin_failures_per_name=4,
        signin_lockout_base_seconds=60,
    ) as app:
        victim = await new_account(app)
        statuses = []
        for n in range(10):
            async with client(app, f"192.0.2.{n + 1}") as http:
                statuses.append((await sign_in(http, victim, f"guess-{n}")).status_code)
        assert statuses == [400] * 5 + [429] * 5


async def test_forwarded_for_is_believed_only_from_trusted_proxies(migrated_database: str) -> None:
    async with gateway(
        migrated_database,
        signin_failures_per_address=1,
        signin_failures_per_name=100,
        signin_lockout_base_seconds=60,
    ) as app:
        victim = await new_account(app)
        async with client(app, "198.51.100.20") as http:
            answers = [
                await sign_in(http, victim, "x", **{"X-Forwarded-For": f"192.0.2.{n}"}) for n in range(1, 5)
            ]
        # a made-up X-Forwarded-For from an untrusted peer does not make a new address
        assert [a.status_code for a in answers] == [400, 400, 429, 429]
    async with gateway(
        migrated_database,
        signin_failures_per_address=1,
        signin_failures_per_name=100,
        signin_lockout_base_seconds=60,
        trusted_proxies=["10.0.0.0/8"],
    ) as app:
        victim = await new_account(app)
        async with client(app, "10.1.2.3") as proxy:
            spread = [
                await sign_in(proxy, victim, "x", **{"X-Forwarded-For": f"192.0.2.{n}, 10.9.9.9"})
                for n in range(1, 5)
            ]
            assert [a.status_code for a in spread] == [400] * 4  # four real addresses behind the proxy
            same = [await sign_in(proxy, victim, "x", **{"X-Forwarded-For": "192.0.2.1"}) for _ in range(2)]
            assert [a.status_code for a in same] == [400, 429]


async def test_failed_attempts_are_logged_without_the_password(
    migrated_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_guess = f"secret-guess-{uuid.uuid4().hex}"
    async with gateway(migrated_database) as app:
        victim = await new_account(app)
        capsys.readouterr()
        async with client(app, "198.51.100.77") as http:
            assert (await sign_in(http, victim, secret_guess)).status_code == 400
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    refused = [line for line in lines if line["message"] == "sign-in refused"]
    assert len(refused) == 1, lines
    assert refused[0]["username"] == victim
    assert refused[0]["client_ip"] == "198.51.100.77"
    assert refused[0]["request_id"]
    assert not any(secret_guess in str(line) for line in lines)


async def test_a_flood_does_not_hold_other_sign_ins(migrated_database: str) -> None:
    async with gateway(
        migrated_database,
        signin_failures_per_address=3,
        signin_failures_per_name=10,
        signin_lockout_base_seconds=60,
        password_hash_concurrency=1,
        trusted_proxies=["10.0.0.0/8"],
    ) as app:
        victim, other = await new_account(app), await new_account(app)
        async with client(app, "10.0.0.1") as proxy:
            flood = [
                sign_in(proxy, victim, f"guess-{n}", **{"X-Forwarded-For": f"192.0.2.{n % 200 + 1}"})
                for n in range(300)
            ]
            valid = sign_in(proxy, other, PASSWORD, **{"X-Forwarded-For": "203.0.113.5"})
            *answers, signed_in = await asyncio.gather(*flood, valid)
        statuses = [a.status_code for a in answers]
        assert set(statuses) == {400, 429}, statuses
        # the flooded name was hashed at most its cap (+1) times: the other sign-in waited for
        # at most those, not for 300
        assert statuses.count(400) <= 11
        assert signed_in.status_code == 200, signed_in.text


async def test_the_hashing_queue_is_bounded(migrated_database: str) -> None:
    async with gateway(
        migrated_database,
        password_hash_concurrency=1,
        password_hash_queue_limit=4,
        trusted_proxies=["10.0.0.0/8"],
    ) as app:
        async with client(app, "10.0.0.1") as proxy:
            answers = await asyncio.gather(
                *(
                    sign_in(proxy, f"nobody-{n}", "guess", **{"X-Forwarded-For": f"198.51.100.{n + 1}"})
                    for n in range(40)
                )
            )
        statuses = [a.status_code for a in answers]
        assert set(statuses) == {400, 503}, statuses
        busy = [a for a in answers if a.status_code == 503]
        assert all(a.headers["retry-after"] == "1" for a in busy)
        assert all(a.headers["content-type"].startswith("application/problem+json") for a in busy)
        assert statuses.count(400) < len(statuses)


async def test_client_secret_basic_and_no_store(migrated_database: str) -> None:
    async with gateway(migrated_database) as app, client(app, "127.0.0.1") as http:
        admin = (await sign_in(http, ADMIN_USERNAME, ADMIN_PASSWORD)).json()["access_token"]
        client_id = f"system:{uuid.uuid4().hex[:6]}".replace(":", "-")
        created = await http.post(
            "/auth/admin/clients",
            headers={"Authorization": f"Bearer {admin}"},
            json={"client_id": client_id, "name": "Exchange", "scopes": ["welfare:read"]},
        )
        secret = created.json()["client_secret"]

        def basic(user: str, password: str) -> dict[str, str]:
            raw = f"{user}:{password}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

        good = await http.post(
            "/auth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
        )
        assert good.status_code == 200, good.text
        assert good.headers["cache-control"] == "no-store"
        assert good.headers["pragma"] == "no-cache"
        bad = await http.post(
            "/auth/token", data={"grant_type": "client_credentials"}, headers=basic(client_id, "wrong")
        )
        assert bad.status_code == 401
        assert bad.headers["www-authenticate"].startswith("Basic")
        assert bad.json()["error"] == "invalid_client"
        assert bad.headers["cache-control"] == "no-store"
        both = await http.post(
            "/auth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
            headers=basic(client_id, secret),
        )
        assert both.status_code == 400
        assert both.json()["error"] == "invalid_request"
        garbled = await http.post(
            "/auth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic %%%"},
        )
        assert garbled.status_code == 401
        form = await sign_in(http, ADMIN_USERNAME, ADMIN_PASSWORD)
        assert form.headers["cache-control"] == "no-store"


def redis_reachable() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


async def test_memory_attempts_count_and_forgive() -> None:
    store = MemoryAttempts()
    limit = Limit(free=2, base_seconds=10, max_seconds=60, window_seconds=60)
    assert [await store.attempt("k", limit) for _ in range(3)] == [0, 0, 0]
    assert await store.attempt("k", limit) > 9
    await store.forgive("k", reset=True)
    assert await store.attempt("k", limit) == 0


@pytest.mark.skipif(not redis_reachable(), reason="no Redis on 127.0.0.1:6379 (REDIS_URL deployments only)")
async def test_redis_attempts_are_shared_between_replicas(migrated_database: str) -> None:
    settings = GatewaySettings(
        database_url=migrated_database,
        signin_failures_per_address=2,
        signin_lockout_base_seconds=60,
        redis_url=REDIS_URL,
    )
    first, second = SignInThrottle.from_settings(settings), SignInThrottle.from_settings(settings)
    assert isinstance(first.store, RedisAttempts)
    name = f"shared-{uuid.uuid4().hex}"
    try:
        waits = [await t.attempt(name, "192.0.2.1") for t in (first, second, first, second, first)]
        assert waits[:3] == [0, 0, 0]
        assert waits[3] >= 1
        assert waits[4] >= 1
        await second.succeeded(name, "192.0.2.1")
        assert await first.attempt(name, "192.0.2.1") == 0
    finally:
        await first.close()
        await second.close()


async def test_rate_limit_headers_and_a_changed_limit_bites_within_seconds(migrated_database: str) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with gateway(migrated_database, welfare_url=nowhere) as app, client(app, "127.0.0.1") as http:
        admin = {
            "Authorization": f"Bearer {(await sign_in(http, ADMIN_USERNAME, ADMIN_PASSWORD)).json()['access_token']}"
        }
        client_id = f"metered-{uuid.uuid4().hex[:8]}"
        created = await http.post(
            "/auth/admin/clients",
            headers=admin,
            json={
                "client_id": client_id,
                "name": "Metered",
                "scopes": ["welfare:read"],
                "rate_limit_per_minute": 1000,
            },
        )
        assert created.status_code == 201, created.text
        token = (
            await http.post(
                "/auth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, created.json()["client_secret"]),
            )
        ).json()["access_token"]
        caller = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 5
        while True:  # the gateway reads new clients' limits within seconds
            first = await http.get("/api/welfare/v1/households", headers=caller)
            if "q=1000" in first.headers.get("ratelimit-policy", "") or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert first.headers["ratelimit-policy"] == '"per-minute";q=1000;w=60'
        assert first.headers["ratelimit"].startswith('"per-minute";r=')
        etag = (await http.get(f"/auth/admin/clients/{client_id}", headers=admin)).headers["ETag"]
        lowered = await http.patch(
            f"/auth/admin/clients/{client_id}",
            headers={**admin, "If-Match": etag},
            json={"rate_limit_per_minute": 2},
        )
        assert lowered.status_code == 200, lowered.text
        deadline = time.monotonic() + 5
        while True:
            answer = await http.get("/api/welfare/v1/households", headers=caller)
            if answer.status_code == 429:
                break
            assert time.monotonic() < deadline, answer.headers.get("ratelimit-policy")
            await asyncio.sleep(0.2)
        assert answer.headers["ratelimit-policy"] == '"per-minute";q=2;w=60'
        assert answer.headers["ratelimit"].startswith('"per-minute";r=0;t=')
        assert int(answer.headers["retry-after"]) >= 1


async def test_refusals_and_upstream_errors_are_counted_and_logged_with_the_client(
    migrated_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    before_errors = (
        REGISTRY.get_sample_value("gateway_upstream_errors_total", {"service": "welfare", "status": "503"})
        or 0.0
    )
    before_limited = (
        REGISTRY.get_sample_value("gateway_refusals_total", {"service": "welfare", "reason": "rate_limited"})
        or 0.0
    )
    async with (
        gateway(migrated_database, welfare_url=nowhere, anonymous_rate_limit_per_minute=1) as app,
        client(app, "192.0.2.200") as http,
    ):
        token = (await sign_in(http, ADMIN_USERNAME, ADMIN_PASSWORD)).json()["access_token"]
        capsys.readouterr()
        down = await http.get("/api/welfare/v1/households", headers={"Authorization": f"Bearer {token}"})
        assert down.status_code == 503
        anonymous = [await http.get("/api/welfare/v1/households") for _ in range(2)]
        assert [a.status_code for a in anonymous] == [503, 429]
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    proxied = [line for line in lines if line.get("message") == "request" and line.get("status") == 503]
    assert proxied
    assert proxied[0]["client_id"] == f"sub:{ADMIN_USERNAME}"
    assert (
        REGISTRY.get_sample_value("gateway_upstream_errors_total", {"service": "welfare", "status": "503"})
        == before_errors + 2  # the admin's call and the first anonymous one
    )
    assert (
        REGISTRY.get_sample_value("gateway_refusals_total", {"service": "welfare", "reason": "rate_limited"})
        == before_limited + 1
    )
