"""``POST /auth/token``, ``/.well-known/jwks.json`` and the admin API under ``/auth/admin``."""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal
from urllib.parse import unquote_plus

from fastapi import APIRouter, Depends, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.iam import keys, service
from gateway.iam.keys import KeyRing
from gateway.iam.passwords import SecretHasher
from gateway.iam.schemas import (
    AccountCreate,
    AccountRead,
    AccountUpdate,
    ClientCreate,
    ClientRead,
    ClientUpdate,
    ClientWithSecret,
    RevocationsRead,
    SigningKeyRead,
    TokenResponse,
)
from gateway.iam.scopes import IAM_ADMIN
from gateway.iam.throttle import SignInThrottle, client_address
from gateway.iam.tokens import issue_token
from shared.auth import BEARER_CHALLENGE, Principal, require_scope
from shared.concurrency import IfMatch, etag_for, require_if_match, set_etag
from shared.db import SessionDep
from shared.errors import Forbidden, NotFound, ProblemError, Unauthorized
from shared.examples import answer_example
from shared.idempotency import IdempotencyDep
from shared.pagination import Items, Page, PageDep
from shared.problems import problem_responses

logger = logging.getLogger(__name__)
router = APIRouter(tags=["auth"])
admin = APIRouter(prefix="/auth/admin", tags=["admin"], responses=problem_responses(401, 403))


async def current_admin(
    principal: Annotated[Principal, Depends(require_scope(IAM_ADMIN))], session: SessionDep
) -> Principal:
    """The administrator as it is now in the database, not as its token says: every admin
    operation re-reads the account (or client), so a deactivated administrator or one whose
    grants were narrowed acts no more with the token it still holds."""
    holder = await service.current_grants(session, subject=principal.subject)
    if holder is None or not holder.active:
        raise Unauthorized("This account is no longer active.", headers=dict(BEARER_CHALLENGE))
    if IAM_ADMIN not in holder.scopes:
        raise Forbidden(f"This operation needs the scope {IAM_ADMIN}.")
    return dataclasses.replace(
        principal,
        roles=frozenset(holder.roles),
        scopes=frozenset(holder.scopes),
        jurisdictions=tuple(holder.jurisdictions),
        units=tuple(holder.units),
    )


AdminDep = Annotated[Principal, Depends(current_admin)]


async def platform_admin(principal: AdminDep) -> Principal:
    """An administrator of the whole platform (``iam:admin`` with ``*``): signing keys are the
    platform's, not a county's."""
    if not service.is_platform_wide_admin(principal):
        raise Forbidden("Only a platform-wide administrator (iam:admin for every jurisdiction) may do this.")
    return principal


PlatformAdminDep = Annotated[Principal, Depends(platform_admin)]


def _seen(principal: Principal, row: Any, missing: str) -> None:
    """404 for an account or client outside the administrator's area, as for one that does
    not exist: a county administrator learns nothing of other counties' or the platform's."""
    if not service.within_area(principal, row):
        raise NotFound(missing)


class InvalidGrant(ProblemError):
    status = 400
    title = "Invalid grant"
    type_suffix = "invalid-grant"


def key_ring(request: Request) -> KeyRing:
    ring: KeyRing = request.app.state.key_ring
    return ring


async def secret_hasher(request: Request) -> SecretHasher:
    hasher: SecretHasher = request.app.state.secret_hasher
    return hasher


HasherDep = Annotated[SecretHasher, Depends(secret_hasher)]


def bootstrap_username(request: Request) -> str:
    name: str = request.app.state.settings.bootstrap_admin_username or "admin"
    return name


class TooManyAttempts(ProblemError):
    status = 429
    title = "Too many requests"
    type_suffix = "too-many-signin-attempts"


NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """``client_secret_basic`` (RFC 6749 §2.3.1): id and secret, each form-urlencoded, in
    HTTP Basic. None without a Basic header; 401 for a malformed one."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _client_refused("The Basic credentials are not valid base64 of id:secret.", basic=True) from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise _client_refused("The Basic credentials are not valid base64 of id:secret.", basic=True)
    return unquote_plus(client_id), unquote_plus(secret)


def _client_refused(detail: str, *, basic: bool) -> Unauthorized:
    headers = dict(NO_STORE)
    if basic:
        headers["WWW-Authenticate"] = 'Basic realm="civic-platform"'
    return Unauthorized(detail, headers=headers, extra={"error": "invalid_client"})


@router.post(
    "/auth/token",
    response_model=TokenResponse,
    summary="Issue an access token (OAuth2 password or client-credentials grant)",
    description=(
        "Clients authenticate with `client_id` and `client_secret` in the form or with HTTP Basic "
        "(`client_secret_basic`, RFC 6749 §2.3.1), not both. Attempts are counted per name and "
        "client address: beyond the configured number, 429 with an exponentially growing "
        "`Retry-After` (the same for unknown and known names). Answers are `Cache-Control: no-store`."
    ),
    responses=problem_responses(400, 401, 422, 429, 503),
)
async def token(
    request: Request,
    response: Response,
    session: SessionDep,
    hasher: HasherDep,
    grant_type: Annotated[Literal["password", "client_credentials"], Form()],
    username: Annotated[str | None, Form(max_length=100)] = None,
    password: Annotated[str | None, Form(max_length=200)] = None,
    client_id: Annotated[str | None, Form(max_length=100)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    scope: Annotated[str | None, Form(max_length=2000)] = None,
) -> TokenResponse:
    response.headers.update(NO_STORE)
    try:
        return await _issue(
            request, session, hasher, grant_type, username, password, client_id, client_secret, scope
        )
    except ProblemError as exc:
        for name, value in NO_STORE.items():
            exc.headers.setdefault(name, value)
        raise


async def _issue(
    request: Request,
    session: AsyncSession,
    hasher: SecretHasher,
    grant_type: str,
    username: str | None,
    password: str | None,
    client_id: str | None,
    client_secret: str | None,
    scope: str | None,
) -> TokenResponse:
    settings = request.app.state.settings
    throttle: SignInThrottle = request.app.state.signin_throttle
    address = client_address(request.scope, settings.trusted_networks)
    holder: Any
    if grant_type == "password":
        if not username or not password:
            raise InvalidGrant(
                "The password grant needs username and password.",
                extra={"error": "invalid_request"},
            )
        name = username
        await _admit(throttle, name, address)
        async with _counted(throttle, name, address):
            holder = await service.authenticate_account(
                session, hasher=hasher, username=username, password=password
            )
        if holder is None:
            _log_refused(grant_type, name, address)
            raise InvalidGrant("Unknown user name or wrong password.", extra={"error": "invalid_grant"})
        subject, display, holder_client = holder.username, holder.display_name, None
    else:
        basic = basic_credentials(request)
        if basic is not None and (client_id or client_secret):
            raise InvalidGrant(
                "Authenticate the client one way: HTTP Basic or the form fields, not both.",
                extra={"error": "invalid_request"},
            )
        if basic is not None:
            client_id, client_secret = basic
        if not client_id or not client_secret:
            raise InvalidGrant(
                "The client-credentials grant needs client_id and client_secret.",
                extra={"error": "invalid_request"},
            )
        name = f"client:{client_id}"
        await _admit(throttle, name, address)
        async with _counted(throttle, name, address):
            holder = await service.authenticate_client(
                session, hasher=hasher, client_id=client_id, secret=client_secret
            )
        if holder is None:
            _log_refused(grant_type, name, address)
            raise _client_refused("Unknown client or wrong secret.", basic=basic is not None)
        subject, display, holder_client = f"client:{holder.client_id}", holder.name, holder.client_id
    await throttle.succeeded(name, address)
    granted = list(holder.scopes)
    if scope:
        asked = scope.split()
        if not set(asked) <= set(granted):
            raise InvalidGrant("A requested scope is not granted to you.", extra={"error": "invalid_scope"})
        granted = asked
    access_token = issue_token(
        key_ring(request),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl_seconds=settings.token_ttl_seconds,
        subject=subject,
        roles=list(holder.roles),
        scopes=granted,
        jurisdictions=list(holder.jurisdictions),
        units=list(holder.units),
        client_id=holder_client,
        name=display,
        not_before=int(holder.tokens_not_before.timestamp()) if holder.tokens_not_before else None,
    )
    return TokenResponse(
        access_token=access_token,
        expires_in=settings.token_ttl_seconds,
        scope=" ".join(sorted(granted)),
    )


async def _admit(throttle: SignInThrottle, name: str, address: str) -> None:
    wait = await throttle.attempt(name, address)
    if wait > 0:
        logger.warning(
            "sign-in throttled", extra={"username": name, "client_ip": address, "retry_after": wait}
        )
        raise TooManyAttempts(
            f"Too many sign-in attempts; retry after {wait} seconds.",
            headers={"Retry-After": str(wait)},
            extra={"error": "invalid_request"},
        )


@contextlib.asynccontextmanager
async def _counted(throttle: SignInThrottle, name: str, address: str) -> AsyncIterator[None]:
    """An attempt that could not be checked (hashing busy, database down) is not held against the name."""
    try:
        yield
    except Exception:
        await throttle.abandoned(name, address)
        raise


def _log_refused(grant_type: str, name: str, address: str) -> None:
    # never the password or secret
    logger.warning(
        "sign-in refused", extra={"username": name, "client_ip": address, "grant_type": grant_type}
    )


@router.get(
    "/.well-known/jwks.json",
    summary="The public keys that verify platform tokens",
    responses=answer_example(
        {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
                    "kid": "20240701093000-1a2b3c4d",
                    "alg": "EdDSA",
                    "use": "sig",
                }
            ]
        }
    ),
)
async def jwks(request: Request) -> dict[str, Any]:
    return key_ring(request).jwks()


@router.get(
    "/auth/revocations",
    response_model=RevocationsRead,
    summary="Token revocations: per subject digest, the instant before which its tokens are refused",
    description=(
        "Services poll this (at least every 2 s) and refuse a token whose `iat` is earlier than "
        "its subject's instant. Subjects appear as the first 32 hex digits of the SHA-256 of "
        "the token's `sub`; only revocations younger than a token's lifetime are listed."
    ),
)
async def revocations(request: Request, response: Response) -> RevocationsRead:
    response.headers["Cache-Control"] = "no-store"
    return RevocationsRead(not_before=request.app.state.revocations.snapshot())


@admin.post(
    "/accounts",
    status_code=201,
    response_model=AccountRead,
    summary="Create a staff account",
    responses=problem_responses(409, 422),
)
async def create_account(
    data: AccountCreate,
    session: SessionDep,
    hasher: HasherDep,
    principal: AdminDep,
    idempotency: IdempotencyDep,
) -> Response:
    if replay := await idempotency.replay():
        return replay
    account = await service.create_account(session, hasher=hasher, data=data, actor=principal)
    body = AccountRead.model_validate(account)
    return await idempotency.respond(201, body, headers={"ETag": etag_for(account.username, account.version)})


@admin.get("/accounts", response_model=Page[AccountRead], summary="List staff accounts")
async def list_accounts(session: SessionDep, principal: AdminDep, page: PageDep) -> Page[AccountRead]:
    rows, total = await service.list_accounts(session, page=page, actor=principal)
    return Page.of([AccountRead.model_validate(r) for r in rows], total, page)


@admin.get(
    "/accounts/{username}",
    response_model=AccountRead,
    summary="Read a staff account",
    responses=problem_responses(404),
)
async def read_account(
    username: str, session: SessionDep, principal: AdminDep, response: Response
) -> AccountRead:
    account = await service.get_account(session, username=username)
    _seen(principal, account, f"No account named {username}.")
    set_etag(response, account.username, account.version)
    return AccountRead.model_validate(account)


@admin.patch(
    "/accounts/{username}",
    response_model=AccountRead,
    summary="Change a staff account",
    responses=problem_responses(404, 412, 422, 428),
)
async def update_account(
    request: Request,
    username: str,
    data: AccountUpdate,
    response: Response,
    session: SessionDep,
    hasher: HasherDep,
    principal: AdminDep,
    if_match: IfMatch = None,
) -> AccountRead:
    account = await service.get_account(session, username=username, for_update=True)
    _seen(principal, account, f"No account named {username}.")
    require_if_match(if_match, account.username, account.version)
    account = await service.update_account(
        session,
        hasher=hasher,
        account=account,
        data=data,
        actor=principal,
        bootstrap_username=bootstrap_username(request),
    )
    set_etag(response, account.username, account.version)
    return AccountRead.model_validate(account)


@admin.post(
    "/clients",
    status_code=201,
    response_model=ClientWithSecret,
    summary="Register an API client (other government systems)",
    responses=problem_responses(409, 422),
)
async def create_client(
    data: ClientCreate,
    session: SessionDep,
    hasher: HasherDep,
    principal: AdminDep,
    idempotency: IdempotencyDep,
) -> Response:
    if replay := await idempotency.replay():
        return replay
    client, secret = await service.create_client(session, hasher=hasher, data=data, actor=principal)
    body = ClientWithSecret(**ClientRead.model_validate(client).model_dump(), client_secret=secret)
    return await idempotency.respond(201, body, headers={"ETag": etag_for(client.client_id, client.version)})


@admin.get("/clients", response_model=Page[ClientRead], summary="List API clients")
async def list_clients(session: SessionDep, principal: AdminDep, page: PageDep) -> Page[ClientRead]:
    rows, total = await service.list_clients(session, page=page, actor=principal)
    return Page.of([ClientRead.model_validate(r) for r in rows], total, page)


@admin.get(
    "/clients/{client_id}",
    response_model=ClientRead,
    summary="Read an API client",
    responses=problem_responses(404),
)
async def read_client(
    client_id: str, session: SessionDep, principal: AdminDep, response: Response
) -> ClientRead:
    client = await service.get_client(session, client_id=client_id)
    _seen(principal, client, f"No API client {client_id}.")
    set_etag(response, client.client_id, client.version)
    return ClientRead.model_validate(client)


@admin.patch(
    "/clients/{client_id}",
    response_model=ClientWithSecret | ClientRead,
    summary="Change an API client (or rotate its secret)",
    responses=problem_responses(404, 412, 422, 428),
)
async def update_client(
    request: Request,
    client_id: str,
    data: ClientUpdate,
    response: Response,
    session: SessionDep,
    hasher: HasherDep,
    principal: AdminDep,
    if_match: IfMatch = None,
) -> ClientWithSecret | ClientRead:
    client = await service.get_client(session, client_id=client_id, for_update=True)
    _seen(principal, client, f"No API client {client_id}.")
    require_if_match(if_match, client.client_id, client.version)
    client, secret = await service.update_client(
        session,
        hasher=hasher,
        client=client,
        data=data,
        actor=principal,
        bootstrap_username=bootstrap_username(request),
    )
    set_etag(response, client.client_id, client.version)
    read = ClientRead.model_validate(client)
    return ClientWithSecret(**read.model_dump(), client_secret=secret) if secret else read


@admin.get("/keys", response_model=Items[SigningKeyRead], summary="List token signing keys")
async def list_keys(session: SessionDep, principal: PlatformAdminDep) -> Items[SigningKeyRead]:
    return Items.of([SigningKeyRead.model_validate(r) for r in await keys.all_keys(session)])


@admin.post(
    "/keys/rotate",
    status_code=201,
    response_model=SigningKeyRead,
    summary="Start signing with a new key; earlier keys stay published until tokens expire",
)
async def rotate_keys(request: Request, session: SessionDep, principal: PlatformAdminDep) -> SigningKeyRead:
    settings = request.app.state.settings
    overlap = dt.timedelta(seconds=settings.token_ttl_seconds + 60)
    key = await service.rotate_signing_key(session, overlap=overlap, actor=principal)
    await session.commit()
    await key_ring(request).load(session)
    return SigningKeyRead.model_validate(key)
