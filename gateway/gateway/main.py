"""The gateway: ``/api/{service}/...`` to the services; ``/auth``, docs, health its own.

``create_app()`` returns an ASGI app: the request-context middleware around a
dispatcher that sends ``/api/`` to the proxy hot path and everything else to the
gateway's FastAPI app (tokens, JWKS, admin API, merged OpenAPI, health, metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from typing import Any

import aiohttp
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import select
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway import server
from gateway.config import GatewaySettings
from gateway.db import metadata
from gateway.iam import keys
from gateway.iam.keys import KeyRing
from gateway.iam.models import ApiClient
from gateway.iam.passwords import SecretHasher
from gateway.iam.revocations import load_not_before
from gateway.iam.router import admin as admin_router
from gateway.iam.router import router as auth_router
from gateway.iam.service import ensure_bootstrap_admin
from gateway.iam.throttle import SignInThrottle
from gateway.openapi_merge import merge_openapi
from gateway.proxy.forwarder import Forwarder
from gateway.proxy.ratelimit import make_rate_limiter
from shared.auth import RevocationList, TokenVerifier
from shared.db import Database, hold_lock
from shared.docs import docs_router
from shared.examples import answer_example
from shared.middleware import RequestContextMiddleware
from shared.problems import problem_response
from shared.service_app import create_service_app
from shared.tracing import trace_asgi

logger = logging.getLogger(__name__)


class Dispatcher:
    """``/api/...`` → proxy; anything else (and lifespan) → the gateway's own app."""

    def __init__(self, api: FastAPI, forwarder: Forwarder) -> None:
        self.api = api
        self.forwarder = forwarder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            await self.forwarder(scope, receive, send)
        else:
            await self.api(scope, receive, send)


