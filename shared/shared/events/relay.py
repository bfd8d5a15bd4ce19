"""The relay: queues each subscription's events, delivers them in order, publishes to NATS.

Every replica runs one; they share the work through PostgreSQL:

- **queue**: per active subscription, in a short transaction that holds the subscription row
  (``FOR UPDATE SKIP LOCKED``: another replica skips it), the events after the subscription's
  position that its owner may see become delivery rows, and the position moves on.
- **deliver**: a replica claims subscriptions with a due delivery by a lease (``UPDATE … WHERE id
  IN (SELECT … FOR UPDATE SKIP LOCKED)``), then — outside any transaction, so no open
  transaction holds the feed back — sends each one's oldest pending delivery, then the next,
  in order, until one fails or the lease runs short. A failure waits its backoff (with jitter,
  ``Retry-After`` honoured) and holds the later deliveries of that subscription behind it; when
  the schedule is spent the delivery fails and the subscription is paused, saying why.
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
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.citizen_ids import CitizenIdVault
from shared.events.envelope import Position, cloud_event
from shared.events.feed import read_batch
from shared.events.nats import NatsPublisher
from shared.events.webhooks import (
    TargetRefused,
    active_secrets,
    check_target,
    owner_principal,
    signed_headers,
)
from shared.records import PlatformTables
from shared.settings import ServiceSettings

logger = logging.getLogger("shared.events")

DELIVERIES = Counter("civic_webhook_deliveries_total", "Webhook delivery attempts", ["service", "outcome"])
PUBLISHED = Counter("civic_events_published_total", "Events published to NATS JetStream", ["service"])
PENDING = Gauge("civic_webhook_pending_deliveries", "Webhook deliveries waiting", ["service"])

QUEUE_BATCH = 500
LEASE_MARGIN_SECONDS = 5.0
# a stable key per service for the NATS publisher's advisory lock
NATS_LOCK_BASE = 0x63697669_00000000


@dataclass
class Relay:
    service: str
    sessions: async_sessionmaker[AsyncSession]
    tables: PlatformTables
    settings: ServiceSettings
    owner: str = field(default_factory=lambda: f"relay-{uuid.uuid4().hex[:12]}")
    vault: CitizenIdVault | None = None
    http: httpx.AsyncClient | None = None
    nats: NatsPublisher | None = None
    jitter: Callable[[], float] = field(default=lambda: random.uniform(0.8, 1.2))  # noqa: S311
    _task: asyncio.Task[None] | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def lease_seconds(self) -> float:
        return max(60.0, 3 * self.settings.webhooks_timeout_seconds + LEASE_MARGIN_SECONDS)

    async def start(self, *, loop: bool = True) -> None:
        """Open the HTTP client (and the broker's connection lazily); ``loop``: run rounds in
        the background every ``events_poll_seconds`` (tests drive :meth:`run_once` instead)."""
        self.http = httpx.AsyncClient(
            follow_redirects=False, timeout=self.settings.webhooks_timeout_seconds, trust_env=False
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
        if self.tables.webhook_subscriptions is not None:
            await self.queue()
            attempted = await self.deliver()
        else:
            attempted = 0
        if self.nats is not None:
            await self.publish()
        return attempted

    # -- queue ---------------------------------------------------------------------------

    async def queue(self) -> None:
        subscriptions = self.tables.webhook_subscriptions
        assert subscriptions is not None
        async with self.sessions() as session:
            ids = list(await session.scalars(select(subscriptions.c.id).where(subscriptions.c.active)))
        for subscription_id in ids:
            while await self._queue_one(subscription_id):
                pass

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
            pending = await session.scalar(
                select(func.count()).select_from(deliveries).where(deliveries.c.status == "pending")
            )
        PENDING.labels(self.service).set(pending or 0)
        if not claimed:
            return 0
        counts = await asyncio.gather(*(self._deliver_in_order(row) for row in claimed))
        return sum(counts)

    async def _deliver_in_order(self, subscription: Any) -> int:
        """Send one subscription's due deliveries in order while its lease lasts; then release it."""
        started = time.monotonic()
        budget = self.lease_seconds - self.settings.webhooks_timeout_seconds - LEASE_MARGIN_SECONDS
        attempted = 0
        try:
            while time.monotonic() - started < budget:
                head = await self._head(subscription.id)
                if head is None:
                    break
                attempted += 1
                if not await self._attempt(subscription, head):
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

    async def _head(self, subscription_id: uuid.UUID) -> Any:
        """The subscription's oldest pending delivery, if it is due (a later one waits behind it)."""
        deliveries, outbox = self.tables.webhook_deliveries, self.tables.outbox
        assert deliveries is not None
        assert outbox is not None
        async with self.sessions() as session:
            head = (
                await session.execute(
                    select(deliveries, func.now().label("now"))
                    .where(deliveries.c.subscription_id == subscription_id, deliveries.c.status == "pending")
                    .order_by(deliveries.c.transaction_id, deliveries.c.sequence)
                    .limit(1)
                )
            ).first()
            if head is None or head.next_attempt_at > head.now:
                return None
            event = (await session.execute(select(outbox).where(outbox.c.id == head.event_id))).first()
            return (head, event)

    async def _attempt(self, subscription: Any, head: tuple[Any, Any]) -> bool:
        """One delivery attempt; True when delivered (or withheld), so the next may follow."""
        delivery, event = head
        now = dt.datetime.now(dt.UTC)
        owner = owner_principal(subscription)
        if event is None or not (
            (event.jurisdiction is None and owner.sees_everything)
            or (event.jurisdiction is not None and owner.can_access(event.jurisdiction))
        ):
            await self._finish(delivery, status="withheld", code=None, error="no longer visible to the owner")
            return True
        body = json.dumps(
            cloud_event(
                event,
                service=self.service,
                vault=self.vault,
                personal=owner.has_scope(f"{self.service}:pii"),
            ),
            ensure_ascii=False,
            separators=(",", ":"),
        )
        headers = signed_headers(active_secrets(subscription, now), str(event.id), body, now)
        code: int | None = None
        retry_after: float | None = None
        try:
            await check_target(subscription.url, allow_private=self.settings.webhooks_allow_private_targets)
            assert self.http is not None
            answer = await self.http.post(subscription.url, content=body.encode(), headers=headers)
            code = answer.status_code
            error = None if 200 <= code < 300 else f"answered {code}"
            retry_after = _retry_after(answer.headers.get("retry-after"))
        except TargetRefused as exc:
            error = str(exc)
        except httpx.TimeoutException:
            error = f"no answer within {self.settings.webhooks_timeout_seconds:g} s"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        if error is None:
            DELIVERIES.labels(self.service, "delivered").inc()
            await self._finish(delivery, status="delivered", code=code, error=None)
            return True
        DELIVERIES.labels(self.service, "failed").inc()
        if code == 410:
            await self._finish(delivery, status="pending", code=code, error=error, retry_in=0.0)
            await self._pause(subscription.id, "the receiver answered 410 Gone")
            return False
        schedule = self.settings.webhooks_retry_schedule_seconds
        attempt = delivery.attempts + 1
        if attempt > len(schedule):
            await self._finish(delivery, status="failed", code=code, error=error)
            await self._pause(
                subscription.id,
                f"delivery of event {event.id} failed {attempt} times over the retry schedule; last: {error}",
            )
            return False
        wait = schedule[attempt - 1] * self.jitter()
        if retry_after is not None:
            wait = max(wait, retry_after)
        await self._finish(delivery, status="pending", code=code, error=error, retry_in=wait)
        return False

    async def _finish(
        self,
        delivery: Any,
        *,
        status: str,
        code: int | None,
        error: str | None,
        retry_in: float | None = None,
    ) -> None:
        deliveries = self.tables.webhook_deliveries
        assert deliveries is not None
        values: dict[str, Any] = {
            "status": status,
            "attempts": deliveries.c.attempts + 1,
            "last_status_code": code,
            "last_error": error,
            "last_attempt_at": func.now(),
            "next_attempt_at": None if retry_in is None else func.now() + dt.timedelta(seconds=retry_in),
        }
        if status == "delivered":
            values["delivered_at"] = func.now()
        async with self.sessions() as session, session.begin():
            await session.execute(update(deliveries).where(deliveries.c.id == delivery.id).values(**values))

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


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
