"""Commercial cryptography (商用密码) by setting: welfare and eldercare encrypt citizen ID numbers
with SM4-GCM and make lookup hashes with HMAC-SM3, recording the key's id with each row."""

from __future__ import annotations

import base64
import importlib
import secrets

import asyncpg
import pytest
from cryptography.hazmat.primitives import hashes, hmac

from platformctl.backup import key_fingerprint
from shared.citizen_ids import CitizenIdVault, DataKey
from shared.testing import TokenMint, app_client, citizen_id

COUNTY = {"welfare": "211104", "eldercare": "411721"}


@pytest.mark.parametrize("service", ["welfare", "eldercare"])
async def test_sm4_and_hmac_sm3_by_setting(service: str, migrated_database: str, mint: TokenMint) -> None:
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    lookup = secrets.token_bytes(32)
    config, main = importlib.import_module(f"{service}.config"), importlib.import_module(f"{service}.main")
    settings = config.Settings(
        database_url=migrated_database,
        citizen_id_key=key,
        citizen_id_algorithm="sm4-gcm",
        citizen_id_lookup_key=base64.b64encode(lookup).decode(),
        citizen_id_lookup_algorithm="hmac-sm3",
    )
    number = citizen_id("1944-02-02", region=COUNTY[service])
    body: dict[str, object] = {"jurisdiction": COUNTY[service], "name": "赵国强", "citizen_id": number}
    if service == "eldercare":
        body["circumstances"] = {"effective_from": "2020-01-01"}
    clerk = mint.headers(scopes=[f"{service}:read", f"{service}:write"], jurisdictions=[COUNTY[service]])
    pii = mint.headers(scopes=[f"{service}:read", f"{service}:pii"], jurisdictions=[COUNTY[service]])
    async with app_client(main.create_app(settings), mint) as client:
        created = await client.post(f"/api/{service}/v1/persons", json=body, headers=clerk)
        assert created.status_code == 201, created.text
        person_id = created.json()["id"]
        shown = await client.get(f"/api/{service}/v1/persons/{person_id}", headers=pii)
        assert shown.json()["citizen_id"] == number

    connection = await asyncpg.connect(migrated_database.replace("+asyncpg", ""))
    try:
        row = await connection.fetchrow(
            f"SELECT citizen_id_hash, citizen_id_cipher, citizen_id_key_id FROM {service}.persons WHERE id = $1",
            person_id,
        )
    finally:
        await connection.close()
    sm4 = DataKey.parse(key, "sm4-gcm")
    assert row["citizen_id_key_id"] == sm4.id
    assert row["citizen_id_key_id"].startswith("sm4-")
    assert sm4.decrypt(row["citizen_id_cipher"]).decode() == number
    with pytest.raises(Exception):  # noqa: B017 - an AES key of the same bytes does not open it
        CitizenIdVault(base64.b64encode(secrets.token_bytes(32)).decode()).decrypt(
            row["citizen_id_cipher"], None
        )
    mac = hmac.HMAC(lookup, hashes.SM3())
    mac.update(number.encode())
    assert row["citizen_id_hash"] == mac.finalize().hex()
    # the backup's manifest can name an SM4 key written with its algorithm
    assert key_fingerprint(f"sm4-gcm:{key}") == key_fingerprint(key)
