"""Eldercare's own API client for welfare's change events (client credentials,
``welfare:read welfare:pii`` over eldercare's cities), made or updated in the gateway's schema.

``make run`` and the test platforms call :func:`ensure_feed_client` with a secret kept in the local
data folder and hand the same secret to eldercare (``ELDERCARE_WELFARE_FEED_CLIENT_SECRET``); an
operator runs ``platformctl clients eldercare-feed`` and puts the printed secret in eldercare's
secret store.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from shared.settings import async_database_url

CLIENT_ID = "eldercare-welfare-feed"
SECRET_FILE = "eldercare-welfare-feed.secret"  # noqa: S105 - a file name
SCOPES = ["welfare:read", "welfare:pii"]


def eldercare_cities() -> list[str]:
    """The cities whose catalogue packs eldercare ships: the area its projection follows."""
    from eldercare.catalogues.pack import load_city_catalogues
    from eldercare.config import SERVICE_ROOT

    return sorted(load_city_catalogues(SERVICE_ROOT / "packs"))


async def ensure_feed_client_in(
    session: AsyncSession, *, secret: str | None, jurisdictions: Sequence[str]
) -> str:
    """Create the client (or set its grants and, with ``secret``, its secret); returns the secret
    it has now (a new one when ``secret`` is None)."""
    from gateway.config import GatewaySettings
    from gateway.iam import service
    from gateway.iam.models import ApiClient
    from gateway.iam.passwords import SecretHasher, generate_secret
    from gateway.iam.schemas import ClientCreate

    hasher = SecretHasher.from_settings(GatewaySettings(database_url="postgresql://unused/unused"))
    secret = secret or generate_secret()
    client = await session.get(ApiClient, CLIENT_ID)
    if client is None:
        data = ClientCreate(
            client_id=CLIENT_ID,
            name="eldercare: welfare events for the dibao projection",
            scopes=SCOPES,
            jurisdictions=list(jurisdictions),
        )
        client, _ = await service.create_client(session, hasher=hasher, data=data, actor=None)
    client.secret_hash = await hasher.hash(secret)
    client.scopes = SCOPES
    client.jurisdictions = list(jurisdictions)
    client.active = True
    await session.flush()
    return secret


def ensure_feed_client(database_url: str, *, secret: str | None, jurisdictions: Sequence[str] = ()) -> str:
    """:func:`ensure_feed_client_in` on the gateway's schema at ``database_url`` (synchronous)."""

    async def main() -> str:
        engine = create_async_engine(
            async_database_url(database_url), connect_args={"server_settings": {"search_path": "iam"}}
        )
        try:
            async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                made = await ensure_feed_client_in(
                    session, secret=secret, jurisdictions=list(jurisdictions) or eldercare_cities()
                )
                await session.commit()
                return made
        finally:
            await engine.dispose()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    # called from code that runs in an event loop (a test's async fixture starting a platform of
    # its own): the work gets a loop of its own on another thread
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


def local_feed_secret() -> str:
    """The embedded setup's secret of the client (made once in the local data folder)."""
    from platformctl.supervisor import local_secret

    return local_secret(SECRET_FILE)
