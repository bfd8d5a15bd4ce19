"""The renewal service app: ``uvicorn --factory renewal.main:create_app``."""

from __future__ import annotations

from fastapi import FastAPI

from renewal.config import Settings
from renewal.db import metadata
from shared.service_app import create_service_app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_service_app(
        settings=settings,
        metadata=metadata,
        title="Action-plan tracking: tasks, leaders, targets, reports, bulletins",
        description=(
            "Part of the civic policy platform; reached through the gateway at /api/renewal/."
        ),
        routers=[],
    )
