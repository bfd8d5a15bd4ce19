"""One person is one citizen ID number, whatever digits it was typed in; a number registered in
another county is refused without that county's details, and audited; every full number an
answer shows is on record. Through the gateway with real tokens, for welfare and eldercare.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest

from platformctl.testing import Platform, assert_problem
from shared.citizen_ids import mask
from shared.testing import citizen_id


def fullwidth(number: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number)


def arabic_indic(number: str) -> str:
    return "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in number)


def mixed(number: str) -> str:
    return fullwidth(number[:9]) + number[9:]


@dataclass(frozen=True)
class Register:
    service: str
    here: str  # a county
    there: str  # another county of another city
    body: Callable[[str, str], dict[str, Any]]

    @property
    def base(self) -> str:
        return f"/api/{self.service}/v1"


REGISTERS = {
    "welfare": Register(
        "welfare",
        "211102",
        "411702",
        lambda jurisdiction, number: {"jurisdiction": jurisdiction, "name": "刘秀英", "citizen_id": number},
    ),
    "eldercare": Register(
        "eldercare",
        "411702",
        "211102",
        lambda jurisdiction, number: {
            "jurisdiction": jurisdiction,
            "name": "刘秀英",
            "citizen_id": number,
            "circumstances": {"effective_from": "2020-01-01"},
        },
    ),
}


@dataclass
class Staff:
    clerk: dict[str, str]
    other_county: dict[str, str]
    pii: dict[str, str]
    pii_writer: dict[str, str]
    admin: dict[str, str]
    auditor: dict[str, str]


@pytest.fixture(params=list(REGISTERS), scope="module")
def register(request: pytest.FixtureRequest) -> Register:
    found: Register = REGISTERS[request.param]
    return found


@pytest.fixture(scope="module")
async def staff(platform: Platform, register: Register) -> Staff:
    s, here = register.service, [register.here]
    write = [f"{s}:read", f"{s}:write"]
    return Staff(
        clerk=await platform.account(f"identity-{s}-clerk", scopes=write, jurisdictions=here),
        other_county=await platform.account(
            f"identity-{s}-other", scopes=write, jurisdictions=[register.there]
        ),
        pii=await platform.account(f"identity-{s}-pii", scopes=[f"{s}:read", f"{s}:pii"], jurisdictions=here),
        pii_writer=await platform.account(
            f"identity-{s}-pii-writer", scopes=[*write, f"{s}:pii"], jurisdictions=here
        ),
        admin=await platform.account(f"identity-{s}-admin", scopes=[f"{s}:admin"], jurisdictions=here),
        auditor=await platform.account(f"identity-{s}-auditor", scopes=[f"{s}:audit"], jurisdictions=here),
    )


async def every_person(
    client: httpx.AsyncClient, base: str, jurisdiction: str | None
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 200} | ({"jurisdiction": jurisdiction} if jurisdiction else {})
    while True:
        page = await client.get(f"{base}/persons", params={**params, "offset": len(found)})
        assert page.status_code == 200, page.text
        found += page.json()["items"]
        if len(found) >= page.json()["total"] or not page.json()["items"]:
            return found


def assert_no_number(text: str, *numbers: str) -> None:
    for number in numbers:
        assert number not in text
        assert number.strip() not in text


async def test_every_digit_form_of_one_number_is_one_person_or_refused(
    platform: Platform, register: Register, staff: Staff
) -> None:
    number = citizen_id("1944-05-06", region=register.here)
    async with platform.client(headers=staff.clerk) as client:
        created = await client.post(f"{register.base}/persons", json=register.body(register.here, number))
        assert created.status_code == 201, created.text
        person_id = created.json()["id"]
        # the same person typed otherwise: normalised to the same number, a duplicate
        for variant in (fullwidth(number), mixed(number), f" {number}\n", number[:17] + number[17].lower()):
            again = await client.post(f"{register.base}/persons", json=register.body(register.here, variant))
            problem = assert_problem(again, 409)
            assert "already registered in your area" in problem["detail"]
            assert_no_number(again.text, number, variant)
        # digits NFKC does not make ASCII: refused, never a second person
        for variant in (arabic_indic(number), number[:6] + arabic_indic(number[6:])):
            refused = await client.post(
                f"{register.base}/persons", json=register.body(register.here, variant)
            )
            assert_problem(refused, 422)
            assert_no_number(refused.text, number, variant)
        listed = await every_person(client, register.base, register.here)
        same = [p for p in listed if p["citizen_id"] == mask(number)]
        assert [p["id"] for p in same] == [person_id]

        # a number first given in fullwidth digits is stored in the normal form
        other = citizen_id("1945-07-08", region=register.here)
        first = await client.post(
            f"{register.base}/persons", json=register.body(register.here, fullwidth(other))
        )
        assert first.status_code == 201, first.text
        assert first.json()["citizen_id"] == mask(other)
        assert_problem(
            await client.post(f"{register.base}/persons", json=register.body(register.here, other)), 409
        )

        if register.service == "welfare":
            for variant in (fullwidth(number), mixed(number), f"{number}\n"):
                found = await client.post(
                    f"{register.base}/enrolment-lookups", json={"citizen_id": variant, "on": "2024-05-01"}
                )
                assert found.status_code == 200, found.text
                assert found.json()["person_id"] == person_id
                assert found.json()["citizen_id"] == mask(number)
            refused = await client.post(
                f"{register.base}/enrolment-lookups",
                json={"citizen_id": arabic_indic(number), "on": "2024-05-01"},
            )
            assert_problem(refused, 422)

    async with platform.client(headers=staff.pii) as client:
        shown = await client.get(f"{register.base}/persons/{first.json()['id']}")
        assert shown.json()["citizen_id"] == other


async def test_a_number_registered_in_another_county_is_refused_without_its_details_and_audited(
    platform: Platform, register: Register, staff: Staff
) -> None:
    number = citizen_id("1946-02-03", region=register.here)
    async with platform.client(headers=staff.clerk) as client:
        created = await client.post(f"{register.base}/persons", json=register.body(register.here, number))
        assert created.status_code == 201, created.text
        person_id = created.json()["id"]

    request_ids = []
    async with platform.client(headers=staff.other_county) as client:
        for variant in (number, fullwidth(number)):
            request_id = f"identity-elsewhere-{uuid.uuid4().hex[:12]}"
            refused = await client.post(
                f"{register.base}/persons",
                json=register.body(register.there, variant),
                headers={"X-Request-ID": request_id},
            )
            problem = assert_problem(refused, 409)
            assert "registered in another jurisdiction" in problem["detail"]
            # nothing of the other county's record: no name, no place, no id, no number
            for secret in ("刘秀英", register.here, person_id, number, variant, mask(number)):
                assert secret not in refused.text
            request_ids.append(request_id)
        # the refused requests changed nothing: no person in the other county
        listed = await every_person(client, register.base, None)
        assert mask(number) not in str(listed)

    # each answer is audited, on the record's side, although the request was rolled back
    async with platform.client(headers=staff.admin) as client:
        log = await client.get(
            f"{register.base}/audit-log", params={"entity": "person", "entity_id": person_id}
        )
        assert log.status_code == 200, log.text
        refusals = [r for r in log.json()["items"] if r["action"] == "refused_registered_elsewhere"]
        assert sorted(r["request_id"] for r in refusals) == sorted(request_ids)
        for row in refusals:
            assert row["jurisdiction"] == register.here
            assert row["after"] == {"citizen_id": mask(number), "asked_for_jurisdiction": register.there}
            assert number not in str(row)


async def test_every_full_number_shown_is_recorded_with_who_when_and_why(
    platform: Platform, register: Register, staff: Staff
) -> None:
    number = citizen_id("1947-09-10", region=register.here)
    async with platform.client(headers=staff.clerk) as client:
        created = await client.post(f"{register.base}/persons", json=register.body(register.here, number))
        assert created.status_code == 201, created.text
        person_id = created.json()["id"]
        # masked answers leave no record
        assert (await client.get(f"{register.base}/persons/{person_id}")).json()["citizen_id"] == mask(number)
        assert_problem(await client.get(f"{register.base}/personal-data-access"), 403)

    purpose = "低保年审"
    request_id = f"identity-pii-{uuid.uuid4().hex[:12]}"
    async with platform.client(headers=staff.pii) as client:
        shown = await client.get(
            f"{register.base}/persons/{person_id}",
            headers={"Access-Purpose": quote(purpose), "X-Request-ID": request_id},
        )
        assert shown.status_code == 200, shown.text
        assert shown.json()["citizen_id"] == number
        listed = await client.get(
            f"{register.base}/persons", params={"jurisdiction": register.here, "limit": 1}
        )
        assert listed.status_code == 200, listed.text
        listed_id = listed.json()["items"][0]["id"]
        assert_problem(await client.get(f"{register.base}/personal-data-access"), 403)

    async with platform.client(headers=staff.auditor) as client:
        log = await client.get(f"{register.base}/personal-data-access", params={"entity_id": person_id})
        assert log.status_code == 200, log.text
        rows = log.json()["items"]
        assert {r["entity"] for r in rows} == {"person"}
        read = [r for r in rows if r["request_id"] == request_id]
        assert len(read) == 1
        assert read[0]["purpose"] == purpose
        assert read[0]["path"] == f"{register.base}/persons/{person_id}"
        assert read[0]["jurisdiction"] == register.here
        assert read[0]["occurred_at"]
        listing = await client.get(f"{register.base}/personal-data-access", params={"entity_id": listed_id})
        # the listing showed a full number too: recorded, without a stated purpose
        assert any(
            r["path"] == f"{register.base}/persons" and r["purpose"] is None for r in listing.json()["items"]
        )
        # only the pii caller's reads: the clerk's masked reads left none
        assert len({r["actor"] for r in rows}) == 1
        assert number not in log.text


async def test_answers_kept_under_an_idempotency_key_show_the_number_masked(
    platform: Platform, register: Register, staff: Staff, migrated_database: str
) -> None:
    """A creation's answer is stored for its replays: it never holds the number in clear, even
    for a caller who may see it (who reads the record afterwards, recorded)."""
    number = citizen_id("1948-11-12", region=register.here)
    key = f"identity-{uuid.uuid4().hex}"
    async with platform.client(headers=staff.pii_writer | {"Idempotency-Key": key}) as client:
        body = register.body(register.here, number)
        first = await client.post(f"{register.base}/persons", json=body)
        assert first.status_code == 201, first.text
        replay = await client.post(f"{register.base}/persons", json=body)
        assert replay.status_code == 201, replay.text
        assert replay.headers.get("Idempotent-Replayed") == "true"
        for answer in (first, replay):
            assert answer.json()["citizen_id"] == mask(number)
            assert number not in answer.text
        shown = await client.get(f"{register.base}/persons/{first.json()['id']}")
        assert shown.json()["citizen_id"] == number
    connection = await asyncpg.connect(migrated_database.replace("+asyncpg", ""))
    try:
        stored = await connection.fetch(
            f"SELECT response_body FROM {register.service}.idempotency_keys WHERE key = $1",
            key,
        )
    finally:
        await connection.close()
    assert len(stored) == 1
    assert number.encode() not in bytes(stored[0]["response_body"])


async def test_a_citizen_id_number_written_into_the_stated_purpose_is_stored_masked(
    platform: Platform, register: Register, staff: Staff
) -> None:
    number = citizen_id("1947-09-11", region=register.here)
    other = citizen_id("1950-02-03", region=register.here)
    async with platform.client(headers=staff.clerk) as client:
        created = await client.post(f"{register.base}/persons", json=register.body(register.here, number))
        assert created.status_code == 201, created.text
        person_id = created.json()["id"]
    fullwidth = other.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    spaced = f"{other[:6]} {other[6:14]} {other[14:]}"
    purposes = {
        f"核查{other}的低保": f"核查{mask(other)}的低保",
        f"核查{fullwidth}": f"核查{mask(other)}",
        f"核查 {spaced} 一户": f"核查 {mask(other)} 一户",
        f"old number {other[:6]}{other[8:17]}": f"old number {mask(other[:6] + other[8:17])}",
        "低保年审 2024": "低保年审 2024",
    }
    request_ids = {}
    async with platform.client(headers=staff.pii) as client:
        for stated in purposes:
            request_ids[stated] = f"purpose-{uuid.uuid4().hex[:12]}"
            shown = await client.get(
                f"{register.base}/persons/{person_id}",
                headers={"Access-Purpose": quote(stated), "X-Request-ID": request_ids[stated]},
            )
            assert shown.status_code == 200, shown.text
    async with platform.client(headers=staff.auditor) as client:
        log = await client.get(f"{register.base}/personal-data-access", params={"entity_id": person_id})
        assert log.status_code == 200, log.text
        by_request = {row["request_id"]: row["purpose"] for row in log.json()["items"]}
    for stated, stored in purposes.items():
        assert by_request[request_ids[stated]] == stored
        assert other not in by_request[request_ids[stated]]
