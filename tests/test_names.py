"""Names people type (a person's, an account's, a unit's, a leader's, a household's address)
through the gateway: surrounding white space is stripped; empty names and control or invisible
formatting characters (Unicode Cc and Cf: line breaks, tabs, zero-width characters,
bidirectional overrides and isolates; line and paragraph separators; characters shown as
nothing: Hangul fillers, variation selectors, the combining grapheme joiner) are refused with
422 naming the field, and nothing is stored."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from platformctl.testing import Platform, assert_problem
from shared.testing import citizen_id

REFUSED = {
    "empty": "",
    "only spaces": "   ",
    "only an ideographic space": "\u3000",
    "zero-width space": "\u200b",
    "zero-width joiner inside": "张\u200d三",
    "left-to-right mark": "\u200e张三",
    "right-to-left override": "张\u202e三丰",
    "left-to-right embedding": "\u202a张三",
    "first-strong isolate": "张\u2068三\u2069",
    "word joiner": "张\u2060三",
    "byte-order mark": "\ufeff张三",
    "soft hyphen": "张\u00ad三",
    "line break inside": "张\n三",
    "tab inside": "张\t三",
    "NUL": "张\x00三",
    "DEL": "张\x7f三",
    "C1 control": "张\x85三",
    "astral format character": "张\U000e0041三",
    "line separator inside": "张\u2028三",
    "paragraph separator inside": "张\u2029三",
    "only a Hangul filler": "\u3164",
    "only halfwidth Hangul fillers": "\uffa0\uffa0",
    "only a Hangul choseong filler": "\u115f",
    "combining grapheme joiner inside": "张\u034f三",
    "variation selector inside": "张\ufe0f三",
    "Mongolian variation selector inside": "张\u180b三",
    "ideographic variation selector inside": "张\U000e0100三",
}
STRIPPED = {  # around a name the field accepts
    "trailing newline": "{}\n",
    "surrounding spaces": "  {}  ",
    "ideographic spaces": "\u3000{}\u3000",
    "carriage return and tab around": "\t{}\r\n",
}
ABSENCES = itertools.count()


def absence(name: str) -> dict[str, Any]:
    """A leader's absence on a day of its own (two absences of one leader must not overlap)."""
    day = dt.date(2031, 1, 1) + dt.timedelta(days=3 * next(ABSENCES) + uuid.uuid4().int % 3000 * 40)
    return {"leader": name, "away_from": day.isoformat(), "away_to": day.isoformat(), "reason": "出差"}


@dataclass(frozen=True)
class NameField:
    path: str
    field: str
    body: Callable[[str], dict[str, Any]]
    read: Callable[[dict[str, Any]], str]
    scopes: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    sample: str = "张三"


FIELDS = {
    "welfare person": NameField(
        "/api/welfare/v1/persons",
        "name",
        lambda name: {
            "jurisdiction": "211102",
            "name": name,
            "citizen_id": citizen_id("1950-01-01", region="211102"),
        },
        lambda created: str(created["name"]),
        ("welfare:read", "welfare:write"),
        ("211102",),
    ),
    "eldercare person": NameField(
        "/api/eldercare/v1/persons",
        "name",
        lambda name: {
            "jurisdiction": "411702",
            "name": name,
            "citizen_id": citizen_id("1930-01-01", region="411702"),
            "circumstances": {"effective_from": "2020-01-01"},
        },
        lambda created: str(created["name"]),
        ("eldercare:read", "eldercare:write"),
        ("411702",),
    ),
    "account display name": NameField(
        "/auth/admin/accounts",
        "display_name",
        lambda name: {
            "username": f"named-{uuid.uuid4().hex[:10]}",
            "display_name": name,
            "password": "a-long-test-password",
            "scopes": ["welfare:read"],
            "jurisdictions": ["211102"],
        },
        lambda created: str(created["display_name"]),
        ("iam:admin", "welfare:read"),
        ("211102",),
    ),
    "welfare household address": NameField(
        "/api/welfare/v1/households",
        "address",
        lambda address: {"jurisdiction": "211102", "address": address},
        lambda created: str(created["address"]),
        ("welfare:read", "welfare:write"),
        ("211102",),
        sample="胜利街 1 号",
    ),
    "renewal leader": NameField(
        "/api/renewal/v1/plans/panjin-2024-equipment-renewal/leader-absences",
        "leader",
        absence,
        lambda created: str(created["leader"]),
        ("renewal:read", "renewal:write", "renewal:admin"),
        ("211100",),
        sample="徐同连",
    ),
}


async def headers_for(platform: Platform, where: str) -> dict[str, str]:
    spec = FIELDS[where]
    name = "names-" + where.replace(" ", "-")
    return await platform.account(name, scopes=list(spec.scopes), jurisdictions=list(spec.jurisdictions))


@pytest.mark.parametrize("where", list(FIELDS))
@pytest.mark.parametrize("what", list(REFUSED))
async def test_a_name_with_nothing_visible_or_invisible_characters_is_refused(
    platform: Platform, where: str, what: str
) -> None:
    spec = FIELDS[where]
    async with platform.client(headers=await headers_for(platform, where)) as client:
        refused = await client.post(spec.path, json=spec.body(REFUSED[what]))
        body = assert_problem(refused, 422)
        assert [error["field"] for error in body["errors"]] == [f"body.{spec.field}"], body


@pytest.mark.parametrize("where", list(FIELDS))
@pytest.mark.parametrize("what", list(STRIPPED))
async def test_white_space_around_a_name_is_stripped(platform: Platform, where: str, what: str) -> None:
    spec = FIELDS[where]
    sent, kept = STRIPPED[what].format(spec.sample), spec.sample
    async with platform.client(headers=await headers_for(platform, where)) as client:
        created = await client.post(spec.path, json=spec.body(sent))
        assert created.status_code == 201, created.text
        assert spec.read(created.json()) == kept
