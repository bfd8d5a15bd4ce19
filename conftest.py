"""Fixtures for every test directory: the database, migrations, token minting, and the
whole platform (gateway + four services as real processes) for API tests."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fastapi import FastAPI

import gateway  # noqa: F401  (the real package first: gateway/tests must not shadow it)
from gateway.iam.scopes import KNOWN_SCOPES
from platformctl import database
from platformctl.migrate import PreparedDatabase, prepare
from platformctl.supervisor import SERVICE_PORTS, Supervisor, wait_until_ready
from platformctl.testing import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    TEST_PLATFORM_ENV,
    Platform,
    drop_side_template,
    ensure_feed_client,
    free_port,
    migrated_side_database,
    platform_spawner,
)
from shared.testing import (
    ServiceInProcess,
    TokenMint,
    database_url_from_env,
    rolled_back,
    service_in_process,
)

# Where the environment says not to write bytecode (PYTHONDONTWRITEBYTECODE), pytest keeps no
# rewritten test module (it caches its assertion rewriting only where bytecode may be written),
# and every test process would parse, rewrite and compile each test module anew: about three
# CPU-seconds a worker at every start. Test modules keep their bytecode, as the packages do
# (`platformctl test` compiles those first: platformctl.cli.compile_sources).
sys.dont_write_bytecode = False


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """The run's test database; under ``pytest -n`` (pytest-xdist) each worker gets one of its
    own beside it (``<database>_gw0`` …, dropped at the end), so workers never meet."""
    try:
        url = database_url_from_env()
    except RuntimeError as exc:
        pytest.exit(str(exc), returncode=2)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        try:
            yield url
        finally:
            asyncio.run(drop_side_template(url))
        return
    own = database.with_database(url, f"{database.database_name(url)}_{worker}")
    asyncio.run(database.ensure_database(own, recreate=True))
    try:
        yield own
    finally:
        asyncio.run(drop_side_template(own))
        asyncio.run(database.drop_database(own))


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
async def quiet_database(migrated_database: str) -> AsyncIterator[str]:
    """A migrated database beside the test database that no process of the platform uses: for
    tests whose own scheduler must be the only one (the platform's runs a round every few
    seconds with today's date and would announce first what the test is to announce)."""
    async with migrated_side_database(migrated_database, "quiet") as url:
        yield url


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
    supervisor = Supervisor(
        migrated_database, ports=ports, database_urls=component_database_urls, spawner=platform_spawner()
    )
    for child in supervisor.children:
        child.env["GATEWAY_REFRESH_SECONDS"] = "1"
        child.env["GATEWAY_OPENAPI_CACHE_SECONDS"] = "0"
        # the suite (fuzzing above all) sends more than a client's default share per minute;
        # the rate-limit test gives its own client a small limit
        child.env["GATEWAY_RATE_LIMIT_PER_MINUTE"] = "1000000"
        # queued jobs and jobs whose lease expired are picked up within a second
        child.env["WELFARE_JOBS__POLL_SECONDS"] = "1"
        child.env.update(TEST_PLATFORM_ENV)
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


# Each service in this process, for its own tests: started once per session on its own
# runtime role, requests through an ASGI transport, tokens from `mint`, and every test's writes
# rolled back when it ends (`shared.testing.ServiceInProcess`). Tests of what crosses processes
# (auth, proxy, scenarios, faults) use `platform`.


def _service_app(name: str, url: str) -> FastAPI:
    key = base64.b64encode(f"{name}-in-process-test-key-32by!".encode()[:32]).decode()
    # requests only: no event relay, no scheduler (their tests start their own)
    quiet: dict[str, Any] = {"database_url": url, "events_relay": False, "scheduler": False}
    if name == "welfare":
        from welfare.config import Settings as WelfareSettings
        from welfare.main import create_app as welfare_app

        return welfare_app(WelfareSettings(citizen_id_key=key, **quiet))
    if name == "eldercare":
        from eldercare.config import Settings as EldercareSettings
        from eldercare.main import create_app as eldercare_app

        # no welfare beside it: the register's own flags, no feed to follow
        welfare_url = f"http://127.0.0.1:{free_port()}"
        return eldercare_app(EldercareSettings(citizen_id_key=key, welfare_url=welfare_url, **quiet))
    if name == "appraisal":
        from appraisal.config import Settings as AppraisalSettings
        from appraisal.main import create_app as appraisal_app

        return appraisal_app(AppraisalSettings(**quiet))
    from renewal.config import Settings as RenewalSettings
    from renewal.main import create_app as renewal_app

    return renewal_app(RenewalSettings(**quiet))


@pytest.fixture(scope="session")
async def services_in_process(
    migrated_database: str, mint: TokenMint
) -> AsyncIterator[dict[str, ServiceInProcess]]:
    """The four services started in this process, once per session (per worker), on a database
    of their own (``<test database>_in_process``): the platform's processes never meet them, and
    their job runners never take a run the platform queued."""
    async with (
        migrated_side_database(migrated_database, "in_process") as url,
        contextlib.AsyncExitStack() as stack,
    ):
        started = {}
        for name in ("welfare", "eldercare", "appraisal", "renewal"):
            context = service_in_process(
                _service_app(name, url), mint, admin_scopes=sorted(KNOWN_SCOPES), database_url=url
            )
            started[name] = await stack.enter_async_context(context)
        yield started


def _rolled_back_service(name: str) -> Any:
    """The fixture ``<name>_service``: the service in this process, each test's writes rolled back."""

    async def service(services_in_process: dict[str, ServiceInProcess]) -> AsyncIterator[ServiceInProcess]:
        async with rolled_back(services_in_process[name].app):
            yield services_in_process[name]

    return pytest.fixture(service, name=f"{name}_service")


welfare_service = _rolled_back_service("welfare")
eldercare_service = _rolled_back_service("eldercare")
appraisal_service = _rolled_back_service("appraisal")
renewal_service = _rolled_back_service("renewal")


# Under `make test` (pytest-xdist) a file's tests stay in one worker: they share module
# fixtures and, in places, what an earlier test of the file left. The fuzzing phases are units
# of their own. Units are handed out longest first (by their time in a run with two workers),
# each to the worker that is free, so that no worker is left with a long one at the end.
FUZZING = "tests/test_fuzz_openapi.py"
FUZZING_PHASES_LONGEST_FIRST = ("appraisal", "welfare", "eldercare", "renewal", "platform")
LONGEST_FIRST = (  # files of five seconds or more, 2026-12-06
    FUZZING,
    "tests/test_openapi_lint.py",
    "tests/test_dibao_projection.py",
    "tests/test_deploy.py",
    "tests/test_replicas.py",
    "tests/test_backup_restore.py",
    "tests/test_database_restart.py",
    "tests/test_webhooks_gateway.py",
    "shared/tests/test_events.py",
    "services/welfare/tests/test_job_races.py",
    "services/eldercare/tests/test_snapshots_api.py",
    "services/eldercare/tests/test_welfare_projection.py",
    "services/appraisal/tests/test_evidence_content.py",
    "services/appraisal/tests/test_workflow_api.py",
    "tests/test_faults.py",
    "services/renewal/tests/test_plan_timing.py",
    "services/eldercare/tests/test_evaluations_api.py",
    "tests/test_operator_cli.py",
    "tests/test_names.py",
    "tests/test_typescript_client.py",
    "shared/tests/test_dated_history.py",
    "gateway/tests/test_token_endpoint_and_limits.py",
    "tests/test_scenario_renewal_bulletin.py",
    "tests/test_citizen_id_masking.py",
    "tests/test_scenario_welfare_arrears.py",
    "tests/test_database_roles.py",
    "tests/test_gateway_behaviour.py",
    "tests/test_transaction_pooler.py",
)


def fuzzing_phase(nodeid: str) -> str | None:
    """The phase a test id is (``…test_fuzz_openapi.py::test_…[welfare]`` → welfare), if one."""
    path, _, rest = nodeid.partition("::")
    return rest.split("[", 1)[1].rstrip("]") if path == FUZZING and "[" in rest else None


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hook: unknown where it is not loaded
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class FileOrFuzzingPhase(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return nodeid if fuzzing_phase(nodeid) else nodeid.split("::")[0]

    # in the order of the collection (sorted below), not by the number of tests in a unit,
    # which pytest-xdist does unless told (it would hand out the one-test fuzzing phases last)
    config.option.loadscopereorder = False
    return FileOrFuzzingPhase(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return  # one process: the files in their own order

    def rank(item: pytest.Item) -> tuple[int, int]:
        phase = fuzzing_phase(item.nodeid)
        if phase is not None:
            order = FUZZING_PHASES_LONGEST_FIRST
            return 0, order.index(phase) if phase in order else len(order)
        path = item.nodeid.split("::")[0]
        return (LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)), 0

    items.sort(key=rank)  # stable: a file keeps its order; every worker sorts alike
