"""Test helpers every component's tests use: token minting, app clients, databases.

Tests run against a real PostgreSQL (``DATABASE_URL``, set by ``make test``); tokens
are real EdDSA JWTs signed by a key the test's JWKS publishes.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from jwt.algorithms import OKPAlgorithm
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.auth import TokenVerifier
from shared.citizen_ids import check_digit
from shared.db import request_session, session_dependency
from shared.events.commits import session_info
from shared.events.scheduler import Scheduler

ISSUER = "civic-gateway"
AUDIENCE = "civic-platform"


_ISSUED: set[str] = set()


def citizen_id(birth: str, *, region: str = "", male: bool | None = None) -> str:
    """A random well-formed citizen ID number (GB 11643) for a birth date ``YYYY-MM-DD``;
    a random 41xxxx region unless one is given. Never the same number twice in one test run:
    two people of one county born on one day would otherwise share a number one time in a
    thousand, and the register rightly refuses the second."""
    for _ in range(100_000):
        place = region or f"41{secrets.randbelow(10_000):04d}"
        order = secrets.randbelow(1000)
        if male is not None:
            order = order - order % 2 + (1 if male else 0)
        first_17 = f"{place}{birth.replace('-', '')}{order:03d}"
        number = first_17 + check_digit(first_17)
        if number not in _ISSUED:
            _ISSUED.add(number)
            return number
    raise RuntimeError(f"every citizen ID number for {region or '41xxxx'} born {birth} was issued already")


def database_url_from_env() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set: run the tests with `make test`.")
    return url


class TokenMint:
    """Signs tokens like the gateway does, for any role, scope, jurisdiction or unit."""

    def __init__(self, kid: str = "test-key") -> None:
        self.kid = kid
        self.private_key = Ed25519PrivateKey.generate()

    def jwks(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(self.private_key.public_key()))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "EdDSA"})
        return {"keys": [jwk]}

    def verifier(self) -> TokenVerifier:
        async def fetch() -> dict[str, Any]:
            return self.jwks()

        return TokenVerifier(fetch, issuer=ISSUER, audience=AUDIENCE, refresh_min_seconds=0)

    def token(
        self,
        *,
        scopes: Sequence[str] = (),
        jurisdictions: Sequence[str] = (),
        units: Sequence[str] = (),
        roles: Sequence[str] = ("staff",),
        subject: str | None = None,
        client_id: str | None = None,
        expires_in: int = 600,
        audience: str = AUDIENCE,
        issuer: str = ISSUER,
        kid: str | None = None,
        key: Ed25519PrivateKey | None = None,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": audience,
            "sub": subject or f"tester-{uuid.uuid4().hex[:8]}",
            "iat": now,
            "nbf": now,
            "exp": now + expires_in,
            "jti": uuid.uuid4().hex,
            "scope": " ".join(scopes),
            "roles": list(roles),
            "jurisdictions": list(jurisdictions),
            "units": list(units),
            "client_id": client_id,
            "name": "Test user",
        }
        return jwt.encode(
            claims, key or self.private_key, algorithm="EdDSA", headers={"kid": kid or self.kid}
        )

    def headers(self, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**kwargs)}"}


@contextlib.asynccontextmanager
async def app_client(
    app: FastAPI, mint: TokenMint, *, background: bool = False
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of a service app (lifespan run, tokens from ``mint`` accepted).

    The app's event relay and scheduler stay off unless ``background`` (as for the services in
    process: the tests of events and scheduled checks drive their own rounds); each would
    otherwise run a round as the app starts, a tenth of a CPU-second that no test looks at. Its
    job runners run."""
    app.state.token_verifier = mint.verifier()
    settings = getattr(app.state, "settings", None)
    if settings is not None and not background:
        settings.events_relay = False
        settings.scheduler = False
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service.test") as client:
            yield client


@contextlib.asynccontextmanager
async def rolled_back(app: FastAPI) -> AsyncIterator[None]:
    """Every write the app's requests make meanwhile is rolled back at the end: each request's
    session (:data:`shared.db.SessionDep`) is a savepoint of one connection's open transaction
    (its commit releases the savepoint, its rollback returns to it), and that transaction is
    rolled back when the block ends. Only the request sessions: the app's background work (event
    relay, scheduler, jobs) and what a request commits apart (``record_apart``) keep their own
    connections, as in production. Requests of one block must not run at the same time (one
    connection); tests of concurrency use the committed path (``app_client`` or the platform)."""
    database = app.state.database
    async with database.engine.connect() as connection:
        transaction = await connection.begin()
        sessions = async_sessionmaker(
            bind=connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            autoflush=False,
            info=session_info(database.outbox_commits),
        )

        async def savepoint_session() -> AsyncIterator[AsyncSession]:
            async with request_session(sessions) as session:
                yield session

        app.dependency_overrides[session_dependency] = savepoint_session
        try:
            yield
        finally:
            del app.dependency_overrides[session_dependency]
            await transaction.rollback()


@dataclass
class ServiceInProcess:
    """One service's app in the test's own process, for the service's own tests: requests go
    through an ASGI transport (no gateway, no other process, no port), tokens are minted by
    ``mint`` with the claims the gateway would give, and what a test writes is rolled back
    when it ends (:func:`rolled_back`). The same calls as the platform's test helper
    (``client``, ``account``, ``admin_headers``), so a test moves between the two by its fixture."""

    app: FastAPI
    mint: TokenMint
    admin_scopes: tuple[str, ...]
    database_url: str

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url="http://service.test", timeout=30, **kwargs)

    async def admin_headers(self) -> dict[str, str]:
        return self.mint.headers(
            subject="test-admin", roles=("admin",), scopes=self.admin_scopes, jurisdictions=("*",)
        )

    async def account(self, username: str, **grants: Any) -> dict[str, str]:
        """Bearer headers of an account with these grants (``scopes``, ``jurisdictions``,
        ``units``, ``roles``, as the platform's helper takes them), signed as the gateway signs."""
        return self.mint.headers(subject=username, **grants)


@contextlib.asynccontextmanager
async def service_in_process(
    app: FastAPI, mint: TokenMint, *, admin_scopes: Sequence[str], database_url: str
) -> AsyncIterator[ServiceInProcess]:
    """The app started once (its lifespan run) for a module or a session of tests; each test
    then takes :func:`rolled_back` around its requests (the services' ``in_process`` fixtures)."""
    app.state.token_verifier = mint.verifier()
    async with app.router.lifespan_context(app):
        yield ServiceInProcess(app, mint, tuple(admin_scopes), database_url)


@dataclass
class SchedulerOfItsOwn(Scheduler):
    """A scheduler taking a lock of its own (``own_lock``): two of them run a round at the same
    time, as two replicas would if the round's lock did not exist; only the keys keep each
    event once."""

    own_lock: int = 0

    @property
    def lock(self) -> int:
        return self.own_lock
