"""The eldercare service app: ``uvicorn --factory eldercare.main:create_app``."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

import eldercare.models  # noqa: F401  (registers every table)
from eldercare.catalogues.pack import load_city_catalogues
from eldercare.catalogues.router import router as catalogues_router
from eldercare.catalogues.service import CatalogueLibrary
from eldercare.config import Settings
from eldercare.db import metadata
from eldercare.discoveries.router import router as discoveries_router
from eldercare.discoveries.scheduled import scheduled_checks
from eldercare.evaluations.dibao import DibaoStandards, DibaoStatuses, WelfareLink
from eldercare.evaluations.router import router as evaluations_router
from eldercare.projection import service as projection
from eldercare.projection.consumer import ClientCredentials, WelfareFeedConsumer
from eldercare.register.router import router as register_router
from eldercare.snapshots.router import router as snapshots_router
from eldercare.snapshots.service import SnapshotRunner
from eldercare.visits.router import router as visits_router
from shared.citizen_ids import vault_from
from shared.jobs import replica_name
from shared.service_app import create_service_app
from shared.tls import client_tls


def token_url(settings: Settings) -> str:
    """The gateway's token endpoint: the setting, else beside the JWKS."""
    if settings.token_url:
        return settings.token_url
    return settings.jwks_url.removesuffix("/.well-known/jwks.json") + "/auth/token"


async def _start_projection(app: FastAPI) -> None:
    """Follow welfare's events into the projection, when eldercare has its feed client's secret."""
    settings: Settings = app.state.settings
    app.state.welfare_feed = None

    async def readiness() -> dict[str, object]:
        async with app.state.database.sessions() as session:
            fresh = await projection.freshness(session)
        return {
            "welfare_projection": {
                "source": settings.dibao_status_source,
                "consumer": "running" if app.state.welfare_feed is not None else "not configured",
                **fresh.as_dict(),
            }
        }

    app.state.readiness_details = readiness
    if settings.welfare_feed_client_secret is None:
        return
    http = httpx.AsyncClient(
        base_url=settings.welfare_url,
        timeout=httpx.Timeout(settings.welfare_timeout_seconds),
        verify=client_tls(),
    )
    app.state.welfare_feed_client = http
    credentials = ClientCredentials(
        http,
        token_url=token_url(settings),
        client_id=settings.welfare_feed_client_id,
        client_secret=settings.welfare_feed_client_secret.get_secret_value(),
        verify=app.state.token_verifier.verify,
    )
    consumer = WelfareFeedConsumer(
        app.state.database.sessions,
        http=http,
        credentials=credentials,
        vault=app.state.citizen_id_vault,
        owner=replica_name(settings.service_name),
        batch=settings.welfare_feed_batch,
        wait_seconds=settings.welfare_feed_wait_seconds,
        lease_seconds=settings.welfare_feed_lease_seconds,
        max_backoff_seconds=settings.welfare_feed_max_backoff_seconds,
    )
    await consumer.start()
    app.state.welfare_feed = consumer


async def _startup(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    cities = load_city_catalogues(settings.packs_dir)  # a bad pack stops the start with its PackError
    app.state.catalogue_library = CatalogueLibrary(cities, settings.interpretations)
    client = httpx.AsyncClient(
        base_url=settings.welfare_url,
        timeout=httpx.Timeout(settings.welfare_timeout_seconds),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        verify=client_tls(),
    )
    app.state.welfare_client = client
    welfare = WelfareLink(client, retry_seconds=settings.welfare_retry_seconds)
    app.state.welfare = welfare
    app.state.dibao_standards = DibaoStandards(welfare, cache_seconds=settings.standards_cache_seconds)
    app.state.dibao_statuses = DibaoStatuses(welfare)
    runner = SnapshotRunner(
        app.state.database,
        app.state.catalogue_library,
        settings.interpretations,
        batch_size=settings.snapshot_batch_size,
        read_parts=settings.snapshot_read_parts,
        work_mem=settings.snapshot_work_mem,
        jobs=settings.jobs,
        owner=replica_name(settings.service_name),
        projected=settings.dibao_status_source == "projection",
    )
    app.state.snapshot_runner = runner
    await runner.open()  # resumes runs whose lease expired, starts queued runs in turn
    await _start_projection(app)


async def _shutdown(app: FastAPI) -> None:
    consumer: WelfareFeedConsumer | None = getattr(app.state, "welfare_feed", None)
    if consumer is not None:
        await consumer.stop()
    feed_client: httpx.AsyncClient | None = getattr(app.state, "welfare_feed_client", None)
    if feed_client is not None:
        await feed_client.aclose()
    runner: SnapshotRunner | None = getattr(app.state, "snapshot_runner", None)
    if runner is not None:
        await runner.stop()
    client: httpx.AsyncClient | None = getattr(app.state, "welfare_client", None)
    if client is not None:
        await client.aclose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_service_app(
        settings=settings,
        metadata=metadata,
        title="Basic elderly-service entitlements",
        description=(
            "The Zhumadian basic elderly-service list (驻政办〔2023〕35号 and its annex 驻马店市基本养老服务"
            "清单): county catalogues, evaluations, the register with monthly snapshots, proactive "
            "discovery and visit care. Part of the civic policy platform; reached through the gateway at "
            "/api/eldercare/."
        ),
        routers=[
            catalogues_router,
            evaluations_router,
            register_router,
            snapshots_router,
            discoveries_router,
            visits_router,
        ],
        on_startup=[_startup],
        on_shutdown=[_shutdown],
        scheduled_checks=scheduled_checks,
    )
    app.state.citizen_id_vault = vault_from(settings)
    return app
