"""The relay: queues each subscription's events, delivers them in order, publishes to NATS.

Every replica runs one; they share the work through PostgreSQL:

- **owner's grants**: before queueing and before each delivery, the relay compares the instant
  the subscription's grants were confirmed (the ``iat`` of the owner's token that made or last
  changed it) with the gateway's revocation list (the service's own, refreshed every couple of
  seconds): a client deactivated, narrowed or given a new secret since then has its subscription
  paused (``paused_reason`` says why) and its pending deliveries withheld, never sent; resuming
  with a token issued since confirms the current grants (:mod:`shared.events.webhooks`).
- **queue**: per active subscription, in a short transaction that holds the subscription row
  (``FOR UPDATE SKIP LOCKED``: another replica skips it), the events after the subscription's
  position that its owner may see become delivery rows, and the position moves on.
- **deliver**: a replica claims subscriptions with a due delivery by a lease (``UPDATE … WHERE id
  IN (SELECT … FOR UPDATE SKIP LOCKED)``), then — outside any transaction, so no open
  transaction holds the feed back — sends each one's oldest pending delivery, then the next,
  in order, until one fails or the lease runs short. A failure waits its backoff (with jitter,
  ``Retry-After`` honoured) and holds the later deliveries of that subscription behind it; when
  the schedule is spent the delivery fails and the subscription is paused, saying why. Each
  batch resolves the target once and sends to the checked address only (no DNS rebinding).
- **publish** (with ``NATS_URL``): under a transaction-scoped advisory lock (one replica at a
  time), events after the transport's position are published with ``Nats-Msg-Id`` = event id and
  the position moves only after their acknowledgements.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import random
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client import Counter, Gauge
from sqlalchemy import Table, case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.auth import RevocationList
from shared.citizen_ids import CitizenIdVault
from shared.events.envelope import Position, cloud_event, reveals
from shared.events.feed import read_batch
from shared.events.nats import NatsPublisher
from shared.events.webhooks import (
    Resolver,
    Target,
    TargetRefused,
    active_secrets,
    owner_principal,
    resolve_target,
    signed_headers,
)
from shared.records import PlatformTables
from shared.settings import ServiceSettings
from shared.tls import client_tls

logger = logging.getLogger("shared.events")

DELIVERIES = Counter("civic_webhook_deliveries_total", "Webhook delivery attempts", ["service", "outcome"])
PUBLISHED = Counter("civic_events_published_total", "Events published to NATS JetStream", ["service"])
PENDING = Gauge("civic_webhook_pending_deliveries", "Webhook deliveries waiting", ["service"])
OLDEST_PENDING = Gauge(
    "civic_webhook_oldest_pending_seconds",
    "Age of the oldest webhook delivery still waiting (the lag)",
    ["service"],
)

QUEUE_BATCH = 500
DELIVERY_BATCH = 100
LEASE_MARGIN_SECONDS = 5.0
# a revocation list older than this (the gateway has not answered) holds webhook deliveries back
REVOCATIONS_STALE_SECONDS = 30.0
# a stable key per service for the NATS publisher's advisory lock
NATS_LOCK_BASE = 0x63697669_00000000


@dataclass
class Outcome:
    """One delivery attempt's result, recorded with its batch."""

    delivery: Any
    code: int | None
    error: str | None
    status: str = "pending"  # delivered, withheld, or pending (failed this time)
    retry_after: float | None = None
    revealed: bool = False

    @property
    def done(self) -> bool:
        return self.status != "pending"


