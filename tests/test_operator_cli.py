"""The operator CLI (`python -m platformctl`) against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

from platformctl.testing import Platform


def platformctl(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "platformctl", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "DATABASE_URL": database_url, **env},
    )


async def test_accounts_clients_keys_and_status(platform: Platform, migrated_database: str) -> None:
    username = f"cli-clerk-{uuid.uuid4().hex[:6]}"
    created = platformctl(
        "accounts",
        "create",
        "--username",
        username,
        "--display-name",
        "县民政局经办人",
        "--scope",
        "welfare:read",
        "--jurisdiction",
        "211122",
        database_url=migrated_database,
        ACCOUNT_PASSWORD="a-long-cli-password",
    )
    assert created.returncode == 0, created.stderr
    token = await platform.token(username, "a-long-cli-password")
    assert token

    client_id = f"cli-system-{uuid.uuid4().hex[:6]}"
    client = platformctl(
        "clients",
        "create",
        "--client-id",
        client_id,
        "--name",
        "省数据共享平台",
        "--scope",
        "welfare:read",
        "--jurisdiction",
        "211100",
        "--rate-limit",
        "600",
        database_url=migrated_database,
    )
    assert client.returncode == 0, client.stderr
    secret = json.loads(client.stdout)["client_secret"]
    async with platform.client() as http:
        granted = await http.post(
            "/auth/token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )
    assert granted.status_code == 200

    rotated = platformctl("keys", "rotate", database_url=migrated_database)
    assert rotated.returncode == 0, rotated.stderr
    listed = platformctl("keys", "list", database_url=migrated_database)
    assert rotated.stdout.split()[3].rstrip(";") in listed.stdout

    status = platformctl("status", database_url=migrated_database, GATEWAY_PUBLIC_URL=platform.url)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "schema of welfare" in status.stdout
    assert '"status":"ok"' in status.stdout.replace(" ", "")

    bad = platformctl(
        "accounts",
        "create",
        "--username",
        "x",
        "--display-name",
        "x",
        database_url=migrated_database,
        ACCOUNT_PASSWORD="short",
    )
    assert bad.returncode != 0
    assert "username" in bad.stderr


def test_migrate_up_is_idempotent(migrated_database: str) -> None:
    result = platformctl("migrate", "up", database_url=migrated_database)
    assert result.returncode == 0, result.stderr
    assert "migrate up: done" in result.stdout
