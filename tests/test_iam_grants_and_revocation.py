"""Administrators grant only what they hold; deactivation and changed grants end tokens.

Through the gateway with real tokens, and directly at a service (zero trust: each service
checks the gateway's revocation list itself).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from platformctl.testing import ADMIN_USERNAME, Platform, assert_problem

ACCOUNTS = "/auth/admin/accounts"
CLIENTS = "/auth/admin/clients"
WELFARE_AUDIT = "/api/welfare/v1/audit-log"
COUNTY = "211102"  # a county of Panjin (211100)
SIBLING_COUNTY = "211103"
REVOCATION_WAIT_SECONDS = 5.0


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def account_body(username: str, **grants: Any) -> dict[str, Any]:
    return {
        "username": username,
        "display_name": username,
        "password": "a-long-test-password",
        "roles": ["staff"],
        "scopes": ["welfare:read"],
        "jurisdictions": [COUNTY],
        **grants,
    }


async def county_admin(platform: Platform) -> dict[str, str]:
    return await platform.account(
        unique("county-admin"),
        scopes=["iam:admin", "welfare:read", "welfare:write"],
        jurisdictions=[COUNTY],
        roles=["staff"],
    )


async def change(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> httpx.Response:
    read = await client.get(path)
    assert read.status_code == 200, read.text
    return await client.patch(path, json=body, headers={"If-Match": read.headers["ETag"]})


async def test_a_county_admin_grants_only_inside_its_own(platform: Platform) -> None:
    headers = await county_admin(platform)
    async with platform.client(headers=headers) as client:
        for grants, named in (
            ({"jurisdictions": ["*"]}, "*"),
            ({"jurisdictions": [SIBLING_COUNTY]}, SIBLING_COUNTY),
            ({"jurisdictions": ["211100"]}, "211100"),  # its city, above the county
            ({"scopes": ["welfare:read", "welfare:pii"]}, "welfare:pii"),
            ({"scopes": ["eldercare:read"]}, "eldercare:read"),
            ({"roles": ["staff", "admin"]}, "admin"),
        ):
            refused = await client.post(ACCOUNTS, json=account_body(unique("grantee"), **grants))
            body = assert_problem(refused, 403)
            assert named in body["detail"], body
            refused_client = await client.post(
                CLIENTS,
                json={
                    "client_id": unique("system"),
                    "name": "A system",
                    "scopes": grants.get("scopes", ["welfare:read"]),
                    "jurisdictions": grants.get("jurisdictions", [COUNTY]),
                    "roles": grants.get("roles", []),
                },
            )
            assert_problem(refused_client, 403)
        # the exact attack: a platform-wide admin with personal data, from a county admin
        attack = account_body(
            unique("escalated"), scopes=["iam:admin", "welfare:pii"], jurisdictions=["*"], roles=["admin"]
        )
        assert_problem(await client.post(ACCOUNTS, json=attack), 403)
        # inside its own grants (another county admin included) it may create
        ok = await client.post(
            ACCOUNTS, json=account_body(unique("clerk"), scopes=["welfare:read", "iam:admin"])
        )
        assert ok.status_code == 201, ok.text
        clerk = ok.json()["username"]
        # and it may not widen that account afterwards, nor its own grants
        widened = await change(client, f"{ACCOUNTS}/{clerk}", {"jurisdictions": ["*"]})
        assert_problem(widened, 403)
    async with platform.client(headers=await platform.admin_headers()) as admin:
        assert (await admin.get(f"{ACCOUNTS}/{clerk}")).json()["jurisdictions"] == [COUNTY]
        assert_problem(await admin.get(f"{ACCOUNTS}/{attack['username']}"), 404)


async def test_only_a_platform_wide_admin_changes_the_bootstrap_or_another_platform_wide_admin(
    platform: Platform,
) -> None:
    headers = await county_admin(platform)
    async with platform.client(headers=await platform.admin_headers()) as admin:
        wide = unique("wide-admin")
        created = await admin.post(
            ACCOUNTS,
            json=account_body(
                wide, scopes=["iam:admin", "welfare:read"], jurisdictions=["*"], roles=["admin"]
            ),
        )
        assert created.status_code == 201, created.text  # the platform-wide bootstrap admin may
        etags = {
            target: (await admin.get(f"{ACCOUNTS}/{target}")).headers["ETag"]
            for target in (ADMIN_USERNAME, wide)
        }
    async with platform.client(headers=headers) as client:
        for target in (ADMIN_USERNAME, wide):
            # outside the county administrator's area: as if it did not exist
            assert_problem(await client.get(f"{ACCOUNTS}/{target}"), 404)
            for body in ({"password": "taken-over-by-a-county"}, {"active": False}, {"display_name": "x"}):
                refused = await client.patch(
                    f"{ACCOUNTS}/{target}", json=body, headers={"If-Match": etags[target]}
                )
                assert_problem(refused, 404)
    async with platform.client(headers=await platform.admin_headers()) as admin:
        still = await admin.get(f"{ACCOUNTS}/{ADMIN_USERNAME}")
        assert still.json()["active"] is True
        changed = await change(admin, f"{ACCOUNTS}/{wide}", {"display_name": "Provincial administrator"})
        assert changed.status_code == 200, changed.text


async def test_a_county_admin_sees_only_its_area_and_cannot_touch_signing_keys(platform: Platform) -> None:
    """The attack: a county ``iam:admin`` listed every account and client with their grants
    (platform administrators included) and rotated the platform's signing key."""
    async with platform.client(headers=await platform.admin_headers()) as admin:
        sibling = unique("sibling-clerk")
        created = await admin.post(ACCOUNTS, json=account_body(sibling, jurisdictions=[SIBLING_COUNTY]))
        assert created.status_code == 201, created.text
        sibling_client = unique("sibling-system")
        created = await admin.post(
            CLIENTS,
            json={
                "client_id": sibling_client,
                "name": "Sibling",
                "scopes": ["welfare:read"],
                "jurisdictions": [SIBLING_COUNTY],
            },
        )
        assert created.status_code == 201, created.text
        keys_before = (await admin.get("/auth/admin/keys")).json()["items"]
    headers = await county_admin(platform)
    async with platform.client(headers=headers) as client:
        own = unique("own-clerk")
        assert (await client.post(ACCOUNTS, json=account_body(own))).status_code == 201
        own_client = unique("own-system")
        made = await client.post(
            CLIENTS,
            json={
                "client_id": own_client,
                "name": "Own",
                "scopes": ["welfare:read"],
                "jurisdictions": [COUNTY],
            },
        )
        assert made.status_code == 201, made.text
        listed = await client.get(ACCOUNTS, params={"limit": 200})
        assert listed.status_code == 200, listed.text
        names = {item["username"] for item in listed.json()["items"]}
        assert own in names
        assert ADMIN_USERNAME not in names, names
        assert sibling not in names, names
        for item in listed.json()["items"]:
            assert "*" not in item["jurisdictions"], item
            assert SIBLING_COUNTY not in item["jurisdictions"], item
        assert listed.json()["total"] == len(listed.json()["items"])
        clients = await client.get(CLIENTS, params={"limit": 200})
        assert clients.status_code == 200, clients.text
        ids = {item["client_id"] for item in clients.json()["items"]}
        assert own_client in ids, ids
        assert sibling_client not in ids, ids
        assert (await client.get(f"{ACCOUNTS}/{own}")).status_code == 200
        assert (await client.get(f"{CLIENTS}/{own_client}")).status_code == 200
        for path in (f"{ACCOUNTS}/{ADMIN_USERNAME}", f"{ACCOUNTS}/{sibling}", f"{CLIENTS}/{sibling_client}"):
            assert_problem(await client.get(path), 404)
        # nor may it grant beyond its area
        body = assert_problem(
            await client.post(ACCOUNTS, json=account_body(unique("beyond"), jurisdictions=[SIBLING_COUNTY])),
            403,
        )
        assert SIBLING_COUNTY in body["detail"]
        # the platform's signing keys are the platform administrator's alone
        assert_problem(await client.post("/auth/admin/keys/rotate"), 403)
        assert_problem(await client.get("/auth/admin/keys"), 403)
    async with platform.client(headers=await platform.admin_headers()) as admin:
        assert (await admin.get("/auth/admin/keys")).json()["items"] == keys_before
        everyone = await admin.get(ACCOUNTS, params={"limit": 200})
        assert {ADMIN_USERNAME, sibling, own} <= {item["username"] for item in everyone.json()["items"]}


