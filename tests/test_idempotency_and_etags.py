"""Idempotency-Key on POST and If-Match on updates, exercised on the admin API."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from platformctl.testing import Platform, assert_problem


def account_body(username: str, display_name: str = "Clerk") -> dict[str, object]:
    return {
        "username": username,
        "display_name": display_name,
        "password": "a-long-test-password",
        "scopes": ["welfare:read"],
        "jurisdictions": ["211102"],
    }


async def count_accounts(database_url: str, username: str) -> int:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return int(
            await connection.fetchval("SELECT count(*) FROM iam.accounts WHERE username = $1", username)
        )
    finally:
        await connection.close()


async def test_same_key_same_body_replays_the_first_response(
    platform: Platform, migrated_database: str
) -> None:
    username = f"clerk-{uuid.uuid4().hex[:8]}"
    key = uuid.uuid4().hex
    async with platform.client(headers=await platform.admin_headers()) as client:
        first = await client.post(
            "/auth/admin/accounts", json=account_body(username), headers={"Idempotency-Key": key}
        )
        second = await client.post(
            "/auth/admin/accounts", json=account_body(username), headers={"Idempotency-Key": key}
        )
        assert first.status_code == 201, first.text
        assert second.status_code == 201
        assert second.json() == first.json()
        assert second.headers["Idempotent-Replayed"] == "true"
        other = await client.post(
            "/auth/admin/accounts",
            json=account_body(username, "Another"),
            headers={"Idempotency-Key": key},
        )
        body = assert_problem(other, 422)
        assert body["errors"][0]["field"] == "header.idempotency-key"
        without_key = await client.post("/auth/admin/accounts", json=account_body(username))
        assert_problem(without_key, 409)
    assert await count_accounts(migrated_database, username) == 1


async def test_concurrent_posts_with_one_key_create_one_record(
    platform: Platform, migrated_database: str
) -> None:
    username = f"clerk-{uuid.uuid4().hex[:8]}"
    key = uuid.uuid4().hex
    async with platform.client(headers=await platform.admin_headers()) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/auth/admin/accounts",
                    json=account_body(username),
                    headers={"Idempotency-Key": key},
                )
                for _ in range(20)
            )
        )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses if r.status_code != 201]
    assert len({r.content for r in responses}) == 1
    assert await count_accounts(migrated_database, username) == 1


async def test_updates_need_the_current_etag(platform: Platform) -> None:
    username = f"clerk-{uuid.uuid4().hex[:8]}"
    async with platform.client(headers=await platform.admin_headers()) as client:
        assert (await client.post("/auth/admin/accounts", json=account_body(username))).status_code == 201
        read = await client.get(f"/auth/admin/accounts/{username}")
        etag = read.headers["ETag"]
        change = {"display_name": "Renamed clerk"}
        assert_problem(await client.patch(f"/auth/admin/accounts/{username}", json=change), 428)
        stale = await client.patch(
            f"/auth/admin/accounts/{username}",
            json=change,
            headers={"If-Match": '"someone-else-v9"'},
        )
        assert_problem(stale, 412)
        unchanged = await client.get(f"/auth/admin/accounts/{username}")
        assert unchanged.json()["display_name"] == "Clerk"
        updated = await client.patch(
            f"/auth/admin/accounts/{username}", json=change, headers={"If-Match": etag}
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["display_name"] == "Renamed clerk"
        assert updated.headers["ETag"] != etag
        again = await client.patch(
            f"/auth/admin/accounts/{username}", json=change, headers={"If-Match": etag}
        )
        assert_problem(again, 412)
        mass_assignment = await client.patch(
            f"/auth/admin/accounts/{username}",
            json={"version": 99},
            headers={"If-Match": updated.headers["ETag"]},
        )
        assert_problem(mass_assignment, 422)


async def test_created_answers_carry_location_and_a_replay_keeps_etag_and_location(
    platform: Platform,
) -> None:
    username = f"clerk-{uuid.uuid4().hex[:8]}"
    key = uuid.uuid4().hex
    async with platform.client(headers=await platform.admin_headers()) as client:
        first = await client.post(
            "/auth/admin/accounts", json=account_body(username), headers={"Idempotency-Key": key}
        )
        assert first.status_code == 201, first.text
        assert first.headers["Location"] == f"/auth/admin/accounts/{username}"
        assert (await client.get(first.headers["Location"])).json()["username"] == username
        replay = await client.post(
            "/auth/admin/accounts", json=account_body(username), headers={"Idempotency-Key": key}
        )
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.headers["ETag"] == first.headers["ETag"]
        assert replay.headers["Location"] == first.headers["Location"]
        # a service's create, behind the gateway
        household = await client.post(
            "/api/welfare/v1/households",
            json={"jurisdiction": "211102", "address": "中山路 1 号"},
            headers={"Idempotency-Key": key},
        )
        assert household.status_code == 201, household.text
        assert household.headers["Location"].endswith(f"/api/welfare/v1/households/{household.json()['id']}")
        again = await client.post(
            "/api/welfare/v1/households",
            json={"jurisdiction": "211102", "address": "中山路 1 号"},
            headers={"Idempotency-Key": key},
        )
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["Location"] == household.headers["Location"]
        assert again.headers["ETag"] == household.headers["ETag"]


async def test_if_none_match_answers_304_on_reads_with_an_etag(platform: Platform) -> None:
    username = f"clerk-{uuid.uuid4().hex[:8]}"
    async with platform.client(headers=await platform.admin_headers()) as client:
        assert (await client.post("/auth/admin/accounts", json=account_body(username))).status_code == 201
        household = await client.post(
            "/api/welfare/v1/households", json={"jurisdiction": "211102", "address": "中山路 2 号"}
        )
        assert household.status_code == 201, household.text
        paths = (f"/api/welfare/v1/households/{household.json()['id']}", f"/auth/admin/accounts/{username}")
        for path in paths:
            read = await client.get(path)
            assert read.status_code == 200, read.text
            etag = read.headers["ETag"]
            same = await client.get(path, headers={"If-None-Match": etag})
            assert same.status_code == 304, path
            assert same.content == b""
            assert same.headers["ETag"] == etag
            assert "content-type" not in same.headers
            assert "X-Request-ID" in same.headers
            # weak comparison, a list of tags, and the wildcard
            assert (await client.get(path, headers={"If-None-Match": f'"x", W/{etag}'})).status_code == 304
            assert (await client.get(path, headers={"If-None-Match": "*"})).status_code == 304
            stale = await client.get(path, headers={"If-None-Match": '"someone-else-v9"'})
            assert stale.status_code == 200
            assert stale.json() == read.json()
        # a list carries no ETag: If-None-Match changes nothing
        listing = await client.get("/auth/admin/accounts", headers={"If-None-Match": "*"})
        assert listing.status_code == 200
        # after a change the old tag no longer matches
        changed = await client.patch(
            f"/auth/admin/accounts/{username}",
            json={"display_name": "Renamed"},
            headers={"If-Match": (await client.get(f"/auth/admin/accounts/{username}")).headers["ETag"]},
        )
        assert changed.status_code == 200
        fresh = await client.get(f"/auth/admin/accounts/{username}", headers={"If-None-Match": etag})
        assert fresh.status_code == 200
        assert fresh.json()["display_name"] == "Renamed"


async def test_one_key_with_another_query_is_another_request(platform: Platform) -> None:
    """``?scheme=`` chooses the city an appraisal write goes to: the same key and body sent to
    the other city is refused (422), never answered with the first city's record."""
    base = "/api/appraisal/v1"
    year = 2900 + uuid.uuid4().int % 90
    indicator = {
        "code": "Q1",
        "name": "食品抽检",
        "content_area": 1,
        "max_points": "5",
        "department": "市市场监督管理局",
    }
    key = uuid.uuid4().hex
    async with platform.client(headers=await platform.admin_headers()) as client:
        for scheme in ("panjin", "zhumadian"):
            made = await client.post(f"{base}/years", json={"scheme": scheme, "year": year})
            assert made.status_code in (201, 409), made.text
        url = f"{base}/years/{year}/indicators"
        first = await client.post(
            url, params={"scheme": "panjin"}, json=indicator, headers={"Idempotency-Key": key}
        )
        assert first.status_code == 201, first.text
        again = await client.post(
            url, params={"scheme": "panjin"}, json=indicator, headers={"Idempotency-Key": key}
        )
        assert again.status_code == 201, again.text
        assert again.headers["Idempotent-Replayed"] == "true"
        other = await client.post(
            url, params={"scheme": "zhumadian"}, json=indicator, headers={"Idempotency-Key": key}
        )
        body = assert_problem(other, 422)
        assert body["errors"][0]["field"] == "header.idempotency-key"
        listed = await client.get(url, params={"scheme": "zhumadian", "limit": 200})
        assert "Q1" not in [item["code"] for item in listed.json()["items"]]
