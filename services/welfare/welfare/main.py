"""The welfare service app: ``uvicorn --factory welfare.main:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

import welfare.models  # noqa: F401  (registers every table)
from shared.citizen_ids import vault_from
from shared.db import Database
from shared.jobs import replica_name
from shared.service_app import create_service_app
from welfare.calculations.router import router as calculations_router
from welfare.config import Settings
from welfare.db import metadata
from welfare.payroll.pricing import Pricing
from welfare.payroll.router import router as payroll_router
from welfare.recalculation.router import router as recalculation_router
from welfare.recalculation.service import RecalculationRunner
from welfare.register.router import router as register_router
from welfare.reports.router import router as reports_router
from welfare.standards.history import load_standards
from welfare.standards.pricing import StandardPricing
from welfare.standards.router import router as standards_router
from welfare.standards.service import current_standards


async def _startup(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    database: Database = app.state.database
    pack = load_standards(settings.packs_dir)  # a bad pack stops the start with its PackError
    app.state.standards_pack = pack

    async def load_pricing() -> Pricing:
        async with database.sessions() as session:
            return StandardPricing(await current_standards(session, pack))

    runner = RecalculationRunner(
        database,
        load_pricing,
        workers=settings.recalculation_workers,
        work_mem=settings.recalculation_work_mem,
        jobs=settings.jobs,
        owner=replica_name(settings.service_name),
    )
    app.state.recalculation_runner = runner
    await runner.open()  # resumes runs whose lease expired, starts queued runs in turn


async def _shutdown(app: FastAPI) -> None:
    await app.state.recalculation_runner.stop()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_service_app(
        settings=settings,
        metadata=metadata,
        title="Welfare allowances: standards, calculation, register, payroll, recalculation",
        description=(
            "Minimum living allowance (dibao), extreme-poverty support, orphan and 1960s-retiree "
            "allowances of 盘政办发〔2024〕4号. Part of the civic policy platform; reached through "
            "the gateway at /api/welfare/."
        ),
        routers=[
            standards_router,
            calculations_router,
            register_router,
            payroll_router,
            recalculation_router,
            reports_router,
        ],
        on_startup=[_startup],
        on_shutdown=[_shutdown],
    )
    app.state.citizen_id_vault = vault_from(settings)
    return app
