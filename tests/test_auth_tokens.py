"""Token issuance (both grants) and rejection of bad tokens, through the gateway."""

from __future__ import annotations

import json
import time
import uuid

import asyncpg
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from platformctl.testing import ADMIN_PASSWORD, ADMIN_USERNAME, Platform, assert_problem

AUDIT = "/api/welfare/v1/audit-log"


async def signing_key(database_url: str) -> tuple[str, Ed25519PrivateKey]:
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT kid, private_key_pem FROM iam.signing_keys WHERE retired_at IS NULL "
            "ORDER BY created_at DESC LIMIT 1"
        )
    finally:
        await connection.close()
    key = serialization.load_pem_private_key(row["private_key_pem"].encode(), None)
    assert isinstance(key, Ed25519PrivateKey)
    return row["kid"], key


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": "civic-gateway",
        "aud": "civic-platform",
        "sub": ADMIN_USERNAME,
        "iat": now,
        "exp": now + 300,
        "scope": "welfare:admin",
        "jurisdictions": ["*"],
    }
    base.update(overrides)
    return base


async def test_password_grant_issues_a_token_services_accept(platform: Platform) -> None:
    async with platform.client() as client:
        response = await client.post(
            "/auth/token",
            data={"grant_type": "password", "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert 60 <= body["expires_in"] <= 86_400
        header = jwt.get_unverified_header(body["access_token"])
        assert header["alg"] == "EdDSA"
        assert header["kid"]
        audit = await client.get(AUDIT, headers={"Authorization": f"Bearer {body['access_token']}"})
        assert audit.status_code == 200, audit.text


async def test_wrong_password_is_a_problem(platform: Platform) -> None:
    async with platform.client() as client:
        response = await client.post(
            "/auth/token",
            data={"grant_type": "password", "username": ADMIN_USERNAME, "password": "nope-nope"},
        )
    body = assert_problem(response, 400)
    assert body["error"] == "invalid_grant"


async def test_unknown_grant_type_names_the_field(platform: Platform) -> None:
    async with platform.client() as client:
        response = await client.post("/auth/token", data={"grant_type": "implicit"})
    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "body.grant_type"


async def test_client_credentials_grant(platform: Platform) -> None:
    client_id = f"system-{uuid.uuid4().hex[:8]}"
    async with platform.client(headers=await platform.admin_headers()) as client:
        created = await client.post(
            "/auth/admin/clients",
            json={
                "client_id": client_id,
                "name": "Provincial data exchange",
                "scopes": ["welfare:admin"],
                "jurisdictions": ["211100"],
            },
        )
        assert created.status_code == 201, created.text
        secret = created.json()["client_secret"]
    async with platform.client() as client:
        bad = await client.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": "wrong",
            },
        )
        assert_problem(bad, 401)
        good = await client.post(
            "/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        assert good.status_code == 200, good.text
        token = good.json()["access_token"]
        decoded = jwt.decode(token, options={"verify_signature": False})
        assert decoded["client_id"] == client_id
        assert decoded["jurisdictions"] == ["211100"]
        audit = await client.get(AUDIT, headers={"Authorization": f"Bearer {token}"})
        assert audit.status_code == 200


async def test_bad_tokens_are_rejected_by_the_service(platform: Platform, migrated_database: str) -> None:
    kid, key = await signing_key(migrated_database)
    stranger = Ed25519PrivateKey.generate()
    forged = {
        "expired": jwt.encode(
            claims(exp=int(time.time()) - 120, iat=int(time.time()) - 600),
            key,
            algorithm="EdDSA",
            headers={"kid": kid},
        ),
        "wrongly signed": jwt.encode(claims(), stranger, algorithm="EdDSA", headers={"kid": kid}),
        "wrong audience": jwt.encode(
            claims(aud="another-platform"), key, algorithm="EdDSA", headers={"kid": kid}
        ),
        "wrong issuer": jwt.encode(claims(iss="someone-else"), key, algorithm="EdDSA", headers={"kid": kid}),
        "alg none": jwt.encode(claims(), "", algorithm="none", headers={"kid": kid}),
        "unknown kid": jwt.encode(claims(), key, algorithm="EdDSA", headers={"kid": "no-such-key"}),
        "garbage": "not.a.token",
    }
    async with platform.client() as client:
        for name, token in forged.items():
            response = await client.get(AUDIT, headers={"Authorization": f"Bearer {token}"})
            body = assert_problem(response, 401)
            assert "WWW-Authenticate" in response.headers, name
            assert body["detail"], name
        missing = await client.get(AUDIT)
        assert_problem(missing, 401)
        # the real key with the right claims passes: each forgery differs only as named
        real = jwt.encode(claims(), key, algorithm="EdDSA", headers={"kid": kid})
        assert (await client.get(AUDIT, headers={"Authorization": f"Bearer {real}"})).status_code == 200


async def test_services_verify_tokens_when_called_directly(platform: Platform) -> None:
    headers = await platform.admin_headers()
    for child in platform.supervisor.children[1:]:
        async with platform.client() as client:
            direct = f"{child.url}/api/{child.name}/v1/audit-log"
            assert_problem(await client.get(direct), 401)
            assert_problem(await client.get(direct, headers={"Authorization": "Bearer x.y.z"}), 401)
            ok = await client.get(direct, headers=headers)
            assert ok.status_code == 200, (child.name, ok.text)


async def test_scope_is_checked(platform: Platform) -> None:
    reader = await platform.account("welfare-reader", scopes=["welfare:read"], jurisdictions=["211100"])
    async with platform.client() as client:
        body = assert_problem(await client.get(AUDIT, headers=reader), 403)
        assert "welfare:admin" in body["detail"]


async def test_key_rotation_keeps_old_tokens_valid(platform: Platform) -> None:
    old = await platform.admin_headers()
    async with platform.client(headers=old) as client:
        before = (await client.get("/.well-known/jwks.json")).json()["keys"]
        rotated = await client.post("/auth/admin/keys/rotate")
        assert rotated.status_code == 201, rotated.text
        new_kid = rotated.json()["kid"]
        after = (await client.get("/.well-known/jwks.json")).json()["keys"]
        assert {k["kid"] for k in before} < {k["kid"] for k in after}
        assert all(k["kty"] == "OKP" and "d" not in k for k in after)
        assert (await client.get(AUDIT)).status_code == 200  # old token still verifies
    fresh = await platform.token()
    assert jwt.get_unverified_header(fresh)["kid"] == new_kid
    async with platform.client() as client:
        response = await client.get(AUDIT, headers={"Authorization": f"Bearer {fresh}"})
        assert response.status_code == 200, response.text  # service fetched the new key by kid


async def test_key_rotation_is_audited(platform: Platform, migrated_database: str) -> None:
    """Rotating the signing key is a write like any other: one audit row naming who rotated,
    the new key and the keys it retires (never a private key)."""
    async with platform.client(headers=await platform.admin_headers()) as client:
        retiring = {
            k["kid"] for k in (await client.get("/auth/admin/keys")).json()["items"] if not k["retired_at"]
        }
        rotated = await client.post("/auth/admin/keys/rotate")
        assert rotated.status_code == 201, rotated.text
    kid = rotated.json()["kid"]
    connection = await asyncpg.connect(migrated_database.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await connection.fetch(
            "SELECT actor, action, before, after FROM iam.audit_log WHERE entity = 'signing_key' AND entity_id = $1",
            kid,
        )
    finally:
        await connection.close()
    assert len(rows) == 1
    row = rows[0]
    assert (row["actor"], row["action"]) == (ADMIN_USERNAME, "rotate")
    before, after = json.loads(row["before"]), json.loads(row["after"])
    assert set(before["signing"]) == retiring
    assert after["kid"] == kid
    assert set(after["retiring"]) == retiring
    assert "PRIVATE KEY" not in row["before"] + row["after"]
