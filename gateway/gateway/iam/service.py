"""Accounts, clients, authentication and bootstrap. No HTTP here, and no commit."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import audit_log
from gateway.iam.models import Account, ApiClient
from gateway.iam.passwords import SecretHasher, generate_secret
from gateway.iam.schemas import AccountCreate, AccountUpdate, ClientCreate, ClientUpdate
from gateway.iam.scopes import KNOWN_SCOPES
from shared.audit import record_audit
from shared.auth import ALL_JURISDICTIONS, Principal
from shared.errors import Conflict, NotFound
from shared.pagination import PageParams

logger = logging.getLogger(__name__)
ADMIN_ROLE = "admin"


def _grants(row: Account | ApiClient) -> dict[str, Any]:
    return {
        "roles": list(row.roles),
        "scopes": list(row.scopes),
        "jurisdictions": list(row.jurisdictions),
        "units": list(row.units),
        "active": row.active,
    }


async def authenticate_account(
    session: AsyncSession, *, hasher: SecretHasher, username: str, password: str
) -> Account | None:
    account = await session.scalar(select(Account).where(Account.username == username))
    ok = await hasher.verify(account.password_hash if account else None, password)
    if account is None or not ok or not account.active:
        return None
    if hasher.needs_rehash(account.password_hash):
        account.password_hash = await hasher.hash(password)
    return account


async def authenticate_client(
    session: AsyncSession, *, hasher: SecretHasher, client_id: str, secret: str
) -> ApiClient | None:
    client = await session.get(ApiClient, client_id)
    ok = await hasher.verify(client.secret_hash if client else None, secret)
    if client is None or not ok or not client.active:
        return None
    if hasher.needs_rehash(client.secret_hash):
        client.secret_hash = await hasher.hash(secret)
    return client


async def create_account(
    session: AsyncSession, *, hasher: SecretHasher, data: AccountCreate, actor: Principal | None
) -> Account:
    if await session.scalar(select(Account.id).where(Account.username == data.username)) is not None:
        raise Conflict(f"An account named {data.username} already exists.")
    account = Account(
        username=data.username,
        display_name=data.display_name,
        password_hash=await hasher.hash(data.password),
        roles=data.roles,
        scopes=data.scopes,
        jurisdictions=data.jurisdictions,
        units=data.units,
        active=True,
        version=1,
    )
    session.add(account)
    await session.flush()
    if actor is not None:
        await record_audit(
            session,
            audit_log,
            principal=actor,
            action="create",
            entity="account",
            entity_id=account.username,
            after={"display_name": account.display_name, **_grants(account)},
        )
    return account


async def get_account(session: AsyncSession, *, username: str, for_update: bool = False) -> Account:
    """The account; ``for_update`` locks its row until the transaction ends, so that of two
    changes sent with one ETag the second sees the first's version (412), never loses it."""
    query = select(Account).where(Account.username == username)
    account = await session.scalar(query.with_for_update() if for_update else query)
    if account is None:
        raise NotFound(f"No account named {username}.")
    return account


async def list_accounts(session: AsyncSession, *, page: PageParams) -> tuple[list[Account], int]:
    total = await session.scalar(select(func.count()).select_from(Account)) or 0
    rows = await session.scalars(
        select(Account).order_by(Account.username).limit(page.limit).offset(page.offset)
    )
    return list(rows), total


async def update_account(
    session: AsyncSession, *, hasher: SecretHasher, account: Account, data: AccountUpdate, actor: Principal
) -> Account:
    before = {"display_name": account.display_name, **_grants(account)}
    changes = data.model_dump(exclude_unset=True, exclude={"password"})
    for field, value in changes.items():
        if value is not None:
            setattr(account, field, value)
    if data.password is not None:
        account.password_hash = await hasher.hash(data.password)
    account.version += 1
    await session.flush()
    await session.refresh(account)
    await record_audit(
        session,
        audit_log,
        principal=actor,
        action="update",
        entity="account",
        entity_id=account.username,
        before=before,
        after={
            "display_name": account.display_name,
            "password_changed": data.password is not None,
            **_grants(account),
        },
    )
    return account


async def create_client(
    session: AsyncSession, *, hasher: SecretHasher, data: ClientCreate, actor: Principal | None
) -> tuple[ApiClient, str]:
    if await session.get(ApiClient, data.client_id) is not None:
        raise Conflict(f"A client with id {data.client_id} already exists.")
    secret = generate_secret()
    client = ApiClient(
        client_id=data.client_id,
        name=data.name,
        secret_hash=await hasher.hash(secret),
        roles=data.roles,
        scopes=data.scopes,
        jurisdictions=data.jurisdictions,
        units=data.units,
        active=True,
        rate_limit_per_minute=data.rate_limit_per_minute,
        version=1,
    )
    session.add(client)
    await session.flush()
    if actor is not None:
        await record_audit(
            session,
            audit_log,
            principal=actor,
            action="create",
            entity="api_client",
            entity_id=client.client_id,
            after={"name": client.name, **_grants(client)},
        )
    return client, secret


async def get_client(session: AsyncSession, *, client_id: str, for_update: bool = False) -> ApiClient:
    """The client; ``for_update`` as for :func:`get_account`."""
    client = await session.get(ApiClient, client_id, with_for_update=for_update)
    if client is None:
        raise NotFound(f"No API client {client_id}.")
    return client


async def list_clients(session: AsyncSession, *, page: PageParams) -> tuple[list[ApiClient], int]:
    total = await session.scalar(select(func.count()).select_from(ApiClient)) or 0
    rows = await session.scalars(
        select(ApiClient).order_by(ApiClient.client_id).limit(page.limit).offset(page.offset)
    )
    return list(rows), total


async def update_client(
    session: AsyncSession, *, hasher: SecretHasher, client: ApiClient, data: ClientUpdate, actor: Principal
) -> tuple[ApiClient, str | None]:
    before = {
        "name": client.name,
        "rate_limit_per_minute": client.rate_limit_per_minute,
        **_grants(client),
    }
    for field, value in data.model_dump(exclude_unset=True, exclude={"rotate_secret"}).items():
        if value is not None or field == "rate_limit_per_minute":
            setattr(client, field, value)
    secret = None
    if data.rotate_secret:
        secret = generate_secret()
        client.secret_hash = await hasher.hash(secret)
    client.version += 1
    await session.flush()
    await session.refresh(client)
    await record_audit(
        session,
        audit_log,
        principal=actor,
        action="update",
        entity="api_client",
        entity_id=client.client_id,
        before=before,
        after={
            "name": client.name,
            "rate_limit_per_minute": client.rate_limit_per_minute,
            "secret_rotated": secret is not None,
            **_grants(client),
        },
    )
    return client, secret


async def ensure_bootstrap_admin(
    session: AsyncSession, *, hasher: SecretHasher, username: str, password: str
) -> bool:
    """Create the first admin when no admin exists yet. Returns True when created."""
    has_admin = await session.scalar(select(Account.id).where(Account.roles.contains([ADMIN_ROLE])).limit(1))
    if has_admin is not None:
        return False
    data = AccountCreate(
        username=username,
        display_name="Platform administrator",
        password=password,
        roles=[ADMIN_ROLE],
        scopes=sorted(KNOWN_SCOPES),
        jurisdictions=[ALL_JURISDICTIONS],
    )
    await create_account(session, hasher=hasher, data=data, actor=None)
    logger.info("bootstrap admin created", extra={"username": username})
    return True
