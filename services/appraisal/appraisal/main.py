"""The appraisal service app: ``uvicorn --factory appraisal.main:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

from appraisal.config import Settings
from appraisal.db import metadata
from shared.service_app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings=settings,
        metadata=metadata,
        title="Food-safety appraisal of county governments",
        description=(
            "Part of the civic policy platform; reached through the gateway at /api/appraisal/."
        ),
        routers=[],
    )
