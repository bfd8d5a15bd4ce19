"""`platformctl backup` / `restore`: the round trip, compared through the gateway.

Records are made through the gateway (a staff account, a household, persons with
encrypted citizen ID numbers, their audit rows); their answers are read; a backup is
taken; it is restored into a new, empty PostgreSQL server of the test's own; a platform
started on that server (each component as its own role) answers the same reads the same
way, the account signs in, and a token the first gateway signed is accepted (the signing
keys came back). The manifest matches the migrations; a restore into a database that is
not empty is refused; a restore with another citizen-ID key says that the numbers will
not be readable.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx

from platformctl.components import COMPONENTS
from platformctl.database import with_database
from platformctl.migrate import prepare
from platformctl.testing import ADMIN_PASSWORD, ADMIN_USERNAME, Platform, RestartableServer, own_platform
from shared.testing import citizen_id

WELFARE = "/api/welfare/v1"


def platformctl(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "platformctl", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "DATABASE_URL": database_url, **env},
    )


async def answers(client: httpx.AsyncClient, paths: list[str]) -> dict[str, tuple[int, Any]]:
    found = {}
    for path in paths:
        response = await client.get(path)
        found[path] = (response.status_code, response.json())
    return found


async def test_backup_then_restore_into_an_empty_server_answers_the_same(
    platform: Platform, migrated_database: str, tmp_path: Path
) -> None:
    headers = await platform.admin_headers()
    clerk, password = f"backup-clerk-{uuid.uuid4().hex[:6]}", "a-long-backup-password"
    async with platform.client(headers=headers) as client:
        account = await client.post(
            "/auth/admin/accounts",
            json={
                "username": clerk,
                "display_name": "备份核对员",
                "password": password,
                "roles": ["staff"],
                "scopes": ["welfare:read"],
                "jurisdictions": ["211103"],
                "units": [],
            },
        )
        assert account.status_code == 201, account.text
        household = await client.post(
            f"{WELFARE}/households", json={"jurisdiction": "211103", "address": "备份路 1 号"}
        )
        assert household.status_code == 201, household.text
        household_id = household.json()["id"]
        people = []
        for name, birth in (("张备份", "1950-03-04"), ("李恢复", "1962-11-30")):
            person = await client.post(
                f"{WELFARE}/persons",
                json={
                    "jurisdiction": "211103",
                    "household_id": household_id,
                    "name": name,
                    "citizen_id": citizen_id(birth, region="211103"),
                },
            )
            assert person.status_code == 201, person.text
            people.append(person.json()["id"])
        paths = [
            f"{WELFARE}/households/{household_id}",
            f"{WELFARE}/persons?household_id={household_id}",
            *[f"{WELFARE}/persons/{person}" for person in people],  # citizen IDs decrypted (welfare:pii)
            f"{WELFARE}/audit-log?entity_id={household_id}",
            f"/auth/admin/accounts/{clerk}",
        ]
        before = await answers(client, paths)
    assert all(status == 200 for status, _ in before.values()), before
    assert all(
        "*" not in body["citizen_id"] for _, body in [before[f"{WELFARE}/persons/{p}"] for p in people]
    )

    done = await asyncio.to_thread(
        platformctl, "backup", "--output", str(tmp_path), database_url=migrated_database
    )
    assert done.returncode == 0, done.stderr
    (folder,) = await asyncio.to_thread(lambda: list(tmp_path.iterdir()))
    manifest = json.loads(await asyncio.to_thread((folder / "manifest.json").read_text))
    for component in COMPONENTS:
        schema = manifest["schemas"][component.name]
        assert schema["revisions"] == schema["heads"], component.name
    assert manifest["rows"]["welfare.persons"] >= 2
    assert set(manifest["citizen_id_keys"]["fingerprints"]) == {"welfare", "eldercare"}
    assert manifest["dump"]["bytes"] == (await asyncio.to_thread((folder / "database.dump").stat)).st_size

    with tempfile.TemporaryDirectory() as parent, RestartableServer.temporary(Path(parent)) as server:
        url = with_database(server.url(), "civic")
        restored = await asyncio.to_thread(platformctl, "restore", str(folder), database_url=url)
        assert restored.returncode == 0, restored.stderr
        assert "restored into civic" in restored.stdout
        assert "warning" not in restored.stderr, restored.stderr
        again = await asyncio.to_thread(platformctl, "restore", str(folder), database_url=url)
        assert again.returncode != 0
        assert "is not empty" in again.stderr

        database = await asyncio.to_thread(prepare, url)  # the runtime roles' URLs (idempotent)
        with own_platform(url, database_urls=database.runtime_urls) as supervisor:
            async with httpx.AsyncClient(base_url=supervisor.gateway_url, timeout=30) as client:
                # a token the first gateway signed: the signing keys came back with the data
                client.headers.update(headers)
                after = await answers(client, paths)
                assert after == before
                signed_in = await client.post(
                    "/auth/token", data={"grant_type": "password", "username": clerk, "password": password}
                )
                assert signed_in.status_code == 200, signed_in.text
                admin = await client.post(
                    "/auth/token",
                    data={"grant_type": "password", "username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
                )
                assert admin.status_code == 200

        # another citizen-ID key than the backup's: restored, but said loudly
        other = base64.b64encode(os.urandom(32)).decode()
        wrong = await asyncio.to_thread(
            platformctl,
            "restore",
            str(folder),
            database_url=with_database(server.url(), "civic_other_key"),
            WELFARE_CITIZEN_ID_KEY=other,
        )
        assert wrong.returncode == 0, wrong.stderr
        assert "welfare: the citizen-ID key here" in wrong.stderr
        assert "will not be readable" in wrong.stderr
