"""Accounts, clients, authentication and bootstrap. No HTTP here, and no commit."""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.db import audit_log
from gateway.iam import keys
from gateway.iam.models import Account, ApiClient, SigningKey
from gateway.iam.passwords import SecretHasher, generate_secret
from gateway.iam.schemas import AccountCreate, AccountUpdate, ClientCreate, ClientUpdate
from gateway.iam.scopes import IAM_ADMIN, KNOWN_SCOPES
from shared.audit import record_audit
from shared.auth import ALL_JURISDICTIONS, Principal
from shared.errors import Conflict, Forbidden, NotFound
from shared.pagination import PageParams

logger = logging.getLogger(__name__)
ADMIN_ROLE = "admin"
GRANT_FIELDS = ("roles", "scopes", "jurisdictions", "units")


def _grants(row: Account | ApiClient) -> dict[str, Any]:
    return {
        "roles": list(row.roles),
        "scopes": list(row.scopes),
        "jurisdictions": list(row.jurisdictions),
        "units": list(row.units),
        "active": row.active,
    }


def is_platform_wide_admin(principal: Principal) -> bool:
    """An administrator of every jurisdiction (``iam:admin`` with ``*``)."""
    return principal.has_scope(IAM_ADMIN) and principal.sees_everything


def _holds_platform_wide_admin(row: Account | ApiClient) -> bool:
    return IAM_ADMIN in row.scopes and ALL_JURISDICTIONS in row.jurisdictions


def ensure_may_grant(
    actor: Principal,
    *,
    roles: list[str],
    scopes: list[str],
    jurisdictions: list[str],
    what: str,
) -> None:
    """An administrator grants only what lies inside its own grants: its scopes, its roles
    (a platform-wide administrator any role) and jurisdictions in its own subtrees (``*``
    only when it holds ``*``). 403 naming what exceeds them."""
    beyond: list[str] = []
    if extra := sorted(set(scopes) - actor.scopes):
        beyond.append(f"scopes {', '.join(extra)}")
    if not is_platform_wide_admin(actor) and (extra := sorted(set(roles) - actor.roles)):
        beyond.append(f"roles {', '.join(extra)}")
    outside = sorted(
        code
        for code in set(jurisdictions)
        if not (actor.sees_everything if code == ALL_JURISDICTIONS else actor.can_access(code))
    )
    if outside:
        beyond.append(f"jurisdictions {', '.join(outside)}")
    if beyond:
        raise Forbidden(f"{what} goes beyond your own grants ({'; '.join(beyond)}).")


def ensure_may_manage(actor: Principal, row: Account | ApiClient, *, bootstrap_username: str) -> None:
    """Only a platform-wide administrator changes another platform-wide administrator or the
    bootstrap administrator; any other administrator changes only holders whose grants lie
    inside its own (a county administrator cannot reset the password of a city's)."""
    if is_platform_wide_admin(actor):
        return
    if isinstance(row, Account) and row.username == bootstrap_username:
        raise Forbidden("Only a platform-wide administrator may change the bootstrap administrator.")
    if _holds_platform_wide_admin(row):
        raise Forbidden("Only a platform-wide administrator may change a platform-wide administrator.")
    name = row.username if isinstance(row, Account) else row.client_id
    ensure_may_grant(
        actor,
        roles=list(row.roles),
        scopes=list(row.scopes),
        jurisdictions=list(row.jurisdictions),
        what=f"Changing {name}, whose grants",
    )


async def current_grants(session: AsyncSession, *, subject: str) -> Account | ApiClient | None:
    """The account or client a token's subject names, as it is now in the database."""
    if subject.startswith("client:"):
        return await session.get(ApiClient, subject.removeprefix("client:"))
    return await session.scalar(select(Account).where(Account.username == subject))


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
    if actor is not None:
        ensure_may_grant(
            actor,
            roles=data.roles,
            scopes=data.scopes,
            jurisdictions=data.jurisdictions,
            what=f"The account {data.username}",
        )
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


def within_area(actor: Principal, row: Account | ApiClient) -> bool:
    """Whether an administrator sees ``row``: a platform-wide administrator sees every
    account and client; any other only those whose jurisdictions all lie in its own
    subtrees (never a platform-wide holder, whose ``*`` lies in no county)."""
    if is_platform_wide_admin(actor):
        return True
    visible = set(actor.visible_jurisdictions())
    return all(code in visible for code in row.jurisdictions)


