"""The eldercare service app: ``uvicorn --factory eldercare.main:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

from eldercare.config import Settings
from eldercare.db import metadata
from shared.service_app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings=settings,
        metadata=metadata,
        title="Basic elderly-service entitlements",
        description=(
            "Part of the civic policy platform; reached through the gateway at /api/eldercare/."
        ),
        routers=[],
    )
