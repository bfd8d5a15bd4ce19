"""Webhook subscriptions (``/api/{service}/v1/webhook-subscriptions``) and their signing.

A subscription belongs to the API client that made it and sees what that client may see: its
scopes and jurisdictions are kept with the subscription together with the token subject and the
instant (``iat``) of the token that showed them (refreshed whenever the client touches it), and
applied when events are queued and again when each is delivered. A service does not hold the
gateway's IAM records; it learns of every deactivation, change of grants and new secret from the
gateway's revocation list (per subject, the instant before which tokens are refused). When that
instant is later than the token that confirmed a subscription's grants, the stored grants may
be stale: the relay pauses the subscription (saying why) and withholds its pending deliveries,
and nothing is sent until the client confirms its current grants by resuming it with a token
issued since (:mod:`shared.events.relay`).

Deliveries are signed per Standard Webhooks (``standardwebhooks``): ``webhook-id`` (the event
id, repeated by every retry), ``webhook-timestamp``, ``webhook-signature`` with one ``v1,``
signature per active secret. A rotation keeps exactly the previous secret valid for the grace
period: rotating twice within it leaves the newest and the one just before it (the first is no
longer valid). ``rotate-secret`` honours ``Idempotency-Key`` (a retry gets the same secret).

Targets are http(s) only; loopback, link-local, private, reserved and other non-global
addresses are refused — also IPv6 forms that carry such an IPv4 address (IPv4-mapped and
-compatible, SIIT, NAT64 ``64:ff9b::/96``, 6to4, Teredo; local-use NAT64 ``64:ff9b:1::/48``
always) — when the subscription is made and before each delivery, unless
``<P>WEBHOOKS_ALLOW_PRIVATE_TARGETS`` allows them. A delivery resolves the host once, checks
every address it resolves to, and connects to a checked address (``Host`` and TLS SNI name the
host), so a name that resolves elsewhere a moment later (DNS rebinding) changes nothing.
"""

import asyncio
import base64
import datetime as dt
import ipaddress
import secrets
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook

from shared.auth import Principal, require_scope
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.events.feed import full_type, horizon
from shared.events.types import allowed_types, unknown_types
from shared.pagination import Page, PageDep
from shared.problems import problem_responses
from shared.records import PlatformTables
from shared.writes import WriteDep

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_header(secrets_: Sequence[str], msg_id: str, timestamp: dt.datetime, body: str) -> str:
    """``webhook-signature``: one ``v1,…`` per secret, space-separated."""
    return " ".join(Webhook(secret).sign(msg_id, timestamp, body) for secret in secrets_)


def signed_headers(
    secrets_: Sequence[str], msg_id: str, body: str, now: dt.datetime | None = None
) -> dict[str, str]:
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature_header(secrets_, msg_id, now, body),
        "content-type": "application/cloudevents+json",
    }


def active_secrets(subscription: Any, now: dt.datetime) -> list[str]:
    """The current secret, and the previous one while its grace period lasts."""
    found = [subscription.secret]
    until = subscription.previous_secret_until
    if subscription.previous_secret and until is not None and until > now:
        found.append(subscription.previous_secret)
    return found


# -- targets (SSRF) ----------------------------------------------------------------------


class TargetRefused(ValueError):
    pass


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_SIIT = ipaddress.ip_network("::ffff:0:0:0/96")  # IPv4-translated (RFC 2765)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix (RFC 6052)
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # local-use (RFC 8215): never a public target
_BROADCAST = ipaddress.ip_address("255.255.255.255")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (and reaches), by the translation forms."""
    found: list[ipaddress.IPv4Address] = []
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    elif any(ip in prefix for prefix in (_SIIT, _NAT64, _NAT64_LOCAL)) or (
        ip in _IPV4_COMPATIBLE and int(ip) > 1  # ::a.b.c.d (not :: nor ::1)
    ):
        found.append(low32)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def _public(ip: IPAddress) -> bool:
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
    )


def address_allowed(address: str, *, allow_private: bool) -> bool:
    """May a delivery connect to ``address``? Public unicast only (unless ``allow_private``:
    then anything but multicast, unspecified and broadcast); an IPv6 address that carries an
    IPv4 one (mapped, compatible, SIIT, NAT64, 6to4, Teredo) is judged by that IPv4 address."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = embedded_ipv4(ip)
        if embedded:
            if not allow_private and ip in _NAT64_LOCAL:
                return False
            candidates = list(embedded)  # the container prefix itself is reserved: judge what it reaches
            if ip.teredo is not None:
                candidates.append(ip)  # Teredo is not a global prefix either way
    for candidate in candidates:
        if candidate.is_multicast or candidate.is_unspecified or candidate == _BROADCAST:
            return False
        if not allow_private and not _public(candidate):
            return False
    return True