def _area_filter(actor: Principal, model: type[Account] | type[ApiClient]) -> list[Any]:
    if is_platform_wide_admin(actor):
        return []
    return [model.jurisdictions.contained_by(list(actor.visible_jurisdictions()))]


async def list_accounts(
    session: AsyncSession, *, page: PageParams, actor: Principal
) -> tuple[list[Account], int]:
    """The accounts ``actor`` sees (:func:`within_area`)."""
    where = _area_filter(actor, Account)
    total = await session.scalar(select(func.count()).select_from(Account).where(*where)) or 0
    rows = await session.scalars(
        select(Account).where(*where).order_by(Account.username).limit(page.limit).offset(page.offset)
    )
    return list(rows), total


def _ensure_update_within(
    actor: Principal, row: Account | ApiClient, changes: dict[str, Any], *, bootstrap_username: str, what: str
) -> None:
    ensure_may_manage(actor, row, bootstrap_username=bootstrap_username)
    ensure_may_grant(
        actor,
        roles=changes.get("roles") or [],
        scopes=changes.get("scopes") or [],
        jurisdictions=changes.get("jurisdictions") or [],
        what=what,
    )


def tokens_revoked_now() -> dt.datetime:
    """The instant from which a holder's earlier tokens are refused: the next whole second,
    so that a token issued in this second (``iat`` has whole seconds) is refused too."""
    return dt.datetime.fromtimestamp(math.floor(time.time()) + 1, dt.UTC)


def _revokes_tokens(changes: dict[str, Any], row: Account | ApiClient) -> bool:
    """Deactivation and any change of grants end the tokens issued before it."""
    if changes.get("active") is False:
        return True
    return any(
        field in changes and changes[field] is not None and list(changes[field]) != list(getattr(row, field))
        for field in GRANT_FIELDS
    )


async def update_account(
    session: AsyncSession,
    *,
    hasher: SecretHasher,
    account: Account,
    data: AccountUpdate,
    actor: Principal,
    bootstrap_username: str,
) -> Account:
    before = {"display_name": account.display_name, **_grants(account)}
    changes = data.model_dump(exclude_unset=True, exclude={"password"})
    _ensure_update_within(
        actor, account, changes, bootstrap_username=bootstrap_username, what=f"The account {account.username}"
    )
    if _revokes_tokens(changes, account) or data.password is not None:
        account.tokens_not_before = tokens_revoked_now()
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
    if actor is not None:
        ensure_may_grant(
            actor,
            roles=data.roles,
            scopes=data.scopes,
            jurisdictions=data.jurisdictions,
            what=f"The client {data.client_id}",
        )
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


async def list_clients(
    session: AsyncSession, *, page: PageParams, actor: Principal
) -> tuple[list[ApiClient], int]:
    """The clients ``actor`` sees (:func:`within_area`)."""
    where = _area_filter(actor, ApiClient)
    total = await session.scalar(select(func.count()).select_from(ApiClient).where(*where)) or 0
    rows = await session.scalars(
        select(ApiClient).where(*where).order_by(ApiClient.client_id).limit(page.limit).offset(page.offset)
    )
    return list(rows), total


async def update_client(
    session: AsyncSession,
    *,
    hasher: SecretHasher,
    client: ApiClient,
    data: ClientUpdate,
    actor: Principal,
    bootstrap_username: str,
) -> tuple[ApiClient, str | None]:
    before = {
        "name": client.name,
        "rate_limit_per_minute": client.rate_limit_per_minute,
        **_grants(client),
    }
    changes = data.model_dump(exclude_unset=True, exclude={"rotate_secret"})
    _ensure_update_within(
        actor, client, changes, bootstrap_username=bootstrap_username, what=f"The client {client.client_id}"
    )
    if _revokes_tokens(changes, client) or data.rotate_secret:
        client.tokens_not_before = tokens_revoked_now()
    for field, value in changes.items():
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


async def rotate_signing_key(session: AsyncSession, *, overlap: dt.timedelta, actor: Principal) -> SigningKey:
    """Start signing with a new key (earlier keys stay published for ``overlap``), audited as
    every admin write: who rotated, the new key id and the ids of the keys it retires."""
    key, retiring = await keys.rotate_retiring(session, overlap=overlap)
    await record_audit(
        session,
        audit_log,
        principal=actor,
        action="rotate",
        entity="signing_key",
        entity_id=key.kid,
        before={"signing": retiring},
        after={"kid": key.kid, "algorithm": key.algorithm, "retiring": retiring},
    )
    return key


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
