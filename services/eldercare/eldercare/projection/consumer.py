"""The consumer of welfare's change events that keeps eldercare's projection of welfare's register.

One replica consumes at a time: it holds a lease on the ``welfare_feed`` row (taken over when it
expires, as background jobs are). Each page of welfare's feed is applied in one transaction
together with the new cursor, under a lock of that row and only if the cursor is still the one
the page was read from, so a page is never applied twice and a crash between reading and
committing only reads the page again. Event ids are recorded (``welfare_events_seen``): an
event delivered twice counts once. Events outside the client's own area (its token's
jurisdictions) are recorded as ignored and change nothing.

When welfare or the gateway cannot be reached the consumer waits with exponential backoff and
jitter, then reads on from its cursor: an outage delays the projection, never corrupts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from prometheus_client import Counter, Gauge
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eldercare.projection.models import WelfareFeed
from shared.auth import Principal
from shared.citizen_ids import CitizenIdVault

logger = logging.getLogger("eldercare.projection")

FEED = "welfare"
EVENTS_PATH = "/api/welfare/v1/events"
EVENT_TYPES = ("person.registered", "enrolment.started", "enrolment.changed", "enrolment.ended")
PROGRAMS = ("dibao", "tekun")

LAG = Gauge(
    "civic_eldercare_dibao_projection_lag_seconds",
    "Seconds since eldercare's projection of welfare's register was last known current (-1: not "
    "caught up in this process: not configured, another replica holds the lease, or still catching up)",
)
LAG.set(-1)
EVENTS = Counter(
    "civic_eldercare_dibao_projection_events_total",
    "Welfare events read by the projection's consumer",
    ["outcome"],
)


class FeedUnavailable(Exception):
    """Welfare's feed (or the gateway's token endpoint) did not answer usefully."""


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str
    caught_up: bool
    read_at: dt.datetime


class ClientCredentials:
    """The consumer's token (client-credentials grant at the gateway), renewed before it expires."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        verify: Callable[[str], Awaitable[Principal]],
    ) -> None:
        self.http = http
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.verify = verify
        self._token: str | None = None
        self._principal: Principal | None = None
        self._renew_at = 0.0

    def forget(self) -> None:
        self._token = None

    async def get(self) -> tuple[str, Principal]:
        if self._token is None or self._principal is None or time.monotonic() >= self._renew_at:
            try:
                response = await self.http.post(
                    self.token_url,
                    data={
                        "grant_type": "client_credentials",
                        "client_id": self.client_id,
                        "client_secret": self.client_secret,
                    },
                )
            except httpx.HTTPError as exc:
                raise FeedUnavailable(f"the token endpoint is unreachable ({type(exc).__name__})") from exc
            if response.status_code != 200:
                raise FeedUnavailable(f"the token endpoint answered {response.status_code}")
            body = response.json()
            token = str(body["access_token"])
            self._principal = await self.verify(token)  # its scopes and area, as welfare will see them
            self._token = token
            self._renew_at = time.monotonic() + max(5.0, float(body.get("expires_in", 300)) * 0.8)
        assert self._token is not None
        assert self._principal is not None
        return self._token, self._principal


def month_of(value: Any) -> dt.date | None:
    if not value:
        return None
    year, month = str(value).split("-")
    return dt.date(int(year), int(month), 1)


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# one statement each, whatever the page's size (arrays, not a VALUES list per row count): the
# statements are prepared once per connection
_SEEN = text(
    """
    INSERT INTO eldercare.welfare_events_seen (event_id)
    SELECT unnest(CAST(:ids AS uuid[]))
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id
    """
)
_PERSON_COLUMNS = {
    "person_id": "uuid",
    "jurisdiction": "text",
    "household_id": "uuid",
    "citizen_id_hash": "text",
    "version": "integer",
}
_PERSONS = text(
    """
    INSERT INTO eldercare.welfare_persons (person_id, jurisdiction, household_id, citizen_id_hash, version)
    SELECT * FROM unnest(CAST(:person_id AS uuid[]), CAST(:jurisdiction AS text[]),
                         CAST(:household_id AS uuid[]), CAST(:citizen_id_hash AS text[]),
                         CAST(:version AS integer[]))
    ON CONFLICT (person_id) DO UPDATE
       SET jurisdiction = excluded.jurisdiction, household_id = excluded.household_id,
           citizen_id_hash = excluded.citizen_id_hash, version = excluded.version
     WHERE excluded.version >= welfare_persons.version
    """
)
_ENROLMENT_COLUMNS = {
    "enrolment_id": "uuid",
    "program": "text",
    "jurisdiction": "text",
    "household_id": "uuid",
    "person_id": "uuid",
    "start_month": "date",
    "end_month": "date",
    "status": "text",
    "arrangement": "text",
    "version": "integer",
}
_ENROLMENTS = text(
    """
    INSERT INTO eldercare.welfare_enrolments (enrolment_id, program, jurisdiction, household_id, person_id,
                                              start_month, end_month, status, arrangement, version)
    SELECT * FROM unnest(CAST(:enrolment_id AS uuid[]), CAST(:program AS text[]),
                         CAST(:jurisdiction AS text[]), CAST(:household_id AS uuid[]),
                         CAST(:person_id AS uuid[]), CAST(:start_month AS date[]),
                         CAST(:end_month AS date[]), CAST(:status AS text[]),
                         CAST(:arrangement AS text[]), CAST(:version AS integer[]))
    ON CONFLICT (enrolment_id) DO UPDATE
       SET program = excluded.program, jurisdiction = excluded.jurisdiction,
           household_id = excluded.household_id, person_id = excluded.person_id,
           start_month = excluded.start_month, end_month = excluded.end_month,
           status = excluded.status, arrangement = excluded.arrangement, version = excluded.version
     WHERE excluded.version >= welfare_enrolments.version
    """
)