@dataclass
class Relay:
    service: str
    sessions: async_sessionmaker[AsyncSession]
    tables: PlatformTables
    settings: ServiceSettings
    owner: str = field(default_factory=lambda: f"relay-{uuid.uuid4().hex[:12]}")
    vault: CitizenIdVault | None = None
    access_log: Table | None = None
    http: httpx.AsyncClient | None = None
    nats: NatsPublisher | None = None
    revocations: RevocationList | None = None
    resolver: Resolver | None = None
    jitter: Callable[[], float] = field(default=lambda: random.uniform(0.8, 1.2))  # noqa: S311
    _task: asyncio.Task[None] | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _held: bool = False

    @property
    def lease_seconds(self) -> float:
        return max(60.0, 3 * self.settings.webhooks_timeout_seconds + LEASE_MARGIN_SECONDS)

    async def start(self, *, loop: bool = True) -> None:
        """Open the HTTP client (and the broker's connection lazily); ``loop``: run rounds in
        the background every ``events_poll_seconds`` (tests drive :meth:`run_once` instead)."""
        # no kept-alive connections: a connection is made to a checked address for one host
        # (TLS server name), and the pool would hand it to another host on the same address
        self.http = httpx.AsyncClient(
            follow_redirects=False,
            timeout=self.settings.webhooks_timeout_seconds,
            trust_env=False,
            verify=client_tls(trust_env=False),
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        if self.settings.nats_url and self.nats is None:
            self.nats = NatsPublisher(
                self.settings.nats_url,
                stream=self.settings.nats_stream,
                replicas=self.settings.nats_stream_replicas,
            )
        if loop:
            self._task = asyncio.create_task(self._run(), name=f"{self.service}-event-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.http is not None:
            await self.http.aclose()
        if self.nats is not None:
            await self.nats.close()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        quiet = False
        while True:
            try:
                await self.run_once()
                quiet = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database or the broker away: try again next round
                if not quiet:
                    logger.warning("event relay round failed: %s: %s", type(exc).__name__, exc)
                quiet = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.events_poll_seconds)
            self._wake.clear()

    async def run_once(self) -> int:
        """One round: queue, deliver, publish. Returns how many deliveries were attempted."""
        attempted = 0
        # with no subscription active there is nothing to queue or send, and no need of the
        # gateway's revocation list (an idle service would otherwise fetch it every round)
        if (
            self.tables.webhook_subscriptions is not None
            and await self._any_active_subscription()
            and await self._revocations_known()
        ):
            await self.queue()
            attempted = await self.deliver()
        if self.nats is not None:
            await self.publish()
        return attempted

    async def _revocations_known(self) -> bool:
        """Is the revocation list in force recent? Without one (never fetched, or the gateway
        has not answered for a while) nothing is queued or sent: it waits, it is not lost."""
        if self.revocations is None:
            return True
        await self.revocations.ensure_fresh()
        listed = self.revocations.fetched_at_epoch
        known = listed is not None and time.time() - listed <= REVOCATIONS_STALE_SECONDS
        if not known and not self._held:
            logger.warning("webhook deliveries wait: no recent token revocation list from the gateway")
        self._held = not known
        return known

    # -- queue ---------------------------------------------------------------------------

    async def queue(self) -> None:
        subscriptions = self.tables.webhook_subscriptions
        assert subscriptions is not None
        async with self.sessions() as session:
            rows = list(await session.execute(select(subscriptions).where(subscriptions.c.active)))
        await self._mark_checked(rows)
        for row in rows:
            while await self._queue_one(row.id):
                pass

    async def _mark_checked(self, rows: list[Any]) -> None:
        """Record that the revocation list in force found nothing against these subscriptions'
        grants (at most every quarter of the window, to keep the writes few)."""
        checked = self.revocations.fetched_at_epoch if self.revocations is not None else None
        if checked is None:
            return
        window = self.settings.webhooks_revocation_window_seconds
        due = [
            row.id
            for row in rows
            if self.stale_grants(row) is None and checked - _checked_epoch(row) > window / 4
        ]
        if not due:
            return
        subscriptions = self.tables.webhook_subscriptions
        assert subscriptions is not None
        instant = dt.datetime.fromtimestamp(checked, dt.UTC)
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(subscriptions)
                .where(
                    subscriptions.c.id.in_(due),
                    func.coalesce(subscriptions.c.grants_checked_at, subscriptions.c.grants_issued_at)
                    < instant,
                )
                .values(grants_checked_at=instant)
            )

    async def _queue_one(self, subscription_id: uuid.UUID) -> bool:
        """Queue the next batch of one subscription; True when there may be more."""
        subscriptions, deliveries, outbox = (
            self.tables.webhook_subscriptions,
            self.tables.webhook_deliveries,
            self.tables.outbox,
        )
        assert subscriptions is not None
        assert deliveries is not None
        assert outbox is not None
        async with self.sessions() as session, session.begin():
            row = (
                await session.execute(
                    select(subscriptions)
                    .where(subscriptions.c.id == subscription_id, subscriptions.c.active)
                    .with_for_update(skip_locked=True)
                )
            ).first()
            if row is None:
                return False
            if (reason := self.stale_grants(row)) is not None:
                await self._withhold(session, row, reason)
                return False
            after = Position(row.after_transaction_id, row.after_sequence)
            batch = await read_batch(
                session,
                outbox,
                after=after,
                limit=QUEUE_BATCH,
                types=row.types,
                principal=owner_principal(row),
            )
            if batch.rows:
                await session.execute(
                    insert(deliveries)
                    .values(
                        [
                            {
                                "id": uuid.uuid4(),
                                "subscription_id": subscription_id,
                                "event_id": event.id,
                                "event_type": event.type,
                                "transaction_id": event.transaction_id,
                                "sequence": event.sequence,
                                "status": "pending",
                                "next_attempt_at": func.now(),
                            }
                            for event in batch.rows
                        ]
                    )
                    .on_conflict_do_nothing()
                )
            if batch.next != after:
                await session.execute(
                    update(subscriptions)
                    .where(subscriptions.c.id == subscription_id)
                    .values(
                        after_transaction_id=batch.next.transaction_id, after_sequence=batch.next.sequence
                    )
                )
            return len(batch.rows) == QUEUE_BATCH

    # -- deliver -------------------------------------------------------------------------

    async def _any_active_subscription(self) -> bool:
        """Is any subscription active? The look also sets the pending deliveries' gauges, once a
        round (withheld deliveries of paused subscriptions are not pending)."""
        subscriptions, deliveries = self.tables.webhook_subscriptions, self.tables.webhook_deliveries
        assert subscriptions is not None
        assert deliveries is not None
        look = select(
            func.count(),
            func.coalesce(func.extract("epoch", func.now() - func.min(deliveries.c.created_at)), 0),
            select(subscriptions.c.id).where(subscriptions.c.active).exists(),
        ).where(deliveries.c.status == "pending")
        async with self.sessions() as session:
            pending, oldest, any_active = (await session.execute(look)).one()
        PENDING.labels(self.service).set(pending or 0)
        OLDEST_PENDING.labels(self.service).set(float(oldest or 0))
        return bool(any_active)

    async def deliver(self) -> int:
        subscriptions, deliveries = self.tables.webhook_subscriptions, self.tables.webhook_deliveries
        assert subscriptions is not None
        assert deliveries is not None
        due = (
            select(deliveries.c.id)
            .where(
                deliveries.c.subscription_id == subscriptions.c.id,
                deliveries.c.status == "pending",
                deliveries.c.next_attempt_at <= func.now(),
            )
            .exists()
        )
        candidates = (
            select(subscriptions.c.id)
            .where(
                subscriptions.c.active,
                (subscriptions.c.lease_until.is_(None)) | (subscriptions.c.lease_until < func.now()),
                due,
            )
            .limit(50)
            .with_for_update(skip_locked=True)
        )
        async with self.sessions() as session, session.begin():
            claimed = list(
                await session.execute(
                    update(subscriptions)
                    .where(subscriptions.c.id.in_(candidates.scalar_subquery()))
                    .values(
                        lease_owner=self.owner,
                        lease_until=func.now() + dt.timedelta(seconds=self.lease_seconds),
                    )
                    .returning(subscriptions)
                )
            )
        if not claimed:
            return 0
        counts = await asyncio.gather(*(self._deliver_in_order(row) for row in claimed))
        return sum(counts)

    async def _deliver_in_order(self, subscription: Any) -> int:
        """Send one subscription's due deliveries in order while its lease lasts; then release it.

        Each turn queues what committed meanwhile, takes the due deliveries in order (a batch),
        sends them one after the other until one fails, and records the batch in one
        transaction (a crash before that repeats them: at least once, same ``webhook-id``)."""
        started = time.monotonic()
        budget = self.lease_seconds - self.settings.webhooks_timeout_seconds - LEASE_MARGIN_SECONDS
        attempted = 0
        try:
            while time.monotonic() - started < budget:
                await self._queue_one(subscription.id)
                batch = await self._due(subscription.id)
                if not batch:
                    break
                outcomes: list[Outcome] = []
                stale: str | None = None
                try:
                    target = await resolve_target(
                        subscription.url,
                        allow_private=self.settings.webhooks_allow_private_targets,
                        resolver=self.resolver,
                    )
                except TargetRefused as exc:
                    outcomes.append(Outcome(batch[0][0], None, str(exc)))
                else:
                    for delivery, event in batch:
                        if time.monotonic() - started >= budget:
                            break
                        if self.revocations is not None:
                            await self.revocations.ensure_fresh()  # a long batch sees new revocations
                        if (stale := self.stale_grants(subscription)) is not None:
                            break  # the owner changed since the batch was queued: nothing more is sent
                        outcome = await self._send(subscription, target, delivery, event)
                        outcomes.append(outcome)
                        if not outcome.done:
                            break
                attempted += len(outcomes)
                await self._record(subscription, outcomes)
                if stale is not None:
                    async with self.sessions() as session, session.begin():
                        await self._withhold(session, subscription, stale)
                    break
                if not outcomes or not outcomes[-1].done:
                    break
        finally:
            subscriptions = self.tables.webhook_subscriptions
            assert subscriptions is not None
            async with self.sessions() as session, session.begin():
                await session.execute(
                    update(subscriptions)
                    .where(subscriptions.c.id == subscription.id, subscriptions.c.lease_owner == self.owner)
                    .values(lease_owner=None, lease_until=None)
                )
        return attempted

    async def _due(self, subscription_id: uuid.UUID) -> list[tuple[Any, Any]]:
        """The subscription's oldest pending deliveries with their events, in order, from the
        first while they are due (a delivery waiting for its retry holds the later ones)."""
        deliveries, outbox = self.tables.webhook_deliveries, self.tables.outbox
        assert deliveries is not None
        assert outbox is not None
        async with self.sessions() as session:
            rows = list(
                await session.execute(
                    select(deliveries, func.now().label("now"))
                    .where(deliveries.c.subscription_id == subscription_id, deliveries.c.status == "pending")
                    .order_by(deliveries.c.transaction_id, deliveries.c.sequence)
                    .limit(DELIVERY_BATCH)
                )
            )
            due = []
            for row in rows:
                if row.next_attempt_at is None or row.next_attempt_at > row.now:
                    break
                due.append(row)
            if not due:
                return []
            events = {
                event.id: event
                for event in await session.execute(
                    select(outbox).where(outbox.c.id.in_([row.event_id for row in due]))
                )
            }
        return [(row, events.get(row.event_id)) for row in due]

    # -- the owner's current grants ------------------------------------------------------

    def stale_grants(self, subscription: Any) -> str | None:
        """Why the grants kept with ``subscription`` can no longer be trusted, or None: the
        gateway revoked its owner's tokens (deactivation, changed grants, new secret) after the
        token that confirmed them was issued."""
        if self.revocations is None:
            return None
        subject = subscription.owner_subject or f"client:{subscription.owner}"
        confirmed = subscription.grants_issued_at
        issued = confirmed.timestamp() if confirmed is not None else 0.0
        if self.revocations.revoked(subject, issued):
            return (
                f"the API client {subscription.owner} was deactivated or its grants or secret changed "
                "after they were last confirmed: deliveries are withheld; resume with a token issued "
                "since to confirm its current grants"
            )
        # the list holds a revocation only for a while: grants not checked for longer than the
        # window (no relay ran, the gateway did not answer) may have changed unseen
        listed = self.revocations.fetched_at_epoch
        window = self.settings.webhooks_revocation_window_seconds
        if listed is not None and listed - _checked_epoch(subscription) > window:
            return (
                f"the grants of the API client {subscription.owner} could not be checked against the "
                f"gateway's revocations for more than {window:g} s: deliveries are withheld; resume "
                "with a current token to confirm them"
            )
        return None

    async def _withhold(self, session: AsyncSession, subscription: Any, reason: str) -> None:
        """Pause the subscription and withhold its pending deliveries, unless its owner
        confirmed its grants meanwhile (compare-and-set on the confirming token's instant)."""
        subscriptions, deliveries = self.tables.webhook_subscriptions, self.tables.webhook_deliveries
        assert subscriptions is not None
        assert deliveries is not None
        paused = (
            await session.execute(
                update(subscriptions)
                .where(
                    subscriptions.c.id == subscription.id,
                    subscriptions.c.grants_issued_at.is_not_distinct_from(subscription.grants_issued_at),
                    subscriptions.c.owner_subject.is_not_distinct_from(subscription.owner_subject),
                )
                .values(active=False, paused_reason=reason, updated_at=func.now())
                .returning(subscriptions.c.id)
            )
        ).first()
        if paused is None:
            return
        withheld = (
            await session.execute(
                update(deliveries)
                .where(deliveries.c.subscription_id == subscription.id, deliveries.c.status == "pending")
                .values(status="withheld", last_error=reason, next_attempt_at=None)
                .returning(deliveries.c.id)
            )
        ).all()
        DELIVERIES.labels(self.service, "withheld").inc(len(withheld))
        await session.execute(
            self.tables.audit_log.insert().values(
                actor=f"system:{self.service}-relay",
                action="pause",
                entity="webhook_subscription",
                entity_id=str(subscription.id),
                after={"reason": reason, "withheld": len(withheld)},
            )
        )
        logger.warning("webhook subscription %s paused: %s", subscription.id, reason)

    # -- sending -------------------------------------------------------------------------

    async def _send(self, subscription: Any, target: Target, delivery: Any, event: Any) -> Outcome:
        """One delivery attempt (no database work: the batch is recorded afterwards), to an
        address of ``target`` that was checked, never to a fresh resolution of its host."""
        now = dt.datetime.now(dt.UTC)
        owner = owner_principal(subscription)
        visible = event is not None and (
            owner.sees_everything if event.jurisdiction is None else owner.can_access(event.jurisdiction)
        )
        if not visible:
            return Outcome(delivery, None, "no longer visible to the owner", status="withheld")
        personal = owner.has_scope(f"{self.service}:pii")
        body = json.dumps(
            cloud_event(event, service=self.service, vault=self.vault, personal=personal),
            ensure_ascii=False,
            separators=(",", ":"),
        )
        headers = signed_headers(active_secrets(subscription, now), str(event.id), body, now)
        try:
            assert self.http is not None
            answer = await self._post(target, body.encode(), headers)
        except httpx.TimeoutException:
            return Outcome(delivery, None, f"no answer within {self.settings.webhooks_timeout_seconds:g} s")
        except httpx.HTTPError as exc:
            return Outcome(delivery, None, f"{type(exc).__name__}: {exc}"[:500])
        code = answer.status_code
        if 200 <= code < 300:
            return Outcome(delivery, code, None, status="delivered", revealed=personal and reveals(event))
        return Outcome(
            delivery, code, f"answered {code}", retry_after=_retry_after(answer.headers.get("retry-after"))
        )

    async def _post(self, target: Target, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """POST to the target's checked addresses in order (the next one only when a connection
        cannot be made), with the original ``Host`` and TLS server name."""
        assert self.http is not None
        refused: httpx.ConnectError | None = None
        for address in target.addresses:
            url, host, extensions = target.pinned(address)
            try:
                return await self.http.post(
                    url, content=body, headers={**headers, **host}, extensions=extensions
                )
            except httpx.ConnectError as exc:
                refused = exc
        assert refused is not None
        raise refused

    async def _record(self, subscription: Any, outcomes: list[Outcome]) -> None:
        """The batch's outcomes in one transaction; a failure's backoff, or its pausing."""
        deliveries = self.tables.webhook_deliveries
        assert deliveries is not None
        pause: str | None = None
        async with self.sessions() as session, session.begin():
            done = [o for o in outcomes if o.done]
            for status in ("delivered", "withheld"):
                ids = [o.delivery.id for o in done if o.status == status]
                if ids:
                    DELIVERIES.labels(self.service, status).inc(len(ids))
                    await session.execute(
                        update(deliveries)
                        .where(deliveries.c.id.in_(ids))
                        .values(
                            status=status,
                            attempts=deliveries.c.attempts + 1,
                            last_status_code=case(
                                *(
                                    (deliveries.c.id == o.delivery.id, o.code)
                                    for o in done
                                    if o.status == status
                                ),
                                else_=None,
                            ),
                            last_error=None if status == "delivered" else "no longer visible to the owner",
                            last_attempt_at=func.now(),
                            next_attempt_at=None,
                            delivered_at=func.now() if status == "delivered" else None,
                        )
                    )
            log = self.access_log
            shown = [o for o in done if o.revealed]
            if shown and log is not None:
                await session.execute(
                    log.insert(),
                    [
                        {
                            "actor": subscription.owner,
                            "client_id": subscription.owner,
                            "path": f"webhook:{subscription.id}",
                            "entity": "event",
                            "entity_id": str(o.delivery.event_id),
                            "jurisdiction": None,
                        }
                        for o in shown
                    ],
                )
            failed = next((o for o in outcomes if not o.done), None)
            if failed is not None:
                DELIVERIES.labels(self.service, "failed").inc()
                values: dict[str, Any] = {
                    "attempts": deliveries.c.attempts + 1,
                    "last_status_code": failed.code,
                    "last_error": failed.error,
                    "last_attempt_at": func.now(),
                }
                schedule = self.settings.webhooks_retry_schedule_seconds
                attempt = failed.delivery.attempts + 1
                if failed.code == 410:
                    pause = "the receiver answered 410 Gone"
                    values["next_attempt_at"] = func.now()
                elif attempt > len(schedule):
                    values["status"] = "failed"
                    values["next_attempt_at"] = None
                    pause = (
                        f"delivery of event {failed.delivery.event_id} failed {attempt} times over the retry "
                        f"schedule; last: {failed.error}"
                    )
                else:
                    wait = schedule[attempt - 1] * self.jitter()
                    if failed.retry_after is not None:
                        wait = max(wait, failed.retry_after)
                    values["next_attempt_at"] = func.now() + dt.timedelta(seconds=wait)
                await session.execute(
                    update(deliveries).where(deliveries.c.id == failed.delivery.id).values(**values)
                )
        if pause is not None:
            await self._pause(subscription.id, pause)

    async def _pause(self, subscription_id: uuid.UUID, reason: str) -> None:
        subscriptions = self.tables.webhook_subscriptions
        assert subscriptions is not None
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(subscriptions)
                .where(subscriptions.c.id == subscription_id)
                .values(active=False, paused_reason=reason, updated_at=func.now())
            )
            await session.execute(
                self.tables.audit_log.insert().values(
                    actor=f"system:{self.service}-relay",
                    action="pause",
                    entity="webhook_subscription",
                    entity_id=str(subscription_id),
                    after={"reason": reason},
                )
            )
        logger.warning("webhook subscription %s paused: %s", subscription_id, reason)

    # -- NATS ----------------------------------------------------------------------------

    async def publish(self) -> int:
        """Publish the events after the transport's position; one replica at a time."""
        publications, outbox = self.tables.event_publications, self.tables.outbox
        assert publications is not None
        assert outbox is not None
        assert self.nats is not None
        lock = NATS_LOCK_BASE + zlib.crc32(self.service.encode())
        published = 0
        async with self.sessions() as session, session.begin():
            await session.execute(
                insert(publications)
                .values(transport="nats", after_transaction_id=0, after_sequence=0)
                .on_conflict_do_nothing()
            )
        # no row lock and no write until the end: an open transaction with an id of its own
        # would hold this feed's horizon back while the broker answers
        async with self.sessions() as session, session.begin():
            if not await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock}):
                return 0
            row = (
                await session.execute(select(publications).where(publications.c.transport == "nats"))
            ).one()
            after = Position(row.after_transaction_id, row.after_sequence)
            batch = await read_batch(session, outbox, after=after, limit=QUEUE_BATCH)
            for event in batch.rows:
                body = json.dumps(cloud_event(event, service=self.service), ensure_ascii=False).encode()
                short = event.type.removeprefix(f"civic.{self.service}.")
                await self.nats.publish(f"civic.{self.service}.{short}", body, msg_id=str(event.id))
                published += 1
            PUBLISHED.labels(self.service).inc(published)
            if batch.next != after:
                await session.execute(
                    update(publications)
                    .where(publications.c.transport == "nats")
                    .values(
                        after_transaction_id=batch.next.transaction_id,
                        after_sequence=batch.next.sequence,
                        updated_at=func.now(),
                    )
                )
        return published


def _checked_epoch(subscription: Any) -> float:
    """When the subscription's grants were last known current (epoch seconds)."""
    instant = subscription.grants_checked_at or subscription.grants_issued_at
    return instant.timestamp() if instant is not None else 0.0


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
