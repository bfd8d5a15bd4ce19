"""The welfare service app: ``uvicorn --factory welfare.main:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

from shared.service_app import create_service_app
from welfare.config import Settings
from welfare.db import metadata


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings=settings,
        metadata=metadata,
        title="Welfare allowances: standards, calculation, register, payroll, recalculation",
        description=(
            "Part of the civic policy platform; reached through the gateway at /api/welfare/."
        ),
        routers=[],
    )