def _columns(rows: list[dict[str, Any]], names: dict[str, str]) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in names}


class Applied:
    """What one page did: counts, and the last event it passed."""

    def __init__(self) -> None:
        self.applied = 0
        self.ignored = 0
        self.duplicates = 0


async def apply_events(
    session: AsyncSession,
    items: Sequence[dict[str, Any]],
    *,
    principal: Principal,
    vault: CitizenIdVault,
) -> Applied:
    """Apply a page of events to the projection in ``session`` (the caller's transaction).

    An event id seen before changes nothing. An event outside ``principal``'s area, of a program
    the projection does not keep, or without the citizen ID number it needs, is recorded as seen
    and ignored. Each record keeps the state its newest version stated (events carry the whole
    state of their record, with its version)."""
    result = Applied()
    ids = [uuid.UUID(str(item["id"])) for item in items]
    if not ids:
        return result
    fresh = set((await session.scalars(_SEEN, {"ids": list(dict.fromkeys(ids))})).all())
    persons: dict[uuid.UUID, dict[str, Any]] = {}
    enrolments: dict[uuid.UUID, dict[str, Any]] = {}
    for event_id, item in zip(ids, items, strict=True):
        if event_id not in fresh:
            result.duplicates += 1
            continue
        fresh.discard(event_id)  # the same id twice in one page counts once too
        jurisdiction = item.get("jurisdiction")
        data = item.get("data") or {}
        kind = str(item.get("type", "")).removeprefix("civic.welfare.")
        if not isinstance(jurisdiction, str) or not principal.can_access(jurisdiction):
            result.ignored += 1
            continue
        if kind == "person.registered":
            number = data.get("citizen_id")
            if not isinstance(number, str) or "*" in number:
                result.ignored += 1  # no welfare:pii: the person cannot be matched
                continue
            person_id = uuid.UUID(str(data["person_id"]))
            persons[person_id] = {
                "person_id": person_id,
                "jurisdiction": jurisdiction,
                "household_id": uuid.UUID(str(data["household_id"])) if data.get("household_id") else None,
                "citizen_id_hash": vault.lookup_hash(number),
                "version": int(data.get("version") or 0),
            }
        elif kind.startswith("enrolment.") and data.get("program") in PROGRAMS:
            enrolment_id = uuid.UUID(str(data["enrolment_id"]))
            enrolments[enrolment_id] = {
                "enrolment_id": enrolment_id,
                "program": data["program"],
                "jurisdiction": jurisdiction,
                "household_id": uuid.UUID(str(data["household_id"])) if data.get("household_id") else None,
                "person_id": uuid.UUID(str(data["person_id"])) if data.get("person_id") else None,
                "start_month": month_of(data.get("start_month")),
                "end_month": month_of(data.get("end_month")),
                "status": data["status"],
                "arrangement": data.get("arrangement"),
                "version": int(data.get("version") or 0),
            }
        else:
            result.ignored += 1
            continue
        result.applied += 1
    if persons:
        await session.execute(_PERSONS, _columns(list(persons.values()), _PERSON_COLUMNS))
    if enrolments:
        await session.execute(_ENROLMENTS, _columns(list(enrolments.values()), _ENROLMENT_COLUMNS))
    return result