async def wait_until_refused(client: httpx.AsyncClient, urls: list[str], headers: dict[str, str]) -> None:
    """Poll until every URL answers 401, at most REVOCATION_WAIT_SECONDS."""
    deadline = time.monotonic() + REVOCATION_WAIT_SECONDS
    pending = list(urls)
    while pending:
        answers = [await client.get(url, headers=headers) for url in pending]
        for url, answer in zip(list(pending), answers, strict=True):
            assert answer.status_code in (200, 401), answer.text
            if answer.status_code == 401:
                assert_problem(answer, 401)
                assert "WWW-Authenticate" in answer.headers
                pending.remove(url)
        if pending:
            assert time.monotonic() < deadline, f"still accepted after {REVOCATION_WAIT_SECONDS} s: {pending}"
            await asyncio.sleep(0.1)


async def test_deactivation_ends_old_tokens_at_the_gateway_and_every_service(platform: Platform) -> None:
    username = unique("leaver")
    scopes = [f"{name}:admin" for name in ("welfare", "eldercare", "appraisal", "renewal")]
    headers = await platform.account(username, scopes=scopes, jurisdictions=["211100"])
    direct = [f"{child.url}/api/{child.name}/v1/audit-log" for child in platform.supervisor.children[1:]]
    urls = [f"{platform.url}{WELFARE_AUDIT}", *direct]
    async with platform.client() as client:
        for url in urls:
            assert (await client.get(url, headers=headers)).status_code == 200, url
        async with platform.client(headers=await platform.admin_headers()) as admin:
            deactivated = await change(admin, f"{ACCOUNTS}/{username}", {"active": False})
            assert deactivated.status_code == 200, deactivated.text
        await wait_until_refused(client, urls, headers)
        # active again: the old token stays refused, a new one works
        async with platform.client(headers=await platform.admin_headers()) as admin:
            assert (await change(admin, f"{ACCOUNTS}/{username}", {"active": True})).status_code == 200
        await asyncio.sleep(0.2)
        assert_problem(await client.get(urls[0], headers=headers), 401)
        fresh = {"Authorization": f"Bearer {await platform.token(username, 'a-long-test-password')}"}
        for url in urls:
            answer = await client.get(url, headers=fresh)
            assert answer.status_code == 200, (url, answer.text)


