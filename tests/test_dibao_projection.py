"""Eldercare's projection of welfare's register across a welfare outage, through the gateway.

Persons are registered in both services and enrolled in welfare (dibao through their household,
tekun scattered or concentrated) while welfare is killed mid-stream; more are enrolled, and
earlier enrolments are ended, suspended and moved to the other arrangement after the fact, once
it is back. The consumer waits, catches up by itself, and afterwards every person's eldercare
evaluation agrees with welfare's own enrolment lookup, person by person; every welfare event of
the city was applied exactly once.

A platform of its own (own database): welfare is killed, and the event counts must not see what
other tests wrote.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import jwt

from platformctl import database
from platformctl.supervisor import wait_until_ready
from platformctl.testing import Platform, platform_on_own_database
from shared.testing import citizen_id

WELFARE = "/api/welfare/v1"
ELDERCARE = "/api/eldercare/v1"
CITY = "411700"  # 驻马店市
COUNTY = "411702"  # 驿城区
MONTHS = ("2026-02-15", "2026-03-15")
ARRANGEMENT = {"scattered": "dispersed", "concentrated": "concentrated"}
ENV = {
    # small pages and short waits: the outage falls in the middle of the stream
    "ELDERCARE_WELFARE_FEED_BATCH": "4",
    "ELDERCARE_WELFARE_FEED_WAIT_SECONDS": "1",
    "ELDERCARE_WELFARE_FEED_MAX_BACKOFF_SECONDS": "1",
}


@dataclass
class Enrolled:
    number: str
    eldercare_id: str
    register_dibao: bool
    enrolment: dict[str, Any] | None = None


def decision(reference: str) -> dict[str, str]:
    return {"by": "驿城区民政局", "on": "2025-12-20", "reference": reference}


async def enrol(
    eldercare: httpx.AsyncClient, welfare: httpx.AsyncClient, index: int, plan: str
) -> Enrolled | None:
    """Register person ``index`` in eldercare (register flag: dibao) and, by ``plan``, in welfare:
    ``dibao``, ``scattered`` or ``concentrated`` tekun, ``none`` (only registered in welfare) or
    ``eldercare`` (welfare does not know them). None when eldercare refused; a welfare step that
    fails (welfare down) leaves the person as far as it got."""
    number = citizen_id(f"19{40 + index % 20}-0{1 + index % 9}-1{index % 10}", region=COUNTY)
    registered = await eldercare.post(
        f"{ELDERCARE}/persons",
        json={
            "jurisdiction": COUNTY,
            "name": f"测试{index}",
            "citizen_id": number,
            "circumstances": {"effective_from": "2020-01-01", "dibao": True, "living_arrangement": "alone"},
        },
    )
    if registered.status_code != 201:
        return None
    person = Enrolled(number, registered.json()["id"], register_dibao=True)
    if plan == "eldercare":
        return person
    try:
        household = await welfare.post(
            f"{WELFARE}/households", json={"jurisdiction": COUNTY, "address": "驿城区"}
        )
        if household.status_code != 201:
            return person
        created = await welfare.post(
            f"{WELFARE}/persons",
            json={
                "jurisdiction": COUNTY,
                "household_id": household.json()["id"],
                "name": f"测试{index}",
                "citizen_id": number,
            },
        )
        if created.status_code != 201 or plan == "none":
            return person
        body: dict[str, Any] = {
            "jurisdiction": COUNTY,
            "start_month": "2026-01",
            "decision": decision(f"驿民〔2025〕{index}号"),
        }
        if plan == "dibao":
            body |= {
                "program": "dibao",
                "household_id": household.json()["id"],
                "covered_members": 1,
                "per_capita_income": "100.00",
            }
        else:
            body |= {"program": "tekun", "person_id": created.json()["id"], "arrangement": plan}
        enrolled = await welfare.post(f"{WELFARE}/enrolments", json=body)
        if enrolled.status_code == 201:
            person.enrolment = enrolled.json()

    except httpx.HTTPError:
        pass
    return person


SEEN: set[str] = set()
PLANS = ("dibao", "scattered", "concentrated", "none", "dibao", "eldercare")


async def eldercare_ready(platform: Platform) -> dict[str, Any]:
    child = next(c for c in platform.supervisor.children if c.name == "eldercare")
    async with httpx.AsyncClient(base_url=child.url, timeout=10) as client:
        body: dict[str, Any] = (await client.get("/readyz")).json()
    projection: dict[str, Any] = body["checks"]["welfare_projection"]
    return projection


async def city_events(admin: httpx.AsyncClient) -> set[str]:
    """Every welfare event of the kinds the projection reads, in the city, by id."""
    ids: list[str] = []
    after = None
    while True:
        params: dict[str, Any] = {
            "types": "person.registered,enrolment.started,enrolment.changed,enrolment.ended",
            "limit": 1000,
        }
        if after:
            params["after"] = after
        page = (await admin.get(f"{WELFARE}/events", params=params)).json()
        ids += [e["id"] for e in page["items"] if e["jurisdiction"].startswith("4117")]
        if len(page["items"]) < 1000:
            assert len(ids) == len(set(ids))
            return set(ids)
        after = page["next_cursor"]


async def disagreements(
    eldercare: httpx.AsyncClient, welfare: httpx.AsyncClient, persons: list[Enrolled]
) -> list[str]:
    """Where eldercare's answer differs from welfare's own, person by person and month by month."""
    found = []
    for person in persons:
        for on in MONTHS:
            truth = (
                await welfare.post(
                    f"{WELFARE}/enrolment-lookups", json={"citizen_id": person.number, "on": on}
                )
            ).json()
            answer = await eldercare.get(
                f"{ELDERCARE}/persons/{person.eldercare_id}/evaluation", params={"on": on}
            )
            assert answer.status_code == 200, answer.text
            status = answer.json()["dibao_status"]
            if truth["person_id"] is None:
                expected = {"value": person.register_dibao, "source": "register", "tekun": None}
            else:
                tekun = next((e["arrangement"] for e in truth["enrolments"] if e["program"] == "tekun"), None)
                expected = {
                    "value": truth["dibao"],
                    "source": "projection",
                    "tekun": ARRANGEMENT[tekun] if tekun else None,
                }
            got = {key: status[key] for key in expected}
            SEEN.add(f"{got['source']} {got['value']} {got['tekun']}")
            if got != expected:
                found.append(f"{person.number[-4:]} {on}: eldercare {got}, welfare {expected}")
    return found


async def snapshots_agree(eldercare: httpx.AsyncClient, persons: list[Enrolled]) -> dict[str, Any]:
    """The month's snapshots (SQL over the whole register) read the projection as the one-person
    evaluation does: each person's items are the evaluation's on the month's first day."""
    asked = await eldercare.post(f"{ELDERCARE}/snapshots", json={"jurisdiction": COUNTY, "month": "2026-03"})
    assert asked.status_code == 202, asked.text
    for _ in range(600):
        run = (await eldercare.get(asked.headers["Location"])).json()
        if run["status"] not in ("queued", "running"):
            break
        await asyncio.sleep(0.1)
    assert run["status"] == "succeeded", run
    assert run["dibao_status"]["source"] == "projection", run
    assert run["dibao_status"]["current_as_of"] is not None
    for person in persons:
        snapshot = (await eldercare.get(f"{ELDERCARE}/persons/{person.eldercare_id}/snapshots")).json()
        (march,) = [s for s in snapshot["items"] if s["month"] == "2026-03"]
        evaluation = (
            await eldercare.get(
                f"{ELDERCARE}/persons/{person.eldercare_id}/evaluation", params={"on": "2026-03-01"}
            )
        ).json()
        assert {e["item"] for e in march["entitlements"]} == {
            e["item"] for e in evaluation["entitlements"]
        }, (
            person.number[-4:],
            evaluation["dibao_status"],
        )
        assert march["monthly_total"] == evaluation["monthly_total"]
    return dict(run)


