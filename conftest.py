"""Fixtures for every test directory: the database, migrations, token minting, and the
whole platform (gateway + four services as real processes) for API tests."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import pytest

import gateway  # noqa: F401  (the real package first: gateway/tests must not shadow it)
from platformctl.components import COMPONENTS
from platformctl.supervisor import SERVICE_PORTS, Supervisor, wait_until_ready
from platformctl.testing import ADMIN_PASSWORD, ADMIN_USERNAME, Platform, free_port
from shared import migrations
from shared.testing import TokenMint, database_url_from_env


@pytest.fixture(scope="session")
def database_url() -> str:
    try:
        return database_url_from_env()
    except RuntimeError as exc:
        pytest.exit(str(exc), returncode=2)


@pytest.fixture(scope="session")
async def migrated_database(database_url: str) -> str:
    """Every component's schema migrated to head once per test session (through Alembic)."""
    for component in COMPONENTS:
        await asyncio.to_thread(migrations.upgrade, component.migrations_dir, database_url, component.schema)
    return database_url


@pytest.fixture(scope="session")
def mint() -> TokenMint:
    return TokenMint()


@pytest.fixture(scope="session")
def platform_processes(migrated_database: str) -> Iterator[Supervisor]:
    ports = {name: free_port() for name in SERVICE_PORTS}
    os.environ["BOOTSTRAP_ADMIN_USERNAME"] = ADMIN_USERNAME
    os.environ["BOOTSTRAP_ADMIN_PASSWORD"] = ADMIN_PASSWORD
    supervisor = Supervisor(migrated_database, ports=ports)
    for child in supervisor.children:
        child.env["GATEWAY_REFRESH_SECONDS"] = "1"
        child.env["GATEWAY_OPENAPI_CACHE_SECONDS"] = "0"
        # the suite (fuzzing above all) sends more than a client's default share per minute;
        # the rate-limit test gives its own client a small limit
        child.env["GATEWAY_RATE_LIMIT_PER_MINUTE"] = "1000000"
        for name in SERVICE_PORTS:
            child.env[f"{name.upper()}_LOG_LEVEL"] = "WARNING"
    supervisor.start_all()
    try:
        deadline = time.monotonic() + 90
        while not wait_until_ready(f"{supervisor.gateway_url}/readyz", timeout=1):
            exited = {c.name: c.process.poll() for c in supervisor.children if c.process}
            if any(code is not None for code in exited.values()) or time.monotonic() > deadline:
                pytest.fail(f"the platform did not become ready; exit codes: {exited}")
        yield supervisor
    finally:
        supervisor.stop_all()


@pytest.fixture(scope="session")
def platform(platform_processes: Supervisor) -> Platform:
    return Platform(url=platform_processes.gateway_url, supervisor=platform_processes)
