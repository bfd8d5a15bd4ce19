"""The renewal service app: ``uvicorn --factory renewal.main:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

import renewal.models  # noqa: F401  (registers every table)
from renewal.bulletins.router import router as bulletins_router
from renewal.config import Settings
from renewal.county_assessment.router import router as county_assessment_router
from renewal.db import metadata
from renewal.duties.router import router as duties_router
from renewal.equipment.router import router as equipment_router
from renewal.equipment.thresholds import load_thresholds
from renewal.leader_absences.router import router as leader_absences_router
from renewal.plans.pack import load_plans
from renewal.plans.router import router as plans_router
from renewal.reports.router import router as reports_router
from renewal.rewards.router import router as rewards_router
from renewal.status.router import router as status_router
from renewal.status.scheduled import scheduled_checks
from shared.service_app import create_service_app


async def _startup(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    # a broken plan file stops the start with a PackError naming file, field and problem
    app.state.plans = load_plans(settings.packs_dir)
    app.state.equipment_thresholds = load_thresholds(settings.packs_dir)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings=settings,
        metadata=metadata,
        title="Action-plan tracking: tasks, leaders, targets, reports, bulletins",
        description=(
            "The equipment-renewal plan of 盘政发〔2024〕4号 and plans like it, with the division of "
            "work of 盘政办发〔2024〕3号. Part of the civic policy platform; reached through the "
            "gateway at /api/renewal/."
        ),
        routers=[
            plans_router,
            reports_router,
            duties_router,
            leader_absences_router,
            status_router,
            bulletins_router,
            rewards_router,
            county_assessment_router,
            equipment_router,
        ],
        on_startup=[_startup],
        scheduled_checks=scheduled_checks,
    )