async def discovery_follows_welfare(eldercare: httpx.AsyncClient, welfare: httpx.AsyncClient) -> None:
    """The register's dibao flag turned on in April: discovery lists the person as newly eligible
    for 最低生活保障 (item 9) only when welfare does not know them; for a person welfare knows (not
    in dibao) welfare decides, and the flag alone is no event."""
    ids = {}
    for name, born, in_welfare in (("甲", "1950-02-02", True), ("乙", "1951-03-03", False)):
        number = citizen_id(born, region=COUNTY)
        registered = await eldercare.post(
            f"{ELDERCARE}/persons",
            json={
                "jurisdiction": COUNTY,
                "name": name,
                "citizen_id": number,
                "circumstances": {"effective_from": "2020-01-01", "living_arrangement": "alone"},
            },
        )
        assert registered.status_code == 201, registered.text
        ids[name] = registered.json()["id"]
        if in_welfare:
            household = await welfare.post(
                f"{WELFARE}/households", json={"jurisdiction": COUNTY, "address": "驿城区"}
            )
            made = await welfare.post(
                f"{WELFARE}/persons",
                json={
                    "jurisdiction": COUNTY,
                    "household_id": household.json()["id"],
                    "name": name,
                    "citizen_id": number,
                },
            )
            assert made.status_code == 201, made.text
    for _ in range(300):  # the projection learns of 甲 from welfare's event
        known = await eldercare.get(
            f"{ELDERCARE}/persons/{ids['甲']}/evaluation", params={"on": "2026-04-15"}
        )
        if known.json()["dibao_status"]["source"] == "projection":
            break
        await asyncio.sleep(0.1)
    for person_id in ids.values():
        etag = (await eldercare.get(f"{ELDERCARE}/persons/{person_id}")).headers["ETag"]
        changed = await eldercare.post(
            f"{ELDERCARE}/persons/{person_id}/circumstances",
            json={"effective_from": "2026-04-10", "dibao": True, "living_arrangement": "alone"},
            headers={"If-Match": etag},
        )
        assert changed.status_code == 201, changed.text
    found = await eldercare.get(
        f"{ELDERCARE}/discoveries",
        params={"jurisdiction": COUNTY, "from": "2026-04-01", "to": "2026-04-30", "limit": 200},
    )
    assert found.status_code == 200, found.text
    items = {
        name: {
            i["item"] for hit in found.json()["items"] if hit["person_id"] == person_id for i in hit["items"]
        }
        for name, person_id in ids.items()
    }
    assert 9 in items["乙"], items
    assert 9 not in items["甲"], items