def check_url(url: str) -> tuple[str, int]:
    """The host and port of an http(s) URL without credentials; :class:`TargetRefused` else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("not a valid URL") from exc
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("only http and https targets are allowed")
    if not parts.hostname:
        raise TargetRefused("the URL names no host")
    if parts.username or parts.password:
        raise TargetRefused("credentials in the URL are not allowed")
    if parts.fragment:
        raise TargetRefused("a fragment is not allowed")
    if port == 0:
        raise TargetRefused("port 0 is not a target port")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise TargetRefused("white space and control characters are not allowed in the URL")
    try:
        parts.hostname.encode("idna")
    except UnicodeError as exc:
        raise TargetRefused("the URL's host name is not valid") from exc
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (TCP), in the resolver's order, each once."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=5)
    except (OSError, TimeoutError) as exc:
        raise TargetRefused(f"the host {host} does not resolve") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """A checked target: the URL as given, its host and the addresses that were checked."""

    url: str
    host: str
    port: int
    addresses: tuple[str, ...]

    @property
    def host_is_address(self) -> bool:
        try:
            ipaddress.ip_address(self.host.split("%", 1)[0])
        except ValueError:
            return False
        return True

    def pinned(self, address: str) -> tuple[str, dict[str, str], dict[str, Any]]:
        """The URL to ``address`` (a checked one) with the headers and the request extensions
        that keep the original host: ``Host`` and, for https, the TLS server name (SNI and
        certificate check)."""
        parts = urlsplit(self.url)
        literal = f"[{address}]" if ":" in address else address
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        extensions: dict[str, Any] = {}
        if self.host_is_address:
            host = f"[{self.host}]" if ":" in self.host else self.host
        else:
            host = self.host.encode("idna").decode("ascii")  # checked by check_url
            if parts.scheme == "https":
                extensions["sni_hostname"] = host
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return url, {"host": host}, extensions


async def resolve_target(url: str, *, allow_private: bool, resolver: Resolver | None = None) -> Target:
    """Resolve the target's host once and check every address (SSRF); :class:`TargetRefused`
    when one is not allowed. Deliver to :meth:`Target.pinned` addresses only."""
    host, port = check_url(url)
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        addresses = [host]
    except ValueError:
        addresses = await (resolver or resolve)(host, port)
        if not addresses:
            raise TargetRefused(f"the host {host} does not resolve") from None
    for address in addresses:
        if not address_allowed(address, allow_private=allow_private):
            raise TargetRefused(
                "loopback, link-local, private and reserved addresses (also inside IPv6 forms "
                "that carry an IPv4 address) are not allowed as targets (WEBHOOKS_ALLOW_PRIVATE_TARGETS)"
            )
    return Target(url=url, host=host, port=port, addresses=tuple(addresses))


async def check_target(url: str, *, allow_private: bool) -> None:
    """Refuse a target whose host is, or resolves to, an address not allowed (SSRF)."""
    await resolve_target(url, allow_private=allow_private)


# -- owners ------------------------------------------------------------------------------


def owner_principal(subscription: Any) -> Principal:
    """The subscription's owner as of its last change: what its deliveries may show."""
    return Principal(
        subject=subscription.owner,
        roles=frozenset(),
        scopes=frozenset(subscription.owner_scopes),
        jurisdictions=tuple(subscription.owner_jurisdictions),
        client_id=subscription.owner,
    )


