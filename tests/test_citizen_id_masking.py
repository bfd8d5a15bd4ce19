"""Citizen ID numbers never appear in full in an answer (except to holders of a ``*:pii``
scope) or in any log line of any process, even at DEBUG level.

The test runs its own gateway and services with every process's output in a file, sends
citizen IDs everywhere a caller can put them (bodies, paths, query strings, the request id
header, invalid and duplicate registrations, an evaluation that asks welfare), then reads
every answer and every log line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from platformctl.supervisor import SERVICE_PORTS, Supervisor, wait_until_ready
from platformctl.testing import ADMIN_PASSWORD, ADMIN_USERNAME, TEST_PLATFORM_ENV, free_port, platform_spawner
from shared.citizen_ids import check_digit, mask
from shared.testing import citizen_id

WELFARE_PERSON = citizen_id("1950-03-07", region="211102")
ELDER = citizen_id("1931-06-15", region="411722")
MISTYPED = WELFARE_PERSON[:17] + ("0" if check_digit(WELFARE_PERSON[:17]) != "0" else "1")
EVERY_ID = (WELFARE_PERSON, ELDER, MISTYPED)
# a number standing alone: not a run of digits inside a hex trace or request id
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")


@pytest.fixture
def logged_platform(migrated_database: str, tmp_path: Path) -> Iterator[tuple[Supervisor, Path]]:
    supervisor = Supervisor(
        migrated_database,
        ports={name: free_port() for name in SERVICE_PORTS},
        log_dir=tmp_path,
        spawner=platform_spawner(),
    )
    for child in supervisor.children:
        child.env.update({f"{n.upper()}_LOG_LEVEL": "DEBUG" for n in SERVICE_PORTS})
        child.env["BOOTSTRAP_ADMIN_USERNAME"] = ADMIN_USERNAME
        child.env["BOOTSTRAP_ADMIN_PASSWORD"] = ADMIN_PASSWORD
        child.env.update(TEST_PLATFORM_ENV)
    supervisor.start_all()
    try:
        assert wait_until_ready(f"{supervisor.gateway_url}/readyz", timeout=180)
        yield supervisor, tmp_path
    finally:
        supervisor.stop_all()


def assert_masked(response: httpx.Response) -> None:
    for number in EVERY_ID:
        assert number not in response.text, (response.request.url, response.text[:300])


async def test_citizen_ids_are_masked_in_answers_and_in_every_log_line(
    logged_platform: tuple[Supervisor, Path],
) -> None:
    supervisor, logs = logged_platform
    async with httpx.AsyncClient(base_url=supervisor.gateway_url, timeout=30) as client:
        admin = (
            await client.post(
                "/auth/token",
                data={"grant_type": "password", "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
            )
        ).json()["access_token"]
        created = await client.post(
            "/auth/admin/accounts",
            headers={"Authorization": f"Bearer {admin}"},
            json={
                "username": "masking-clerk",
                "display_name": "双台子区民政局 经办",
                "password": "a-long-test-password",
                "roles": ["staff"],
                "scopes": ["welfare:read", "welfare:write", "eldercare:read", "eldercare:write"],
                "jurisdictions": ["211102", "411722"],
            },
        )
        assert created.status_code == 201, created.text
        token = (
            await client.post(
                "/auth/token",
                data={
                    "grant_type": "password",
                    "username": "masking-clerk",
                    "password": "a-long-test-password",
                },
            )
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        # a request id is logged by every process and returned: one shaped like a citizen ID
        # is replaced by a fresh one
        client.headers["X-Request-ID"] = WELFARE_PERSON

        person = await client.post(
            "/api/welfare/v1/persons",
            json={"jurisdiction": "211102", "name": "孙八", "citizen_id": WELFARE_PERSON},
        )
        assert person.status_code == 201, person.text
        assert person.json()["citizen_id"] == mask(WELFARE_PERSON)
        assert mask(WELFARE_PERSON).startswith("2111**********")
        answers = [
            person,
            await client.post(
                "/api/welfare/v1/persons",
                json={"jurisdiction": "211102", "name": "孙八", "citizen_id": WELFARE_PERSON},
            ),
            await client.post(
                "/api/welfare/v1/persons",
                json={"jurisdiction": "211102", "name": "孙九", "citizen_id": MISTYPED},
            ),
            await client.get(f"/api/welfare/v1/persons/{WELFARE_PERSON}"),
            await client.get("/api/welfare/v1/persons", params={"citizen_id": WELFARE_PERSON}),
            await client.get(f"/api/welfare/v1/persons/{person.json()['id']}"),
            await client.get("/api/welfare/v1/persons", params={"jurisdiction": "211102", "limit": 100}),
        ]
        assert [a.status_code for a in answers[1:4]] == [409, 422, 422]
        elder = await client.post(
            "/api/eldercare/v1/persons",
            json={
                "jurisdiction": "411722",
                "name": "周九",
                "citizen_id": ELDER,
                "circumstances": {"effective_from": "2024-01-01", "living_arrangement": "alone"},
            },
        )
        assert elder.status_code == 201, elder.text
        answers += [
            elder,
            await client.get(f"/api/eldercare/v1/persons/{elder.json()['id']}"),
            await client.get("/api/eldercare/v1/persons", params={"jurisdiction": "411722", "limit": 100}),
        ]
        answers.append(await client.get(f"/api/eldercare/v1/persons/{ELDER}"))
        for answer in answers:
            assert answer.status_code < 500, answer.text
            assert answer.headers["x-request-id"] != WELFARE_PERSON
            assert_masked(answer)

    supervisor.stop_all()  # flush and close every log
    lines = [
        (path.name, line)
        for path in sorted(logs.glob("*.log"))
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
    ]
    assert {name for name, _ in lines} == {f"{name}.log" for name in SERVICE_PORTS}
    leaked = [(name, line[:200]) for name, line in lines if FULL_ID.search(line)]
    assert leaked == []
    # the numbers did reach the logs (in the paths of the access lines), masked
    assert {name for name, line in lines if mask(WELFARE_PERSON) in line} == {"gateway.log", "welfare.log"}
    assert {name for name, line in lines if mask(ELDER) in line} == {"gateway.log", "eldercare.log"}
