"""The consumer of welfare's events, in process against a welfare feed served here: duplicates
count once, events outside the client's city change nothing, enrolments ended or suspended
after the fact are reflected, an unreachable feed leaves the projection as it was and the
consumer reads on from its cursor, and of two replicas only the lease holder applies a page.

Each test follows a feed of its own name (the shared platform's consumer follows ``welfare``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from eldercare.config import Settings
from eldercare.main import create_app
from eldercare.projection import service as projection
from eldercare.projection.consumer import ClientCredentials, FeedUnavailable, WelfareFeedConsumer
from eldercare.projection.models import WelfareEnrolment, WelfareFeed
from platformctl.supervisor import local_secret
from shared.citizen_ids import CitizenIdVault
from shared.testing import TokenMint, app_client, citizen_id

KEY = local_secret("eldercare-citizen-id.key")
CITY = "411700"  # 驻马店市: the client's area
COUNTY = "411702"
ELSEWHERE = "211103"  # 盘锦市兴隆台区


def event(kind: str, jurisdiction: str, data: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": "/api/welfare/v1",
        "type": f"civic.welfare.{kind}",
        "time": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "jurisdiction": jurisdiction,
        "sequence": "0",
        "data": data,
    }


def person_registered(number: str, household: uuid.UUID, jurisdiction: str = COUNTY) -> dict[str, Any]:
    person_id = str(uuid.uuid4())
    return event(
        "person.registered",
        jurisdiction,
        {
            "person_id": person_id,
            "household_id": str(household),
            "jurisdiction": jurisdiction,
            "version": 1,
            "citizen_id": number,
        },
    )


def enrolment(
    verb: str,
    enrolment_id: uuid.UUID,
    *,
    program: str = "dibao",
    household: uuid.UUID | None = None,
    person: str | None = None,
    status: str = "active",
    start: str = "2026-01",
    end: str | None = None,
    arrangement: str | None = None,
    version: int = 1,
    jurisdiction: str = COUNTY,
) -> dict[str, Any]:
    return event(
        f"enrolment.{verb}",
        jurisdiction,
        {
            "enrolment_id": str(enrolment_id),
            "program": program,
            "household_id": str(household) if household else None,
            "person_id": person,
            "covered_members": 1,
            "tier": None,
            "arrangement": arrangement,
            "start_month": start,
            "end_month": end,
            "status": status,
            "version": version,
        },
    )


@dataclass
class Feed:
    """welfare's feed and the gateway's token endpoint, as far as the consumer uses them."""

    mint: TokenMint
    events: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False
    reads: int = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("welfare is down", request=request)
        if request.url.path == "/auth/token":
            token = self.mint.token(
                scopes=["welfare:read", "welfare:pii"],
                jurisdictions=[CITY],
                client_id="eldercare-welfare-feed",
            )
            return httpx.Response(200, json={"access_token": token, "expires_in": 900})
        self.reads += 1
        after = int(request.url.params.get("after") or 0)
        limit = int(request.url.params["limit"])
        items = self.events[after : after + limit]
        return httpx.Response(200, json={"items": items, "next_cursor": str(after + len(items))})


@dataclass
class Harness:
    app: Any
    feed: Feed
    vault: CitizenIdVault
    name: str

    def consumer(self, owner: str = "replica-a", batch: int = 100) -> WelfareFeedConsumer:
        http = httpx.AsyncClient(
            transport=httpx.MockTransport(self.feed.handle), base_url="http://welfare.test"
        )
        credentials = ClientCredentials(
            http,
            token_url="http://welfare.test/auth/token",
            client_id="eldercare-welfare-feed",
            client_secret="not-checked-here",
            verify=self.app.state.token_verifier.verify,
        )
        return WelfareFeedConsumer(
            self.app.state.database.sessions,
            http=http,
            credentials=credentials,
            vault=self.vault,
            owner=owner,
            batch=batch,
            wait_seconds=0,
            lease_seconds=30,
            max_backoff_seconds=0.2,
            name=self.name,
        )

    async def state(self) -> WelfareFeed:
        session: AsyncSession
        async with self.app.state.database.sessions() as session:
            row = await session.scalar(select(WelfareFeed).where(WelfareFeed.name == self.name))
            assert row is not None
            return row

    async def status(self, number: str, month: str) -> projection.ProjectedStatus:
        year, m = month.split("-")
        async with self.app.state.database.sessions() as session:
            return await projection.status(
                session, hashes=[self.vault.lookup_hash(number)], month=dt.date(int(year), int(m), 1)
            )

    async def enrolment(self, enrolment_id: uuid.UUID) -> WelfareEnrolment | None:
        session: AsyncSession
        async with self.app.state.database.sessions() as session:
            return await session.get(WelfareEnrolment, enrolment_id)


@pytest.fixture
async def harness(migrated_database: str, mint: TokenMint) -> AsyncIterator[Harness]:
    # the app's own consumer stays off (no client secret); the tests drive theirs
    app = create_app(Settings(database_url=migrated_database, citizen_id_key=KEY))
    async with app_client(app, mint):
        yield Harness(app, Feed(mint), app.state.citizen_id_vault, f"test-{uuid.uuid4().hex[:12]}")


async def test_an_event_delivered_twice_counts_once(harness: Harness) -> None:
    number, household, enrolment_id = citizen_id("1944-03-03", region=COUNTY), uuid.uuid4(), uuid.uuid4()
    registered = person_registered(number, household)
    started = enrolment("started", enrolment_id, household=household)
    # the same events again, in one page and on the next page (an at-least-once transport)
    harness.feed.events = [registered, started, started, registered]
    consumer = harness.consumer(batch=3)
    await consumer.prepare()
    assert await consumer.step()
    assert await consumer.step()
    harness.feed.events.append(started)
    assert await consumer.step()
    state = await harness.state()
    assert (state.events_applied, state.events_ignored) == (2, 0)
    assert state.cursor == "5"
    assert state.last_event_id == uuid.UUID(started["id"])
    found = await harness.status(number, "2026-03")
    assert (found.known, found.in_dibao, found.dibao_enrolment_id) == (True, True, str(enrolment_id))


async def test_an_event_outside_the_clients_city_changes_nothing(harness: Harness) -> None:
    number, household, enrolment_id = citizen_id("1945-04-04", region=ELSEWHERE), uuid.uuid4(), uuid.uuid4()
    harness.feed.events = [
        person_registered(number, household, jurisdiction=ELSEWHERE),
        enrolment("started", enrolment_id, household=household, jurisdiction=ELSEWHERE),
    ]
    consumer = harness.consumer()
    await consumer.prepare()
    await consumer.step()
    state = await harness.state()
    assert (state.events_applied, state.events_ignored) == (0, 2)
    assert state.cursor == "2"  # read past, not applied
    assert await harness.enrolment(enrolment_id) is None
    assert not (await harness.status(number, "2026-03")).known


async def test_an_enrolment_ended_or_suspended_after_the_fact_is_reflected(harness: Harness) -> None:
    number, household, dibao = citizen_id("1946-05-05", region=COUNTY), uuid.uuid4(), uuid.uuid4()
    registered = person_registered(number, household)
    person_id = registered["data"]["person_id"]
    tekun = uuid.uuid4()
    harness.feed.events = [
        registered,
        enrolment("started", dibao, household=household, start="2026-01"),
        enrolment("started", tekun, program="tekun", person=person_id, arrangement="scattered"),
    ]
    consumer = harness.consumer()
    await consumer.prepare()
    await consumer.step()
    march = await harness.status(number, "2026-03")
    assert (march.in_dibao, march.in_tekun, march.tekun) == (True, True, "dispersed")

    # in May welfare ends the dibao enrolment with February as its last month, and suspends tekun
    harness.feed.events += [
        enrolment("ended", dibao, household=household, status="ended", end="2026-02", version=2),
        enrolment("changed", tekun, program="tekun", person=person_id, status="suspended", version=2),
    ]
    await consumer.step()
    march = await harness.status(number, "2026-03")
    assert (march.known, march.in_dibao, march.in_tekun) == (True, False, False)
    ended = await harness.enrolment(dibao)
    assert ended is not None
    assert (ended.status, ended.end_month, ended.version) == ("ended", dt.date(2026, 2, 1), 2)

    # an older state delivered late (a retry of version 1) does not undo the newer one
    harness.feed.events.append(enrolment("started", dibao, household=household, start="2026-01"))
    await consumer.step()
    again = await harness.enrolment(dibao)
    assert again is not None
    assert (again.status, again.version) == ("ended", 2)


async def test_an_unreachable_feed_changes_nothing_and_the_consumer_reads_on(harness: Harness) -> None:
    numbers = [citizen_id(f"195{i}-01-0{i + 1}", region=COUNTY) for i in range(6)]
    households = [uuid.uuid4() for _ in numbers]
    harness.feed.events = [person_registered(n, h) for n, h in zip(numbers, households, strict=True)]
    harness.feed.events += [enrolment("started", uuid.uuid4(), household=h) for h in households]
    consumer = harness.consumer(batch=4)
    await consumer.prepare()
    await consumer.step()
    harness.feed.down = True
    with pytest.raises(FeedUnavailable):
        await consumer.step()
    state = await harness.state()
    assert (state.cursor, state.events_applied) == ("4", 4)  # as it was

    # the loop waits with backoff while welfare is down and catches up by itself after
    await consumer.start()
    try:
        for _ in range(100):
            if (await harness.state()).last_error:
                break
            await asyncio.sleep(0.05)
        assert "unreachable" in str((await harness.state()).last_error)
        harness.feed.down = False
        for _ in range(200):
            state = await harness.state()
            if state.caught_up_at is not None:  # a page came back short: the end of the feed
                break
            await asyncio.sleep(0.05)
    finally:
        await consumer.stop()
    assert (state.cursor, state.events_applied, state.last_error) == ("12", 12, None)
    assert state.caught_up_at is not None
    for number in numbers:
        assert (await harness.status(number, "2026-02")).in_dibao


async def test_only_the_lease_holder_applies(harness: Harness) -> None:
    number, household = citizen_id("1947-06-06", region=COUNTY), uuid.uuid4()
    harness.feed.events = [person_registered(number, household)]
    first, second = harness.consumer("replica-a"), harness.consumer("replica-b")
    await first.prepare()
    assert await first.step()
    harness.feed.events.append(enrolment("started", uuid.uuid4(), household=household))
    assert not await second.step()  # replica-a holds the lease
    assert (await harness.state()).cursor == "1"
    assert await first.step()
    await first.stop()  # releases the lease: the other takes over at once
    harness.feed.events.append(enrolment("started", uuid.uuid4(), household=household, start="2027-01"))
    assert await second.step()
    state = await harness.state()
    assert (state.cursor, state.events_applied, state.lease_owner) == ("3", 3, "replica-b")