async def test_narrowed_grants_end_old_tokens(platform: Platform) -> None:
    username = unique("narrowed")
    headers = await platform.account(username, scopes=["welfare:admin"], jurisdictions=["211100"])
    async with platform.client() as client:
        assert (await client.get(WELFARE_AUDIT, headers=headers)).status_code == 200
        async with platform.client(headers=await platform.admin_headers()) as admin:
            narrowed = await change(admin, f"{ACCOUNTS}/{username}", {"scopes": ["welfare:read"]})
            assert narrowed.status_code == 200, narrowed.text
        welfare = next(child for child in platform.supervisor.children if child.name == "welfare")
        direct = f"{welfare.url}{WELFARE_AUDIT}"
        await wait_until_refused(client, [f"{platform.url}{WELFARE_AUDIT}", direct], headers)


async def test_a_deactivated_admin_cannot_use_its_old_token(platform: Platform) -> None:
    username = unique("former-admin")
    headers = await platform.account(
        username, scopes=["iam:admin", "welfare:read"], jurisdictions=[COUNTY], roles=["staff"]
    )
    async with platform.client(headers=await platform.admin_headers()) as admin:
        assert (await change(admin, f"{ACCOUNTS}/{username}", {"active": False})).status_code == 200
    async with platform.client(headers=headers) as client:
        # no waiting: every admin operation re-reads the account
        refused = await client.post(ACCOUNTS, json=account_body(unique("created-by-former")))
        assert_problem(refused, 401)
        assert_problem(await client.get(ACCOUNTS), 401)