class WelfareFeedConsumer:
    """Follows welfare's feed into the projection (see the module)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        http: httpx.AsyncClient,
        credentials: ClientCredentials,
        vault: CitizenIdVault,
        owner: str,
        batch: int,
        wait_seconds: int,
        lease_seconds: float,
        max_backoff_seconds: float,
        name: str = FEED,
    ) -> None:
        self.name = name
        self.sessions = sessions
        self.http = http
        self.credentials = credentials
        self.vault = vault
        self.owner = owner
        self.batch = batch
        self.wait_seconds = wait_seconds
        self.lease_seconds = lease_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self._task: asyncio.Task[None] | None = None
        self._current_as_of: dt.datetime | None = None

    async def start(self) -> None:
        await self.prepare()
        LAG.set_function(self.lag_seconds)
        self._task = asyncio.create_task(self._run(), name="welfare-feed-consumer")

    async def prepare(self) -> None:
        """The feed's row (position, lease), made once."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                insert(WelfareFeed)
                .values(name=self.name, events_applied=0, events_ignored=0)
                .on_conflict_do_nothing()
            )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):  # let another replica take over at once
            async with self.sessions() as session, session.begin():
                await session.execute(
                    update(WelfareFeed)
                    .where(WelfareFeed.name == self.name, WelfareFeed.lease_owner == self.owner)
                    .values(lease_owner=None, lease_until=None)
                )

    def lag_seconds(self) -> float:
        """Seconds since this replica last saw the projection current (-1: not yet)."""
        if self._current_as_of is None:
            return -1.0
        return max(0.0, (dt.datetime.now(dt.UTC) - self._current_as_of).total_seconds())

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            try:
                held = await self.step()
                backoff = 0.5
                if not held:
                    await asyncio.sleep(self.lease_seconds / 3)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                reason = str(exc) if isinstance(exc, FeedUnavailable) else type(exc).__name__
                logger.warning("welfare feed: %s; next attempt in %.1f s", reason, backoff)
                await self._record_error(reason)
                # full jitter: replicas and restarts do not retry in step
                await asyncio.sleep(random.uniform(backoff / 2, backoff))  # noqa: S311 - not security
                backoff = min(self.max_backoff_seconds, backoff * 2)

    async def step(self) -> bool:
        """Read and apply one page, if this replica holds (or takes) the lease; False if another does."""
        held, cursor = await self._claim()
        if not held:
            return False
        page = await self._read(cursor)
        await self._apply(cursor, page)
        return True

    async def _claim(self) -> tuple[bool, str | None]:
        async with self.sessions() as session, session.begin():
            row = (
                await session.execute(
                    update(WelfareFeed)
                    .where(
                        WelfareFeed.name == self.name,
                        (WelfareFeed.lease_owner == self.owner)
                        | WelfareFeed.lease_until.is_(None)
                        | (WelfareFeed.lease_until < func.now()),
                    )
                    .values(
                        lease_owner=self.owner,
                        lease_until=func.now() + dt.timedelta(seconds=self.lease_seconds),
                    )
                    .returning(WelfareFeed.cursor)
                )
            ).first()
        if row is None:
            return False, None
        return True, row.cursor

    async def _read(self, cursor: str | None) -> Page:
        token, _ = await self.credentials.get()
        params: dict[str, Any] = {
            "types": ",".join(EVENT_TYPES),
            "limit": self.batch,
            "wait": self.wait_seconds,
        }
        if cursor:
            params["after"] = cursor
        read_at = dt.datetime.now(dt.UTC)
        try:
            response = await self.http.get(
                EVENTS_PATH,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.wait_seconds + 10,
            )
        except httpx.HTTPError as exc:
            raise FeedUnavailable(f"welfare's feed is unreachable ({type(exc).__name__})") from exc
        if response.status_code == 401:
            self.credentials.forget()
        if response.status_code != 200:
            raise FeedUnavailable(f"welfare's feed answered {response.status_code}")
        body = response.json()
        items = list(body["items"])
        return Page(items, str(body["next_cursor"]), caught_up=len(items) < self.batch, read_at=read_at)

    async def _apply(self, cursor: str | None, page: Page) -> None:
        _, principal = await self.credentials.get()
        async with self.sessions() as session, session.begin():
            state = await session.scalar(
                select(WelfareFeed).where(WelfareFeed.name == self.name).with_for_update()
            )
            if state is None or state.lease_owner != self.owner or state.cursor != cursor:
                return  # another replica took the lease and moved on: this page is its to apply
            done = await apply_events(session, page.items, principal=principal, vault=self.vault)
            values: dict[str, Any] = {
                "cursor": page.next_cursor,
                "events_applied": WelfareFeed.events_applied + done.applied,
                "events_ignored": WelfareFeed.events_ignored + done.ignored,
                "lease_until": func.now() + dt.timedelta(seconds=self.lease_seconds),
                "last_error": None,
                "updated_at": func.now(),
            }
            if page.items:
                last = page.items[-1]
                values |= {
                    "last_event_id": uuid.UUID(str(last["id"])),
                    "last_event_time": parse_time(str(last["time"])),
                    "last_sequence": str(last.get("sequence")),
                }
            if page.caught_up:
                values["caught_up_at"] = page.read_at
            await session.execute(update(WelfareFeed).where(WelfareFeed.name == self.name).values(**values))
        EVENTS.labels("applied").inc(done.applied)
        EVENTS.labels("ignored").inc(done.ignored)
        EVENTS.labels("duplicate").inc(done.duplicates)
        if page.caught_up:
            self._current_as_of = page.read_at

    async def _record_error(self, reason: str) -> None:
        with contextlib.suppress(Exception):
            async with self.sessions() as session, session.begin():
                await session.execute(
                    update(WelfareFeed).where(WelfareFeed.name == self.name).values(last_error=reason[:500])
                )