async def test_the_projection_survives_a_welfare_outage_and_agrees_with_welfare(database_url: str) -> None:
    async with platform_on_own_database(database_url, "projection", env=ENV) as platform:
        welfare_staff = await platform.account(
            "projection-welfare", scopes=["welfare:read", "welfare:write"], jurisdictions=[CITY]
        )
        eldercare_staff = await platform.account(
            "projection-eldercare", scopes=["eldercare:read", "eldercare:write"], jurisdictions=[CITY]
        )
        async with platform.client(headers=await platform.admin_headers()) as admin:
            # welfare enrols only from a month its standards price (here 620.00, tekun 1.8 × that)
            citation = {"document": "驿城区人民政府关于提高城乡低保标准的通知", "article": "一"}
            standard = await admin.post(
                f"{WELFARE}/standards/versions",
                json={
                    "jurisdiction": COUNTY,
                    "version_id": "yicheng-2025-01",
                    "effective_from": "2025-01-01",
                    "published_on": "2024-12-15",
                    "dibao": "620.00",
                    "dibao_citation": citation,
                    "tekun": {"multiplier": "1.8", "stated_amount": "1116.00", "citation": citation},
                },
            )
            assert standard.status_code == 201, standard.text
        welfare_process = next(c for c in platform.supervisor.children if c.name == "welfare")
        persons: list[Enrolled] = []
        async with (
            platform.client(headers=welfare_staff) as welfare,
            platform.client(headers=eldercare_staff) as eldercare,
            platform.client(headers=await platform.admin_headers()) as admin,
        ):
            # 1. enrolments flow; welfare is killed once some have been made, while more are on the way
            eight_enrolled = asyncio.Event()

            async def writer(start: int, count: int) -> None:
                for index in range(start, start + count):
                    made = await enrol(eldercare, welfare, index, PLANS[index % len(PLANS)])
                    if made is not None:
                        persons.append(made)
                    if sum(p.enrolment is not None for p in persons) >= 8:
                        eight_enrolled.set()

            writing = asyncio.create_task(writer(0, 24))
            await asyncio.wait_for(eight_enrolled.wait(), 60)
            assert welfare_process.process is not None
            welfare_process.process.send_signal(signal.SIGKILL)
            welfare_process.process.wait()
            await writing
            consumed_at_kill = (await eldercare_ready(platform))["events_applied"]

            # 2. while welfare is down: the consumer says why it waits; eldercare still answers
            for _ in range(100):
                down = await eldercare_ready(platform)
                if down["last_error"]:
                    break
                await asyncio.sleep(0.1)
            assert "welfare's feed" in str(down["last_error"]), down
            answer = await eldercare.get(
                f"{ELDERCARE}/persons/{persons[0].eldercare_id}/evaluation", params={"on": MONTHS[1]}
            )
            assert answer.status_code == 200, answer.text

            # 3. welfare is back: more enrolments, and changes after the fact to earlier ones
            welfare_process.start()
            assert await asyncio.to_thread(wait_until_ready, f"{welfare_process.url}/readyz", 60)
            await writer(100, 12)
            with_enrolment = [p for p in persons if p.enrolment is not None]
            dibao = [p for p in with_enrolment if p.enrolment and p.enrolment["program"] == "dibao"]
            tekun = [p for p in with_enrolment if p.enrolment and p.enrolment["program"] == "tekun"]
            assert len(dibao) >= 2
            assert len(tekun) >= 3
            changes: list[tuple[str, dict[str, Any]]] = [
                ("PATCH", {"status": "ended", "end_month": "2026-02"}),  # ended with February, in March
                ("PATCH", {"status": "suspended"}),
            ]
            for person, (_, change) in zip((dibao[0], tekun[0]), changes, strict=True):
                assert person.enrolment is not None
                path = f"{WELFARE}/enrolments/{person.enrolment['id']}"
                etag = (await welfare.get(path)).headers["ETag"]
                changed = await welfare.patch(path, json=change, headers={"If-Match": etag})
                assert changed.status_code == 200, changed.text
            moving = tekun[1]
            assert moving.enrolment is not None
            path = f"{WELFARE}/enrolments/{moving.enrolment['id']}"
            other = "concentrated" if moving.enrolment["arrangement"] == "scattered" else "scattered"
            moved = await welfare.post(
                f"{path}/care-arrangement",
                json={"arrangement": other, "changed_on": "2026-02-10", "reference": "驿民〔2026〕7号"},
                headers={"If-Match": (await welfare.get(path)).headers["ETag"]},
            )
            assert moved.status_code == 201, moved.text

            # 4. the consumer catches up by itself; then eldercare agrees with welfare, person by person
            expected_events = await city_events(admin)
            deadline = time.monotonic() + 90
            while (await eldercare_ready(platform))["events_applied"] < len(expected_events):
                assert time.monotonic() < deadline, await eldercare_ready(platform)
                await asyncio.sleep(0.2)
            differ = await disagreements(eldercare, welfare, persons)
            assert differ == [], differ
            run = await snapshots_agree(eldercare, persons)
            own = database.with_database(database_url, f"{database.database_name(database_url)}_projection")
            connection = await asyncpg.connect(own)
            try:
                known = await connection.fetchval(
                    "SELECT count(DISTINCT citizen_id_hash) FROM eldercare.welfare_persons"
                )
                kept = await connection.fetchval(
                    "SELECT (SELECT count(*) FROM eldercare.snapshot_run_welfare)"
                    " + (SELECT count(*) FROM eldercare.snapshot_profile_keys)"
                )
            finally:
                await connection.close()
            # the run read welfare's status of everyone the projection knows, once, for all its
            # batches; what it kept while it wrote (that status, its keys) is gone with it
            assert run["dibao_status"]["persons_known_to_welfare"] == known > 0, run["dibao_status"]
            assert kept == 0
            # the answers covered each case: in dibao and not, tekun each way, welfare not knowing
            assert {"projection True None", "projection False None", "register True None"} <= SEEN, SEEN
            assert {"projection False dispersed", "projection False concentrated"} <= SEEN, SEEN
            ready = await eldercare_ready(platform)
            # every event of the city applied once (none twice, none lost across the outage)
            assert ready["events_applied"] == len(expected_events)
            assert ready["last_error"] is None
            assert ready["lag_seconds"] is not None
            assert ready["lag_seconds"] < 60
            await discovery_follows_welfare(eldercare, welfare)

            # the gauge on eldercare's metrics port
            child = next(c for c in platform.supervisor.children if c.name == "eldercare")
            async with httpx.AsyncClient(timeout=10) as plain:
                metrics = (await plain.get(f"http://127.0.0.1:{child.metrics_port}/metrics")).text
            (gauge,) = [
                line
                for line in metrics.splitlines()
                if line.startswith("civic_eldercare_dibao_projection_lag_seconds ")
            ]
            assert 0 <= float(gauge.split()[1]) < 60, gauge

        # the operator CLI makes (here: renews) eldercare's client: a new secret, printed once
        url = database.with_database(database_url, f"{database.database_name(database_url)}_projection")
        made = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "platformctl", "clients", "eldercare-feed"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "DATABASE_URL": url},
        )
        assert made.returncode == 0, made.stderr
        client = json.loads(made.stdout)
        async with platform.client() as plain:
            granted = await plain.post("/auth/token", data={"grant_type": "client_credentials", **client})
        assert granted.status_code == 200, granted.text
        claims = jwt.decode(granted.json()["access_token"], options={"verify_signature": False})
        assert (claims["client_id"], set(claims["scope"].split()), claims["jurisdictions"]) == (
            "eldercare-welfare-feed",
            {"welfare:read", "welfare:pii"},
            [CITY],
        )
        print(
            f"{len(persons)} persons, {len(expected_events)} welfare events; {consumed_at_kill} applied when "
            "welfare was killed, all after it was back"
        )
        assert consumed_at_kill < len(expected_events)