def owner_grants(service: str, principal: Principal) -> dict[str, Any]:
    """What a subscription keeps of the token that made or last changed it: the grants, the
    subject (whose revocations the relay watches) and the instant the token was issued."""
    iat = principal.claims.get("iat")
    issued = dt.datetime.fromtimestamp(float(iat), dt.UTC) if isinstance(iat, int | float) else None
    return {
        "owner_scopes": sorted(s for s in principal.scopes if s.startswith(f"{service}:")),
        "owner_jurisdictions": list(principal.jurisdictions),
        "owner_subject": principal.subject,
        "grants_issued_at": issued or dt.datetime.now(dt.UTC),
        # the token was checked against the revocations when this request was admitted
        "grants_checked_at": dt.datetime.now(dt.UTC),
    }


def rotation_values(subscriptions: Table, grace_seconds: float) -> tuple[str, dict[str, Any]]:
    """A rotation's new secret and the row's new values. The previous secret is the one current
    when the UPDATE takes the row (not when it was read), so rotations at the same time form a
    chain: each answer's secret was current, and the row keeps exactly the newest and the one
    just before it, the latter valid for ``grace_seconds`` from this rotation."""
    secret = new_secret()
    return secret, {
        "secret": secret,
        "previous_secret": subscriptions.c.secret,
        "previous_secret_until": func.now() + dt.timedelta(seconds=grace_seconds),
    }


def check_types(service: str, types: Sequence[str]) -> None:
    """422 naming each type the service does not write, with the allowed ones."""
    unknown = unknown_types(service, types)
    if unknown:
        allowed = allowed_types(service)
        raise InvalidInput(
            "Unknown event type(s): " + ", ".join(name for _, name in unknown) + ".",
            errors=[
                {
                    "field": f"body.types.{index}",
                    "message": f"unknown event type {name!r}",
                    "allowed": allowed,
                }
                for index, name in unknown
            ],
        )


def owner_of(principal: Principal) -> str:
    if principal.client_id is None:
        raise Forbidden("Webhook subscriptions belong to API clients: use a client-credentials token.")
    return principal.client_id


# -- API ---------------------------------------------------------------------------------

EventType = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")]


class SubscriptionCreate(BaseModel):
    model_config = {"extra": "forbid"}

    url: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    types: list[EventType] = Field(default_factory=list, max_length=100, description="empty: every type")
    description: Annotated[str, StringConstraints(max_length=500)] = ""


class SubscriptionRead(BaseModel):
    id: uuid.UUID
    url: str
    types: list[str]
    description: str
    active: bool
    paused_reason: str | None
    previous_secret_until: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class SubscriptionWithSecret(SubscriptionRead):
    secret: str = Field(description="Standard Webhooks signing secret; shown only now")


