"""Two gateways and two replicas of every service on one PostgreSQL and one Redis.

Replica set A (a gateway and the four services) and replica set B run side by side on the
test database, each gateway declared as one of two (``GATEWAY_REPLICAS=2``) with the
machine's Redis; the test client spreads its requests over both gateways. What must hold
with several replicas:

- a client's rate limit is one limit, whichever gateway counts a request;
- one ``Idempotency-Key`` sent to both gateways at once makes one record;
- a recalculation asked of both replica sets at once runs once and books once;
- a new signing key made at one gateway is accepted at every service replica within the
  gateways' refresh interval.

(A job whose replica died is taken over by exactly one other replica through its lease:
``services/welfare/tests/test_job_races.py`` proves it in-process.)

Needs Redis on 127.0.0.1:6379 (``REPLICAS_REDIS_URL`` to use another); skipped, saying
so, where none answers. ``make test-replicas`` runs this file alone.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.config import GatewaySettings
from gateway.proxy.ratelimit import WINDOW_SECONDS
from platformctl.supervisor import SERVICE_PORTS, Supervisor, wait_until_ready
from platformctl.testing import ADMIN_PASSWORD, ADMIN_USERNAME, free_port

REDIS_URL = os.environ.get("REPLICAS_REDIS_URL", "redis://127.0.0.1:6379/7")
REFRESH_SECONDS = 1


def redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_replica_set(database_url: str, database_urls: dict[str, str]) -> Supervisor:
    supervisor = Supervisor(
        database_url, ports={name: free_port() for name in SERVICE_PORTS}, database_urls=database_urls
    )
    for child in supervisor.children:
        child.env.update({f"{n.upper()}_LOG_LEVEL": "WARNING" for n in SERVICE_PORTS})
        child.env["BOOTSTRAP_ADMIN_USERNAME"] = ADMIN_USERNAME
        child.env["BOOTSTRAP_ADMIN_PASSWORD"] = ADMIN_PASSWORD
        child.env["GATEWAY_REPLICAS"] = "2"
        child.env["GATEWAY_REDIS_URL"] = REDIS_URL
        child.env["GATEWAY_REFRESH_SECONDS"] = str(REFRESH_SECONDS)
        child.env["WELFARE_JOBS__POLL_SECONDS"] = "1"
    supervisor.start_all()
    return supervisor


@pytest.fixture(scope="module")
def replica_sets(migrated_database: str, component_database_urls: dict[str, str]) -> Iterator[list[str]]:
    if not redis_answers(REDIS_URL):
        pytest.skip(
            f"no Redis answers at {REDIS_URL}: the replicas share their rate-limit counters through it"
        )
    with ExitStack() as stack:
        gateways = []
        for _ in range(2):
            supervisor = start_replica_set(migrated_database, component_database_urls)
            stack.callback(supervisor.stop_all)
            gateways.append(supervisor.gateway_url)
        for url in gateways:
            deadline = time.monotonic() + 90
            while not wait_until_ready(f"{url}/readyz", timeout=1):
                assert time.monotonic() < deadline, f"replica set at {url} did not become ready"
        yield gateways


def test_several_gateways_refuse_to_start_without_redis() -> None:
    with pytest.raises(ValueError, match="REDIS_URL"):
        GatewaySettings(replicas=2, redis_url="", database_url="postgresql://localhost/x")
    assert (
        GatewaySettings(replicas=2, redis_url=REDIS_URL, database_url="postgresql://localhost/x").replicas
        == 2
    )


async def admin_token(gateway: str) -> str:
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        answer = await client.post(
            "/auth/token",
            data={"grant_type": "password", "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
        )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


async def inside_one_rate_window(seconds: float) -> None:
    """Wait until at least ``seconds`` are left of the rate limits' window (a fixed one per
    minute of the clock: requests across its end are counted in two windows)."""
    left = WINDOW_SECONDS - time.time() % WINDOW_SECONDS
    if left < seconds:
        await asyncio.sleep(left + 0.1)


async def test_one_rate_limit_whichever_gateway_counts(replica_sets: list[str]) -> None:
    first, second = replica_sets
    admin = {"Authorization": f"Bearer {await admin_token(first)}"}
    client_id = f"replicas-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=first, headers=admin, timeout=30) as client:
        created = await client.post(
            "/auth/admin/clients",
            json={
                "client_id": client_id,
                "name": "Two gateways",
                "scopes": ["welfare:read"],
                "jurisdictions": ["211100"],
                "rate_limit_per_minute": 6,
            },
        )
        assert created.status_code == 201, created.text
        secret = created.json()["client_secret"]
    await asyncio.sleep(REFRESH_SECONDS * 2.5)  # both gateways have read the client's limit
    await inside_one_rate_window(30)
    async with httpx.AsyncClient(timeout=30) as client:
        token = (
            await client.post(
                f"{second}/auth/token",
                data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
            )
        ).json()["access_token"]
        statuses = []
        for n in range(14):
            gateway = replica_sets[n % 2]
            answer = await client.get(
                f"{gateway}/api/welfare/v1/standards",
                params={"jurisdiction": "211100", "on": "2024-06-30"},
                headers={"Authorization": f"Bearer {token}"},
            )
            statuses.append(answer.status_code)
    # one window of six across both gateways (each alone would have let twelve through)
    assert statuses.count(200) <= 6, statuses
    assert statuses.count(429) >= 8, statuses


async def test_one_idempotency_key_sent_to_both_gateways_makes_one_record(replica_sets: list[str]) -> None:
    token = await admin_token(replica_sets[0])
    key = f"replicas-{uuid.uuid4()}"
    body = {"jurisdiction": "211102", "address": f"两个网关 {key[-6:]}"}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    async with httpx.AsyncClient(timeout=30, headers=headers) as client:
        answers = await asyncio.gather(
            *(client.post(f"{replica_sets[n % 2]}/api/welfare/v1/households", json=body) for n in range(8))
        )
        refused = [(a.status_code, a.text) for a in answers if a.status_code != 201]
        assert not refused, refused
        assert len({answer.json()["id"] for answer in answers}) == 1
        listed = await client.get(
            f"{replica_sets[1]}/api/welfare/v1/households", params={"jurisdiction": "211102", "limit": 200}
        )
    assert [item["address"] for item in listed.json()["items"]].count(body["address"]) == 1


async def test_a_recalculation_asked_of_both_replica_sets_runs_once(replica_sets: list[str]) -> None:
    token = await admin_token(replica_sets[1])
    body = {"jurisdiction": "211103", "from_month": "2031-01"}
    async with httpx.AsyncClient(timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        answers = await asyncio.gather(
            *(
                client.post(f"{replica_sets[n % 2]}/api/welfare/v1/recalculations", json=body)
                for n in range(6)
            )
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [202] + [409] * 5, [a.text for a in answers]
        started = next(answer for answer in answers if answer.status_code == 202).json()["id"]
        for answer in answers:
            if answer.status_code == 409:
                assert answer.json()["active_job"]["id"] == started
        for _ in range(120):
            run = (await client.get(f"{replica_sets[0]}/api/welfare/v1/recalculations/{started}")).json()
            if run["status"] not in ("queued", "running"):
                break
            await asyncio.sleep(0.5)
        assert run["status"] in ("succeeded", "partial"), run


async def test_a_new_signing_key_is_accepted_by_every_replica(replica_sets: list[str]) -> None:
    first, second = replica_sets
    async with httpx.AsyncClient(timeout=30) as client:
        rotated = await client.post(
            f"{first}/auth/admin/keys/rotate", headers={"Authorization": f"Bearer {await admin_token(first)}"}
        )
        assert rotated.status_code == 201, rotated.text
        kid = rotated.json()["kid"]
        # within the refresh interval (and a margin for a loaded machine) the other gateway signs
        # with the new key and every service replica accepts tokens signed with it
        deadline = time.monotonic() + 10 * REFRESH_SECONDS + 10
        accepted: dict[str, int] = {}
        while time.monotonic() < deadline:
            token = await admin_token(second)
            header = token.split(".")[0]
            if kid_of(header) == kid:
                for gateway in replica_sets:
                    answer = await client.get(
                        f"{gateway}/api/welfare/v1/standards",
                        params={"jurisdiction": "211100", "on": "2024-06-30"},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    accepted[gateway] = answer.status_code
                if set(accepted.values()) == {200}:
                    break
            await asyncio.sleep(0.25)
    assert accepted == {first: 200, second: 200}, accepted


def kid_of(encoded_header: str) -> str:
    import base64
    import json

    padded = encoded_header + "=" * (-len(encoded_header) % 4)
    found: str = json.loads(base64.urlsafe_b64decode(padded))["kid"]
    return found
