"""The appraisal service app: ``uvicorn --factory appraisal.main:create_app``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

import appraisal.models  # noqa: F401  (registers every table)
from appraisal.assessment.router import router as assessment_router
from appraisal.config import Settings
from appraisal.consequences.router import router as consequences_router
from appraisal.db import metadata
from appraisal.evaluation.router import router as evaluation_router
from appraisal.evidence.router import router as evidence_router
from appraisal.grading.router import router as grading_router
from appraisal.rectification.router import router as rectification_router
from appraisal.rectification.scheduled import scheduled_checks
from appraisal.schemes.history import SchemeHistory
from appraisal.schemes.openapi import declare_schemes
from appraisal.schemes.pack import load_histories
from appraisal.schemes.router import router as schemes_router
from appraisal.schemes.state import load_on_startup
from appraisal.workflow.router import router as workflow_router
from appraisal.years.router import router as years_router
from shared.service_app import create_service_app

SUBJECT_PATH = "/api/appraisal/v1/years/{year}/subjects"


def _link_created_subjects(document: dict[str, Any]) -> None:
    """A subject made by ``POST …/subjects`` is named by its ``code`` in the paths below it
    (``{subject}``): state those links, which cannot be derived from the names."""
    paths: dict[str, dict[str, Any]] = document.get("paths", {})
    created = paths.get(SUBJECT_PATH, {}).get("post", {}).get("responses", {}).get("201")
    if created is None:
        return
    links = created.setdefault("links", {})
    for path, item in paths.items():
        if not path.startswith(SUBJECT_PATH + "/{subject}"):
            continue
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                parameters = {"year": "$request.path.year", "subject": "$response.body#/code"}
                if "{evidence_id}" in path:
                    continue  # an evidence file is made by its own upload
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": parameters,
                }


def _openapi_with_schemes(app: FastAPI, settings: Settings) -> None:
    """State the loaded scheme ids, circumstances and caps in the OpenAPI document: the caps
    of the version of each scheme in force today, the ids of every version."""
    conventions = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        histories: dict[str, SchemeHistory] | None = getattr(app.state, "schemes", None)
        document = conventions()
        app.openapi_schema = declare_schemes(document, histories or load_histories(settings.packs_dir))
        _link_created_subjects(app.openapi_schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_service_app(
        settings=settings,
        metadata=metadata,
        title="Food-safety appraisal of county governments",
        description=(
            "The yearly food-safety appraisal of county governments under 盘政办发〔2024〕5号 "
            "(Panjin) and 驻政办〔2023〕36号 (Zhumadian): grading, the year's procedure, results, "
            "consequences. Part of the civic policy platform; reached through the gateway at "
            "/api/appraisal/."
        ),
        routers=[
            grading_router,
            schemes_router,
            years_router,
            workflow_router,
            assessment_router,
            evidence_router,
            evaluation_router,
            rectification_router,
            consequences_router,
        ],
        on_startup=[load_on_startup],
        scheduled_checks=scheduled_checks,
    )
    _openapi_with_schemes(app, settings)
    return app
