"""``create_service_app``: the one way a service assembles its FastAPI app.

Wires settings, the database, token verification, problem+json errors, the request
context middleware, health, readiness, metrics and the OpenAPI conventions
(operation ids ``{tag}-{name}``, problem+json error schema, bearer security, links from
create operations to the reads of what they made).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, start_http_server
from sqlalchemy import MetaData

from shared.audit_router import audit_router
from shared.auth import RevocationList, TokenVerifier, http_jwks_fetcher, revocations_url
from shared.concurrency import ConditionalGetMiddleware
from shared.created import CreatedLocationMiddleware
from shared.db import Database
from shared.docs import OAUTH2_SCHEME, docs_router
from shared.events.feed import events_router
from shared.events.relay import Relay
from shared.events.scheduler import Check, Scheduler
from shared.events.webhooks import webhooks_router
from shared.examples import answer_example
from shared.jurisdictions import registry
from shared.logs import configure_logging
from shared.middleware import BodyGuard, RequestContextMiddleware
from shared.months import policy_today
from shared.openapi_conventions import declare_idempotency_where_replayed
from shared.openapi_links import add_links
from shared.pagination import reject_unknown_query_parameters
from shared.personal_data import personal_data_access_router
from shared.problems import PROBLEM_SCHEMA, install_problem_handlers, problem_response
from shared.records import PlatformTables
from shared.settings import ServiceSettings
from shared.tracing import instrument_fastapi, setup_tracing, shutdown_tracing

Hook = Callable[[FastAPI], Awaitable[None]]


def operation_id(route: APIRoute) -> str:
    tag = route.tags[0] if route.tags else "default"
    return f"{tag}-{route.name}"


def openapi_with_conventions(app: FastAPI) -> Callable[[], dict[str, Any]]:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        components.setdefault("securitySchemes", {})["bearer"] = {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from `POST /auth/token`.",
        }
        # the same tokens, obtained in the docs' "Authorize" dialog (password or client credentials)
        components["securitySchemes"]["oauth2"] = OAUTH2_SCHEME
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                if not isinstance(operation, dict):
                    continue
                if path.startswith(("/api/", "/auth/admin")):
                    operation.setdefault("security", [{"bearer": []}, {"oauth2": []}])
                    responses = operation.setdefault("responses", {})
                    for status, title in (("401", "Unauthorized"), ("403", "Forbidden")):
                        responses.setdefault(status, _problem_ref(title))
                responses = operation.setdefault("responses", {})
                # every operation refuses query parameters it does not declare (shared.pagination)
                responses["422"] = _problem_ref("Invalid input")
                if "requestBody" in operation:
                    # a body that is not well-formed JSON or form data
                    responses.setdefault("400", _problem_ref("Bad request"))
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") == "header" and parameter.get("name", "").lower() == "if-match":
                        # updates need it; without it the answer is 428
                        parameter["required"] = True
                        responses.setdefault("428", _problem_ref("Precondition required"))
                        responses.setdefault("412", _problem_ref("Precondition failed"))
            _document_conditional_read(operations)
        declare_idempotency_where_replayed(app, schema)
        add_links(schema)
        app.openapi_schema = schema
        return schema

    return openapi


_ETAG_HEADER = {
    "description": "The version of the record; send it as If-Match to change it, as If-None-Match to "
    "read it again only when it changed.",
    "schema": {"type": "string"},
}


def _document_conditional_read(operations: dict[str, Any]) -> None:
    """A record changed with If-Match is read with an ETag: If-None-Match may answer 304."""
    updates = [
        operation
        for method, operation in operations.items()
        if method in ("patch", "put")
        and isinstance(operation, dict)
        and any(p.get("name", "").lower() == "if-match" for p in operation.get("parameters", []))
    ]
    read = operations.get("get")
    if not updates or not isinstance(read, dict):
        return
    for update in updates:
        update.get("responses", {}).get("200", {}).setdefault("headers", {})["ETag"] = _ETAG_HEADER
    if any(p.get("name", "").lower() == "if-none-match" for p in read.get("parameters", [])):
        return
    read.setdefault("parameters", []).append(
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "description": "The ETag you hold: the answer is 304 without a body while it is current.",
            "schema": {"type": "string"},
        }
    )
    responses = read.setdefault("responses", {})
    responses.get("200", {}).setdefault("headers", {})["ETag"] = _ETAG_HEADER
    responses.setdefault(
        "304",
        {"description": "Not modified: the ETag you sent is current", "headers": {"ETag": _ETAG_HEADER}},
    )


def _problem_ref(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def health_router(*, metrics: bool = True) -> APIRouter:
    """Liveness, readiness and (``metrics``) Prometheus metrics on the public port."""
    router = APIRouter(tags=["health"])

    @router.get(
        "/healthz", summary="Liveness: the process answers", responses=answer_example({"status": "ok"})
    )
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness: the database answers", response_model=None)
    async def readyz(request: Request) -> JSONResponse | dict[str, Any]:
        database: Database = request.app.state.database
        try:
            await database.ping()
        except Exception as exc:
            return problem_response(503, f"database not reachable: {type(exc).__name__}", request=request)
        checks: dict[str, Any] = {"database": "ok"}
        details = getattr(request.app.state, "readiness_details", None)
        if details is not None:  # a service's own facts (e.g. a consumer's lag); never unready
            try:
                checks.update(await details())
            except Exception as exc:
                checks["details"] = f"unavailable: {type(exc).__name__}"
        return {"status": "ok", "checks": checks}

    if metrics:

        @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
        async def metrics_endpoint() -> Response:
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


@asynccontextmanager
async def metrics_server(settings: ServiceSettings) -> AsyncIterator[None]:
    """With ``metrics_port`` set: Prometheus metrics on that port (same host), not the public one.

    prometheus-client's own small HTTP server, in a thread of this process, answers every
    path with the process's metrics; it stops with the app. One process per container (the
    deployments run no uvicorn workers), so one port per process.
    """
    if settings.metrics_port is None:
        yield
        return
    server, thread = start_http_server(settings.metrics_port, addr=settings.host)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def create_service_app(
    *,
    settings: ServiceSettings,
    metadata: MetaData,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    token_verifier: TokenVerifier | None = None,
    include_health: bool = True,
    openapi_url: str | None = "/openapi.json",
    docs_url: str | None = "/docs",  # with ReDoc at /redoc
    wrap_request_context: bool = True,
    scheduled_checks: Callable[[FastAPI], Sequence[Check]] | None = None,
) -> FastAPI:
    """Assemble a service app. The gateway turns off the parts it provides itself."""
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    setup_tracing(settings.service_name)
    schema = metadata.schema
    assert schema is not None, "service metadata must name its schema"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry()  # loaded once at start, not by the first request; a broken data file stops the start
        app.state.database = Database(settings, schema)
        for hook in on_startup:
            await hook(app)
        relay = None
        if settings.events_relay and include_health and tables.outbox is not None:
            relay = Relay(
                settings.service_name,
                app.state.database.sessions,
                tables,
                settings,
                vault=getattr(app.state, "citizen_id_vault", None),
                access_log=personal_data_access,
                # the owners' revocations, as the service's token checks see them
                revocations=getattr(app.state.token_verifier, "revocations", None),
            )
            await relay.start()
        app.state.event_relay = relay
        scheduler = None
        if scheduled_checks is not None and tables.scheduled_events is not None:
            # events no write causes (a deadline passed): one replica at a time writes each once
            scheduler = Scheduler(
                settings.service_name,
                app.state.database.sessions,
                tables,
                scheduled_checks(app),
                interval_seconds=settings.scheduler_interval_seconds,
                today=lambda: settings.scheduler_today or policy_today(),
            )
            if settings.scheduler:
                await scheduler.start()
        app.state.event_scheduler = scheduler
        # What the start built (modules, routes, schemas, catalogues, packs) lives as long as the
        # process: out of the collector's sight, a full collection walks only what requests and
        # jobs made since (about 70 ms a full collection otherwise, paid by whichever request
        # happens to trigger it).
        gc.collect()
        gc.freeze()
        try:
            async with metrics_server(settings):
                yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            if relay is not None:
                await relay.stop()
            for hook in on_shutdown:
                await hook(app)
            await app.state.database.dispose()
            shutdown_tracing()

    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        openapi_url=openapi_url,
        docs_url=None,  # served offline by shared.docs instead of from a CDN
        redoc_url=None,
        # a path with a trailing slash is a 404 problem, never a redirect to this process's own
        # address (which the gateway's callers must not learn)
        redirect_slashes=False,
        # a query parameter the operation does not declare is a 422 naming it, never ignored
        dependencies=[Depends(reject_unknown_query_parameters)],
    )
    app.state.settings = settings
    # Each service declares the platform tables (shared.records.PlatformTables) in its metadata.
    app.state.platform_tables = tables = PlatformTables.of(metadata)
    app.state.idempotency_table = app.state.platform_tables.idempotency_keys
    personal_data_access = metadata.tables.get(f"{schema}.personal_data_access")
    app.state.personal_data_access_table = personal_data_access
    app.state.token_verifier = token_verifier or TokenVerifier(
        http_jwks_fetcher(settings.jwks_url),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        refresh_min_seconds=settings.jwks_refresh_min_seconds,
        revocations=RevocationList(
            http_jwks_fetcher(revocations_url(settings.jwks_url)),
            max_age_seconds=settings.revocation_max_age_seconds,
        ),
    )
    install_problem_handlers(app)
    if include_health:
        app.include_router(health_router(metrics=settings.metrics_port is None))
        app.include_router(audit_router(settings.service_name, metadata.tables[f"{schema}.audit_log"]))
        if personal_data_access is not None:
            app.include_router(personal_data_access_router(settings.service_name, personal_data_access))
        if tables.outbox is not None:
            app.include_router(events_router(settings.service_name, tables.outbox))
        if tables.webhook_subscriptions is not None:
            app.include_router(webhooks_router(settings.service_name, tables))
    for router in routers:
        app.include_router(router)
    if docs_url is not None and openapi_url is not None:
        app.include_router(docs_router(openapi_url=openapi_url, title=title))
    app.openapi = openapi_with_conventions(app)  # type: ignore[method-assign]
    app.add_middleware(ConditionalGetMiddleware)
    app.add_middleware(CreatedLocationMiddleware)
    if wrap_request_context:  # a service (the gateway guards and wraps its own)
        app.add_middleware(
            BodyGuard, max_bytes=settings.max_body_bytes, verifier=lambda: app.state.token_verifier
        )
        # tells the gateway its route template, for the gateway's metrics per route
        app.add_middleware(RequestContextMiddleware, service=settings.service_name, tell_route=True)
        instrument_fastapi(app)  # outermost: takes the caller's traceparent (the gateway traces itself)
    return app