class BodyLimit:
    """413 for bodies over the limit on the gateway's own endpoints."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                response = problem_response(413, f"The request body is larger than {self.max_bytes} bytes.")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _refresh_forever(app: FastAPI) -> None:
    while True:
        await asyncio.sleep(app.state.settings.refresh_seconds)
        try:
            await _load_keys(app)
        except Exception:
            logger.warning("refreshing the signing keys failed", exc_info=True)


async def _refresh_grants_forever(app: FastAPI) -> None:
    while True:
        await asyncio.sleep(app.state.settings.revocation_refresh_seconds)
        try:
            await _load_revocations_and_limits(app)
        except Exception:
            logger.warning("refreshing token revocations and client limits failed", exc_info=True)


async def _load_keys(app: FastAPI) -> None:
    database: Database = app.state.database
    async with database.sessions() as session:
        await app.state.key_ring.load(session)


async def _load_revocations_and_limits(app: FastAPI) -> None:
    """Revocations and client limits, re-read every ``revocation_refresh_seconds``: a
    deactivation or a changed limit made at any replica bites here within that time."""
    settings: GatewaySettings = app.state.settings
    database: Database = app.state.database
    async with database.sessions() as session:
        not_before = await load_not_before(session, horizon_seconds=settings.token_ttl_seconds + 60)
        rows = await session.execute(
            select(ApiClient.client_id, ApiClient.rate_limit_per_minute).where(
                ApiClient.rate_limit_per_minute.is_not(None)
            )
        )
        limits = {f"client:{client_id}": int(limit) for client_id, limit in rows if limit is not None}
    app.state.revocations.replace(not_before)
    forwarder: Forwarder = app.state.forwarder
    forwarder.client_limits.clear()
    forwarder.client_limits.update(limits)


async def _startup(app: FastAPI) -> None:
    settings: GatewaySettings = app.state.settings
    database: Database = app.state.database
    async with database.sessions() as session:
        # gateways starting together (several replicas) provision the first signing key and
        # the bootstrap admin one after the other: the first creates them, the others find them
        await hold_lock(session, "gateway.startup")
        await keys.ensure_signing_key(session)
        username = settings.bootstrap_admin_username or "admin"
        password = settings.bootstrap_admin_password
        generated = not password
        if generated:
            password = secrets.token_urlsafe(18)
        created = await ensure_bootstrap_admin(
            session, hasher=app.state.secret_hasher, username=username, password=password
        )
        if created and generated:
            # Printed once so the operator can sign in; it is not stored anywhere in clear.
            print(f"Created admin '{username}' with generated password: {password}", flush=True)
        await session.commit()
    await _load_keys(app)
    await _load_revocations_and_limits(app)
    await app.state.forwarder.start()
    app.state.refreshers = [
        asyncio.create_task(_refresh_forever(app)),
        asyncio.create_task(_refresh_grants_forever(app)),
    ]


async def _shutdown(app: FastAPI) -> None:
    for refresher in app.state.refreshers:
        refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await refresher
    await app.state.forwarder.close()
    await app.state.forwarder.limiter.close()
    await app.state.signin_throttle.close()


def _own_router(settings: GatewaySettings) -> APIRouter:
    router = APIRouter(tags=["platform"])
    cache: dict[str, Any] = {"at": float("-inf"), "doc": None}

    async def fetch_json(session: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
        # a service builds its document on the first request: on a busy machine that takes seconds
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
            return response.status, await response.json(content_type=None)

    async def service_document(session: aiohttp.ClientSession, url: str) -> dict[str, Any] | None:
        try:
            status, doc = await fetch_json(session, f"{url}/openapi.json")
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None
        return doc if status == 200 and isinstance(doc, dict) else None

    @router.get("/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        if cache["doc"] is not None and time.monotonic() - cache["at"] < settings.openapi_cache_seconds:
            return JSONResponse(cache["doc"])
        forwarder: Forwarder = request.app.state.forwarder
        assert forwarder.session is not None
        urls = settings.service_urls()
        found = await asyncio.gather(*(service_document(forwarder.session, url) for url in urls.values()))
        docs = {name: doc for name, doc in zip(urls, found, strict=True) if doc is not None}
        missing = [name for name in urls if name not in docs]
        merged = merge_openapi(request.app.openapi(), docs)
        if missing:
            merged["x-unavailable-services"] = missing
        else:
            cache.update(at=time.monotonic(), doc=merged)
        return JSONResponse(merged)

    @router.get(
        "/healthz",
        summary="Liveness: the gateway process answers",
        responses=answer_example({"status": "ok"}),
    )
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Readiness of the database and every service", response_model=None)
    async def readyz(request: Request) -> JSONResponse | dict[str, Any]:
        components: dict[str, str] = {}
        try:
            await request.app.state.database.ping()
            components["database"] = "ok"
        except Exception as exc:
            components["database"] = f"down: {type(exc).__name__}"
        forwarder: Forwarder = request.app.state.forwarder
        assert forwarder.session is not None

        async def check(name: str, url: str) -> tuple[str, str]:
            try:
                status, _ = await fetch_json(forwarder.session, f"{url}/readyz")  # type: ignore[arg-type]
                return name, "ok" if status == 200 else f"not ready ({status})"
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                return name, f"down: {type(exc).__name__}"

        results = await asyncio.gather(*(check(n, u) for n, u in settings.service_urls().items()))
        components.update(results)
        if all(value == "ok" for value in components.values()):
            return {"status": "ok", "components": components}
        return problem_response(
            503, "Some components are not ready.", request=request, extra={"components": components}
        )

    if settings.metrics_port is None:  # else on its own port (shared.service_app.metrics_server)

        @router.get("/metrics", summary="Prometheus metrics of the gateway", response_class=Response)
        async def metrics() -> Response:
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def build_gateway(settings: GatewaySettings) -> tuple[ASGIApp, FastAPI]:
    """The gateway's ASGI app and, inside it, the FastAPI app that owns the lifespan."""
    ring = KeyRing()

    async def ring_jwks() -> dict[str, Any]:
        return ring.jwks()

    revocations = RevocationList()
    verifier = TokenVerifier(
        ring_jwks,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        refresh_min_seconds=0,
        revocations=revocations,
    )
    api = create_service_app(
        settings=settings,
        metadata=metadata,
        title="Civic policy platform gateway",
        description="Tokens, keys, accounts and clients; routes /api/{service}/ to the services.",
        routers=[
            auth_router,
            admin_router,
            _own_router(settings),
            # Swagger UI and ReDoc over the merged document, assets served by the gateway itself
            docs_router(openapi_url="/openapi.json", title="Civic policy platform API"),
        ],
        on_startup=[_startup],
        on_shutdown=[_shutdown],
        token_verifier=verifier,
        include_health=False,
        openapi_url=None,
        docs_url=None,
        wrap_request_context=False,
    )
    forwarder = Forwarder(settings, ring, make_rate_limiter(settings.redis_url), revocations)
    api.state.key_ring = ring
    api.state.revocations = revocations
    api.state.secret_hasher = SecretHasher.from_settings(settings)
    api.state.signin_throttle = SignInThrottle.from_settings(settings)
    api.state.forwarder = forwarder
    app: ASGIApp = Dispatcher(api, forwarder)
    app = BodyLimit(app, settings.max_body_bytes)
    if settings.cors_origins:
        app = CORSMiddleware(
            app,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "If-Match",
                "X-Request-ID",
            ],
            expose_headers=[
                "ETag",
                "X-Request-ID",
                "Retry-After",
                "Location",
                "RateLimit",
                "RateLimit-Policy",
            ],
        )
    # the trace starts here (or continues the caller's traceparent) and goes on to the services
    return trace_asgi(RequestContextMiddleware(app, service="gateway", log_requests=True)), api


def app_factory() -> ASGIApp:
    """Entry point for ``uvicorn --factory gateway.main:app_factory``."""
    settings = GatewaySettings()
    server.configure(
        server.HeadLimits(
            timeout_seconds=settings.header_timeout_seconds,
            max_count=settings.max_header_count,
            max_bytes=settings.max_header_bytes,
        )
    )
    app, _ = build_gateway(settings)
    return app
