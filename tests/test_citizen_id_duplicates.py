"""Persons registered before numbers were normalised are listed for staff, never merged.

Rows as an earlier release stored them (the number in fullwidth or Arabic-Indic digits, its
hash made of those digits) are written underneath; ``GET …/person-duplicates`` of welfare and
eldercare, in process, finds the pair of one person typed twice and the lone record no lookup
finds, within the caller's area only, for ``{service}:admin`` only.
"""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from typing import Any

import asyncpg
import pytest

from platformctl.supervisor import local_lookup_secret, local_secret
from shared.citizen_ids import CitizenIdVault, mask
from shared.testing import TokenMint, app_client, citizen_id

COUNTY = {"welfare": "211104", "eldercare": "411721"}
OTHER_COUNTY = {"welfare": "211103", "eldercare": "411722"}


def fullwidth(number: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number)


def arabic_indic(number: str) -> str:
    return "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in number)


async def store_as_before(
    connection: asyncpg.Connection, service: str, vault: CitizenIdVault, stored: str, birth: dt.date
) -> uuid.UUID:
    """A person row as stored before normalising: cipher, hash and mask of the text as typed."""
    protected = vault.protect(stored)
    person_id = uuid.uuid4()
    extra = ", birth_date" if service == "eldercare" else ""
    await connection.execute(
        f"INSERT INTO {service}.persons (id, jurisdiction, name, citizen_id_hash, citizen_id_cipher, "
        f"citizen_id_key_id, citizen_id_masked, version{extra}) VALUES ($1, $2, '王淑珍', $3, $4, $5, $6, 1"
        + (", $7)" if extra else ")"),
        person_id,
        COUNTY[service],
        protected.lookup_hash,
        protected.cipher,
        protected.key_id,
        protected.masked,
        *([birth] if extra else []),
    )
    return person_id


@pytest.mark.parametrize("service", ["welfare", "eldercare"])
async def test_duplicates_from_before_normalising_are_listed_not_merged(
    service: str, migrated_database: str, mint: TokenMint
) -> None:
    key, lookup = local_secret(f"{service}-citizen-id.key"), local_lookup_secret(service)
    vault = CitizenIdVault(key, lookup_key=lookup)
    twice = citizen_id("1941-03-04", region=COUNTY[service])
    lone = citizen_id("1942-05-06", region=COUNTY[service])
    unique = citizen_id("1943-07-08", region=COUNTY[service])
    connection = await asyncpg.connect(migrated_database.replace("+asyncpg", ""))
    try:
        typed_wide = await store_as_before(connection, service, vault, fullwidth(twice), dt.date(1941, 3, 4))
        typed_arabic = await store_as_before(
            connection, service, vault, arabic_indic(lone), dt.date(1942, 5, 6)
        )
    finally:
        await connection.close()

    config, main = importlib.import_module(f"{service}.config"), importlib.import_module(f"{service}.main")
    settings = config.Settings(
        database_url=migrated_database, citizen_id_key=key, citizen_id_lookup_key=lookup
    )
    base = f"/api/{service}/v1"
    writer = mint.headers(scopes=[f"{service}:read", f"{service}:write"], jurisdictions=[COUNTY[service]])
    admin = mint.headers(scopes=[f"{service}:admin"], jurisdictions=[COUNTY[service]])
    async with app_client(main.create_app(settings), mint) as client:
        body: dict[str, Any] = {"jurisdiction": COUNTY[service], "name": "王淑珍"}
        if service == "eldercare":
            body["circumstances"] = {"effective_from": "2020-01-01"}
        # today's input is normalised: the ASCII number is a new record, the old one stays unseen
        created = await client.post(f"{base}/persons", json=body | {"citizen_id": twice}, headers=writer)
        assert created.status_code == 201, created.text
        created_unique = await client.post(
            f"{base}/persons", json=body | {"citizen_id": unique}, headers=writer
        )
        assert created_unique.status_code == 201, created_unique.text

        found = await client.get(f"{base}/person-duplicates", headers=admin)
        assert found.status_code == 200, found.text
        report = found.json()
        assert report["scanned"] >= 4
        groups = {g["citizen_id"]: g["persons"] for g in report["groups"]}
        assert [(p["id"], p["normalised"]) for p in groups[mask(twice)]] == [
            (str(typed_wide), False),
            (created.json()["id"], True),
        ]
        assert [(p["id"], p["normalised"]) for p in groups[mask(lone)]] == [(str(typed_arabic), False)]
        assert mask(unique) not in groups
        for number in (twice, lone, unique):
            assert number not in found.text

        # nothing merged: both records of the pair are still there
        for person_id in (typed_wide, created.json()["id"]):
            assert (await client.get(f"{base}/persons/{person_id}", headers=writer)).status_code == 200
        # staff of another county do not see these; readers and writers may not ask
        other = mint.headers(scopes=[f"{service}:admin"], jurisdictions=[OTHER_COUNTY[service]])
        elsewhere = await client.get(f"{base}/person-duplicates", headers=other)
        assert elsewhere.status_code == 200, elsewhere.text
        assert mask(twice) not in elsewhere.text
        assert (await client.get(f"{base}/person-duplicates", headers=writer)).status_code == 403
