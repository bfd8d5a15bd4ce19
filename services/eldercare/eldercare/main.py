"""The eldercare service app: ``uvicorn --factory eldercare.main:create_app``."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

import eldercare.models  # noqa: F401  (registers every table)
from eldercare.catalogues.pack import load_city_catalogues
from eldercare.catalogues.router import router as catalogues_router
from eldercare.catalogues.service import CatalogueBook
from eldercare.config import Settings
from eldercare.db import metadata
from eldercare.discoveries.router import router as discoveries_router
from eldercare.evaluations.dibao import DibaoStandards, DibaoStatuses, WelfareLink
from eldercare.evaluations.router import router as evaluations_router
from eldercare.register.router import router as register_router
from eldercare.snapshots.router import router as snapshots_router
from eldercare.snapshots.service import SnapshotRunner
from eldercare.visits.router import router as visits_router
from shared.citizen_ids import vault_from
from shared.jobs import replica_name
from shared.service_app import create_service_app


async def _startup(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    cities = load_city_catalogues(settings.packs_dir)  # a bad pack stops the start with its PackError
    app.state.catalogue_book = CatalogueBook(cities, settings.interpretations)
    client = httpx.AsyncClient(
        base_url=settings.welfare_url,
        timeout=httpx.Timeout(settings.welfare_timeout_seconds),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )
    app.state.welfare_client = client
    welfare = WelfareLink(client, retry_seconds=settings.welfare_retry_seconds)
    app.state.welfare = welfare
    app.state.dibao_standards = DibaoStandards(welfare, cache_seconds=settings.standards_cache_seconds)
    app.state.dibao_statuses = DibaoStatuses(welfare)
    runner = SnapshotRunner(
        app.state.database,
        app.state.catalogue_book,
        settings.interpretations,
        batch_size=settings.snapshot_batch_size,
        work_mem=settings.snapshot_work_mem,
        jobs=settings.jobs,
        owner=replica_name(settings.service_name),
    )
    app.state.snapshot_runner = runner
    await runner.open()  # resumes runs whose lease expired, starts queued runs in turn


async def _shutdown(app: FastAPI) -> None:
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
    )
    app.state.citizen_id_vault = vault_from(settings)
    return app
