"""Fixtures for every test directory: the database, migrations, token minting, and the
whole platform (gateway + four services as real processes) for API tests."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import pytest

import gateway  # noqa: F401  (the real package first: gateway/tests must not shadow it)
from platformctl.migrate import PreparedDatabase, prepare
from platformctl.supervisor import SERVICE_PORTS, Supervisor, wait_until_ready
from platformctl.testing import ADMIN_PASSWORD, ADMIN_USERNAME, Platform, ensure_feed_client, free_port
from shared.testing import TokenMint, database_url_from_env


@pytest.fixture(scope="session")
def database_url() -> str:
    try:
        return database_url_from_env()
    except RuntimeError as exc:
        pytest.exit(str(exc), returncode=2)


@pytest.fixture(scope="session")
async def prepared_database(database_url: str) -> PreparedDatabase:
    """Every component's schema migrated to head once per test session, as `make run` does:
    a runtime role and an owner role per component (named after the test database), each
    schema migrated by its owner, the runtime roles granted their own schema only."""
    return await asyncio.to_thread(prepare, database_url)


@pytest.fixture(scope="session")
def migrated_database(prepared_database: PreparedDatabase) -> str:
    """The migrated test database's URL, as the superuser (for tests that look underneath)."""
    return prepared_database.url


@pytest.fixture(scope="session")
def component_database_urls(prepared_database: PreparedDatabase) -> dict[str, str]:
    """Each component's URL as its own runtime role."""
    return prepared_database.runtime_urls


@pytest.fixture(scope="session")
def mint() -> TokenMint:
    return TokenMint()


@pytest.fixture(scope="session")
def platform_processes(
    migrated_database: str, component_database_urls: dict[str, str]
) -> Iterator[Supervisor]:
    ports = {name: free_port() for name in SERVICE_PORTS}
    ensure_feed_client(migrated_database)  # eldercare's client for welfare's events
    os.environ["BOOTSTRAP_ADMIN_USERNAME"] = ADMIN_USERNAME
    os.environ["BOOTSTRAP_ADMIN_PASSWORD"] = ADMIN_PASSWORD
    # each process connects as its component's own role, as under `make run`
    supervisor = Supervisor(migrated_database, ports=ports, database_urls=component_database_urls)
    for child in supervisor.children:
        child.env["GATEWAY_REFRESH_SECONDS"] = "1"
        child.env["GATEWAY_OPENAPI_CACHE_SECONDS"] = "0"
        # the suite (fuzzing above all) sends more than a client's default share per minute;
        # the rate-limit test gives its own client a small limit
        child.env["GATEWAY_RATE_LIMIT_PER_MINUTE"] = "1000000"
        # queued jobs and jobs whose lease expired are picked up within a second
        child.env["WELFARE_JOBS__POLL_SECONDS"] = "1"
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