class DeliveryRead(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: str = Field(
        description="pending, delivered, failed or withheld (no longer visible to the owner, or held "
        "back when the owner's grants changed: never sent; a retry re-checks the current grants)"
    )
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: dt.datetime | None
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None


def _read(row: Any) -> SubscriptionRead:
    return SubscriptionRead.model_validate(row._mapping)


async def _load(session: AsyncSession, table: Table, subscription_id: uuid.UUID, owner: str) -> Any:
    row = (
        await session.execute(select(table).where(table.c.id == subscription_id, table.c.owner == owner))
    ).first()
    if row is None:
        raise NotFound(f"No webhook subscription {subscription_id}.")
    return row


def webhooks_router(service: str, tables: PlatformTables) -> APIRouter:
    subscriptions, deliveries, outbox = tables.webhook_subscriptions, tables.webhook_deliveries, tables.outbox
    assert outbox is not None
    assert subscriptions is not None
    assert deliveries is not None
    router = APIRouter(prefix=f"/api/{service}/v1/webhook-subscriptions", tags=["webhooks"])
    ReaderDep = Annotated[Principal, Depends(require_scope(f"{service}:read"))]  # noqa: N806
    SubscriptionId = Annotated[uuid.UUID, Path()]  # noqa: N806

    def grants(principal: Principal) -> dict[str, Any]:
        return owner_grants(service, principal)

    async def changed(
        write: Any, principal: Principal, subscription_id: uuid.UUID, action: str, **values: Any
    ) -> Any:
        owner = owner_of(principal)
        await _load(write.session, subscriptions, subscription_id, owner)
        row = (
            await write.session.execute(
                update(subscriptions)
                .where(subscriptions.c.id == subscription_id)
                .values(
                    **values, **grants(principal), version=subscriptions.c.version + 1, updated_at=func.now()
                )
                .returning(subscriptions)
            )
        ).one()
        await write.record(
            action=action,
            entity="webhook_subscription",
            entity_id=subscription_id,
            after={"active": row.active},
            event=None,
        )
        return row

    @router.post(
        "",
        status_code=201,
        response_model=SubscriptionWithSecret,
        summary="Subscribe a URL to change events (Standard Webhooks signatures; the secret is shown once)",
        responses=problem_responses(403, 422),
    )
    async def create_subscription(
        request: Request, data: SubscriptionCreate, principal: ReaderDep, write: WriteDep
    ) -> Response:
        if replay := await write.replay():
            return replay
        owner = owner_of(principal)
        check_types(service, data.types)
        settings = request.app.state.settings
        try:
            await check_target(data.url, allow_private=settings.webhooks_allow_private_targets)
        except TargetRefused as exc:
            raise InvalidInput.field("body.url", str(exc)) from None
        secret = new_secret()
        start = await horizon(write.session, outbox)
        row = (
            await write.session.execute(
                subscriptions.insert()
                .values(
                    id=uuid.uuid4(),
                    owner=owner,
                    url=data.url,
                    types=sorted({full_type(service, t) for t in data.types}),
                    description=data.description,
                    secret=secret,
                    # events from now on: those already final are not sent
                    after_transaction_id=max(start - 1, 0),
                    after_sequence=2**63 - 1,
                    **grants(principal),
                )
                .returning(subscriptions)
            )
        ).one()
        await write.record(
            action="create",
            entity="webhook_subscription",
            entity_id=row.id,
            after={"url": row.url, "types": row.types, "owner": owner},
            event=None,
        )
        body = SubscriptionWithSecret(**_read(row).model_dump(), secret=secret)
        return await write.respond(201, body, location=f"/api/{service}/v1/webhook-subscriptions/{row.id}")

    @router.get(
        "",
        response_model=Page[SubscriptionRead],
        summary="The caller's webhook subscriptions",
        responses=problem_responses(403, 422),
    )
    async def list_subscriptions(
        request: Request, principal: ReaderDep, page: PageDep
    ) -> Page[SubscriptionRead]:
        owner = owner_of(principal)
        async with request.app.state.database.sessions() as session:
            query = select(subscriptions).where(subscriptions.c.owner == owner)
            total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = await session.execute(
                query.order_by(subscriptions.c.created_at, subscriptions.c.id)
                .limit(page.limit)
                .offset(page.offset)
            )
            return Page.of([_read(r) for r in rows], total, page)

    @router.get(
        "/{subscription_id}",
        response_model=SubscriptionRead,
        summary="One webhook subscription",
        responses=problem_responses(403, 404, 422),
    )
    async def read_subscription(
        request: Request, subscription_id: SubscriptionId, principal: ReaderDep
    ) -> SubscriptionRead:
        async with request.app.state.database.sessions() as session:
            return _read(await _load(session, subscriptions, subscription_id, owner_of(principal)))

    @router.post(
        "/{subscription_id}/pause",
        response_model=SubscriptionRead,
        summary="Pause deliveries (events are still queued; resume delivers them in order)",
        responses=problem_responses(403, 404, 422),
    )
    async def pause_subscription(
        subscription_id: SubscriptionId, principal: ReaderDep, write: WriteDep
    ) -> SubscriptionRead:
        row = await changed(
            write, principal, subscription_id, "pause", active=False, paused_reason="paused by its owner"
        )
        return _read(row)

    @router.post(
        "/{subscription_id}/resume",
        response_model=SubscriptionRead,
        summary="Resume deliveries",
        responses=problem_responses(403, 404, 422),
    )
    async def resume_subscription(
        request: Request, subscription_id: SubscriptionId, principal: ReaderDep, write: WriteDep
    ) -> SubscriptionRead:
        row = await _load(write.session, subscriptions, subscription_id, owner_of(principal))
        try:
            await check_target(
                row.url, allow_private=request.app.state.settings.webhooks_allow_private_targets
            )
        except TargetRefused as exc:
            raise InvalidInput.field("url", str(exc)) from None
        row = await changed(write, principal, subscription_id, "resume", active=True, paused_reason=None)
        return _read(row)

    @router.post(
        "/{subscription_id}/rotate-secret",
        response_model=SubscriptionWithSecret,
        summary="A new signing secret (shown once); the previous one signs too for the grace period",
        responses=problem_responses(403, 404, 422),
    )
    async def rotate_secret(
        request: Request, subscription_id: SubscriptionId, principal: ReaderDep, write: WriteDep
    ) -> Response:
        if replay := await write.replay():
            return replay
        grace = request.app.state.settings.webhooks_secret_grace_seconds
        secret, values = rotation_values(subscriptions, grace)
        row = await changed(write, principal, subscription_id, "rotate-secret", **values)
        return await write.respond(200, SubscriptionWithSecret(**_read(row).model_dump(), secret=secret))

    @router.delete(
        "/{subscription_id}",
        status_code=204,
        summary="Delete a subscription and its deliveries log",
        responses=problem_responses(403, 404, 422),
    )
    async def delete_subscription(
        subscription_id: SubscriptionId, principal: ReaderDep, write: WriteDep
    ) -> Response:
        await _load(write.session, subscriptions, subscription_id, owner_of(principal))
        deleted = await write.session.execute(
            subscriptions.delete().where(subscriptions.c.id == subscription_id).returning(subscriptions.c.id)
        )
        if deleted.first() is None:  # a twin deleted it while this request waited for the row
            raise NotFound(f"No webhook subscription {subscription_id}.")
        await write.record(
            action="delete", entity="webhook_subscription", entity_id=subscription_id, event=None
        )
        return Response(status_code=204)

    @router.get(
        "/{subscription_id}/deliveries",
        response_model=Page[DeliveryRead],
        summary="The deliveries log: status, attempts, last answer code, next retry (newest first)",
        responses=problem_responses(403, 404, 422),
    )
    async def list_deliveries(
        request: Request, subscription_id: SubscriptionId, principal: ReaderDep, page: PageDep
    ) -> Page[DeliveryRead]:
        async with request.app.state.database.sessions() as session:
            await _load(session, subscriptions, subscription_id, owner_of(principal))
            query = select(deliveries).where(deliveries.c.subscription_id == subscription_id)
            total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = await session.execute(
                query.order_by(deliveries.c.transaction_id.desc(), deliveries.c.sequence.desc())
                .limit(page.limit)
                .offset(page.offset)
            )
            return Page.of([DeliveryRead.model_validate(r._mapping) for r in rows], total, page)

    @router.post(
        "/{subscription_id}/deliveries/{delivery_id}/retry",
        response_model=DeliveryRead,
        summary="Deliver again now (a failed or delivered event; same webhook-id)",
        responses=problem_responses(403, 404, 422),
    )
    async def retry_delivery(
        subscription_id: SubscriptionId,
        delivery_id: Annotated[uuid.UUID, Path()],
        principal: ReaderDep,
        write: WriteDep,
    ) -> DeliveryRead:
        await _load(write.session, subscriptions, subscription_id, owner_of(principal))
        row = (
            await write.session.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id, deliveries.c.subscription_id == subscription_id)
                .values(status="pending", next_attempt_at=func.now(), attempts=0)
                .returning(deliveries)
            )
        ).first()
        if row is None:
            raise NotFound(f"No delivery {delivery_id}.")
        await write.record(action="retry", entity="webhook_delivery", entity_id=delivery_id, event=None)
        return DeliveryRead.model_validate(row._mapping)

    return router
